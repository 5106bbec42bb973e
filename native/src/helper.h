/* Interfaces between the helper's parts: conntrack (ctnetlink) and inet_diag. */
#ifndef NT_HELPER_H
#define NT_HELPER_H
#include "common.h"

/* conntrack.c: lookups and DESTROY events in the target's network namespace. */
struct nt_ct;
/* Opens ctnetlink sockets inside the network namespace of `pid`, held by `pidfd` (setns, then back) and turns on
 * nf_conntrack_acct there. Returns NULL with a reason in `why` on failure. */
struct nt_ct *nt_ct_open(pid_t pid, int pidfd, char *why, size_t whylen);
/* Starts following a traced connection: looks its original tuple up now. */
void nt_ct_track(struct nt_ct *ct, const struct nt_tuple *t, uint32_t pid);
/* Looks the connection up again (rate-limited to once per `min_ms`), `final` marks the last. */
void nt_ct_refresh(struct nt_ct *ct, const struct nt_tuple *t, int final, double min_ms);
int nt_ct_event_fd(struct nt_ct *ct);
/* Reads pending DESTROY events; emits final readings for tracked connections. */
void nt_ct_handle_events(struct nt_ct *ct);
/* Restores nf_conntrack_acct and closes the sockets. */
void nt_ct_close(struct nt_ct *ct);

/* inet_diag.c: the no-root path. Polls tcp_info of the sockets of `pid`'s process tree; `pidfd`
 * (held since the target was authorised) tells when the target ends. */
int nt_inet_diag_run(pid_t pid, int pidfd, int poll_ms, int stdin_fd);

#endif
