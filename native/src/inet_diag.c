/*
 * The no-root path: tcp_info of the traced process tree's own TCP sockets through inet_diag
 * (NETLINK_SOCK_DIAG), which needs no privileges (`ss -tni` works as nobody). Sockets are found
 * by inode from /proc/<pid>/fd of each process in the tree (readable for one's own processes),
 * then followed by tuple after the process closes them (orphaned sockets keep their tuple).
 * Metrics are emitted at milestones: first sight, state changes, and close (final).
 *
 * Cost (issue 52): a dump walks the kernel's whole TCP hash table (262,144 buckets on a 24 GiB
 * machine: ≈ 4 ms per family, 10% of a core at one poll per 100 ms), whatever few sockets it
 * finds. So a poll dumps only when the tree holds a socket not classified yet (a new inode), or
 * every DUMP_EVERY polls; otherwise it asks for each known connection by its tuple (an exact
 * lookup, no walk), and a tree without TCP sockets costs no netlink request at all. One dump
 * covers both families (the compat request, AF_UNSPEC) where the kernel has it. The tree comes
 * from /proc/<pid>/task/<tid>/children, not a scan of every process.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "helper.h"

#define MAX_PIDS 1024
#define MAX_INODES 16384
#define MAX_CONNS 16384

struct dconn {
	struct nt_tuple t;
	struct inet_diag_sockid id; /* as the kernel reported it: an exact lookup's key */
	unsigned long ino;          /* its socket inode while a process holds it */
	uint32_t pid;
	uint8_t state;
	int seen;       /* seen in the current dump */
	int used;
	double first_ms;
	struct tcp_info info;
};

/* A full dump at least this often (polls) while an unclassified socket may have connected since. */
#define DUMP_EVERY 10

static struct dconn conns[MAX_CONNS];
static int conn_top; /* one past the highest slot ever used: the loops' bound */
static uint32_t pids[MAX_PIDS];
static int npids;
static struct { unsigned long ino; uint32_t pid; } inodes[MAX_INODES];
static int ninodes;
/* Socket inodes of the tree that the last dump did not find (unix, UDP, listening, not yet
 * connected TCP), sorted: a poll that sees only these and known connections needs no dump. */
static unsigned long other_ino[MAX_INODES];
static int nother;
static int compat_ok = 1; /* the single-walk compat dump works here */
static uint64_t polls, walks; /* for the exit message */

static int in_tree(uint32_t p)
{
	for (int i = 0; i < npids; i++)
		if (pids[i] == p)
			return 1;
	return 0;
}

/* The target and its descendants, from the ppid field of /proc/<pid>/stat of every process. */
static void collect_tree_scan(pid_t root)
{
	npids = 0;
	pids[npids++] = (uint32_t)root;
	int added = 1;
	static struct { uint32_t pid, ppid; } all[8192];
	int nall = 0;
	DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d)) && nall < 8192) {
		char *end;
		long p = strtol(de->d_name, &end, 10);
		if (*end || p <= 0)
			continue;
		char path[64], buf[512];
		snprintf(path, sizeof(path), "/proc/%ld/stat", p);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = 0;
		char *rp = strrchr(buf, ')');
		unsigned ppid;
		char st;
		if (rp && sscanf(rp + 2, "%c %u", &st, &ppid) == 2) {
			all[nall].pid = (uint32_t)p;
			all[nall++].ppid = ppid;
		}
	}
	if (d)
		closedir(d);
	while (added) {
		added = 0;
		for (int i = 0; i < nall && npids < MAX_PIDS; i++)
			if (in_tree(all[i].ppid) && !in_tree(all[i].pid)) {
				pids[npids++] = all[i].pid;
				added = 1;
			}
	}
}

/* Adds the children of every thread of `p` (/proc/<p>/task/<tid>/children). */
static void add_children(uint32_t p)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%u/task", p);
	DIR *d = opendir(path);
	if (!d)
		return; /* gone: no children to add */
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		char cp[320], buf[4096];
		snprintf(cp, sizeof(cp), "/proc/%u/task/%s/children", p, de->d_name);
		int fd = open(cp, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		for (char *q = buf; *q;) {
			char *end;
			unsigned long c = strtoul(q, &end, 10);
			if (end == q)
				break;
			if (c && !in_tree((uint32_t)c) && npids < MAX_PIDS)
				pids[npids++] = (uint32_t)c;
			q = end;
		}
	}
	closedir(d);
}

/* The target and its descendants: from the threads' children files where the kernel has them
 * (CONFIG_PROC_CHILDREN; this thread's own tells), else from a scan of every process. */
static void collect_tree(pid_t root)
{
	static int has_children = -1;
	if (has_children < 0) {
		char self[96];
		snprintf(self, sizeof(self), "/proc/self/task/%d/children", (int)syscall(SYS_gettid));
		has_children = access(self, R_OK) == 0;
	}
	if (!has_children) {
		collect_tree_scan(root);
		return;
	}
	npids = 0;
	pids[npids++] = (uint32_t)root;
	for (int i = 0; i < npids; i++) /* npids grows as children are added */
		add_children(pids[i]);
}

static void collect_inodes(void)
{
	ninodes = 0;
	for (int i = 0; i < npids; i++) {
		char path[64], link[64];
		snprintf(path, sizeof(path), "/proc/%u/fd", pids[i]);
		DIR *d = opendir(path);
		struct dirent *de;
		while (d && (de = readdir(d)) && ninodes < MAX_INODES) {
			char fp[320];
			snprintf(fp, sizeof(fp), "%s/%s", path, de->d_name);
			ssize_t n = readlink(fp, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = 0;
			unsigned long ino;
			if (sscanf(link, "socket:[%lu]", &ino) == 1) {
				inodes[ninodes].ino = ino;
				inodes[ninodes++].pid = pids[i];
			}
		}
		if (d)
			closedir(d);
	}
}

static uint32_t owner_of(unsigned long ino)
{
	for (int i = 0; i < ninodes; i++)
		if (inodes[i].ino == ino)
			return inodes[i].pid;
	return 0;
}

static struct dconn *find_conn(const struct nt_tuple *t, int create)
{
	struct dconn *free_slot = NULL;
	for (int i = 0; i < conn_top; i++) {
		if (conns[i].used && memcmp(&conns[i].t, t, sizeof(*t)) == 0)
			return &conns[i];
		if (!conns[i].used && !free_slot)
			free_slot = &conns[i];
	}
	if (!create)
		return NULL;
	if (!free_slot) {
		if (conn_top >= MAX_CONNS)
			return NULL;
		free_slot = &conns[conn_top++];
	}
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->used = 1;
	free_slot->t = *t;
	free_slot->first_ms = nt_now_ms();
	return free_slot;
}

static int cmp_ino(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
	return x < y ? -1 : x > y;
}

static const char *state_name(uint8_t s)
{
	static const char *n[] = {"", "established", "syn-sent", "syn-recv", "fin-wait1", "fin-wait2", "time-wait",
				  "close", "close-wait", "last-ack", "listen", "closing"};
	return s < sizeof(n) / sizeof(n[0]) ? n[s] : "unknown";
}

static void emit(const struct dconn *c, int final)
{
	struct nt_json j;
	const struct tcp_info *i = &c->info;
	nt_json_begin(&j, "tcpMetrics");
	nt_json_u64(&j, "pid", c->pid);
	nt_json_tuple(&j, "addrTuple", &c->t);
	nt_json_bool(&j, "final", final);
	nt_json_num(&j, "at", nt_now_ms());
	nt_json_str(&j, "tcpState", state_name(c->state));
	nt_json_obj_begin(&j, "tcpMetrics");
	nt_json_str(&j, "source", "inet_diag");
	nt_json_u64(&j, "rttUs", i->tcpi_rtt);
	nt_json_u64(&j, "rttVarUs", i->tcpi_rttvar);
	nt_json_u64(&j, "retransmits", i->tcpi_total_retrans);
	nt_json_u64(&j, "sndCwnd", i->tcpi_snd_cwnd);
	nt_json_u64(&j, "segsOut", i->tcpi_segs_out);
	nt_json_u64(&j, "segsIn", i->tcpi_segs_in);
	nt_json_u64(&j, "bytesAcked", i->tcpi_bytes_acked);
	nt_json_u64(&j, "bytesReceived", i->tcpi_bytes_received);
	nt_json_u64(&j, "bytesSent", i->tcpi_bytes_sent);
	nt_json_u64(&j, "bytesRetrans", i->tcpi_bytes_retrans);
	nt_json_u64(&j, "lost", i->tcpi_lost);
	nt_json_num(&j, "lifespanUs", (nt_now_ms() - c->first_ms) * 1e3);
	nt_json_obj_end(&j);
	nt_json_end(&j);
}

/* One inet_diag_msg of a reply: the connection it belongs to, if ours, gets its reading. */
static void apply_msg(const struct nlmsghdr *h)
{
	const struct inet_diag_msg *m = NLMSG_DATA(h);
	int alen = m->idiag_family == AF_INET ? 4 : 16;
	struct nt_tuple t = {0};
	t.family = m->idiag_family;
	memcpy(t.saddr, m->id.idiag_src, alen);
	memcpy(t.daddr, m->id.idiag_dst, alen);
	t.sport = ntohs(m->id.idiag_sport);
	t.dport = ntohs(m->id.idiag_dport);
	uint32_t pid = m->idiag_inode ? owner_of(m->idiag_inode) : 0;
	struct dconn *c = find_conn(&t, pid != 0);
	if (!c)
		return; /* not ours, or an orphan we never saw owned */
	if (pid)
		c->pid = pid;
	c->id = m->id;
	c->ino = m->idiag_inode;
	c->seen = 1;
	uint8_t old = c->state;
	int fresh = c->state == 0 && c->info.tcpi_segs_out == 0;
	c->state = m->idiag_state;
	int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
	for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == INET_DIAG_INFO) {
			size_t l = RTA_PAYLOAD(a);
			memset(&c->info, 0, sizeof(c->info));
			memcpy(&c->info, RTA_DATA(a), l < sizeof(c->info) ? l : sizeof(c->info));
		}
	}
	if ((fresh || old != c->state) && c->state != 6 && c->state != 7)
		emit(c, 0);
}

/* Reads replies until the dump's end (or, `one`, the single reply of an exact lookup). 0, or -1
 * on an error (ENOENT for a lookup: the socket is gone). */
static int read_replies(int fd, int one)
{
	static char buf[1 << 16];
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			return -1;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR)
				return -1;
			apply_msg(h);
		}
		if (one)
			return 0;
	}
}

static const uint32_t ALL_BUT_LISTEN = ~(1u << 10);

/* Sends one NETLINK_SOCK_DIAG request of `type` carrying `body`; `dump`: every match, not one. */
static int send_req(int fd, uint16_t type, int dump, const void *body, size_t len)
{
	_Alignas(struct nlmsghdr) char buf[NLMSG_HDRLEN + 128] = {0};
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	h->nlmsg_len = NLMSG_LENGTH(len);
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : 0);
	memcpy(NLMSG_DATA(h), body, len);
	return send(fd, buf, h->nlmsg_len, 0) < 0 ? -1 : 0;
}

/* A v2 request for TCP sockets of `family` with their tcp_info; `id` names one (no dump) or none. */
static int send_v2(int fd, uint8_t family, const struct inet_diag_sockid *id)
{
	struct inet_diag_req_v2 r = {.sdiag_family = family, .sdiag_protocol = IPPROTO_TCP, .idiag_states = ALL_BUT_LISTEN};
	r.idiag_ext = 1 << (INET_DIAG_INFO - 1);
	if (id)
		r.id = *id;
	return send_req(fd, SOCK_DIAG_BY_FAMILY, !id, &r, sizeof(r));
}

/* Every TCP socket of `family` (AF_UNSPEC: both, through the compat request: one walk of the
 * hash table instead of two). */
static int dump(int fd, int family)
{
	if (family != AF_UNSPEC)
		return send_v2(fd, (uint8_t)family, NULL) < 0 ? -1 : read_replies(fd, 0);
	struct inet_diag_req r = {.idiag_states = ALL_BUT_LISTEN, .idiag_ext = 1 << (INET_DIAG_INFO - 1)};
	return send_req(fd, TCPDIAG_GETSOCK, 1, &r, sizeof(r)) < 0 ? -1 : read_replies(fd, 0);
}

/* One known connection looked up by its socket id (tuple and cookie): no walk of the table. */
static void lookup(int fd, struct dconn *c)
{
	if (send_v2(fd, c->t.family, &c->id) == 0)
		read_replies(fd, 1); /* ENOENT: gone, c->seen stays 0 */
}

/* Polls since the last dump. */
static int since_dump;
/* Past this many connections a dump costs less than a lookup each. */
#define LOOKUP_MAX 256

/* The socket inodes of the connections followed now, sorted (known_inodes()). */
static unsigned long conn_ino[MAX_CONNS];
static int nconn_ino;

static void known_inodes(void)
{
	nconn_ino = 0;
	for (int i = 0; i < conn_top; i++)
		if (conns[i].used && conns[i].ino)
			conn_ino[nconn_ino++] = conns[i].ino;
	qsort(conn_ino, (size_t)nconn_ino, sizeof(conn_ino[0]), cmp_ino);
}

/* Whether `ino` is in the sorted array `set` of `n` inodes. */
static int has_ino(const unsigned long *set, int n, unsigned long ino)
{
	return bsearch(&ino, set, (size_t)n, sizeof(set[0]), cmp_ino) != NULL;
}

static void poll_once(pid_t root, int fd4, int fd6)
{
	polls++;
	collect_tree(root);
	collect_inodes();
	int live = 0;
	for (int i = 0; i < conn_top; i++) {
		conns[i].seen = 0;
		live += conns[i].used;
	}
	/* A dump when a socket of the tree is new to us (it may be TCP), now and then in case one
	 * classified as not TCP has connected since, and when lookups would cost more. */
	int need = live > LOOKUP_MAX, others = 0;
	known_inodes();
	for (int i = 0; i < ninodes && !need; i++) {
		if (has_ino(other_ino, nother, inodes[i].ino))
			others = 1;
		else if (!has_ino(conn_ino, nconn_ino, inodes[i].ino))
			need = 1;
	}
	if (++since_dump >= DUMP_EVERY && others)
		need = 1;
	if (need) {
		walks++;
		if (!compat_ok || dump(fd4, AF_UNSPEC) < 0) {
			compat_ok = 0;
			walks++;
			dump(fd4, AF_INET);
			dump(fd6, AF_INET6);
		}
		since_dump = 0;
		/* What the dump did not find is not an open TCP connection (yet). */
		known_inodes();
		nother = 0;
		for (int i = 0; i < ninodes; i++)
			if (!has_ino(conn_ino, nconn_ino, inodes[i].ino))
				other_ino[nother++] = inodes[i].ino;
		qsort(other_ino, (size_t)nother, sizeof(other_ino[0]), cmp_ino);
	} else {
		for (int i = 0; i < conn_top; i++)
			if (conns[i].used)
				lookup(conns[i].t.family == AF_INET ? fd4 : fd6, &conns[i]);
	}
	for (int i = 0; i < conn_top; i++) {
		struct dconn *c = &conns[i];
		if (!c->used)
			continue;
		/* Gone, or in TIME_WAIT/CLOSE (a timewait socket has no tcp_info): the last reading
		 * is the final one. */
		if (!c->seen || c->state == 6 || c->state == 7) {
			emit(c, 1);
			c->used = 0;
		}
	}
}

/* Whether a traced socket has not had its last reading yet. */
static int any_open(void)
{
	for (int i = 0; i < conn_top; i++)
		if (conns[i].used)
			return 1;
	return 0;
}

int nt_inet_diag_run(pid_t pid, int pidfd, int poll_ms, int stdin_fd)
{
	int fd4 = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	int fd6 = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	struct nt_json j;
	nt_json_begin(&j, "ready");
	nt_json_str(&j, "mode", "inet_diag");
	nt_json_str(&j, "authority", nt_authority ? nt_authority : "unprivileged");
	nt_json_obj_begin(&j, "features");
	nt_json_str(&j, "tcpMetrics", "inet_diag");
	nt_json_bool(&j, "conntrack", 0);
	nt_json_bool(&j, "captureFilter", 0);
	nt_json_obj_end(&j);
	nt_json_obj_begin(&j, "unavailable");
	const char *how = "set it up with \"Net Trace: Set Up Kernel Helper\" from the Command Palette (CLI: `nettrace helper setup`), "
			  "or run it as root or through `sudo -n`";
	char why[512];
	if (nt_bpf_unavailable)
		snprintf(why, sizeof(why), "eBPF TCP metrics are off: %s; tcp_info comes from inet_diag instead, sampled every %d ms", nt_bpf_unavailable, poll_ms);
	else
		snprintf(why, sizeof(why), "eBPF TCP metrics need CAP_BPF and CAP_PERFMON: %s; tcp_info comes from inet_diag instead, sampled every %d ms", how, poll_ms);
	nt_json_str(&j, "bpf", why);
	snprintf(why, sizeof(why), "conntrack (ctnetlink) needs CAP_NET_ADMIN: %s", how);
	nt_json_str(&j, "conntrack", why);
	snprintf(why, sizeof(why), "packet capture needs root (CAP_NET_RAW and CAP_BPF): %s", how);
	nt_json_str(&j, "capture", why);
	nt_json_obj_end(&j);
	nt_json_end(&j);
	if (fd4 < 0 || fd6 < 0) {
		nt_warn("cannot open NETLINK_SOCK_DIAG: %s", strerror(errno));
		return 1;
	}
	struct pollfd fds[2] = {{.fd = stdin_fd, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
	const char *reason = "signal";
	char line[256];
	size_t ll = 0;
	for (;;) {
		int n = poll(fds, 2, poll_ms);
		if (n < 0 && errno != EINTR)
			break;
		if (fds[0].revents & (POLLIN | POLLHUP)) {
			char buf[256];
			ssize_t r = read(stdin_fd, buf, sizeof(buf));
			if (r <= 0) {
				reason = "parent closed stdin";
				break;
			}
			int stop = 0;
			for (ssize_t i = 0; i < r; i++) {
				if (buf[i] == '\n') {
					line[ll] = 0;
					if (strstr(line, "stop"))
						stop = 1;
					ll = 0; /* "snapshot" and anything else: the poll below runs now */
				} else if (ll < sizeof(line) - 1) {
					line[ll++] = buf[i];
				}
			}
			if (stop) {
				reason = "stop requested";
				break;
			}
		}
		if (fds[1].revents & POLLIN) {
			/* The target ended: its sockets' last readings, looking again every 10 ms for up
			 * to 200 ms while a traced socket is still open (a child that outlived it), and
			 * not at all once every one was read for the last time: a fixed wait here would
			 * be added to the end of every traced run (issue 52). */
			for (int waited = 0;; waited += 10) {
				poll_once(pid, fd4, fd6);
				if (!any_open() || waited >= 200)
					break;
				usleep(10000);
			}
			reason = "target exited";
			break;
		}
		poll_once(pid, fd4, fd6);
	}
	for (int i = 0; i < conn_top; i++)
		if (conns[i].used)
			emit(&conns[i], 1);
	nt_json_begin(&j, "exit");
	nt_json_str(&j, "reason", reason);
	nt_json_u64(&j, "polls", polls);
	nt_json_u64(&j, "dumps", walks);
	nt_json_end(&j);
	return 0;
}
