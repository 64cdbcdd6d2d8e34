/*
 * net_int.h - what the host transports share: the TCP transport's functions, so TLS can
 * run over TCP's socket instead of repeating it, and the poll-based wait.
 */
#ifndef IOTPLOT_NET_INT_H
#define IOTPLOT_NET_INT_H

#include "iotplot/net.h"

/* Wait until fd is ready for `events` (POLLIN/POLLOUT): 1 ready, 0 timeout, <0 IPM_E*. */
int ipm__fd_wait(int fd, short events, uint32_t timeout_ms);
/* Monotonic milliseconds. */
uint32_t ipm__mono_ms(void);
/* TCP transport operations on an ipm_tcp_t. */
int ipm__tcp_open(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms);
void ipm__tcp_close(void *ctx);
/* One non-blocking send (never SIGPIPE): bytes sent, 0 if the socket is full, or IPM_E*. */
int ipm__tcp_write_some(int fd, const uint8_t *buf, size_t len);
/* One non-blocking recv: bytes read, 0 if none ready, IPM_ECLOSED at end, or IPM_EIO. */
int ipm__tcp_read_some(int fd, uint8_t *buf, size_t cap);

#endif /* IOTPLOT_NET_INT_H */
