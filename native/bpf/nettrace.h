/* Shared between the BPF programs and the user-space helper: event and map layouts. */
#ifndef NETTRACE_H
#define NETTRACE_H

#define NT_COMM_LEN 16

enum nt_event_type {
	NT_EV_CONNECT = 1, /* SYN_SENT -> ESTABLISHED: connect latency and RTT; sent before the connection's first
			    * other event (an incoming segment but a bare FIN, a kernel event, an update), or
			    * folded into its NT_EV_CLOSE (connect_folded) when it closes first */
	NT_EV_CLOSE = 2,   /* the socket was destroyed: final metrics; also its socket error (err_present) and
			    * the end of its wire tuple (wfamily != 0: stops matching after a grace time) */
	NT_EV_UPDATE = 3,  /* periodic metrics from tcp_probe, at most every update_interval_ns */
	NT_EV_FORK = 4,    /* a traced process started a child that is now traced too */
	NT_EV_WIRE = 5,    /* first packet of a traced socket left: its on-the-wire (post-NAT) tuple */
	/* 6: was NT_EV_WIRE_END, now part of NT_EV_CLOSE */
	NT_EV_DROP = 7,     /* a traced process changed credentials (setuid exec, setuid()): no longer traced */
	NT_EV_KEV = 8,      /* a kernel event of a traced connection at a moment: kev_kind says which */
};

/* Kinds of NT_EV_KEV: what happened to a traced connection, when (ts_ns), for the request then. */
enum nt_kev_kind {
	NT_KEV_RETRANS = 1, /* data retransmitted (kev_rto: after a retransmission timeout; m.total_retrans: the count since) */
	NT_KEV_ZERO_WINDOW = 2, /* a zero receive window from kev_begin_ns to ts_ns (kev_local: ours) */
	NT_KEV_DATA_IN = 4,     /* data arrived after the program had sent more (ts_ns); kev_begin_ns: when the data
				 * before it last arrived (at the close, NT_EV_CLOSE's kev_begin_ns says it) */
	/* 3: the connection ended with an error or an ICMP error was about it: NT_EV_CLOSE's err_* fields
	 * (counted among the connection's kernel events all the same) */
	NT_KEV_SOCK_ERROR = 3,
	NT_KEV_DROP = 5,        /* the kernel dropped a packet of the connection: kev_err holds the drop reason */
};

/* Kernel events kept per connection; later ones are only counted (kev_dropped). Arrivals
 * (NT_KEV_DATA_IN) have their own, larger cap: one comes per exchange the program itself made
 * (a request and its response on a kept-alive connection), and each request reads its own. */
#define NT_KEV_MAX 256
#define NT_KEV_DATA_MAX 65536

/* Counters in the `stats` per-CPU array. */
enum nt_stat {
	NT_STAT_LOST = 0,       /* ring buffer full: event dropped */
	NT_STAT_CONN_FULL = 1,  /* conns map full: connection not traced */
	NT_STAT_EVENTS = 2,     /* unused: user space counts the connection events it reads */
	NT_STAT_MAX = 3,
};

struct nt_metrics {
	__u32 srtt_us;       /* smoothed RTT (tcp_sock.srtt_us >> 3) */
	__u32 rttvar_us;     /* RTT variance (tcp_sock.mdev_us >> 2), as tcp_info's tcpi_rttvar */
	__u32 total_retrans; /* tcp_sock.total_retrans: what `ss -ti` shows after "retrans:x/" */
	__u32 snd_cwnd;
	__u32 segs_in;
	__u32 segs_out;
	__u32 lost;
	__u32 total_rto;
	__u64 bytes_acked;
	__u64 bytes_received;
	__u64 bytes_sent;
	__u64 bytes_retrans;
};

/*
 * One ring-buffer event. An event is a prefix of this struct, as long as its type needs (the
 * reader treats what was not sent as zero), so the kernel writes only that much of the ring:
 *   NT_EV_FORK, NT_EV_DROP                NT_EV_SIZE_HEAD
 *   NT_EV_KEV                             NT_EV_SIZE_KEV  (head + the kernel-event part)
 *   NT_EV_CONNECT, NT_EV_UPDATE           NT_EV_SIZE_CONN (head + the connection part)
 *   NT_EV_CLOSE                           NT_EV_SIZE_CONN, NT_EV_SIZE_ERR with a socket error,
 *                                         NT_EV_SIZE_FULL when it ends a wire tuple
 *   NT_EV_WIRE                            NT_EV_SIZE_FULL
 * Each field says which events carry it; every event has the head.
 */
struct nt_event {
	/* Head */
	__u8 type;
	__u8 family;  /* AF_INET or AF_INET6 */
	__u16 pad0;
	__u32 tgid;
	__u32 ppid;   /* NT_EV_FORK: parent tgid */
	__u16 sport;  /* host order */
	__u16 dport;  /* host order */
	__u8 saddr[16];
	__u8 daddr[16];
	__u64 ts_ns;       /* bpf_ktime_get_ns() of the event */
	__u64 sk;          /* socket address: connection key within this boot */
	char comm[NT_COMM_LEN];
	union {
		/* NT_EV_KEV */
		struct {
			__u8 kev_kind;
			__u8 kev_rto;   /* NT_KEV_RETRANS: total_rto went up with it (a retransmission timeout) */
			__u8 kev_local; /* NT_KEV_ZERO_WINDOW: our window (the program not reading), else the peer's;
					 * NT_KEV_DROP: dropped on its way out (else on its way in) */
			__u8 kev_pad;
			__u32 kev_err;  /* NT_KEV_DROP: the drop reason */
			__u32 kev_total; /* NT_KEV_RETRANS: tcp_sock.total_retrans after it */
			__u32 kev_pad2;
			__u64 kev_begin_ns; /* NT_KEV_ZERO_WINDOW: when the window closed; NT_KEV_DATA_IN: when data last arrived */
			__u64 kev_acked_ns; /* NT_KEV_DATA_IN: when the peer last acknowledged all the program had sent (0: never) */
		};
		/* NT_EV_CONNECT, NT_EV_UPDATE, NT_EV_CLOSE */
		struct {
			__u64 start_ns;    /* SYN_SENT */
			__u64 est_ns;      /* ESTABLISHED, 0 if never */
			__u64 close_ns;    /* TCP_CLOSE, 0 if not yet */
			__u64 last_syn_ns; /* the last SYN retransmission (0: none) */
			__u64 last_data_ns; /* NT_EV_CLOSE: when data last arrived (the last response's last byte) */
			__u32 syn_retrans; /* retransmitted SYNs (tcp_retransmit_skb in SYN_SENT) */
			__u32 retrans_ev;  /* tcp_retransmit_skb events with err == 0 */
			__u32 rst_sent;
			__u32 rst_recv;
			__u32 kev_dropped; /* kernel events of this connection not sent (over NT_KEV_MAX) */
			__u8 est_unseen;   /* established, but the move to ESTABLISHED was not seen (est_ns 0) */
			/* NT_EV_CLOSE: no NT_EV_CONNECT was sent for this connection (it closed before anything
			 * needed one): this event stands for it, with est_srtt_us */
			__u8 connect_folded;
			__u8 conn_pad[2];
			__u32 est_srtt_us; /* NT_EV_CLOSE with connect_folded: the smoothed RTT at ESTABLISHED */
			__u32 conn_pad2;
			struct nt_metrics m; /* NT_EV_CONNECT: only srtt_us, at ESTABLISHED */
		};
	};
	/* NT_EV_CLOSE with err_present: the connection ended with an error (err_errno, 0: taken by the
	 * program first) or an ICMP error (icmp_*) was about it, at err_ns (the ICMP's arrival, else
	 * the move to TCP_CLOSE) */
	__u8 err_present;
	__u8 icmp_family; /* AF_INET/AF_INET6 when an ICMP message caused it, else 0 */
	__u8 icmp_type, icmp_code;
	__u32 err_errno;
	__u64 err_ns;
	__u8 icmp_from[16]; /* who sent the ICMP message */
	/* NT_EV_WIRE: the tuple on the wire (after NAT); the head holds the socket's. NT_EV_CLOSE
	 * (wfamily != 0): the wire tuple that stops matching after NT_TCP_GRACE_NS. */
	__u16 wsport, wdport; /* host order */
	__u8 wfamily;
	__u8 wproto; /* IPPROTO_TCP, or IPPROTO_UDP for the debuggee's DNS */
	__u16 wpad;
	__u8 wsaddr[16];
	__u8 wdaddr[16];
};

#define NT_EV_SIZE_HEAD __builtin_offsetof(struct nt_event, kev_kind)
#define NT_EV_SIZE_KEV (__builtin_offsetof(struct nt_event, kev_acked_ns) + sizeof(__u64))
#define NT_EV_SIZE_CONN __builtin_offsetof(struct nt_event, err_present)
#define NT_EV_SIZE_ERR __builtin_offsetof(struct nt_event, wsport)
#define NT_EV_SIZE_FULL sizeof(struct nt_event)

/* Key of the capture filter map: a packet's addresses and ports as they appear on the wire. */
struct nt_cap_key {
	__u8 family;
	__u8 proto;  /* IPPROTO_TCP or IPPROTO_UDP */
	__u16 sport; /* network order */
	__u16 dport; /* network order */
	__u16 pad2;
	__u8 saddr[16];
	__u8 daddr[16];
};

/* Value of the capture filter map. */
struct nt_cap_val {
	__u32 tgid;
	__u32 reply; /* 1: the direction towards the traced socket (sent by its peer) */
	__u64 expires_ns; /* 0 while the socket lives; after that the tuple may be reused by anyone */
	__u64 cookie;     /* socket cookie of the traced socket that owns the tuple */
};

/* How long a closed connection's packets (final ACKs, retransmitted FINs) are still kept — at
 * most: the tuple stops matching at once when any other socket sends on it, and a SYN on it is
 * never kept — and how long a DNS socket's tuple is kept after its last datagram out. */
#define NT_TCP_GRACE_NS (2ULL * 1000000000ULL)
#define NT_UDP_LIFETIME_NS (30ULL * 1000000000ULL)

#endif
