/*
 * test_http.c - request heads, intents, the accept key, paths, content types, Basic
 * credentials, and which plot files a request may read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/files.h"
#include "http/http.h"
#include "plotserver/plot_internal.h" /* IPP_DB_NAME, IPP_TMP_DIR */

static const char upgrade_req[] = "GET /mqtt HTTP/1.1\r\n"
                                  "Host: 127.0.0.1:8080\r\n"
                                  "Upgrade: websocket\r\n"
                                  "Connection: keep-alive, Upgrade\r\n"
                                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                  "Sec-WebSocket-Protocol: mqttv3.1, mqtt\r\n"
                                  "Sec-WebSocket-Version: 13\r\n"
                                  "\r\n";

static void test_parse_upgrade(void **state)
{
    (void)state;
    ipb_http_req_t req;
    ipb_http_intent_t in;
    int n = ipb_http_parse(upgrade_req, sizeof upgrade_req - 1, &req);
    assert_int_equal(n, sizeof upgrade_req - 1);
    assert_int_equal(req.nheaders, 6);
    assert_int_equal(req.target.n, 5);
    assert_memory_equal(req.target.p, "/mqtt", 5);
    ipb_http_intent(&req, &in);
    assert_int_equal(in.status, 0);
    assert_true(in.websocket);
    assert_string_equal(in.protocol, "mqtt");
    char accept[29];
    assert_int_equal(ipb_ws_accept(&in.key, accept), 0);
    assert_string_equal(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="); /* RFC 6455 1.3 */
}

static void test_every_prefix_needs_more(void **state)
{
    (void)state;
    ipb_http_req_t req;
    for (size_t i = 0; i < sizeof upgrade_req - 1; i++) {
        char copy[sizeof upgrade_req];
        memcpy(copy, upgrade_req, i); /* exact length: ASan catches over-reads */
        assert_int_equal(ipb_http_parse(copy, i, &req), IPB_HTTP_NEED_MORE);
    }
}

static void test_intents(void **state)
{
    (void)state;
    struct {
        const char *req;
        int status;
        bool ws;
        const char *proto;
    } cases[] = {
        {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0, false, NULL},
        {"HEAD /a.js HTTP/1.1\r\nHost: x\r\n\r\n", 0, false, NULL},
        {"GET / HTTP/1.0\r\n\r\n", 0, false, NULL},
        {"GET / HTTP/1.1\r\n\r\n", 400, false, NULL}, /* no Host */
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405, false, NULL},
        {"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
         426, false, NULL},
        {"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n",
         400, false, NULL},
        {"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: close\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
         400, false, NULL},
        {"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: WebSocket\r\nConnection: upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
         "Sec-WebSocket-Protocol: mqttv3.1\r\n\r\n",
         0, true, "mqttv3.1"},
        {"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
         "Sec-WebSocket-Protocol: chat\r\n\r\n",
         400, true, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ipb_http_req_t req;
        ipb_http_intent_t in;
        int n = ipb_http_parse(cases[i].req, strlen(cases[i].req), &req);
        if (n != (int)strlen(cases[i].req))
            fail_msg("case %zu: parse gave %d", i, n);
        ipb_http_intent(&req, &in);
        if (in.status != cases[i].status || in.websocket != cases[i].ws)
            fail_msg("case %zu: status %d ws %d, want %d %d", i, in.status, in.websocket,
                     cases[i].status, cases[i].ws);
        if (cases[i].proto)
            assert_string_equal(in.protocol, cases[i].proto);
    }
}

static void test_bad_requests(void **state)
{
    (void)state;
    static const char *bad[] = {
        "GET\r\n\r\n",
        "GET /\r\n\r\n",
        "GET / HTTP/2.0\r\n\r\n",
        "GET  / HTTP/1.1\r\n\r\n",
        "G(T / HTTP/1.1\r\n\r\n",
        "GET /a\x01 HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
        "GET / HTTP/1.1\r\n: x\r\n\r\n",
        "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\x01b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ipb_http_req_t req;
        int n = ipb_http_parse(bad[i], strlen(bad[i]), &req);
        if (n != IPB_HTTP_BAD)
            fail_msg("case %zu (%s): got %d, want IPB_HTTP_BAD", i, bad[i], n);
    }
}

static void test_limits(void **state)
{
    (void)state;
    static char big[IPB_HTTP_MAX_HEAD + 100];
    ipb_http_req_t req;
    int n = snprintf(big, sizeof big, "GET / HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < IPB_HTTP_MAX_HEADERS; i++)
        n += snprintf(big + n, sizeof big - (size_t)n, "X-%d: y\r\n", i);
    n += snprintf(big + n, sizeof big - (size_t)n, "\r\n");
    assert_int_equal(ipb_http_parse(big, (size_t)n, &req), IPB_HTTP_TOO_LARGE);
    memset(big, 'a', sizeof big);
    memcpy(big, "GET /", 5);
    assert_int_equal(ipb_http_parse(big, sizeof big, &req), IPB_HTTP_TOO_LARGE);
}

static int path_of(const char *target, char *out, size_t cap)
{
    ipb_str_t t = {target, strlen(target)};
    return ipb_http_path(&t, out, cap);
}

static void test_paths(void **state)
{
    (void)state;
    char out[256];
    assert_int_equal(path_of("/", out, sizeof out), 0);
    assert_string_equal(out, "index.html");
    assert_int_equal(path_of("/plots/a%20b.png?x=1", out, sizeof out), 0);
    assert_string_equal(out, "plots/a b.png");
    assert_int_equal(path_of("/plots/", out, sizeof out), 0);
    assert_string_equal(out, "plots/index.html");
    static const char *refused[] = {
        "", "x", "/..", "/../etc/passwd", "/a/../../b", "/%2e%2e/x", "/a/%2E%2E/%2e%2e/b",
        "/a//b", "/./a", "/a%00b", "/a%0ab", "/a\\b", "/a%5cb", "/%zz", "/%4", "/a/.",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (path_of(refused[i], out, sizeof out) != -1)
            fail_msg("'%s' was accepted as '%s'", refused[i], out);
    assert_int_equal(path_of("/abcdefghijklmnopqrstuvwxyz", out, 20), -1); /* does not fit */
}

static void test_content_types(void **state)
{
    (void)state;
    assert_string_equal(ipb_http_content_type("index.html"), "text/html; charset=utf-8");
    assert_string_equal(ipb_http_content_type("a/b.JS"), "text/javascript; charset=utf-8");
    assert_string_equal(ipb_http_content_type("plot.svg"), "image/svg+xml");
    assert_string_equal(ipb_http_content_type("plot.pdf"), "application/pdf");
    assert_string_equal(ipb_http_content_type("a.b/noext"), "application/octet-stream");
}

static int basic_of(const char *auth, char *user, char *pass)
{
    char head[512];
    ipb_http_req_t req;
    snprintf(head, sizeof head, "GET /plots/x HTTP/1.1\r\n%s\r\n", auth);
    assert_true(ipb_http_parse(head, strlen(head), &req) > 0);
    return ipb_http_basic(&req, user, 32, pass, 32);
}

static void test_basic(void **state)
{
    (void)state;
    char u[32], p[32];
    /* "alice:open sesame", "bob:", "a:b:c" */
    assert_int_equal(basic_of("Authorization: Basic YWxpY2U6b3BlbiBzZXNhbWU=\r\n", u, p), 0);
    assert_string_equal(u, "alice");
    assert_string_equal(p, "open sesame");
    assert_int_equal(basic_of("authorization:   basic   Ym9iOg==\r\n", u, p), 0);
    assert_string_equal(u, "bob");
    assert_string_equal(p, "");
    assert_int_equal(basic_of("Authorization: Basic YTpiOmM=\r\n", u, p), 0);
    assert_string_equal(u, "a");
    assert_string_equal(p, "b:c");
    assert_int_equal(basic_of("Host: x\r\n", u, p), 1);
    assert_int_equal(basic_of("Authorization: Bearer abc=\r\n", u, p), -1);
    assert_int_equal(basic_of("Authorization: Basic YWxpY2U=\r\n", u, p), -1);  /* no ':' */
    assert_int_equal(basic_of("Authorization: Basic YQBiOmM=\r\n", u, p), -1);  /* a NUL */
    assert_int_equal(basic_of("Authorization: Basic !!!!\r\n", u, p), -1);
    assert_int_equal(basic_of("Authorization: Basic YQpiOmM=\r\n", u, p), -1);  /* "a\nb:c" */
    assert_int_equal(basic_of("Authorization: Basic YWJj\r\n", u, p), -1);      /* "abc" */
    /* longer than the caller's buffers */
    assert_int_equal(basic_of("Authorization: Basic "
                              "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhOng=\r\n", u, p), -1);
}

static int get_file(const char *root, const char *path, bool private, const char *user)
{
    char head[512];
    ipb_http_req_t req;
    snprintf(head, sizeof head, "GET %s HTTP/1.1\r\n\r\n", path);
    assert_true(ipb_http_parse(head, strlen(head), &req) > 0);
    ipb_http_site_t site = {.http_dir = root, .plots_dir = root, .plots_private = private,
                            .user = user};
    ipb_http_file_t f;
    int status = ipb_http_file(&req, &site, &f);
    if (status == 200)
        ipb_http_file_free(&f);
    return status;
}

static void put(const char *root, const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "x", 1), 1);
    close(fd);
}

static void test_plot_files(void **state)
{
    (void)state;
    /* The broker hides the plot server's store by this name: the two must agree. */
    assert_string_equal(IPB_HTTP_PLOT_STORE, IPP_DB_NAME);
    assert_int_equal(IPP_TMP_DIR[0], '.');
    char root[] = "/tmp/test_http_XXXXXX", path[512];
    assert_non_null(mkdtemp(root));
    snprintf(path, sizeof path, "%s/alice", root);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/bob", root);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/" IPP_TMP_DIR, root);
    assert_int_equal(mkdir(path, 0755), 0);
    put(root, "top.png");
    put(root, "alice/a.png");
    put(root, "bob/b.png");
    put(root, IPP_DB_NAME);
    put(root, IPP_DB_NAME "-wal");
    put(root, IPP_TMP_DIR "/partial.png");
    snprintf(path, sizeof path, "%s/alice/store", root);
    assert_int_equal(symlink("../" IPP_DB_NAME, path), 0);
    snprintf(path, sizeof path, "%s/alice/fifo", root);
    assert_int_equal(mkfifo(path, 0644), 0);
    /* Open: every regular file but the plot server's own. */
    assert_int_equal(get_file(root, "/plots/top.png", false, NULL), 200);
    assert_int_equal(get_file(root, "/plots/bob/b.png", false, NULL), 200);
    assert_int_equal(get_file(root, "/plots/" IPP_DB_NAME, false, NULL), 404);
    assert_int_equal(get_file(root, "/plots/" IPP_DB_NAME "-wal", false, NULL), 404);
    assert_int_equal(get_file(root, "/plots/%69otplot-series.db", false, NULL), 404);
    assert_int_equal(get_file(root, "/plots/alice/store", false, NULL), 404);
    assert_int_equal(get_file(root, "/plots/" IPP_TMP_DIR "/partial.png", false, NULL), 404);
    assert_int_equal(get_file(root, "/plots/alice/fifo", false, NULL), 404);
    /* http_dir is the operator's: the same names are served there. */
    assert_int_equal(get_file(root, "/" IPP_DB_NAME, false, NULL), 200);
    /* Private: a user reads their own folder only. */
    assert_int_equal(get_file(root, "/plots/alice/a.png", true, NULL), 401);
    assert_int_equal(get_file(root, "/plots/alice/a.png", true, "alice"), 200);
    assert_int_equal(get_file(root, "/plots/bob/b.png", true, "alice"), 404);
    assert_int_equal(get_file(root, "/plots/top.png", true, "alice"), 404);
    assert_int_equal(get_file(root, "/plots/alice/store", true, "alice"), 404);
    assert_int_equal(get_file(root, "/plots/alice/fifo", true, "alice"), 404);
    assert_int_equal(get_file(root, "/plots/alice/a.png", true, "alice/.."), 404);
    assert_int_equal(get_file(root, "/plots/" IPP_TMP_DIR "/partial.png", true, IPP_TMP_DIR), 404);
    assert_int_equal(get_file(root, "/plots/" IPP_DB_NAME, true, IPP_DB_NAME), 404);
    assert_int_equal(get_file(root, "/index.html", true, NULL), 404); /* no login for the rest */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_upgrade), cmocka_unit_test(test_every_prefix_needs_more),
        cmocka_unit_test(test_intents),       cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_limits),        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_content_types), cmocka_unit_test(test_basic),
        cmocka_unit_test(test_plot_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
