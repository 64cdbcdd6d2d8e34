/*
 * handlers.h - the protocol handlers (handle_connect.c, handle_publish.c,
 * handle_subscribe.c): what each packet a client sends does. dispatch.c calls them; they
 * answer through outq.h, end connections through conn.h and act through sessions,
 * routing and the tree below.
 *
 * Each returns 0, or -1 when c is closing and no further packet of it may be handled.
 */
#ifndef IOTPLOT_BROKER_HANDLERS_H
#define IOTPLOT_BROKER_HANDLERS_H

#include "conn.h"

/*
 * The first packet: rc is ipm_decode()'s result for it. 1: its password is hashing off
 * the loop; the packet is handled again, whole, when b->resume(c) is called.
 */
int ipb__handle_connect_raw(ipb_conn_t *c, int rc, const ipm_frame_t *f, const uint8_t *data,
                            const ipm_connect_t *p);
int ipb__handle_publish(ipb_conn_t *c, ipm_publish_t *p);
int ipb__handle_pubrel(ipb_conn_t *c, const ipm_ack_t *a);
/* A PUBACK / PUBREC / PUBCOMP held for a commit goes out (persist.h's release). */
void ipb__publish_release(ipb_broker_t *b, ipb_conn_t *c, uint8_t type, uint16_t pid,
                          uint8_t reason, bool stored);
int ipb__handle_subscribe(ipb_conn_t *c, const ipm_subscribe_t *p);
/* The SUBACK held for the commit of a persistent session's subscriptions goes out, and the
 * retained messages after it (not stored: c is disconnected instead). */
void ipb__subscribe_release(ipb_broker_t *b, ipb_conn_t *c, bool stored);
int ipb__handle_unsubscribe(ipb_conn_t *c, const ipm_subscribe_t *p);
/* A first packet larger than max_connect_size: refused (5.0 CONNACK 0x95) and closed. */
void ipb__connect_too_large(ipb_conn_t *c, const uint8_t *data, size_t len);

#endif
