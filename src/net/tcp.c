/*
 * tcp.c - the POSIX TCP transport: getaddrinfo, a non-blocking connect bounded by a
 * timeout, TCP_NODELAY (MQTT packets are small and latency matters more than batching),
 * and poll()-based send/recv so no call blocks longer than it was told.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net_int.h"

uint32_t ipm__mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

int ipm__fd_wait(int fd, short events, uint32_t timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    uint32_t start = ipm__mono_ms();
    for (;;) {
        uint32_t spent = ipm__mono_ms() - start;
        int left = spent >= timeout_ms ? 0 : (int)(timeout_ms - spent);
        int n = poll(&p, 1, left);
        if (n > 0)
            return 1;
        if (n == 0)
            return 0;
        if (errno != EINTR)
            return IPM_EIO;
    }
}

/* Connect one address within timeout_ms; the socket is left non-blocking. */
static int connect_one(const struct addrinfo *ai, uint32_t timeout_ms, int *out)
{
    int rc = IPM_EIO, one = 1;
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0)
        return IPM_EIO;
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
        goto out;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        if (errno != EINPROGRESS)
            goto out;
        int w = ipm__fd_wait(fd, POLLOUT, timeout_ms);
        if (w <= 0) {
            rc = w == 0 ? IPM_ETIMEOUT : w;
            goto out;
        }
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0)
            goto out;
    }
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *out = fd;
    fd = -1;
    rc = IPM_OK;
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

int ipm__tcp_open(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    ipm_tcp_t *t = ctx;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    char service[8];
    t->fd = -1;
    snprintf(service, sizeof service, "%u", (unsigned)port);
    if (!host || getaddrinfo(host, service, &hints, &res) != 0)
        return IPM_ERESOLVE;
    int rc = IPM_EIO;
    uint32_t start = ipm__mono_ms();
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        uint32_t spent = ipm__mono_ms() - start;
        if (spent >= timeout_ms) {
            rc = IPM_ETIMEOUT;
            break;
        }
        rc = connect_one(ai, timeout_ms - spent, &t->fd);
        if (rc == IPM_OK)
            break;
    }
    freeaddrinfo(res);
    return rc;
}

void ipm__tcp_close(void *ctx)
{
    ipm_tcp_t *t = ctx;
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
}

int ipm__tcp_write_some(int fd, const uint8_t *buf, size_t len)
{
    for (;;) {
        /* MSG_NOSIGNAL: a peer that went away is an error to return, not a SIGPIPE. */
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0)
            return (int)n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        return errno == EPIPE || errno == ECONNRESET ? IPM_ECLOSED : IPM_EIO;
    }
}

int ipm__tcp_read_some(int fd, uint8_t *buf, size_t cap)
{
    for (;;) {
        ssize_t n = recv(fd, buf, cap > 0x7FFFFFFF ? 0x7FFFFFFF : cap, 0);
        if (n > 0)
            return (int)n;
        if (n == 0)
            return IPM_ECLOSED;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        return errno == ECONNRESET ? IPM_ECLOSED : IPM_EIO;
    }
}

static int tcp_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    ipm_tcp_t *t = ctx;
    uint32_t start = ipm__mono_ms();
    size_t off = 0;
    while (off < len) {
        size_t chunk = len - off > 0x7FFFFFFF ? 0x7FFFFFFF : len - off;
        int n = ipm__tcp_write_some(t->fd, buf + off, chunk);
        if (n < 0)
            return n;
        off += (size_t)n;
        if (n > 0)
            continue;
        uint32_t spent = ipm__mono_ms() - start;
        int w = spent >= timeout_ms ? 0 : ipm__fd_wait(t->fd, POLLOUT, timeout_ms - spent);
        if (w <= 0)
            return w == 0 ? IPM_ETIMEOUT : w;
    }
    return IPM_OK;
}

static int tcp_recv(void *ctx, uint8_t *buf, size_t cap, uint32_t timeout_ms)
{
    ipm_tcp_t *t = ctx;
    if (t->fd < 0)
        return IPM_ECLOSED;
    int w = ipm__fd_wait(t->fd, POLLIN, timeout_ms);
    return w <= 0 ? w : ipm__tcp_read_some(t->fd, buf, cap);
}

void ipm_tcp_init(ipm_tcp_t *t, ipm_transport_t *out)
{
    t->fd = -1;
    *out = (ipm_transport_t){.ctx = t, .open = ipm__tcp_open, .send = tcp_send,
                             .recv = tcp_recv, .close = ipm__tcp_close};
}
