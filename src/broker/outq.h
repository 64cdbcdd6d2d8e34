/*
 * outq.h - a connection's outgoing queue (outq.c): packets queued for it during a loop
 * turn, which conn.c writes out once per turn. Everything below the reader queues here
 * (sessions, handlers); nothing here touches the socket.
 */
#ifndef IOTPLOT_BROKER_OUTQ_H
#define IOTPLOT_BROKER_OUTQ_H

#include "conn.h"
#include "msg.h"

/* One queued outgoing packet. PUBLISH entries patch the first byte and the packet id; an
 * acknowledgement of 4 bytes has no encoding (enc NULL) and is held whole in ack. */
typedef struct ipb_out {
    struct ipb_out *next;
    ipb_enc_t *enc;
    uint16_t pid;
    uint8_t first;
    uint8_t pid_be[2];
    uint8_t ack[4];
} ipb_out_t;

/* Bytes of a queued packet on the wire. */
static inline uint32_t ipb__out_len(const ipb_out_t *o)
{
    return o->enc ? o->enc->len : 4;
}

/* Queue an encoded packet (takes the reference). */
void ipb__out_queue(ipb_conn_t *c, ipb_enc_t *e, uint8_t first, uint16_t pid);
/* Encode and queue a packet. Returns 0 or a negative IPM_E*. */
int ipb__out_send(ipb_conn_t *c, const ipm_packet_t *pkt);
/* Put c on the broker's list of connections to flush this turn. */
void ipb__out_want_flush(ipb_conn_t *c);
/* Drop every queued packet (the connection is gone). */
void ipb__out_drop(ipb_conn_t *c);
/* A packet written: its entry goes back to the broker's spare entries. */
void ipb__out_free(ipb_broker_t *b, ipb_out_t *o);
/* Free the spare entries (the broker ends). */
void ipb__out_spares_free(ipb_broker_t *b);

#endif
