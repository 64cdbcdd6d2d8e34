/*
 * test_local_api.c - the in-process subscriber/publisher API used by `iotplot serve`,
 * and a broker created, started on an ephemeral port and closed inside one process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "broker/broker.h"
#include "broker/internal.h"

typedef struct {
    ipb_broker_t *b;
    int n;
    char last_topic[64];
    char last_payload[64];
    bool last_retain;
    uint8_t last_qos;
    bool republish; /* publish from inside the callback */
} rx_t;

static void on_msg(void *arg, const char *topic, size_t tlen, const uint8_t *payload,
                   size_t plen, uint8_t qos, bool retain)
{
    rx_t *rx = arg;
    rx->n++;
    snprintf(rx->last_topic, sizeof rx->last_topic, "%.*s", (int)tlen, topic);
    snprintf(rx->last_payload, sizeof rx->last_payload, "%.*s", (int)plen, (const char *)payload);
    rx->last_retain = retain;
    rx->last_qos = qos;
    if (rx->republish) {
        rx->republish = false;
        assert_int_equal(ipb_local_publish(rx->b, "loop/back", (const uint8_t *)"again", 5, 0,
                                           false), 0);
        /* Delivered after this callback returns, not inside it. */
        assert_string_equal(rx->last_topic, "loop/in");
    }
}

typedef struct {
    int n;
    char user[32]; /* "(null)" for none */
    char topic[64];
    bool retain;
} from_t;

static void on_from(void *arg, const char *user, const char *topic, size_t tlen,
                    const uint8_t *payload, size_t plen, uint8_t qos, bool retain)
{
    from_t *rx = arg;
    (void)payload;
    (void)plen;
    (void)qos;
    rx->n++;
    snprintf(rx->user, sizeof rx->user, "%s", user ? user : "(null)");
    snprintf(rx->topic, sizeof rx->topic, "%.*s", (int)tlen, topic);
    rx->retain = retain;
}

static void closed(void *arg)
{
    *(int *)arg = 1;
}

static ipb_broker_t *new_broker(uv_loop_t *loop)
{
    ipb_config_t cfg;
    ipb_config_init(&cfg);
    cfg.log_dest = IPB_LOG_DEST_NONE;
    cfg.sys_interval = 0;
    ipb_config_add_listener(&cfg, 0, "127.0.0.1");
    ipb_broker_t *b = NULL;
    assert_int_equal(ipb_broker_new(loop, &cfg, &b), 0);
    return b;
}

static void finish(uv_loop_t *loop, ipb_broker_t *b)
{
    int done = 0;
    ipb_broker_close(b, closed, &done);
    while (!done)
        uv_run(loop, UV_RUN_ONCE);
    assert_int_equal(uv_loop_close(loop), 0);
}

static void test_publish_subscribe(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    ipb_broker_t *b = new_broker(&loop);
    assert_int_equal(ipb_broker_start(b), 0);
    assert_true(ipb_broker_port(b, 0) > 0);
    rx_t rx = {.b = b};
    assert_int_equal(ipb_local_publish(b, "plots/s1/data", (const uint8_t *)"[1,2]", 5, 1, true),
                     0);
    assert_int_equal(ipb_local_subscribe(b, "plots/+/data", 1, on_msg, &rx), 0);
    assert_int_equal(rx.n, 1);
    assert_true(rx.last_retain);
    assert_string_equal(rx.last_payload, "[1,2]");
    assert_int_equal(ipb_local_publish(b, "plots/s2/data", (const uint8_t *)"x", 1, 2, false), 0);
    assert_int_equal(rx.n, 2);
    assert_false(rx.last_retain);
    assert_int_equal(rx.last_qos, 1);
    assert_string_equal(rx.last_topic, "plots/s2/data");
    assert_int_equal(ipb_local_publish(b, "other", (const uint8_t *)"x", 1, 0, false), 0);
    assert_int_equal(rx.n, 2);
    assert_int_equal(ipb_local_unsubscribe(b, "plots/+/data", on_msg, &rx), 0);
    assert_int_equal(ipb_local_unsubscribe(b, "plots/+/data", on_msg, &rx), IPM_EINVALID);
    assert_int_equal(ipb_local_publish(b, "plots/s2/data", (const uint8_t *)"x", 1, 0, false), 0);
    assert_int_equal(rx.n, 2);
    finish(&loop, b);
}

static void test_errors_and_reentry(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    ipb_broker_t *b = new_broker(&loop);
    rx_t rx = {.b = b};
    assert_int_equal(ipb_local_subscribe(b, "a/#/b", 0, on_msg, &rx), IPM_EBAD_FILTER);
    assert_int_equal(ipb_local_subscribe(b, "$share//x", 0, on_msg, &rx), IPM_EBAD_FILTER);
    assert_int_equal(ipb_local_subscribe(b, "a", 3, on_msg, &rx), IPM_EINVALID);
    assert_int_equal(ipb_local_publish(b, "a/+", NULL, 0, 0, false), IPM_EBAD_TOPIC);
    assert_int_equal(ipb_local_publish(b, "a", NULL, 0, 3, false), IPM_EBAD_QOS);
    assert_int_equal(ipb_local_subscribe(b, "loop/#", 0, on_msg, &rx), 0);
    assert_int_equal(ipb_local_subscribe(b, "$share/g/loop/#", 0, on_msg, &rx), 0);
    rx.republish = true;
    assert_int_equal(ipb_local_publish(b, "loop/in", (const uint8_t *)"1", 1, 0, false), 0);
    /* loop/in twice (plain + shared), then loop/back twice. */
    assert_int_equal(rx.n, 4);
    assert_string_equal(rx.last_topic, "loop/back");
    finish(&loop, b);
}

static int retain_calls;

static int count_retain(void *ctx, const char *topic, const uint8_t *payload, size_t len,
                        uint8_t qos)
{
    (void)ctx, (void)topic, (void)payload, (void)len, (void)qos;
    retain_calls++;
    return 0;
}

/* A receiver told who published: the client's user name, NULL for in-process publishes. */
static void test_publisher_user(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    ipb_broker_t *b = new_broker(&loop);
    from_t fx = {0};
    rx_t rx = {.b = b};
    /* A retained message published by alice reaches a later subscription with her name. */
    ipb_msg_t *m = ipb__msg_new_by("alice", "alice/data", 10, (const uint8_t *)"[1]", 3, 1, true,
                                   NULL, 0);
    assert_non_null(m);
    assert_string_equal(m->user, "alice");
    assert_string_equal(m->topic, "alice/data");
    assert_memory_equal(m->payload, "[1]", 3);
    ipb__publish(b, m);
    ipb__msg_unref(m);
    assert_int_equal(ipb_local_subscribe_from(b, "+/data", 1, on_from, &fx), 0);
    assert_int_equal(fx.n, 1);
    assert_string_equal(fx.user, "alice");
    assert_true(fx.retain);
    /* An ordinary receiver beside it gets the same messages, without names. */
    assert_int_equal(ipb_local_subscribe(b, "+/data", 1, on_msg, &rx), 0);
    assert_int_equal(ipb_local_publish(b, "bob/data", (const uint8_t *)"[2]", 3, 1, false), 0);
    assert_int_equal(fx.n, 2);
    assert_string_equal(fx.user, "(null)");
    assert_string_equal(fx.topic, "bob/data");
    assert_false(fx.retain);
    assert_int_equal(rx.n, 2); /* the retained one, then bob/data */
    m = ipb__msg_new_by("bob", "bob/data", 8, (const uint8_t *)"[3]", 3, 0, false, NULL, 0);
    ipb__publish(b, m);
    ipb__msg_unref(m);
    assert_int_equal(fx.n, 3);
    assert_string_equal(fx.user, "bob");
    assert_int_equal(ipb_local_unsubscribe_from(b, "+/data", on_from, &fx), 0);
    assert_int_equal(ipb_local_unsubscribe_from(b, "+/data", on_from, &fx), IPM_EINVALID);
    assert_int_equal(ipb_local_subscribe_from(b, "+/data", 3, on_from, &fx), IPM_EINVALID);
    assert_int_equal(ipb_local_publish(b, "bob/data", (const uint8_t *)"[4]", 3, 1, false), 0);
    assert_int_equal(fx.n, 3);
    assert_int_equal(rx.n, 4);
    finish(&loop, b);
}

static void test_store_seam(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    ipb_broker_t *b = new_broker(&loop);
    static const ipb_store_t store = {.retain_set = count_retain};
    ipb_broker_set_store(b, &store, NULL);
    retain_calls = 0;
    assert_int_equal(ipb_broker_restore_retained(b, "kept/1", (const uint8_t *)"v", 1, 1), 0);
    assert_int_equal(retain_calls, 0); /* a replay is not written back */
    assert_int_equal(ipb_broker_restore_retained(b, "bad/#", NULL, 0, 0), IPM_EBAD_TOPIC);
    rx_t rx = {.b = b};
    assert_int_equal(ipb_local_subscribe(b, "kept/#", 1, on_msg, &rx), 0);
    assert_int_equal(rx.n, 1);
    assert_string_equal(rx.last_payload, "v");
    assert_int_equal(rx.last_qos, 1);
    assert_int_equal(ipb_local_publish(b, "kept/2", (const uint8_t *)"w", 1, 0, true), 0);
    assert_int_equal(retain_calls, 1);
    assert_int_equal(ipb_broker_restore_sub(b, "nobody", "a/#", 1, 0), IPM_EINVALID);
    assert_int_equal(ipb_broker_restore_session(b, "dev1", 3600), 0);
    assert_int_equal(ipb_broker_restore_sub(b, "dev1", "a/#", 1, 7), 0);
    assert_int_equal(ipb_broker_restore_sub(b, "dev1", "a/#/b", 1, 0), IPM_EBAD_FILTER);
    ipb_stats_t st;
    ipb_broker_stats(b, &st);
    assert_int_equal(st.subscriptions, 2); /* kept/# (local) and dev1 a/# */
    assert_int_equal(st.retained, 2);
    finish(&loop, b);
}

#include "fake_transport.h"

static void test_batched_writes(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    ipb_broker_t *b = new_broker(&loop);
    assert_int_equal(ipb_broker_start(b), 0);
    fake_t f = {.base.vt = &fake_vt};
    ipb_conn_t *c = ipb_conn_new(b, 0, &f.base);
    assert_non_null(c);
    /* CONNECT "f" (3.1.1) and SUBSCRIBE b/# at QoS 1 in one read. */
    static const uint8_t hello[] = {0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, 1, 'f',
                                    0x82, 8, 0, 1, 0, 3, 'b', '/', '#', 1};
    fake_feed(c, hello, sizeof hello);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(f.writes, 1); /* CONNACK and SUBACK together */
    assert_int_equal(f.nout, 4 + 5);
    /* 100 messages in one loop turn: one gathered write, not one per packet. */
    for (int i = 0; i < 100; i++)
        assert_int_equal(ipb_local_publish(b, "b/x", (const uint8_t *)"12345678", 8, 0, false),
                         0);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(f.writes, 2);
    assert_int_equal(f.nout, 9 + 100 * (2 + 2 + 3 + 8));
    finish(&loop, b);
    assert_true(f.closed);
}

static void test_shared_encoding(void **state)
{
    (void)state;
    ipm_prop_t up = {.id = IPM_PROP_USER_PROPERTY, .bin = ipm_str("k"), .val = ipm_str("v")};
    /* Properties as a decoded packet has them: a raw block. */
    uint8_t raw[16];
    ipm_props_t list = {.list = &up, .count = 1};
    int64_t n = ipm_props_size(&list, IPM_PUBLISH);
    assert_true(n > 0 && n < (int64_t)sizeof raw);
    ipm_packet_t pkt = {.type = IPM_PUBLISH};
    pkt.u.publish.topic = ipm_str("t");
    pkt.u.publish.props = list;
    uint8_t wire[64];
    int64_t w = ipm_encode(&pkt, IPM_PROTO_V5, wire, sizeof wire);
    assert_true(w > 0);
    ipm_frame_t fr;
    assert_int_equal(ipm_frame(wire, (size_t)w, 0, &fr), 0);
    ipm_packet_t dec;
    assert_int_equal(ipm_decode(&fr, wire, IPM_PROTO_V5, &dec), 0);
    ipb_msg_t *m = ipb__msg_new("t", 1, (const uint8_t *)"p", 1, 1, false, &dec.u.publish.props, 0);
    assert_non_null(m);
    ipb_enc_t *a = ipb__enc_publish(m, IPM_PROTO_V311, 1, NULL, 0, 0);
    ipb_enc_t *b2 = ipb__enc_publish(m, IPM_PROTO_V311, 1, NULL, 0, 0);
    ipb_enc_t *c5 = ipb__enc_publish(m, IPM_PROTO_V5, 1, NULL, 0, 0);
    ipb_enc_t *d5 = ipb__enc_publish(m, IPM_PROTO_V5, 1, NULL, 0, 0);
    uint32_t id = 9;
    ipb_enc_t *e5 = ipb__enc_publish(m, IPM_PROTO_V5, 1, &id, 1, 0);
    assert_ptr_equal(a, b2);  /* one encoding per shape, shared */
    assert_ptr_equal(c5, d5);
    assert_ptr_not_equal(a, c5);
    assert_ptr_not_equal(c5, e5); /* subscription identifiers: per client */
    assert_int_equal(a->refs, 3); /* the cache and two users */
    assert_true(c5->len > a->len); /* the 5.0 one carries the user property */
    ipb__enc_unref(a);
    ipb__enc_unref(b2);
    ipb__enc_unref(c5);
    ipb__enc_unref(d5);
    ipb__enc_unref(e5);
    ipb__msg_unref(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publish_subscribe),
        cmocka_unit_test(test_errors_and_reentry),
        cmocka_unit_test(test_publisher_user),
        cmocka_unit_test(test_store_seam),
        cmocka_unit_test(test_batched_writes),
        cmocka_unit_test(test_shared_encoding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
