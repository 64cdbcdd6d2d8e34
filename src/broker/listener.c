/*
 * listener.c - listening sockets: bind each configured address, listen, and hand every
 * accepted socket to its listener's transport: plain TCP (tcp.c) or TLS and/or
 * WebSocket (layered.c). The two transports know nothing of each other.
 */
#include <string.h>

#include "core.h"
#include "layered.h"
#include "listener.h"
#include "log.h"
#include "tcp.h"

static void on_connection(uv_stream_t *server, int status)
{
    ipb_listener_t *l = server->data;
    if (status < 0) {
        ipb__log(l->b, IPB_LOG_ERR, "Accept error: %s.", uv_strerror(status));
        return;
    }
    if (l->layered)
        ipb__layered_accept(l->b, l->index, server, &l->layer);
    else
        ipb__tcp_accept(l->b, l->index, server);
}

static int bind_addr(const char *address, uint16_t port, struct sockaddr_storage *ss)
{
    const char *a = address && *address ? address : "0.0.0.0";
    if (strchr(a, ':'))
        return uv_ip6_addr(a, port, (struct sockaddr_in6 *)ss);
    if (uv_ip4_addr(a, port, (struct sockaddr_in *)ss) == 0)
        return 0;
    if (!strcmp(a, "localhost"))
        return uv_ip4_addr("127.0.0.1", port, (struct sockaddr_in *)ss);
    return UV_EINVAL;
}

int ipb__listener_open(ipb_broker_t *b, unsigned i)
{
    ipb_listener_t *l = &b->listeners[i];
    const ipb_listener_config_t *lc = &b->cfg.listeners[i];
    struct sockaddr_storage ss;
    int rc = bind_addr(lc->address, lc->port, &ss);
    if (rc < 0)
        return rc;
    l->b = b;
    l->index = i;
    uv_tcp_init(b->loop, &l->h);
    l->h.data = l;
    l->open = true;
    b->open_handles++;
    if ((rc = uv_tcp_bind(&l->h, (struct sockaddr *)&ss, 0)) < 0 ||
        (rc = uv_listen((uv_stream_t *)&l->h, 1024, on_connection)) < 0)
        return rc;
    struct sockaddr_storage got;
    int len = sizeof got;
    uv_tcp_getsockname(&l->h, (struct sockaddr *)&got, &len);
    l->port = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
                                              : ((struct sockaddr_in *)&got)->sin_port);
    ipb__log(b, IPB_LOG_NOTICE, "Opening %s listen socket on port %u.",
             got.ss_family == AF_INET6 ? "ipv6" : "ipv4", l->port);
    return 0;
}
