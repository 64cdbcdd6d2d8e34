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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publish_subscribe),
        cmocka_unit_test(test_errors_and_reentry),
        cmocka_unit_test(test_store_seam),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
