/*
 * tls.h - TLS as a filter over memory buffers (OpenSSL 3): server side, and the client side
 * of bridges.
 *
 * The broker's TLS transport reads ciphertext from its TCP socket, feeds it here, gets
 * plaintext back for the MQTT (or HTTP/WebSocket) layer, and writes out the ciphertext
 * this produces. Nothing here touches a socket or the event loop, so the same filter
 * serves every listener, and TLS is never a copy of the TCP code.
 */
#ifndef IPB_TLS_H
#define IPB_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A listener's TLS settings, named after their mosquitto.conf directives. */
typedef struct {
    const char *certfile; /* PEM chain; required */
    const char *keyfile;  /* PEM key; required */
    const char *cafile;   /* CAs for client certificates */
    const char *capath;
    bool require_certificate;
    const char *tls_version;  /* minimum: "tlsv1.2" (the default) or "tlsv1.3" */
    const char *ciphers;      /* TLS 1.2 cipher list, OpenSSL syntax */
    const char *ciphersuites; /* TLS 1.3 suites */
    const char *crlfile;      /* PEM CRLs: revoked client certificates are refused */
    /* TLS-PSK: with a hint, clients may use a key of psk_file ("identity:hexkey" lines)
     * instead of certificates; certfile and keyfile are then optional. */
    const char *psk_hint;
    const char *psk_file;
} ipb_tls_config_t;

/* Certificates and settings, shared by a listener's connections. */
typedef struct ipb_tls_ctx ipb_tls_ctx_t;

/*
 * Load certificates and key and check that they match. NULL with the reason in err
 * (which file, what OpenSSL said). A SIGHUP reload makes a new context: connections
 * made with the old one keep it until they close.
 */
ipb_tls_ctx_t *ipb_tls_ctx_new(const ipb_tls_config_t *cfg, char *err, size_t errlen);
void ipb_tls_ctx_free(ipb_tls_ctx_t *ctx);

/*
 * The client side, for the broker's bridges (mosquitto's bridge_* names): the server is
 * verified against cafile and/or capath; certfile and keyfile are our own certificate
 * if the server asks for one. Or TLS-PSK, with no certificate at all. NULL with the
 * reason in err.
 */
typedef struct {
    const char *cafile, *capath;
    const char *certfile, *keyfile; /* both or neither */
    const char *tls_version;        /* minimum: "tlsv1.2" (the default) or "tlsv1.3" */
    /* TLS-PSK instead of certificates: an identity and its key in hexadecimal. */
    const char *psk_identity, *psk_hex;
} ipb_tls_client_config_t;
ipb_tls_ctx_t *ipb_tls_client_ctx_new(const ipb_tls_client_config_t *cfg, char *err,
                                      size_t errlen);

/* One connection's TLS state. */
typedef struct ipb_tls ipb_tls_t;

ipb_tls_t *ipb_tls_new(ipb_tls_ctx_t *ctx);
/*
 * A client connection to `host` (SNI; with check_name, the certificate must name it, as
 * a host name or an IP address). ipb_tls_feed(t, NULL, 0, ...) then writes the ClientHello.
 */
ipb_tls_t *ipb_tls_new_client(ipb_tls_ctx_t *ctx, const char *host, bool check_name);
void ipb_tls_free(ipb_tls_t *t);

/* Called with decrypted application bytes (the buffer may be modified). */
typedef void (*ipb_tls_plain_cb)(void *arg, uint8_t *p, size_t n);

/*
 * Feed ciphertext received from the peer; advances the handshake and hands any plaintext
 * to cb. Afterwards send what ipb_tls_out_read() gives. Returns 0, or -1 when the
 * connection must close (ipb_tls_error() says why: a failed handshake, an unverified
 * client certificate, plaintext sent to a TLS port...).
 */
int ipb_tls_feed(ipb_tls_t *t, const uint8_t *in, size_t n, ipb_tls_plain_cb cb, void *arg);

/* Encrypt application bytes (after the handshake). 0, or -1 on error. */
int ipb_tls_write(ipb_tls_t *t, const uint8_t *p, size_t n);

/* Ciphertext waiting to be sent, and reading it out (removes it). */
size_t ipb_tls_out_pending(const ipb_tls_t *t);
size_t ipb_tls_out_read(ipb_tls_t *t, uint8_t *buf, size_t cap);

/* Queue a close_notify alert (send the output, then close the socket). */
void ipb_tls_shutdown(ipb_tls_t *t);

bool ipb_tls_ready(const ipb_tls_t *t); /* handshake finished */
const char *ipb_tls_error(const ipb_tls_t *t);
const char *ipb_tls_version(const ipb_tls_t *t); /* "TLSv1.3", ... */

/*
 * The verified client certificate's identity: its Common Name (use_identity_as_username)
 * or its whole subject in RFC 2253 form (use_subject_as_username). 0, or -1 when there is
 * no verified certificate or it does not fit.
 */
int ipb_tls_peer_name(const ipb_tls_t *t, bool whole_subject, char *out, size_t outlen);

#endif
