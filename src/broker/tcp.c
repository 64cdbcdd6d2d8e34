/*
 * tcp.c - the plain TCP transport, one implementation of ipb_transport_vt: the socket's
 * bytes go straight to the connection (ipb_conn_read_buf / ipb_conn_on_read). TLS and
 * WebSocket are the other implementation, layered.c, which wraps its own uv_tcp_t the
 * same way; listener.c picks one of the two for each accepted socket.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "log.h"
#include "peer.h"
#include "tcp.h"

/*
 * A TCP client's is allocated only as far as its uv_tcp_t: 16 bytes less than the union
 * with the larger uv_pipe_t, and no flag after it (the handle's type tells a unix socket
 * apart), so an idle connection's transport takes a smaller malloc size class.
 */
typedef struct {
    ipb_transport_t base;
    union {
        uv_tcp_t tcp;
        uv_pipe_t pipe; /* a client of a unix socket listener: the same stream calls */
    } h;
} tcp_t;

typedef struct {
    uv_write_t req;
    tcp_t *t;
} tcp_write_t;

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    tcp_t *t = h->data;
    if (ipb_conn_read_spent(t->base.conn))
        *buf = uv_buf_init(NULL, 0); /* not now (dispatch.c's read rotation): a later turn */
    else
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
    return uv_read_start((uv_stream_t *)&t->h.tcp, on_alloc, on_read);
}

static int tcp_read_stop(ipb_transport_t *tr)
{
    tcp_t *t = (tcp_t *)tr;
    return uv_read_stop((uv_stream_t *)&t->h.tcp);
}

static int tcp_try_write(ipb_transport_t *tr, const uv_buf_t *bufs, unsigned n)
{
    tcp_t *t = (tcp_t *)tr;
    return uv_try_write((uv_stream_t *)&t->h.tcp, bufs, n);
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
    int rc = uv_write(&w->req, (uv_stream_t *)&t->h.tcp, bufs, n, on_written);
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
    if (!uv_is_closing((uv_handle_t *)&t->h.tcp))
        uv_close((uv_handle_t *)&t->h.tcp, on_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status; /* a failure leaves the closing connection to its grace timer */
    free(req);
}

static int tcp_shutdown(ipb_transport_t *tr)
{
    tcp_t *t = (tcp_t *)tr;
    uv_shutdown_t *req = malloc(sizeof *req);
    if (!req)
        return UV_ENOMEM;
    int rc = uv_shutdown(req, (uv_stream_t *)&t->h, on_shutdown);
    if (rc < 0)
        free(req);
    return rc;
}

static void tcp_peer(ipb_transport_t *tr, char *buf, size_t len)
{
    tcp_t *t = (tcp_t *)tr;
    if (t->h.tcp.type == UV_NAMED_PIPE)
        snprintf(buf, len, "unix:0");
    else
        ipb__tcp_peer_name(&t->h.tcp, buf, len);
}

static const ipb_transport_vt tcp_vt = {
    .name = "tcp",
    .read_start = tcp_read_start,
    .read_stop = tcp_read_stop,
    .try_write = tcp_try_write,
    .write = tcp_write,
    .close = tcp_close,
    .shutdown = tcp_shutdown,
    .peer = tcp_peer,
};

static void on_refused_close(uv_handle_t *h)
{
    free(h->data);
}

int ipb__tcp_accept(ipb_broker_t *b, unsigned index, uv_stream_t *server, bool unix_socket)
{
    tcp_t *t = calloc(1, unix_socket ? sizeof *t : offsetof(tcp_t, h) + sizeof(uv_tcp_t));
    if (!t)
        return UV_ENOMEM;
    t->base.vt = &tcp_vt;
    if (unix_socket)
        uv_pipe_init(b->loop, &t->h.pipe, 0);
    else
        uv_tcp_init(b->loop, &t->h.tcp);
    t->h.tcp.data = t;
    int rc = uv_accept(server, (uv_stream_t *)&t->h.tcp);
    if (rc == 0) {
        /* set_tcp_nodelay; writes are batched once per loop turn anyway. */
        if (!unix_socket && b->cfg.set_tcp_nodelay)
            uv_tcp_nodelay(&t->h.tcp, 1);
        if (ipb_conn_new(b, index, &t->base))
            return 0;
        ipb__log(b, IPB_LOG_NOTICE, "Connection refused: max_connections reached.");
    }
    uv_close((uv_handle_t *)&t->h.tcp, on_refused_close);
    return rc;
}
