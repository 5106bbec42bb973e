/* capture.c: the packet capture's own sockets (TPACKET_V3 rings) and their reader thread. */
#ifndef NT_CAPTURE_H
#define NT_CAPTURE_H

#define NT_CAP_MAX_DEVS 32

/* As root: a packet socket with `filter_fd` (the capture's BPF socket filter) attached before it is bound, on each
 * device with an IP address, each with a `ring_mib` MiB ring. Puts the sockets in `fds` and returns their number,
 * or -1 with a reason in `why` (nothing left open). */
int nt_capture_open(int filter_fd, unsigned ring_mib, int *fds, char *why, size_t whylen);
/* Writes the device list to `fd` (the Node side's packet pipe), then starts the thread that streams the packets. */
int nt_capture_start(int fd);
/* Stops the thread after a last drain of the rings and closes the pipe (the sockets stay: their counters). */
void nt_capture_stop(void);
/* nt_capture_stop(), then closes the sockets. */
void nt_capture_close(void);

#endif
