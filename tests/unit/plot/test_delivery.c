/*
 * test_delivery.c - acknowledged means committed: the tokens of ipp_server_handle_ack()
 * come back through on_commit in order once committed (refused messages too, dropped ones
 * never), a QoS 2 packet id is applied once until ipp_server_release(), and the ids
 * survive a restart.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "iotplot/plotserver.h"

typedef struct {
    pthread_mutex_t mu;
    uint64_t last;   /* the last token reported */
    int reports;
    bool decreased;  /* a report went backwards */
    bool failed;     /* a report with stored = false */
} acks_t;

static void on_commit(void *arg, uint64_t token, bool stored)
{
    acks_t *a = arg;
    pthread_mutex_lock(&a->mu);
    a->decreased |= token < a->last;
    a->failed |= !stored;
    a->last = token;
    a->reports++;
    pthread_mutex_unlock(&a->mu);
}

static void quiet(void *arg, const char *line)
{
    (void)arg;
    (void)line;
}

static ipp_server_t *start(const char *dir, acks_t *a, size_t max_queue)
{
    ipp_server_config_t cfg = {.dir = dir, .log = quiet, .max_payload = 256,
                               .max_queue = max_queue, .on_commit = on_commit,
                               .commit_arg = a};
    ipp_server_t *s;
    char err[256];
    if (ipp_server_create(&cfg, &s, err, sizeof err))
        fail_msg("%s", err);
    return s;
}

static int send(ipp_server_t *s, const char *topic, const char *payload, uint64_t token,
                uint16_t id)
{
    return ipp_server_handle_ack(s, topic, strlen(topic), (const uint8_t *)payload,
                                 strlen(payload), token, id);
}

static int64_t rows(const char *dir, const char *name)
{
    ipp_store_t *st;
    ipp_series_info_t info;
    char err[256];
    assert_int_equal(ipp_store_open(dir, &st, err, sizeof err), 0);
    int64_t n = ipp_store_find(st, "d", name, 0, &info) == 0 ? info.nrows : -1;
    ipp_store_close(st);
    return n;
}

static void test_tokens_and_qos2(void **state)
{
    (void)state;
    char dir[] = "/tmp/ipp-delivery-XXXXXX";
    assert_non_null(mkdtemp(dir));
    acks_t a = {.mu = PTHREAD_MUTEX_INITIALIZER};
    ipp_server_t *s = start(dir, &a, 0);
    assert_int_equal(send(s, "d/new_series", "[\"s\", \"i\"]", 1, 0), 0);
    assert_int_equal(send(s, "d/data", "[\"s\", 1]", 2, 7), 0);
    assert_int_equal(send(s, "d/data", "[\"s\", 1]", 3, 7), 0);      /* the same id: skipped */
    assert_int_equal(send(s, "d/data", "[\"s\", \"x\"]", 4, 0), 0);  /* bad input */
    char big[300];
    memset(big, '1', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(send(s, "d/data", big, 5, 0), 0);              /* too large */
    assert_int_equal(ipp_server_sync(s, 10000), 0);
    assert_int_equal(a.last, 5); /* refused ones are processed too */
    assert_int_equal(rows(dir, "s"), 1);
    ipp_server_stats_t st;
    ipp_server_stats(s, &st);
    assert_int_equal(st.repeated, 1);
    /* Released: the id may come again as a new message. */
    assert_int_equal(ipp_server_release(s, 7, 6), 0);
    assert_int_equal(send(s, "d/data", "[\"s\", 2]", 7, 7), 0);
    assert_int_equal(send(s, "d/data", "[\"s\", 3]", 8, 9), 0);
    assert_int_equal(ipp_server_sync(s, 10000), 0);
    assert_int_equal(a.last, 8);
    assert_int_equal(rows(dir, "s"), 3);
    ipp_server_destroy(s);
    /* After a restart the recorded ids still hold: a copy sent again is skipped. */
    s = start(dir, &a, 0);
    assert_int_equal(send(s, "d/data", "[\"s\", 3]", 9, 9), 0);
    assert_int_equal(send(s, "d/data", "[\"s\", 2]", 10, 7), 0);
    assert_int_equal(ipp_server_release(s, 0, 0), 0); /* a new session: forget them all */
    assert_int_equal(send(s, "d/data", "[\"s\", 4]", 11, 9), 0);
    assert_int_equal(ipp_server_sync(s, 10000), 0);
    assert_int_equal(a.last, 11);
    assert_int_equal(rows(dir, "s"), 4);
    ipp_server_destroy(s);
    assert_false(a.decreased);
    assert_false(a.failed);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_dropped_not_reported(void **state)
{
    (void)state;
    char dir[] = "/tmp/ipp-delivery-XXXXXX";
    assert_non_null(mkdtemp(dir));
    acks_t a = {.mu = PTHREAD_MUTEX_INITIALIZER};
    /* A queue that holds one small message at a time: the rest are dropped. */
    ipp_server_t *s = start(dir, &a, 96);
    int dropped = 0;
    uint64_t last_queued = 0;
    for (uint64_t t = 1; t <= 200; t++) {
        if (send(s, "d/new_series", "[\"s\", \"i\"]", t, 0))
            dropped++;
        else
            last_queued = t;
    }
    assert_true(dropped > 0);
    assert_int_equal(ipp_server_sync(s, 10000), 0);
    assert_int_equal(a.last, last_queued); /* dropped ones are never the last reported */
    ipp_server_destroy(s);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokens_and_qos2),
        cmocka_unit_test(test_dropped_not_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
