/*
 * net.h - the MQTT client on a host (library ipm_net: POSIX and OpenSSL 3): the host
 * platform hooks, the TCP and TLS transports, and ipm_client_new(), which puts them
 * together with heap buffers for programs that do not want to size every table.
 *
 * transport.h is the interface a microcontroller port implements; this header is its host
 * implementation, and a device build never includes it (with IPM_NO_MALLOC, the setting of
 * ports/ipm_port_config.h, it refuses to compile).
 *
 * Error values are the negative IPM_E* codes of codec.h; 0 is success.
 *
 * Example: a client over TLS.
 *
 *     ipm_client_config_t cfg = ipm_client_config_default();
 *     cfg.host = "broker.example";
 *     cfg.port = 8883;
 *     ipm_tls_opts_t tls = {.cafile = "ca.pem"};
 *     const char *why;
 *     ipm_client_t *c = ipm_client_new(&cfg, &tls, &why);
 *     if (!c) fprintf(stderr, "%s\n", why);
 *     ...
 *     ipm_client_free(c);
 */
#ifndef IOTPLOT_NET_H
#define IOTPLOT_NET_H

#ifdef IPM_NO_MALLOC
#error "iotplot/net.h is the host side (heap, POSIX, OpenSSL); a device uses ipm_client_init()"
#endif

#include <stdbool.h>

#include "iotplot/client.h"
#include "iotplot/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- host platform and transports ----------------------------------------------------- */

/*
 * The host platform: CLOCK_MONOTONIC, getrandom()/urandom seeded PRNG, nanosleep.
 *
 *     ipm_platform_t plat;
 *     ipm_net_platform(&plat);
 */
void ipm_net_platform(ipm_platform_t *out);

/*
 * POSIX TCP: getaddrinfo (IPv4 and IPv6), non-blocking connect bounded by the timeout,
 * TCP_NODELAY, poll()-based send and recv. The caller owns the ipm_tcp_t; it must
 * outlive the transport.
 *
 *     ipm_tcp_t tcp;
 *     ipm_transport_t tr;
 *     ipm_tcp_init(&tcp, &tr);
 *     int rc = tr.open(tr.ctx, "127.0.0.1", 1883, 5000);
 */
typedef struct {
    int fd; /* -1 when closed */
} ipm_tcp_t;

void ipm_tcp_init(ipm_tcp_t *t, ipm_transport_t *out);

/*
 * TLS options. By default the server certificate is verified against `cafile` / `capath`,
 * or the system store when both are NULL, and its name must match the host given to
 * open() (or `server_name` if set; it is also sent as SNI).
 */
typedef struct {
    const char *cafile;      /* PEM file of trusted CAs, or NULL */
    const char *capath;      /* directory of hashed CA certificates, or NULL */
    const char *certfile;    /* client certificate (PEM), or NULL */
    const char *keyfile;     /* its private key (PEM); required with certfile */
    const char *server_name; /* name to verify and send as SNI; NULL = the host */
    bool insecure;           /* TESTS ONLY: skip certificate and name checks */
    /* NULL: TLS runs over a TCP connection to the host and port given to open(). Else
     * this makes the stream TLS runs over (a unix socket, a proxied or bound socket):
     * IPM_OK with *fd connected and non-blocking, or a negative IPM_E*. */
    int (*connect_fd)(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms,
                      int *fd);
    void *connect_ctx;
} ipm_tls_opts_t;

/*
 * OpenSSL 3 TLS layered over the TCP transport above (TCP connects, TLS runs on its
 * socket). The caller owns the ipm_tls_t. `opts` strings are copied by pointer: they must
 * outlive the transport.
 */
typedef struct {
    ipm_tcp_t tcp;
    ipm_tls_opts_t opts;
    void *ssl_ctx; /* SSL_CTX *, built by ipm_tls_init() */
    void *ssl;     /* SSL *, one per connection */
    void *bio_method; /* BIO_METHOD * carrying TLS records over the TCP transport's socket */
    char error[160]; /* why the last open() failed, e.g. "certificate verify failed" */
} ipm_tls_t;

/*
 * Build the TLS context: load the CAs, the client certificate and key.
 * Returns IPM_OK, IPM_EINVALID (certfile without keyfile) or IPM_ETLS (a file that cannot
 * be loaded; ipm_tls_error() says which). Free with ipm_tls_free() in every case.
 *
 *     ipm_tls_t tls;
 *     ipm_transport_t tr;
 *     ipm_tls_opts_t o = {.cafile = "ca.pem"};
 *     if (ipm_tls_init(&tls, &o, &tr) != IPM_OK) fprintf(stderr, "%s\n", ipm_tls_error(&tls));
 */
int ipm_tls_init(ipm_tls_t *t, const ipm_tls_opts_t *opts, ipm_transport_t *out);
/*
 * Close the connection if open and free the TLS context. Safe to call twice; never fails.
 *
 *     ipm_tls_free(&tls);
 */
void ipm_tls_free(ipm_tls_t *t);
/*
 * The reason of the last TLS failure ("" if none); never NULL.
 *
 *     if (tr.open(tr.ctx, host, 8883, 5000) == IPM_ETLS) puts(ipm_tls_error(&tls));
 */
const char *ipm_tls_error(const ipm_tls_t *t);

/* ---- a client with heap buffers -------------------------------------------------------- */

/*
 * Allocate a client with 16 MiB receive and transmit buffers, a 16 MiB message store
 * (mapped lazily: an idle client costs little), a QoS 2 table and room for acknowledgements
 * waiting for the application (cfg.manual_ack) of 65535 packet ids each, the host platform hooks
 * and the TCP transport, or TLS when `tls` is not NULL. cfg->transport and cfg->platform
 * are ignored.
 * Returns NULL on out-of-memory, bad configuration or TLS files that cannot be loaded;
 * then, if err is not NULL, *err says why (valid until the next call).
 *
 *     ipm_tls_opts_t tls = {.cafile = "ca.pem"};
 *     const char *why;
 *     ipm_client_t *c = ipm_client_new(&cfg, &tls, &why);
 */
ipm_client_t *ipm_client_new(const ipm_client_config_t *cfg, const ipm_tls_opts_t *tls,
                              const char **err);
/*
 * Close the connection without DISCONNECT (send ipm_client_disconnect() first for a clean
 * end) and free what ipm_client_new() allocated. NULL is ignored. Never fails.
 *
 *     ipm_client_disconnect(c, 0);
 *     ipm_client_free(c);
 */
void ipm_client_free(ipm_client_t *c);
/*
 * Reason of the last TLS failure of a client from ipm_client_new() ("" if none or TCP).
 *
 *     if (ipm_client_connect(c) == IPM_ETLS) fprintf(stderr, "%s\n", ipm_client_tls_error(c));
 */
const char *ipm_client_tls_error(const ipm_client_t *c);

#ifdef __cplusplus
}
#endif

#endif /* IOTPLOT_NET_H */
