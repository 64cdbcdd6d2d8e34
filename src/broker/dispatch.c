/*
 * dispatch.c - what a connection reads: framing, decoding, and dispatch of each packet
 * to its handler. The top of the connection stack: transports call in here with bytes,
 * and nothing below calls back by name.
 *
 * Every connection reads into the broker's one shared buffer and packets are handled in
 * place; only a partial packet left at the end is copied into a buffer of the
 * connection's own, freed as soon as it is consumed, so idle connections hold none.
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "conn.h"
#include "core.h"
#include "handlers.h"
#include "outq.h"
#include "session.h"

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

/*
 * The largest packet c may send now. Before its CONNECT is accepted a connection has
 * proved nothing, so it gets max_connect_size: a crowd of strangers each claiming a
 * 16 MiB CONNECT must not make the broker hold 16 MiB for each.
 */
static uint32_t packet_limit(const ipb_conn_t *c)
{
    const ipb_config_t *cfg = &c->b->cfg;
    if (c->state != IPB_CONN_NEW || !cfg->max_connect_size)
        return cfg->max_packet_size;
    if (!cfg->max_packet_size || cfg->max_connect_size < cfg->max_packet_size)
        return cfg->max_connect_size;
    return cfg->max_packet_size;
}

/*
 * A PUBACK of 4 bytes (no reason, every version), the other half of every QoS 1 message
 * sent: handled as it is, without framing and decoding it. Anything else, a PUBACK with a
 * reason or a packet id 0 among them, goes the general way. Returns bytes used (0 or 4).
 */
static size_t short_puback(ipb_conn_t *c, const uint8_t *p, size_t len)
{
    if (len < 4 || p[0] != IPM_PUBACK << 4 || p[1] != 2 || c->state != IPB_CONN_ACTIVE)
        return 0;
    ipm_ack_t a = {.packet_id = (uint16_t)(p[2] << 8 | p[3])};
    if (!a.packet_id)
        return 0;
    c->last_rx = (uint32_t)ipb__now(c->b);
    ipb__session_ack(c->b, c->s, IPM_PUBACK, &a);
    c->b->st.msgs_received++;
    c->b->st.bytes_received += 4;
    return 4;
}

/* Handle every whole packet in p[0..len); returns bytes consumed, or -1 if closing. */
static ssize_t process(ipb_conn_t *c, const uint8_t *p, size_t len, ipm_frame_t *f)
{
    size_t used = 0;
    /* MQTT-3.1.0-1: the first packet is a CONNECT (0x10, no flags). Anything else ends the
     * connection at its first byte, not after connect_timeout waiting for a whole frame. */
    if (c->state == IPB_CONN_NEW && len && p[0] != (IPM_CONNECT << 4)) {
        ipb__conn_close(c, NULL);
        return -1;
    }
    while (c->state < IPB_CONN_CLOSING) {
        size_t quick = short_puback(c, p + used, len - used);
        if (quick) {
            used += quick;
            continue;
        }
        int rc = ipm_frame(p + used, len - used, packet_limit(c), f);
        if (rc == IPM_ENEED_MORE)
            return (ssize_t)used;
        if (rc == IPM_ETOO_LARGE && c->state == IPB_CONN_NEW) {
            ipb__connect_too_large(c, p + used, len - used);
            return -1;
        }
        if (rc < 0) {
            ipb__conn_kick(c, ipm_err_reason(rc), ipm_strerror(rc));
            return -1;
        }
        c->last_rx = (uint32_t)ipb__now(c->b);
        rc = dispatch(c, f, p + used);
        if (rc > 0) {
            /* The CONNECT waits for its password hash: it stays unconsumed, kept with
             * whatever followed it, and is handled again by ipb__conn_resume. */
            c->tr->vt->read_stop(c->tr);
            return (ssize_t)used;
        }
        c->b->st.msgs_received++;
        c->b->st.bytes_received += f->total_len;
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
        if (c->state == IPB_CONN_CLOSING) {
            ipb__conn_on_peer_eof(c);
            return;
        }
        /* The peer has closed (or reset) already: no EOF will come to wait for, so the
         * connection ends once its last bytes are out, not after the closing grace. */
        c->peer_eof = true;
        ipb__conn_close(c, c->state == IPB_CONN_ACTIVE ? "closed its connection" : NULL);
        return;
    }
    if (n == 0 || c->state >= IPB_CONN_CLOSING)
        return;
    const uint8_t *p;
    size_t len;
    if ((uint8_t *)buf->base == c->b->rbuf) {
        if (c->login_wait) { /* the waiting CONNECT is kept in rbuf: this cannot be */
            ipb__conn_close(c, NULL);
            return;
        }
        p = c->b->rbuf;
        len = (size_t)n;
    } else {
        c->rlen += (uint32_t)n;
        if (c->login_wait)
            return; /* a transport may hand over what it decoded after read_stop: kept */
        p = c->rbuf;
        len = c->rlen;
    }
    ipm_frame_t f;
    ssize_t used = process(c, p, len, &f);
    if (used < 0 || c->state >= IPB_CONN_CLOSING)
        return;
    keep_tail(c, p, (size_t)used, len);
}

void ipb__conn_resume(ipb_conn_t *c)
{
    if (c->state >= IPB_CONN_CLOSING)
        return;
    if (c->tr->vt->read_start(c->tr) < 0) {
        ipb__conn_close(c, NULL);
        return;
    }
    if (!c->rbuf)
        return;
    ipm_frame_t f;
    ssize_t used = process(c, c->rbuf, c->rlen, &f);
    if (used < 0 || c->state >= IPB_CONN_CLOSING)
        return;
    keep_tail(c, c->rbuf, (size_t)used, c->rlen);
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
        return ipb__out_send(c, &resp) < 0 ? -1 : 0;
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
