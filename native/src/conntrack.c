/*
 * conntrack through ctnetlink (libnetfilter_conntrack), in the traced process's network
 * namespace: a lookup of each traced connection's original tuple when it is established,
 * refreshed while it lives, once more at close, and a final reading from its DESTROY event.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack_tcp.h>
#include "helper.h"

#define BUCKETS 16384

/* A traced connection whose conntrack entry we follow, until its DESTROY event or until its
 * close finds no entry. Chained hash by original tuple. */
struct tracked {
	struct nt_tuple t;
	uint32_t pid;
	double last_ms;
	struct tracked *next;
};

struct nt_ct {
	struct nfct_handle *query;
	struct nfct_handle *events;
	int acct_fd;       /* nf_conntrack_acct of the target namespace, opened there */
	int count_fd;      /* nf_conntrack_count of the target namespace */
	char acct_old[8];
	struct tracked *buckets[BUCKETS];
	size_t n_tracked; /* entries in buckets: none, and a lookup need not hash nor touch them */
	/* Set by the query callback. */
	const struct tracked *cur;
	int cur_final;
	int found;
	int said_empty;
	int empty;
	double empty_checked_ms;
};

static uint32_t hash_tuple(const struct nt_tuple *t)
{
	uint32_t h = 2166136261u;
	const uint8_t *p = (const uint8_t *)t;
	for (size_t i = 0; i < sizeof(*t); i++)
		h = (h ^ p[i]) * 16777619u;
	return h % BUCKETS;
}

static struct tracked *find(struct nt_ct *c, const struct nt_tuple *t, int create)
{
	if (!c->n_tracked && !create)
		return NULL;
	uint32_t h = hash_tuple(t);
	for (struct tracked *e = c->buckets[h]; e; e = e->next)
		if (memcmp(&e->t, t, sizeof(*t)) == 0)
			return e;
	if (!create)
		return NULL;
	struct tracked *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->t = *t;
	e->next = c->buckets[h];
	c->buckets[h] = e;
	c->n_tracked++;
	return e;
}

static void forget(struct nt_ct *c, const struct tracked *tr)
{
	for (struct tracked **pp = &c->buckets[hash_tuple(&tr->t)]; *pp; pp = &(*pp)->next) {
		if (*pp == tr) {
			struct tracked *dead = *pp;
			*pp = dead->next;
			free(dead);
			c->n_tracked--;
			return;
		}
	}
}

static const char *tcp_state_name(uint8_t s)
{
	static const char *names[] = {"none", "syn-sent", "syn-recv", "established", "fin-wait",
				      "close-wait", "last-ack", "time-wait", "close", "syn-sent2"};
	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

static void status_str(uint32_t st, char *out, size_t len)
{
	static const struct { uint32_t bit; const char *name; } flags[] = {
		{IPS_EXPECTED, "expected"},   {IPS_SEEN_REPLY, "seen-reply"},     {IPS_ASSURED, "assured"},
		{IPS_CONFIRMED, "confirmed"}, {IPS_SRC_NAT, "src-nat"},           {IPS_DST_NAT, "dst-nat"},
		{IPS_SEQ_ADJUST, "seq-adjust"}, {IPS_SRC_NAT_DONE, "src-nat-done"}, {IPS_DST_NAT_DONE, "dst-nat-done"},
		{IPS_DYING, "dying"},         {IPS_FIXED_TIMEOUT, "fixed-timeout"}, {IPS_TEMPLATE, "template"},
		{IPS_UNTRACKED, "untracked"}, {1u << 13, "helper"},                {1u << 14, "offload"},
	};
	out[0] = 0;
	size_t n = 0;
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (!(st & flags[i].bit))
			continue;
		int w = snprintf(out + n, len - n, "%s%s", n ? "|" : "", flags[i].name);
		if (w < 0 || (size_t)w >= len - n)
			break;
		n += (size_t)w;
	}
}

static void ct_tuple(const struct nf_conntrack *ct, int reply, struct nt_tuple *t)
{
	memset(t, 0, sizeof(*t));
	t->family = nfct_get_attr_u8(ct, ATTR_L3PROTO);
	if (t->family == AF_INET) {
		uint32_t s = nfct_get_attr_u32(ct, reply ? ATTR_REPL_IPV4_SRC : ATTR_ORIG_IPV4_SRC);
		uint32_t d = nfct_get_attr_u32(ct, reply ? ATTR_REPL_IPV4_DST : ATTR_ORIG_IPV4_DST);
		memcpy(t->saddr, &s, 4);
		memcpy(t->daddr, &d, 4);
	} else {
		const void *s = nfct_get_attr(ct, reply ? ATTR_REPL_IPV6_SRC : ATTR_ORIG_IPV6_SRC);
		const void *d = nfct_get_attr(ct, reply ? ATTR_REPL_IPV6_DST : ATTR_ORIG_IPV6_DST);
		if (s)
			memcpy(t->saddr, s, 16);
		if (d)
			memcpy(t->daddr, d, 16);
	}
	t->sport = ntohs(nfct_get_attr_u16(ct, reply ? ATTR_REPL_PORT_SRC : ATTR_ORIG_PORT_SRC));
	t->dport = ntohs(nfct_get_attr_u16(ct, reply ? ATTR_REPL_PORT_DST : ATTR_ORIG_PORT_DST));
}

static void emit_ct(const struct nf_conntrack *ct, const struct tracked *tr, int final, const char *via)
{
	struct nt_tuple orig, repl;
	char status[256];
	struct nt_json j;
	ct_tuple(ct, 0, &orig);
	ct_tuple(ct, 1, &repl);
	status_str(nfct_get_attr_u32(ct, ATTR_STATUS), status, sizeof(status));
	nt_json_begin(&j, "conntrack");
	nt_json_u64(&j, "pid", tr->pid);
	nt_json_tuple(&j, "addrTuple", &tr->t);
	nt_json_bool(&j, "final", final);
	nt_json_str(&j, "via", via);
	nt_json_obj_begin(&j, "conntrack");
	nt_json_num(&j, "capturedAt", nt_now_ms());
	nt_json_str(&j, "status", status);
	if (nfct_attr_is_set(ct, ATTR_TCP_STATE))
		nt_json_str(&j, "tcpState", tcp_state_name(nfct_get_attr_u8(ct, ATTR_TCP_STATE)));
	nt_json_u64(&j, "mark", nfct_get_attr_u32(ct, ATTR_MARK));
	nt_json_tuple(&j, "addrOrig", &orig);
	nt_json_tuple(&j, "addrReply", &repl);
	if (nfct_attr_is_set(ct, ATTR_ORIG_COUNTER_PACKETS)) {
		nt_json_u64(&j, "packetsSent", nfct_get_attr_u64(ct, ATTR_ORIG_COUNTER_PACKETS));
		nt_json_u64(&j, "packetsRecv", nfct_get_attr_u64(ct, ATTR_REPL_COUNTER_PACKETS));
		nt_json_u64(&j, "bytesSent", nfct_get_attr_u64(ct, ATTR_ORIG_COUNTER_BYTES));
		nt_json_u64(&j, "bytesRecv", nfct_get_attr_u64(ct, ATTR_REPL_COUNTER_BYTES));
	}
	if (nfct_attr_is_set(ct, ATTR_TIMEOUT))
		nt_json_u64(&j, "timeoutSec", nfct_get_attr_u32(ct, ATTR_TIMEOUT));
	nt_json_obj_end(&j);
	nt_json_end(&j);
}

static int query_cb(enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *data)
{
	struct nt_ct *c = data;
	c->found = 1;
	emit_ct(ct, c->cur, c->cur_final, "lookup");
	return NFCT_CB_CONTINUE;
}

static int event_cb(enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *data)
{
	struct nt_ct *c = data;
	if (type != NFCT_T_DESTROY || nfct_get_attr_u8(ct, ATTR_L4PROTO) != IPPROTO_TCP)
		return NFCT_CB_CONTINUE;
	struct nt_tuple orig;
	ct_tuple(ct, 0, &orig);
	struct tracked *tr = find(c, &orig, 0);
	if (tr) {
		emit_ct(ct, tr, 1, "destroy");
		forget(c, tr);
	}
	return NFCT_CB_CONTINUE;
}

/* Enters the target's network namespace through its pidfd (setns on a pidfd, Linux 5.8): never
 * by a /proc path, whose pid could by then name another process. */
static int enter_netns(int pidfd, int *saved)
{
	*saved = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	return setns(pidfd, CLONE_NEWNET);
}

struct nt_ct *nt_ct_open(pid_t pid, int pidfd, char *why, size_t whylen)
{
	int saved = -1;
	if (enter_netns(pidfd, &saved)) {
		snprintf(why, whylen, "cannot enter the network namespace of pid %d: %s", (int)pid, strerror(errno));
		if (saved >= 0)
			close(saved);
		return NULL;
	}
	struct nt_ct *c = calloc(1, sizeof(*c));
	c->acct_fd = -1;
	c->count_fd = -1;
	/* Sockets and the sysctl file belong to the namespace they were opened in. */
	c->query = nfct_open(CONNTRACK, 0);
	c->events = nfct_open(CONNTRACK, NF_NETLINK_CONNTRACK_DESTROY);
	c->count_fd = open("/proc/sys/net/netfilter/nf_conntrack_count", O_RDONLY | O_CLOEXEC);
	int fd = open("/proc/sys/net/netfilter/nf_conntrack_acct", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, c->acct_old, sizeof(c->acct_old) - 1);
		if (n > 0 && c->acct_old[0] != '1') {
			c->acct_old[n] = 0;
			lseek(fd, 0, SEEK_SET);
			if (write(fd, "1\n", 2) == 2)
				c->acct_fd = fd;
			else
				close(fd);
		} else {
			close(fd);
		}
	}
	int err = errno;
	if (saved >= 0) {
		setns(saved, CLONE_NEWNET);
		close(saved);
	}
	if (!c->query || !c->events) {
		snprintf(why, whylen, "cannot open ctnetlink (is nf_conntrack loaded?): %s", strerror(err));
		nt_ct_close(c);
		return NULL;
	}
	if (c->acct_fd < 0 && c->acct_old[0] != '1')
		nt_warn("could not turn on net.netfilter.nf_conntrack_acct: conntrack counters stay at zero");
	/* Bursts of short connections make many DESTROY events: a large buffer avoids ENOBUFS. */
	nfnl_rcvbufsiz(nfct_nfnlh(c->events), 8 << 20);
	fcntl(nfct_fd(c->events), F_SETFL, O_NONBLOCK);
	nfct_callback_register(c->query, NFCT_T_ALL, query_cb, c);
	nfct_callback_register(c->events, NFCT_T_DESTROY, event_cb, c);
	return c;
}

/* True when the namespace tracks no connection at all (no NAT or stateful rule registered the
 * conntrack hooks there): a netlink round trip per connection would find nothing. */
static int table_empty(struct nt_ct *c)
{
	char buf[32];
	if (c->count_fd < 0)
		return 0;
	/* Read at most every 100 ms: at thousands of connections a second this is per connection. */
	double now = nt_now_ms();
	if (now - c->empty_checked_ms < 100)
		return c->empty;
	c->empty_checked_ms = now;
	c->empty = 0;
	ssize_t n = pread(c->count_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	c->empty = atol(buf) == 0;
	return c->empty;
}

static void lookup(struct nt_ct *c, struct tracked *tr, int final)
{
	c->found = 0;
	if (table_empty(c)) {
		/* Said once, not per connection: nothing to look up in this namespace. */
		if (!c->said_empty) {
			c->said_empty = 1;
			nt_warn("conntrack is not active in the debuggee's network namespace (no NAT or stateful firewall rule there): no conntrack entries to report");
		}
		tr->last_ms = nt_now_ms();
		return;
	}
	struct nf_conntrack *ct = nfct_new();
	nfct_set_attr_u8(ct, ATTR_L3PROTO, (uint8_t)tr->t.family);
	if (tr->t.family == AF_INET) {
		uint32_t s, d;
		memcpy(&s, tr->t.saddr, 4);
		memcpy(&d, tr->t.daddr, 4);
		nfct_set_attr_u32(ct, ATTR_IPV4_SRC, s);
		nfct_set_attr_u32(ct, ATTR_IPV4_DST, d);
	} else {
		nfct_set_attr(ct, ATTR_IPV6_SRC, tr->t.saddr);
		nfct_set_attr(ct, ATTR_IPV6_DST, tr->t.daddr);
	}
	nfct_set_attr_u8(ct, ATTR_L4PROTO, IPPROTO_TCP);
	nfct_set_attr_u16(ct, ATTR_PORT_SRC, htons(tr->t.sport));
	nfct_set_attr_u16(ct, ATTR_PORT_DST, htons(tr->t.dport));
	c->cur = tr;
	c->cur_final = final;
	nfct_query(c->query, NFCT_Q_GET, ct);
	nfct_destroy(ct);
	tr->last_ms = nt_now_ms();
	if (!c->found && !final) {
		struct nt_json j;
		nt_json_begin(&j, "conntrack");
		nt_json_u64(&j, "pid", tr->pid);
		nt_json_tuple(&j, "addrTuple", &tr->t);
		nt_json_bool(&j, "final", 0);
		nt_json_str(&j, "via", "lookup");
		nt_json_str(&j, "missing",
			    "no conntrack entry: conntrack is not active in the debuggee's network namespace (no NAT or stateful firewall rule there)");
		nt_json_end(&j);
	}
}

/* IPv4-mapped IPv6 sockets are tracked by conntrack as IPv4. */
static void normalize(struct nt_tuple *t)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (t->family == AF_INET6 && memcmp(t->saddr, mapped, 12) == 0 && memcmp(t->daddr, mapped, 12) == 0) {
		t->family = AF_INET;
		memmove(t->saddr, t->saddr + 12, 4);
		memmove(t->daddr, t->daddr + 12, 4);
		memset(t->saddr + 4, 0, 12);
		memset(t->daddr + 4, 0, 12);
	}
}

void nt_ct_track(struct nt_ct *c, const struct nt_tuple *t0, uint32_t pid)
{
	struct nt_tuple t = *t0;
	struct tracked probe = {0};
	probe.pid = pid;
	normalize(&t);
	probe.t = t;
	if (table_empty(c)) {
		lookup(c, &probe, 0); /* says once that conntrack is inactive; follows nothing */
		return;
	}
	struct tracked *tr = find(c, &t, 1);
	if (!tr)
		return;
	tr->pid = pid;
	lookup(c, tr, 0);
}

void nt_ct_refresh(struct nt_ct *c, const struct nt_tuple *t0, int final, double min_ms)
{
	struct nt_tuple t = *t0;
	normalize(&t);
	struct tracked *tr = find(c, &t, 0);
	if (!tr || (!final && nt_now_ms() - tr->last_ms < min_ms))
		return;
	lookup(c, tr, final);
	/* Closed and already gone from the table: no DESTROY event will follow. */
	if (final && !c->found)
		forget(c, tr);
}

int nt_ct_event_fd(struct nt_ct *c) { return nfct_fd(c->events); }

void nt_ct_handle_events(struct nt_ct *c)
{
	/* With O_NONBLOCK, nfct_catch returns once the socket is drained (EAGAIN). */
	if (nfct_catch(c->events) < 0 && errno == ENOBUFS)
		nt_warn("conntrack DESTROY events were lost (socket buffer overrun)");
}

void nt_ct_close(struct nt_ct *c)
{
	if (!c)
		return;
	if (c->acct_fd >= 0) {
		lseek(c->acct_fd, 0, SEEK_SET);
		if (write(c->acct_fd, c->acct_old, strlen(c->acct_old)) < 0)
			nt_warn("could not restore net.netfilter.nf_conntrack_acct");
		close(c->acct_fd);
	}
	if (c->count_fd >= 0)
		close(c->count_fd);
	if (c->query)
		nfct_close(c->query);
	if (c->events)
		nfct_close(c->events);
	for (int i = 0; i < BUCKETS; i++)
		while (c->buckets[i]) {
			struct tracked *n = c->buckets[i]->next;
			free(c->buckets[i]);
			c->buckets[i] = n;
		}
	free(c);
}
