/*
 * handle_subscribe.c - SUBSCRIBE and UNSUBSCRIBE: per-filter results, retained messages
 * sent after the SUBACK according to retain handling; with persistence, a persistent
 * session's SUBACK (and those retained messages) wait for the commit.
 */
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "core.h"
#include "handlers.h"
#include "log.h"
#include "outq.h"
#include "persist.h"
#include "route.h"
#include "session.h"
#include "tree.h"

/* Result code for one filter: the granted QoS, or a refusal. */
static uint8_t subscribe_one(ipb_conn_t *c, const ipm_sub_t *sub, uint32_t subid, bool *isnew)
{
    ipb_broker_t *b = c->b;
    ipb_session_t *s = c->s;
    bool v5 = c->version == IPM_PROTO_V5;
    uint8_t qos = sub->options & IPM_SUBOPT_QOS_MASK;
    uint8_t opts = v5 ? sub->options : qos;
    /* mosquitto's bridge bit: a 3.x bridge gets what 5.0 bridges ask for themselves. */
    if (!v5 && c->bridge)
        opts |= IPM_SUBOPT_NO_LOCAL | IPM_SUBOPT_RETAIN_AS_PUBLISHED;
    char filter[IPM_MAX_STRING_LEN + 1];
    memcpy(filter, sub->filter.data, sub->filter.len);
    filter[sub->filter.len] = 0;
    if (b->auth && b->auth->subscribe && !c->trusted) {
        ipb_auth_client_t cl = {.client_id = s->id, .username = c->username,
                                .listener = c->listener, .version = c->version};
        uint8_t rc = b->auth->subscribe(b->auth_ctx, &cl, filter, qos);
        if (rc)
            return v5 ? rc : IPM_SUBACK_FAILURE;
    }
    uint32_t before = s->nsubs;
    if (!ipb__sub_add(b, s, NULL, NULL, filter, sub->filter.len, opts, subid, isnew))
        return v5 ? IPM_RC_UNSPECIFIED_ERROR : IPM_SUBACK_FAILURE;
    if (*isnew && b->cfg.max_subscriptions && before >= b->cfg.max_subscriptions) {
        /* Replacing an existing subscription is always allowed; a new one past the cap not. */
        ipb__sub_remove(b, s, NULL, NULL, filter, sub->filter.len);
        return v5 ? IPM_RC_QUOTA_EXCEEDED : IPM_SUBACK_FAILURE;
    }
    if (b->store && b->store->sub_set && s->expiry)
        b->store->sub_set(b->store_ctx, s->id, filter, opts, subid);
    ipb__log(b, IPB_LOG_SUBSCRIBE, "%s %u %s", s->id, qos, filter);
    return qos;
}

/* MQTT-3.8.4: retained messages after the SUBACK, per retain handling. */
static void send_retained(ipb_conn_t *c, const ipm_sub_t *sub, uint32_t subid, bool isnew)
{
    uint8_t rh = (sub->options & IPM_SUBOPT_RETAIN_HANDLING_MASK) >>
                 IPM_SUBOPT_RETAIN_HANDLING_SHIFT;
    if (c->version != IPM_PROTO_V5)
        rh = 0;
    if (rh == 2 || (rh == 1 && !isnew))
        return;
    ipm_bytes_t g, f;
    if (ipm_shared_split(sub->filter.data, sub->filter.len, &g, &f) != 0)
        return; /* shared subscriptions get no retained messages */
    ipb__route_retained(c->b, c->s, NULL, NULL, (const char *)sub->filter.data, sub->filter.len,
                     sub->options & IPM_SUBOPT_QOS_MASK, subid);
}

/* sub with its filter under the listener's mount point (in buf); false if too long. */
static bool mount(ipb_conn_t *c, ipm_sub_t *sub, char *buf)
{
    if (!ipb__conn_mount(c))
        return true;
    sub->filter = ipb__conn_mounted(c, sub->filter, buf);
    return sub->filter.data != NULL;
}

/* max_qos: a subscription is granted at most the listener's QoS, and delivered at it. */
static void cap_qos(ipb_conn_t *c, ipm_sub_t *sub)
{
    unsigned max = c->b->cfg.listeners[c->listener].max_qos;
    if ((sub->options & IPM_SUBOPT_QOS_MASK) > max)
        sub->options = (uint8_t)((sub->options & ~IPM_SUBOPT_QOS_MASK) | max);
}

static bool bad_options(ipb_conn_t *c, const ipm_sub_t *sub)
{
    ipm_bytes_t g, f;
    /* MQTT-3.8.3-4: No Local on a shared subscription is a protocol error. */
    return c->version == IPM_PROTO_V5 && (sub->options & IPM_SUBOPT_NO_LOCAL) &&
           ipm_shared_split(sub->filter.data, sub->filter.len, &g, &f) == 1;
}

/*
 * A persistent session's new subscriptions are acknowledged once committed (a SUBACK
 * received survives kill -9): the SUBACK and the retained messages after it wait in the
 * session, in order, with a copy of the filters. false: no memory.
 */
static bool hold_suback(ipb_conn_t *c, const ipm_subscribe_t *p, const uint8_t *reasons,
                        const bool *fresh, unsigned n, uint32_t subid)
{
    ipb_session_t *s = c->s;
    size_t bytes = 0;
    ipm_sub_iter_t it;
    ipm_sub_t sub;
    char mounted[IPM_MAX_STRING_LEN + 1];
    unsigned i = 0;
    ipm_subs_iter(p, false, &it);
    while (i < n && ipm_subs_next(&it, &sub)) {
        if (reasons[i++] <= 2 && mount(c, &sub, mounted))
            bytes += sub.filter.len;
    }
    ipb_held_suback_t *h = malloc(sizeof *h + n * (sizeof *h->filters + 3) + bytes);
    if (!h)
        return false;
    *h = (ipb_held_suback_t){.pid = p->packet_id, .count = (uint16_t)n, .subid = subid};
    h->filters = (ipm_bytes_t *)(h + 1);
    h->reasons = (uint8_t *)(h->filters + n);
    h->opts = h->reasons + n;
    h->fresh = (bool *)(h->opts + n);
    uint8_t *text = (uint8_t *)(h->fresh + n);
    memcpy(h->reasons, reasons, n);
    i = 0;
    ipm_subs_iter(p, false, &it);
    while (i < n && ipm_subs_next(&it, &sub)) {
        h->opts[i] = sub.options;
        h->fresh[i] = fresh[i];
        h->filters[i] = (ipm_bytes_t){0};
        if (reasons[i] <= 2 && mount(c, &sub, mounted)) {
            memcpy(text, sub.filter.data, sub.filter.len);
            h->filters[i] = (ipm_bytes_t){text, sub.filter.len};
            text += sub.filter.len;
        }
        i++;
    }
    if (!ipb__persist_hold(c->b->persist, s, c, IPM_SUBACK, p->packet_id, 0)) {
        free(h);
        return false;
    }
    ipb__session_suback_push(s, h);
    return true;
}

void ipb__subscribe_release(ipb_broker_t *b, ipb_conn_t *c, bool stored)
{
    (void)b;
    ipb_session_t *s = c->s;
    ipb_held_suback_t *h = s ? ipb__session_suback_pop(s) : NULL;
    if (!h)
        return;
    if (c->state != IPB_CONN_ACTIVE) {
        free(h);
        return;
    }
    if (!stored) {
        /* Not on disk, so not acknowledged; the client subscribes again when it is back. */
        free(h);
        ipb__conn_kick(c, IPM_RC_UNSPECIFIED_ERROR, "its subscription could not be stored");
        return;
    }
    ipm_packet_t pkt = {.type = IPM_SUBACK};
    pkt.u.suback = (ipm_suback_t){.packet_id = h->pid, .reasons = h->reasons,
                                  .count = h->count};
    ipb__out_send(c, &pkt);
    for (unsigned i = 0; i < h->count; i++) {
        if (!h->filters[i].data)
            continue;
        ipm_sub_t sub = {.filter = h->filters[i], .options = h->opts[i]};
        send_retained(c, &sub, h->subid, h->fresh[i]);
    }
    free(h);
}

int ipb__handle_subscribe(ipb_conn_t *c, const ipm_subscribe_t *p)
{
    ipb_broker_t *b = c->b;
    uint64_t mark = b->persist ? ipb__persist_mark(b->persist) : 0;
    uint32_t subid = 0;
    ipm_prop_t prop;
    if (c->version == IPM_PROTO_V5 &&
        ipm_props_get(&p->props, IPM_PROP_SUBSCRIPTION_IDENTIFIER, &prop))
        subid = prop.num;
    uint8_t *reasons = malloc(p->count ? p->count : 1);
    bool *fresh = malloc(p->count ? p->count : 1);
    int rc = -1;
    if (!reasons || !fresh) {
        ipb__conn_kick(c, IPM_RC_SERVER_BUSY, "out of memory");
        goto done;
    }
    ipm_sub_iter_t it;
    ipm_sub_t sub;
    unsigned n = 0;
    char mounted[IPM_MAX_STRING_LEN + 1];
    ipm_subs_iter(p, false, &it);
    while (n < p->count && ipm_subs_next(&it, &sub)) {
        if (bad_options(c, &sub)) {
            ipb__conn_kick(c, IPM_RC_PROTOCOL_ERROR, "No Local on a shared subscription");
            goto done;
        }
        cap_qos(c, &sub);
        if (!mount(c, &sub, mounted))
            reasons[n] = c->version == IPM_PROTO_V5 ? IPM_RC_TOPIC_FILTER_INVALID
                                                    : IPM_SUBACK_FAILURE;
        else
            reasons[n] = subscribe_one(c, &sub, subid, &fresh[n]);
        n++;
    }
    /* Behind what it changed in the store, or behind acknowledgements already waiting. */
    if (b->persist && (ipb__persist_mark(b->persist) != mark || ipb__session_held(c->s))) {
        if (!hold_suback(c, p, reasons, fresh, n, subid))
            ipb__conn_kick(c, IPM_RC_SERVER_BUSY, "out of memory");
        rc = 0;
        goto done;
    }
    ipm_packet_t pkt = {.type = IPM_SUBACK};
    pkt.u.suback = (ipm_suback_t){.packet_id = p->packet_id, .reasons = reasons,
                                  .count = (uint16_t)n};
    ipb__out_send(c, &pkt);
    n = 0;
    ipm_subs_iter(p, false, &it);
    while (n < p->count && ipm_subs_next(&it, &sub)) {
        cap_qos(c, &sub);
        if (reasons[n] <= 2 && mount(c, &sub, mounted))
            send_retained(c, &sub, subid, fresh[n]);
        n++;
    }
    rc = 0;
done:
    free(reasons);
    free(fresh);
    return rc;
}

int ipb__handle_unsubscribe(ipb_conn_t *c, const ipm_subscribe_t *p)
{
    ipb_broker_t *b = c->b;
    uint8_t *reasons = malloc(p->count ? p->count : 1);
    if (!reasons) {
        ipb__conn_kick(c, IPM_RC_SERVER_BUSY, "out of memory");
        return -1;
    }
    ipm_sub_iter_t it;
    ipm_sub_t sub;
    unsigned n = 0;
    char mounted[IPM_MAX_STRING_LEN + 1];
    ipm_subs_iter(p, true, &it);
    while (n < p->count && ipm_subs_next(&it, &sub)) {
        if (!mount(c, &sub, mounted)) {
            reasons[n++] = IPM_RC_NO_SUBSCRIPTION_EXISTED;
            continue;
        }
        char filter[IPM_MAX_STRING_LEN + 1];
        memcpy(filter, sub.filter.data, sub.filter.len);
        filter[sub.filter.len] = 0;
        bool had = ipb__sub_remove(b, c->s, NULL, NULL, filter, sub.filter.len);
        reasons[n++] = had ? IPM_RC_SUCCESS : IPM_RC_NO_SUBSCRIPTION_EXISTED;
        if (had && b->store && b->store->sub_del && c->s->expiry)
            b->store->sub_del(b->store_ctx, c->s->id, filter);
        ipb__log(b, IPB_LOG_UNSUBSCRIBE, "%s %s", c->s->id, filter);
    }
    ipm_packet_t pkt = {.type = IPM_UNSUBACK};
    pkt.u.suback = (ipm_suback_t){.packet_id = p->packet_id, .reasons = reasons,
                                  .count = (uint16_t)n};
    ipb__out_send(c, &pkt);
    free(reasons);
    return 0;
}
