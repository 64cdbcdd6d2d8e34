/*
 * alias.h - 5.0 topic aliases of one connection (alias.c): the table the client sets
 * (incoming) and the one we assign (outgoing), created when first used, grown and freed
 * here only.
 */
#ifndef IOTPLOT_BROKER_ALIAS_H
#define IOTPLOT_BROKER_ALIAS_H

#include <stdbool.h>
#include <stdint.h>

#include "iotplot/codec.h"

typedef struct ipb_conn ipb_conn_t;
typedef struct ipb_msg ipb_msg_t;

typedef struct {
    char *topic;
    uint16_t len;
} ipb_alias_t;

#define IPB_OUT_ALIAS_CAP 64 /* aliases we assign per client, at most */
typedef struct {
    ipb_alias_t *in;  /* [topic_alias_maximum]: set by the client */
    ipb_alias_t *out; /* [out_max]: assigned by us, first topics first */
    uint16_t out_max, out_n;
} ipb_aliases_t;

/* Resolve the topic alias of an incoming PUBLISH (sets p->topic); 0 or a reason code. */
uint8_t ipb__alias_in(ipb_conn_t *c, ipm_publish_t *p);
/* The alias to send m's topic with (0 = none); *known if the client has it already. */
uint16_t ipb__alias_out(ipb_conn_t *c, const ipb_msg_t *m, bool *known);
/* Record the alias ipb__alias_out() offered as sent. */
void ipb__alias_out_commit(ipb_conn_t *c, const ipb_msg_t *m);
void ipb__alias_free(ipb_conn_t *c);

#endif
