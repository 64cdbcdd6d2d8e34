/*
 * tls.c - the OpenSSL 3 TLS transport. TCP (tcp.c) opens the socket and moves the bytes
 * (a BIO over its non-blocking send/recv, so a closed peer is an error, never SIGPIPE); this
 * file only runs TLS on top: the handshake, certificate and host name checks, and record
 * I/O, waiting on the same poll helper whenever OpenSSL wants the socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "net_int.h"

/* Remember why TLS failed: the verify result if there is one, else OpenSSL's error. */
static void set_error(ipm_tls_t *t, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    long v = t->ssl ? SSL_get_verify_result(t->ssl) : X509_V_OK;
    if (v != X509_V_OK)
        snprintf(t->error, sizeof t->error, "%s: certificate verify failed: %s", what,
                 X509_verify_cert_error_string(v));
    else if (e)
        snprintf(t->error, sizeof t->error, "%s: %s", what, ERR_reason_error_string(e));
    else
        snprintf(t->error, sizeof t->error, "%s", what);
    ERR_clear_error();
}

/* ---- a BIO over the TCP transport ---------------------------------------------------- */

static int bio_write(BIO *b, const char *buf, int len)
{
    ipm_tcp_t *tcp = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    int n = ipm__tcp_write_some(tcp->fd, (const uint8_t *)buf, (size_t)len);
    if (n == 0)
        BIO_set_retry_write(b);
    return n > 0 ? n : -1;
}

static int bio_read(BIO *b, char *buf, int len)
{
    ipm_tcp_t *tcp = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    int n = ipm__tcp_read_some(tcp->fd, (uint8_t *)buf, (size_t)len);
    if (n == 0)
        BIO_set_retry_read(b);
    return n > 0 ? n : n == IPM_ECLOSED ? 0 : -1;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static BIO_METHOD *bio_method_new(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "iotplot tcp");
    if (m && (!BIO_meth_set_write(m, bio_write) || !BIO_meth_set_read(m, bio_read) ||
              !BIO_meth_set_ctrl(m, bio_ctrl))) {
        BIO_meth_free(m);
        m = NULL;
    }
    return m;
}

const char *ipm_tls_error(const ipm_tls_t *t)
{
    return t->error;
}

/* Wait for what OpenSSL asked for after `r` from an SSL call; 1 ready, 0 timeout, < 0 error. */
static int ssl_wait(ipm_tls_t *t, int r, uint32_t start, uint32_t timeout_ms)
{
    int e = SSL_get_error(t->ssl, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
        if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0))
            return IPM_ECLOSED;
        set_error(t, "TLS");
        return IPM_ETLS;
    }
    uint32_t spent = ipm__mono_ms() - start;
    if (spent >= timeout_ms)
        return 0;
    return ipm__fd_wait(t->tcp.fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, timeout_ms - spent);
}

/* Verify the peer's name: an IP address against IP SANs, anything else as a DNS name. */
static int check_name(ipm_tls_t *t, const char *name)
{
    unsigned char addr[16];
    bool ip = inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
    if (ip)
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), name) == 1;
    return SSL_set_tlsext_host_name(t->ssl, name) == 1 && SSL_set1_host(t->ssl, name) == 1;
}

static void tls_close(void *ctx)
{
    ipm_tls_t *t = ctx;
    if (t->ssl) {
        SSL_free(t->ssl);
        t->ssl = NULL;
    }
    ipm__tcp_close(&t->tcp);
}

static int tls_open(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    ipm_tls_t *t = ctx;
    uint32_t start = ipm__mono_ms();
    t->error[0] = 0;
    int rc = t->opts.connect_fd
                 ? t->opts.connect_fd(t->opts.connect_ctx, host, port, timeout_ms, &t->tcp.fd)
                 : ipm__tcp_open(&t->tcp, host, port, timeout_ms);
    if (rc < 0)
        return rc;
    rc = IPM_ETLS;
    t->ssl = SSL_new(t->ssl_ctx);
    BIO *bio = t->ssl ? BIO_new(t->bio_method) : NULL;
    if (!bio) {
        set_error(t, "TLS setup");
        goto fail;
    }
    BIO_set_data(bio, &t->tcp);
    BIO_set_init(bio, 1);
    SSL_set_bio(t->ssl, bio, bio); /* the SSL owns it now */
    const char *name = t->opts.server_name ? t->opts.server_name : host;
    if (!t->opts.insecure && !check_name(t, name)) {
        set_error(t, "TLS host name");
        goto fail;
    }
    for (;;) {
        int r = SSL_connect(t->ssl);
        if (r == 1)
            return IPM_OK;
        int w = ssl_wait(t, r, start, timeout_ms);
        if (w == 0) {
            snprintf(t->error, sizeof t->error, "TLS handshake timed out");
            rc = IPM_ETIMEOUT;
            goto fail;
        }
        if (w < 0) {
            if (w == IPM_ECLOSED)
                snprintf(t->error, sizeof t->error, "TLS handshake: connection closed by peer");
            rc = IPM_ETLS;
            goto fail;
        }
    }
fail:
    tls_close(t);
    return rc;
}

static int tls_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    ipm_tls_t *t = ctx;
    uint32_t start = ipm__mono_ms();
    size_t off = 0;
    if (!t->ssl)
        return IPM_ECLOSED;
    while (off < len) {
        size_t n = 0;
        int r = SSL_write_ex(t->ssl, buf + off, len - off, &n);
        if (r == 1) {
            off += n;
            continue;
        }
        int w = ssl_wait(t, r, start, timeout_ms);
        if (w <= 0)
            return w == 0 ? IPM_ETIMEOUT : w;
    }
    return IPM_OK;
}

static int tls_recv(void *ctx, uint8_t *buf, size_t cap, uint32_t timeout_ms)
{
    ipm_tls_t *t = ctx;
    uint32_t start = ipm__mono_ms();
    if (!t->ssl)
        return IPM_ECLOSED;
    if (cap > 0x7FFFFFFF)
        cap = 0x7FFFFFFF;
    for (;;) {
        size_t n = 0;
        int r = SSL_read_ex(t->ssl, buf, cap, &n);
        if (r == 1)
            return (int)n;
        int w = ssl_wait(t, r, start, timeout_ms);
        if (w <= 0)
            return w;
    }
}

/* OpenSSL says "system lib" for a missing file; say which file and why. */
static bool readable(ipm_tls_t *t, const char *path)
{
    FILE *f = path ? fopen(path, "r") : NULL;
    if (path && !f)
        snprintf(t->error, sizeof t->error, "cannot read %s: %s", path, strerror(errno));
    if (f)
        fclose(f);
    return !path || f;
}

int ipm_tls_init(ipm_tls_t *t, const ipm_tls_opts_t *opts, ipm_transport_t *out)
{
    memset(t, 0, sizeof *t);
    t->tcp.fd = -1;
    if (opts)
        t->opts = *opts;
    *out = (ipm_transport_t){.ctx = t, .open = tls_open, .send = tls_send, .recv = tls_recv,
                             .close = tls_close};
    if (!t->opts.certfile != !t->opts.keyfile) {
        snprintf(t->error, sizeof t->error, "a client certificate and its key go together");
        return IPM_EINVALID;
    }
    if (!readable(t, t->opts.cafile) || !readable(t, t->opts.certfile) ||
        !readable(t, t->opts.keyfile))
        return IPM_ETLS;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    t->ssl_ctx = ctx;
    t->bio_method = bio_method_new();
    if (!ctx || !t->bio_method) {
        set_error(t, "TLS context");
        return IPM_ETLS;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* A peer closing the TCP connection without close_notify is "closed", not an error. */
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    if (!t->opts.insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        int ok = t->opts.cafile || t->opts.capath
                     ? SSL_CTX_load_verify_locations(ctx, t->opts.cafile, t->opts.capath)
                     : SSL_CTX_set_default_verify_paths(ctx);
        if (ok != 1) {
            set_error(t, t->opts.cafile ? t->opts.cafile : "CA store");
            return IPM_ETLS;
        }
    }
    if (t->opts.certfile) {
        if (SSL_CTX_use_certificate_chain_file(ctx, t->opts.certfile) != 1) {
            set_error(t, t->opts.certfile);
            return IPM_ETLS;
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, t->opts.keyfile, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1) {
            set_error(t, t->opts.keyfile);
            return IPM_ETLS;
        }
    }
    return IPM_OK;
}

void ipm_tls_free(ipm_tls_t *t)
{
    tls_close(t);
    if (t->ssl_ctx)
        SSL_CTX_free(t->ssl_ctx);
    if (t->bio_method)
        BIO_meth_free(t->bio_method);
    t->ssl_ctx = NULL;
    t->bio_method = NULL;
}
