/*
 * listener.c - listening sockets: bind each configured address (an IP address, a host
 * name of the chosen socket_domain, or a unix socket path), listen, and hand every
 * accepted socket to its listener's transport: plain TCP (tcp.c) or TLS and/or
 * WebSocket (layered.c). The two transports know nothing of each other.
 */
#define _DEFAULT_SOURCE /* SO_BINDTODEVICE */
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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
        ipb__tcp_accept(l->b, l->index, server, l->unix_socket);
}

/* An address literal, or a host name resolved in the listener's socket_domain. */
static int bind_addr(const ipb_listener_config_t *lc, struct sockaddr_storage *ss)
{
    const char *a = lc->address[0] ? lc->address : NULL;
    if (!a)
        return lc->socket_domain == IPB_DOMAIN_IPV6
                   ? uv_ip6_addr("::", lc->port, (struct sockaddr_in6 *)ss)
                   : uv_ip4_addr("0.0.0.0", lc->port, (struct sockaddr_in *)ss);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res;
    hints.ai_family = lc->socket_domain == IPB_DOMAIN_IPV4   ? AF_INET
                      : lc->socket_domain == IPB_DOMAIN_IPV6 ? AF_INET6
                                                             : AF_UNSPEC;
    char port[8];
    snprintf(port, sizeof port, "%u", lc->port);
    if (getaddrinfo(a, port, &hints, &res) != 0)
        return UV_EINVAL;
    /* "localhost" may list ::1 first; 127.0.0.1 is what clients try first, as before. */
    struct addrinfo *pick = res;
    for (struct addrinfo *r = res; r && hints.ai_family == AF_UNSPEC; r = r->ai_next)
        if (r->ai_family == AF_INET) {
            pick = r;
            break;
        }
    memcpy(ss, pick->ai_addr, pick->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

/* `listener 0 /path`: a unix socket; a stale file of an earlier run is replaced. */
static int open_unix(ipb_broker_t *b, ipb_listener_t *l, const char *path)
{
    int rc;
    l->unix_socket = true;
    if (l->layered) {
        ipb__log(b, IPB_LOG_ERR, "Error: TLS and websockets are not offered on unix sockets.");
        return UV_EINVAL;
    }
    uv_pipe_init(b->loop, &l->h.pipe, 0);
    l->h.handle.data = l;
    l->open = true;
    b->open_handles++;
    unlink(path);
    if ((rc = uv_pipe_bind(&l->h.pipe, path)) < 0 ||
        (rc = uv_listen((uv_stream_t *)&l->h.pipe, 1024, on_connection)) < 0)
        return rc;
    ipb__log(b, IPB_LOG_NOTICE, "Opening unix listen socket on %s.", path);
    return 0;
}

int ipb__listener_open(ipb_broker_t *b, unsigned i)
{
    ipb_listener_t *l = &b->listeners[i];
    const ipb_listener_config_t *lc = &b->cfg.listeners[i];
    l->b = b;
    l->index = i;
    if (lc->address[0] == '/')
        return open_unix(b, l, lc->address);
    struct sockaddr_storage ss;
    int rc = bind_addr(lc, &ss);
    if (rc < 0)
        return rc;
    uv_tcp_init_ex(b->loop, &l->h.tcp, ss.ss_family);
    l->h.handle.data = l;
    l->open = true;
    b->open_handles++;
    uv_os_fd_t fd;
    if (lc->bind_interface[0] && uv_fileno(&l->h.handle, &fd) == 0 &&
        setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, lc->bind_interface,
                   (socklen_t)strlen(lc->bind_interface)) != 0) {
        ipb__log(b, IPB_LOG_ERR, "Error: bind_interface %s: %s.", lc->bind_interface,
                 strerror(errno));
        return UV_EINVAL;
    }
    if ((rc = uv_tcp_bind(&l->h.tcp, (struct sockaddr *)&ss, 0)) < 0 ||
        (rc = uv_listen((uv_stream_t *)&l->h.tcp, 1024, on_connection)) < 0)
        return rc;
    struct sockaddr_storage got;
    int len = sizeof got;
    uv_tcp_getsockname(&l->h.tcp, (struct sockaddr *)&got, &len);
    l->port = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
                                              : ((struct sockaddr_in *)&got)->sin_port);
    ipb__log(b, IPB_LOG_NOTICE, "Opening %s listen socket on port %u.",
             got.ss_family == AF_INET6 ? "ipv6" : "ipv4", l->port);
    return 0;
}
