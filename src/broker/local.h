/*
 * local.h - what the broker core asks of the in-process API (local.c): handing a message
 * to an in-process subscription, and holding a client's acknowledgements until the
 * receivers that asked for it (ipb_local_receiver_new in broker.h) have acknowledged.
 *
 * The PUBLISH handler brackets routing a client's QoS 1/2 message with begin/end; each
 * delivery to a receiver in between takes a token and counts against the message. Then
 * ipb__local_ack() says whether the handler's acknowledgement waits: it does when a
 * receiver took the message, or when an earlier one of the same connection still waits
 * (acknowledgements leave in the order their packets came, MQTT-4.6.0-2). A waiting one
 * goes out through `release` when its last token is acknowledged, and the handler then
 * applies its own rule for the broker's commit (persist.c). Nothing is sent for a
 * connection that closed meanwhile: its client sends the packet again.
 */
#ifndef IOTPLOT_BROKER_LOCAL_H
#define IOTPLOT_BROKER_LOCAL_H

#include "conn.h"
#include "msg.h"
#include "tree.h"

/* An acknowledgement that waited goes out; changed: the packet changed the broker's
 * store (it may still wait for that commit). */
typedef void (*ipb__local_release_fn)(ipb_conn_t *c, bool changed, uint8_t type,
                                      uint16_t pid, uint8_t reason);

/* Hand m to an in-process subscription at qos (route.c's fan-out and retained). */
void ipb__route_local(const ipb_sub_t *sub, const ipb_msg_t *m, uint8_t qos, bool retain);

/* c's QoS 1/2 message m is about to be routed; at QoS 2, pid and dup are its packet id
 * and DUP flag (pid 0 otherwise), for receivers that record QoS 2 exchanges. */
void ipb__local_begin(ipb_broker_t *b, ipb_conn_t *c, const ipb_msg_t *m, uint16_t pid,
                      bool dup);
/* Routing is done. false: a receiver refused it or memory ran out (the caller closes c
 * without acknowledging, so the client sends it again). *recorded: a receiver that
 * records QoS 2 exchanges took it, so its record is committed before the broker's. */
bool ipb__local_end(ipb_broker_t *b, bool *recorded);

/* c's PUBREL of pid, to every receiver that records QoS 2 exchanges, each taking a token
 * the PUBCOMP then waits for (ipb__local_ack). How many took it, or -1 when one could
 * not (the caller closes c without the PUBCOMP: the client sends the PUBREL again). */
int ipb__local_pubrel(ipb_conn_t *c, uint16_t pid);

/*
 * The acknowledgement (type, pid, reason) of c's packet: 0 when nothing of c waits (the
 * caller sends it its usual way), 1 when it waits and goes out through release later,
 * -1 when it cannot wait (out of memory, or more than the packet ids a client can have
 * outstanding): the caller closes c. barrier: it also waits for every token given out
 * so far (a QoS 2 resend, whose first copy may not be acknowledged by a receiver yet).
 */
int ipb__local_ack(ipb_conn_t *c, bool changed, uint8_t type, uint16_t pid, uint8_t reason,
                   bool barrier, ipb__local_release_fn release);

/* client_id starts a clean session: receivers that record QoS 2 exchanges forget its
 * ids (the client forgot them too). 0, or -1 when one could not take it (the caller
 * refuses the CONNECT: the client tries again). */
int ipb__local_clean_start(ipb_broker_t *b, const char *client_id);

/* c is closing: what waits for it is dropped. */
void ipb__local_forget(ipb_conn_t *c);

/* The broker is closing (its last handles): close the acknowledgements' async handle,
 * counted in open_handles, with close_cb. Then free the receivers (finish). */
void ipb__local_close(ipb_broker_t *b, uv_close_cb close_cb);
void ipb__local_free(ipb_broker_t *b);

#endif
