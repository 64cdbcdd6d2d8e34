/*
 * tcp.c - the plain TCP transport (one implementation of ipb_transport_vt) and the
 * listeners that accept into it.
 *
 * A later TLS or WebSocket transport wraps its own uv_tcp_t the same way and gives the
 * connection plaintext MQTT bytes through ipb_conn_read_buf / ipb_conn_on_read.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct {
    ipb_transport_t base;
    uv_tcp_t h;
} tcp_t;

typedef struct {
    uv_write_t req;
    tcp_t *t;
} tcp_write_t;

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    tcp_t *t = h->data;
    ipb_conn_read_buf(t->base.conn, suggested, buf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    tcp_t *t = s->data;
    ipb_conn_on_read(t->base.conn, n, buf);
}

static int tcp_read_start(ipb_transport_t *tr)
{
    tcp_t *t = (tcp_t *)tr;
    return uv_read_start((uv_stream_t *)&t->h, on_alloc, on_read);
}

static int tcp_read_stop(ipb_transport_t *tr)
{
    tcp_t *t = (tcp_t *)tr;
    return uv_read_stop((uv_stream_t *)&t->h);
}

static int tcp_try_write(ipb_transport_t *tr, const uv_buf_t *bufs, unsigned n)
{
    tcp_t *t = (tcp_t *)tr;
    return uv_try_write((uv_stream_t *)&t->h, bufs, n);
}

static void on_written(uv_write_t *req, int status)
{
    tcp_write_t *w = (tcp_write_t *)req;
    tcp_t *t = w->t;
    free(w);
    if (t->base.conn)
        ipb_conn_on_written(t->base.conn, status);
}

static int tcp_write(ipb_transport_t *tr, const uv_buf_t *bufs, unsigned n)
{
    tcp_t *t = (tcp_t *)tr;
    /* Allocated per write, not per connection: idle connections hold no request. */
    tcp_write_t *w = malloc(sizeof *w);
    if (!w)
        return UV_ENOMEM;
    w->t = t;
    int rc = uv_write(&w->req, (uv_stream_t *)&t->h, bufs, n, on_written);
    if (rc < 0)
        free(w);
    return rc;
}

static void on_closed(uv_handle_t *h)
{
    tcp_t *t = h->data;
    if (t->base.conn)
        ipb_conn_on_closed(t->base.conn);
    free(t);
}

static void tcp_close(ipb_transport_t *tr)
{
    tcp_t *t = (tcp_t *)tr;
    if (!uv_is_closing((uv_handle_t *)&t->h))
        uv_close((uv_handle_t *)&t->h, on_closed);
}

static void tcp_peer(ipb_transport_t *tr, char *buf, size_t len)
{
    ipb__tcp_peer_name(&((tcp_t *)tr)->h, buf, len);
}

void ipb__tcp_peer_name(uv_tcp_t *h, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    int sl = sizeof ss;
    char host[64] = "?";
    int port = 0;
    if (uv_tcp_getpeername(h, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&ss, host, sizeof host);
            port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        } else {
            uv_ip4_name((struct sockaddr_in *)&ss, host, sizeof host);
            port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        }
    }
    snprintf(buf, len, "%s:%d", host, port);
}

static const ipb_transport_vt tcp_vt = {
    .name = "tcp",
    .read_start = tcp_read_start,
    .read_stop = tcp_read_stop,
    .try_write = tcp_try_write,
    .write = tcp_write,
    .close = tcp_close,
    .peer = tcp_peer,
};

static void on_refused_close(uv_handle_t *h)
{
    free(h->data);
}

int ipb__tcp_accept(ipb_broker_t *b, unsigned index, uv_stream_t *server)
{
    tcp_t *t = calloc(1, sizeof *t);
    if (!t)
        return UV_ENOMEM;
    t->base.vt = &tcp_vt;
    t->h.data = t;
    uv_tcp_init(b->loop, &t->h);
    int rc = uv_accept(server, (uv_stream_t *)&t->h);
    if (rc == 0) {
        uv_tcp_nodelay(&t->h, 1); /* latency; writes are batched per loop turn anyway */
        if (ipb_conn_new(b, index, &t->base))
            return 0;
        ipb__log(b, IPB_LOG_NOTICE, "Connection refused: max_connections reached.");
    }
    uv_close((uv_handle_t *)&t->h, on_refused_close);
    return rc;
}

/* ---- listeners -------------------------------------------------------------------- */

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
