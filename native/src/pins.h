/* pins.c: the helper's eBPF programs and maps, loaded once and pinned in bpffs, reused by later runs. */
#ifndef NT_PINS_H
#define NT_PINS_H
#include <stddef.h>

struct nettrace_bpf;
struct bpf_program;

#define NT_MAX_PROGS 32

/* The programs and maps one run uses: loaded now, or the pinned ones of an earlier run. */
struct nt_objs {
	struct nettrace_bpf *skel; /* opened by the caller; its maps carry the fds in both cases */
	int reused;                /* 1: the programs and maps came from pins */
	int pinned;                /* 1: loaded now and pinned for later runs */
	int prog_fd[NT_MAX_PROGS]; /* by the object's program order; -1 when not loaded */
	int n_progs;
	int link_fd[NT_MAX_PROGS]; /* the tracepoint attachments of this run */
	int n_links;
	int lock_fd; /* the pinned set's folder, locked while this run uses it; -1 */
	int set_fd;  /* the same folder, for the pins' names; -1 */
	char set_name[128];
};

/*
 * Loads the opened skeleton's programs (those set to load) and its maps, or, as root, reuses the
 * set an earlier run of the same build, invoking user and settings pinned under
 * /sys/fs/bpf/nettrace (see native/README.md): checked before use, emptied, and locked for this
 * run. `variant` names the settings the programs were loaded with. Returns 0, or a negative errno
 * from the load (`why` says what failed).
 */
int nt_objs_load(struct nt_objs *ob, struct nettrace_bpf *skel, const char *variant, char *why, size_t whylen);
/* The fd of a loaded program, or -1. */
int nt_objs_prog_fd(const struct nt_objs *ob, const struct bpf_program *prog);
/* Attaches every loaded tracepoint program (tp_btf). Returns 0 or a negative errno. */
int nt_objs_attach_tracepoints(struct nt_objs *ob);
/* Attaches a cgroup program to the cgroup folder `cgroup_fd` for this run. 0 or a negative errno. */
int nt_objs_attach_cgroup(struct nt_objs *ob, const struct bpf_program *prog, int cgroup_fd);
/* Runs of the loaded programs the kernel skipped (recursion_misses), summed. */
unsigned long long nt_objs_missed_runs(const struct nt_objs *ob);
/* Detaches, empties a pinned set's maps for the next run, closes everything and destroys the skeleton. */
void nt_objs_close(struct nt_objs *ob);

#endif
