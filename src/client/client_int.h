/*
 * client_int.h - what the client's source files share: connection states, the message
 * store, the subscription and alias tables. Not installed.
 */
#ifndef IOTPLOT_CLIENT_INT_H
#define IOTPLOT_CLIENT_INT_H

#include "iotplot/client.h"

/* Connection states (ipm_client_t.state). */
enum {
    IPM__ST_IDLE = 0,   /* never connected, or closed by the caller: no reconnect */
    IPM__ST_CONNECTING, /* CONNECT sent, waiting for CONNACK */
    IPM__ST_CONNECTED,
    IPM__ST_BACKOFF     /* lost; auto reconnect at reconnect_at */
};

/* States of a message in the store. */
enum {
    IPM__MSG_QUEUED = 0, /* not sent on this connection (outbox, or over Receive Maximum) */
    IPM__MSG_SENT = 1,   /* PUBLISH sent, waiting for PUBACK or PUBREC */
    IPM__MSG_REL = 2     /* PUBREL sent, waiting for PUBCOMP; the message is gone */
};

/*
 * A message store record: an 8-byte header, then the encoded PUBLISH (full topic, packet
 * id 1 as a placeholder). Records stay in the order they were published, so the outbox
 * drains in order; removing one moves the later ones down.
 */
#define IPM__REC_HDR 8u

typedef struct {
    size_t off;    /* of the record in mem.store */
    uint32_t len;  /* of the encoded PUBLISH */
    uint16_t pid;  /* 0 until first sent */
    uint8_t state; /* IPM__MSG_* */
    uint8_t qos;
} ipm__rec_t;

/* Record at `off` (< store_len). */
void ipm__rec_get(const ipm_client_t *c, size_t off, ipm__rec_t *r);
void ipm__rec_put(ipm_client_t *c, const ipm__rec_t *r);
/* Offset of the next record. */
size_t ipm__rec_next(const ipm__rec_t *r);
/* Find the record holding packet id `pid` in one of the sent states; 1 if found. */
int ipm__rec_find(const ipm_client_t *c, uint16_t pid, ipm__rec_t *r);
/* Remove a record; drop its payload (IPM__MSG_REL keeps only the header). */
void ipm__rec_remove(ipm_client_t *c, const ipm__rec_t *r);
void ipm__rec_shrink(ipm_client_t *c, ipm__rec_t *r);
/* Encode `pkt` as a new QUEUED record at the end; IPM_EFULL if it does not fit. */
int ipm__rec_append(ipm_client_t *c, const ipm_packet_t *pkt);
/* Drop the oldest QUEUED record; 1 if one was dropped. */
int ipm__rec_drop_oldest(ipm_client_t *c);
/* A packet id in use by no record and no pending SUBSCRIBE/UNSUBSCRIBE. */
uint16_t ipm__pid_alloc(ipm_client_t *c);

/* Subscriptions kept for resubscribing. */
int ipm__subs_add(ipm_client_t *c, const char *filter, uint8_t options, uint32_t sub_id);
void ipm__subs_del(ipm_client_t *c, const char *filter);
/* Walk: `off` starts at 0; returns 1 and the entry, 0 at the end. */
int ipm__subs_next(const ipm_client_t *c, size_t *off, ipm_bytes_t *filter, uint8_t *options,
                   uint32_t *sub_id);

/* Incoming QoS 2 packet ids awaiting PUBREL. */
bool ipm__q2_has(const ipm_client_t *c, uint16_t pid);
int ipm__q2_add(ipm_client_t *c, uint16_t pid);
void ipm__q2_del(ipm_client_t *c, uint16_t pid);

/* Incoming topic aliases of this connection. */
int ipm__alias_set(ipm_client_t *c, uint16_t alias, ipm_bytes_t topic);
int ipm__alias_get(const ipm_client_t *c, uint16_t alias, ipm_bytes_t *topic);

/* Send one packet built by the caller (tx buffer). */
int ipm__send(ipm_client_t *c, const ipm_packet_t *pkt);
/* Send a stored message (first time or again with DUP) or its PUBREL. */
int ipm__send_rec(ipm_client_t *c, ipm__rec_t *r, bool dup);
/* Send QUEUED records in order while the Receive Maximum allows. */
int ipm__drain(ipm_client_t *c);
/* Read once (waiting up to timeout_ms) and handle every whole packet received. */
int ipm__pump(ipm_client_t *c, uint32_t timeout_ms);
/* The connection is gone: close, report, and schedule a reconnect if configured. */
void ipm__lost(ipm_client_t *c, int err);
/* Report an event; its reason is the last one from the server (c->reason). */
void ipm__event(ipm_client_t *c, ipm_event_type_t type, int err, uint16_t pid,
                const ipm_props_t *props);
/* After CONNACK accepted: read its limits, restore the session or the subscriptions. */
int ipm__session_start(ipm_client_t *c, const ipm_connack_t *ack);

/* The platform's millisecond clock. */
uint32_t ipm__now(const ipm_client_t *c);

#endif /* IOTPLOT_CLIENT_INT_H */
