// SPDX-License-Identifier: GPL-2.0
/*
 * Net Trace: per-connection TCP metrics of one process tree, from tracepoints only.
 *
 * This kernel has no kprobes (CONFIG_KPROBES off), so everything hangs off BTF tracepoints
 * (tp_btf: attach by name, no tracefs needed). A connection is traced when a task of a traced
 * tgid moves a socket to SYN_SENT (connect() runs in the task's context); every later event is
 * matched by socket address, because state changes after that run in softirq context where
 * `current` is unrelated.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "nettrace.h"

#ifndef ETH_P_IP
#define ETH_P_IP 0x0800
#endif
#ifndef ETH_P_IPV6
#define ETH_P_IPV6 0x86DD
#endif
#ifndef IPPROTO_ICMPV6
#define IPPROTO_ICMPV6 58
#endif

#define AF_INET 2
#define AF_INET6 10
#define NT_TCP_ESTABLISHED 1
#define NT_TCP_SYN_SENT 2
#define NT_TCP_CLOSE 7
#define NT_TCP_TIME_WAIT 6
#define NT_TCP_NEW_SYN_RECV 12
#define NT_SOCK_STREAM 1
#define NT_SOCK_DGRAM 2
#define NT_PACKET_OUTGOING 4
#define NT_LOOPBACK_IFINDEX 1

char LICENSE[] SEC("license") = "GPL";

/* Minimum spacing of NT_EV_UPDATE events per connection (set before load). */
const volatile __u64 update_interval_ns = 250000000ULL;
/* The invoking user (set before load). With check_owner, a traced process whose real,
 * effective, saved or filesystem uid is no longer owner_uid (a setuid exec, a setuid() call)
 * leaves the traced set at its next exec, fork, connect or UDP send. */
const volatile __u32 owner_uid = 0;
const volatile __u8 check_owner = 0;
/* The build that loaded these programs (set before load, read by no program): a run checks it
 * before it reuses a pinned set (native/src/pins.c). */
const volatile __u64 build_id = 0;

/*
 * A traced connection. Laid out by 64-byte line (the value starts a line: a bpf_mem_alloc'ed hash
 * element of this size), in the order the paths touch them: tcp_probe, which runs for every
 * incoming segment, needs only the first line; a line it would also touch is a cache miss more,
 * as the connection's segments are handled on whichever CPU.
 */
struct conn {
	/* Line 0: every incoming segment (on_tcp_probe, segment_in). */
	__u64 est_ns;
	__u64 last_update_ns;
	__u64 zw_peer_ns;  /* the peer's window is zero since (0: open) */
	__u64 zw_local_ns; /* our window is zero since */
	__u64 last_data_ns; /* when data last arrived */
	__u64 acked_ns;     /* when the peer last acknowledged all the program had sent */
	__u32 seen_snd_nxt; /* snd_nxt at the last NT_KEV_DATA_IN: the program sent more since when it differs */
	__u32 kev_data;    /* NT_KEV_DATA_IN events sent */
	__u32 kev_count;   /* NT_EV_KEV events sent, but arrivals */
	__u8 armed;        /* counted in connects_in_flight */
	__u8 connect_pending; /* established, its NT_EV_CONNECT not sent yet (flush_connect) */
	__u16 pad0;
	/* Line 1 */
	__u64 start_ns;
	__u64 close_ns;
	__u64 last_syn_ns; /* when the last SYN retransmission went out */
	__u32 tgid;
	__u32 syn_retrans;
	__u32 retrans_ev;
	__u32 rst_sent;
	__u32 rst_recv;
	__u8 wire_done;
	/* Metrics at the move to TCP_CLOSE: tcp_disconnect() (abortive close, connect(AF_UNSPEC))
	 * zeroes srtt, total_retrans, segs and byte counters right after it, before destroy. */
	__u8 closed_snap;
	/* The connection got established, but its move to ESTABLISHED never reached on_set_state
	 * (a tracepoint program run the kernel skipped: a nested run on the same CPU is dropped and
	 * only counted in the program's recursion_misses). Its connect time is then unknown. */
	__u8 est_unseen;
	__u8 pad1;
	__u32 est_srtt_us; /* the smoothed RTT at ESTABLISHED (the handshake's), for NT_EV_CONNECT */
	__u32 close_err;   /* sk_err at the move to TCP_CLOSE (a connect refused, a reset, an ICMP error) */
	__u32 kev_dropped; /* and not sent (over NT_KEV_MAX, or NT_KEV_DATA_MAX for arrivals) */
	/* Line 2 */
	struct nt_metrics snap;
	/* Line 3 */
	char comm[NT_COMM_LEN];
	/* Tuple cached at ESTABLISHED: by tcp_destroy_sock the local port is gone (unhashed). */
	__u8 family;
	__u16 sport, dport;
	__u8 saddr[16], daddr[16];
	__u32 seen_rto;    /* tcp_sock.total_rto at the last retransmit */
	/* Line 4: capture only */
	struct nt_cap_key wk; /* the wire tuple, once wire_done */
	__u64 cookie;         /* socket cookie: who owns the wire tuple in cap_tuples */
};

/* Traced processes (tgid -> 1). User space seeds the target; fork adds children. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u32);
} traced SEC(".maps");

/* Traced sockets by address. Allocated as entries come (a preallocated table is 65,536 × 304
 * bytes, ≈ 20 MiB of kernel memory, and took ≈ 30 ms to create at every start). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct conn);
} conns SEC(".maps");

/* The traced socket's entry, or NULL. A socket without a cookie (0: nothing ever asked for one)
 * is not traced: the insert at SYN_SENT takes the socket's cookie first, and a socket keeps its
 * cookie for life. That read of the socket being handled spares the untraced sockets (every TCP
 * socket of the machine passes these tracepoints) the hash lookup and its cold bucket. */
static __always_inline struct conn *conn_of(const struct sock *sk)
{
	if (!sk->__sk_common.skc_cookie.counter)
		return NULL;
	__u64 key = (__u64)sk;
	return bpf_map_lookup_elem(&conns, &key);
}

/* Wire tuples of traced sockets, both directions: the packet capture's kernel filter. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct nt_cap_key);
	__type(value, struct nt_cap_val);
} cap_tuples SEC(".maps");

/* UDP sockets of the traced process tree, by socket cookie → tgid; their DNS packets are
 * captured too. Filled in the sender's context, before a datagram leaves (cgroup connect and
 * sendmsg hooks), and after each send (sock:sock_send_length). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u32);
} udp_socks SEC(".maps");

/* 1 MiB: writing an event costs mostly the cache misses on the ring's memory, which is written
 * once per lap; a ring this size is still in the caches when the producer comes round again
 * (measured with the churn bench: eBPF time per connection 5.3 µs with 8 MiB, 4.4 with 2 MiB,
 * 3.8 with 1 MiB). It holds the events of ≈ 2,400 connections (2 each, 216 bytes): a reader
 * stalled ≈ 240 ms at 10,000 connections/s before any is lost (stats.lostEvents). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NT_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* Wake the reader only once 256 KiB are waiting; it also polls every 50 ms. One wakeup per
 * event would cost more than the event at high connection rates. */
static __always_inline __u64 wakeup_flags(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= (256 << 10) ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline void count(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &which);
	if (v)
		(*v)++;
}

/* Whether the current task still runs with the invoking user's credentials only. */
static __always_inline int cred_ok(void)
{
	if (!check_owner)
		return 1;
	struct task_struct *t = bpf_get_current_task_btf();
	const struct cred *c = t->real_cred;
	const struct cred *s = t->cred;
	return c->uid.val == owner_uid && c->euid.val == owner_uid && c->suid.val == owner_uid &&
	       c->fsuid.val == owner_uid && s->euid.val == owner_uid && s->fsuid.val == owner_uid;
}

/* A traced process changed credentials: it (and what it starts from now on) is no longer traced. */
static __always_inline void untrace(__u32 tgid)
{
	if (bpf_map_delete_elem(&traced, &tgid))
		return;
	struct nt_event *e = bpf_ringbuf_reserve(&events, NT_EV_SIZE_HEAD, 0);
	if (!e) {
		count(NT_STAT_LOST);
		return;
	}
	__builtin_memset(e, 0, NT_EV_SIZE_HEAD);
	e->type = NT_EV_DROP;
	e->tgid = tgid;
	e->ts_ns = bpf_ktime_get_ns();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
}

/* tp_btf arguments are BTF-typed kernel pointers: fields are read directly (CO-RE relocated
 * through vmlinux.h's preserve_access_index), cheaper than a bpf_probe_read_kernel() per field
 * on paths that run for every socket of the machine. */
static __always_inline void read_tuple(const struct sock *sk, __u8 *family, __u16 *sport, __u16 *dport, __u8 *saddr,
					__u8 *daddr)
{
	__u8 fam = sk->__sk_common.skc_family;
	__u16 port = sk->__sk_common.skc_num;
	/* Unhashed (TCP_CLOSE, destroy): skc_num is cleared by inet_put_port; inet_sport is not. */
	if (!port)
		port = bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
	*family = fam;
	*sport = port;
	*dport = bpf_ntohs(sk->__sk_common.skc_dport);
	if (fam == AF_INET) {
		__u32 s = sk->__sk_common.skc_rcv_saddr;
		__u32 d = sk->__sk_common.skc_daddr;
		__builtin_memcpy(saddr, &s, 4);
		__builtin_memcpy(daddr, &d, 4);
	} else {
		BPF_CORE_READ_INTO((__u8(*)[16])saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO((__u8(*)[16])daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	}
}

static __always_inline void fill_tuple(struct nt_event *e, const struct sock *sk)
{
	read_tuple(sk, &e->family, &e->sport, &e->dport, e->saddr, e->daddr);
}

static __always_inline void fill_metrics(struct nt_metrics *m, const struct sock *sk)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);
	if (!tp)
		return;
	m->srtt_us = tp->srtt_us >> 3;
	m->rttvar_us = tp->mdev_us >> 2;
	m->total_retrans = tp->total_retrans;
	m->snd_cwnd = tp->snd_cwnd;
	m->segs_in = tp->segs_in;
	m->segs_out = tp->segs_out;
	m->lost = tp->lost;
	if (bpf_core_field_exists(tp->total_rto))
		m->total_rto = tp->total_rto;
	m->bytes_acked = tp->bytes_acked;
	m->bytes_received = tp->bytes_received;
	m->bytes_sent = tp->bytes_sent;
	m->bytes_retrans = tp->bytes_retrans;
}

/* Reserves a ring-buffer event of `size` bytes (a constant: NT_EV_SIZE_*), zeroed. */
static __always_inline struct nt_event *reserve(__u32 size)
{
	struct nt_event *e = bpf_ringbuf_reserve(&events, size, 0);
	if (!e) {
		count(NT_STAT_LOST);
		return NULL;
	}
	__builtin_memset(e, 0, size);
	return e;
}

/* Fills the head of a traced connection's event: type, time, socket, process, and the tuple
 * (cached at ESTABLISHED, else read from the socket). */
static __always_inline void fill_head(struct nt_event *e, __u8 type, const struct sock *sk, struct conn *c, __u64 now)
{
	e->type = type;
	e->ts_ns = now;
	e->sk = (__u64)sk;
	e->tgid = c->tgid;
	__builtin_memcpy(e->comm, c->comm, NT_COMM_LEN);
	if (c->sport) {
		e->family = c->family;
		e->sport = c->sport;
		e->dport = c->dport;
		__builtin_memcpy(e->saddr, c->saddr, 16);
		__builtin_memcpy(e->daddr, c->daddr, 16);
	} else {
		fill_tuple(e, sk);
	}
}

/* The connection part of NT_EV_CONNECT, NT_EV_UPDATE and NT_EV_CLOSE. */
static __always_inline void fill_conn(struct nt_event *e, const struct sock *sk, struct conn *c)
{
	e->start_ns = c->start_ns;
	e->est_ns = c->est_ns;
	e->est_unseen = c->est_unseen;
	e->last_syn_ns = c->last_syn_ns;
	e->close_ns = c->close_ns;
	e->syn_retrans = c->syn_retrans;
	e->retrans_ev = c->retrans_ev;
	e->rst_sent = c->rst_sent;
	e->rst_recv = c->rst_recv;
	e->kev_dropped = c->kev_dropped;
	e->last_data_ns = c->last_data_ns;
	if (c->closed_snap)
		__builtin_memcpy(&e->m, &c->snap, sizeof(e->m));
	else
		fill_metrics(&e->m, sk);
}

/* NT_EV_UPDATE. */
static __always_inline void emit(__u8 type, const struct sock *sk, struct conn *c, __u64 now)
{
	struct nt_event *e = reserve(NT_EV_SIZE_CONN);
	if (!e)
		return;
	fill_head(e, type, sk, c, now);
	fill_conn(e, sk, c);
	bpf_ringbuf_submit(e, wakeup_flags());
}

/*
 * NT_EV_CONNECT waits until the connection's first other news: an incoming segment (but a bare
 * FIN: the connection is ending), a kernel event, an update; a connection that closes before any
 * (most short ones: the churn bench's all) has its connect facts in its NT_EV_CLOSE instead
 * (connect_folded), one ring event fewer. User space did the same with the events of one batch.
 */
static __always_inline void flush_connect(const struct sock *sk, struct conn *c, __u64 now)
{
	if (!c->connect_pending)
		return;
	c->connect_pending = 0;
	struct nt_event *e = reserve(NT_EV_SIZE_CONN);
	if (!e)
		return;
	fill_head(e, NT_EV_CONNECT, sk, c, now);
	e->start_ns = c->start_ns;
	e->est_ns = c->est_ns;
	e->last_syn_ns = c->last_syn_ns;
	e->syn_retrans = c->syn_retrans;
	e->m.srtt_us = c->est_srtt_us;
	bpf_ringbuf_submit(e, wakeup_flags());
}

/* One kernel event of a traced connection (NT_EV_KEV), at most NT_KEV_MAX per connection
 * (arrivals: NT_KEV_DATA_MAX). The caller fills the kind's fields in the returned event and
 * submits it (submit_kev). */
static __always_inline struct nt_event *reserve_kev(__u8 kind, const struct sock *sk, struct conn *c, __u64 now)
{
	int data = kind == NT_KEV_DATA_IN;
	flush_connect(sk, c, now);
	if (data ? c->kev_data >= NT_KEV_DATA_MAX : c->kev_count >= NT_KEV_MAX) {
		c->kev_dropped++;
		return NULL;
	}
	struct nt_event *e = reserve(NT_EV_SIZE_KEV);
	if (!e)
		return NULL;
	fill_head(e, NT_EV_KEV, sk, c, now);
	if (data)
		c->kev_data++;
	else
		c->kev_count++;
	e->kev_kind = kind;
	return e;
}

static __always_inline void submit_kev(struct nt_event *e)
{
	bpf_ringbuf_submit(e, wakeup_flags());
}

/* A zero-window period that began at `*since` ends now (or at the connection's close). */
static __always_inline void end_zero_window(const struct sock *sk, struct conn *c, __u64 *since, __u8 local, __u64 now)
{
	if (!*since)
		return;
	struct nt_event *e = reserve_kev(NT_KEV_ZERO_WINDOW, sk, c, now);
	if (e) {
		e->kev_begin_ns = *since;
		e->kev_local = local;
		submit_kev(e);
	}
	*since = 0;
}

static __always_inline void cache_tuple(struct conn *c, const struct sock *sk)
{
	read_tuple(sk, &c->family, &c->sport, &c->dport, c->saddr, c->daddr);
}

/* A later event of a connection whose move to ESTABLISHED was not seen: once the socket shows it
 * got there (acked or received data), say so and keep its tuple, never inventing a connect time. */
static __always_inline void backfill_established(struct conn *c, const struct sock *sk)
{
	if (c->est_ns || c->est_unseen)
		return;
	struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);
	if (!tp || (tp->bytes_acked == 0 && tp->bytes_received == 0))
		return;
	c->est_unseen = 1;
	if (!c->sport)
		cache_tuple(c, sk);
}

/* ::ffff:a.b.c.d */
static __always_inline int is_v4_mapped(const __u8 *a)
{
	for (int i = 0; i < 10; i++)
		if (a[i])
			return 0;
	return a[10] == 0xff && a[11] == 0xff;
}

/* Connects of traced sockets in flight (SYN_SENT). While there are none, the ICMP watch below
 * returns at once: it runs for every freed packet of the machine. */
__u32 connects_in_flight = 0;

/* The connection left SYN_SENT (or is gone): no longer counted in connects_in_flight. */
static __always_inline void disarm(struct conn *c)
{
	if (c->armed) {
		c->armed = 0;
		__sync_fetch_and_add(&connects_in_flight, (__u32)-1);
	}
}

/* ICMP errors about TCP segments, by the segment's tuple as its sender (a traced socket) sees it. */
struct icmp_seen {
	__u64 ts_ns;
	__u8 family, type, code, pad;
	__u8 from[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct nt_cap_key);
	__type(value, struct icmp_seen);
} icmp_seen SEC(".maps");

/* Whether on_consume_skb has recorded any ICMP error yet: until then a close needs no icmp_seen
 * lookup (set before the first entry goes in, never cleared). */
__u32 icmp_recorded = 0;

/* An ICMP (v4: destination unreachable, time exceeded, parameter problem; v6: the same and packet
 * too big) the stack has handled (icmp_rcv/icmpv6_rcv consume it after tcp_v4_err/tcp_v6_err):
 * remember its type, code and sender under the tuple of the TCP segment it quotes. No kprobe or
 * fentry on this kernel (platform): the packet is read when it is freed. */
SEC("tp_btf/consume_skb")
int BPF_PROG(on_consume_skb, struct sk_buff *skb, void *location)
{
	if (!connects_in_flight)
		return 0;
	__u16 nh = skb->network_header, th = skb->transport_header;
	if (nh == (__u16)~0U || th == (__u16)~0U)
		return 0;
	unsigned char *head = skb->head;
	struct nt_cap_key k = {};
	struct icmp_seen v = {};
	__u8 icmp[8];
	__u16 ports[2];
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip, in;
		__u8 l4;
		/* Most freed packets are TCP or UDP: one byte tells. */
		if (bpf_probe_read_kernel(&l4, 1, head + nh + 9) || l4 != IPPROTO_ICMP)
			return 0;
		if (bpf_probe_read_kernel(&ip, sizeof(ip), head + nh))
			return 0;
		if (bpf_probe_read_kernel(icmp, sizeof(icmp), head + th) || (icmp[0] != 3 && icmp[0] != 11 && icmp[0] != 12))
			return 0;
		if (bpf_probe_read_kernel(&in, sizeof(in), head + th + 8) || in.protocol != IPPROTO_TCP)
			return 0;
		if (bpf_probe_read_kernel(ports, sizeof(ports), head + th + 8 + (in.ihl & 0xf) * 4))
			return 0;
		k.family = AF_INET;
		__builtin_memcpy(k.saddr, &in.saddr, 4);
		__builtin_memcpy(k.daddr, &in.daddr, 4);
		__builtin_memcpy(v.from, &ip.saddr, 4);
		v.family = AF_INET;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6, in6;
		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), head + nh) || ip6.nexthdr != IPPROTO_ICMPV6)
			return 0;
		if (bpf_probe_read_kernel(icmp, sizeof(icmp), head + th) || icmp[0] < 1 || icmp[0] > 4)
			return 0;
		if (bpf_probe_read_kernel(&in6, sizeof(in6), head + th + 8) || in6.nexthdr != IPPROTO_TCP)
			return 0;
		if (bpf_probe_read_kernel(ports, sizeof(ports), head + th + 8 + sizeof(in6)))
			return 0;
		k.family = AF_INET6;
		__builtin_memcpy(k.saddr, &in6.saddr, 16);
		__builtin_memcpy(k.daddr, &in6.daddr, 16);
		__builtin_memcpy(v.from, &ip6.saddr, 16);
		v.family = AF_INET6;
	} else {
		return 0;
	}
	k.proto = IPPROTO_TCP;
	k.sport = ports[0];
	k.dport = ports[1];
	v.ts_ns = bpf_ktime_get_ns();
	v.type = icmp[0];
	v.code = icmp[1];
	icmp_recorded = 1;
	bpf_map_update_elem(&icmp_seen, &k, &v, BPF_ANY);
	return 0;
}

/* The ICMP error recorded for a closing connection's tuple while it lived, or NULL. `k` gets the
 * tuple as the ICMP quotes it (a v4-mapped socket sends IPv4). */
static __always_inline struct icmp_seen *close_icmp(struct conn *c, struct nt_cap_key *k)
{
	if (!icmp_recorded || !c->sport)
		return NULL;
	k->family = c->family == AF_INET6 && is_v4_mapped(c->saddr) ? AF_INET : c->family;
	k->proto = IPPROTO_TCP;
	k->sport = bpf_htons(c->sport);
	k->dport = bpf_htons(c->dport);
	if (k->family == AF_INET && c->family == AF_INET6) {
		__builtin_memcpy(k->saddr, c->saddr + 12, 4);
		__builtin_memcpy(k->daddr, c->daddr + 12, 4);
	} else {
		__builtin_memcpy(k->saddr, c->saddr, 16);
		__builtin_memcpy(k->daddr, c->daddr, 16);
	}
	struct icmp_seen *v = bpf_map_lookup_elem(&icmp_seen, k);
	return v && v->ts_ns >= c->start_ns ? v : NULL;
}

/* NT_EV_CLOSE's socket error: the error the connection ended with (sk_err at its move to TCP_CLOSE,
 * when the program had not taken it yet) and the ICMP error about it (seen for its tuple while it
 * lived; the kernel reports those to the program, which takes the error at once). */
static __always_inline void fill_close_error(struct nt_event *e, struct conn *c, const struct icmp_seen *v, __u64 now)
{
	e->err_present = 1;
	e->err_errno = c->close_err;
	e->err_ns = v ? v->ts_ns : (c->close_ns ? c->close_ns : now);
	if (v) {
		e->icmp_family = v->family;
		e->icmp_type = v->type;
		e->icmp_code = v->code;
		__builtin_memcpy(e->icmp_from, v->from, 16);
	}
}

/* NT_EV_CLOSE's end of the wire tuple. */
static __always_inline void fill_wire_end(struct nt_event *e, struct conn *c)
{
	e->wfamily = c->wk.family;
	e->wproto = c->wk.proto;
	e->wsport = bpf_ntohs(c->wk.sport);
	e->wdport = bpf_ntohs(c->wk.dport);
	__builtin_memcpy(e->wsaddr, c->wk.saddr, 16);
	__builtin_memcpy(e->wdaddr, c->wk.daddr, 16);
}

/* The connection's one NT_EV_CLOSE: final metrics, its socket error if any (counted as one of its
 * kernel events, NT_KEV_MAX), and the end of its wire tuple if it had one. Sized to what it holds. */
static __always_inline void emit_close(const struct sock *sk, struct conn *c, __u64 now)
{
	struct nt_cap_key k = {};
	struct icmp_seen *v = close_icmp(c, &k);
	int err = c->close_err || v;
	if (err && c->kev_count >= NT_KEV_MAX) {
		c->kev_dropped++;
		err = 0;
	} else if (err) {
		c->kev_count++;
	}
	struct nt_event *e;
	/* Each size in its own branch, with the parts only it has room for: the verifier checks every
	 * write against the size reserved on that path. */
	if (c->wire_done) {
		e = reserve(NT_EV_SIZE_FULL);
		if (e) {
			fill_wire_end(e, c);
			if (err)
				fill_close_error(e, c, v, now);
		}
	} else if (err) {
		e = reserve(NT_EV_SIZE_ERR);
		if (e)
			fill_close_error(e, c, v, now);
	} else {
		e = reserve(NT_EV_SIZE_CONN);
	}
	if (v)
		bpf_map_delete_elem(&icmp_seen, &k);
	if (!e)
		return;
	fill_head(e, NT_EV_CLOSE, sk, c, now);
	fill_conn(e, sk, c);
	if (c->connect_pending) {
		c->connect_pending = 0;
		e->connect_folded = 1;
		e->est_srtt_us = c->est_srtt_us;
	}
	bpf_ringbuf_submit(e, wakeup_flags());
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(on_set_state, const struct sock *sk, const int oldstate, const int newstate)
{
	/* Only a connect's start, its end (SYN_SENT to anything) and the move to TCP_CLOSE matter:
	 * every other transition of every TCP socket of the machine (a server's SYN_RECV and
	 * ESTABLISHED, FIN_WAIT, CLOSE_WAIT, LAST_ACK...) returns before any map lookup. */
	if (newstate != NT_TCP_SYN_SENT && oldstate != NT_TCP_SYN_SENT && newstate != NT_TCP_CLOSE)
		return 0;
	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	__u64 key = (__u64)sk;

	if (newstate == NT_TCP_SYN_SENT) {
		__u32 tgid = bpf_get_current_pid_tgid() >> 32;
		if (!bpf_map_lookup_elem(&traced, &tgid))
			return 0;
		if (!cred_ok()) {
			untrace(tgid);
			return 0;
		}
		struct conn c = {};
		c.start_ns = bpf_ktime_get_ns();
		c.tgid = tgid;
		c.cookie = bpf_get_socket_cookie((void *)sk);
		bpf_get_current_comm(c.comm, sizeof(c.comm));
		c.armed = 1;
		if (bpf_map_update_elem(&conns, &key, &c, BPF_ANY))
			count(NT_STAT_CONN_FULL);
		else
			__sync_fetch_and_add(&connects_in_flight, 1);
		return 0;
	}
	struct conn *c = conn_of(sk);
	if (!c)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	disarm(c);
	if (oldstate == NT_TCP_SYN_SENT && newstate == NT_TCP_ESTABLISHED) {
		cache_tuple(c, sk);
		/* No data has been sent yet: every retransmission so far was of the SYN. The kernel's
		 * own count, so a retransmit event the kernel skipped is not lost. */
		struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);
		if (tp) {
			if (tp->total_retrans > c->syn_retrans)
				c->syn_retrans = tp->total_retrans;
			c->est_srtt_us = tp->srtt_us >> 3;
		}
		c->est_ns = now;
		c->last_update_ns = now;
		c->connect_pending = 1;
	} else if (newstate == NT_TCP_CLOSE) {
		backfill_established(c, sk);
		/* A failed connect: keep whatever tuple it had. */
		if (!c->sport)
			cache_tuple(c, sk);
		/* Final metrics wait for tcp_destroy_sock: an abortive close sends its RST after
		 * the move to TCP_CLOSE (__tcp_close: tcp_set_state(CLOSE) then
		 * tcp_send_active_reset), and that RST must still be counted. */
		c->close_ns = now;
		/* tcp_v4_err() while the socket was owned by the program (its connect() still in the
		 * kernel) leaves the ICMP's error in sk_err_soft only. */
		c->close_err = sk->sk_err ? sk->sk_err : sk->sk_err_soft;
		fill_metrics(&c->snap, sk);
		c->closed_snap = 1;
	}
	return 0;
}

/* The socket is gone: after a grace time its wire tuple no longer passes the capture filter,
 * since another process may then reuse it (e.g. the same ephemeral port to the same server). */
static __always_inline void expire_wire(struct conn *c, __u64 now)
{
	struct nt_cap_key r = {};
	r.family = c->wk.family;
	r.proto = c->wk.proto;
	r.sport = c->wk.dport;
	r.dport = c->wk.sport;
	__builtin_memcpy(r.saddr, c->wk.daddr, 16);
	__builtin_memcpy(r.daddr, c->wk.saddr, 16);
	struct nt_cap_val *v = bpf_map_lookup_elem(&cap_tuples, &c->wk);
	if (v && v->cookie == c->cookie)
		v->expires_ns = now + NT_TCP_GRACE_NS;
	v = bpf_map_lookup_elem(&cap_tuples, &r);
	if (v && v->cookie == c->cookie)
		v->expires_ns = now + NT_TCP_GRACE_NS;
}

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(on_destroy, struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct conn *c = conn_of(sk);
	if (!c)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	if (!c->close_ns)
		c->close_ns = now;
	if (!c->closed_snap)
		backfill_established(c, sk);
	disarm(c);
	end_zero_window(sk, c, &c->zw_peer_ns, 0, c->close_ns);
	end_zero_window(sk, c, &c->zw_local_ns, 1, c->close_ns);
	if (c->wire_done)
		expire_wire(c, now);
	emit_close(sk, c, now);
	bpf_map_delete_elem(&conns, &key);
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(on_retransmit, const struct sock *sk, const struct sk_buff *skb, int err)
{
	/* Since 6.12 this tracepoint also fires for failed attempts (err != 0), which
	 * tcp_sock.total_retrans does not count; count only the ones that went out. */
	if (err)
		return 0;
	struct conn *c = conn_of(sk);
	if (!c)
		return 0;
	if (sk->__sk_common.skc_state == NT_TCP_SYN_SENT) {
		__sync_fetch_and_add(&c->syn_retrans, 1);
		c->last_syn_ns = bpf_ktime_get_ns();
	}
	else {
		__sync_fetch_and_add(&c->retrans_ev, 1);
		__u64 now = bpf_ktime_get_ns();
		struct nt_event *e = reserve_kev(NT_KEV_RETRANS, sk, c, now);
		if (e) {
			/* A retransmission timeout increments total_rto before it retransmits. */
			struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);
			if (tp) {
				/* The kernel's own count after this retransmission (one event may cover
				 * several segments): a request's share is the difference across it. */
				e->kev_total = tp->total_retrans;
				if (bpf_core_field_exists(tp->total_rto) && tp->total_rto > c->seen_rto) {
					c->seen_rto = tp->total_rto;
					e->kev_rto = 1;
				}
			}
			submit_kev(e);
		}
	}
	return 0;
}

/* The kernel dropped a packet of a traced connection (one it sent, or one it received for it),
 * with its reason (enum skb_drop_reason; the helper names it from the kernel's BTF). Fires for
 * every dropped packet of the machine: one hash lookup when the socket is not traced. */
SEC("tp_btf/kfree_skb")
int BPF_PROG(on_kfree_skb, struct sk_buff *skb, void *location, enum skb_drop_reason reason, struct sock *rx_sk)
{
	/* Not dropped (consumed), or a free with no reason given: not a drop to report. */
	if (reason <= bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED))
		return 0;
	struct sock *sk = rx_sk ? rx_sk : skb->sk;
	if (!sk)
		return 0;
	struct conn *c = conn_of(sk);
	if (!c)
		return 0;
	struct nt_event *e = reserve_kev(NT_KEV_DROP, sk, c, bpf_ktime_get_ns());
	if (!e)
		return 0;
	e->kev_err = reason;
	/* Which way the packet went. rx_sk is given only where TCP's own receive path drops; a packet
	 * a firewall dropped on its way in (netfilter's input hook) has none, but early demux already
	 * set its skb->sk to the socket. A received packet has the interface it arrived on (skb_iif, set
	 * as a device receives it, loopback included); one the program sent has none until another
	 * socket's side receives it. */
	e->kev_local = !rx_sk && !BPF_CORE_READ(skb, skb_iif);
	submit_kev(e);
	return 0;
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(on_send_reset, const struct sock *sk)
{
	if (!sk)
		return 0;
	struct conn *c = conn_of(sk);
	if (c)
		__sync_fetch_and_add(&c->rst_sent, 1);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(on_receive_reset, struct sock *sk)
{
	struct conn *c = conn_of(sk);
	if (c)
		__sync_fetch_and_add(&c->rst_recv, 1);
	return 0;
}

/* On each incoming segment of a traced connection: zero receive windows the peer's, from the
 * window field of the segment itself (tcp_probe runs before the segment updates snd_wnd), shifted
 * ever zero whatever its scale; ours, from the window we last advertised (0: the program did not
 * read what had arrived). */
static __always_inline void segment_in(const struct sock *sk, const struct sk_buff *skb, struct conn *c, __u64 now)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);
	if (!tp)
		return;
	struct tcphdr th;
	if (bpf_probe_read_kernel(&th, sizeof(th), skb->data))
		return;
	if (th.syn || th.rst || !th.ack)
		return;
	if (!th.fin)
		flush_connect(sk, c, now);
	__u32 peer = bpf_ntohs(th.window);
	if (peer == 0 && !c->zw_peer_ns)
		c->zw_peer_ns = now;
	else if (peer != 0)
		end_zero_window(sk, c, &c->zw_peer_ns, 0, now);
	if (tp->rcv_wnd == 0 && !c->zw_local_ns)
		c->zw_local_ns = now;
	else if (tp->rcv_wnd != 0)
		end_zero_window(sk, c, &c->zw_local_ns, 1, now);
	/* The peer acknowledging everything sent so far (a request's last byte): snd_una is still the
	 * value before this segment. */
	__u32 sent = tp->snd_nxt;
	if (bpf_ntohl(th.ack_seq) == sent && tp->snd_una != sent)
		c->acked_ns = now;
	/* Data arriving: the first segment after the program sent something (a request) opens an
	 * exchange; its event also says when the previous exchange's last data arrived, and when the
	 * peer acknowledged what the program had sent. */
	if (skb->len <= th.doff * 4)
		return;
	if (sent != c->seen_snd_nxt) {
		c->seen_snd_nxt = sent;
		struct nt_event *e = reserve_kev(NT_KEV_DATA_IN, sk, c, now);
		if (e) {
			e->kev_begin_ns = c->last_data_ns;
			e->kev_acked_ns = c->acked_ns;
			submit_kev(e);
		}
	}
	c->last_data_ns = now;
}

/* tcp_probe fires for every incoming segment of every socket: keep it to one map lookup, and
 * emit at most one NT_EV_UPDATE per update_interval_ns per traced connection. */
SEC("tp_btf/tcp_probe")
int BPF_PROG(on_tcp_probe, struct sock *sk, const struct sk_buff *skb)
{
	struct conn *c = conn_of(sk);
	if (!c)
		return 0;
	if (!c->est_ns) {
		backfill_established(c, sk);
		return 0;
	}
	__u64 now = bpf_ktime_get_ns();
	segment_in(sk, skb, c, now);
	if (now - c->last_update_ns < update_interval_ns)
		return 0;
	c->last_update_ns = now;
	flush_connect(sk, c, now);
	emit(NT_EV_UPDATE, sk, c, now);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	if (!bpf_map_lookup_elem(&traced, &ptgid))
		return 0;
	/* fork runs in the parent's context: its credentials are the child's. */
	if (!cred_ok()) {
		untrace(ptgid);
		return 0;
	}
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	if (ctgid == ptgid)
		return 0; /* a new thread of a traced process */
	__u32 one = 1;
	bpf_map_update_elem(&traced, &ctgid, &one, BPF_ANY);
	struct nt_event *e = reserve(NT_EV_SIZE_HEAD);
	if (!e)
		return 0;
	e->type = NT_EV_FORK;
	e->tgid = ctgid;
	e->ppid = ptgid;
	e->ts_ns = bpf_ktime_get_ns();
	bpf_ringbuf_submit(e, wakeup_flags());
	return 0;
}

/* An exec that changes credentials (setuid/setgid/file-capability binary: bprm->secureexec), or
 * any exec by a process no longer running as the invoking user, ends its tracing. The new
 * credentials are committed (begin_new_exec) before this tracepoint fires. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	if (!check_owner)
		return 0;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (!bpf_map_lookup_elem(&traced, &tgid))
		return 0;
	if (BPF_CORE_READ_BITFIELD_PROBED(bprm, secureexec) || !cred_ok())
		untrace(tgid);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	/* Forget a traced process when its last thread exits (do_exit decrements signal->live
	 * before this tracepoint), whichever thread that is, so a recycled pid is not traced.
	 * The set holds thread-group ids only. Its open sockets stay traced through `conns`. */
	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	__u32 tgid = BPF_CORE_READ(p, tgid);
	bpf_map_delete_elem(&traced, &tgid);
	return 0;
}

/* Packet capture of the debuggee's DNS: remember the UDP sockets its processes use. */
static __always_inline void note_udp(__u64 cookie)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (!cookie || !bpf_map_lookup_elem(&traced, &tgid))
		return;
	if (!cred_ok()) {
		untrace(tgid);
		return;
	}
	bpf_map_update_elem(&udp_socks, &cookie, &tgid, BPF_ANY);
}

/* connect() and sendmsg() on UDP sockets run these in the caller's context before anything is
 * sent, so even the first datagram of a socket is known to be the debuggee's. They never
 * refuse anything (return 1). Attached to the debuggee's cgroup (v2). */
SEC("cgroup/connect4")
int cg_connect4(struct bpf_sock_addr *ctx)
{
	if (ctx->protocol == IPPROTO_UDP)
		note_udp(bpf_get_socket_cookie(ctx));
	return 1;
}

SEC("cgroup/connect6")
int cg_connect6(struct bpf_sock_addr *ctx)
{
	if (ctx->protocol == IPPROTO_UDP)
		note_udp(bpf_get_socket_cookie(ctx));
	return 1;
}

SEC("cgroup/sendmsg4")
int cg_sendmsg4(struct bpf_sock_addr *ctx)
{
	note_udp(bpf_get_socket_cookie(ctx));
	return 1;
}

SEC("cgroup/sendmsg6")
int cg_sendmsg6(struct bpf_sock_addr *ctx)
{
	note_udp(bpf_get_socket_cookie(ctx));
	return 1;
}

/* Without a cgroup v2 hierarchy to attach to: learn the socket after its first send. */
SEC("tp_btf/sock_send_length")
int BPF_PROG(on_send_length, struct sock *sk, int ret, int flags)
{
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_UDP)
		return 0;
	note_udp(bpf_get_socket_cookie(sk));
	return 0;
}

/* Reads a packet's IP addresses, protocol and ports from kernel memory into `k`. */
static __always_inline int skb_key(struct sk_buff *skb, struct nt_cap_key *k)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	__u16 proto = BPF_CORE_READ(skb, protocol);
	__u16 ports[2];
	if (proto == bpf_htons(0x0800)) {
		__u8 ip[20];
		if (bpf_probe_read_kernel(ip, sizeof(ip), head + nh))
			return -1;
		if (bpf_probe_read_kernel(ports, sizeof(ports), head + nh + (ip[0] & 0xf) * 4))
			return -1;
		k->family = AF_INET;
		k->proto = ip[9];
		__builtin_memcpy(k->saddr, ip + 12, 4);
		__builtin_memcpy(k->daddr, ip + 16, 4);
	} else if (proto == bpf_htons(0x86DD)) {
		__u8 ip[40];
		if (bpf_probe_read_kernel(ip, sizeof(ip), head + nh))
			return -1;
		if (bpf_probe_read_kernel(ports, sizeof(ports), head + nh + 40))
			return -1;
		k->family = AF_INET6;
		k->proto = ip[6];
		__builtin_memcpy(k->saddr, ip + 8, 16);
		__builtin_memcpy(k->daddr, ip + 24, 16);
	} else {
		return -1;
	}
	k->sport = ports[0];
	k->dport = ports[1];
	return 0;
}

/* Packet capture: when the first packets of a traced socket are queued for transmission
 * (before the device's packet taps see them, see __dev_queue_xmit -> dev_queue_xmit_nit), add
 * their on-the-wire tuple, after any NAT applied on the way out, to cap_tuples. The capture's
 * socket filter below passes only those tuples, so the first SYN is never lost to the race with
 * user space learning the local port (which tcp_v4_connect picks only after SYN_SENT). The same
 * for the DNS queries of the traced processes' UDP sockets. */
/*
 * Tuple squatting: a packet of a socket that is not the traced one whose wire tuple it carries
 * (another process reusing the ephemeral port of a closed traced connection, or the local port
 * of a DNS socket) takes the tuple out of the capture filter, both directions, before the
 * device's packet taps see this packet: a tuple is only ever trusted for the socket (cookie)
 * that the kernel saw the traced process use. A TIME_WAIT socket keeps its socket's cookie
 * (inet_twsk_alloc copies it); the per-CPU control sockets that send RSTs and TIME_WAIT ACKs
 * (SOCK_RAW) do not evict.
 */
static __always_inline void evict_squatter(struct sk_buff *skb, struct sock *sk)
{
	__u16 fam = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (fam != AF_INET && fam != AF_INET6)
		return;
	struct nt_cap_key k = {};
	if (skb_key(skb, &k) || (k.proto != IPPROTO_TCP && k.proto != IPPROTO_UDP))
		return;
	struct nt_cap_val *v = bpf_map_lookup_elem(&cap_tuples, &k);
	/* The reply direction is sent by the traced socket's peer (any socket, maybe on this host):
	 * only a packet in the traced socket's own direction can be a squatter's. */
	if (!v || v->reply)
		return;
	__u8 st = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (st != NT_TCP_TIME_WAIT && st != NT_TCP_NEW_SYN_RECV) {
		__u16 type = BPF_CORE_READ(sk, sk_type);
		if (type != NT_SOCK_STREAM && type != NT_SOCK_DGRAM)
			return;
	}
	/* A cookie is made when first asked for: the traced socket's was (at SYN_SENT, or by the
	 * cgroup hooks), so a socket without one (0) is never the owner. */
	if (BPF_CORE_READ(sk, __sk_common.skc_cookie.counter) == v->cookie)
		return;
	struct nt_cap_key r = {};
	r.family = k.family;
	r.proto = k.proto;
	r.sport = k.dport;
	r.dport = k.sport;
	__builtin_memcpy(r.saddr, k.daddr, 16);
	__builtin_memcpy(r.daddr, k.saddr, 16);
	bpf_map_delete_elem(&cap_tuples, &k);
	bpf_map_delete_elem(&cap_tuples, &r);
}

SEC("tp_btf/net_dev_queue")
int BPF_PROG(on_dev_queue, struct sk_buff *skb)
{
	struct sock *sk = skb->sk;
	if (!sk)
		return 0;
	__u64 key = (__u64)sk;
	__u32 tgid;
	__u64 cookie;
	struct conn *c = conn_of(sk);
	if (c) {
		if (c->wire_done)
			return 0;
		tgid = c->tgid;
		cookie = c->cookie;
	} else {
		/* Not the current task: a datagram held for neighbour resolution leaves from
		 * softirq, in whatever task's context. The socket's cookie says whose it is. */
		cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
		__u32 *t = cookie ? bpf_map_lookup_elem(&udp_socks, &cookie) : 0;
		if (!t) {
			evict_squatter(skb, sk);
			return 0;
		}
		tgid = *t;
	}
	struct nt_cap_key k = {}, r = {};
	if (skb_key(skb, &k))
		return 0;
	if (c ? k.proto != IPPROTO_TCP : (k.proto != IPPROTO_UDP || (k.dport != bpf_htons(53) && k.sport != bpf_htons(53))))
		return 0;
	r.family = k.family;
	r.proto = k.proto;
	r.sport = k.dport;
	r.dport = k.sport;
	__builtin_memcpy(r.saddr, k.daddr, 16);
	__builtin_memcpy(r.daddr, k.saddr, 16);
	struct nt_cap_val v = {.tgid = tgid, .cookie = cookie}, rv = {.tgid = tgid, .cookie = cookie, .reply = 1};
	struct nt_cap_val *old = bpf_map_lookup_elem(&cap_tuples, &k);
	if (!c) {
		/* DNS: keep the tuple a while after each datagram out. */
		v.expires_ns = bpf_ktime_get_ns() + NT_UDP_LIFETIME_NS;
		if (old && old->cookie == cookie) {
			/* Refreshed at most once a second; the wire event tells user space too. */
			if (old->expires_ns > v.expires_ns - 1000000000ULL)
				return 0;
			old->expires_ns = v.expires_ns;
			struct nt_cap_val *ro = bpf_map_lookup_elem(&cap_tuples, &r);
			if (ro)
				ro->expires_ns = v.expires_ns;
		} else {
			rv.expires_ns = v.expires_ns;
			bpf_map_update_elem(&cap_tuples, &k, &v, BPF_ANY);
			bpf_map_update_elem(&cap_tuples, &r, &rv, BPF_ANY);
		}
	} else {
		bpf_map_update_elem(&cap_tuples, &k, &v, BPF_ANY);
		bpf_map_update_elem(&cap_tuples, &r, &rv, BPF_ANY);
		c->wire_done = 1;
		c->wk = k;
	}

	struct nt_event *e = reserve(NT_EV_SIZE_FULL);
	if (!e)
		return 0;
	e->type = NT_EV_WIRE;
	e->tgid = tgid;
	e->sk = key;
	if (c) {
		fill_tuple(e, sk);
	} else {
		e->family = k.family;
		e->sport = bpf_ntohs(k.sport);
		e->dport = bpf_ntohs(k.dport);
		__builtin_memcpy(e->saddr, k.saddr, 16);
		__builtin_memcpy(e->daddr, k.daddr, 16);
	}
	e->wfamily = k.family;
	e->wproto = k.proto;
	e->wsport = bpf_ntohs(k.sport);
	e->wdport = bpf_ntohs(k.dport);
	__builtin_memcpy(e->wsaddr, k.saddr, 16);
	__builtin_memcpy(e->wdaddr, k.daddr, 16);
	e->ts_ns = bpf_ktime_get_ns();
	bpf_ringbuf_submit(e, wakeup_flags());
	return 0;
}

/* Loads the addresses, protocol and ports of the IP header at `off` (from the network header). */
static __always_inline int load_key(struct __sk_buff *skb, __u32 off, struct nt_cap_key *k, __u32 *l4off)
{
	__u16 ports[2];
	if (skb->protocol == bpf_htons(0x0800) || k->family == AF_INET) {
		__u8 ip[20];
		if (bpf_skb_load_bytes_relative(skb, off, ip, sizeof(ip), BPF_HDR_START_NET))
			return -1;
		if ((ip[0] >> 4) != 4)
			return -1;
		k->family = AF_INET;
		k->proto = ip[9];
		*l4off = off + (ip[0] & 0xf) * 4;
		__builtin_memcpy(k->saddr, ip + 12, 4);
		__builtin_memcpy(k->daddr, ip + 16, 4);
	} else {
		__u8 ip[40];
		if (bpf_skb_load_bytes_relative(skb, off, ip, sizeof(ip), BPF_HDR_START_NET))
			return -1;
		k->family = AF_INET6;
		k->proto = ip[6];
		*l4off = off + 40;
		__builtin_memcpy(k->saddr, ip + 8, 16);
		__builtin_memcpy(k->daddr, ip + 24, 16);
	}
	if (k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP) {
		if (bpf_skb_load_bytes_relative(skb, *l4off, ports, sizeof(ports), BPF_HDR_START_NET))
			return -1;
		k->sport = ports[0];
		k->dport = ports[1];
	}
	return 0;
}

static __always_inline int live(const struct nt_cap_val *v)
{
	return v && (!v->expires_ns || bpf_ktime_get_ns() < v->expires_ns);
}

/* Socket filter for the capture's packet sockets: keep a packet only if its tuple is in
 * cap_tuples, or if it is an ICMP error about a packet whose tuple is. Returns the snap length
 * (0 = drop). */
SEC("socket")
int cap_filter(struct __sk_buff *skb)
{
	/* On "lo" each packet passes the taps twice, outgoing and incoming: keep one copy (as
	 * libpcap does), here in the kernel so loopback traffic is not copied twice. */
	if (skb->pkt_type == NT_PACKET_OUTGOING && skb->ifindex == NT_LOOPBACK_IFINDEX)
		return 0;
	if (skb->protocol != bpf_htons(0x0800) && skb->protocol != bpf_htons(0x86DD))
		return 0;
	struct nt_cap_key k = {};
	__u32 l4 = 0;
	if (load_key(skb, 0, &k, &l4))
		return 0;
	if (k.proto == IPPROTO_TCP || k.proto == IPPROTO_UDP) {
		struct nt_cap_val *v = bpf_map_lookup_elem(&cap_tuples, &k);
		if (!live(v))
			return 0;
		/* The traced socket is gone: only its connection's last packets still count. A SYN
		 * starts a new connection on the tuple, which is never the traced one's. */
		if (v->expires_ns && k.proto == IPPROTO_TCP) {
			__u8 flags;
			if (bpf_skb_load_bytes_relative(skb, l4 + 13, &flags, 1, BPF_HDR_START_NET) || (flags & 0x02))
				return 0;
		}
		return skb->len;
	}
	/* ICMP destination unreachable / time exceeded (ICMPv6 also packet too big): the error
	 * quotes the offending packet's header after 8 bytes; keep it if that packet was ours. */
	__u8 type;
	if (bpf_skb_load_bytes_relative(skb, l4, &type, 1, BPF_HDR_START_NET))
		return 0;
	if (!((k.proto == 1 && (type == 3 || type == 11)) || (k.proto == 58 && type >= 1 && type <= 3)))
		return 0;
	struct nt_cap_key inner = {};
	inner.family = k.family;
	__u32 l4i = 0;
	if (load_key(skb, l4 + 8, &inner, &l4i))
		return 0;
	return live(bpf_map_lookup_elem(&cap_tuples, &inner)) ? skb->len : 0;
}
