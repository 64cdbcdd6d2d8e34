/*
 * fuzz_broker.c - a whole broker connection fed arbitrary bytes, in-process: no sockets,
 * a fake transport behind ipb_transport_vt. A second, well-behaved client subscribed to
 * everything watches, so whatever the fuzzed client gets through is also fanned out,
 * retained, queued and encoded for someone else. The first input byte picks how the
 * bytes are cut into reads.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    ipb_transport_t base;
    bool closed;
} fake_t;

static int fake_read(ipb_transport_t *t) { (void)t; return 0; }

static volatile uint8_t sink;

static int fake_try_write(ipb_transport_t *t, const uv_buf_t *bufs, unsigned n)
{
    size_t total = 0;
    (void)t;
    for (unsigned i = 0; i < n; i++) {
        for (size_t k = 0; k < bufs[i].len; k++)
            sink ^= (uint8_t)bufs[i].base[k]; /* touch every byte: ASan checks them */
        total += bufs[i].len;
    }
    return (int)total;
}

static int fake_write(ipb_transport_t *t, const uv_buf_t *bufs, unsigned n)
{
    (void)t; (void)bufs; (void)n;
    abort(); /* try_write always takes everything */
}

static void fake_close(ipb_transport_t *t) { ((fake_t *)t)->closed = true; }

static void fake_peer(ipb_transport_t *t, char *buf, size_t len)
{
    (void)t;
    strncpy(buf, "127.0.0.1:1", len - 1);
    buf[len - 1] = '\0';
}

static const ipb_transport_vt fake_vt = {
    .name = "fuzz",
    .read_start = fake_read,
    .read_stop = fake_read,
    .try_write = fake_try_write,
    .write = fake_write,
    .close = fake_close,
    .peer = fake_peer,
};

static uv_loop_t loop;
static ipb_broker_t *broker;
static unsigned inputs;
static uint8_t watcher_bytes[128];
static size_t watcher_len;

static void encode(const ipm_packet_t *p)
{
    int64_t n = ipm_encode(p, IPM_PROTO_V5, watcher_bytes + watcher_len,
                           sizeof watcher_bytes - watcher_len);
    if (n < 0)
        abort();
    watcher_len += (size_t)n;
}

static void make_watcher(void)
{
    ipm_packet_t c = {.type = IPM_CONNECT};
    c.u.connect.version = IPM_PROTO_V5;
    c.u.connect.clean_start = true;
    c.u.connect.client_id = ipm_str("watcher");
    encode(&c);
    ipm_sub_t subs[] = {{ipm_str("#"), 2}, {ipm_str("$SYS/#"), 1}, {ipm_str("$share/g/+"), 1}};
    ipm_packet_t s = {.type = IPM_SUBSCRIBE};
    s.u.subscribe.packet_id = 1;
    s.u.subscribe.subs = subs;
    s.u.subscribe.count = 3;
    encode(&s);
}

static void closed(void *arg) { *(bool *)arg = true; }

static void reset_broker(void)
{
    if (broker) {
        bool done = false;
        ipb_broker_close(broker, closed, &done);
        while (!done)
            uv_run(&loop, UV_RUN_ONCE);
    }
    ipb_config_t cfg;
    ipb_config_init(&cfg);
    cfg.log_dest = IPB_LOG_DEST_NONE;
    cfg.sys_interval = 0;
    cfg.max_sessions = 64;
    cfg.max_queued_messages = 100;
    if (ipb_broker_new(&loop, &cfg, &broker) || ipb_broker_start(broker))
        abort();
}

/* Deliver bytes as the transport would, in reads of `chunk` bytes. */
static void feed(ipb_conn_t *c, fake_t *f, const uint8_t *p, size_t n, size_t chunk)
{
    while (n && !f->closed) {
        uv_buf_t buf;
        ipb_conn_read_buf(c, chunk, &buf);
        if (!buf.base || !buf.len)
            abort();
        size_t k = n < chunk ? n : chunk;
        if (k > buf.len)
            k = buf.len;
        memcpy(buf.base, p, k);
        ipb_conn_on_read(c, (ssize_t)k, &buf);
        p += k;
        n -= k;
        uv_run(&loop, UV_RUN_NOWAIT); /* flushes happen once per loop turn */
    }
}

static void hang_up(ipb_conn_t *c, fake_t *f)
{
    if (!f->closed)
        ipb_conn_on_read(c, UV_EOF, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    ipb_conn_on_closed(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!broker) {
        uv_loop_init(&loop);
        make_watcher();
    }
    if (inputs++ % 2000 == 0)
        reset_broker(); /* bounded state; the reset itself is exercised too */
    if (size < 1)
        return 0;
    fake_t w = {{&fake_vt, NULL}, false}, f = {{&fake_vt, NULL}, false};
    ipb_conn_t *wc = ipb_conn_new(broker, 0, &w.base);
    ipb_conn_t *fc = ipb_conn_new(broker, 0, &f.base);
    if (!wc || !fc)
        abort();
    feed(wc, &w, watcher_bytes, watcher_len, watcher_len);
    feed(fc, &f, data + 1, size - 1, 1 + data[0] % 97);
    hang_up(fc, &f);
    hang_up(wc, &w);
    return 0;
}
