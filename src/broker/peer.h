/*
 * peer.h - the printable address of a TCP peer (peer.c), for log lines and auth hooks.
 */
#ifndef IOTPLOT_BROKER_PEER_H
#define IOTPLOT_BROKER_PEER_H

#include <stddef.h>

#include <uv.h>

/* "address:port" of a TCP handle's peer ("?:0" if it has none). */
void ipb__tcp_peer_name(uv_tcp_t *h, char *buf, size_t len);

#endif
