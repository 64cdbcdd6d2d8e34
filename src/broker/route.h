/*
 * route.h - where a message goes (route.c): into the retained store, then to every
 * matching subscriber; and the retained messages a new subscription receives.
 */
#ifndef IOTPLOT_BROKER_ROUTE_H
#define IOTPLOT_BROKER_ROUTE_H

#include "msg.h"
#include "tree.h"

/* Publish a message from anywhere (client, will, $SYS, local): retained + fan-out. */
void ipb__publish(ipb_broker_t *b, ipb_msg_t *m);
/* Send retained messages matching filter to s (or cb) at most at the options' QoS. */
void ipb__route_retained(ipb_broker_t *b, ipb_session_t *s, ipb_local_cb cb, void *arg,
                         const char *filter, size_t flen, uint8_t opts, uint32_t subid);

/* The same for an in-process subscription (at most at its QoS). */
void ipb__route_retained_local(ipb_broker_t *b, const ipb_sub_t *sub, const char *filter,
                               size_t flen);

#endif
