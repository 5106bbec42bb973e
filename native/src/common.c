#define _GNU_SOURCE
#include "common.h"
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double mono_to_real_ns;
int nt_flush_each = 1;
const char *nt_authority;
const char *nt_bpf_unavailable;

void nt_clock_init(void)
{
	struct timespec r, m;
	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m);
	mono_to_real_ns = ((double)r.tv_sec * 1e9 + r.tv_nsec) - ((double)m.tv_sec * 1e9 + m.tv_nsec);
}

double nt_now_ms(void)
{
	struct timespec r;
	clock_gettime(CLOCK_REALTIME, &r);
	return (double)r.tv_sec * 1e3 + r.tv_nsec / 1e6;
}

double nt_mono_to_epoch_ms(uint64_t mono_ns)
{
	return ((double)mono_ns + mono_to_real_ns) / 1e6;
}

/* One character (most separators and string bytes): no memcpy call for it. */
static inline void put1(struct nt_json *j, char c)
{
	if (j->len < sizeof(j->buf) - 4)
		j->buf[j->len++] = c;
}

static void put(struct nt_json *j, const char *s, size_t n)
{
	if (j->len + n >= sizeof(j->buf) - 4)
		n = sizeof(j->buf) - 4 - j->len;
	memcpy(j->buf + j->len, s, n);
	j->len += n;
}

void nt_json_raw(struct nt_json *j, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(j->buf + j->len, sizeof(j->buf) - 4 - j->len, fmt, ap);
	va_end(ap);
	if (n > 0) {
		j->len += (size_t)n;
		if (j->len > sizeof(j->buf) - 4)
			j->len = sizeof(j->buf) - 4;
	}
}

static void escaped(struct nt_json *j, const char *s)
{
	put1(j, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			put1(j, '\\');
			put1(j, (char)c);
		} else if (c < 0x20) {
			nt_json_raw(j, "\\u%04x", c);
		} else {
			put1(j, (char)c);
		}
	}
	put1(j, '"');
}

/* The comma before every field or item but the first. */
static void sep(struct nt_json *j)
{
	if (!j->first)
		put1(j, ',');
	j->first = 0;
}

/* Keys are string literals of this program: no escaping needed. */
void nt_json_key(struct nt_json *j, const char *key)
{
	sep(j);
	put1(j, '"');
	put(j, key, strlen(key));
	put1(j, '"');
	put1(j, ':');
}

/* Decimal digits of v; snprintf costs more than the rest of a line put together. */
static void put_u64(struct nt_json *j, unsigned long long v)
{
	char d[24];
	int n = 0;
	do {
		d[sizeof(d) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(j, d + sizeof(d) - n, (size_t)n);
}

void nt_json_begin(struct nt_json *j, const char *type)
{
	j->len = 0;
	j->first = 1;
	j->close = '}';
	put1(j, '{');
	nt_json_str(j, "type", type);
}

void nt_json_array_begin(struct nt_json *j, const char *tag)
{
	j->len = 0;
	j->first = 1;
	j->close = ']';
	put1(j, '[');
	sep(j);
	escaped(j, tag);
}

void nt_json_item_u64(struct nt_json *j, unsigned long long v)
{
	sep(j);
	put_u64(j, v);
}

void nt_json_str(struct nt_json *j, const char *key, const char *val)
{
	nt_json_key(j, key);
	escaped(j, val);
}

void nt_json_u64(struct nt_json *j, const char *key, unsigned long long v)
{
	nt_json_key(j, key);
	put_u64(j, v);
}

/* A number with three decimals (times in ms, durations in µs). */
static void put_num(struct nt_json *j, double v);

void nt_json_num(struct nt_json *j, const char *key, double v)
{
	nt_json_key(j, key);
	put_num(j, v);
}

void nt_json_item_time(struct nt_json *j, uint64_t mono_ns)
{
	sep(j);
	if (mono_ns)
		put_num(j, nt_mono_to_epoch_ms(mono_ns));
	else
		put(j, "null", 4);
}

static void put_num(struct nt_json *j, double v)
{
	if (v < 0) {
		put(j, "-", 1);
		v = -v;
	}
	unsigned long long m = (unsigned long long)(v * 1000.0 + 0.5);
	char frac[4] = {(char)('0' + m / 100 % 10), (char)('0' + m / 10 % 10), (char)('0' + m % 10), 0};
	put_u64(j, m / 1000);
	put1(j, '.');
	put(j, frac, 3);
}

void nt_json_bool(struct nt_json *j, const char *key, int v)
{
	nt_json_key(j, key);
	if (v)
		put(j, "true", 4);
	else
		put(j, "false", 5);
}

void nt_json_obj_begin(struct nt_json *j, const char *key)
{
	nt_json_key(j, key);
	put1(j, '{');
	j->first = 1;
}

void nt_json_obj_end(struct nt_json *j)
{
	put1(j, '}');
	j->first = 0;
}

void nt_json_tuple(struct nt_json *j, const char *key, const struct nt_tuple *t)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	nt_addr_str(t->family, t->saddr, s, sizeof(s));
	nt_addr_str(t->family, t->daddr, d, sizeof(d));
	nt_json_obj_begin(j, key);
	nt_json_str(j, "srcIP", s);
	nt_json_u64(j, "srcPort", t->sport);
	nt_json_str(j, "dstIP", d);
	nt_json_u64(j, "dstPort", t->dport);
	nt_json_obj_end(j);
}

/* One end of a tuple key: the address (IPv6 in brackets), a colon, the port. */
static void key_end(struct nt_json *j, const char *ip, unsigned port)
{
	int v6 = strchr(ip, ':') != NULL;
	if (v6)
		put1(j, '[');
	put(j, ip, strlen(ip));
	if (v6)
		put1(j, ']');
	put1(j, ':');
	put_u64(j, port);
}

void nt_json_item_tuple_key(struct nt_json *j, const struct nt_tuple *t)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	nt_addr_str(t->family, t->saddr, s, sizeof(s));
	nt_addr_str(t->family, t->daddr, d, sizeof(d));
	sep(j);
	put1(j, '"');
	key_end(j, s, t->sport);
	put1(j, '>');
	key_end(j, d, t->dport);
	put1(j, '"');
}

/*
 * Output to the parent (fd 1), buffered here rather than in stdio: the parent's end of the pipe
 * may have been made non-blocking by a Node process sharing it (dist/helper.cjs's own stdout,
 * which the native helper inherits), and stdio drops what a write refused with EAGAIN, cutting
 * lines and losing whole batches whenever the reader fell behind. Here a full pipe is waited
 * for (POLLOUT); a reader gone (EPIPE) or a stop (nt_out_stop) ends the output.
 */
static char out_buf[1 << 16];
static size_t out_len;
static int out_gone;
volatile sig_atomic_t *nt_out_stop;

static void out_write(const char *p, size_t n)
{
	while (n && !out_gone) {
		ssize_t w = write(1, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (nt_out_stop && *nt_out_stop)
				out_gone = 1;
			struct pollfd pf = {.fd = 1, .events = POLLOUT};
			poll(&pf, 1, 200);
		} else if (!(w < 0 && errno == EINTR)) {
			out_gone = 1;
		}
	}
}

void nt_out_flush(void)
{
	out_write(out_buf, out_len);
	out_len = 0;
}

void nt_json_end(struct nt_json *j)
{
	put1(j, j->close);
	put1(j, '\n');
	if (out_len + j->len > sizeof(out_buf))
		nt_out_flush();
	if (j->len > sizeof(out_buf)) {
		/* a line longer than the buffer goes out on its own */
		out_write(j->buf, j->len);
	} else {
		memcpy(out_buf + out_len, j->buf, j->len);
		out_len += j->len;
	}
	if (nt_flush_each)
		nt_out_flush();
}

/* a.b.c.d: glibc's inet_ntop formats IPv4 with sprintf, a good part of a line's cost. */
static void ipv4_str(const uint8_t *a, char *out, size_t outlen)
{
	char s[16];
	size_t n = 0;
	for (int i = 0; i < 4; i++) {
		unsigned v = a[i];
		if (v >= 100)
			s[n++] = (char)('0' + v / 100);
		if (v >= 10)
			s[n++] = (char)('0' + v / 10 % 10);
		s[n++] = (char)('0' + v % 10);
		s[n++] = i < 3 ? '.' : 0;
	}
	if (outlen >= n)
		memcpy(out, s, n);
	else if (outlen)
		out[0] = 0;
}

void nt_addr_str(int family, const uint8_t *addr, char *out, size_t outlen)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (family == AF_INET)
		ipv4_str(addr, out, outlen);
	else if (family == AF_INET6 && memcmp(addr, mapped, 12) == 0)
		ipv4_str(addr + 12, out, outlen);
	else
		inet_ntop(family, addr, out, (socklen_t)outlen);
}

void nt_warn(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct nt_json j;
	nt_json_begin(&j, "warning");
	nt_json_str(&j, "message", msg);
	nt_json_end(&j);
}
