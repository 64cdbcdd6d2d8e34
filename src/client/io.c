/*
 * io.c - the client's packet traffic: sending through the transport, reading and framing
 * what arrives, and the QoS 0/1/2 state machine for both directions.
 */
#include <string.h>

#include "client_int.h"

uint32_t ipm__now(const ipm_client_t *c)
{
    return c->cfg.platform.now_ms(c->cfg.platform.ctx);
}

void ipm__event(ipm_client_t *c, ipm_event_type_t type, int err, uint16_t pid,
                const ipm_props_t *props)
{
    if (!c->ev_cb)
        return;
    ipm_event_t ev = {.type = type, .err = err, .reason = c->reason, .packet_id = pid,
                      .session_present = c->session_present, .props = props};
    c->ev_cb(c, &ev, c->ev_user);
}

static bool transport_err(int err)
{
    return err == IPM_EIO || err == IPM_ECLOSED || err == IPM_ETIMEOUT || err == IPM_ETLS;
}

void ipm__lost(ipm_client_t *c, int err)
{
    if (c->state != IPM__ST_CONNECTING && c->state != IPM__ST_CONNECTED)
        return;
    bool was_connected = c->state == IPM__ST_CONNECTED;
    c->tr.close(c->tr.ctx);
    c->ping_out = false;
    c->last_err = err;
    c->state = IPM__ST_IDLE;
    if (c->cfg.auto_reconnect) {
        uint32_t delay = c->backoff_ms, jitter = 0;
        if (c->cfg.platform.random)
            jitter = c->cfg.platform.random(c->cfg.platform.ctx) % (delay / 4u + 1u);
        c->reconnect_at = ipm__now(c) + delay + jitter;
        uint32_t max = c->cfg.reconnect_max_ms;
        c->backoff_ms = delay >= max / 2u ? max : delay * 2u;
        c->state = IPM__ST_BACKOFF;
    }
    if (was_connected)
        ipm__event(c, IPM_EV_DISCONNECTED, err, 0, NULL);
}

int ipm__send(ipm_client_t *c, const ipm_packet_t *pkt)
{
    /* A callback may have closed the connection under the packet being handled. */
    if (c->state != IPM__ST_CONNECTING && c->state != IPM__ST_CONNECTED)
        return IPM_ENOT_CONNECTED;
    int64_t n = ipm_encode(pkt, c->cfg.version, c->mem.tx_buf, c->mem.tx_cap);
    if (n == IPM_ENOSPACE)
        return IPM_ETOO_LARGE;
    if (n < 0)
        return (int)n;
    if (c->srv_max_packet && (uint64_t)n > c->srv_max_packet)
        return IPM_ETOO_LARGE;
    int rc = c->tr.send(c->tr.ctx, c->mem.tx_buf, (size_t)n, c->cfg.io_timeout_ms);
    if (rc < 0) {
        ipm__lost(c, rc);
        return rc;
    }
    c->last_tx_ms = ipm__now(c);
    return IPM_OK;
}

int ipm__send_rec(ipm_client_t *c, ipm__rec_t *r, bool dup)
{
    ipm_packet_t p;
    if (r->state == IPM__MSG_REL) {
        memset(&p, 0, sizeof p);
        p.type = IPM_PUBREL;
        p.u.ack.packet_id = r->pid;
        return ipm__send(c, &p);
    }
    /* The stored bytes are our own encoding; decoding them gives back the message, and
     * the packet id and DUP flag of this attempt are set on the copy. */
    const uint8_t *b = c->mem.store + r->off + IPM__REC_HDR;
    ipm_frame_t f;
    int rc = ipm_frame(b, r->len, 0, &f);
    if (rc == IPM_OK)
        rc = ipm_decode(&f, b, c->cfg.version, &p);
    if (rc < 0)
        return rc;
    p.u.publish.packet_id = r->qos ? r->pid : 0;
    p.u.publish.dup = dup && r->qos > 0;
    return ipm__send(c, &p);
}

int ipm__drain(ipm_client_t *c)
{
    ipm__rec_t r;
    size_t off = 0;
    while (c->state == IPM__ST_CONNECTED && off < c->store_len) {
        ipm__rec_get(c, off, &r);
        if (r.state != IPM__MSG_QUEUED) {
            off = ipm__rec_next(&r);
            continue;
        }
        /* Stop at the first message the server's Receive Maximum holds back: order. */
        if (r.qos > 0 && (c->inflight >= c->srv_recv_max ||
                          (c->cfg.max_inflight && c->inflight >= c->cfg.max_inflight)))
            break;
        if (r.qos > 0) {
            r.pid = ipm__pid_alloc(c);
            if (!r.pid)
                break;
            r.state = IPM__MSG_SENT;
            ipm__rec_put(c, &r);
            c->queued--;
            c->inflight++;
        }
        int rc = ipm__send_rec(c, &r, false);
        if (rc == IPM_ETOO_LARGE || (rc < 0 && !transport_err(rc))) {
            /* It cannot ever go to this server: drop it rather than block the rest. */
            ipm__rec_remove(c, &r);
            c->dropped++;
            ipm__event(c, IPM_EV_DROPPED, rc, r.pid, NULL);
            continue;
        }
        if (rc < 0)
            return rc;
        if (r.qos == 0)
            ipm__rec_remove(c, &r);
        else
            off = ipm__rec_next(&r);
    }
    return IPM_OK;
}

static int send_ack(ipm_client_t *c, uint8_t type, uint16_t pid, uint8_t reason)
{
    ipm_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = type;
    p.u.ack.packet_id = pid;
    p.u.ack.reason = c->cfg.version == IPM_PROTO_V5 ? reason : 0;
    return ipm__send(c, &p);
}

#if IPM_CLIENT_MANUAL_ACK
/* Keep the acknowledgement of an incoming packet until the application has processed it;
 * *seq is the number the application acknowledges it with. */
static int ack_later(ipm_client_t *c, uint8_t type, uint16_t pid, uint32_t *seq)
{
    if (c->ack_count >= c->mem.acks_cap)
        return IPM_EQUOTA;
    c->ack_seq = c->ack_seq + 1u ? c->ack_seq + 1u : 1u; /* 0 means "nothing to ack" */
    ipm_ack_slot_t *s = &c->mem.acks[((uint32_t)c->ack_head + c->ack_count) % c->mem.acks_cap];
    s->seq = c->ack_seq;
    s->packet_id = pid;
    s->type = type;
    c->ack_count++;
    *seq = c->ack_seq;
    return IPM_OK;
}

/* Send, in order, the acknowledgements the application has released. */
static int acks_flush(ipm_client_t *c)
{
    uint32_t upto = __atomic_load_n(&c->acked, __ATOMIC_ACQUIRE);
    while (c->ack_count && (int32_t)(c->mem.acks[c->ack_head].seq - upto) <= 0) {
        ipm_ack_slot_t s = c->mem.acks[c->ack_head];
        int rc = IPM_OK;
        /* From the PUBREC on, a resent PUBLISH is the server's retry, not a new message. */
        if (s.type == IPM_PUBREC && !ipm__q2_has(c, s.packet_id))
            rc = ipm__q2_add(c, s.packet_id);
        if (rc == IPM_OK)
            rc = send_ack(c, s.type, s.packet_id, IPM_RC_SUCCESS);
        if (rc < 0)
            return rc;
        c->ack_head = (uint16_t)((c->ack_head + 1u) % c->mem.acks_cap);
        c->ack_count--;
    }
    return IPM_OK;
}

/* PUBREL: the application forgets the packet id, then its seq releases the PUBCOMP. */
static int on_release(ipm_client_t *c, uint16_t pid)
{
    ipm_event_t ev = {.type = IPM_EV_RELEASED, .reason = c->reason, .packet_id = pid,
                      .session_present = c->session_present};
    int rc = ack_later(c, IPM_PUBCOMP, pid, &ev.seq);
    if (rc == IPM_OK && c->ev_cb)
        c->ev_cb(c, &ev, c->ev_user);
    return rc;
}

void ipm_client_ack(ipm_client_t *c, uint32_t seq)
{
    /* Another thread may call this while the loop runs: the loop reads `acked` with
     * acquire, and only this thread writes it. The builtins work on a plain member of a
     * struct that C++ code includes too, where _Atomic would not. */
    uint32_t last = __atomic_load_n(&c->acked, __ATOMIC_RELAXED);
    if ((int32_t)(seq - last) > 0)
        __atomic_store_n(&c->acked, seq, __ATOMIC_RELEASE);
}
#endif

/* Resolve or record a 5.0 topic alias; the topic of `m` is the full name afterwards. */
static int resolve_alias(ipm_client_t *c, ipm_msg_t *m)
{
    ipm_prop_t a;
    if (c->cfg.version != IPM_PROTO_V5 || !ipm_props_get(&m->props, IPM_PROP_TOPIC_ALIAS, &a))
        return m->topic.len ? IPM_OK : IPM_EBAD_TOPIC;
    uint16_t max = c->mem.aliases_cap ? IPM_CLIENT_TOPIC_ALIAS_MAX : 0;
    if (a.num == 0 || a.num > max)
        return IPM_EPROTOCOL;
    if (m->topic.len)
        return ipm__alias_set(c, (uint16_t)a.num, m->topic);
    return ipm__alias_get(c, (uint16_t)a.num, &m->topic) ? IPM_OK : IPM_EPROTOCOL;
}

static void deliver(ipm_client_t *c, const ipm_msg_t *m)
{
    c->delivered++;
    if (!c->msg_cb)
        return;
    c->in_cb = true;
    c->msg_cb(c, m, c->msg_user);
    c->in_cb = false;
}

static int on_publish(ipm_client_t *c, const ipm_publish_t *p)
{
    ipm_msg_t m = {.topic = p->topic, .payload = p->payload, .qos = p->qos,
                   .retain = p->retain, .dup = p->dup, .packet_id = p->packet_id,
                   .props = p->props};
    int rc = resolve_alias(c, &m);
    if (rc < 0)
        return rc;
    /* QoS 2: deliver on the first PUBLISH only; a resend before PUBREL is acked again. */
    bool fresh = p->qos < 2 || !ipm__q2_has(c, p->packet_id);
#if IPM_CLIENT_MANUAL_ACK
    if (c->cfg.manual_ack && fresh && p->qos) {
        rc = ack_later(c, p->qos == 1 ? IPM_PUBACK : IPM_PUBREC, p->packet_id, &m.seq);
        if (rc == IPM_OK)
            deliver(c, &m);
        return rc;
    }
#endif
    if (fresh && p->qos == 2 && (rc = ipm__q2_add(c, p->packet_id)) < 0)
        return rc;
    if (fresh)
        deliver(c, &m);
    if (p->qos == 0)
        return IPM_OK;
    return send_ack(c, p->qos == 1 ? IPM_PUBACK : IPM_PUBREC, p->packet_id, IPM_RC_SUCCESS);
}

static int on_ack(ipm_client_t *c, uint8_t type, const ipm_ack_t *a)
{
    ipm__rec_t r;
    if (!ipm__rec_find(c, a->packet_id, &r)) {
        /* Not ours (any more): a PUBREC still needs its PUBREL to end the exchange. */
        if (type == IPM_PUBREC)
            return send_ack(c, IPM_PUBREL, a->packet_id, IPM_RC_PACKET_IDENTIFIER_NOT_FOUND);
        return IPM_OK;
    }
    c->reason = a->reason;
    bool done = false;
    if (type == IPM_PUBACK && r.qos == 1) {
        done = true;
    } else if (type == IPM_PUBREC && r.qos == 2) {
        if (a->reason >= IPM_RC_UNSPECIFIED_ERROR) {
            done = true;
        } else {
            if (r.state == IPM__MSG_SENT) {
                r.state = IPM__MSG_REL;
                ipm__rec_shrink(c, &r);
            }
            return send_ack(c, IPM_PUBREL, r.pid, IPM_RC_SUCCESS);
        }
    } else if (type == IPM_PUBCOMP && r.state == IPM__MSG_REL) {
        done = true;
    } else {
        return IPM_EPROTOCOL;
    }
    if (done) {
        ipm__rec_remove(c, &r);
        ipm__event(c, IPM_EV_PUBLISHED, IPM_OK, a->packet_id, &a->props);
    }
    return ipm__drain(c);
}

static int on_suback(ipm_client_t *c, uint8_t type, const ipm_suback_t *s)
{
    uint8_t rc = s->count ? s->reasons[0] : 0;
    if (c->wait_pid && s->packet_id == c->wait_pid && type == c->wait_type) {
        c->wait_done = true;
        c->wait_rc = rc;
        return IPM_OK;
    }
    c->reason = rc;
    if (type == IPM_SUBACK)
        ipm__event(c, IPM_EV_SUBACK, IPM_OK, s->packet_id, &s->props);
    return IPM_OK;
}

static int on_connack(ipm_client_t *c, const ipm_connack_t *a)
{
    c->reason = a->reason;
    if (a->reason != 0)
        return IPM_EREFUSED;
    c->session_present = a->session_present;
    c->connected_once = true;
    /* Keep the properties for ipm_client_connack_props(); the receive buffer moves on. */
    memset(&c->connack_props, 0, sizeof c->connack_props);
    if (a->props.raw.len <= sizeof c->connack_buf) {
        if (a->props.raw.len)
            memcpy(c->connack_buf, a->props.raw.data, a->props.raw.len);
        c->connack_props.raw.data = c->connack_buf;
        c->connack_props.raw.len = a->props.raw.len;
        c->connack_props.count = a->props.count;
    }
    c->state = IPM__ST_CONNECTED;
    c->backoff_ms = c->cfg.reconnect_min_ms;
    ipm__event(c, IPM_EV_CONNECTED, IPM_OK, 0, &a->props);
    return c->state == IPM__ST_CONNECTED ? ipm__session_start(c, a) : IPM_OK;
}

static int on_packet(ipm_client_t *c, const ipm_packet_t *p)
{
    if (c->state == IPM__ST_CONNECTING)
        return p->type == IPM_CONNACK ? on_connack(c, &p->u.connack) : IPM_EPROTOCOL;
    switch (p->type) {
    case IPM_PUBLISH:
        return on_publish(c, &p->u.publish);
    case IPM_PUBACK:
    case IPM_PUBREC:
    case IPM_PUBCOMP:
        return on_ack(c, p->type, &p->u.ack);
    case IPM_PUBREL:
        ipm__q2_del(c, p->u.ack.packet_id);
#if IPM_CLIENT_MANUAL_ACK
        if (c->cfg.manual_ack)
            return on_release(c, p->u.ack.packet_id);
#endif
        return send_ack(c, IPM_PUBCOMP, p->u.ack.packet_id, IPM_RC_SUCCESS);
    case IPM_SUBACK:
    case IPM_UNSUBACK:
        return on_suback(c, p->type, &p->u.suback);
    case IPM_PINGRESP:
        c->ping_out = false;
        return IPM_OK;
    case IPM_DISCONNECT:
        c->reason = p->u.disconnect.reason;
        return IPM_ECLOSED;
    default:
        return IPM_EPROTOCOL; /* CONNACK twice, AUTH, or a server-bound packet */
    }
}

/* A protocol error: tell a 5.0 server why (one reason code), then drop the connection. */
static void fail(ipm_client_t *c, int err)
{
    if (c->cfg.version == IPM_PROTO_V5 && c->state == IPM__ST_CONNECTED && !transport_err(err) &&
        err != IPM_ECLOSED) {
        ipm_packet_t p;
        memset(&p, 0, sizeof p);
        p.type = IPM_DISCONNECT;
        p.u.disconnect.reason = err == IPM_EQUOTA ? IPM_RC_RECEIVE_MAXIMUM_EXCEEDED
                                                  : ipm_err_reason(err);
        (void)ipm__send(c, &p);
    }
    ipm__lost(c, err);
}

int ipm__pump(ipm_client_t *c, uint32_t timeout_ms)
{
    uint8_t *buf = c->mem.rx_buf;
#if IPM_CLIENT_MANUAL_ACK
    if (c->ack_count) {
        int r = c->state == IPM__ST_CONNECTED ? acks_flush(c) : IPM_OK;
        if (r < 0) {
            fail(c, r);
            return r;
        }
        if (c->ack_count && timeout_ms > IPM_CLIENT_ACK_POLL_MS)
            timeout_ms = IPM_CLIENT_ACK_POLL_MS; /* ipm_client_ack() may come any moment */
    }
#endif
    int n = c->tr.recv(c->tr.ctx, buf + c->rx_len, c->mem.rx_cap - c->rx_len, timeout_ms);
    if (n < 0) {
        fail(c, n);
        return n;
    }
    if ((size_t)n > c->mem.rx_cap - c->rx_len) {
        fail(c, IPM_EIO); /* a transport that overran the buffer it was given */
        return IPM_EIO;
    }
    c->rx_len += (size_t)n;
    size_t off = 0;
    int rc = IPM_OK;
    while (c->state == IPM__ST_CONNECTING || c->state == IPM__ST_CONNECTED) {
        ipm_frame_t f;
        ipm_packet_t p;
        rc = ipm_frame(buf + off, c->rx_len - off, (uint32_t)c->mem.rx_cap, &f);
        if (rc == IPM_ENEED_MORE) {
            rc = IPM_OK;
            break;
        }
        if (rc == IPM_OK)
            rc = ipm_decode(&f, buf + off, c->cfg.version, &p);
        if (rc == IPM_OK)
            rc = on_packet(c, &p);
        if (rc < 0)
            break;
        off += f.total_len;
    }
#if IPM_CLIENT_MANUAL_ACK
    /* What the callbacks acknowledged goes out now, with the rest of this turn's traffic. */
    if (rc == IPM_OK && c->ack_count && c->state == IPM__ST_CONNECTED)
        rc = acks_flush(c);
#endif
    if (rc < 0) {
        fail(c, rc);
        c->rx_len = 0;
        return rc;
    }
    if (c->state != IPM__ST_CONNECTING && c->state != IPM__ST_CONNECTED) {
        c->rx_len = 0; /* closed from a callback */
        return c->last_err < 0 ? c->last_err : IPM_ENOT_CONNECTED;
    }
    memmove(buf, buf + off, c->rx_len - off);
    c->rx_len -= off;
    return IPM_OK;
}
