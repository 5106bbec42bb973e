/*
 * The packet capture's reader: AF_PACKET sockets with a TPACKET_V3 ring, opened here as root with
 * the capture's BPF socket filter attached before they are bound (so no unfiltered packet ever
 * enters a ring), drained by a thread of their own that streams the packets to the Node side
 * (src/helper/pcap.ts) through one pipe, many packets per write.
 *
 * Why not libpcap (the `cap` package) in Node, as before: in immediate mode libpcap uses
 * TPACKET_V2, whose ring slots are fixed at the snapshot length (65,616 bytes for `cap`'s 65,535)
 * whatever the packet's size, so a 16 MiB ring held 256 packets: 5 ms at 50,000 packets/s before
 * the kernel drops. A V3 ring packs packets of any size into its blocks (a 64-byte segment takes
 * ~150 bytes), and each packet was a JavaScript callback (~9.5 µs of CPU per packet here).
 *
 * Stream format (host byte order): first a u32 length and that many bytes of JSON,
 * {"devices":[{"name":"lo","linkType":"ETHERNET"},...]}, then one record per packet: u32 caplen,
 * u32 original length, u32 seconds, u32 nanoseconds (the kernel's receive time), u16 device
 * index, u16 zero, caplen bytes of frame.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "capture.h"

#define BLOCK_SIZE (256u * 1024u)
/* A block is handed over when full or after this long: the latency of a quiet connection's packets. */
#define RETIRE_MS 8
#define OUT_SIZE (512u * 1024u)
#define SLL_LEN 16

struct cap_dev {
	int fd;
	int cooked; /* SOCK_DGRAM: a Linux cooked header is put in front of each packet */
	uint8_t *ring;
	unsigned blocks, cur;
	char name[IF_NAMESIZE];
	const char *link;
};

static struct cap_dev devs[NT_CAP_MAX_DEVS];
static int ndevs, out_fd = -1;
static pthread_t reader;
static volatile int reader_stop, reader_running;
static uint8_t *out;
static size_t out_len;

static int write_all(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t w = write(out_fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static void flush_out(void)
{
	if (out_len && out_fd >= 0 && write_all(out, out_len))
		out_fd = -1; /* the Node side is gone: keep draining the rings, write nothing */
	out_len = 0;
}

static void put_packet(int dev, const struct tpacket3_hdr *h)
{
	const uint8_t *frame = (const uint8_t *)h + h->tp_mac;
	uint32_t caplen = h->tp_snaplen, len = h->tp_len;
	uint32_t extra = devs[dev].cooked ? SLL_LEN : 0;
	if (out_len + 20 + extra + caplen > OUT_SIZE)
		flush_out();
	if (20 + extra + caplen > OUT_SIZE)
		caplen = OUT_SIZE - 20 - extra;
	uint32_t hdr[4] = {caplen + extra, len + extra, h->tp_sec, h->tp_nsec};
	uint16_t idx[2] = {(uint16_t)dev, 0};
	memcpy(out + out_len, hdr, 16);
	memcpy(out + out_len + 16, idx, 4);
	out_len += 20;
	if (extra) {
		/* The sockaddr_ll the kernel puts after the header: LINKTYPE_LINUX_SLL's fields. */
		const struct sockaddr_ll *ll = (const void *)((const uint8_t *)h + TPACKET_ALIGN(sizeof(*h)));
		uint8_t *s = out + out_len;
		uint16_t v = htons(ll->sll_pkttype);
		memcpy(s, &v, 2);
		v = htons(ll->sll_hatype);
		memcpy(s + 2, &v, 2);
		v = htons(ll->sll_halen);
		memcpy(s + 4, &v, 2);
		memset(s + 6, 0, 8);
		memcpy(s + 6, ll->sll_addr, ll->sll_halen < 8 ? ll->sll_halen : 8);
		memcpy(s + 14, &ll->sll_protocol, 2);
		out_len += SLL_LEN;
	}
	memcpy(out + out_len, frame, caplen);
	out_len += caplen;
}

/* Hands every block the kernel has retired to the stream and back to the kernel. */
static int drain(int dev)
{
	struct cap_dev *d = &devs[dev];
	int n = 0;
	for (;;) {
		struct tpacket_block_desc *b = (void *)(d->ring + (size_t)d->cur * BLOCK_SIZE);
		if (!(__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
			return n;
		const struct tpacket3_hdr *h = (const void *)((uint8_t *)b + b->hdr.bh1.offset_to_first_pkt);
		for (uint32_t i = 0; i < b->hdr.bh1.num_pkts; i++) {
			put_packet(dev, h);
			h = (const void *)((const uint8_t *)h + h->tp_next_offset);
		}
		__atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		d->cur = (d->cur + 1) % d->blocks;
		n++;
	}
}

static void *reader_main(void *arg)
{
	(void)arg;
	struct pollfd p[NT_CAP_MAX_DEVS];
	for (int i = 0; i < ndevs; i++)
		p[i] = (struct pollfd){.fd = devs[i].fd, .events = POLLIN | POLLERR};
	while (!__atomic_load_n(&reader_stop, __ATOMIC_ACQUIRE)) {
		poll(p, (nfds_t)ndevs, 100);
		for (int i = 0; i < ndevs; i++)
			drain(i);
		flush_out();
	}
	/* Last pass: what the kernel retires in the block timeout after the stop. */
	usleep((RETIRE_MS + 2) * 1000);
	for (int i = 0; i < ndevs; i++)
		drain(i);
	flush_out();
	return NULL;
}

static const char *link_of(int fd, const char *name, int *cooked)
{
	struct ifreq r = {0};
	snprintf(r.ifr_name, sizeof(r.ifr_name), "%s", name);
	int type = ioctl(fd, SIOCGIFHWADDR, &r) == 0 ? r.ifr_hwaddr.sa_family : -1;
	*cooked = 0;
	if (type == ARPHRD_ETHER || type == ARPHRD_LOOPBACK)
		return "ETHERNET";
	if (type == ARPHRD_NONE || type == ARPHRD_RAWIP)
		return "RAW";
	*cooked = 1;
	return "LINKTYPE_LINUX_SLL";
}

static int open_dev(const char *name, int filter_fd, unsigned ring_mib, char *why, size_t whylen)
{
	struct cap_dev *d = &devs[ndevs];
	unsigned ifindex = if_nametoindex(name);
	int probe = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (!ifindex || probe < 0) {
		if (probe >= 0)
			close(probe);
		return 0; /* gone meanwhile */
	}
	d->link = link_of(probe, name, &d->cooked);
	close(probe);
	/* Protocol 0: the socket receives nothing until bind(), after the filter is on. */
	int fd = socket(AF_PACKET, (d->cooked ? SOCK_DGRAM : SOCK_RAW) | SOCK_CLOEXEC, 0);
	int v3 = TPACKET_V3;
	struct tpacket_req3 req = {
		.tp_block_size = BLOCK_SIZE,
		.tp_block_nr = ring_mib * (1024u * 1024u / BLOCK_SIZE),
		.tp_frame_size = 2048,
		.tp_retire_blk_tov = RETIRE_MS,
	};
	req.tp_frame_nr = req.tp_block_nr * (BLOCK_SIZE / req.tp_frame_size);
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = (int)ifindex};
	const char *step = "socket";
	if (fd < 0)
		goto fail;
	step = "SO_ATTACH_BPF";
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &filter_fd, sizeof(filter_fd)))
		goto fail;
	step = "PACKET_VERSION";
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v3, sizeof(v3)))
		goto fail;
	step = "PACKET_RX_RING";
	if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)))
		goto fail;
	step = "mmap";
	d->ring = mmap(NULL, (size_t)req.tp_block_nr * BLOCK_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (d->ring == MAP_FAILED)
		goto fail;
	step = "bind";
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		goto fail;
	d->fd = fd;
	d->blocks = req.tp_block_nr;
	d->cur = 0;
	snprintf(d->name, sizeof(d->name), "%s", name);
	ndevs++;
	return 0;
fail:
	snprintf(why, whylen, "packet capture on %s failed at %s: %s", name, step, strerror(errno));
	if (d->ring && d->ring != MAP_FAILED)
		munmap(d->ring, (size_t)req.tp_block_nr * BLOCK_SIZE);
	d->ring = NULL;
	if (fd >= 0)
		close(fd);
	return -1;
}

int nt_capture_open(int filter_fd, unsigned ring_mib, int *fds, char *why, size_t whylen)
{
	struct ifaddrs *ifs;
	if (ring_mib < 1)
		ring_mib = 1;
	if (getifaddrs(&ifs)) {
		snprintf(why, whylen, "cannot list the network interfaces: %s", strerror(errno));
		return -1;
	}
	/* As the Node side did (os.networkInterfaces()): the devices with an IPv4 or IPv6 address. */
	for (struct ifaddrs *a = ifs; a && ndevs < NT_CAP_MAX_DEVS; a = a->ifa_next) {
		if (!a->ifa_addr || (a->ifa_addr->sa_family != AF_INET && a->ifa_addr->sa_family != AF_INET6))
			continue;
		int seen = 0;
		for (int i = 0; i < ndevs; i++)
			seen |= strcmp(devs[i].name, a->ifa_name) == 0;
		if (!seen && open_dev(a->ifa_name, filter_fd, ring_mib, why, whylen)) {
			freeifaddrs(ifs);
			nt_capture_close();
			return -1;
		}
	}
	freeifaddrs(ifs);
	for (int i = 0; i < ndevs; i++)
		fds[i] = devs[i].fd;
	return ndevs;
}

int nt_capture_start(int fd)
{
	out = malloc(OUT_SIZE);
	if (!out)
		return -1;
	out_fd = fd;
	/* A deep socket buffer between us and the Node side (root may force it; best effort). */
	int sz = 4 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	char head[4096];
	int n = snprintf(head + 4, sizeof(head) - 4, "{\"devices\":[");
	for (int i = 0; i < ndevs && n < (int)sizeof(head) - 128; i++)
		n += snprintf(head + 4 + n, sizeof(head) - 4 - (size_t)n, "%s{\"name\":\"%s\",\"linkType\":\"%s\"}", i ? "," : "",
			      devs[i].name, devs[i].link);
	n += snprintf(head + 4 + n, sizeof(head) - 4 - (size_t)n, "]}");
	uint32_t len = (uint32_t)n;
	memcpy(head, &len, 4);
	if (write_all(head, 4 + (size_t)n))
		return -1;
	if (pthread_create(&reader, NULL, reader_main, NULL))
		return -1;
	reader_running = 1;
	return 0;
}

void nt_capture_stop(void)
{
	if (reader_running) {
		__atomic_store_n(&reader_stop, 1, __ATOMIC_RELEASE);
		pthread_join(reader, NULL);
		reader_running = 0;
	}
	if (out_fd >= 0)
		close(out_fd);
	out_fd = -1;
}

void nt_capture_close(void)
{
	nt_capture_stop();
	for (int i = 0; i < ndevs; i++) {
		munmap(devs[i].ring, (size_t)devs[i].blocks * BLOCK_SIZE);
		close(devs[i].fd);
	}
	ndevs = 0;
	free(out);
	out = NULL;
}
