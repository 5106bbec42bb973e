/*
 * nettrace-helper: kernel-side TCP metrics, conntrack and a capture filter for one process tree.
 *
 * Talks only to its parent: JSON lines on stdout (see src/protocol/helper.ts), a few plain
 * commands on stdin ("stop", "stats", "snapshot"); never accepts tuples or filter expressions. Exits when
 * stdin closes (the parent is gone), when the target process ends, or on "stop".
 *
 * Usage: nettrace-helper --pid PID | --pid-from-stdin  [--mode auto|bpf|inet_diag] [--no-conntrack]
 *                        [--capture-pipe FD [--capture-ring-mib N]]
 *                        [--update-ms N] [--poll-ms N] [--linger-ms N] [--authority LABEL]
 * --pid-from-stdin: the programs are loaded first, and the pid read from the line `pid N` on stdin
 * (started before its program: launch.ts prestartHelper).
 * --capture-pipe: capture (root only): capture.c opens packet sockets on the network namespace's
 * devices with the capture's BPF filter on them from the start, and streams their packets to FD
 * (a pipe of the Node side); --authority: how the caller started us, echoed in `ready`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <grp.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <bpf/btf.h>
#include <bpf/bpf.h>
#include "nettrace.h"
#include "nettrace.skel.h"
#include "helper.h"
#include "capture.h"
#include "nettrace.build.h"
#include "pins.h"

static volatile sig_atomic_t stopping;
static struct nt_ct *ct;
static uint64_t prev_stats[NT_STAT_MAX];

struct options {
	pid_t pid;
	const char *mode;
	int conntrack;
	int cap_fds[NT_CAP_MAX_DEVS]; /* the capture's sockets (capture.c), for their counters */
	int n_cap_fds;
	int cap_pipe;     /* --capture-pipe: the packet stream to the Node side, or -1 */
	unsigned cap_mib; /* --capture-ring-mib: ring per device */
	int update_ms;
	int poll_ms;
	int linger_ms;
	int pidfd; /* held on the target since authorize() */
};

/* Whether this process started with any capability (file capabilities or root). */
static int had_caps;

static void on_signal(int sig) { stopping = 1; }

/* The user on whose behalf we run: the real uid when started unprivileged or through file
 * capabilities; under sudo/pkexec (real uid 0) the uid those tools record for the caller. */
static uid_t invoking_uid(void)
{
	uid_t r = getuid();
	if (r != 0)
		return r;
	const char *s = getenv("SUDO_UID");
	if (!s || !*s)
		s = getenv("PKEXEC_UID");
	if (s && *s)
		return (uid_t)strtoul(s, NULL, 10);
	return 0;
}

static void emit_error(const char *code, const char *msg)
{
	struct nt_json j;
	nt_json_begin(&j, "error");
	nt_json_str(&j, "code", code);
	nt_json_str(&j, "message", msg);
	nt_json_end(&j);
}

/* The kernel's programs see tgids of the initial pid namespace (task->tgid); a pid given in
 * another namespace names a different process there. include/linux/proc_ns.h PROC_PID_INIT_INO. */
#define NT_INIT_PID_NS_INO 0xEFFFFFFCu
#define NT_NOBODY_UID 65534

/* Owner of the target (its real uid and gid), from authorize(). */
static uid_t target_uid = NT_NOBODY_UID;
static gid_t target_gid = NT_NOBODY_UID;

static int pidfd_exited(int pidfd)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	return poll(&p, 1, 0) != 0;
}

/*
 * Checks that `pid` is a process (a thread-group leader, not a thread) of the invoking user (real,
 * effective, saved and filesystem uid) and returns a pidfd held on it in *pidfd_out. The pidfd is
 * opened first and checked again after /proc was read: if the process is still alive then, the
 * number cannot have been reused in between, so what /proc said was about this process.
 * `quiet`: no error line (children of the target that are skipped).
 */
static int verify_process(pid_t pid, uid_t me, int quiet, int *pidfd_out)
{
	char msg[320], path[64];
	*pidfd_out = -1;
	if (pid <= 1) {
		snprintf(msg, sizeof(msg), "refusing to trace pid %d", (int)pid);
		goto refuse_eperm;
	}
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0 && errno == ESRCH) {
		snprintf(msg, sizeof(msg), "target pid %d does not exist", (int)pid);
		if (!quiet)
			emit_error("ESRCH", msg);
		return -1;
	}
	/* A thread that is not its group's leader: EINVAL, ENOENT since 6.9 (PIDFD_THREAD). */
	if (pidfd < 0 && errno != EINVAL && errno != ENOENT) {
		snprintf(msg, sizeof(msg), "cannot hold target pid %d (pidfd_open: %s): refusing to trace it", (int)pid, strerror(errno));
		goto refuse_eperm;
	}
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	char line[256];
	long tgid = -1;
	uid_t uids[4];
	gid_t gid = NT_NOBODY_UID;
	int have_uids = 0;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned a, b, c, d;
		long t;
		if (sscanf(line, "Tgid:\t%ld", &t) == 1)
			tgid = t;
		else if (sscanf(line, "Uid:\t%u\t%u\t%u\t%u", &a, &b, &c, &d) == 4) {
			uids[0] = a, uids[1] = b, uids[2] = c, uids[3] = d;
			have_uids = 1;
		} else if (sscanf(line, "Gid:\t%u", &a) == 1) {
			gid = a;
		}
	}
	if (f)
		fclose(f);
	else if (fd >= 0)
		close(fd);
	if (pidfd < 0 && tgid < 0) {
		snprintf(msg, sizeof(msg), "target pid %d does not exist", (int)pid);
		if (!quiet)
			emit_error("ESRCH", msg);
		return -1;
	}
	if (pidfd < 0 || tgid != pid) {
		if (tgid > 0 && tgid != pid)
			snprintf(msg, sizeof(msg),
				 "target pid %d is a thread of process %ld, not a process: refusing to trace it", (int)pid, tgid);
		else
			snprintf(msg, sizeof(msg), "target pid %d is not a process (thread-group leader): refusing to trace it",
				 (int)pid);
		if (pidfd >= 0)
			close(pidfd);
		goto refuse_eperm;
	}
	if (!have_uids || tgid < 0 || pidfd_exited(pidfd)) {
		close(pidfd);
		snprintf(msg, sizeof(msg), "target pid %d does not exist", (int)pid);
		if (!quiet)
			emit_error("ESRCH", msg);
		return -1;
	}
	if (me != 0) {
		for (int i = 0; i < 4; i++) {
			if (uids[i] != me) {
				close(pidfd);
				snprintf(msg, sizeof(msg),
					 "target pid %d belongs to uid %u, not to the invoking user (uid %u): refusing to trace it",
					 (int)pid, (unsigned)uids[i], (unsigned)me);
				goto refuse_eperm;
			}
		}
	}
	*pidfd_out = pidfd;
	if (!quiet) {
		target_uid = uids[0];
		target_gid = gid;
	}
	return 0;
refuse_eperm:
	if (!quiet)
		emit_error("EPERM", msg);
	return -1;
}

/* Refuses what cannot be traced safely: a helper in a pid namespace other than the initial one
 * (its pids are not the kernel programs' tgids), a thread, another user's process. */
static int authorize(pid_t pid, int *pidfd_out)
{
	struct stat st;
	char msg[320];
	*pidfd_out = -1;
	if (stat("/proc/self/ns/pid", &st) == 0 && (unsigned)st.st_ino != NT_INIT_PID_NS_INO) {
		snprintf(msg, sizeof(msg),
			 "the helper runs in a pid namespace (pid:[%lu]) other than the host's: pid %d cannot be matched to "
			 "the kernel's process ids, refusing to trace it (run the helper in the host's pid namespace)",
			 (unsigned long)st.st_ino, (int)pid);
		emit_error("EPIDNS", msg);
		return -1;
	}
	return verify_process(pid, invoking_uid(), 0, pidfd_out);
}

static void tuple_of(const struct nt_event *e, struct nt_tuple *t)
{
	t->family = e->family;
	memcpy(t->saddr, e->saddr, 16);
	memcpy(t->daddr, e->daddr, 16);
	t->sport = e->sport;
	t->dport = e->dport;
}

static void emit_metrics(const struct nt_event *e, int final)
{
	struct nt_tuple t;
	struct nt_json j;
	tuple_of(e, &t);
	nt_json_begin(&j, "tcpMetrics");
	nt_json_u64(&j, "pid", e->tgid);
	nt_json_str(&j, "comm", e->comm);
	nt_json_tuple(&j, "addrTuple", &t);
	nt_json_bool(&j, "final", final);
	nt_json_num(&j, "at", nt_mono_to_epoch_ms(e->ts_ns));
	if (final && e->last_data_ns)
		nt_json_num(&j, "lastDataAt", nt_mono_to_epoch_ms(e->last_data_ns));
	nt_json_obj_begin(&j, "tcpMetrics");
	nt_json_str(&j, "source", "bpf");
	nt_json_u64(&j, "rttUs", e->m.srtt_us);
	nt_json_u64(&j, "rttVarUs", e->m.rttvar_us);
	nt_json_u64(&j, "retransmits", e->m.total_retrans);
	nt_json_u64(&j, "synRetransmits", e->syn_retrans);
	if (e->last_syn_ns > e->start_ns)
		nt_json_num(&j, "synRetransmitAfterUs", (e->last_syn_ns - e->start_ns) / 1e3);
	nt_json_u64(&j, "sndCwnd", e->m.snd_cwnd);
	nt_json_u64(&j, "segsOut", e->m.segs_out);
	nt_json_u64(&j, "segsIn", e->m.segs_in);
	nt_json_u64(&j, "bytesAcked", e->m.bytes_acked);
	nt_json_u64(&j, "bytesReceived", e->m.bytes_received);
	nt_json_u64(&j, "bytesSent", e->m.bytes_sent);
	nt_json_u64(&j, "bytesRetrans", e->m.bytes_retrans);
	nt_json_u64(&j, "lost", e->m.lost);
	nt_json_u64(&j, "rtoCount", e->m.total_rto);
	nt_json_u64(&j, "resetsSent", e->rst_sent);
	nt_json_u64(&j, "resetsReceived", e->rst_recv);
	if (e->kev_dropped)
		nt_json_u64(&j, "kernelEventsDropped", e->kev_dropped);
	/* est_unseen: established (its SYN acked), though the move to ESTABLISHED was not seen. */
	nt_json_bool(&j, "established", e->est_ns != 0 || e->est_unseen);
	if (e->est_ns)
		nt_json_num(&j, "connectLatencyUs", (e->est_ns - e->start_ns) / 1e3);
	uint64_t end = e->close_ns ? e->close_ns : e->ts_ns;
	nt_json_num(&j, "lifespanUs", (end - e->start_ns) / 1e3);
	nt_json_obj_end(&j);
	nt_json_end(&j);
}

/*
 * CONNECT events wait until the end of the ring-buffer batch they came in: a connection whose
 * CLOSE is in the same batch (it lived less than one poll, ~50 ms, as most do at high rates) gets
 * only its final tcpMetrics line, which carries connectLatencyUs too. Half the lines per
 * connection where it matters most. The kernel does the same before the ring (nettrace.h,
 * connect_folded): a connection that closes before its first other news sends no CONNECT at all,
 * and its CLOSE is read here as a CONNECT pending in the same batch.
 */
#define PENDING_MAX 4096
#define PENDING_SLOTS 8192
static struct nt_event pending[PENDING_MAX];
static int n_pending;
static int pending_slot[PENDING_SLOTS]; /* index + 1 into pending[], 0 = empty, -1 = removed */

static uint32_t slot_of(uint64_t sk) { return (uint32_t)((sk >> 6) * 2654435761u) % PENDING_SLOTS; }

/* tcpConnect, from an NT_EV_CONNECT (rtt_us: its m.srtt_us) or from an NT_EV_CLOSE that stands for
 * it (connect_folded; rtt_us: its est_srtt_us). */
static void emit_connect(const struct nt_event *e, uint32_t rtt_us)
{
	struct nt_tuple t;
	struct nt_json j;
	tuple_of(e, &t);
	nt_json_begin(&j, "tcpConnect");
		nt_json_u64(&j, "pid", e->tgid);
		nt_json_str(&j, "comm", e->comm);
		nt_json_tuple(&j, "addrTuple", &t);
		nt_json_num(&j, "beginAt", nt_mono_to_epoch_ms(e->start_ns));
		nt_json_num(&j, "at", nt_mono_to_epoch_ms(e->est_ns));
		nt_json_num(&j, "connectLatencyUs", (e->est_ns - e->start_ns) / 1e3);
		nt_json_u64(&j, "synRetransmits", e->syn_retrans);
	if (e->last_syn_ns > e->start_ns)
		nt_json_num(&j, "synRetransmitAfterUs", (e->last_syn_ns - e->start_ns) / 1e3);
	nt_json_u64(&j, "rttUs", rtt_us);
	nt_json_end(&j);
	if (ct)
		nt_ct_track(ct, &t, e->tgid);
}

static void flush_pending(void)
{
	for (int i = 0; i < n_pending; i++)
		if (pending[i].type == NT_EV_CONNECT)
			emit_connect(&pending[i], pending[i].m.srtt_us);
	n_pending = 0;
	memset(pending_slot, 0, sizeof(pending_slot));
}

/* Takes back the pending CONNECT of this socket: the event (no longer pending), or NULL. */
static struct nt_event *unpend(uint64_t sk)
{
	for (uint32_t i = slot_of(sk), n = 0; n < PENDING_SLOTS; i = (i + 1) % PENDING_SLOTS, n++) {
		int v = pending_slot[i];
		if (v == 0)
			return NULL;
		if (v > 0 && pending[v - 1].sk == sk && pending[v - 1].type == NT_EV_CONNECT) {
			pending_slot[i] = -1;
			pending[v - 1].type = 0; /* flush_pending() skips it */
			return &pending[v - 1];
		}
	}
	return NULL;
}

static void pend(const struct nt_event *e)
{
	if (n_pending == PENDING_MAX)
		flush_pending();
	pending[n_pending] = *e;
	uint32_t i = slot_of(e->sk);
	while (pending_slot[i] > 0)
		i = (i + 1) % PENDING_SLOTS;
	pending_slot[i] = ++n_pending;
}

static void emit_wire(const struct nt_event *e)
{
	struct nt_tuple t;
	struct nt_json j;
	tuple_of(e, &t);
	nt_json_begin(&j, "wireTuple");
	nt_json_u64(&j, "pid", e->tgid);
	nt_json_tuple(&j, "addrTuple", &t);
	/* The wire tuple has the family of the packet: a v4-mapped socket sends IPv4. */
	t.family = e->wfamily;
	memcpy(t.saddr, e->wsaddr, 16);
	memcpy(t.daddr, e->wdaddr, 16);
	t.sport = e->wsport;
	t.dport = e->wdport;
	nt_json_tuple(&j, "wire", &t);
	nt_json_str(&j, "proto", e->wproto == IPPROTO_UDP ? "udp" : "tcp");
	nt_json_num(&j, "at", nt_mono_to_epoch_ms(e->ts_ns));
	nt_json_end(&j);
}

static void emit_wire_closed(const struct nt_event *e)
{
	struct nt_tuple t = {0};
	struct nt_json j;
	t.family = e->wfamily;
	memcpy(t.saddr, e->wsaddr, 16);
	memcpy(t.daddr, e->wdaddr, 16);
	t.sport = e->wsport;
	t.dport = e->wdport;
	nt_json_begin(&j, "wireClosed");
	nt_json_u64(&j, "pid", e->tgid);
	nt_json_tuple(&j, "wire", &t);
	nt_json_str(&j, "proto", "tcp");
	nt_json_u64(&j, "graceMs", NT_TCP_GRACE_NS / 1000000);
	nt_json_num(&j, "at", nt_mono_to_epoch_ms(e->ts_ns));
	nt_json_end(&j);
}

/* The name of a drop reason (enum skb_drop_reason, from the running kernel's BTF: the values differ
 * between kernels), without its SKB_DROP_REASON_ prefix; NULL when unknown. */
static const char *drop_reason_name(unsigned v)
{
	static struct btf *vmlinux;
	static const struct btf_type *t;
	static int tried;
	if (!tried) {
		tried = 1;
		vmlinux = btf__load_vmlinux_btf();
		int id = vmlinux ? btf__find_by_name_kind(vmlinux, "skb_drop_reason", BTF_KIND_ENUM) : -1;
		t = id > 0 ? btf__type_by_id(vmlinux, id) : NULL;
	}
	if (!t)
		return NULL;
	const struct btf_enum *e = btf_enum(t);
	for (int i = 0; i < btf_vlen(t); i++) {
		if ((unsigned)e[i].val != v)
			continue;
		const char *n = btf__name_by_offset(vmlinux, e[i].name_off);
		return n && !strncmp(n, "SKB_DROP_REASON_", 16) ? n + 16 : n;
	}
	return NULL;
}

/* Starts a kernelEvent line (a retransmit, a zero-window period, a drop, a socket error): the
 * connection's pid and tuple, the kind and its time. An arrival has a line of its own
 * (emit_arrival). */
static void kernel_event_begin(struct nt_json *j, const struct nt_event *e, const char *kind, uint64_t at_ns)
{
	struct nt_tuple t;
	tuple_of(e, &t);
	nt_json_begin(j, "kernelEvent");
	nt_json_u64(j, "pid", e->tgid);
	nt_json_tuple(j, "addrTuple", &t);
	nt_json_str(j, "kind", kind);
	nt_json_num(j, "at", nt_mono_to_epoch_ms(at_ns));
}

/* An arrival (dataIn: one per response on a kept-alive connection, the line of most) as an array
 * line, ["dataIn", pid, key, at, prevLastAt, ackedAt] (src/protocol/helper.ts HelperArrivalLine):
 * the connection named by its tuple's key, a string the collector looks up as it is, and no field
 * names for it to parse (a third of its cost of the line). */
static void emit_arrival(const struct nt_event *e)
{
	struct nt_json j;
	struct nt_tuple t;
	tuple_of(e, &t);
	nt_json_array_begin(&j, "dataIn");
	nt_json_item_u64(&j, e->tgid);
	nt_json_item_tuple_key(&j, &t);
	nt_json_item_time(&j, e->ts_ns);
	nt_json_item_time(&j, e->kev_begin_ns);
	nt_json_item_time(&j, e->kev_acked_ns);
	nt_json_end(&j);
}

static void emit_kernel_event(const struct nt_event *e)
{
	static const char *kinds[] = {[NT_KEV_RETRANS] = "retransmit", [NT_KEV_ZERO_WINDOW] = "zeroWindow",
				      [NT_KEV_DATA_IN] = "dataIn", [NT_KEV_DROP] = "drop"};
	if (e->kev_kind < NT_KEV_RETRANS || e->kev_kind > NT_KEV_DROP || !kinds[e->kev_kind])
		return;
	if (e->kev_kind == NT_KEV_DATA_IN) {
		emit_arrival(e);
		return;
	}
	struct nt_json j;
	kernel_event_begin(&j, e, kinds[e->kev_kind], e->ts_ns);
	switch (e->kev_kind) {
	case NT_KEV_RETRANS:
		nt_json_u64(&j, "total", e->kev_total);
		if (e->kev_rto)
			nt_json_bool(&j, "rto", 1);
		break;
	case NT_KEV_ZERO_WINDOW:
		nt_json_num(&j, "beginAt", nt_mono_to_epoch_ms(e->kev_begin_ns));
		nt_json_str(&j, "side", e->kev_local ? "local" : "peer");
		break;
	case NT_KEV_DROP: {
		const char *name = drop_reason_name(e->kev_err);
		nt_json_u64(&j, "reasonCode", e->kev_err);
		if (name)
			nt_json_str(&j, "reason", name);
		nt_json_str(&j, "direction", e->kev_local ? "out" : "in");
		break;
	}
	}
	nt_json_end(&j);
}

/* The socket error an NT_EV_CLOSE carries (err_present): a kernelEvent of kind socketError, at the
 * error's time, before the connection's final metrics. */
static void emit_socket_error(const struct nt_event *e)
{
	struct nt_json j;
	char from[64];
	kernel_event_begin(&j, e, "socketError", e->err_ns);
	if (e->err_errno)
		nt_json_u64(&j, "errno", e->err_errno);
	if (e->icmp_family) {
		nt_addr_str(e->icmp_family, e->icmp_from, from, sizeof(from));
		nt_json_obj_begin(&j, "icmp");
		nt_json_u64(&j, "version", e->icmp_family == AF_INET6 ? 6 : 4);
		nt_json_u64(&j, "type", e->icmp_type);
		nt_json_u64(&j, "code", e->icmp_code);
		nt_json_str(&j, "from", from);
		nt_json_obj_end(&j);
	}
	nt_json_end(&j);
}

/* Connection events read (NT_EV_CONNECT, NT_EV_UPDATE, NT_EV_CLOSE, NT_EV_KEV): stats.events. */
static uint64_t conn_events;

static int on_event(void *ctx, void *data, size_t size)
{
	/* An event is a prefix of struct nt_event, as long as its type needs (nettrace.h): the rest
	 * reads as zero. */
	struct nt_event ev;
	const struct nt_event *e = &ev;
	struct nt_event *connect;
	int folded;
	struct nt_tuple t;
	struct nt_json j;
	if (size < NT_EV_SIZE_HEAD)
		return 0;
	if (size > sizeof(ev))
		size = sizeof(ev);
	memcpy(&ev, data, size);
	memset((char *)&ev + size, 0, sizeof(ev) - size);
	if (e->type == NT_EV_CONNECT || e->type == NT_EV_UPDATE || e->type == NT_EV_CLOSE || e->type == NT_EV_KEV)
		conn_events++;
	switch (e->type) {
	case NT_EV_CONNECT:
		pend(e);
		break;
	case NT_EV_UPDATE:
		/* A live connection's later news: its tcpConnect goes first. */
		if ((connect = unpend(e->sk)))
			emit_connect(connect, connect->m.srtt_us);
		emit_metrics(e, 0);
		if (ct) {
			tuple_of(e, &t);
			nt_ct_refresh(ct, &t, 0, 1000);
		}
		break;
	case NT_EV_CLOSE:
		/* No NT_EV_CONNECT came (folded into this event, nettrace.h): as one pending in this batch. */
		folded = e->connect_folded && e->est_ns;
		if (e->err_present) {
			/* As every kernel event: after the connection's tcpConnect. */
			if ((connect = unpend(e->sk)))
				emit_connect(connect, connect->m.srtt_us);
			else if (folded)
				emit_connect(e, e->est_srtt_us);
			folded = 0;
			emit_socket_error(e);
		}
		connect = unpend(e->sk);
		emit_metrics(e, 1);
		if (ct && e->est_ns) {
			tuple_of(e, &t);
			if (connect || folded)
				nt_ct_track(ct, &t, e->tgid);
			nt_ct_refresh(ct, &t, 1, 0);
		}
		/* The end of its wire tuple, after the final metrics. */
		if (e->wfamily)
			emit_wire_closed(e);
		break;
	case NT_EV_FORK:
		nt_json_begin(&j, "processAdded");
		nt_json_u64(&j, "pid", e->tgid);
		nt_json_u64(&j, "ppid", e->ppid);
		nt_json_num(&j, "at", nt_mono_to_epoch_ms(e->ts_ns));
		nt_json_end(&j);
		break;
	case NT_EV_WIRE:
		emit_wire(e);
		break;
	case NT_EV_KEV:
		/* After the connection's tcpConnect, which the collector needs first to place it. */
		if ((connect = unpend(e->sk)))
			emit_connect(connect, connect->m.srtt_us);
		emit_kernel_event(e);
		break;
	case NT_EV_DROP:
		nt_warn("pid %u (%s) changed its credentials (a setuid/setgid exec or a setuid call): it is no longer traced, "
			"nor what it starts from now on",
			(unsigned)e->tgid, e->comm);
		break;
	}
	return 0;
}

static uint64_t cap_packets, cap_drops;

static void read_capture_stats(const struct options *o)
{
	for (int i = 0; i < o->n_cap_fds; i++) {
		struct tpacket_stats_v3 st = {0};
		socklen_t len = sizeof(st);
		/* PACKET_STATISTICS resets the kernel's counters on every read; this process owns them. */
		if (getsockopt(o->cap_fds[i], SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) {
			cap_packets += st.tp_packets;
			cap_drops += st.tp_drops;
		}
	}
}

/* Runs of the helper's tracepoint programs the kernel skipped (bpf_prog_info.recursion_misses:
 * a program is not run again on a CPU where it is already running, e.g. a state change in a
 * softirq that interrupted the same program in process context). Their events are missing:
 * nt_objs_missed_runs(). */
static struct nt_objs objs;

static uint64_t prev_missed, prev_events;

static void emit_stats(struct nettrace_bpf *skel, const struct options *o, int force)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t tot[NT_STAT_MAX] = {0};
	uint64_t vals[256];
	if (ncpu > 256)
		ncpu = 256;
	for (uint32_t k = 0; k < NT_STAT_MAX; k++) {
		if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.stats), &k, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			tot[k] += vals[c];
	}
	uint64_t old_drops = cap_drops, old_pk = cap_packets;
	read_capture_stats(o);
	uint64_t missed = nt_objs_missed_runs(&objs);
	if (!force && memcmp(tot, prev_stats, sizeof(tot)) == 0 && old_drops == cap_drops && old_pk == cap_packets &&
	    missed == prev_missed && conn_events == prev_events)
		return;
	memcpy(prev_stats, tot, sizeof(tot));
	prev_missed = missed;
	prev_events = conn_events;
	struct nt_json j;
	nt_json_begin(&j, "stats");
	nt_json_u64(&j, "lostEvents", tot[NT_STAT_LOST]);
	nt_json_u64(&j, "untracedConnsMapFull", tot[NT_STAT_CONN_FULL]);
	nt_json_u64(&j, "events", conn_events);
	nt_json_u64(&j, "missedRuns", missed);
	if (o->n_cap_fds) {
		nt_json_u64(&j, "capturePackets", cap_packets);
		nt_json_u64(&j, "captureKernelDrops", cap_drops);
	}
	nt_json_end(&j);
}

/* The unprivileged user the helper becomes after setup when started as root (sudo, pkexec, root). */
#define NT_NOBODY NT_NOBODY_UID

static uint64_t status_hex(const char *key)
{
	char line[256];
	size_t n = strlen(key);
	uint64_t v = UINT64_MAX;
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, key, n) == 0 && line[n] == ':')
			v = strtoull(line + n + 1, NULL, 16);
	if (f)
		fclose(f);
	return v;
}

/*
 * Gives up every privilege once setup is done, and checks that it is gone. Kept: CAP_NET_ADMIN
 * only when conntrack is on (ctnetlink checks it on every message, see nfnetlink_rcv_msg), in the
 * effective, permitted and bounding sets. Order matters: the bounding set can only be cut while
 * CAP_SETPCAP is effective (so first; the file-capabilities install grants it for this), the uid
 * can only change while CAP_SETUID is (root: to nobody, with PR_SET_KEEPCAPS so CAP_NET_ADMIN
 * survives), and capset() last drops CAP_SETPCAP itself. no_new_privs: no exec can regain any.
 * Non-dumpable: nobody without CAP_SYS_PTRACE can ptrace us and reach the BPF map descriptors.
 * Returns 0, or -1 after an error line if a privilege that must go could not be dropped.
 */
static int drop_privileges(int keep_net_admin, uid_t become, gid_t become_gid)
{
	uint64_t keep = keep_net_admin ? 1ULL << CAP_NET_ADMIN : 0;
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2] = {0};
	prctl(PR_SET_DUMPABLE, 0);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	for (int c = 0; c <= CAP_LAST_CAP; c++)
		if (!(keep & (1ULL << c)))
			prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
	if (getuid() == 0 || geteuid() == 0) {
		prctl(PR_SET_KEEPCAPS, 1);
		if (setgroups(0, NULL) || setresgid(become_gid, become_gid, become_gid) ||
		    setresuid(become, become, become)) {
			emit_error("EPERM", "could not give up uid 0 after setup");
			return -1;
		}
		prctl(PR_SET_KEEPCAPS, 0);
		/* A change of credentials clears the parent-death signal and dumpability: set again. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		prctl(PR_SET_DUMPABLE, 0);
	}
	d[0].effective = d[0].permitted = (uint32_t)keep;
	if (syscall(SYS_capset, &h, d)) {
		emit_error("EPERM", "could not drop capabilities after setup (capset failed)");
		return -1;
	}
	uint64_t eff = status_hex("CapEff"), prm = status_hex("CapPrm"), inh = status_hex("CapInh"),
		 amb = status_hex("CapAmb"), bnd = status_hex("CapBnd");
	if (eff != keep || prm != keep || inh != 0 || amb != 0 || ((getuid() == 0 || geteuid() == 0) && become != 0)) {
		char msg[256];
		snprintf(msg, sizeof(msg),
			 "privileges still held after setup (CapEff %016llx CapPrm %016llx CapInh %016llx CapAmb %016llx uid %u)",
			 (unsigned long long)eff, (unsigned long long)prm, (unsigned long long)inh, (unsigned long long)amb,
			 (unsigned)geteuid());
		emit_error("EPERM", msg);
		return -1;
	}
	if ((bnd & ~keep) && had_caps)
		nt_warn("the capability bounding set could not be cut to what the helper keeps (CapBnd %016llx): the binary "
			"lacks cap_setpcap; reinstall it with `make -C native install-caps`. no_new_privs still keeps any exec "
			"from gaining capabilities",
			(unsigned long long)bnd);
	return 0;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_WARN && getenv("NETTRACE_HELPER_DEBUG"))
		return vfprintf(stderr, fmt, args);
	return 0;
}


/* True while the kernel holds any traced socket (the conns map is not empty). */
static int any_conn(int fd)
{
	__u64 key;
	return bpf_map_get_next_key(fd, NULL, &key) == 0;
}

static void emit_ready(const char *mode, int conntrack_on, const char *ct_why, int capture_on, const char *cap_why)
{
	struct nt_json j;
	nt_json_begin(&j, "ready");
	nt_json_str(&j, "mode", mode);
	if (nt_authority)
		nt_json_str(&j, "authority", nt_authority);
	nt_json_obj_begin(&j, "features");
	nt_json_str(&j, "tcpMetrics", mode);
	nt_json_bool(&j, "conntrack", conntrack_on);
	nt_json_bool(&j, "captureFilter", capture_on);
	nt_json_obj_end(&j);
	nt_json_obj_begin(&j, "unavailable");
	if (ct_why)
		nt_json_str(&j, "conntrack", ct_why);
	if (cap_why)
		nt_json_str(&j, "capture", cap_why);
	nt_json_obj_end(&j);
	nt_json_end(&j);
}

static void emit_exit(const char *reason)
{
	struct nt_json j;
	nt_json_begin(&j, "exit");
	nt_json_str(&j, "reason", reason);
	nt_json_end(&j);
}

static int has_bpf_privileges(void)
{
	if (geteuid() == 0)
		return 1;
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2] = {0};
	if (syscall(SYS_capget, &h, d))
		return 0;
	/* CAP_BPF (39) and CAP_PERFMON (38) live in the second word. */
	uint32_t hi = d[1].effective;
	return (hi & (1u << (CAP_BPF - 32))) && (hi & (1u << (CAP_PERFMON - 32)));
}

/* The cgroup v2 directory of `pid` (from /proc/<pid>/cgroup "0::/path" and the cgroup2 mount),
 * opened; -1 if there is none. */
static int open_cgroup_of(pid_t pid)
{
	char line[512], mnt[256] = "", path[1024];
	FILE *f = fopen("/proc/self/mounts", "r");
	while (f && fgets(line, sizeof(line), f)) {
		char dev[64], dir[256], type[32];
		if (sscanf(line, "%63s %255s %31s", dev, dir, type) == 3 && strcmp(type, "cgroup2") == 0) {
			snprintf(mnt, sizeof(mnt), "%s", dir);
			break;
		}
	}
	if (f)
		fclose(f);
	if (!mnt[0])
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "r");
	int fd = -1;
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = 0;
			snprintf(path, sizeof(path), "%s%s", mnt, line + 3);
			fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
			break;
		}
	}
	if (f)
		fclose(f);
	return fd;
}

/* DNS capture: the UDP connect/sendmsg hooks on the target's cgroup (and its descendants). */
static void attach_cgroup_hooks(struct nettrace_bpf *skel, struct nt_objs *ob, pid_t pid, int pidfd)
{
	int fd = open_cgroup_of(pid);
	/* Still the same process: what /proc/<pid>/cgroup said was about it. */
	if (fd >= 0 && pidfd_exited(pidfd)) {
		close(fd);
		fd = -1;
	}
	struct bpf_program *progs[] = {skel->progs.cg_connect4, skel->progs.cg_connect6, skel->progs.cg_sendmsg4,
				       skel->progs.cg_sendmsg6};
	int ok = fd >= 0;
	for (size_t i = 0; ok && i < sizeof(progs) / sizeof(progs[0]); i++)
		if (nt_objs_attach_cgroup(ob, progs[i], fd))
			ok = 0;
	if (fd >= 0)
		close(fd);
	if (!ok)
		nt_warn("no cgroup v2 hook for the debuggee's UDP sockets: the first DNS query of each socket is not captured");
}

/* run_bpf() could not load or attach the programs (nothing was reported yet): why. */
#define NT_BPF_UNAVAILABLE 10
static char bpf_failure[256];

/* Opens the BPF object with the run's constants and the programs the run needs. */
static struct nettrace_bpf *open_bpf(struct options *o, uid_t me)
{
	struct nettrace_bpf *skel = nettrace_bpf__open();
	if (!skel)
		return NULL;
	skel->rodata->update_interval_ns = (uint64_t)o->update_ms * 1000000ULL;
	/* The build's id: a pinned set is reused only by the build that loaded it (pins.c). */
	skel->rodata->build_id = strtoull(NT_BPF_BUILD, NULL, 16);
	/* Credential changes (a setuid exec, setuid()) drop a process from the traced set, unless
	 * the invoking user is root, who may trace anything. */
	skel->rodata->owner_uid = me;
	skel->rodata->check_owner = me != 0;
	if (o->cap_pipe < 0) {
		bpf_program__set_autoload(skel->progs.on_dev_queue, false);
		bpf_program__set_autoload(skel->progs.on_send_length, false);
		bpf_program__set_autoload(skel->progs.cg_connect4, false);
		bpf_program__set_autoload(skel->progs.cg_connect6, false);
		bpf_program__set_autoload(skel->progs.cg_sendmsg4, false);
		bpf_program__set_autoload(skel->progs.cg_sendmsg6, false);
	}
	return skel;
}

/*
 * Opens the BPF object and loads its programs, or as root takes the pinned programs and maps of
 * an earlier run of this build, user and settings (pins.c; the key names what the programs were
 * loaded with). Nothing is attached: this needs no target. 0, or NT_BPF_UNAVAILABLE (bpf_failure
 * says why).
 */
static int load_bpf(struct options *o)
{
	uid_t me = invoking_uid();
	struct nettrace_bpf *skel = open_bpf(o, me);
	if (!skel) {
		snprintf(bpf_failure, sizeof(bpf_failure), "cannot open the BPF object");
		return NT_BPF_UNAVAILABLE;
	}
	char variant[64];
	snprintf(variant, sizeof(variant), "u%u-i%d-%c", (unsigned)me, o->update_ms, o->cap_pipe >= 0 ? 'c' : 'n');
	if (nt_objs_load(&objs, skel, variant, bpf_failure, sizeof(bpf_failure))) {
		nettrace_bpf__destroy(skel);
		objs.skel = NULL;
		return NT_BPF_UNAVAILABLE;
	}
	return 0;
}

static int run_bpf(struct options *o)
{
	char why[256];
	uid_t me = invoking_uid();
	if (!objs.skel) {
		int rc = load_bpf(o);
		if (rc)
			return rc;
	}
	struct nettrace_bpf *skel = objs.skel;
	int err;
	uint32_t target = (uint32_t)o->pid, one = 1;
	int traced_fd = bpf_map__fd(skel->maps.traced);
	/* Attach first, then seed: sched_process_exit is watching by the time the pid is in the
	 * map, so if the pidfd still shows the target alive after seeding, its end will remove it. */
	err = nt_objs_attach_tracepoints(&objs);
	if (err) {
		snprintf(bpf_failure, sizeof(bpf_failure), "attaching the tracepoints failed: %s", strerror(-err));
		nt_objs_close(&objs);
		return NT_BPF_UNAVAILABLE;
	}
	bpf_map_update_elem(traced_fd, &target, &one, BPF_ANY);
	if (pidfd_exited(o->pidfd)) {
		bpf_map_delete_elem(traced_fd, &target);
		emit_error("ESRCH", "the target process ended before the helper was attached");
		nt_objs_close(&objs);
		return 1;
	}
	/* Children started before we attached are not seen by sched_process_fork: add the ones
	 * that pass the same check as the target (a setuid child of another user does not). */
	{
		char cmd[64];
		snprintf(cmd, sizeof(cmd), "/proc/%d/task/%d/children", o->pid, o->pid);
		FILE *f = fopen(cmd, "r");
		unsigned c;
		while (f && fscanf(f, "%u", &c) == 1) {
			int cfd;
			if (verify_process((pid_t)c, me, 1, &cfd))
				continue;
			bpf_map_update_elem(traced_fd, &c, &one, BPF_ANY);
			if (pidfd_exited(cfd))
				bpf_map_delete_elem(traced_fd, &c);
			close(cfd);
		}
		if (f)
			fclose(f);
	}

	int capture_on = 0;
	const char *cap_why = NULL;
	if (o->cap_pipe >= 0)
		attach_cgroup_hooks(skel, &objs, o->pid, o->pidfd);
	if (o->cap_pipe >= 0) {
		/* Our own sockets, filtered from their first packet: nothing unfiltered to count. */
		int n = nt_capture_open(nt_objs_prog_fd(&objs, skel->progs.cap_filter), o->cap_mib, o->cap_fds, why, sizeof(why));
		o->n_cap_fds = n > 0 ? n : 0;
		capture_on = n > 0;
		if (n <= 0)
			cap_why = n == 0 ? "no network interface with an address to capture on" : strdup(why);
		read_capture_stats(o);
		cap_packets = cap_drops = 0;
	} else {
		cap_why = "not requested";
	}

	const char *ct_why = NULL;
	if (o->conntrack) {
		ct = nt_ct_open(o->pid, o->pidfd, why, sizeof(why));
		if (!ct)
			ct_why = strdup(why);
	} else {
		ct_why = "not requested";
	}

	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, NULL, NULL);
	if (!rb) {
		emit_error("BPF_RINGBUF", "cannot open the ring buffer");
		return 1;
	}
	if (drop_privileges(ct != NULL, NT_NOBODY, NT_NOBODY)) {
		nt_objs_close(&objs);
		return 1;
	}
	if (capture_on && o->cap_pipe >= 0 && nt_capture_start(o->cap_pipe)) {
		capture_on = 0;
		cap_why = "the capture's packet stream could not be started";
	}
	emit_ready("bpf", ct != NULL, ct_why, capture_on, cap_why);
	nt_flush_each = 0;

	int pidfd = o->pidfd;
	struct pollfd fds[4];
	int nfds = 0;
	fds[nfds++] = (struct pollfd){.fd = ring_buffer__epoll_fd(rb), .events = POLLIN};
	fds[nfds++] = (struct pollfd){.fd = 0, .events = POLLIN};
	int pid_idx = -1, ct_idx = -1;
	if (pidfd >= 0) {
		pid_idx = nfds;
		fds[nfds++] = (struct pollfd){.fd = pidfd, .events = POLLIN};
	}
	if (ct) {
		ct_idx = nfds;
		fds[nfds++] = (struct pollfd){.fd = nt_ct_event_fd(ct), .events = POLLIN};
	}
	const char *reason = "signal";
	const int conns_fd = bpf_map__fd(skel->maps.conns);
	double last_stats = 0, linger_until = 0;
	char line[256];
	size_t line_len = 0;
	while (!stopping) {
		/* While lingering, look again soon: the last sockets close within moments of the exit. */
		int n = poll(fds, nfds, linger_until ? 5 : 50);
		ring_buffer__consume(rb);
		flush_pending();
		nt_out_flush();
		if (n < 0 && errno != EINTR)
			break;
		double now = nt_now_ms();
		if (ct_idx >= 0 && (fds[ct_idx].revents & POLLIN))
			nt_ct_handle_events(ct);
		if (fds[1].revents & (POLLIN | POLLHUP)) {
			char buf[256];
			ssize_t r = read(0, buf, sizeof(buf));
			if (r <= 0) {
				reason = "parent closed stdin";
				break;
			}
			for (ssize_t i = 0; i < r; i++) {
				if (buf[i] == '\n') {
					line[line_len] = 0;
					/* Plain words or the JSON commands of src/protocol/helper.ts. */
					if (strstr(line, "stop")) {
						reason = "stop requested";
						stopping = 1;
					} else if (strstr(line, "stats")) {
						emit_stats(skel, o, 1);
					}
					line_len = 0;
				} else if (line_len < sizeof(line) - 1) {
					line[line_len++] = buf[i];
				}
			}
		}
		if (pid_idx >= 0 && (fds[pid_idx].revents & POLLIN) && !linger_until) {
			/* The target ended: give its sockets' final events a moment to arrive. */
			linger_until = now + o->linger_ms;
			fds[pid_idx].fd = -1;
		}
		/* Every traced socket is gone (on_destroy submits a socket's last events before it
		 * deletes its entry, so the ring holds them all): no need to wait out the linger, which
		 * every traced run would otherwise add to its end. A child still running keeps its
		 * sockets in the map, and the linger's bound holds. */
		if ((linger_until && now >= linger_until) || (linger_until && !any_conn(conns_fd))) {
			reason = "target exited";
			break;
		}
		if (now - last_stats >= 1000) {
			emit_stats(skel, o, 0);
			last_stats = now;
		}
	}
	ring_buffer__consume(rb);
	flush_pending();
	/* The capture's last packets reach the Node side before the exit line. */
	if (o->cap_pipe >= 0)
		nt_capture_stop();
	if (ct) {
		nt_ct_handle_events(ct);
		nt_ct_close(ct);
	}
	nt_flush_each = 1;
	emit_stats(skel, o, 1);
	emit_exit(reason);
	ring_buffer__free(rb);
	nt_objs_close(&objs);
	return 0;
}

/*
 * --pid-from-stdin: reads the line `pid N` (read byte by byte: the commands after it stay for the
 * main loop). 0 with *pid set; 1 when stdin ends or a signal stops us first; -1 after an error
 * line when the line is not that.
 */
static int read_pid(pid_t *pid)
{
	char line[32];
	size_t n = 0;
	for (;;) {
		struct pollfd p = {.fd = 0, .events = POLLIN};
		if (stopping)
			return 1;
		if (poll(&p, 1, 100) <= 0)
			continue;
		char ch;
		ssize_t r = read(0, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 1;
		if (ch == '\n')
			break;
		if (n == sizeof(line) - 1) {
			emit_error("USAGE", "--pid-from-stdin: expected a line `pid N`");
			return -1;
		}
		line[n++] = ch;
	}
	line[n] = 0;
	char *end;
	long v = strncmp(line, "pid ", 4) == 0 ? strtol(line + 4, &end, 10) : -1;
	if (v <= 0 || v > 0x3fffffff || *end) {
		emit_error("USAGE", "--pid-from-stdin: expected a line `pid N`");
		return -1;
	}
	*pid = (pid_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = {.mode = "auto", .conntrack = 1, .cap_pipe = -1, .cap_mib = 16, .update_ms = 250, .poll_ms = 100, .linger_ms = 500, .pidfd = -1};
	static const struct option longopts[] = {
		{"pid", required_argument, 0, 'p'},
		{"pid-from-stdin", no_argument, 0, 'S'},
		{"mode", required_argument, 0, 'm'},
		{"no-conntrack", no_argument, 0, 'n'},
		{"capture-pipe", required_argument, 0, 'P'},
		{"capture-ring-mib", required_argument, 0, 'R'},
		{"update-ms", required_argument, 0, 'u'},
		{"poll-ms", required_argument, 0, 'l'},
		{"linger-ms", required_argument, 0, 'g'},
		{"authority", required_argument, 0, 'a'},
		{0, 0, 0, 0},
	};
	int c, pid_from_stdin = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': o.pid = (pid_t)atoi(optarg); break;
		case 'S': pid_from_stdin = 1; break;
		case 'm': o.mode = optarg; break;
		case 'n': o.conntrack = 0; break;
		case 'u': o.update_ms = atoi(optarg); break;
		case 'l': o.poll_ms = atoi(optarg); break;
		case 'g': o.linger_ms = atoi(optarg); break;
		case 'a': nt_authority = optarg; break;
		case 'P': o.cap_pipe = atoi(optarg) >= 3 ? atoi(optarg) : -1; break;
		case 'R': {
			long m = strtol(optarg, NULL, 10);
			o.cap_mib = m >= 1 && m <= 1024 ? (unsigned)m : 16;
			break;
		}
		default:
			emit_error("USAGE", "usage: nettrace-helper --pid PID [--mode auto|bpf|inet_diag] [--no-conntrack] [--capture-pipe FD] [--update-ms N]");
			return 2;
		}
	}
	nt_out_stop = &stopping;
	nt_clock_init();
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	{
		struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
		struct __user_cap_data_struct d[2] = {0};
		had_caps = geteuid() == 0 || (syscall(SYS_capget, &h, d) == 0 && (d[0].permitted || d[1].permitted));
	}
	libbpf_set_print(libbpf_quiet);
	int want_bpf = strcmp(o.mode, "bpf") == 0 || (strcmp(o.mode, "auto") == 0 && has_bpf_privileges());
	int loaded = 0;
	if (pid_from_stdin) {
		/* Started before its program (src/helper/launch.ts prestartHelper): the programs are
		 * loaded, or the pinned ones taken, while the caller starts the program, whose pid comes
		 * on stdin. Nothing is attached before the pid has passed authorize(). */
		if (want_bpf)
			loaded = load_bpf(&o);
		int r = read_pid(&o.pid);
		if (r) {
			if (objs.skel)
				nt_objs_close(&objs);
			if (r > 0)
				emit_exit("parent closed stdin");
			return r > 0 ? 0 : 2;
		}
	}
	if (authorize(o.pid, &o.pidfd)) {
		if (objs.skel)
			nt_objs_close(&objs);
		return 3;
	}
	if (want_bpf) {
		int rc = loaded ? loaded : run_bpf(&o);
		if (rc != NT_BPF_UNAVAILABLE)
			return rc;
		if (strcmp(o.mode, "bpf") == 0) {
			emit_error("BPF", bpf_failure);
			return 1;
		}
		/* auto: fall back to the no-root path, and say why. */
		nt_bpf_unavailable = bpf_failure;
	}
	/* inet_diag reads /proc/<pid>/fd of the target's processes: when root, become their owner
	 * (the invoking user's own uid under sudo/pkexec; uid 0 stays only for a target of root). */
	if (drop_privileges(0, target_uid, target_gid))
		return 1;
	return nt_inet_diag_run(o.pid, o.pidfd, o.poll_ms, 0);
}
