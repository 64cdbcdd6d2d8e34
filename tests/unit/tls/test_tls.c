/*
 * test_tls.c - the server TLS filter against an OpenSSL client over memory BIOs:
 * handshake and data both ways, client certificates required and checked, the minimum
 * version, plaintext on a TLS port, and configuration errors. Certificates are made
 * fresh by tests/lib/make-certs.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tls/tls.h"

static char dir[64];

static const char *path(const char *name)
{
    static char buf[4][128];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
    return buf[i];
}

static int setup(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(dir, sizeof dir, "/tmp/iptest-tls-%d", (int)getpid());
    snprintf(cmd, sizeof cmd, "sh %s/tests/lib/make-certs.sh %s", getenv("IOTPLOT_SRC"), dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

typedef struct {
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *in, *out;
    char got[256]; /* plaintext the server filter delivered */
    size_t got_len;
} client_t;

static void client_init(client_t *c, const char *cert, const char *key, int max_version)
{
    memset(c, 0, sizeof *c);
    c->ctx = SSL_CTX_new(TLS_client_method());
    assert_non_null(c->ctx);
    assert_int_equal(SSL_CTX_load_verify_locations(c->ctx, path("ca.pem"), NULL), 1);
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    if (max_version)
        SSL_CTX_set_max_proto_version(c->ctx, max_version);
    if (cert) {
        assert_int_equal(SSL_CTX_use_certificate_file(c->ctx, path(cert), SSL_FILETYPE_PEM), 1);
        assert_int_equal(SSL_CTX_use_PrivateKey_file(c->ctx, path(key), SSL_FILETYPE_PEM), 1);
    }
    c->ssl = SSL_new(c->ctx);
    c->in = BIO_new(BIO_s_mem());
    c->out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(c->in, -1);
    SSL_set_bio(c->ssl, c->in, c->out);
    SSL_set_connect_state(c->ssl);
    SSL_set1_host(c->ssl, "localhost");
}

static void client_free(client_t *c)
{
    SSL_free(c->ssl);
    SSL_CTX_free(c->ctx);
}

static void on_plain(void *arg, uint8_t *p, size_t n)
{
    client_t *c = arg;
    assert_true(c->got_len + n <= sizeof c->got);
    memcpy(c->got + c->got_len, p, n);
    c->got_len += n;
}

/* Shuttle bytes both ways until neither side has anything to say; 0 or the server's -1. */
static int pump(client_t *c, ipb_tls_t *s)
{
    uint8_t buf[32768];
    for (int round = 0; round < 50; round++) {
        if (!SSL_is_init_finished(c->ssl))
            SSL_do_handshake(c->ssl);
        int n = BIO_read(c->out, buf, sizeof buf);
        if (n > 0 && ipb_tls_feed(s, buf, (size_t)n, on_plain, c) < 0)
            return -1;
        size_t m = ipb_tls_out_read(s, buf, sizeof buf);
        if (m)
            BIO_write(c->in, buf, (int)m);
        if (n <= 0 && m == 0)
            return 0;
    }
    return 0;
}

static ipb_tls_ctx_t *server_ctx(bool require_cert, const char *min_version)
{
    char err[256];
    ipb_tls_config_t cfg = {.certfile = path("server.pem"), .keyfile = path("server.key"),
                            .cafile = path("ca.pem"), .require_certificate = require_cert,
                            .tls_version = min_version};
    ipb_tls_ctx_t *ctx = ipb_tls_ctx_new(&cfg, err, sizeof err);
    if (!ctx)
        fail_msg("%s", err);
    return ctx;
}

static void test_handshake_and_data(void **state)
{
    (void)state;
    client_t c;
    ipb_tls_ctx_t *ctx = server_ctx(false, NULL);
    ipb_tls_t *s = ipb_tls_new(ctx);
    client_init(&c, NULL, NULL, 0);
    assert_int_equal(pump(&c, s), 0);
    assert_true(ipb_tls_ready(s));
    assert_true(SSL_is_init_finished(c.ssl));
    assert_int_equal(SSL_get_verify_result(c.ssl), X509_V_OK); /* the client trusts us */
    assert_string_equal(ipb_tls_version(s), "TLSv1.3");
    /* Client to server. */
    assert_int_equal(SSL_write(c.ssl, "\x10\x0c hello mqtt", 13), 13);
    assert_int_equal(pump(&c, s), 0);
    assert_int_equal(c.got_len, 13);
    assert_memory_equal(c.got, "\x10\x0c hello mqtt", 13);
    /* Server to client. */
    assert_int_equal(ipb_tls_write(s, (const uint8_t *)"\x20\x02\x00\x00", 4), 0);
    assert_true(ipb_tls_out_pending(s) > 4);
    pump(&c, s);
    char back[16];
    assert_int_equal(SSL_read(c.ssl, back, sizeof back), 4);
    assert_memory_equal(back, "\x20\x02\x00\x00", 4);
    char name[64];
    assert_int_equal(ipb_tls_peer_name(s, false, name, sizeof name), -1); /* no client cert */
    client_free(&c);
    ipb_tls_free(s);
    ipb_tls_ctx_free(ctx);
}

static void test_client_certificates(void **state)
{
    (void)state;
    ipb_tls_ctx_t *ctx = server_ctx(true, NULL);
    struct {
        const char *cert, *key;
        int ok;
    } cases[] = {{"client.pem", "client.key", 1}, {NULL, NULL, 0}, {"other.pem", "other.key", 0}};
    for (size_t i = 0; i < 3; i++) {
        client_t c;
        ipb_tls_t *s = ipb_tls_new(ctx);
        client_init(&c, cases[i].cert, cases[i].key, 0);
        int rc = pump(&c, s);
        /* TLS 1.3 checks the client's certificate after the client thinks it is done:
         * send data so the server gets the client's Finished and certificate. */
        if (rc == 0) {
            SSL_write(c.ssl, "x", 1);
            rc = pump(&c, s);
        }
        if (cases[i].ok) {
            assert_int_equal(rc, 0);
            char name[128];
            assert_int_equal(ipb_tls_peer_name(s, false, name, sizeof name), 0);
            assert_string_equal(name, "alice");
            assert_int_equal(ipb_tls_peer_name(s, true, name, sizeof name), 0);
            assert_string_equal(name, "CN=alice");
        } else {
            assert_int_equal(rc, -1);
            assert_true(strlen(ipb_tls_error(s)) > 0);
        }
        client_free(&c);
        ipb_tls_free(s);
    }
    ipb_tls_ctx_free(ctx);
}

static void test_minimum_version(void **state)
{
    (void)state;
    ipb_tls_ctx_t *ctx = server_ctx(false, "tlsv1.3");
    client_t c;
    ipb_tls_t *s = ipb_tls_new(ctx);
    client_init(&c, NULL, NULL, TLS1_2_VERSION);
    assert_int_equal(pump(&c, s), -1);
    assert_false(ipb_tls_ready(s));
    client_free(&c);
    ipb_tls_free(s);
    ipb_tls_ctx_free(ctx);
}

static void test_plaintext_refused(void **state)
{
    (void)state;
    ipb_tls_ctx_t *ctx = server_ctx(false, NULL);
    ipb_tls_t *s = ipb_tls_new(ctx);
    static const uint8_t connect[] = {0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c};
    assert_int_equal(ipb_tls_feed(s, connect, sizeof connect, on_plain, NULL), -1);
    assert_non_null(strstr(ipb_tls_error(s), "not TLS"));
    ipb_tls_free(s);
    ipb_tls_ctx_free(ctx);
}

static void test_config_errors(void **state)
{
    (void)state;
    char err[256];
    ipb_tls_config_t mismatch = {.certfile = path("server.pem"), .keyfile = path("client.key")};
    assert_null(ipb_tls_ctx_new(&mismatch, err, sizeof err));
    assert_non_null(strstr(err, "keyfile"));
    assert_non_null(strstr(err, "mismatch"));
    ipb_tls_config_t missing = {.certfile = "/nonexistent.pem", .keyfile = path("server.key")};
    assert_null(ipb_tls_ctx_new(&missing, err, sizeof err));
    assert_non_null(strstr(err, "certfile /nonexistent.pem"));
    ipb_tls_config_t old = {.certfile = path("server.pem"), .keyfile = path("server.key"),
                            .tls_version = "tlsv1"};
    assert_null(ipb_tls_ctx_new(&old, err, sizeof err));
    assert_non_null(strstr(err, "tls_version"));
    ipb_tls_config_t nocas = {.certfile = path("server.pem"), .keyfile = path("server.key"),
                              .require_certificate = true};
    assert_null(ipb_tls_ctx_new(&nocas, err, sizeof err));
    assert_non_null(strstr(err, "require_certificate"));
    ipb_tls_config_t badcipher = {.certfile = path("server.pem"), .keyfile = path("server.key"),
                                  .ciphers = "NOT-A-CIPHER"};
    assert_null(ipb_tls_ctx_new(&badcipher, err, sizeof err));
    assert_non_null(strstr(err, "ciphers"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_and_data), cmocka_unit_test(test_client_certificates),
        cmocka_unit_test(test_minimum_version),    cmocka_unit_test(test_plaintext_refused),
        cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
