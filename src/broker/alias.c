/*
 * alias.c - 5.0 topic aliases of one connection: the client's (incoming, up to our
 * topic_alias_maximum) and ours (outgoing, up to the client's maximum and
 * IPB_OUT_ALIAS_CAP). Both tables are allocated on first use, so clients that use no
 * aliases pay nothing for them
 * (the connection's rarely used part, conn.h, holds the pointer).
 */
#include <stdlib.h>
#include <string.h>

#include "alias.h"
#include "conn.h"
#include "core.h"

/* c's alias tables, allocated on first use; NULL without memory. */
static ipb_aliases_t *table(ipb_conn_t *c)
{
    ipb_conn_rare_t *r = ipb__conn_rare(c);
    if (r && !r->alias)
        r->alias = calloc(1, sizeof *r->alias);
    return r ? r->alias : NULL;
}

/* Resolve a 5.0 topic alias; returns the topic, or a reason code to disconnect with. */
uint8_t ipb__alias_in(ipb_conn_t *c, ipm_publish_t *p)
{
    ipm_prop_t prop;
    if (c->version != IPM_PROTO_V5 || !ipm_props_get(&p->props, IPM_PROP_TOPIC_ALIAS, &prop))
        return p->topic.len ? 0 : IPM_RC_PROTOCOL_ERROR;
    uint16_t max = c->b->cfg.topic_alias_maximum;
    if (prop.num == 0 || prop.num > max)
        return IPM_RC_TOPIC_ALIAS_INVALID;
    ipb_aliases_t *tab = table(c);
    if (!tab)
        return IPM_RC_SERVER_BUSY;
    if (!tab->in && !(tab->in = calloc(max, sizeof *tab->in)))
        return IPM_RC_SERVER_BUSY;
    ipb_alias_t *a = &tab->in[prop.num - 1];
    if (!p->topic.len) {
        if (!a->topic)
            return IPM_RC_PROTOCOL_ERROR; /* an alias never set */
        p->topic = (ipm_bytes_t){(const uint8_t *)a->topic, a->len};
        return 0;
    }
    char *t = malloc(p->topic.len + 1u);
    if (!t)
        return IPM_RC_SERVER_BUSY;
    memcpy(t, p->topic.data, p->topic.len);
    t[p->topic.len] = 0;
    free(a->topic);
    a->topic = t;
    a->len = (uint16_t)p->topic.len;
    return 0;
}

/*
 * The alias to send m's topic with (0 = none): one we assigned before (*known), or the
 * next free one. Aliases go to the first topics a client receives and stay theirs: no
 * replacement, so an alias never changes meaning while messages are in flight.
 */
uint16_t ipb__alias_out(ipb_conn_t *c, const ipb_msg_t *m, bool *known)
{
    *known = false;
    if (!c->alias_max || c->version != IPM_PROTO_V5)
        return 0;
    ipb_aliases_t *a = table(c);
    if (!a)
        return 0;
    if (!a->out) {
        if (!(a->out = calloc(c->alias_max, sizeof *a->out)))
            return 0;
        a->out_max = c->alias_max;
    }
    for (uint16_t i = 0; i < a->out_n; i++)
        if (a->out[i].len == m->topic_len && !memcmp(a->out[i].topic, m->topic, m->topic_len)) {
            *known = true;
            return (uint16_t)(i + 1);
        }
    return a->out_n < a->out_max ? (uint16_t)(a->out_n + 1) : 0;
}

void ipb__alias_out_commit(ipb_conn_t *c, const ipb_msg_t *m)
{
    ipb_aliases_t *a = c->rare->alias; /* ipb__alias_out() made it */
    ipb_alias_t *slot = &a->out[a->out_n];
    if (!(slot->topic = malloc(m->topic_len + 1u)))
        return;
    memcpy(slot->topic, m->topic, m->topic_len + 1u);
    slot->len = m->topic_len;
    a->out_n++;
}

void ipb__alias_free(ipb_conn_t *c)
{
    ipb_aliases_t *a = c->rare ? c->rare->alias : NULL;
    if (!a)
        return;
    for (unsigned i = 0; a->in && i < c->b->cfg.topic_alias_maximum; i++)
        free(a->in[i].topic);
    for (unsigned i = 0; i < a->out_n; i++)
        free(a->out[i].topic);
    free(a->in);
    free(a->out);
    free(a);
    c->rare->alias = NULL;
}
