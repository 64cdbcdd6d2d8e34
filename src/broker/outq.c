/*
 * outq.c - a connection's outgoing queue: one entry per packet, holding a reference to
 * a shared encoding. Sessions and handlers queue here during a loop turn; conn.c writes
 * the queue out once per turn.
 */
#include <stdlib.h>

#include "conn.h"
#include "core.h"
#include "outq.h"

/* Written entries kept for the next packets: a loop turn queues about as many as the last
 * one wrote, so most packets take no malloc. Bounded: after a burst, the rest is freed. */
#define OUT_SPARE_MAX 4096

static ipb_out_t *out_alloc(ipb_broker_t *b)
{
    ipb_out_t *o = b->out_spare;
    if (!o)
        return malloc(sizeof *o);
    b->out_spare = o->next;
    b->nout_spare--;
    return o;
}

void ipb__out_free(ipb_broker_t *b, ipb_out_t *o)
{
    ipb__enc_unref(o->enc);
    if (b->nout_spare >= OUT_SPARE_MAX) {
        free(o);
        return;
    }
    o->next = b->out_spare;
    b->out_spare = o;
    b->nout_spare++;
}

void ipb__out_spares_free(ipb_broker_t *b)
{
    while (b->out_spare) {
        ipb_out_t *o = b->out_spare;
        b->out_spare = o->next;
        free(o);
    }
    b->nout_spare = 0;
}

static void append(ipb_conn_t *c, ipb_out_t *o, uint32_t len)
{
    o->next = NULL;
    if (c->out_tail)
        c->out_tail->next = o;
    else
        c->out = o;
    c->out_tail = o;
    c->out_bytes += len;
    c->b->st.msgs_sent++;
    ipb__out_want_flush(c);
}

void ipb__out_want_flush(ipb_conn_t *c)
{
    if (c->in_flush)
        return;
    c->in_flush = true;
    c->fnext = c->b->flush;
    c->b->flush = c;
}

void ipb__out_queue(ipb_conn_t *c, ipb_enc_t *e, uint8_t first, uint16_t pid)
{
    if (c->state >= IPB_CONN_CLOSED) {
        ipb__enc_unref(e);
        return;
    }
    ipb_out_t *o = out_alloc(c->b);
    if (!o) {
        ipb__enc_unref(e);
        return;
    }
    o->enc = e;
    o->first = first;
    o->pid = pid;
    o->pid_be[0] = (uint8_t)(pid >> 8);
    o->pid_be[1] = (uint8_t)pid;
    append(c, o, e->len);
}

/* PUBACK, PUBREC, PUBREL and PUBCOMP without reason or properties: 4 bytes, the same for
 * every protocol version (3.4.2.1 lets 5.0 leave reason 0 out). Written into the entry
 * itself, they need no encoding: one of them follows every QoS 1 and 2 message. */
static bool short_ack(const ipb_conn_t *c, const ipm_packet_t *pkt)
{
    if (pkt->type != IPM_PUBACK && pkt->type != IPM_PUBREC && pkt->type != IPM_PUBREL &&
        pkt->type != IPM_PUBCOMP)
        return false;
    const ipm_ack_t *a = &pkt->u.ack;
    if (!a->packet_id)
        return false; /* the codec refuses it: left to its error */
    if (c->version != IPM_PROTO_V5)
        return true;
    return a->reason == 0 && (a->props.list ? a->props.count == 0 : a->props.raw.len == 0);
}

int ipb__out_send(ipb_conn_t *c, const ipm_packet_t *pkt)
{
    if (short_ack(c, pkt)) {
        if (c->state >= IPB_CONN_CLOSED)
            return 0;
        ipb_out_t *o = out_alloc(c->b);
        if (!o)
            return IPM_ENOMEM;
        uint16_t pid = pkt->u.ack.packet_id;
        o->enc = NULL;
        o->first = 0;
        o->pid = 0;
        o->ack[0] = (uint8_t)(pkt->type << 4 | (pkt->type == IPM_PUBREL ? 2 : 0));
        o->ack[1] = 2;
        o->ack[2] = (uint8_t)(pid >> 8);
        o->ack[3] = (uint8_t)pid;
        append(c, o, 4);
        return 0;
    }
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
    ipb__out_queue(c, e, 0, 0);
    return 0;
}

void ipb__out_drop(ipb_conn_t *c)
{
    while (c->out) {
        ipb_out_t *o = c->out;
        c->out = o->next;
        ipb__out_free(c->b, o);
    }
    c->out_tail = NULL;
}
