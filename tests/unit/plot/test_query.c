/*
 * test_query.c - the store as JSON (query.c): what a user may see, strict JSON for
 * non-finite values, and answers that stop at their byte limit on a whole row and say
 * where to go on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "iotplot/plotserver.h"

static void quiet(void *arg, const char *line)
{
    (void)arg;
    (void)line;
}

static void send(ipp_server_t *s, const char *topic, const char *payload)
{
    ipp_server_handle(s, topic, strlen(topic), (const uint8_t *)payload, strlen(payload));
}

/* A folder with alice's "sin" (NaN and infinities among its rows), alice/lab's "wide",
 * alicex's and bob's series. */
static void make_store(char *dir)
{
    ipp_server_config_t cfg = {.dir = dir, .log = quiet};
    ipp_server_t *s;
    char err[256], row[256];
    assert_non_null(mkdtemp(dir));
    if (ipp_server_create(&cfg, &s, err, sizeof err))
        fail_msg("%s", err);
    send(s, "alice/new_series", "[\"sin\", \"t\", \"y\"]");
    send(s, "alice/data", "[\"sin\", 0, 1.5]");
    send(s, "alice/data", "[\"sin\", 1, NaN]");
    send(s, "alice/data", "[\"sin\", 2, -Infinity]");
    send(s, "alice/plot_series", "[\"sin\", {\"title\": \"T\\\"x\", \"ylabel\": \"y\"}]");
    send(s, "alice/lab/new_series", "[\"wide\", \"a\", \"b\", \"c\"]");
    for (int i = 0; i < 500; i++) {
        snprintf(row, sizeof row, "[\"wide\", %d, %d.25, 1e300]", i, i);
        send(s, "alice/lab/data", row);
    }
    send(s, "alicex/new_series", "[\"x\", \"v\"]");
    send(s, "bob/new_series", "[\"b\", \"v\"]");
    assert_int_equal(ipp_server_sync(s, 10000), 0);
    ipp_server_destroy(s);
}

static void cleanup(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* Parse strictly: cJSON refuses NaN and Infinity as JSON does. */
static cJSON *parsed(char *json, size_t len, size_t max)
{
    assert_true(len <= (max < 4096 ? 4096 : max));
    assert_int_equal(strlen(json), len);
    cJSON *j = cJSON_ParseWithLength(json, len);
    if (!j)
        fail_msg("not JSON: %.300s", json);
    free(json);
    return j;
}

static void test_owners(void **state)
{
    (void)state;
    char dir[] = "/tmp/iotplot-query-XXXXXX";
    make_store(dir);
    char *json;
    size_t len;
    ipp_query_t q = {.owner = "alice", .max_bytes = 1 << 20};
    assert_int_equal(ipp_query_series(dir, &q, &json, &len), 0);
    cJSON *j = parsed(json, len, q.max_bytes);
    cJSON *list = cJSON_GetObjectItem(j, "series");
    assert_int_equal(cJSON_GetArraySize(list), 2); /* alice/sin, alice/lab/wide */
    cJSON *sin = cJSON_GetArrayItem(list, 0);
    assert_string_equal(cJSON_GetObjectItem(sin, "session")->valuestring, "alice");
    assert_string_equal(cJSON_GetObjectItem(sin, "name")->valuestring, "sin");
    assert_int_equal(cJSON_GetObjectItem(sin, "rows")->valueint, 3);
    assert_string_equal(cJSON_GetObjectItem(sin, "title")->valuestring, "T\"x");
    assert_string_equal(cJSON_GetObjectItem(sin, "ylabel")->valuestring, "y");
    assert_null(cJSON_GetObjectItem(sin, "xlabel"));
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 1), "session")->valuestring,
                        "alice/lab");
    cJSON_Delete(j);
    q.owner = NULL; /* no logins: everyone's */
    assert_int_equal(ipp_query_series(dir, &q, &json, &len), 0);
    j = parsed(json, len, q.max_bytes);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "series")), 4);
    cJSON_Delete(j);
    q = (ipp_query_t){.owner = "alice", .session = "bob", .name = "b", .max_bytes = 1 << 20};
    assert_int_equal(ipp_query_rows(dir, &q, &json, &len), 1);
    q.session = "alicex";
    q.name = "x";
    assert_int_equal(ipp_query_rows(dir, &q, &json, &len), 1);
    q.owner = "";
    q.session = "alice";
    q.name = "sin";
    assert_int_equal(ipp_query_rows(dir, &q, &json, &len), 1);
    assert_false(ipp_query_owns("al", "alice"));
    assert_true(ipp_query_owns("alice", "alice/lab/x"));
    assert_true(ipp_query_owns(NULL, "bob"));
    /* a folder without a store: nothing stored */
    char empty[] = "/tmp/iotplot-query-empty-XXXXXX";
    assert_non_null(mkdtemp(empty));
    assert_int_equal(ipp_query_series(empty, &q, &json, &len), 0);
    j = parsed(json, len, q.max_bytes);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "series")), 0);
    cJSON_Delete(j);
    rmdir(empty);
    cleanup(dir);
}

static void test_rows(void **state)
{
    (void)state;
    char dir[] = "/tmp/iotplot-query-XXXXXX";
    make_store(dir);
    char *json;
    size_t len;
    ipp_query_t q = {.owner = "alice", .session = "alice", .name = "sin", .max_bytes = 1 << 20};
    assert_int_equal(ipp_query_rows(dir, &q, &json, &len), 0);
    assert_non_null(strstr(json, "\"rows\": [[0.0, 1.5], [1.0, null], [2.0, null]]"));
    cJSON *j = parsed(json, len, q.max_bytes);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "received")), 3);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(j, "more")));
    assert_int_equal(cJSON_GetObjectItem(j, "next")->valueint, 3);
    cJSON_Delete(j);

    /* 500 wide rows through the smallest answers: whole rows, in order, each once */
    q.session = "alice/lab";
    q.name = "wide";
    q.max_bytes = 100; /* raised to the least an answer may have (4 KiB) */
    int64_t since = 0, seen = 0;
    int pages = 0;
    for (bool more = true; more; pages++) {
        q.since = since;
        assert_int_equal(ipp_query_rows(dir, &q, &json, &len), 0);
        j = parsed(json, len, q.max_bytes);
        cJSON *rows = cJSON_GetObjectItem(j, "rows");
        int n = cJSON_GetArraySize(rows);
        assert_true(n > 0);
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "received")), n);
        for (int r = 0; r < n; r++) {
            cJSON *row = cJSON_GetArrayItem(rows, r);
            assert_int_equal(cJSON_GetArraySize(row), 3);
            assert_int_equal(cJSON_GetArrayItem(row, 0)->valueint, seen + r);
        }
        seen += n;
        since = cJSON_GetObjectItem(j, "next")->valueint;
        assert_int_equal(since, seen);
        more = cJSON_IsTrue(cJSON_GetObjectItem(j, "more"));
        cJSON_Delete(j);
    }
    assert_int_equal(seen, 500);
    assert_true(pages > 5);
    /* limit, and past the end */
    q = (ipp_query_t){.session = "alice/lab", .name = "wide", .since = 498, .limit = 1,
                      .max_bytes = 1 << 20};
    assert_int_equal(ipp_query_rows(dir, &q, &json, &len), 0);
    assert_non_null(strstr(json, "\"rows\": [[498.0, 498.25, 1e+300]]"));
    assert_non_null(strstr(json, "\"more\": true"));
    free(json);
    q.since = 600;
    assert_int_equal(ipp_query_rows(dir, &q, &json, &len), 0);
    assert_non_null(strstr(json, "\"rows\": []"));
    assert_non_null(strstr(json, "\"more\": false"));
    free(json);
    cleanup(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_owners),
        cmocka_unit_test(test_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
