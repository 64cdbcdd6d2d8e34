/*
 * fake.c - the in-memory transport and clock of the client's unit tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fake.h"

static int f_open(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    fake_t *f = ctx;
    f->opens++;
    if (f->open_rc == IPM_OK)
        f->is_open = true;
    return f->open_rc;
}

static int f_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    fake_t *f = ctx;
    assert_true(f->is_open);
    if (f->send_rc != IPM_OK)
        return f->send_rc;
    assert_true(f->out_len + len <= sizeof f->out);
    memcpy(f->out + f->out_len, buf, len);
    f->out_len += len;
    return IPM_OK;
}

static int f_recv(void *ctx, uint8_t *buf, size_t cap, uint32_t timeout_ms)
{
    fake_t *f = ctx;
    assert_true(f->is_open);
    size_t left = f->in_len - f->in_off;
    if (left == 0) {
        if (f->peer_closed)
            return IPM_ECLOSED;
        f->now += timeout_ms; /* nothing came: the wait passes */
        return 0;
    }
    size_t n = left < cap ? left : cap;
    if (f->chunk && n > f->chunk)
        n = f->chunk;
    memcpy(buf, f->in + f->in_off, n);
    f->in_off += n;
    return (int)n;
}

static void f_close(void *ctx)
{
    fake_t *f = ctx;
    f->is_open = false;
}

static uint32_t f_now(void *ctx)
{
    return ((fake_t *)ctx)->now;
}

static void f_sleep(void *ctx, uint32_t ms)
{
    ((fake_t *)ctx)->now += ms;
}

static void on_msg(ipm_client_t *c, const ipm_msg_t *m, void *user)
{
    fixture_t *x = user;
    x->msgs++;
    snprintf(x->last_topic, sizeof x->last_topic, "%.*s", (int)m->topic.len,
             (const char *)m->topic.data);
    snprintf(x->last_payload, sizeof x->last_payload, "%.*s", (int)m->payload.len,
             (const char *)m->payload.data);
    x->last_qos = m->qos;
    if (x->msgs <= 16)
        x->seqs[x->msgs - 1] = m->seq;
    if (x->ack_in_cb)
        ipm_client_ack(c, m->seq);
    if (x->disconnect_in_cb)
        assert_int_equal(ipm_client_disconnect(c, 0), IPM_OK);
}

static void on_event(ipm_client_t *c, const ipm_event_t *ev, void *user)
{
    fixture_t *x = user;
    x->events[ev->type]++;
    x->last_event_pid = ev->packet_id;
    x->last_event_seq = ev->seq;
}

void fx_init(fixture_t *x, uint8_t version)
{
    memset(x, 0, sizeof *x);
    x->f.version = version;
    x->tr = (ipm_transport_t){&x->f, f_open, f_send, f_recv, f_close};
    x->cfg = ipm_client_config_default();
    x->cfg.host = "fake";
    x->cfg.client_id = "unit";
    x->cfg.version = version;
    x->cfg.transport = &x->tr;
    x->cfg.platform = (ipm_platform_t){.now_ms = f_now, .sleep_ms = f_sleep, .ctx = &x->f};
    x->mem = (ipm_client_mem_t){x->rx, sizeof x->rx, x->tx, sizeof x->tx, x->store, sizeof x->store,
                                x->subs, sizeof x->subs, x->q2, 4, x->aliases, sizeof x->aliases,
                                x->acks, 3};
    fx_reinit(x);
}

void fx_reinit(fixture_t *x)
{
    assert_int_equal(ipm_client_init(&x->c, &x->cfg, &x->mem), IPM_OK);
    ipm_client_set_callback(&x->c, on_msg, x);
    ipm_client_set_event_cb(&x->c, on_event, x);
}

void fx_push_raw(fixture_t *x, const uint8_t *b, size_t n)
{
    fake_t *f = &x->f;
    assert_true(f->in_len + n <= sizeof f->in);
    memcpy(f->in + f->in_len, b, n);
    f->in_len += n;
}

void fx_push(fixture_t *x, const ipm_packet_t *p)
{
    uint8_t buf[1024];
    int64_t n = ipm_encode(p, x->f.version, buf, sizeof buf);
    assert_true(n > 0);
    fx_push_raw(x, buf, (size_t)n);
}

void fx_connack(fixture_t *x, bool session_present, uint8_t reason, const ipm_prop_t *props,
                uint16_t nprops)
{
    ipm_packet_t p = {.type = IPM_CONNACK};
    p.u.connack.session_present = session_present;
    p.u.connack.reason = reason;
    p.u.connack.props.list = props;
    p.u.connack.props.count = nprops;
    fx_push(x, &p);
}

void fx_ack(fixture_t *x, uint8_t type, uint16_t pid)
{
    ipm_packet_t p = {.type = type};
    p.u.ack.packet_id = pid;
    fx_push(x, &p);
}

int fx_next(fixture_t *x, ipm_packet_t *p)
{
    fake_t *f = &x->f;
    ipm_frame_t fr;
    if (f->out_off == f->out_len)
        return 0;
    assert_int_equal(ipm_frame(f->out + f->out_off, f->out_len - f->out_off, 0, &fr), IPM_OK);
    assert_int_equal(ipm_decode(&fr, f->out + f->out_off, f->version, p), IPM_OK);
    f->out_off += fr.total_len;
    return p->type;
}

void fx_connect(fixture_t *x)
{
    ipm_packet_t p;
    fx_connack(x, false, 0, NULL, 0);
    assert_int_equal(ipm_client_connect(&x->c), IPM_OK);
    assert_int_equal(fx_next(x, &p), IPM_CONNECT);
}
