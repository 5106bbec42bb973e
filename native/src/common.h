/* Shared helpers of the user-space helper: JSON lines on stdout, tuples, clocks. */
#ifndef NT_COMMON_H
#define NT_COMMON_H
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* A connection's 4-tuple as the socket sees it; addresses in network order. */
struct nt_tuple {
	int family; /* AF_INET / AF_INET6 */
	uint8_t saddr[16];
	uint8_t daddr[16];
	uint16_t sport; /* host order */
	uint16_t dport; /* host order */
};

/* One JSON line being built; nt_json_end() adds it to the output to fd 1 (nt_out_flush). */
struct nt_json {
	char buf[4096];
	size_t len;
	int first;
	char close; /* '}' for an object line, ']' for an array line */
};

void nt_json_begin(struct nt_json *j, const char *type);
void nt_json_raw(struct nt_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void nt_json_key(struct nt_json *j, const char *key);
void nt_json_str(struct nt_json *j, const char *key, const char *val);
void nt_json_u64(struct nt_json *j, const char *key, unsigned long long v);
void nt_json_num(struct nt_json *j, const char *key, double v);
void nt_json_bool(struct nt_json *j, const char *key, int v);
void nt_json_tuple(struct nt_json *j, const char *key, const struct nt_tuple *t);
/* An array line instead of an object, its first item the string `tag`; items follow without keys.
 * For the line of most (an arrival: src/protocol/helper.ts HelperArrivalLine), which the collector
 * parses a third cheaper without the field names. */
void nt_json_array_begin(struct nt_json *j, const char *tag);
void nt_json_item_u64(struct nt_json *j, unsigned long long v);
/* A CLOCK_MONOTONIC stamp as epoch ms, written as nt_json_num writes times; null when it is 0 (not known). */
void nt_json_item_time(struct nt_json *j, uint64_t mono_ns);
/* The tuple as one string, "srcIP:srcPort>dstIP:dstPort" (IPv6 in brackets): src/protocol/helper.ts
 * tupleKey of what nt_json_tuple writes. */
void nt_json_item_tuple_key(struct nt_json *j, const struct nt_tuple *t);
void nt_json_obj_begin(struct nt_json *j, const char *key);
void nt_json_obj_end(struct nt_json *j);
void nt_json_end(struct nt_json *j);
/* When 0, lines are buffered until the caller's nt_out_flush() (the BPF loop flushes per poll). */
extern int nt_flush_each;
/* Writes the lines buffered so far to fd 1, waiting while the pipe is full. */
void nt_out_flush(void);
/* When set and *nt_out_stop becomes true, a write waiting on a full pipe gives up (and output ends). */
extern volatile sig_atomic_t *nt_out_stop;
/* How the helper was started (root, sudo, pkexec, capabilities), for the ready line; a label only. */
extern const char *nt_authority;
/* Set when eBPF was tried and failed: the reason the inet_diag mode reports. */
extern const char *nt_bpf_unavailable;

/* Formats an address; IPv4-mapped IPv6 addresses print as IPv4, as Node reports them. */
void nt_addr_str(int family, const uint8_t *addr, char *out, size_t outlen);
/* Wall-clock epoch milliseconds now, and of a CLOCK_MONOTONIC nanosecond stamp. */
double nt_now_ms(void);
double nt_mono_to_epoch_ms(uint64_t mono_ns);
void nt_clock_init(void);

/* Emits {"type":"warning","message":...}. */
void nt_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));


#endif
