/*
 * layered.c - the TLS and WebSocket transports: one TCP socket with up to two filters
 * between it and the MQTT connection.
 *
 *     socket <-> [TLS: src/broker/tls] <-> [HTTP upgrade, WebSocket frames: src/broker/http] <-> conn
 *
 * Plain TCP stays in tcp.c, which needs none of this. Here the bytes read go through TLS
 * (if the listener has certificates) and then either straight to the connection (mqtts)
 * or through an HTTP request that either upgrades to WebSocket (ws, wss) or asks for a
 * file of the console or of the plot folder (http/files.c), answered once before closing.
 *
 * Writes from the connection are framed and encrypted at once into one buffer, so the
 * vtable's contract holds: try_write takes a whole batch or answers UV_EAGAIN while an
 * earlier batch is still on its way, and write() reports back when its batch is out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/api.h"
#include "http/files.h"
#include "http/http.h"
#include "http/ws.h"
#include "core.h"
#include "layered.h"
#include "log.h"
#include "metrics.h"
#include "peer.h"
#include "security.h"
#include "tls/tls.h"

#define READ_BUF 16384
#define LINGER_MS 5000       /* how long a closing socket may take to send what is queued */

typedef enum { MODE_MQTT, MODE_HTTP, MODE_WS, MODE_DONE } layer_mode_t;

typedef struct {
    ipb_transport_t base;
    uv_tcp_t h;
    uv_timer_t timer; /* the TLS handshake and HTTP request must finish in time */
    ipb_broker_t *b;
    unsigned listener;
    const ipb_layer_opts_t *opts;
    ipb_tls_t *tls;
    layer_mode_t mode;
    bool reading, closing, timer_on;
    bool lingering; /* closing, but writes are still queued: close when they are out */
    bool login_wait; /* an HTTP login is hashing (security.c): input ignored meanwhile */
    bool login_head; /* ...for a HEAD request */
    unsigned writes; /* our uv_writes in flight */
    uint8_t *rbuf;   /* socket reads, before the filters */
    char *head;      /* HTTP request head so far */
    size_t head_len;
    ipb_ws_rx_t ws;
    unsigned handles; /* open libuv handles, and a running store read of GET /api/:
                         free when none is left */
} layer_t;

typedef struct {
    uv_write_t req;
    layer_t *l;
    bool notify; /* a conn write(): report ipb_conn_on_written when done */
    size_t len;
    uint8_t data[];
} out_t;

static void close_handles(layer_t *l);
static void layer_peer(ipb_transport_t *tr, char *buf, size_t len);
static int layer_identity(ipb_transport_t *tr, bool whole_subject, char *buf, size_t len);

static void on_write(uv_write_t *req, int status)
{
    out_t *o = (out_t *)req;
    layer_t *l = o->l;
    l->writes--;
    if (o->notify && l->base.conn && !l->closing)
        ipb_conn_on_written(l->base.conn, status);
    free(o);
    if (l->lingering && (l->writes == 0 || status < 0))
        close_handles(l);
}

/* Put bytes on the socket: what it takes now, the rest in one owned write. */
static int socket_send(layer_t *l, out_t *o, bool notify)
{
    size_t off = 0;
    if (!notify && l->writes == 0) {
        uv_buf_t b = uv_buf_init((char *)o->data, (unsigned)o->len);
        int n = uv_try_write((uv_stream_t *)&l->h, &b, 1);
        if (n < 0 && n != UV_EAGAIN) {
            free(o);
            return n;
        }
        off = n > 0 ? (size_t)n : 0;
    }
    if (off == o->len) {
        free(o);
        return 0;
    }
    o->l = l;
    o->notify = notify;
    uv_buf_t b = uv_buf_init((char *)o->data + off, (unsigned)(o->len - off));
    int rc = uv_write(&o->req, (uv_stream_t *)&l->h, &b, 1, on_write);
    if (rc < 0) {
        free(o);
        return rc;
    }
    l->writes++;
    return 0;
}

/*
 * Frame (WebSocket) and encrypt (TLS) the bytes of bufs[0..n) into one owned buffer.
 * `opcode` 0 means raw bytes (an HTTP response), else a WebSocket frame of that type.
 */
static out_t *transform(layer_t *l, const uv_buf_t *bufs, unsigned n, uint8_t opcode)
{
    uint8_t hdr[10];
    size_t total = 0, hlen = 0;
    for (unsigned i = 0; i < n; i++)
        total += bufs[i].len;
    if (opcode)
        hlen = ipb_ws_header(hdr, opcode, total);
    if (!l->tls) {
        out_t *o = malloc(sizeof *o + hlen + total);
        if (!o)
            return NULL;
        memcpy(o->data, hdr, hlen);
        o->len = hlen;
        for (unsigned i = 0; i < n; i++) {
            memcpy(o->data + o->len, bufs[i].base, bufs[i].len);
            o->len += bufs[i].len;
        }
        return o;
    }
    if (hlen && ipb_tls_write(l->tls, hdr, hlen))
        return NULL;
    for (unsigned i = 0; i < n; i++)
        if (bufs[i].len && ipb_tls_write(l->tls, (const uint8_t *)bufs[i].base, bufs[i].len))
            return NULL;
    size_t pending = ipb_tls_out_pending(l->tls);
    out_t *o = malloc(sizeof *o + pending);
    if (o)
        o->len = ipb_tls_out_read(l->tls, o->data, pending);
    return o;
}

/* Send ciphertext the TLS filter produced by itself (handshake records, alerts). */
static int flush_tls(layer_t *l)
{
    size_t pending = l->tls ? ipb_tls_out_pending(l->tls) : 0;
    if (!pending)
        return 0;
    out_t *o = malloc(sizeof *o + pending);
    if (!o)
        return UV_ENOMEM;
    o->len = ipb_tls_out_read(l->tls, o->data, pending);
    return socket_send(l, o, false);
}

static int send_raw(layer_t *l, const void *p, size_t n, uint8_t opcode)
{
    uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
    out_t *o = transform(l, &b, 1, opcode);
    return o ? socket_send(l, o, false) : UV_ENOMEM;
}

/* ---- closing ---------------------------------------------------------------------- */

static void release(layer_t *l)
{
    if (--l->handles)
        return;
    if (l->login_wait)
        ipb__security_cancel(l->b, l);
    if (l->base.conn)
        ipb_conn_on_closed(l->base.conn);
    ipb_tls_free(l->tls);
    free(l->rbuf);
    free(l->head);
    free(l);
}

static void on_handle_closed(uv_handle_t *h)
{
    release(h->data);
}

static void close_handles(layer_t *l)
{
    l->lingering = false;
    uv_timer_stop(&l->timer);
    uv_close((uv_handle_t *)&l->timer, on_handle_closed);
    uv_close((uv_handle_t *)&l->h, on_handle_closed);
}

static void on_linger_timeout(uv_timer_t *t)
{
    close_handles(t->data); /* the peer does not read: give up on what is queued */
}

static void layer_close(ipb_transport_t *tr)
{
    layer_t *l = (layer_t *)tr;
    if (l->closing)
        return;
    l->closing = true;
    /* Say goodbye in each protocol, best effort. */
    if (l->mode == MODE_WS) {
        static const uint8_t normal[2] = {IPB_WS_NORMAL >> 8, IPB_WS_NORMAL & 0xFF};
        send_raw(l, normal, 2, IPB_WS_CLOSE);
    }
    if (l->tls && ipb_tls_ready(l->tls)) {
        ipb_tls_shutdown(l->tls);
        flush_tls(l);
    }
    /* uv_close would cancel queued writes: an HTTP answer or a last packet would be cut. */
    if (l->writes) {
        l->lingering = true;
        uv_read_stop((uv_stream_t *)&l->h);
        uv_timer_stop(&l->timer);
        uv_timer_start(&l->timer, on_linger_timeout, LINGER_MS, 0);
        return;
    }
    close_handles(l);
}

/* Before a connection exists, a failure just closes the socket, with a log line. */
static void fail(layer_t *l, const char *why)
{
    char peer[80];
    l->base.vt->peer(&l->base, peer, sizeof peer);
    ipb__log(l->b, IPB_LOG_NOTICE, "Client %s: %s, closing.", peer, why);
    if (l->base.conn)
        ipb_conn_on_read(l->base.conn, UV_ECONNRESET, NULL);
    layer_close(&l->base);
}

/* ---- towards the connection --------------------------------------------------------- */

static void stop_timer(layer_t *l)
{
    if (l->timer_on) {
        uv_timer_stop(&l->timer);
        l->timer_on = false;
    }
}

/* Hand MQTT bytes to the connection, creating it on the first ones. */
static void deliver(layer_t *l, const uint8_t *p, size_t n)
{
    if (!l->base.conn) {
        stop_timer(l);
        if (!ipb_conn_new(l->b, l->listener, &l->base)) {
            fail(l, "connection refused (max_connections or shutting down)");
            return;
        }
    }
    while (n && !l->closing) {
        uv_buf_t buf;
        ipb_conn_read_buf(l->base.conn, n, &buf);
        if (!buf.base || buf.len == 0) {
            fail(l, "out of memory");
            return;
        }
        size_t k = n < buf.len ? n : buf.len;
        memcpy(buf.base, p, k);
        ipb_conn_on_read(l->base.conn, (ssize_t)k, &buf);
        p += k;
        n -= k;
    }
}

/* ---- WebSocket ---------------------------------------------------------------------- */

static void ws_data(void *ctx, uint8_t *p, size_t n)
{
    deliver(ctx, p, n);
}

static void ws_control(void *ctx, uint8_t op, const uint8_t *p, size_t n)
{
    layer_t *l = ctx;
    if (op == IPB_WS_PING) {
        send_raw(l, p, n, IPB_WS_PONG);
    } else if (op == IPB_WS_CLOSE) {
        /* Echo the status (RFC 6455 5.5.1), then end the MQTT connection as a drop. */
        send_raw(l, p, n >= 2 ? 2 : 0, IPB_WS_CLOSE);
        l->mode = MODE_DONE;
        if (l->base.conn)
            ipb_conn_on_read(l->base.conn, UV_EOF, NULL);
        layer_close(&l->base);
    }
}

static void ws_input(layer_t *l, uint8_t *p, size_t n)
{
    static const ipb_ws_rx_cb_t cb = {ws_data, ws_control};
    int status = ipb_ws_rx(&l->ws, p, n, &cb, l);
    if (status && !l->closing) {
        uint8_t code[2] = {(uint8_t)(status >> 8), (uint8_t)status};
        send_raw(l, code, 2, IPB_WS_CLOSE);
        l->mode = MODE_DONE; /* our close frame is sent; do not send another */
        fail(l, status == IPB_WS_UNSUPPORTED ? "WebSocket text frame (MQTT needs binary)"
                                             : "WebSocket protocol error");
    }
}

/* ---- HTTP --------------------------------------------------------------------------- */

/* An error answer, then close once it is written. */
static void http_error(layer_t *l, int status)
{
    char buf[400];
    size_t n = ipb_http_error(status, buf, sizeof buf);
    send_raw(l, buf, n, 0);
    l->mode = MODE_DONE;
    layer_close(&l->base);
}

/*
 * Is the plot folder private on this listener? It is when a CONNECT without a user name
 * would be refused here (allow_anonymous as it applies to the listener): then HTTP
 * needs the same login as MQTT, and each user reads only /plots/<user>/.
 */
static bool plots_private(const layer_t *l)
{
    const ipb_config_t *cfg = &l->b->cfg;
    int anon = cfg->listeners[l->listener].allow_anonymous;
    return !(cfg->per_listener_settings && anon >= 0 ? anon : cfg->allow_anonymous);
}

/*
 * Who a request for /plots/ is from: the certificate's name where the listener takes
 * user names from certificates, else HTTP Basic credentials checked by the broker's auth
 * hook exactly as a CONNECT's are (the same password file and failed-login limit). 0
 * with user filled ("" when the request carries no credentials), or 401.
 */
#define HTTP_LOGIN_PENDING 1 /* http_login: answered later by http_login_done */

static void http_login_done(void *arg, uint8_t verdict);

/* Who asks for plot files: 0 with user set ("" for nobody), 401, or HTTP_LOGIN_PENDING. */
static int http_login(layer_t *l, const ipb_http_req_t *req, bool head, char *user, size_t ulen)
{
    const ipb_listener_config_t *lc = &l->b->cfg.listeners[l->listener];
    char pass[512];
    user[0] = '\0';
    if (lc->use_identity_as_username || lc->use_subject_as_username)
        return layer_identity(&l->base, lc->use_subject_as_username, user, ulen) ? 401 : 0;
    int rc = ipb_http_basic(req, user, ulen, pass, sizeof pass);
    if (rc)
        return rc > 0 ? 0 : 401;
    ipb_broker_t *b = l->b;
    char peer[80];
    layer_peer(&l->base, peer, sizeof peer);
    ipb_auth_client_t cl = {.client_id = "", .username = user, .peer = peer,
                            .listener = l->listener, .version = IPM_PROTO_V311};
    ipm_connect_t c = {.version = IPM_PROTO_V311, .has_username = true, .has_password = true};
    c.username = (ipm_bytes_t){(const uint8_t *)user, (uint32_t)strlen(user)};
    c.password = (ipm_bytes_t){(const uint8_t *)pass, (uint32_t)strlen(pass)};
    /* The same policy as a CONNECT, and like it never hashing on the loop. */
    int verdict = ipb__security_check(b, &cl, &c, http_login_done, l);
    memset(pass, 0, sizeof pass);
    if (verdict == IPB__LOGIN_PENDING) {
        l->login_wait = true;
        l->login_head = head;
        return HTTP_LOGIN_PENDING;
    }
    if (verdict) {
        ipb__log(b, IPB_LOG_NOTICE, "Refused HTTP login from %s as '%s'.", peer, user);
        return 401;
    }
    return 0;
}

/* A static file (the console, http_dir or the plot folder) for user ("" for nobody). */
static void http_serve(layer_t *l, const ipb_http_req_t *req, bool head, const char *user,
                       bool plots_private)
{
    ipb_http_file_t f;
    ipb_http_site_t site = {.http_dir = l->opts->http_dir, .plots_dir = l->opts->plots_dir,
                            .plots_private = plots_private, .user = user[0] ? user : NULL,
                            .store_api = l->b->api != NULL};
    int status = ipb_http_file(req, &site, &f);
    if (status != 200) {
        http_error(l, status);
        return;
    }
    uv_buf_t bufs[2] = {uv_buf_init(f.head, (unsigned)f.head_len),
                        uv_buf_init((char *)f.body, (unsigned)f.body_len)};
    out_t *o = transform(l, bufs, head ? 1 : 2, 0);
    ipb_http_file_free(&f);
    if (o)
        socket_send(l, o, false);
    l->mode = MODE_DONE;
    layer_close(&l->base);
}

/* Does the request ask for /metrics on a listener that serves it (http_metrics)? */
static bool wants_metrics(const layer_t *l, const ipb_http_req_t *req)
{
    char rel[16];
    return l->b->cfg.listeners[l->listener].http_metrics &&
           ipb_http_path(&req->target, rel, sizeof rel) == 0 && !strcmp(rel, "metrics");
}

/* The statistics in Prometheus text (metrics.c, through b->metrics_text), then close. */
static void http_metrics(layer_t *l, bool head)
{
    size_t n = l->b->metrics_text(l->b, NULL, 0);
    char *body = malloc(n + 1);
    if (!body) {
        http_error(l, 503);
        return;
    }
    l->b->metrics_text(l->b, body, n + 1);
    char hd[200];
    int hn = snprintf(hd, sizeof hd,
                      "HTTP/1.1 200 OK\r\nContent-Type: " IPB__METRICS_TYPE "\r\n"
                      "Content-Length: %zu\r\nCache-Control: no-store\r\n"
                      "Connection: close\r\n\r\n",
                      n);
    uv_buf_t bufs[2] = {uv_buf_init(hd, (unsigned)hn), uv_buf_init(body, (unsigned)n)};
    out_t *o = transform(l, bufs, head ? 1 : 2, 0);
    free(body);
    if (o)
        socket_send(l, o, false);
    l->mode = MODE_DONE;
    layer_close(&l->base);
}

/* Does the request ask for the store's API (/api/...) of a broker that has one? */
static bool wants_api(const layer_t *l, const ipb_http_req_t *req)
{
    return l->b->api && ipb_http_wants_api(req);
}

/* The store read is done (http/api.c): send its answer, unless the socket went first. */
static void api_done(void *arg, const char *bytes, size_t len)
{
    layer_t *l = arg;
    l->b->api_jobs--;
    if (!l->closing) {
        if (!len)
            http_error(l, 503);
        else
            send_raw(l, bytes, len, 0);
        layer_close(&l->base);
    }
    release(l);
}

/* GET /api/...: read off the loop, a few at a time; the socket waits meanwhile, ignoring
 * whatever more it sends (MODE_DONE). */
static void http_api(layer_t *l, const ipb_http_req_t *req, bool head, const char *user,
                     bool private)
{
    ipb_api_req_t a;
    char buf[2048];
    int status = ipb_http_api_parse(req, private ? user : NULL, &a, buf, sizeof buf);
    if (status || l->b->api_jobs >= IPB_HTTP_API_MAX_JOBS ||
        ipb_http_api_run(l->b->loop, l->b->api, l->b->api_ctx, &a, head, private, api_done,
                         l)) {
        http_error(l, status ? status : 503);
        return;
    }
    l->b->api_jobs++;
    l->handles++;
    l->mode = MODE_DONE;
}

/*
 * A file, /metrics or /api/: private plots make the metrics and the API private too,
 * for a verified user.
 */
static void http_answer(layer_t *l, const ipb_http_req_t *req, bool head, const char *user,
                        bool private)
{
    bool metrics = wants_metrics(l, req), api = wants_api(l, req);
    if (!metrics && !api)
        http_serve(l, req, head, user, private);
    else if (private && !user[0])
        http_error(l, 401);
    else if (api)
        http_api(l, req, head, user, private);
    else
        http_metrics(l, head);
}

/*
 * A static file, /metrics or /api/, then close. Only requests for plots, metrics and the
 * API log in: the console is public.
 */
static void http_file(layer_t *l, const ipb_http_req_t *req, bool head)
{
    char user[256] = "";
    bool private = plots_private(l);
    if (private && (ipb_http_wants_plots(req) || wants_metrics(l, req) || wants_api(l, req))) {
        int rc = http_login(l, req, head, user, sizeof user);
        if (rc == HTTP_LOGIN_PENDING)
            return;
        if (rc) {
            http_error(l, rc);
            return;
        }
    }
    http_answer(l, req, head, user, private);
}

/* The hash of an HTTP login is done: the request, still in l->head, is answered now. */
static void http_login_done(void *arg, uint8_t verdict)
{
    layer_t *l = arg;
    ipb_http_req_t req;
    char user[256], pass[512];
    l->login_wait = false;
    if (l->closing)
        return;
    if (ipb_http_parse(l->head, l->head_len, &req) < 0 ||
        ipb_http_basic(&req, user, sizeof user, pass, sizeof pass)) {
        http_error(l, 400); /* parsed the same way a moment ago: cannot happen */
        return;
    }
    memset(pass, 0, sizeof pass);
    if (verdict) {
        char peer[80];
        layer_peer(&l->base, peer, sizeof peer);
        ipb__log(l->b, IPB_LOG_NOTICE, "Refused HTTP login from %s as '%s'.", peer, user);
        http_error(l, 401);
        return;
    }
    http_answer(l, &req, l->login_head, user, true);
}

static void http_upgrade(layer_t *l, const ipb_http_intent_t *in)
{
    char accept[29], buf[300];
    if (ipb_ws_accept(&in->key, accept)) {
        http_error(l, 400);
        return;
    }
    int n = snprintf(buf, sizeof buf,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s%s%s\r\n",
                     accept, in->protocol ? "Sec-WebSocket-Protocol: " : "",
                     in->protocol ? in->protocol : "", in->protocol ? "\r\n" : "");
    send_raw(l, buf, (size_t)n, 0);
    ipb_ws_rx_init(&l->ws, true);
    l->mode = MODE_WS;
}

static void http_input(layer_t *l, uint8_t *p, size_t n)
{
    size_t room = IPB_HTTP_MAX_HEAD - l->head_len;
    size_t take = n < room ? n : room;
    if (!l->head && !(l->head = malloc(IPB_HTTP_MAX_HEAD))) {
        fail(l, "out of memory");
        return;
    }
    memcpy(l->head + l->head_len, p, take);
    l->head_len += take;
    ipb_http_req_t req;
    int used = ipb_http_parse(l->head, l->head_len, &req);
    if (used == IPB_HTTP_NEED_MORE)
        return;
    if (used < 0) {
        http_error(l, used == IPB_HTTP_TOO_LARGE ? 431 : 400);
        return;
    }
    ipb_http_intent_t in;
    ipb_http_intent(&req, &in);
    if (in.status) {
        http_error(l, in.status);
    } else if (!in.websocket) {
        http_file(l, &req, in.head);
    } else {
        http_upgrade(l, &in);
        /* Bytes after the head are the first WebSocket frames: the rest of the head
         * buffer, then whatever of this read did not fit in it. */
        size_t rest = l->head_len - (size_t)used;
        if (rest && !l->closing)
            ws_input(l, (uint8_t *)l->head + used, rest);
        if (take < n && !l->closing)
            ws_input(l, p + take, n - take);
        free(l->head);
        l->head = NULL;
    }
}

/* Plaintext from the TLS filter, or the socket's bytes on a plain WebSocket listener. */
static void on_plain(void *arg, uint8_t *p, size_t n)
{
    layer_t *l = arg;
    if (l->closing || l->login_wait)
        return; /* after a request head, nothing more is read until it is answered */
    switch (l->mode) {
    case MODE_MQTT: deliver(l, p, n); break;
    case MODE_HTTP: http_input(l, p, n); break;
    case MODE_WS: ws_input(l, p, n); break;
    case MODE_DONE: break;
    }
}

/* ---- the socket ----------------------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    layer_t *l = h->data;
    (void)suggested;
    if (l->base.conn && ipb_conn_read_spent(l->base.conn)) {
        *buf = uv_buf_init(NULL, 0); /* not now (dispatch.c's read rotation): a later turn */
        return;
    }
    if (!l->rbuf)
        l->rbuf = malloc(READ_BUF);
    *buf = uv_buf_init((char *)l->rbuf, l->rbuf ? READ_BUF : 0);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    layer_t *l = s->data;
    if (n == UV_ENOBUFS && l->base.conn && ipb_conn_read_spent(l->base.conn)) {
        ipb_conn_on_read(l->base.conn, n, buf); /* not read this turn: not an error */
        return;
    }
    if (n < 0) {
        if (l->base.conn)
            ipb_conn_on_read(l->base.conn, n, buf);
        layer_close(&l->base);
        return;
    }
    if (n == 0 || l->closing)
        return;
    if (!l->tls) {
        on_plain(l, (uint8_t *)buf->base, (size_t)n);
        return;
    }
    if (ipb_tls_feed(l->tls, (const uint8_t *)buf->base, (size_t)n, on_plain, l) < 0) {
        char why[200];
        snprintf(why, sizeof why, "TLS: %s", ipb_tls_error(l->tls));
        flush_tls(l); /* the alert says why to the peer */
        fail(l, why);
        return;
    }
    flush_tls(l);
}

static void on_timeout(uv_timer_t *t)
{
    layer_t *l = t->data;
    l->timer_on = false;
    fail(l, l->tls && !ipb_tls_ready(l->tls) ? "TLS handshake timed out"
                                             : "HTTP request not finished in time");
}

/* ---- the vtable ---------------------------------------------------------------------- */

static int layer_read_start(ipb_transport_t *tr)
{
    layer_t *l = (layer_t *)tr;
    if (l->reading)
        return 0;
    l->reading = true;
    return uv_read_start((uv_stream_t *)&l->h, on_alloc, on_read);
}

static int layer_read_stop(ipb_transport_t *tr)
{
    layer_t *l = (layer_t *)tr;
    l->reading = false;
    return uv_read_stop((uv_stream_t *)&l->h);
}

static int layer_try_write(ipb_transport_t *tr, const uv_buf_t *bufs, unsigned n)
{
    layer_t *l = (layer_t *)tr;
    if (l->writes)
        return UV_EAGAIN; /* an earlier batch is still going: keep the order */
    out_t *o = transform(l, bufs, n, l->mode == MODE_WS ? IPB_WS_BINARY : 0);
    if (!o)
        return UV_ENOMEM;
    size_t total = 0;
    for (unsigned i = 0; i < n; i++)
        total += bufs[i].len;
    int rc = socket_send(l, o, false);
    return rc < 0 ? rc : (int)total;
}

static int layer_write(ipb_transport_t *tr, const uv_buf_t *bufs, unsigned n)
{
    layer_t *l = (layer_t *)tr;
    out_t *o = transform(l, bufs, n, l->mode == MODE_WS ? IPB_WS_BINARY : 0);
    return o ? socket_send(l, o, true) : UV_ENOMEM;
}

static void layer_peer(ipb_transport_t *tr, char *buf, size_t len)
{
    layer_t *l = (layer_t *)tr;
    ipb__tcp_peer_name(&l->h, buf, len);
}

static int layer_identity(ipb_transport_t *tr, bool whole_subject, char *buf, size_t len)
{
    layer_t *l = (layer_t *)tr;
    return l->tls ? ipb_tls_peer_name(l->tls, whole_subject, buf, len) : -1;
}

/* Three names for one implementation: the name shows in logs and $SYS. */
#define LAYER_VT(n)                                                                        \
    {                                                                                      \
        .name = n, .read_start = layer_read_start, .read_stop = layer_read_stop,          \
        .try_write = layer_try_write, .write = layer_write, .close = layer_close,          \
        .peer = layer_peer, .identity = layer_identity,                                    \
    }
static const ipb_transport_vt tls_vt = LAYER_VT("tls");
static const ipb_transport_vt ws_vt = LAYER_VT("ws");
static const ipb_transport_vt wss_vt = LAYER_VT("wss");

int ipb__layered_accept(ipb_broker_t *b, unsigned index, uv_stream_t *server,
                        const ipb_layer_opts_t *opts)
{
    layer_t *l = calloc(1, sizeof *l);
    if (!l)
        return UV_ENOMEM;
    l->b = b;
    l->listener = index;
    l->opts = opts;
    l->base.vt = opts->tls ? (opts->websockets ? &wss_vt : &tls_vt) : &ws_vt;
    l->mode = opts->websockets ? MODE_HTTP : MODE_MQTT;
    l->h.data = l->timer.data = l;
    uv_tcp_init(b->loop, &l->h);
    uv_timer_init(b->loop, &l->timer);
    l->handles = 2;
    int rc = uv_accept(server, (uv_stream_t *)&l->h);
    if (rc == 0 && opts->tls && !(l->tls = ipb_tls_new(opts->tls)))
        rc = UV_ENOMEM;
    if (rc == 0)
        rc = layer_read_start(&l->base);
    if (rc < 0) {
        l->closing = true;
        uv_close((uv_handle_t *)&l->timer, on_handle_closed);
        uv_close((uv_handle_t *)&l->h, on_handle_closed);
        return rc;
    }
    uv_tcp_nodelay(&l->h, 1);
    l->timer_on = true;
    uv_timer_start(&l->timer, on_timeout, opts->handshake_timeout_ms, 0);
    return 0;
}
