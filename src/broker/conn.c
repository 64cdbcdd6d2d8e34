/*
 * conn.c - one client connection: framing and dispatch of what it sends, its outgoing
 * queue, and its end.
 *
 * Reading: every connection reads into the broker's one shared buffer and packets are
 * handled in place; only a partial packet left at the end is copied into a buffer of the
 * connection's own, freed as soon as it is consumed, so idle connections hold none.
 *
 * Writing: packets are queued per connection and written once per loop turn (prepare and
 * check handles call ipb__flush_all), gathering every pending packet into one
 * try_write; what the socket does not take goes out with one asynchronous write.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define IPB_GATHER_BUFS 256
#define IPB_CLOSING_GRACE_MS 5000

void ipb__conn_peer(ipb_conn_t *c, char *buf, size_t len)
{
    if (c->tr && c->tr->vt->peer)
        c->tr->vt->peer(c->tr, buf, len);
    else
        snprintf(buf, len, "unknown");
}

ipb_conn_t *ipb_conn_new(ipb_broker_t *b, unsigned listener, ipb_transport_t *t)
{
    if (b->closing)
        return NULL;
    if (b->cfg.max_connections >= 0 && b->nconns >= (uint32_t)b->cfg.max_connections)
        return NULL;
    ipb_conn_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->b = b;
    c->tr = t;
    c->listener = (uint8_t)listener;
    c->last_rx = (uint32_t)ipb__now(b);
    c->recv_max = UINT16_MAX;
    t->conn = c;
    if (t->vt->read_start(t) < 0) {
        free(c);
        return NULL;
    }
    c->next = b->conns;
    if (b->conns)
        b->conns->prev = c;
    b->conns = c;
    b->nconns++;
    return c;
}

/* ---- output ----------------------------------------------------------------------- */

void ipb__conn_want_flush(ipb_conn_t *c)
{
    if (c->in_flush)
        return;
    c->in_flush = true;
    c->fnext = c->b->flush;
    c->b->flush = c;
}

void ipb__conn_queue(ipb_conn_t *c, ipb_enc_t *e, uint8_t first, uint16_t pid)
{
    if (c->state >= IPB_CONN_CLOSED) {
        ipb__enc_unref(e);
        return;
    }
    ipb_out_t *o = malloc(sizeof *o);
    if (!o) {
        ipb__enc_unref(e);
        return;
    }
    o->next = NULL;
    o->enc = e;
    o->first = first;
    o->pid = pid;
    o->pid_be[0] = (uint8_t)(pid >> 8);
    o->pid_be[1] = (uint8_t)pid;
    if (c->out_tail)
        c->out_tail->next = o;
    else
        c->out = o;
    c->out_tail = o;
    c->out_bytes += e->len;
    c->b->st.msgs_sent++;
    ipb__conn_want_flush(c);
}

int ipb__conn_send(ipb_conn_t *c, const ipm_packet_t *pkt)
{
    ipb_enc_t *e = ipb__enc_packet(pkt, c->version);
    if (e && c->max_packet && e->len > c->max_packet && c->version == IPM_PROTO_V5) {
        /* MQTT-3.1.2-25: drop the reason string and user properties that do not fit. */
        ipm_packet_t bare = *pkt;
        ipb__enc_unref(e);
        if (pkt->type == IPM_DISCONNECT || pkt->type == IPM_CONNACK)
            bare.u.disconnect.props = (ipm_props_t){0};
        else if (pkt->type == IPM_SUBACK || pkt->type == IPM_UNSUBACK)
            bare.u.suback.props = (ipm_props_t){0};
        else
            bare.u.ack.props = (ipm_props_t){0};
        if (pkt->type == IPM_CONNACK)
            bare.u.connack.props = (ipm_props_t){0};
        e = ipb__enc_packet(&bare, c->version);
    }
    if (!e)
        return IPM_ENOMEM;
    ipb__conn_queue(c, e, 0, 0);
    return 0;
}

/* The (up to 4) byte ranges of one queued packet. */
static unsigned segments(const ipb_out_t *o, uv_buf_t seg[4])
{
    ipb_enc_t *e = o->enc;
    if (!o->first) {
        seg[0] = uv_buf_init((char *)e->data, e->len);
        return 1;
    }
    seg[0] = uv_buf_init((char *)&o->first, 1);
    if (!e->pid_off || !o->pid) {
        seg[1] = uv_buf_init((char *)e->data + 1, e->len - 1);
        return 2;
    }
    seg[1] = uv_buf_init((char *)e->data + 1, e->pid_off - 1);
    seg[2] = uv_buf_init((char *)o->pid_be, 2);
    seg[3] = uv_buf_init((char *)e->data + e->pid_off + 2, e->len - e->pid_off - 2);
    return 4;
}

/* Gather queued packets (skipping what is written of the head) into bufs. */
static unsigned gather(ipb_conn_t *c, uv_buf_t *bufs, unsigned max, size_t *bytes)
{
    unsigned n = 0;
    size_t skip = c->out_off;
    *bytes = 0;
    for (ipb_out_t *o = c->out; o && n + 4 <= max; o = o->next) {
        uv_buf_t seg[4];
        unsigned k = segments(o, seg);
        for (unsigned i = 0; i < k; i++) {
            if (skip >= seg[i].len) {
                skip -= seg[i].len;
                continue;
            }
            bufs[n] = uv_buf_init(seg[i].base + skip, (unsigned)(seg[i].len - skip));
            *bytes += bufs[n].len;
            n++;
            skip = 0;
        }
    }
    return n;
}

/* Drop n written bytes from the head of the queue. */
static void consume(ipb_conn_t *c, size_t n)
{
    c->b->st.bytes_sent += n;
    c->out_bytes -= n;
    while (n && c->out) {
        ipb_out_t *o = c->out;
        size_t left = o->enc->len - c->out_off;
        if (n < left) {
            c->out_off += (uint32_t)n;
            return;
        }
        n -= left;
        c->out_off = 0;
        c->out = o->next;
        if (!c->out)
            c->out_tail = NULL;
        ipb__enc_unref(o->enc);
        free(o);
    }
}

static void hard_close(ipb_conn_t *c)
{
    if (c->state == IPB_CONN_CLOSED)
        return;
    if (c->state != IPB_CONN_CLOSING)
        ipb__conn_close(c, NULL);
    c->state = IPB_CONN_CLOSED;
    c->tr->vt->close(c->tr);
}

static void flush(ipb_conn_t *c)
{
    uv_buf_t bufs[IPB_GATHER_BUFS];
    while (c->out && !c->writing && c->state < IPB_CONN_CLOSED) {
        size_t bytes;
        unsigned n = gather(c, bufs, IPB_GATHER_BUFS, &bytes);
        int rc = c->tr->vt->try_write(c->tr, bufs, n);
        if (rc < 0 && rc != UV_EAGAIN) {
            hard_close(c);
            return;
        }
        size_t done = rc > 0 ? (size_t)rc : 0;
        consume(c, done);
        if (done == bytes)
            continue;
        /* The socket is full: hand the rest of this batch to one asynchronous write. */
        n = gather(c, bufs, IPB_GATHER_BUFS, &bytes);
        if (c->tr->vt->write(c->tr, bufs, n) < 0) {
            hard_close(c);
            return;
        }
        c->writing = (uint32_t)bytes;
    }
    if (c->state == IPB_CONN_CLOSING && !c->out && !c->writing)
        hard_close(c);
}

void ipb_conn_on_written(ipb_conn_t *c, int status)
{
    size_t n = c->writing;
    c->writing = 0;
    if (status < 0) {
        hard_close(c);
        return;
    }
    consume(c, n);
    ipb__conn_want_flush(c);
}

void ipb__flush_all(ipb_broker_t *b)
{
    while (b->flush) {
        ipb_conn_t *c = b->flush;
        b->flush = c->fnext;
        c->in_flush = false;
        flush(c);
    }
}

/* ---- closing ---------------------------------------------------------------------- */

static void detach_session(ipb_conn_t *c)
{
    ipb_broker_t *b = c->b;
    ipb_session_t *s = c->s;
    uint64_t now = ipb__now(b);
    ipb_msg_t *will = c->will_on_close ? c->will : NULL;
    c->s = NULL;
    if (s)
        s->conn = NULL;
    if (will && s && will->will_delay && s->expiry) {
        /* 5.0: the will waits for its delay unless the session ends first. */
        ipb__msg_ref(will);
        s->will = will;
        s->will_at = ipb__deadline(b, now, will->will_delay);
        will = NULL;
    }
    if (will)
        ipb__will_publish(b, will);
    ipb__msg_unref(c->will);
    c->will = NULL;
    if (!s)
        return;
    if (!s->expiry) {
        ipb__session_free(b, s);
        return;
    }
    s->expire_at = s->expiry == IPM_SESSION_EXPIRY_NEVER ? 0 : ipb__deadline(b, now, s->expiry);
    if (s->expire_at || s->will)
        ipb__session_set_offline(b, s, true);
}

void ipb__conn_close(ipb_conn_t *c, const char *why)
{
    ipb_broker_t *b = c->b;
    if (c->state >= IPB_CONN_CLOSING)
        return;
    if (c->state == IPB_CONN_ACTIVE) {
        if (why && c->s) /* a taken-over connection was logged by the takeover */
            ipb__log(b, IPB_LOG_NOTICE, "Client %s %s.", c->s->id, why);
        b->st.clients_connected--;
        b->clients_disconnected++;
    }
    detach_session(c);
    c->state = IPB_CONN_CLOSING;
    c->last_rx = (uint32_t)ipb__now(b);
    c->tr->vt->read_stop(c->tr);
    free(c->rbuf);
    c->rbuf = NULL;
    c->rlen = 0;
    c->rshift = 0;
    ipb__conn_want_flush(c);
}

void ipb__conn_kick(ipb_conn_t *c, uint8_t reason, const char *why)
{
    if (c->state == IPB_CONN_ACTIVE && c->version == IPM_PROTO_V5 && reason) {
        ipm_prop_t rs;
        ipm_packet_t pkt = {.type = IPM_DISCONNECT};
        pkt.u.disconnect.reason = reason;
        if (why && reason >= 0x80 && reason != IPM_RC_SESSION_TAKEN_OVER &&
            reason != IPM_RC_SERVER_SHUTTING_DOWN) {
            rs = (ipm_prop_t){.id = IPM_PROP_REASON_STRING, .bin = ipm_str(why)};
            pkt.u.disconnect.props = (ipm_props_t){.list = &rs, .count = 1};
        }
        ipb__conn_send(c, &pkt);
    }
    ipb__conn_close(c, why ? why : "disconnected");
}

void ipb_conn_on_closed(ipb_conn_t *c)
{
    ipb_broker_t *b = c->b;
    if (c->state < IPB_CONN_CLOSING)
        ipb__conn_close(c, NULL);
    while (c->out) {
        ipb_out_t *o = c->out;
        c->out = o->next;
        ipb__enc_unref(o->enc);
        free(o);
    }
    if (c->in_flush) {
        ipb_conn_t **pp = &b->flush;
        while (*pp != c)
            pp = &(*pp)->fnext;
        *pp = c->fnext;
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        b->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    b->nconns--;
    b->closed_since_trim++;
    if (c->alias) {
        for (unsigned i = 0; c->alias->in && i < b->cfg.topic_alias_maximum; i++)
            free(c->alias->in[i].topic);
        for (unsigned i = 0; i < c->alias->out_n; i++)
            free(c->alias->out[i].topic);
        free(c->alias->in);
        free(c->alias->out);
        free(c->alias);
    }
    free(c->rbuf);
    free(c->username);
    free(c);
}

/* ---- input ------------------------------------------------------------------------ */

static int dispatch(ipb_conn_t *c, const ipm_frame_t *f, const uint8_t *data);

void ipb_conn_read_buf(ipb_conn_t *c, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    if (!c->rbuf) {
        *buf = uv_buf_init((char *)c->b->rbuf, IPB_RBUF_SHARED);
        return;
    }
    uint32_t cap = 1u << c->rshift;
    if (c->rlen == cap) {
        /* Grow by doubling while a large packet arrives; the frame size was capped. */
        uint8_t *nb = c->rshift < 31 ? realloc(c->rbuf, (size_t)cap * 2) : NULL;
        if (!nb) {
            *buf = uv_buf_init(NULL, 0);
            return;
        }
        c->rbuf = nb;
        c->rshift++;
        cap *= 2;
    }
    *buf = uv_buf_init((char *)c->rbuf + c->rlen, cap - c->rlen);
}

/* Handle every whole packet in p[0..len); returns bytes consumed, or -1 if closing. */
static ssize_t process(ipb_conn_t *c, const uint8_t *p, size_t len, ipm_frame_t *f)
{
    size_t used = 0;
    while (c->state < IPB_CONN_CLOSING) {
        int rc = ipm_frame(p + used, len - used, c->b->cfg.max_packet_size, f);
        if (rc == IPM_ENEED_MORE)
            return (ssize_t)used;
        if (rc < 0) {
            ipb__conn_kick(c, ipm_err_reason(rc), ipm_strerror(rc));
            return -1;
        }
        c->b->st.msgs_received++;
        c->b->st.bytes_received += f->total_len;
        c->last_rx = (uint32_t)ipb__now(c->b);
        rc = dispatch(c, f, p + used);
        used += f->total_len;
        if (rc < 0)
            return -1;
    }
    return -1;
}

/* Keep the unconsumed tail p[used..len), in a buffer of the connection's own. */
static void keep_tail(ipb_conn_t *c, const uint8_t *p, size_t used, size_t len)
{
    size_t left = len - used;
    if (!left) {
        free(c->rbuf);
        c->rbuf = NULL;
        c->rlen = 0;
    c->rshift = 0;
        return;
    }
    if (c->rbuf) {
        memmove(c->rbuf, p + used, left);
        c->rlen = (uint32_t)left;
        return;
    }
    uint8_t shift = 10;
    while (((size_t)1 << shift) < left * 2)
        shift++;
    size_t cap = (size_t)1 << shift;
    c->rbuf = malloc(cap);
    if (!c->rbuf) {
        ipb__conn_kick(c, IPM_RC_SERVER_BUSY, "out of memory");
        return;
    }
    memcpy(c->rbuf, p + used, left);
    c->rlen = (uint32_t)left;
    c->rshift = shift;
}

void ipb_conn_on_read(ipb_conn_t *c, ssize_t n, const uv_buf_t *buf)
{
    if (n < 0) {
        ipb__conn_close(c, c->state == IPB_CONN_ACTIVE ? "closed its connection" : NULL);
        return;
    }
    if (n == 0 || c->state >= IPB_CONN_CLOSING)
        return;
    const uint8_t *p;
    size_t len;
    if ((uint8_t *)buf->base == c->b->rbuf) {
        p = c->b->rbuf;
        len = (size_t)n;
    } else {
        c->rlen += (uint32_t)n;
        p = c->rbuf;
        len = c->rlen;
    }
    ipm_frame_t f;
    ssize_t used = process(c, p, len, &f);
    if (used < 0 || c->state >= IPB_CONN_CLOSING)
        return;
    keep_tail(c, p, (size_t)used, len);
}

/* ---- dispatch --------------------------------------------------------------------- */

static int on_disconnect(ipb_conn_t *c, const ipm_reason_t *d)
{
    ipm_prop_t p;
    if (c->version == IPM_PROTO_V5 &&
        ipm_props_get(&d->props, IPM_PROP_SESSION_EXPIRY_INTERVAL, &p) && c->s) {
        if (!c->s->expiry && p.num) {
            /* MQTT-3.14.2-2: cannot turn a session that ends into one that stays. */
            ipb__conn_kick(c, IPM_RC_PROTOCOL_ERROR, "session expiry set on DISCONNECT");
            return -1;
        }
        c->s->expiry = p.num;
    }
    c->will_on_close = c->version == IPM_PROTO_V5 &&
                       d->reason == IPM_RC_DISCONNECT_WITH_WILL_MESSAGE;
    ipb__conn_close(c, "disconnected");
    return -1;
}

static int dispatch_active(ipb_conn_t *c, ipm_packet_t *pkt)
{
    switch (pkt->type) {
    case IPM_PUBLISH:
        return ipb__handle_publish(c, &pkt->u.publish);
    case IPM_PUBACK:
    case IPM_PUBREC:
    case IPM_PUBCOMP:
        ipb__session_ack(c->b, c->s, pkt->type, &pkt->u.ack);
        return 0;
    case IPM_PUBREL:
        return ipb__handle_pubrel(c, &pkt->u.ack);
    case IPM_SUBSCRIBE:
        return ipb__handle_subscribe(c, &pkt->u.subscribe);
    case IPM_UNSUBSCRIBE:
        return ipb__handle_unsubscribe(c, &pkt->u.subscribe);
    case IPM_PINGREQ: {
        ipm_packet_t resp = {.type = IPM_PINGRESP};
        return ipb__conn_send(c, &resp) < 0 ? -1 : 0;
    }
    case IPM_DISCONNECT:
        return on_disconnect(c, &pkt->u.disconnect);
    default:
        /* A second CONNECT, AUTH without a method, or a packet only servers send. */
        ipb__conn_kick(c, IPM_RC_PROTOCOL_ERROR, "unexpected packet");
        return -1;
    }
}

static int dispatch(ipb_conn_t *c, const ipm_frame_t *f, const uint8_t *data)
{
    ipm_packet_t pkt;
    int rc = ipm_decode(f, data, c->version ? c->version : IPM_PROTO_V311, &pkt);
    if (c->state == IPB_CONN_NEW) {
        if ((f->first_byte >> 4) != IPM_CONNECT) {
            ipb__conn_close(c, NULL); /* MQTT-3.1.0-1 */
            return -1;
        }
        return ipb__handle_connect_raw(c, rc, f, data, &pkt.u.connect);
    }
    if (rc < 0) {
        ipb__conn_kick(c, ipm_err_reason(rc), ipm_strerror(rc));
        return -1;
    }
    return dispatch_active(c, &pkt);
}

/* ---- timers ----------------------------------------------------------------------- */

void ipb__conns_tick(ipb_broker_t *b, uint64_t now)
{
    ipb_conn_t *c = b->conns, *next;
    for (; c; c = next) {
        next = c->next;
        uint32_t idle = (uint32_t)now - c->last_rx; /* wraps correctly */
        if (c->state == IPB_CONN_NEW && idle >= b->cfg.connect_timeout_ms) {
            hard_close(c);
        } else if (c->state == IPB_CONN_ACTIVE && c->keepalive &&
                   idle >= (uint64_t)c->keepalive * 1500) {
            ipb__conn_kick(c, IPM_RC_KEEP_ALIVE_TIMEOUT, "has exceeded timeout, disconnecting");
        } else if (c->state == IPB_CONN_CLOSING && idle >= IPB_CLOSING_GRACE_MS) {
            hard_close(c); /* a peer that never reads its last packets */
        }
    }
}
