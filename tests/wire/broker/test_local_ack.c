/*
 * test_local_ack.c - in-process receivers that acknowledge later (ipb_local_receiver_new):
 * a client's PUBACK / PUBREC waits for the receiver's token, acknowledgements keep the
 * order of their packets, a client that left gets nothing, a refused message is not
 * acknowledged, and a QoS 2 resend is neither delivered again nor acknowledged before the
 * first copy is. Clients are fake transports fed bytes; what the broker writes is kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "broker/broker.h"
#include "broker/internal.h"

#include "fake_transport.h"

/* What the broker wrote since the last call must be exactly want. */
static void expect_out(fake_t *f, const uint8_t *want, size_t len)
{
    assert_int_equal(f->nout - f->seen, len);
    if (len)
        assert_memory_equal(f->out + f->seen, want, len);
    f->seen = f->nout;
}

/* CONNECT (3.1.1) of client id `id` (one letter), clean session or not; its CONNACK. */
static ipb_conn_t *client(ipb_broker_t *b, uv_loop_t *loop, fake_t *f, char id, bool clean,
                          bool present)
{
    *f = (fake_t){.base.vt = &fake_vt};
    ipb_conn_t *c = ipb_conn_new(b, 0, &f->base);
    assert_non_null(c);
    const uint8_t hello[] = {0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, clean ? 2 : 0, 0, 60,
                             0, 1, (uint8_t)id};
    fake_feed(c, hello, sizeof hello);
    uv_run(loop, UV_RUN_NOWAIT);
    const uint8_t connack[] = {0x20, 2, present, 0};
    expect_out(f, connack, sizeof connack);
    return c;
}

/* PUBLISH of one byte of payload on a three-letter topic. */
static void publish(ipb_conn_t *c, const char *topic, uint8_t qos, bool dup, uint16_t pid)
{
    uint8_t p[] = {(uint8_t)(0x30 | (dup ? 8 : 0) | qos << 1), 8, 0, 3,
                   (uint8_t)topic[0], (uint8_t)topic[1], (uint8_t)topic[2],
                   (uint8_t)(pid >> 8), (uint8_t)pid, 'x'};
    if (qos) {
        fake_feed(c, p, sizeof p);
    } else { /* no packet id */
        p[1] = 6;
        p[7] = 'x';
        fake_feed(c, p, 8);
    }
}

/* ---- the receiver ---- */

typedef struct {
    int n;
    uint64_t last_token;
    char last_topic[16];
    int refuse; /* refuse the next one */
    /* QoS 2 exchanges (ipb_local_receiver_qos2): the last message's, the last PUBREL's */
    char last_client[8];
    uint16_t last_pid;
    bool last_dup;
    int nrel;
    char rel_client[8];
    uint16_t rel_pid;
    uint64_t rel_token;
} rx_t;

static int on_msg(void *arg, const ipb_local_msg_t *m)
{
    rx_t *rx = arg;
    rx->n++;
    rx->last_token = m->token;
    snprintf(rx->last_client, sizeof rx->last_client, "%s", m->client_id ? m->client_id : "");
    rx->last_pid = m->packet_id;
    rx->last_dup = m->dup;
    snprintf(rx->last_topic, sizeof rx->last_topic, "%.*s", (int)m->topic_len, m->topic);
    if (rx->refuse) {
        rx->refuse = 0;
        return -1;
    }
    return 0;
}

static int on_rel(void *arg, const char *client_id, uint16_t pid, uint64_t token)
{
    rx_t *rx = arg;
    rx->nrel++;
    snprintf(rx->rel_client, sizeof rx->rel_client, "%s", client_id);
    rx->rel_pid = pid;
    rx->rel_token = token;
    if (rx->refuse) {
        rx->refuse = 0;
        return -1;
    }
    return 0;
}

static void closed(void *arg)
{
    *(int *)arg = 1;
}

static ipb_broker_t *new_broker_in(uv_loop_t *loop, const char *store_dir)
{
    ipb_config_t cfg;
    ipb_config_init(&cfg);
    cfg.log_dest = IPB_LOG_DEST_NONE;
    cfg.sys_interval = 0;
    if (store_dir) {
        cfg.persistence = true;
        snprintf(cfg.persistence_location, sizeof cfg.persistence_location, "%s", store_dir);
    }
    ipb_config_add_listener(&cfg, 0, "127.0.0.1");
    ipb_broker_t *b = NULL;
    assert_int_equal(ipb_broker_new(loop, &cfg, &b), 0);
    assert_int_equal(ipb_broker_start(b), 0);
    return b;
}

static ipb_broker_t *new_broker(uv_loop_t *loop)
{
    return new_broker_in(loop, NULL);
}

static void finish(uv_loop_t *loop, ipb_broker_t *b)
{
    int done = 0;
    ipb_broker_close(b, closed, &done);
    while (!done)
        uv_run(loop, UV_RUN_ONCE);
    assert_int_equal(uv_loop_close(loop), 0);
}

/* Acknowledge up to token, and let the loop send what that releases. */
static void ack(uv_loop_t *loop, ipb_local_receiver_t *r, uint64_t token)
{
    ipb_local_ack(r, token);
    uv_run(loop, UV_RUN_NOWAIT);
}

static void test_order(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    ipb_broker_t *b = new_broker(&loop);
    rx_t rx = {0};
    ipb_local_receiver_t *r;
    assert_int_equal(ipb_local_receiver_new(b, on_msg, &rx, &r), 0);
    assert_int_equal(ipb_local_subscribe_receiver(b, "r/#", 1, r), 0);
    fake_t f;
    ipb_conn_t *c = client(b, &loop, &f, 'p', true, false);

    /* r/a waits for token 1; x/b has no receiver but comes after it; r/c waits for 2. */
    publish(c, "r/a", 1, false, 1);
    assert_int_equal(rx.last_token, 1);
    publish(c, "x/b", 1, false, 2);
    publish(c, "r/c", 1, false, 3);
    assert_int_equal(rx.last_token, 2);
    uv_run(&loop, UV_RUN_NOWAIT);
    expect_out(&f, NULL, 0);

    ack(&loop, r, 1);
    const uint8_t first[] = {0x40, 2, 0, 1, 0x40, 2, 0, 2};
    expect_out(&f, first, sizeof first);
    ack(&loop, r, 1); /* again: nothing more */
    expect_out(&f, NULL, 0);
    ack(&loop, r, 2);
    const uint8_t third[] = {0x40, 2, 0, 3};
    expect_out(&f, third, sizeof third);

    /* Nothing waits now: PUBACK at once; QoS 0 and in-process publishes have no token. */
    publish(c, "x/d", 1, false, 4);
    uv_run(&loop, UV_RUN_NOWAIT);
    const uint8_t fourth[] = {0x40, 2, 0, 4};
    expect_out(&f, fourth, sizeof fourth);
    publish(c, "r/e", 0, false, 0);
    assert_int_equal(rx.n, 3);
    assert_int_equal(rx.last_token, 0);
    assert_int_equal(ipb_local_publish(b, "r/f", (const uint8_t *)"y", 1, 1, false), 0);
    assert_int_equal(rx.n, 4);
    assert_int_equal(rx.last_token, 0);

    /* Two receivers: the PUBACK waits for both. */
    rx_t rx2 = {0};
    ipb_local_receiver_t *r2;
    assert_int_equal(ipb_local_receiver_new(b, on_msg, &rx2, &r2), 0);
    assert_int_equal(ipb_local_subscribe_receiver(b, "r/+", 1, r2), 0);
    publish(c, "r/g", 1, false, 5);
    assert_int_equal(rx.last_token, 3);
    assert_int_equal(rx2.last_token, 1);
    ack(&loop, r2, 1);
    expect_out(&f, NULL, 0);
    ack(&loop, r, 3);
    const uint8_t fifth[] = {0x40, 2, 0, 5};
    expect_out(&f, fifth, sizeof fifth);
    assert_int_equal(ipb_local_unsubscribe_receiver(b, "r/+", r2), 0);
    assert_int_equal(ipb_local_unsubscribe_receiver(b, "r/+", r2), IPM_EINVALID);
    finish(&loop, b);
    assert_true(f.closed);
}

static void test_gone_and_refused(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    ipb_broker_t *b = new_broker(&loop);
    rx_t rx = {0};
    ipb_local_receiver_t *r;
    assert_int_equal(ipb_local_receiver_new(b, on_msg, &rx, &r), 0);
    assert_int_equal(ipb_local_subscribe_receiver(b, "r/#", 1, r), 0);

    /* A client that leaves before its token is acknowledged gets nothing. */
    fake_t f;
    ipb_conn_t *c = client(b, &loop, &f, 'p', true, false);
    publish(c, "r/a", 1, false, 1);
    assert_int_equal(rx.last_token, 1);
    ipb_conn_on_read(c, UV_EOF, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_true(f.closed);
    size_t written = f.nout;
    ack(&loop, r, 1);
    assert_int_equal(f.nout, written);

    /* A message the receiver refuses is not acknowledged: the client is disconnected. */
    fake_t g;
    c = client(b, &loop, &g, 'q', true, false);
    publish(c, "x/a", 1, false, 1); /* no receiver: acknowledged */
    uv_run(&loop, UV_RUN_NOWAIT);
    const uint8_t puback1[] = {0x40, 2, 0, 1};
    expect_out(&g, puback1, sizeof puback1);
    rx.refuse = 1;
    publish(c, "r/b", 1, false, 2);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(rx.last_token, 2);
    assert_true(g.closed);
    expect_out(&g, NULL, 0);
    ack(&loop, r, 2); /* its token, acknowledged later, sends nothing either */
    expect_out(&g, NULL, 0);

    /* Tokens go on from there for the next client. */
    fake_t h;
    c = client(b, &loop, &h, 's', true, false);
    publish(c, "r/c", 1, false, 9);
    assert_int_equal(rx.last_token, 3);
    ack(&loop, r, 3);
    const uint8_t puback9[] = {0x40, 2, 0, 9};
    expect_out(&h, puback9, sizeof puback9);
    finish(&loop, b);
}

static void test_qos2_resend(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    ipb_broker_t *b = new_broker(&loop);
    rx_t rx = {0};
    ipb_local_receiver_t *r;
    assert_int_equal(ipb_local_receiver_new(b, on_msg, &rx, &r), 0);
    assert_int_equal(ipb_local_subscribe_receiver(b, "r/#", 1, r), 0);

    /* QoS 2 pid 7: delivered, its PUBREC waits; the client leaves (its session stays). */
    fake_t f;
    ipb_conn_t *c = client(b, &loop, &f, 'q', false, false);
    publish(c, "r/a", 2, false, 7);
    assert_int_equal(rx.n, 1);
    uv_run(&loop, UV_RUN_NOWAIT);
    expect_out(&f, NULL, 0);
    ipb_conn_on_read(c, UV_EOF, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);

    /* Back, it sends pid 7 again: not delivered again, and no PUBREC before token 1. */
    fake_t g;
    c = client(b, &loop, &g, 'q', false, true);
    publish(c, "r/a", 2, true, 7);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(rx.n, 1);
    expect_out(&g, NULL, 0);
    ack(&loop, r, 1);
    const uint8_t pubrec[] = {0x50, 2, 0, 7};
    expect_out(&g, pubrec, sizeof pubrec);
    const uint8_t pubrel[] = {0x62, 2, 0, 7};
    fake_feed(c, pubrel, sizeof pubrel);
    uv_run(&loop, UV_RUN_NOWAIT);
    const uint8_t pubcomp[] = {0x70, 2, 0, 7};
    expect_out(&g, pubcomp, sizeof pubcomp);

    /* The id is free again: a new message under it is delivered. */
    publish(c, "r/b", 2, false, 7);
    assert_int_equal(rx.n, 2);
    assert_int_equal(rx.last_token, 2);
    ack(&loop, r, 2);
    expect_out(&g, pubrec, sizeof pubrec);
    finish(&loop, b);
}

/* With `persistence true`: the receiver's token first, then the commit of what the
 * packet stored (a QoS 2 id of a persistent session). */
static void test_with_persistence(void **state)
{
    (void)state;
    char dir[] = "/tmp/iotplot-local-ack-XXXXXX";
    assert_non_null(mkdtemp(dir));
    uv_loop_t loop;
    uv_loop_init(&loop);
    ipb_broker_t *b = new_broker_in(&loop, dir);
    rx_t rx = {0};
    ipb_local_receiver_t *r;
    assert_int_equal(ipb_local_receiver_new(b, on_msg, &rx, &r), 0);
    assert_int_equal(ipb_local_subscribe_receiver(b, "r/#", 1, r), 0);
    fake_t f;
    ipb_conn_t *c = client(b, &loop, &f, 'q', false, false);
    for (int i = 0; i < 50 && f.nout == f.seen; i++)
        uv_run(&loop, UV_RUN_NOWAIT); /* the session's row committed */
    publish(c, "r/a", 2, false, 3);
    publish(c, "x/b", 1, false, 4); /* behind it */
    for (int i = 0; i < 20; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    expect_out(&f, NULL, 0);
    ipb_local_ack(r, 1);
    const uint8_t want[] = {0x50, 2, 0, 3, 0x40, 2, 0, 4};
    for (int i = 0; i < 2000 && f.nout - f.seen < sizeof want; i++)
        uv_run(&loop, UV_RUN_ONCE); /* the token, then the commit on its worker thread */
    expect_out(&f, want, sizeof want);
    finish(&loop, b);
    char path[128];
    snprintf(path, sizeof path, "rm -rf %s", dir);
    assert_int_equal(system(path), 0);
}

/* A receiver that records QoS 2 exchanges: told (client, id, DUP) with each QoS 2
 * message, and every PUBREL, known to the broker or not, whose PUBCOMP waits for it. */
static void test_qos2_records(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    ipb_broker_t *b = new_broker(&loop);
    rx_t rx = {0}, plain = {0};
    ipb_local_receiver_t *r, *p;
    assert_int_equal(ipb_local_receiver_new(b, on_msg, &rx, &r), 0);
    assert_int_equal(ipb_local_receiver_qos2(r, on_rel), 0);
    assert_int_equal(ipb_local_receiver_qos2(r, on_rel), IPM_EINVALID);
    assert_int_equal(ipb_local_receiver_qos2(NULL, on_rel), IPM_EINVALID);
    assert_int_equal(ipb_local_subscribe_receiver(b, "r/#", 1, r), 0);
    assert_int_equal(ipb_local_receiver_new(b, on_msg, &plain, &p), 0);
    assert_int_equal(ipb_local_subscribe_receiver(b, "r/#", 1, p), 0);
    fake_t f;
    ipb_conn_t *c = client(b, &loop, &f, 'q', false, false);

    /* QoS 1: no exchange to name. QoS 2: named to r only. */
    publish(c, "r/a", 1, false, 1);
    assert_int_equal(rx.last_pid, 0);
    assert_string_equal(rx.last_client, "");
    publish(c, "r/b", 2, true, 7); /* a resend the broker has no record of: routed */
    assert_int_equal(rx.n, 2);
    assert_string_equal(rx.last_client, "q");
    assert_int_equal(rx.last_pid, 7);
    assert_true(rx.last_dup);
    assert_int_equal(plain.n, 2);
    assert_int_equal(plain.last_pid, 0);
    ack(&loop, p, 2);
    ack(&loop, r, 2);
    const uint8_t acks[] = {0x40, 2, 0, 1, 0x50, 2, 0, 7};
    expect_out(&f, acks, sizeof acks);

    /* PUBREL 7: given to r (not p) with a token; the PUBCOMP waits for it. */
    const uint8_t pubrel7[] = {0x62, 2, 0, 7};
    fake_feed(c, pubrel7, sizeof pubrel7);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(rx.nrel, 1);
    assert_string_equal(rx.rel_client, "q");
    assert_int_equal(rx.rel_pid, 7);
    assert_int_equal(rx.rel_token, 3);
    assert_int_equal(plain.nrel, 0);
    expect_out(&f, NULL, 0);
    ack(&loop, r, 3);
    const uint8_t pubcomp7[] = {0x70, 2, 0, 7};
    expect_out(&f, pubcomp7, sizeof pubcomp7);

    /* A PUBREL the broker does not know (it restarted): still r's, still waits. */
    const uint8_t pubrel9[] = {0x62, 2, 0, 9};
    fake_feed(c, pubrel9, sizeof pubrel9);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(rx.nrel, 2);
    assert_int_equal(rx.rel_pid, 9);
    expect_out(&f, NULL, 0);
    ack(&loop, r, 4);
    const uint8_t pubcomp9[] = {0x70, 2, 0, 9};
    expect_out(&f, pubcomp9, sizeof pubcomp9);

    /* A PUBREL r cannot take: the client is closed without its PUBCOMP. */
    rx.refuse = 1;
    fake_feed(c, pubrel9, sizeof pubrel9);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(rx.nrel, 3);
    assert_true(f.closed);

    /* A clean start: r forgets every id of the client (packet id 0, nothing waits). */
    fake_t g;
    client(b, &loop, &g, 'z', true, false);
    assert_int_equal(rx.nrel, 4);
    assert_string_equal(rx.rel_client, "z");
    assert_int_equal(rx.rel_pid, 0);
    assert_int_equal(rx.rel_token, 0);
    finish(&loop, b);
}

/* With `persistence true`, a QoS 2 id whose message such a receiver took is committed
 * only after the receiver acknowledged it: a broker stopped before that does not take
 * the client's resend for stored, and routes it (the receiver recognises it). */
static void test_qos2_records_persisted(void **state)
{
    (void)state;
    char dir[] = "/tmp/iotplot-local-ack-XXXXXX";
    assert_non_null(mkdtemp(dir));
    for (int round = 0; round < 3; round++) {
        uv_loop_t loop;
        uv_loop_init(&loop);
        ipb_broker_t *b = new_broker_in(&loop, dir);
        rx_t rx = {0};
        ipb_local_receiver_t *r;
        assert_int_equal(ipb_local_receiver_new(b, on_msg, &rx, &r), 0);
        assert_int_equal(ipb_local_receiver_qos2(r, on_rel), 0);
        assert_int_equal(ipb_local_subscribe_receiver(b, "r/#", 1, r), 0);
        fake_t f;
        ipb_conn_t *c = client(b, &loop, &f, 'q', false, round > 0);
        for (int i = 0; i < 50 && round == 0 && f.nout == f.seen; i++)
            uv_run(&loop, UV_RUN_NOWAIT); /* the session's row committed */
        publish(c, "r/a", 2, round > 0, 3);
        if (round < 2) {
            /* 0: first sent, never acknowledged by r. 1: the resend is routed (the id was
             * not committed), and now acknowledged: the id is committed, then PUBREC. */
            assert_int_equal(rx.n, 1);
            assert_int_equal(rx.last_dup, round > 0);
        } else {
            /* 2: the broker has the id: not routed, PUBREC at once. */
            assert_int_equal(rx.n, 0);
        }
        if (round == 1) {
            ack(&loop, r, 1);
            const uint8_t pubrec[] = {0x50, 2, 0, 3};
            for (int i = 0; i < 2000 && f.nout - f.seen < sizeof pubrec; i++)
                uv_run(&loop, UV_RUN_ONCE); /* the commit on its worker thread */
            expect_out(&f, pubrec, sizeof pubrec);
        }
        if (round == 2) {
            const uint8_t pubrec[] = {0x50, 2, 0, 3};
            for (int i = 0; i < 2000 && f.nout - f.seen < sizeof pubrec; i++)
                uv_run(&loop, UV_RUN_ONCE);
            expect_out(&f, pubrec, sizeof pubrec);
        }
        finish(&loop, b);
    }
    char path[128];
    snprintf(path, sizeof path, "rm -rf %s", dir);
    assert_int_equal(system(path), 0);
}

static void test_errors(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    ipb_broker_t *b = new_broker(&loop);
    rx_t rx = {0};
    ipb_local_receiver_t *r;
    assert_int_equal(ipb_local_receiver_new(b, NULL, &rx, &r), IPM_EINVALID);
    assert_int_equal(ipb_local_receiver_new(b, on_msg, &rx, &r), 0);
    assert_int_equal(ipb_local_subscribe_receiver(b, "r/#", 3, r), IPM_EINVALID);
    assert_int_equal(ipb_local_subscribe_receiver(b, "r/#/x", 1, r), IPM_EBAD_FILTER);
    assert_int_equal(ipb_local_subscribe_receiver(b, "r/#", 1, NULL), IPM_EINVALID);
    /* Tokens outstanding when the broker closes are freed with it. */
    fake_t f;
    ipb_conn_t *c = client(b, &loop, &f, 'p', true, false);
    assert_int_equal(ipb_local_subscribe_receiver(b, "r/#", 1, r), 0);
    publish(c, "r/a", 1, false, 1);
    assert_int_equal(rx.last_token, 1);
    finish(&loop, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_gone_and_refused),
        cmocka_unit_test(test_qos2_resend),
        cmocka_unit_test(test_with_persistence),
        cmocka_unit_test(test_qos2_records),
        cmocka_unit_test(test_qos2_records_persisted),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
