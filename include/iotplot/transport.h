/*
 * transport.h - how the MQTT client reaches its server, and the platform hooks it needs.
 *
 * The client core (client.h) is pure C: it does no I/O and includes no POSIX header. It
 * talks to the network through an ipm_transport_t, a small table of function pointers over
 * an opaque context, and asks the time and random numbers through an ipm_platform_t. A
 * microcontroller port fills both with its own functions (see ports/); hosts use the
 * POSIX TCP and OpenSSL 3 TLS transports declared at the end of this file (library
 * ipm_net).
 *
 * Error values are the negative IPM_E* codes of codec.h; 0 is success.
 */
#ifndef IOTPLOT_TRANSPORT_H
#define IOTPLOT_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotplot/codec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the transport interface -------------------------------------------------------- */

/*
 * A byte stream to the server. The client calls open() once per connection attempt and
 * close() once after every open() (also after a failed one), then may call open() again.
 * Calls never overlap: a transport needs no locking of its own.
 *
 * open(ctx, host, port, timeout_ms)
 *     Connect to host:port within timeout_ms. Returns IPM_OK, IPM_ERESOLVE (name lookup),
 *     IPM_ETIMEOUT, IPM_EIO (refused, unreachable) or IPM_ETLS (handshake, certificate).
 * send(ctx, buf, len, timeout_ms)
 *     Send all len bytes, waiting at most timeout_ms in total. Returns IPM_OK,
 *     IPM_ETIMEOUT, IPM_ECLOSED or IPM_EIO. A partial send is an error: the client then
 *     closes the connection, because the stream is out of step.
 * recv(ctx, buf, cap, timeout_ms)
 *     Read what is available, up to cap bytes, waiting at most timeout_ms for the first
 *     byte (0 = just poll). Returns the number of bytes (> 0), 0 if none arrived in time,
 *     IPM_ECLOSED at end of stream, or IPM_EIO / IPM_ETLS.
 * close(ctx)
 *     Release the connection. Must be safe to call when open() failed.
 *
 * Example: a transport over a vendor socket API.
 *
 *     static int my_send(void *ctx, const uint8_t *b, size_t n, uint32_t ms) { ... }
 *     ...
 *     ipm_transport_t tr = {.ctx = &my_sock, .open = my_open, .send = my_send,
 *                           .recv = my_recv, .close = my_close};
 */
typedef struct ipm_transport {
    void *ctx;
    int (*open)(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms);
    int (*send)(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms);
    int (*recv)(void *ctx, uint8_t *buf, size_t cap, uint32_t timeout_ms);
    void (*close)(void *ctx);
} ipm_transport_t;

/* ---- platform hooks ----------------------------------------------------------------- */

/*
 * Time and randomness, so the client core needs no operating system.
 *
 * now_ms(ctx)    required: a monotonic millisecond clock; it may wrap at 2^32 (the client
 *                only ever subtracts two readings).
 * random(ctx)    optional: 32 random bits, for the reconnect jitter. NULL = no jitter.
 * sleep_ms(ctx)  optional: sleep, used by ipm_client_wait_msg() while it waits for the
 *                next reconnect attempt (there is no socket to wait on then). NULL = the
 *                wait returns early instead.
 */
typedef struct {
    uint32_t (*now_ms)(void *ctx);
    uint32_t (*random)(void *ctx);
    void (*sleep_ms)(void *ctx, uint32_t ms);
    void *ctx;
} ipm_platform_t;

/* ---- host implementations (library ipm_net: POSIX and OpenSSL 3) --------------------- */

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

#ifdef __cplusplus
}
#endif

#endif /* IOTPLOT_TRANSPORT_H */
