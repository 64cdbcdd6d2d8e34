/*
 * outq.c - a connection's outgoing queue: one entry per packet, holding a reference to
 * a shared encoding. Sessions and handlers queue here during a loop turn; conn.c writes
 * the queue out once per turn.
 */
#include <stdlib.h>

#include "conn.h"
#include "core.h"
#include "outq.h"

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
    ipb__out_want_flush(c);
}

int ipb__out_send(ipb_conn_t *c, const ipm_packet_t *pkt)
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
    ipb__out_queue(c, e, 0, 0);
    return 0;
}

void ipb__out_drop(ipb_conn_t *c)
{
    while (c->out) {
        ipb_out_t *o = c->out;
        c->out = o->next;
        ipb__enc_unref(o->enc);
        free(o);
    }
    c->out_tail = NULL;
}
