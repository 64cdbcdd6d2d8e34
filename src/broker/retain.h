/*
 * retain.h - the retained store (retain.c): one retained message per topic, kept on the
 * tree's nodes, capped by max_retained_messages and written through to the store seam.
 */
#ifndef IOTPLOT_BROKER_RETAIN_H
#define IOTPLOT_BROKER_RETAIN_H

#include "msg.h"

/* Store, replace or (empty payload) clear the retained message of m's topic. */
void ipb__retain_set(ipb_broker_t *b, ipb_msg_t *m);
/* The same, telling the store (notify) or not (a replay from the store). */
void ipb__retain_put(ipb_broker_t *b, ipb_msg_t *m, bool notify);
/* Call fn for every retained message whose topic matches filter. */
void ipb__retain_match(ipb_broker_t *b, const char *filter, size_t flen,
                       void (*fn)(void *arg, ipb_msg_t *m), void *arg);

#endif
