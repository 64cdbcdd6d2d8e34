/*
 * test_api.c - the routes and parameters of GET /api/... (src/broker/http/api.c): what
 * is accepted, decoded and handed to the store reader, and what is refused first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "http/api.h"

/* Parse "GET <target>" as user (NULL: no login) into *out; the status. */
static int parse(const char *target, const char *user, ipb_api_req_t *out, char *buf, size_t len)
{
    char head[9000];
    ipb_http_req_t req;
    int n = snprintf(head, sizeof head, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", target);
    assert_true(n > 0 && (size_t)n < sizeof head);
    assert_int_equal(ipb_http_parse(head, (size_t)n, &req), n);
    return ipb_http_api_parse(&req, user, out, buf, len);
}

static void test_routes(void **state)
{
    (void)state;
    ipb_api_req_t a;
    char buf[2048];
    assert_int_equal(parse("/api/series", "alice", &a, buf, sizeof buf), 0);
    assert_int_equal(a.route, IPB_API_SERIES);
    assert_string_equal(a.user, "alice");
    assert_int_equal(a.max_body, IPB_HTTP_API_MAX_BODY);
    assert_int_equal(parse("/api/series?_=123", NULL, &a, buf, sizeof buf), 0);
    assert_null(a.user);
    assert_int_equal(parse("/api/rows?session=alice%2Flab&name=my+sine&since=10&limit=5&version=2",
                           "alice", &a, buf, sizeof buf), 0);
    assert_int_equal(a.route, IPB_API_ROWS);
    assert_string_equal(a.session, "alice/lab");
    assert_string_equal(a.name, "my sine");
    assert_int_equal(a.since, 10);
    assert_int_equal(a.limit, 5);
    assert_int_equal(a.version, 2);
    assert_int_equal(parse("/api/rows?name=%C3%A9t%C3%A9&session=alice#frag", "alice", &a, buf,
                           sizeof buf), 0);
    assert_string_equal(a.name, "\xC3\xA9t\xC3\xA9");
    /* unknown keys are skipped, however long or odd; a known key spelt with an escape is it */
    assert_int_equal(parse("/api/rows?a_rather_long_cache_buster_key=1&%00=2&session=a&n%61me=x",
                           NULL, &a, buf, sizeof buf), 0);
    assert_string_equal(a.name, "x");
    assert_int_equal(parse("/api/nope", NULL, &a, buf, sizeof buf), 404);
    assert_int_equal(parse("/api/series/x", NULL, &a, buf, sizeof buf), 404);
    assert_int_equal(parse("/api/", NULL, &a, buf, sizeof buf), 404);
}

static void test_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "/api/rows?session=alice", "/api/rows?name=x", "/api/rows?session=&name=x",
        "/api/rows?session=a/../b&name=x", "/api/rows?session=a/%2E%2E&name=x",
        "/api/rows?session=./a&name=x", "/api/rows?session=a//b&name=x",
        "/api/rows?session=a/&name=x", "/api/rows?session=a&name=..", "/api/rows?session=a&name=.",
        "/api/rows?session=a&name=", "/api/rows?session=a%00&name=x", "/api/rows?session=a&name=x%0A",
        "/api/rows?session=a&name=x%7F", "/api/rows?session=a&name=x%", "/api/rows?session=a&name=x%4",
        "/api/rows?session=a&name=x%g0", "/api/rows?session=a&name=x&since=-1",
        "/api/rows?session=a&name=x&since=", "/api/rows?session=a&name=x&limit=1e3",
        "/api/rows?session=a&name=x&limit=1234567890123456789", "/api/rows?session=a&name=x&version=+1",
        "/api/%2e%2e/plots/x", "/api/../plots/x", "/api/series%00", "/api//series",
        "/api/rows?session=a&name=x&session=..",
    };
    ipb_api_req_t a;
    char buf[2048];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int status = parse(bad[i], "alice", &a, buf, sizeof buf);
        if (status != 400)
            fail_msg("%s: %d, want 400", bad[i], status);
    }
}

static void test_lengths(void **state)
{
    (void)state;
    ipb_api_req_t a;
    char buf[2048], target[4096];
    char session[IPB_HTTP_API_MAX_SESSION + 2], name[IPB_HTTP_API_MAX_NAME + 2];
    memset(session, 's', sizeof session - 2);
    session[sizeof session - 2] = '\0';
    memset(name, 'n', sizeof name - 2);
    name[sizeof name - 2] = '\0';
    snprintf(target, sizeof target, "/api/rows?session=%s&name=%s", session, name);
    assert_int_equal(parse(target, NULL, &a, buf, sizeof buf), 0); /* the longest allowed */
    assert_int_equal(strlen(a.session), IPB_HTTP_API_MAX_SESSION);
    snprintf(target, sizeof target, "/api/rows?session=%ss&name=%s", session, name);
    assert_int_equal(parse(target, NULL, &a, buf, sizeof buf), 400);
    snprintf(target, sizeof target, "/api/rows?session=%s&name=%sn", session, name);
    assert_int_equal(parse(target, NULL, &a, buf, sizeof buf), 400);
    /* what does not fit the caller's buffer is refused, never cut */
    assert_int_equal(parse("/api/rows?session=abcdef&name=x", NULL, &a, buf, 6), 400);
    assert_int_equal(parse("/api/rows?session=abcdef&name=x", NULL, &a, buf, 8), 400);
    assert_int_equal(parse("/api/rows?session=abcdef&name=x", NULL, &a, buf, 9), 0); /* "abcdef", "x" and their NULs */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
