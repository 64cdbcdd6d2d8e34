/*
 * fake_transport.h - a transport for the broker's in-process tests: connections fed bytes
 * by the test (fake_feed), and what the broker writes kept whole (out, nout), with the
 * number of writes it took. Header only: each test program includes it once.
 */
#ifndef IOTPLOT_TEST_FAKE_TRANSPORT_H
#define IOTPLOT_TEST_FAKE_TRANSPORT_H

#include <stdio.h>
#include <string.h>

#include "broker/internal.h"

typedef struct {
    ipb_transport_t base;
    uint8_t out[4096];
    size_t nout, seen; /* bytes written, bytes the test has checked */
    unsigned writes;
    bool closed;
} fake_t;

static inline int fake_nop(ipb_transport_t *t)
{
    (void)t;
    return 0;
}

static inline int fake_try_write(ipb_transport_t *t, const uv_buf_t *bufs, unsigned n)
{
    fake_t *f = (fake_t *)t;
    size_t total = 0;
    f->writes++;
    for (unsigned i = 0; i < n; i++) {
        assert_true(f->nout + bufs[i].len <= sizeof f->out);
        memcpy(f->out + f->nout, bufs[i].base, bufs[i].len);
        f->nout += bufs[i].len;
        total += bufs[i].len;
    }
    return (int)total;
}

static inline int fake_write(ipb_transport_t *t, const uv_buf_t *bufs, unsigned n)
{
    (void)t, (void)bufs, (void)n;
    return UV_EIO; /* try_write always takes everything */
}

static inline void fake_close(ipb_transport_t *t)
{
    fake_t *f = (fake_t *)t;
    f->closed = true;
    ipb_conn_on_closed(t->conn);
}

static inline void fake_peer(ipb_transport_t *t, char *buf, size_t len)
{
    (void)t;
    snprintf(buf, len, "fake:1");
}

static const ipb_transport_vt fake_vt = {.name = "fake",
                                         .read_start = fake_nop,
                                         .read_stop = fake_nop,
                                         .try_write = fake_try_write,
                                         .write = fake_write,
                                         .close = fake_close,
                                         .peer = fake_peer};

/* The client sends data: as the transport's read callback would hand it to the broker. */
static inline void fake_feed(ipb_conn_t *c, const uint8_t *data, size_t len)
{
    uv_buf_t buf;
    ipb_conn_read_buf(c, len, &buf);
    assert_true(buf.len >= len);
    memcpy(buf.base, data, len);
    ipb_conn_on_read(c, (ssize_t)len, &buf);
}

#endif
