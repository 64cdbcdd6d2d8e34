/*
 * tcp.h - the plain TCP transport (tcp.c), one implementation of ipb_transport_vt.
 */
#ifndef IOTPLOT_BROKER_TCP_H
#define IOTPLOT_BROKER_TCP_H

#include <stdbool.h>

#include <uv.h>

typedef struct ipb_broker ipb_broker_t;

/* Accept a connection on a plain listener (a unix socket one: unix_socket). 0 or a
 * negative UV error. */
int ipb__tcp_accept(ipb_broker_t *b, unsigned index, uv_stream_t *server, bool unix_socket);

#endif
