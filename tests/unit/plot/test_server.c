/*
 * test_server.c - the plot server's commands, end to end without a network: messages in,
 * files and log lines out; restart keeps every row.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "iotplot/plotserver.h"
#include "plotserver/plot_internal.h"

typedef struct {
    pthread_mutex_t mu;
    char lines[64][512];
    int n, total, suppressed;
} logbuf_t;

static void log_cb(void *arg, const char *line)
{
    logbuf_t *l = arg;
    pthread_mutex_lock(&l->mu);
    if (l->n < 64)
        snprintf(l->lines[l->n++], sizeof l->lines[0], "%s", line);
    else /* keep the latest line in the last slot */
        snprintf(l->lines[63], sizeof l->lines[0], "%s", line);
    l->total++;
    l->suppressed += strstr(line, "log lines suppressed") != NULL;
    pthread_mutex_unlock(&l->mu);
}

static int logged(logbuf_t *l, const char *needle)
{
    int hits = 0;
    pthread_mutex_lock(&l->mu);
    for (int i = 0; i < l->n; i++)
        hits += strstr(l->lines[i], needle) != NULL;
    pthread_mutex_unlock(&l->mu);
    return hits;
}

static void send(ipp_server_t *s, const char *topic, const char *payload)
{
    ipp_server_handle(s, topic, strlen(topic), (const uint8_t *)payload, strlen(payload));
}

static ipp_server_t *start(const char *dir, logbuf_t *l)
{
    ipp_server_config_t cfg = {.dir = dir, .log = log_cb, .log_arg = l, .max_payload = 4096};
    ipp_server_t *s;
    char err[256];
    if (ipp_server_create(&cfg, &s, err, sizeof err))
        fail_msg("%s", err);
    return s;
}

static char *slurp(const char *dir, const char *name)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 20);
    fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    return buf;
}

/* A CSV the server wrote without its last column, `received`: checks that every row has
 * an ISO 8601 arrival time there and cuts it off, in place. */
static char *untimed(char *csv)
{
    char *out = csv, *line = csv;
    for (bool header = true; *line; header = false) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        char *comma = nl;
        while (comma > line && comma[-1] != ',')
            comma--;
        assert_true(comma > line);
        double t;
        if (header)
            assert_memory_equal(comma, "received", (size_t)(nl - comma));
        else
            assert_int_equal(ipp__parse_time(comma, (size_t)(nl - comma), &t), 0);
        size_t keep = (size_t)(comma - 1 - line);
        memmove(out, line, keep);
        out[keep] = '\n';
        out += keep + 1;
        line = nl + 1;
    }
    *out = '\0';
    return csv;
}

static void test_commands(void **state)
{
    (void)state;
    char dir[] = "/tmp/ipp-server-XXXXXX";
    logbuf_t l = {.mu = PTHREAD_MUTEX_INITIALIZER};
    assert_non_null(mkdtemp(dir));
    ipp_server_t *s = start(dir, &l);
    send(s, "hopla/new_series", "[\"sin\", \"t\", \"v\"]");
    send(s, "hopla/data", "[\"sin\", 0.0, 1.0]");
    send(s, "hopla/data", "[\"sin\", 0.025, NaN]");
    send(s, "hopla/data", "[\"sin\", 1]");               /* wrong count */
    send(s, "hopla/data", "[\"sin\", 1, \"x\"]");        /* wrong type */
    send(s, "hopla/data", "[\"nope\", 1, 2]");           /* unknown series */
    send(s, "hopla/data", "not json");                   /* invalid JSON */
    send(s, "hopla/exec_remote", "\"import os\"");       /* never executed */
    send(s, "hopla/save_series", "[\"sin\", \"../evil.csv\"]");
    send(s, "hopla/save_series", "[\"sin\", \"/tmp/evil.csv\"]");
    send(s, "hopla/save_series", "[\"sin\", \"" IPP_DB_NAME "\"]");
    send(s, "hopla/save_series", "[\"sin\", \"out/s.csv\"]");
    send(s, "hopla/save_series", "[\"sin\", null]");
    send(s, "other/save_series", "[\"sin\", null]");     /* sessions are separate */
    send(s, "notopic", "[]");
    char big[8192];
    memset(big, ' ', sizeof big);
    ipp_server_handle(s, "hopla/data", 10, (const uint8_t *)big, sizeof big);
    assert_int_equal(ipp_server_sync(s, 10000), 0);
    char *csv = slurp(dir, "out/s.csv");
    assert_non_null(csv);
    assert_string_equal(untimed(csv), "t,v\n0.0,1.0\n0.025,NaN\n");
    free(csv);
    char *pkl = slurp(dir, "sin.pkl");
    assert_non_null(pkl);
    free(pkl);
    assert_int_equal(logged(&l, "has 2 columns but the row has 1 values"), 1);
    assert_int_equal(logged(&l, "value 2 of series 'sin' is not a number"), 1);
    assert_int_equal(logged(&l, "unknown series 'nope'"), 1);
    assert_int_equal(logged(&l, "session 'hopla' topic 'hopla/data': invalid payload"), 1);
    assert_int_equal(logged(&l, "unknown command"), 1);
    assert_int_equal(logged(&l, "'.' or '..'"), 1);
    assert_int_equal(logged(&l, "absolute path refused"), 1);
    assert_int_equal(logged(&l, "own store refused"), 1);
    assert_int_equal(logged(&l, "session 'other' topic 'other/save_series': unknown series"),
                     1);
    assert_int_equal(
        logged(&l, "session 'hopla' topic 'hopla/data': payload of 8192 bytes is over"), 1);
    ipp_server_stats_t st;
    ipp_server_stats(s, &st);
    assert_int_equal(st.rows, 2);
    assert_int_equal(st.files, 2);
    ipp_server_destroy(s);

    /* restart: the series and its rows are still there, and more rows append */
    s = start(dir, &l);
    send(s, "hopla/data", "[\"sin\", 0.05, 2.5]");
    send(s, "hopla/save_series", "[\"sin\", \"again.csv\"]");
    /* a new_series of the same name starts over; the old version stays stored */
    send(s, "hopla/new_series", "[\"sin\", \"only\"]");
    send(s, "hopla/data", "[\"sin\", 7]");
    send(s, "hopla/save_series", "[\"sin\", \"fresh.csv\"]");
    assert_int_equal(ipp_server_sync(s, 10000), 0);
    csv = slurp(dir, "again.csv");
    assert_non_null(csv);
    assert_string_equal(untimed(csv), "t,v\n0.0,1.0\n0.025,NaN\n0.05,2.5\n");
    free(csv);
    csv = slurp(dir, "fresh.csv");
    assert_non_null(csv);
    assert_string_equal(untimed(csv), "only\n7.0\n");
    free(csv);
    ipp_server_destroy(s);

    char path[300], err[256];
    snprintf(path, sizeof path, "%s/%s", dir, IPP_DB_NAME);
    ipp_store_t *stq;
    ipp_series_info_t info;
    assert_int_equal(ipp__store_open(path, true, &stq, err, sizeof err), 0);
    assert_int_equal(ipp_store_find(stq, "hopla", "sin", 1, &info), 0);
    assert_int_equal(info.nrows, 3);
    assert_int_equal(ipp_store_find(stq, "hopla", "sin", 0, &info), 0);
    assert_int_equal(info.version, 2);
    ipp_store_close(stq);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* Many rows in flight at once: none lost, order kept. */
static void send_owned(ipp_server_t *s, const char *owner, const char *topic, const char *payload)
{
    ipp_server_handle_owned(s, owner, topic, strlen(topic), (const uint8_t *)payload,
                            strlen(payload));
}

/* Files of an owned message go below the owner's folder, whatever name it asks for. */
static void test_owner_folders(void **state)
{
    (void)state;
    char dir[] = "/tmp/ipp-owner-XXXXXX";
    logbuf_t l = {.mu = PTHREAD_MUTEX_INITIALIZER};
    assert_non_null(mkdtemp(dir));
    ipp_server_t *s = start(dir, &l);
    send_owned(s, "alice", "alice/new_series", "[\"s\", \"t\", \"v\"]");
    send_owned(s, "alice", "alice/data", "[\"s\", 1, 2]");
    send_owned(s, "alice", "alice/save_series", "[\"s\", \"secret.csv\"]");
    send_owned(s, "alice", "alice/save_series", "[\"s\", null]");
    send_owned(s, "bob", "bob/new_series", "[\"s\", \"t\"]");
    send_owned(s, "bob", "bob/data", "[\"s\", 9]");
    send_owned(s, "bob", "bob/save_series", "[\"s\", \"secret.csv\"]");
    send_owned(s, "bob", "bob/save_series", "[\"s\", \"../alice/secret.csv\"]");
    send_owned(s, "bob", "bob/save_series", "[\"s\", \"alice/secret.csv\"]");
    send_owned(s, "a/b", "bob/data", "[\"s\", 9]");
    send_owned(s, "..", "bob/data", "[\"s\", 9]");
    send_owned(s, "", "bob/data", "[\"s\", 9]");
    send_owned(s, IPP_DB_NAME, "bob/save_series", "[\"s\", \"x.csv\"]");
    assert_int_equal(ipp_server_sync(s, 10000), 0);
    char *csv = slurp(dir, "alice/secret.csv");
    assert_non_null(csv);
    assert_string_equal(untimed(csv), "t,v\n1.0,2.0\n");
    free(csv);
    csv = slurp(dir, "bob/secret.csv");
    assert_non_null(csv);
    assert_string_equal(untimed(csv), "t\n9.0\n");
    free(csv);
    csv = slurp(dir, "bob/alice/secret.csv");
    assert_non_null(csv);
    free(csv);
    char *pkl = slurp(dir, "alice/s.pkl");
    assert_non_null(pkl);
    free(pkl);
    assert_null(slurp(dir, "secret.csv"));
    assert_null(slurp(dir, "s.pkl"));
    assert_int_equal(logged(&l, "user name cannot be a folder name"), 4);
    assert_int_equal(logged(&l, "'.' or '..'"), 1);
    ipp_server_stats_t st;
    ipp_server_stats(s, &st);
    assert_int_equal(st.rows, 2);
    assert_int_equal(st.files, 4);
    ipp_server_destroy(s);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_many_rows(void **state)
{
    (void)state;
    char dir[] = "/tmp/ipp-server-XXXXXX", msg[128];
    logbuf_t l = {.mu = PTHREAD_MUTEX_INITIALIZER};
    assert_non_null(mkdtemp(dir));
    ipp_server_t *s = start(dir, &l);
    send(s, "x/new_series", "[\"n\", \"i\"]");
    for (int i = 0; i < 50000; i++) {
        snprintf(msg, sizeof msg, "[\"n\", %d]", i);
        send(s, "x/data", msg);
    }
    send(s, "x/save_series", "[\"n\", \"n.json\"]");
    ipp_server_destroy(s); /* applies and writes everything first */
    char p[300], err[128];
    snprintf(p, sizeof p, "%s/n.json", dir);
    ipp_data_t d;
    assert_int_equal(ipp_read_file(p, &d, err, sizeof err), 0);
    assert_int_equal(d.nrows, 50000);
    for (size_t i = 0; i < d.nrows; i++)
        assert_true(d.cols[0][i] == (double)i);
    ipp_data_free(&d);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* A save after every row: requests waiting for the writer merge, the last file is whole. */
static void test_coalescing(void **state)
{
    (void)state;
    char dir[] = "/tmp/ipp-server-XXXXXX", msg[64];
    logbuf_t l = {.mu = PTHREAD_MUTEX_INITIALIZER};
    assert_non_null(mkdtemp(dir));
    ipp_server_t *s = start(dir, &l);
    send(s, "c/new_series", "[\"n\", \"i\"]");
    for (int i = 0; i < 3000; i++) {
        snprintf(msg, sizeof msg, "[\"n\", %d]", i);
        send(s, "c/data", msg);
        send(s, "c/save_series", "[\"n\", \"n.csv\"]");
    }
    assert_int_equal(ipp_server_sync(s, 60000), 0);
    ipp_server_stats_t st;
    ipp_server_stats(s, &st);
    assert_true(st.files >= 1 && st.files <= 3000);
    assert_int_equal(st.dropped, 0);
    ipp_server_destroy(s);
    char p[300], err[128];
    snprintf(p, sizeof p, "%s/n.csv", dir);
    ipp_data_t d;
    assert_int_equal(ipp_read_file(p, &d, err, sizeof err), 0);
    assert_int_equal(d.nrows, 3000);
    ipp_data_free(&d);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* A tiny queue: whatever is refused at the door is counted, everything else is stored. */
static void test_queue_limit(void **state)
{
    (void)state;
    char dir[] = "/tmp/ipp-server-XXXXXX", msg[64], err[256];
    logbuf_t l = {.mu = PTHREAD_MUTEX_INITIALIZER};
    assert_non_null(mkdtemp(dir));
    ipp_server_config_t cfg = {.dir = dir, .log = log_cb, .log_arg = &l, .max_queue = 2048};
    ipp_server_t *s;
    assert_int_equal(ipp_server_create(&cfg, &s, err, sizeof err), 0);
    send(s, "q/new_series", "[\"n\", \"i\"]");
    assert_int_equal(ipp_server_sync(s, 10000), 0);
    for (int i = 0; i < 20000; i++) {
        snprintf(msg, sizeof msg, "[\"n\", %d]", i);
        send(s, "q/data", msg);
    }
    assert_int_equal(ipp_server_sync(s, 60000), 0);
    ipp_server_stats_t st;
    ipp_server_stats(s, &st);
    assert_int_equal(st.messages, 20001);
    assert_int_equal(st.rows + st.dropped, 20000);
    if (st.dropped)
        assert_true(logged(&l, "queue full") > 0);
    ipp_server_destroy(s);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* Bad messages as fast as they come: the log stays bounded and says how much it hid. */
static void test_log_flood(void **state)
{
    (void)state;
    char dir[] = "/tmp/ipp-server-XXXXXX";
    logbuf_t l = {.mu = PTHREAD_MUTEX_INITIALIZER};
    assert_non_null(mkdtemp(dir));
    ipp_server_t *s = start(dir, &l);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 5000; i++)
        send(s, "f/data", "[\"nothing\", 1]");
    assert_int_equal(ipp_server_sync(s, 60000), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* the invariant, whatever the speed: at most 100 lines (and one count) per second
     * window, and a window starts at most once per elapsed second */
    long windows = (long)(t1.tv_sec - t0.tv_sec) + 2;
    assert_true(l.total <= windows * 101);
    struct timespec ts = {1, 100000000};
    nanosleep(&ts, NULL);
    send(s, "f/data", "[\"nothing\", 1]");
    assert_int_equal(ipp_server_sync(s, 10000), 0);
    assert_true(l.suppressed >= 1 || l.total >= 5000);
    ipp_server_destroy(s);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_owner_folders),
        cmocka_unit_test(test_many_rows),
        cmocka_unit_test(test_coalescing),
        cmocka_unit_test(test_queue_limit),
        cmocka_unit_test(test_log_flood),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
