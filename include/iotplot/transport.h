/*
 * transport.h - how the MQTT client reaches its server, and the platform hooks it needs.
 *
 * The client core (client.h) is pure C: it does no I/O and includes no POSIX header. It
 * talks to the network through an ipm_transport_t, a small table of function pointers over
 * an opaque context, and asks the time and random numbers through an ipm_platform_t. A
 * microcontroller port fills both with its own functions (see ports/); hosts use the
 * POSIX TCP and OpenSSL 3 TLS transports and the host platform of net.h (library ipm_net).
 * This header is all a port needs: nothing in it is POSIX's or the host's.
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

#ifdef __cplusplus
}
#endif

#endif /* IOTPLOT_TRANSPORT_H */
