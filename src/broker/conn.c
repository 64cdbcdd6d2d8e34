/*
 * conn.c - one client connection: its creation, writing its queue out, its timers and
 * its end. What it reads is framed and dispatched by dispatch.c, above the handlers.
 *
 * Writing: packets are queued per connection (outq.c) and written once per loop turn
 * (prepare and check handles call ipb__flush_all), gathering every pending packet into
 * one try_write; what the socket does not take goes out with one asynchronous write.
 */
#include <stdlib.h>
#include <string.h>

#include "alias.h"
#include "clock.h"
#include "conn.h"
#include "core.h"
#include "local.h"
#include "log.h"
#include "outq.h"
#include "security.h"
#include "session.h"

#define IPB_GATHER_BUFS 256
/* Ranges up to this size are copied for a write that completes at once (gather). */
#define IPB_GATHER_SMALL 512
#define IPB_GATHER_COPY 16384
#define IPB_CLOSING_GRACE_MS 5000

void ipb__conn_peer(ipb_conn_t *c, char *buf, size_t len)
{
    if (c->tr && c->tr->vt->peer)
        c->tr->vt->peer(c->tr, buf, len);
    else
        snprintf(buf, len, "unknown");
}

const char *ipb__conn_mount(const ipb_conn_t *c)
{
    const char *m = c->b->cfg.listeners[c->listener].mount_point;
    return m[0] ? m : NULL;
}

ipm_bytes_t ipb__conn_mounted(const ipb_conn_t *c, ipm_bytes_t topic, char *out)
{
    const char *mp = ipb__conn_mount(c);
    if (!mp)
        return topic;
    ipm_bytes_t g, f;
    size_t head = 0, mlen = strlen(mp);
    if (ipm_shared_split(topic.data, topic.len, &g, &f) == 1)
        head = (size_t)(f.data - topic.data);
    if (topic.len + mlen > IPM_MAX_STRING_LEN)
        return (ipm_bytes_t){NULL, 0};
    memcpy(out, topic.data, head);
    memcpy(out + head, mp, mlen);
    memcpy(out + head + mlen, topic.data + head, topic.len - head);
    out[topic.len + mlen] = 0;
    return (ipm_bytes_t){(const uint8_t *)out, (uint32_t)(topic.len + mlen)};
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

/* The (up to 4) byte ranges of one queued packet. */
static unsigned segments(const ipb_out_t *o, uv_buf_t seg[4])
{
    ipb_enc_t *e = o->enc;
    if (!e) {
        seg[0] = uv_buf_init((char *)o->ack, 4);
        return 1;
    }
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

/*
 * Gather queued packets (skipping what is written of the head) into bufs. With a copy
 * buffer, small ranges are copied into it, one after the other, so a turn's QoS 1
 * traffic (a PUBLISH in four ranges, 4-byte acknowledgements) becomes a few long ranges:
 * the kernel's cost of a write grows with its ranges. Only for a write that is done when
 * it returns: an asynchronous one references the queue, which outlives it.
 */
static unsigned gather(ipb_conn_t *c, uv_buf_t *bufs, unsigned max, size_t *bytes,
                       uint8_t *copy, size_t copy_cap)
{
    unsigned n = 0;
    size_t skip = c->out_off, used = 0;
    *bytes = 0;
    for (ipb_out_t *o = c->out; o && n + 4 <= max; o = o->next) {
        uint32_t olen = ipb__out_len(o);
        if (!skip && o->enc && olen <= IPB_GATHER_SMALL && used + olen <= copy_cap) {
            /* Whole: one copy, then the first byte and packet id patched in the copy. */
            uint8_t *d = copy + used;
            memcpy(d, o->enc->data, olen);
            if (o->first)
                d[0] = o->first;
            if (o->first && o->enc->pid_off && o->pid)
                memcpy(d + o->enc->pid_off, o->pid_be, 2);
            if (n && bufs[n - 1].base + bufs[n - 1].len == (char *)d)
                bufs[n - 1].len += olen;
            else
                bufs[n++] = uv_buf_init((char *)d, olen);
            used += olen;
            *bytes += olen;
            continue;
        }
        uv_buf_t seg[4];
        unsigned k = segments(o, seg);
        for (unsigned i = 0; i < k; i++) {
            if (skip >= seg[i].len) {
                skip -= seg[i].len;
                continue;
            }
            char *base = seg[i].base + skip;
            size_t len = seg[i].len - skip;
            skip = 0;
            *bytes += len;
            if (len <= IPB_GATHER_SMALL && used + len <= copy_cap) {
                memcpy(copy + used, base, len);
                if (n && bufs[n - 1].base + bufs[n - 1].len == (char *)copy + used)
                    bufs[n - 1].len += len;
                else
                    bufs[n++] = uv_buf_init((char *)copy + used, (unsigned)len);
                used += len;
                continue;
            }
            bufs[n++] = uv_buf_init(base, (unsigned)len);
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
        size_t left = ipb__out_len(o) - c->out_off;
        if (n < left) {
            c->out_off += (uint32_t)n;
            return;
        }
        n -= left;
        c->out_off = 0;
        c->out = o->next;
        if (!c->out)
            c->out_tail = NULL;
        ipb__out_free(c->b, o);
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

/*
 * A closing connection whose last packets are written: half-close and drain what the
 * peer still sends until it closes too (or IPB_CLOSING_GRACE_MS passes, see the tick).
 * Closing with unread bytes would make the kernel answer with a reset, and a client that
 * is still writing would get EPIPE instead of reading our DISCONNECT.
 */
static void linger(ipb_conn_t *c)
{
    if (c->peer_eof || !c->tr->vt->shutdown) {
        hard_close(c);
        return;
    }
    if (!c->write_shut) {
        c->write_shut = true;
        if (c->tr->vt->shutdown(c->tr) < 0)
            hard_close(c);
    }
}

void ipb__conn_on_peer_eof(ipb_conn_t *c)
{
    c->peer_eof = true;
    if (!c->out && !c->writing)
        hard_close(c);
}

static void flush(ipb_conn_t *c)
{
    uv_buf_t bufs[IPB_GATHER_BUFS];
    uint8_t copy[IPB_GATHER_COPY];
    while (c->out && !c->writing && c->state < IPB_CONN_CLOSED) {
        size_t bytes;
        unsigned n = gather(c, bufs, IPB_GATHER_BUFS, &bytes, copy, sizeof copy);
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
        n = gather(c, bufs, IPB_GATHER_BUFS, &bytes, NULL, 0);
        if (c->tr->vt->write(c->tr, bufs, n) < 0) {
            hard_close(c);
            return;
        }
        c->writing = (uint32_t)bytes;
    }
    if (c->state == IPB_CONN_CLOSING && !c->out && !c->writing)
        linger(c);
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
    ipb__out_want_flush(c);
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

void ipb__conn_close(ipb_conn_t *c, const char *why)
{
    ipb_broker_t *b = c->b;
    if (c->state >= IPB_CONN_CLOSING)
        return;
    if (c->state == IPB_CONN_ACTIVE) {
        if (why && c->s) /* a taken-over connection was logged by the takeover */
            ipb__log(b, IPB_LOG_NOTICE | IPB__LOG_CONNECTION, "Client %s %s.", c->s->id, why);
        b->st.clients_connected--;
        b->clients_disconnected++;
    }
    ipb__local_forget(c); /* nothing waiting is sent: the client sends it again */
    ipb__session_detach(b, c);
    c->state = IPB_CONN_CLOSING;
    c->last_rx = (uint32_t)ipb__now(b);
    /* Reading goes on, discarding (dispatch.c), until the peer closes: see linger(). A
     * connection paused for its password hash starts reading again for that. */
    if (!c->tr->vt->shutdown)
        c->tr->vt->read_stop(c->tr);
    else if (c->login_wait)
        c->tr->vt->read_start(c->tr);
    free(c->rbuf);
    c->rbuf = NULL;
    c->rlen = 0;
    c->rshift = 0;
    ipb__out_want_flush(c);
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
        ipb__out_send(c, &pkt);
    }
    ipb__conn_close(c, why ? why : "disconnected");
}

void ipb_conn_on_closed(ipb_conn_t *c)
{
    ipb_broker_t *b = c->b;
    if (c->state < IPB_CONN_CLOSING)
        ipb__conn_close(c, NULL);
    ipb__security_forget(c);
    ipb__out_drop(c);
    if (b->rd_conn == c)
        b->rd_conn = NULL;
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
    ipb__alias_free(c);
    free(c->rare); /* its will and acknowledgements went with the close */
    free(c->rbuf);
    free(c->username);
    free(c);
}

/* ---- timers ----------------------------------------------------------------------- */

void ipb__conns_tick(ipb_broker_t *b, uint64_t now)
{
    ipb_conn_t *c = b->conns, *next;
    for (; c; c = next) {
        next = c->next;
        if (c->s && c->s->flow)
            ipb__session_flow_trim(c->s, false); /* QoS 1/2 state idle since the last tick */
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
