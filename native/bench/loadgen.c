/*
 * Load generator for bench/helper.mjs, in C so that the generator itself leaves CPU to the
 * helper being measured (a Node client and server saturate both cores of the bench machine).
 *
 *   loadgen server CHURN_PORT ECHO_PORT DISCARD_PORT   churn (on 127.0.0.1-8): accept and reset
 *                                                      at once; echo; discard
 *   loadgen churn PORT SECONDS CONCURRENCY RATE        connections to 127.0.0.1 (RATE 0: as fast
 *                                                      as possible); prints {connections, seconds}
 *   loadgen blast PORT SECONDS WRITES_PER_SEC [CONNS]  CONNS connections (default 1), 64-byte writes
 *                                                      round robin, Nagle off; reads what comes back;
 *                                                      prints {writes, seconds}
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* Churn spreads over 127.0.0.1-8: eight times the 4-tuples before a client port meets a
 * TIME_WAIT entry of the server younger than tcp_tw_reuse allows to recycle. */
#define CHURN_ADDRS 8

static struct sockaddr_in addr_n(int port, int n)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK + n);
	return a;
}

static struct sockaddr_in addr(int port) { return addr_n(port, 0); }

static int listener_n(int port, int n)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = addr_n(port, n);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 4096)) {
		perror("listen");
		exit(1);
	}
	return fd;
}

static int listener(int port) { return listener_n(port, 0); }

static int server(int churn, int echo, int discard)
{
	int ep = epoll_create1(0);
	int ls[CHURN_ADDRS + 2];
	for (int i = 0; i < CHURN_ADDRS; i++)
		ls[i] = listener_n(churn, i);
	ls[CHURN_ADDRS] = listener(echo);
	ls[CHURN_ADDRS + 1] = listener(discard);
	for (int i = 0; i < CHURN_ADDRS + 2; i++) {
		int kind = i < CHURN_ADDRS ? 0 : i - CHURN_ADDRS + 1;
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)(kind | 8) << 32 | (uint32_t)ls[i]};
		epoll_ctl(ep, EPOLL_CTL_ADD, ls[i], &ev);
	}
	printf("LISTENING\n");
	fflush(stdout);
	struct epoll_event evs[256];
	char buf[65536];
	for (;;) { /* until killed */
		int n = epoll_wait(ep, evs, 256, -1);
		for (int i = 0; i < n; i++) {
			int kind = (int)(evs[i].data.u64 >> 32), fd = (int)(uint32_t)evs[i].data.u64;
			if (kind & 8) { /* a listener */
				kind &= 7;
				int c;
				while ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					if (kind == 0) {
						/* Close with RST (SO_LINGER 0): no TIME_WAIT on either side, so
						 * long runs never meet a recycled 4-tuple still in TIME_WAIT
						 * (a PAWS-rejected SYN costs the client a 1 s retransmit). */
						struct linger l = {1, 0};
						setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
						close(c);
						continue;
					}
					struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)(kind + 2) << 32 | (uint32_t)c};
					/* kind + 2: 3 echo, 4 discard */
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				}
				continue;
			}
			ssize_t r = read(fd, buf, sizeof(buf));
			if (r <= 0) {
				close(fd);
				continue;
			}
			if (kind == 3 && write(fd, buf, (size_t)r) < 0) { /* kind 3: echo */
				/* peer gone */
			}
		}
	}
	return 0;
}

static int churn(int port, double secs, int conc, double rate)
{
	int ep = epoll_create1(0);
	struct sockaddr_in a = addr(port);
	long started = 0, done = 0;
	int inflight = 0;
	double t0 = now_s(), end = t0 + secs;
	struct epoll_event evs[512];
	for (;;) {
		double t = now_s();
		while (t < end && inflight < conc && (rate <= 0 || started < (t - t0) * rate)) {
			int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
			a = addr_n(port, (int)(started % CHURN_ADDRS));
			if (connect(fd, (struct sockaddr *)&a, sizeof(a)) && errno != EINPROGRESS) {
				close(fd);
				break;
			}
			struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLERR, .data.fd = fd};
			epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
			inflight++;
			started++;
		}
		if (t >= end && inflight == 0)
			break;
		int n = epoll_wait(ep, evs, 512, 1);
		for (int i = 0; i < n; i++) {
			/* The server reset the connection: close our side. */
			close(evs[i].data.fd);
			inflight--;
			done++;
		}
	}
	printf("{\"connections\":%ld,\"seconds\":%.6f}\n", done, now_s() - t0);
	return 0;
}

static int blast(int port, double secs, double wps, int conns)
{
	struct sockaddr_in a = addr(port);
	int fds[64], one = 1;
	if (conns < 1 || conns > 64)
		conns = 1;
	for (int i = 0; i < conns; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(fds[i], (struct sockaddr *)&a, sizeof(a))) {
			perror("connect");
			return 1;
		}
		setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		fcntl(fds[i], F_SETFL, O_NONBLOCK);
	}
	char chunk[64], buf[65536];
	memset(chunk, 'a', sizeof(chunk));
	long writes = 0;
	double t0 = now_s();
	for (;;) {
		double t = now_s();
		if (t - t0 >= secs)
			break;
		/* Round robin: with several connections a tick's writes go out one segment each (the
		 * kernel coalesces small writes queued behind one in flight on the same socket). */
		while (writes < (t - t0) * wps && write(fds[writes % conns], chunk, sizeof(chunk)) > 0)
			writes++;
		for (int i = 0; i < conns; i++)
			while (read(fds[i], buf, sizeof(buf)) > 0)
				;
		struct timespec d = {0, 200000};
		nanosleep(&d, NULL);
	}
	for (int i = 0; i < conns; i++) {
		shutdown(fds[i], SHUT_WR);
		close(fds[i]);
	}
	printf("{\"writes\":%ld,\"seconds\":%.6f}\n", writes, now_s() - t0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && !strcmp(argv[1], "server"))
		return server(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	if (argc >= 6 && !strcmp(argv[1], "churn"))
		return churn(atoi(argv[2]), atof(argv[3]), atoi(argv[4]), atof(argv[5]));
	if (argc >= 5 && !strcmp(argv[1], "blast"))
		return blast(atoi(argv[2]), atof(argv[3]), atof(argv[4]), argc >= 6 ? atoi(argv[5]) : 1);
	fprintf(stderr, "usage: loadgen server|churn|blast ...\n");
	return 2;
}
