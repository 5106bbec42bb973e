/*
 * The helper's eBPF programs and maps, loaded once and reused (issue 65). Loading them is most of
 * the helper's start as root (libbpf reads the kernel's BTF, the verifier checks every program:
 * ≈ 40 ms on a quiet 2-core machine, 80–140 ms loaded), and the traced program waits for it. So
 * a helper running as root pins what it loaded in bpffs, and a later run of the same build, for
 * the same invoking user and settings, takes the pinned programs and maps instead of loading them:
 *
 *   /sys/fs/bpf/nettrace/<build>-u<uid>-i<update ms>-<c|n>-<slot>/{p-<program>,m-<map>}
 *
 * Only root can open or change them: bpffs is mounted (by us when nothing was, mode 0700), every
 * folder from its root down is root's and writable by no one else (a shared bpffs root must be
 * sticky), each pin is a regular file of root's, 0600. A set is reused only when it is whole and
 * checked: each program's type and name, each map's type, sizes and flags, the read-only data
 * (the build's id and the run's settings: owner_uid, check_owner, update_interval_ns) byte for
 * byte, every program using only the set's own maps, and no program attached anywhere. A set that
 * fails a check is said in a warning and loaded again; the sets of other builds unused for an hour
 * are removed when a set is pinned. A run takes a set's folder lock (flock) for
 * its whole life, so two runs never share maps; a run that finds every slot busy loads its own.
 * The maps are emptied when a run takes the set and again when it ends.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "nettrace.build.h"
#include "nettrace.skel.h"
#include "pins.h"

#define NT_BPFFS "/sys/fs/bpf"
#define NT_PIN_DIR "nettrace"
/* Sets per build, user and settings: two runs at once both reuse (≈ 12.6 MiB of kernel memory each). */
#define NT_SLOTS 2
/* The lock's fd is moved above the others: a killed run's fds are closed in ascending order, so
 * its tracepoint links are gone before its lock is (another run must not attach the same
 * programs while they still run for this one). */
#define NT_LOCK_FD_MIN 512
#define NT_MAX_MAPS 16

static int prog_index(const struct nettrace_bpf *skel, const struct bpf_program *prog)
{
	int i = 0;
	struct bpf_program *p;
	bpf_object__for_each_program(p, skel->obj)
	{
		if (p == prog)
			return i;
		i++;
	}
	return -1;
}

int nt_objs_prog_fd(const struct nt_objs *ob, const struct bpf_program *prog)
{
	int i = prog_index(ob->skel, prog);
	return i >= 0 && i < ob->n_progs ? ob->prog_fd[i] : -1;
}

/* A pin's name: p-<program> or m-<map>, the map's name without libbpf's object prefix. */
static void pin_name(char *out, size_t n, char kind, const char *name)
{
	const char *dot = strchr(name, '.');
	snprintf(out, n, "%c-%s", kind, dot ? dot + 1 : name);
}

/* "/proc/self/fd/<set>/<name>": the pin inside the folder checked and locked by fd, whatever its path. */
static void pin_path(const struct nt_objs *ob, char *out, size_t n, const char *name)
{
	snprintf(out, n, "/proc/self/fd/%d/%s", ob->set_fd, name);
}

/* Removes every entry of a set's folder (pins only: bpffs holds nothing else there); read again
 * until nothing is left, as entries removed while the folder is read may hide others. */
static void empty_folder(int dir_fd)
{
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	for (int pass = 0, removed = 1; d && removed && pass < 8; pass++) {
		removed = 0;
		rewinddir(d);
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && unlinkat(dir_fd, e->d_name, 0) == 0)
				removed++;
	}
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
}

/* Root's folder, writable by no one else (`shared_sticky`: or sticky, as a shared bpffs root is). */
static const char *unsafe_folder(int fd, int shared_sticky, int private_only)
{
	struct stat st;
	if (fstat(fd, &st) || !S_ISDIR(st.st_mode))
		return "not a folder";
	if (st.st_uid != 0)
		return "not owned by root";
	if (private_only && (st.st_mode & 077))
		return "open to group or others";
	/* Sticky, as /tmp: others may add entries but not rename or remove root's. */
	if ((st.st_mode & 022) && !(shared_sticky && (st.st_mode & S_ISVTX)))
		return "writable by group or others";
	return NULL;
}

/* bpffs at /sys/fs/bpf (mounted 0700 when nothing is there, as bpftool and systemd do), opened. */
static int open_bpffs(void)
{
	struct statfs sf;
	int fd = open(NT_BPFFS, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && fstatfs(fd, &sf) == 0 && sf.f_type == BPF_FS_MAGIC)
		return fd;
	if (fd >= 0)
		close(fd);
	if (mount("bpf", NT_BPFFS, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700"))
		return -1;
	fd = open(NT_BPFFS, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && (fstatfs(fd, &sf) || sf.f_type != BPF_FS_MAGIC)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Takes a free, safe slot folder for this build, user and settings; -1 when there is none. */
static int take_slot(struct nt_objs *ob, int dir_fd, const char *variant)
{
	for (int s = 0; s < NT_SLOTS; s++) {
		char name[128];
		snprintf(name, sizeof(name), "%s-%s-%d", NT_BPF_BUILD, variant, s);
		mkdirat(dir_fd, name, 0700);
		int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		const char *bad = unsafe_folder(fd, 0, 1);
		if (bad) {
			nt_warn("the pinned eBPF programs in " NT_BPFFS "/" NT_PIN_DIR "/%s are not used: the folder is %s; loading them for "
				"this run",
				name, bad);
			close(fd);
			continue;
		}
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			close(fd);
			continue;
		}
		int lock = fcntl(fd, F_DUPFD_CLOEXEC, NT_LOCK_FD_MIN);
		snprintf(ob->set_name, sizeof(ob->set_name), "%s", name);
		/* Its time of last use (sweep_other_builds). */
		futimens(fd, NULL);
		ob->set_fd = fd;
		ob->lock_fd = lock >= 0 ? lock : fd;
		return 0;
	}
	return -1;
}

/* Why a pinned map does not match the skeleton's, or NULL. */
static const char *map_mismatch(int fd, const struct bpf_map *m, const struct nettrace_bpf *skel, unsigned *id)
{
	struct bpf_map_info info;
	uint32_t len = sizeof(info);
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return "its information cannot be read";
	*id = info.id;
	if (info.type != bpf_map__type(m) || info.key_size != bpf_map__key_size(m) || info.value_size != bpf_map__value_size(m) ||
	    info.max_entries != bpf_map__max_entries(m) || (info.map_flags & ~BPF_F_MMAPABLE) != (bpf_map__map_flags(m) & ~BPF_F_MMAPABLE) ||
	    strncmp(info.name, bpf_map__name(m), BPF_OBJ_NAME_LEN - 1))
		return "its type, sizes, flags or name differ from this build's";
	if (m == skel->maps.rodata) {
		size_t size = 0;
		const void *want = bpf_map__initial_value((struct bpf_map *)m, &size);
		char have[256];
		uint32_t zero = 0;
		if (!want || size > sizeof(have) || size != info.value_size || bpf_map_lookup_elem(fd, &zero, have) ||
		    memcmp(have, want, size))
			return "its read-only data (build id, invoking user, settings) differ from this run's";
	}
	return NULL;
}

/* Why a pinned program does not match the skeleton's (or uses maps not of the set), or NULL. */
static const char *prog_mismatch(int fd, const struct bpf_program *p, const unsigned *map_ids, int n_maps, unsigned *id)
{
	struct bpf_prog_info info;
	uint32_t ids[NT_MAX_MAPS], len = sizeof(info);
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = NT_MAX_MAPS;
	info.map_ids = (uint64_t)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return "its information cannot be read";
	*id = info.id;
	if (info.type != bpf_program__type(p) || strncmp(info.name, bpf_program__name(p), BPF_OBJ_NAME_LEN - 1))
		return "its type or name differ from this build's";
	if (info.nr_map_ids > NT_MAX_MAPS)
		return "it uses maps that are not the set's";
	for (uint32_t i = 0; i < info.nr_map_ids; i++) {
		int found = 0;
		for (int k = 0; k < n_maps && !found; k++)
			found = map_ids[k] == ids[i];
		if (!found)
			return "it uses maps that are not the set's";
	}
	return NULL;
}

/* True when a link anywhere attaches one of the programs `ids` (another run, or someone else, uses them). */
static int attached_anywhere(const unsigned *ids, int n)
{
	uint32_t id = 0;
	while (bpf_link_get_next_id(id, &id) == 0) {
		int fd = bpf_link_get_fd_by_id(id);
		if (fd < 0)
			continue;
		struct bpf_link_info info;
		uint32_t len = sizeof(info);
		memset(&info, 0, sizeof(info));
		int got = bpf_obj_get_info_by_fd(fd, &info, &len) == 0;
		close(fd);
		for (int i = 0; got && i < n; i++)
			if (info.prog_id == ids[i])
				return 1;
	}
	return 0;
}

static int discard(void *ctx, void *data, size_t size) { return 0; }

/* Empties the set's maps: what one run traced is never seen by the next. `ring`: drops the ring
 * buffer's unread events too (a run reads its own to the end; one killed may have left some). */
static void empty_maps(struct nettrace_bpf *skel, int ring)
{
	struct bpf_map *m;
	bpf_object__for_each_map(m, skel->obj)
	{
		int fd = bpf_map__fd(m);
		if (fd < 0)
			continue;
		enum bpf_map_type t = bpf_map__type(m);
		if (t == BPF_MAP_TYPE_HASH || t == BPF_MAP_TYPE_LRU_HASH) {
			char key[64];
			if (bpf_map__key_size(m) > sizeof(key))
				continue;
			/* Bounded: a map never holds more than its max_entries. */
			for (uint32_t n = 0; n <= bpf_map__max_entries(m) && bpf_map_get_next_key(fd, NULL, key) == 0; n++)
				bpf_map_delete_elem(fd, key);
		} else if (t == BPF_MAP_TYPE_ARRAY || t == BPF_MAP_TYPE_PERCPU_ARRAY) {
			if (bpf_map__map_flags(m) & BPF_F_RDONLY_PROG)
				continue;
			size_t size = (size_t)((bpf_map__value_size(m) + 7) & ~7u);
			if (t == BPF_MAP_TYPE_PERCPU_ARRAY)
				size *= (size_t)libbpf_num_possible_cpus();
			void *zero = calloc(1, size);
			for (uint32_t k = 0; zero && k < bpf_map__max_entries(m); k++)
				bpf_map_update_elem(fd, &k, zero, BPF_ANY);
			free(zero);
		} else if (t == BPF_MAP_TYPE_RINGBUF && ring) {
			struct ring_buffer *rb = ring_buffer__new(fd, discard, NULL, NULL);
			if (rb) {
				ring_buffer__consume(rb);
				ring_buffer__free(rb);
			}
		}
	}
}

/*
 * Reuses the slot's pins when they are whole and pass the checks. 1: reused; 0: the folder is
 * empty now (nothing pinned, a partial set, or one refused: said in a warning), to be loaded
 * and pinned; -1: the programs are in use elsewhere (leave the slot alone).
 */
static int reuse(struct nt_objs *ob)
{
	const char *slot_name = ob->set_name;
	struct nettrace_bpf *skel = ob->skel;
	struct bpf_map *maps[NT_MAX_MAPS], *m;
	struct bpf_program *p;
	int map_fd[NT_MAX_MAPS], prog_fd[NT_MAX_PROGS], n_maps = 0, n_progs = 0, n_ids = 0, present = 0, missing = 0;
	unsigned map_ids[NT_MAX_MAPS], prog_ids[NT_MAX_PROGS];
	const char *bad = NULL, *why;
	char name[64], path[160];
	struct stat st;
	bpf_object__for_each_map(m, skel->obj)
	{
		if (n_maps == NT_MAX_MAPS)
			break;
		maps[n_maps] = m;
		map_ids[n_maps] = 0;
		pin_name(name, sizeof(name), 'm', bpf_map__name(m));
		pin_path(ob, path, sizeof(path), name);
		int fd = map_fd[n_maps++] = bpf_obj_get(path);
		if (fd < 0) {
			missing++;
			continue;
		}
		present++;
		if (fstatat(ob->set_fd, name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077))
			bad = bad ? bad : "a pin is not root's alone (its owner or mode)";
		why = map_mismatch(fd, m, skel, &map_ids[n_maps - 1]);
		bad = bad ? bad : why;
	}
	bpf_object__for_each_program(p, skel->obj)
	{
		if (n_progs == NT_MAX_PROGS)
			break;
		prog_fd[n_progs++] = -1;
		if (!bpf_program__autoload(p))
			continue;
		pin_name(name, sizeof(name), 'p', bpf_program__name(p));
		pin_path(ob, path, sizeof(path), name);
		int fd = prog_fd[n_progs - 1] = bpf_obj_get(path);
		if (fd < 0) {
			missing++;
			continue;
		}
		present++;
		if (fstatat(ob->set_fd, name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077))
			bad = bad ? bad : "a pin is not root's alone (its owner or mode)";
		why = prog_mismatch(fd, p, map_ids, n_maps, &prog_ids[n_ids]);
		n_ids++;
		bad = bad ? bad : why;
	}
	int busy = !bad && !missing && attached_anywhere(prog_ids, n_ids);
	for (int i = 0; !bad && !missing && !busy && i < n_maps; i++)
		if (bpf_map__reuse_fd(maps[i], map_fd[i]))
			bad = "a map could not be taken over";
	for (int i = 0; i < n_maps; i++)
		if (map_fd[i] >= 0)
			close(map_fd[i]);
	if (!bad && !missing && !busy) {
		memcpy(ob->prog_fd, prog_fd, sizeof(int) * n_progs);
		ob->n_progs = n_progs;
		ob->reused = 1;
		empty_maps(skel, 1);
		return 1;
	}
	for (int i = 0; i < n_progs; i++)
		if (prog_fd[i] >= 0)
			close(prog_fd[i]);
	if (busy) {
		nt_warn("the pinned eBPF programs in " NT_BPFFS "/" NT_PIN_DIR "/%s are attached elsewhere: loading them for this run",
			slot_name);
		return -1;
	}
	if (bad)
		nt_warn("the pinned eBPF programs in " NT_BPFFS "/" NT_PIN_DIR "/%s were not reused: %s; loading them again", slot_name,
			bad);
	if (present)
		empty_folder(ob->set_fd);
	return 0;
}

/* Pins the loaded programs and maps into the slot's (empty) folder; on failure removes them again. */
static int pin_all(struct nt_objs *ob)
{
	char name[64], path[160];
	struct bpf_map *m;
	struct bpf_program *p;
	bpf_object__for_each_map(m, ob->skel->obj)
	{
		pin_name(name, sizeof(name), 'm', bpf_map__name(m));
		pin_path(ob, path, sizeof(path), name);
		if (bpf_obj_pin(bpf_map__fd(m), path))
			goto fail;
	}
	bpf_object__for_each_program(p, ob->skel->obj)
	{
		if (bpf_program__fd(p) < 0)
			continue;
		pin_name(name, sizeof(name), 'p', bpf_program__name(p));
		pin_path(ob, path, sizeof(path), name);
		if (bpf_obj_pin(bpf_program__fd(p), path))
			goto fail;
	}
	return 0;
fail:
	empty_folder(ob->set_fd);
	return -1;
}

/* A set of another build unused this long is removed by the next run that pins a set. */
#define NT_IDLE_SECONDS 3600

/* Removes the sets of other builds (each checkout or install has its own) that no run holds and
 * none used for an hour: a build pins its own at its first run. */
static void sweep_other_builds(int dir_fd)
{
	time_t now = time(NULL);
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	size_t n = strlen(NT_BPF_BUILD);
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.' || (strncmp(e->d_name, NT_BPF_BUILD, n) == 0 && e->d_name[n] == '-'))
			continue;
		int set = openat(dir_fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (set < 0)
			continue;
		struct stat st;
		if (fstat(set, &st) == 0 && now - st.st_mtime >= NT_IDLE_SECONDS && flock(set, LOCK_EX | LOCK_NB) == 0) {
			empty_folder(set);
			unlinkat(dir_fd, e->d_name, AT_REMOVEDIR);
		}
		close(set);
	}
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
}

/* Fills prog_fd from a skeleton libbpf loaded. */
static void take_loaded(struct nt_objs *ob)
{
	struct bpf_program *p;
	ob->n_progs = 0;
	bpf_object__for_each_program(p, ob->skel->obj)
	{
		if (ob->n_progs < NT_MAX_PROGS)
			ob->prog_fd[ob->n_progs++] = bpf_program__fd(p);
	}
}

static void release_slot(struct nt_objs *ob)
{
	if (ob->set_fd >= 0)
		close(ob->set_fd);
	if (ob->lock_fd >= 0 && ob->lock_fd != ob->set_fd)
		close(ob->lock_fd);
	ob->set_fd = ob->lock_fd = -1;
}

int nt_objs_load(struct nt_objs *ob, struct nettrace_bpf *skel, const char *variant, char *why, size_t whylen)
{
	memset(ob, 0, sizeof(*ob));
	ob->skel = skel;
	ob->lock_fd = ob->set_fd = -1;
	for (int i = 0; i < NT_MAX_PROGS; i++)
		ob->prog_fd[i] = ob->link_fd[i] = -1;
	int dir_fd = -1, base = -1, fresh_slot = 0;
	/* Only root reuses: a set of a user's own would let that user change the maps (add another
	 * user's pid to `traced`) of a helper holding their capabilities. */
	if (geteuid() == 0 && (base = open_bpffs()) >= 0) {
		const char *bad = unsafe_folder(base, 1, 0);
		if (!bad) {
			mkdirat(base, NT_PIN_DIR, 0700);
			dir_fd = openat(base, NT_PIN_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			bad = dir_fd < 0 ? "missing" : unsafe_folder(dir_fd, 0, 0);
			if (bad)
				nt_warn("the eBPF programs are not pinned for later runs: " NT_BPFFS "/" NT_PIN_DIR " is %s", bad);
		} else {
			nt_warn("the eBPF programs are not pinned for later runs: " NT_BPFFS " is %s", bad);
		}
		if (bad && dir_fd >= 0) {
			close(dir_fd);
			dir_fd = -1;
		}
		close(base);
	}
	if (dir_fd >= 0 && take_slot(ob, dir_fd, variant) == 0) {
		int r = reuse(ob);
		if (r == 1) {
			close(dir_fd);
			return 0;
		}
		if (r < 0)
			release_slot(ob);
		else
			fresh_slot = 1;
	}
	int err = nettrace_bpf__load(skel);
	if (err) {
		snprintf(why, whylen, "loading the BPF programs failed: %s", strerror(-err));
		release_slot(ob);
		if (dir_fd >= 0)
			close(dir_fd);
		return err;
	}
	take_loaded(ob);
	if (fresh_slot) {
		if (pin_all(ob) == 0) {
			ob->pinned = 1;
			sweep_other_builds(dir_fd);
		} else {
			release_slot(ob);
		}
	}
	if (dir_fd >= 0)
		close(dir_fd);
	return 0;
}

int nt_objs_attach_tracepoints(struct nt_objs *ob)
{
	struct bpf_program *p;
	int i = 0;
	bpf_object__for_each_program(p, ob->skel->obj)
	{
		int fd = i < ob->n_progs ? ob->prog_fd[i] : -1;
		i++;
		if (fd < 0 || bpf_program__type(p) != BPF_PROG_TYPE_TRACING)
			continue;
		int link = bpf_raw_tracepoint_open(NULL, fd);
		if (link < 0)
			return -errno;
		ob->link_fd[ob->n_links++] = link;
	}
	return 0;
}

int nt_objs_attach_cgroup(struct nt_objs *ob, const struct bpf_program *prog, int cgroup_fd)
{
	int fd = nt_objs_prog_fd(ob, prog);
	if (fd < 0 || ob->n_links == NT_MAX_PROGS)
		return -EINVAL;
	int link = bpf_link_create(fd, cgroup_fd, bpf_program__expected_attach_type(prog), NULL);
	if (link < 0)
		return -errno;
	ob->link_fd[ob->n_links++] = link;
	return 0;
}

unsigned long long nt_objs_missed_runs(const struct nt_objs *ob)
{
	unsigned long long n = 0;
	for (int i = 0; i < ob->n_progs; i++) {
		if (ob->prog_fd[i] < 0)
			continue;
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(ob->prog_fd[i], &info, &len) == 0)
			n += info.recursion_misses;
	}
	return n;
}

void nt_objs_close(struct nt_objs *ob)
{
	for (int i = 0; i < ob->n_links; i++)
		close(ob->link_fd[i]);
	ob->n_links = 0;
	if (ob->reused || ob->pinned)
		empty_maps(ob->skel, 0);
	if (ob->reused)
		for (int i = 0; i < ob->n_progs; i++)
			if (ob->prog_fd[i] >= 0)
				close(ob->prog_fd[i]);
	ob->n_progs = 0;
	if (ob->skel)
		nettrace_bpf__destroy(ob->skel);
	ob->skel = NULL;
	/* Last: the set is free for another run only once nothing of this one is attached. */
	release_slot(ob);
}
