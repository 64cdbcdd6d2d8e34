/*
 * listener.h - listening sockets (listener.c): bind, listen, and hand each accepted
 * socket to the transport its listener speaks (tcp.c, or layered.c for TLS/WebSocket).
 */
#ifndef IOTPLOT_BROKER_LISTENER_H
#define IOTPLOT_BROKER_LISTENER_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "layered.h"

typedef struct {
    union {
        uv_handle_t handle;
        uv_tcp_t tcp;
        uv_pipe_t pipe; /* a unix socket listener: address starts with '/' */
    } h;
    ipb_broker_t *b;
    unsigned index;
    uint16_t port;
    bool open;
    bool unix_socket;
    bool layered;          /* TLS and/or WebSocket: accepted by layered.c */
    ipb_layer_opts_t layer; /* its options, kept current by security.c */
} ipb_listener_t;

/* Bind and listen on the configured listener i. 0 or a negative UV error. */
int ipb__listener_open(ipb_broker_t *b, unsigned i);

#endif
