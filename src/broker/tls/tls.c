/*
 * tls.c - TLS over memory BIOs (see tls.h): the server side of TLS listeners, and the
 * client side of bridges.
 */
#include "tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TLS_RECORD_HEADER 0x16 /* a handshake record: what every ClientHello starts with */

struct ipb_tls_ctx {
    SSL_CTX *ssl_ctx;
    /* A client's TLS-PSK (bridge_identity, bridge_psk). */
    char psk_identity[128];
    unsigned char psk[64];
    unsigned psk_len;
};

struct ipb_tls {
    SSL *ssl;
    BIO *in, *out; /* network side: ciphertext from and to the peer */
    bool started;  /* first byte seen */
    bool client;   /* our side connects (a bridge) */
    char error[160];
};

/* OpenSSL's most recent error as text, after `what`. */
static void openssl_error(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    char buf[120] = "unknown error";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    snprintf(err, errlen, "%s: %s", what, buf);
    ERR_clear_error();
}

/* ---- TLS-PSK: the keys of psk_file, owned by the SSL_CTX they were loaded for ---------- */

#define PSK_MAX_IDENTITY 128
#define PSK_MAX_KEY 64

typedef struct {
    size_t n;
    struct {
        char identity[PSK_MAX_IDENTITY + 1];
        unsigned char key[PSK_MAX_KEY];
        unsigned keylen;
    } e[];
} psk_table_t;

/* Freed with the SSL_CTX: connections still handshaking keep a context and its keys. */
static void psk_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                     void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    free(ptr);
}

static int psk_index(void)
{
    static int idx = -1; /* set once, before any loop runs: contexts are made at start */
    if (idx < 0)
        idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, psk_free);
    return idx;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                          : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* "identity:hexkey" per line, as mosquitto's psk_file; blank lines and '#' skipped. */
static psk_table_t *psk_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "psk_file %s: cannot open", path);
        return NULL;
    }
    char line[PSK_MAX_IDENTITY + 2 * PSK_MAX_KEY + 8];
    size_t cap = 8, lineno = 0;
    psk_table_t *t = calloc(1, sizeof *t + cap * sizeof t->e[0]);
    while (t && fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0] || line[0] == '#')
            continue;
        char *colon = strchr(line, ':');
        size_t hexlen = colon ? strlen(colon + 1) : 0;
        if (!colon || colon == line || (size_t)(colon - line) > PSK_MAX_IDENTITY || !hexlen ||
            hexlen % 2 || hexlen / 2 > PSK_MAX_KEY) {
            snprintf(err, errlen, "psk_file %s:%zu: not identity:hexkey (key up to %d bytes)",
                     path, lineno, PSK_MAX_KEY);
            goto fail;
        }
        if (t->n == cap) {
            psk_table_t *nt = realloc(t, sizeof *t + 2 * cap * sizeof t->e[0]);
            if (!nt)
                goto fail;
            t = nt;
            cap *= 2;
        }
        memcpy(t->e[t->n].identity, line, (size_t)(colon - line));
        t->e[t->n].identity[colon - line] = 0;
        for (size_t i = 0; i < hexlen / 2; i++) {
            int hi = hexval(colon[1 + 2 * i]), lo = hexval(colon[2 + 2 * i]);
            if (hi < 0 || lo < 0) {
                snprintf(err, errlen, "psk_file %s:%zu: the key is not hexadecimal", path,
                         lineno);
                goto fail;
            }
            t->e[t->n].key[i] = (unsigned char)(hi << 4 | lo);
        }
        t->e[t->n++].keylen = (unsigned)(hexlen / 2);
    }
    fclose(f);
    if (!t)
        snprintf(err, errlen, "out of memory");
    return t;
fail:
    fclose(f);
    free(t);
    return NULL;
}

static unsigned psk_server_cb(SSL *ssl, const char *identity, unsigned char *psk,
                              unsigned max_psk_len)
{
    const psk_table_t *t = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), psk_index());
    for (size_t i = 0; t && identity && i < t->n; i++)
        if (!strcmp(t->e[i].identity, identity) && t->e[i].keylen <= max_psk_len) {
            memcpy(psk, t->e[i].key, t->e[i].keylen);
            return t->e[i].keylen;
        }
    return 0; /* unknown identity: the handshake fails */
}

static int configure_psk(SSL_CTX *c, const ipb_tls_config_t *cfg, char *err, size_t errlen)
{
    if (!cfg->psk_file) {
        snprintf(err, errlen, "psk_hint needs psk_file");
        return -1;
    }
    psk_table_t *t = psk_load(cfg->psk_file, err, errlen);
    if (!t)
        return -1;
    if (psk_index() < 0 || !SSL_CTX_set_ex_data(c, psk_index(), t)) {
        free(t);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    SSL_CTX_use_psk_identity_hint(c, cfg->psk_hint);
    SSL_CTX_set_psk_server_callback(c, psk_server_cb);
    /* Without a certificate only PSK suites can work; with one, both kinds are offered. */
    const char *suites = cfg->ciphers ? cfg->ciphers
                         : cfg->certfile ? "PSK:DEFAULT"
                                         : "PSK";
    if (SSL_CTX_set_cipher_list(c, suites) != 1) {
        openssl_error(err, errlen, "ciphers for TLS-PSK");
        return -1;
    }
    return 0;
}

static int min_version(const char *v)
{
    if (!v || !*v || !strcasecmp(v, "tlsv1.2"))
        return TLS1_2_VERSION;
    if (!strcasecmp(v, "tlsv1.3"))
        return TLS1_3_VERSION;
    return -1; /* TLS 1.0 and 1.1 are not offered: they are broken */
}

static int configure(SSL_CTX *c, const ipb_tls_config_t *cfg, char *err, size_t errlen)
{
    char what[300];
    int v = min_version(cfg->tls_version);
    if (v < 0) {
        snprintf(err, errlen, "tls_version %s: use tlsv1.2 or tlsv1.3", cfg->tls_version);
        return -1;
    }
    if ((!cfg->certfile || !cfg->keyfile) && (!cfg->psk_hint || cfg->certfile || cfg->keyfile)) {
        snprintf(err, errlen, "a TLS listener needs certfile and keyfile");
        return -1;
    }
    SSL_CTX_set_min_proto_version(c, v);
    SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (cfg->psk_hint && configure_psk(c, cfg, err, errlen))
        return -1;
    if (!cfg->certfile)
        return 0; /* TLS-PSK alone */
    snprintf(what, sizeof what, "certfile %s", cfg->certfile);
    if (SSL_CTX_use_certificate_chain_file(c, cfg->certfile) != 1)
        goto fail;
    snprintf(what, sizeof what, "keyfile %s", cfg->keyfile);
    if (SSL_CTX_use_PrivateKey_file(c, cfg->keyfile, SSL_FILETYPE_PEM) != 1)
        goto fail;
    snprintf(what, sizeof what, "keyfile %s does not match certfile", cfg->keyfile);
    if (SSL_CTX_check_private_key(c) != 1)
        goto fail;
    snprintf(what, sizeof what, "ciphers %s", cfg->ciphers ? cfg->ciphers : "");
    if (cfg->ciphers && SSL_CTX_set_cipher_list(c, cfg->ciphers) != 1)
        goto fail;
    snprintf(what, sizeof what, "ciphersuites %s", cfg->ciphersuites ? cfg->ciphersuites : "");
    if (cfg->ciphersuites && SSL_CTX_set_ciphersuites(c, cfg->ciphersuites) != 1)
        goto fail;
    if (cfg->cafile || cfg->capath) {
        snprintf(what, sizeof what, "cafile/capath");
        if (SSL_CTX_load_verify_locations(c, cfg->cafile, cfg->capath) != 1)
            goto fail;
    }
    if (cfg->crlfile) {
        /* Only the client certificate itself is checked, as mosquitto does. */
        snprintf(what, sizeof what, "crlfile %s", cfg->crlfile);
        X509_STORE *st = SSL_CTX_get_cert_store(c);
        X509_LOOKUP *lk = X509_STORE_add_lookup(st, X509_LOOKUP_file());
        if (!lk || X509_load_crl_file(lk, cfg->crlfile, X509_FILETYPE_PEM) < 1)
            goto fail;
        X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK);
    }
    if (cfg->require_certificate) {
        if (!cfg->cafile && !cfg->capath) {
            snprintf(err, errlen, "require_certificate needs cafile or capath");
            return -1;
        }
        SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    return 0;
fail:
    openssl_error(err, errlen, what);
    return -1;
}

ipb_tls_ctx_t *ipb_tls_ctx_new(const ipb_tls_config_t *cfg, char *err, size_t errlen)
{
    ipb_tls_ctx_t *ctx = calloc(1, sizeof *ctx);
    if (!ctx || !(ctx->ssl_ctx = SSL_CTX_new(TLS_server_method()))) {
        snprintf(err, errlen, "out of memory");
        free(ctx);
        return NULL;
    }
    if (configure(ctx->ssl_ctx, cfg, err, errlen)) {
        ipb_tls_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

static unsigned psk_client_cb(SSL *ssl, const char *hint, char *identity,
                              unsigned max_identity_len, unsigned char *psk,
                              unsigned max_psk_len)
{
    const ipb_tls_ctx_t *ctx = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    (void)hint;
    if (!ctx || strlen(ctx->psk_identity) >= max_identity_len || ctx->psk_len > max_psk_len)
        return 0;
    strcpy(identity, ctx->psk_identity);
    memcpy(psk, ctx->psk, ctx->psk_len);
    return ctx->psk_len;
}

/* bridge_identity and bridge_psk into ctx: the key is hexadecimal, as in a psk_file. */
static int client_psk(ipb_tls_ctx_t *ctx, const ipb_tls_client_config_t *cfg, char *err,
                      size_t errlen)
{
    size_t n = strlen(cfg->psk_hex);
    if (!cfg->psk_identity || !cfg->psk_identity[0] ||
        strlen(cfg->psk_identity) >= sizeof ctx->psk_identity) {
        snprintf(err, errlen, "bridge_psk needs bridge_identity (under %zu bytes)",
                 sizeof ctx->psk_identity);
        return -1;
    }
    if (!n || n % 2 || n / 2 > sizeof ctx->psk) {
        snprintf(err, errlen, "bridge_psk must be an even number of hex digits, at most %zu",
                 2 * sizeof ctx->psk);
        return -1;
    }
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval(cfg->psk_hex[i]), lo = hexval(cfg->psk_hex[i + 1]);
        if (hi < 0 || lo < 0) {
            snprintf(err, errlen, "bridge_psk is not hexadecimal");
            return -1;
        }
        ctx->psk[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    ctx->psk_len = (unsigned)(n / 2);
    snprintf(ctx->psk_identity, sizeof ctx->psk_identity, "%s", cfg->psk_identity);
    SSL_CTX_set_app_data(ctx->ssl_ctx, ctx);
    SSL_CTX_set_psk_client_callback(ctx->ssl_ctx, psk_client_cb);
    return 0;
}

ipb_tls_ctx_t *ipb_tls_client_ctx_new(const ipb_tls_client_config_t *cfg, char *err,
                                      size_t errlen)
{
    char what[300];
    int v = min_version(cfg->tls_version);
    if (v < 0) {
        snprintf(err, errlen, "bridge_tls_version %s: use tlsv1.2 or tlsv1.3", cfg->tls_version);
        return NULL;
    }
    if (!cfg->certfile != !cfg->keyfile) {
        snprintf(err, errlen, "bridge_certfile and bridge_keyfile go together");
        return NULL;
    }
    ipb_tls_ctx_t *ctx = calloc(1, sizeof *ctx);
    if (!ctx || !(ctx->ssl_ctx = SSL_CTX_new(TLS_client_method()))) {
        snprintf(err, errlen, "out of memory");
        free(ctx);
        return NULL;
    }
    SSL_CTX *c = ctx->ssl_ctx;
    SSL_CTX_set_min_proto_version(c, v);
    SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION);
    if (cfg->psk_hex) {
        /* As mosquitto: certificates or a PSK on one bridge, not both. */
        if (cfg->cafile || cfg->capath || cfg->certfile) {
            snprintf(err, errlen, "bridge_psk and certificates (bridge_cafile, bridge_capath, "
                                  "bridge_certfile) exclude each other");
            ipb_tls_ctx_free(ctx);
            return NULL;
        }
        if (client_psk(ctx, cfg, err, errlen) < 0) {
            ipb_tls_ctx_free(ctx);
            return NULL;
        }
        return ctx;
    }
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
    snprintf(what, sizeof what, "bridge_cafile/bridge_capath");
    if (SSL_CTX_load_verify_locations(c, cfg->cafile, cfg->capath) != 1)
        goto fail;
    if (cfg->certfile) {
        snprintf(what, sizeof what, "bridge_certfile %s", cfg->certfile);
        if (SSL_CTX_use_certificate_chain_file(c, cfg->certfile) != 1)
            goto fail;
        snprintf(what, sizeof what, "bridge_keyfile %s", cfg->keyfile);
        if (SSL_CTX_use_PrivateKey_file(c, cfg->keyfile, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(c) != 1)
            goto fail;
    }
    return ctx;
fail:
    openssl_error(err, errlen, what);
    ipb_tls_ctx_free(ctx);
    return NULL;
}

void ipb_tls_ctx_free(ipb_tls_ctx_t *ctx)
{
    if (!ctx)
        return;
    SSL_CTX_free(ctx->ssl_ctx); /* reference counted: live connections keep theirs */
    free(ctx);
}

ipb_tls_t *ipb_tls_new(ipb_tls_ctx_t *ctx)
{
    ipb_tls_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->ssl = SSL_new(ctx->ssl_ctx);
    t->in = BIO_new(BIO_s_mem());
    t->out = BIO_new(BIO_s_mem());
    if (!t->ssl || !t->in || !t->out) {
        SSL_free(t->ssl);
        BIO_free(t->in);
        BIO_free(t->out);
        free(t);
        return NULL;
    }
    BIO_set_mem_eof_return(t->in, -1); /* empty means "wait", not "end of stream" */
    SSL_set_bio(t->ssl, t->in, t->out);  /* the SSL owns both BIOs now */
    SSL_set_accept_state(t->ssl);
    return t;
}

ipb_tls_t *ipb_tls_new_client(ipb_tls_ctx_t *ctx, const char *host, bool check_name)
{
    ipb_tls_t *t = ipb_tls_new(ctx);
    if (!t)
        return NULL;
    t->client = true;
    SSL_set_connect_state(t->ssl);
    unsigned char ip[16];
    bool is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
    bool ok = is_ip || SSL_set_tlsext_host_name(t->ssl, host) == 1; /* SNI names hosts only */
    if (ok && check_name)
        ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), host) == 1
                   : SSL_set1_host(t->ssl, host) == 1;
    if (!ok) {
        ipb_tls_free(t);
        return NULL;
    }
    return t;
}

void ipb_tls_free(ipb_tls_t *t)
{
    if (!t)
        return;
    SSL_free(t->ssl);
    free(t);
}

static int fail(ipb_tls_t *t, const char *what)
{
    long v = SSL_get_verify_result(t->ssl);
    if (v != X509_V_OK)
        snprintf(t->error, sizeof t->error, "%s: %s certificate: %s", what,
                 t->client ? "server" : "client", X509_verify_cert_error_string(v));
    else
        openssl_error(t->error, sizeof t->error, what);
    return -1;
}

int ipb_tls_feed(ipb_tls_t *t, const uint8_t *in, size_t n, ipb_tls_plain_cb cb, void *arg)
{
    uint8_t buf[16384];
    if (n && !t->started) {
        t->started = true;
        if (in[0] != TLS_RECORD_HEADER) {
            /* The client forgot TLS: say so in words its owner will recognise. */
            snprintf(t->error, sizeof t->error, "%s",
                     in[0] == 0x10 ? "not TLS but plain MQTT (a CONNECT) on this TLS port: the "
                                     "client must use TLS (e.g. --cafile)"
                                   : "not TLS (plaintext sent to a TLS port?)");
            return -1;
        }
    }
    if (n && BIO_write(t->in, in, (int)n) != (int)n)
        return fail(t, "TLS buffer");
    if (!SSL_is_init_finished(t->ssl)) {
        int r = SSL_do_handshake(t->ssl);
        if (r != 1) {
            int e = SSL_get_error(t->ssl, r);
            return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : fail(t, "handshake");
        }
    }
    for (;;) {
        int r = SSL_read(t->ssl, buf, sizeof buf);
        if (r > 0) {
            cb(arg, buf, (size_t)r);
            continue;
        }
        int e = SSL_get_error(t->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return 0;
        if (e == SSL_ERROR_ZERO_RETURN) {
            snprintf(t->error, sizeof t->error, "peer closed TLS");
            return -1;
        }
        return fail(t, "TLS read");
    }
}

int ipb_tls_write(ipb_tls_t *t, const uint8_t *p, size_t n)
{
    if (!SSL_is_init_finished(t->ssl)) {
        snprintf(t->error, sizeof t->error, "write before the handshake finished");
        return -1;
    }
    while (n) {
        size_t written = 0;
        if (SSL_write_ex(t->ssl, p, n, &written) != 1)
            return fail(t, "TLS write"); /* memory BIOs never ask to wait */
        p += written;
        n -= written;
    }
    return 0;
}

size_t ipb_tls_out_pending(const ipb_tls_t *t)
{
    return BIO_ctrl_pending(SSL_get_wbio(t->ssl));
}

size_t ipb_tls_out_read(ipb_tls_t *t, uint8_t *buf, size_t cap)
{
    int r = cap ? BIO_read(SSL_get_wbio(t->ssl), buf, cap > INT32_MAX ? INT32_MAX : (int)cap) : 0;
    return r > 0 ? (size_t)r : 0;
}

void ipb_tls_shutdown(ipb_tls_t *t)
{
    if (SSL_is_init_finished(t->ssl))
        SSL_shutdown(t->ssl);
}

bool ipb_tls_ready(const ipb_tls_t *t) { return SSL_is_init_finished(t->ssl); }
const char *ipb_tls_error(const ipb_tls_t *t) { return t->error; }
const char *ipb_tls_version(const ipb_tls_t *t) { return SSL_get_version(t->ssl); }

int ipb_tls_peer_name(const ipb_tls_t *t, bool whole_subject, char *out, size_t outlen)
{
    X509 *cert = SSL_get0_peer_certificate(t->ssl);
    if (!cert || SSL_get_verify_result(t->ssl) != X509_V_OK || outlen == 0)
        return -1;
    X509_NAME *name = X509_get_subject_name(cert);
    if (!whole_subject) {
        int n = X509_NAME_get_text_by_NID(name, NID_commonName, out, (int)outlen);
        return n > 0 && (size_t)n < outlen ? 0 : -1;
    }
    BIO *b = BIO_new(BIO_s_mem());
    int rc = -1;
    if (b && X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0) {
        int n = BIO_read(b, out, (int)outlen - 1);
        if (n > 0 && (size_t)n < outlen - 1) {
            out[n] = '\0';
            rc = 0;
        }
    }
    BIO_free(b);
    return rc;
}
