/*
 * layered.h - TLS and WebSocket listeners (layered.c): what a listener needs to accept
 * into them.
 */
#ifndef IOTPLOT_BROKER_LAYERED_H
#define IOTPLOT_BROKER_LAYERED_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "tls/tls.h"

typedef struct ipb_broker ipb_broker_t;

typedef struct {
    ipb_tls_ctx_t *tls;         /* NULL: no TLS */
    bool websockets;            /* an HTTP upgrade first (and static files on GET) */
    const char *http_dir;       /* files served on GET; NULL: none (404) */
    const char *plots_dir;      /* served under /plots/; NULL: none */
    uint32_t handshake_timeout_ms; /* TLS handshake and HTTP request head */
} ipb_layer_opts_t;

/* Accept a connection on a TLS and/or WebSocket listener. 0 or a negative UV error. */
int ipb__layered_accept(ipb_broker_t *b, unsigned index, uv_stream_t *server,
                        const ipb_layer_opts_t *opts);

#endif
