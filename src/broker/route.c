/*
 * route.c - where a message goes: the retained store, then every matching subscriber,
 * one delivery per session (sessions take it from there); and a new subscription's
 * retained messages.
 *
 * Publishes made from inside a delivery (an in-process subscriber that publishes) wait
 * until the current fan-out is done, so a fan-out never runs inside another.
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "core.h"
#include "local.h"
#include "log.h"
#include "retain.h"
#include "route.h"
#include "session.h"

/*
 * One fan-out gathers, per session, the highest QoS of its matching subscriptions and
 * all their identifiers, so overlapping subscriptions give one message (3.1.1 and 5.0).
 * Sessions are stamped with the fan-out's generation instead of being looked up.
 */
typedef struct {
    ipb_session_t *s;
    uint8_t qos;
    bool rap;
    uint16_t nids;
    uint32_t ids[8]; /* identifiers past 8 are dropped: a cap on per-message state */
} match_t;

typedef struct {
    ipb_broker_t *b;
    ipb_msg_t *m;
    match_t *v;
    size_t n, cap;
    ipb_sub_t **local;
    size_t nlocal, local_cap;
    bool oom;
} fan_t;

static void *grow_array(void *p, size_t *cap, size_t elem)
{
    size_t nc = *cap ? *cap * 2 : 16;
    void *np = realloc(p, nc * elem);
    if (np)
        *cap = nc;
    return np;
}

/* A delivery's QoS: the lower of the two, or the subscription's (upgrade_outgoing_qos). */
static uint8_t out_qos(const ipb_broker_t *b, uint8_t sub_qos, uint8_t msg_qos)
{
    return b->cfg.upgrade_outgoing_qos || sub_qos < msg_qos ? sub_qos : msg_qos;
}

static void take(fan_t *f, ipb_sub_t *sub)
{
    uint8_t qos = sub->opts & IPM_SUBOPT_QOS_MASK;
    if (!sub->s) {
        if (f->nlocal == f->local_cap) {
            void *np = grow_array(f->local, &f->local_cap, sizeof *f->local);
            if (!np) {
                f->oom = true;
                return;
            }
            f->local = np;
        }
        f->local[f->nlocal++] = sub;
        return;
    }
    ipb_session_t *s = sub->s;
    if ((sub->opts & IPM_SUBOPT_NO_LOCAL) && s->serial == f->m->origin)
        return;
    match_t *mt;
    if (s->mgen == f->b->mgen) {
        mt = &f->v[s->midx];
    } else {
        if (f->n == f->cap) {
            void *np = grow_array(f->v, &f->cap, sizeof *f->v);
            if (!np) {
                f->oom = true;
                return;
            }
            f->v = np;
        }
        s->mgen = f->b->mgen;
        s->midx = (uint32_t)f->n;
        mt = &f->v[f->n++];
        mt->s = s;
        mt->qos = 0;
        mt->rap = false;
        mt->nids = 0;
    }
    if (qos > mt->qos)
        mt->qos = qos;
    if (sub->opts & IPM_SUBOPT_RETAIN_AS_PUBLISHED)
        mt->rap = true;
    if (sub->subid && mt->nids < 8)
        mt->ids[mt->nids++] = sub->subid;
}

/* Round robin: the next online member after the cursor, else the cursor's (queued). */
static void take_group(fan_t *f, ipb_group_t *g)
{
    ipb_sub_t *start = g->cursor ? g->cursor : g->members, *x = start, *pick = NULL;
    do {
        if (!x->s || x->s->conn) {
            pick = x;
            break;
        }
        x = x->next ? x->next : g->members;
    } while (x != start);
    if (!pick)
        pick = start;
    g->cursor = pick->next ? pick->next : g->members;
    if (!pick->s) {
        take(f, pick);
        return;
    }
    uint8_t qos = out_qos(f->b, pick->opts & IPM_SUBOPT_QOS_MASK, f->m->qos);
    uint32_t id = pick->subid;
    ipb__session_deliver(f->b, pick->s, f->m, qos, false, id ? &id : NULL, id ? 1 : 0);
}

static void take_node(fan_t *f, ipb_node_t *n)
{
    for (ipb_sub_t *x = n->subs; x; x = x->next)
        take(f, x);
    for (ipb_group_t *g = n->groups; g; g = g->next)
        take_group(f, g);
}

static void visit(void *arg, ipb_node_t *n)
{
    take_node(arg, n);
}

static void fanout(ipb_broker_t *b, ipb_msg_t *m)
{
    /* The arrays are kept on the broker between fan-outs: no allocation per message. */
    fan_t f = {.b = b, .m = m, .v = b->fan_v, .cap = b->fan_cap, .local = b->fan_local,
               .local_cap = b->fan_local_cap};
    if (++b->mgen == 0) {
        /* The 32-bit generation wrapped: clear every stamp so none matches by accident. */
        for (size_t i = 0; i < b->nstab; i++)
            for (ipb_session_t *s = b->stab[i]; s; s = s->hnext)
                s->mgen = 0;
        b->mgen = 1;
    }
    ipb__tree_match(&b->tree, m->topic, m->topic_len, visit, &f);
    for (size_t i = 0; i < f.n; i++) {
        match_t *mt = &f.v[i];
        uint8_t qos = out_qos(b, mt->qos, m->qos);
        bool retain = mt->rap && m->retain;
        ipb__session_deliver(b, mt->s, m, qos, retain, mt->ids, mt->nids);
    }
    for (size_t i = 0; i < f.nlocal; i++) {
        ipb_sub_t *x = f.local[i];
        ipb__route_local(x, m, out_qos(b, x->opts & IPM_SUBOPT_QOS_MASK, m->qos), false);
    }
    if (f.oom)
        ipb__log(b, IPB_LOG_ERR, "Out of memory delivering a message on %s.", m->topic);
    b->fan_v = f.v;
    b->fan_cap = f.cap;
    b->fan_local = f.local;
    b->fan_local_cap = f.local_cap;
}

static void run_deferred(ipb_broker_t *b)
{
    b->draining = true;
    for (size_t i = 0; i < b->ndeferred; i++) {
        ipb_msg_t *m = b->deferred[i];
        b->deferred[i] = NULL;
        ipb__publish(b, m); /* nested publishes append; this loop reaches them too */
        ipb__msg_unref(m);
    }
    b->ndeferred = 0;
    b->draining = false;
}

void ipb__publish(ipb_broker_t *b, ipb_msg_t *m)
{
    if (b->fanout_depth) {
        /* Published from inside a delivery callback: after the current fan-out. */
        if (b->ndeferred == b->deferred_cap) {
            size_t nc = b->deferred_cap ? b->deferred_cap * 2 : 16;
            ipb_msg_t **nd = realloc(b->deferred, nc * sizeof *nd);
            if (!nd)
                return;
            b->deferred = nd;
            b->deferred_cap = nc;
        }
        ipb__msg_ref(m);
        b->deferred[b->ndeferred++] = m;
        return;
    }
    b->fanout_depth++;
    if (m->retain && b->cfg.retain_available)
        ipb__retain_set(b, m);
    fanout(b, m);
    b->fanout_depth--;
    if (!b->fanout_depth && b->ndeferred && !b->draining)
        run_deferred(b);
}

/* A new subscription's retained messages: who gets them, with which options. */
typedef struct {
    ipb_broker_t *b;
    ipb_session_t *s;
    ipb_local_cb cb;
    void *arg;
    const ipb_sub_t *local; /* an in-process subscription, or NULL */
    uint8_t opts;
    uint32_t subid;
    uint64_t now;
    ipb_msg_t **gone; /* check_retain_source: retained messages to clear after the walk */
    size_t ngone, gone_cap;
} rctx_t;

/* check_retain_source: may the publisher of retained m still publish it? */
static bool source_allowed(ipb_broker_t *b, const ipb_msg_t *m)
{
    if (!b->cfg.check_retain_source || !m->source || !b->auth || !b->auth->publish)
        return true;
    const char *user = m->source + strlen(m->source) + 1;
    ipb_auth_client_t cl = {.client_id = m->source, .username = user[0] ? user : NULL};
    return b->auth->publish(b->auth_ctx, &cl, m->topic, m->qos, true) == 0;
}

static void send_retained(void *arg, ipb_msg_t *m)
{
    rctx_t *r = arg;
    uint8_t qos = out_qos(r->b, r->opts & IPM_SUBOPT_QOS_MASK, m->qos);
    if (ipb__msg_remaining(m, r->now) == 0)
        return; /* expired while retained */
    if (!source_allowed(r->b, m)) {
        /* Not cleared here: the walk is still on the tree it would prune. */
        if (r->ngone == r->gone_cap) {
            void *np = grow_array(r->gone, &r->gone_cap, sizeof *r->gone);
            if (!np)
                return;
            r->gone = np;
        }
        ipb__msg_ref(m);
        r->gone[r->ngone++] = m;
        return;
    }
    if (r->local) {
        ipb__route_local(r->local, m, qos, true);
        return;
    }
    if (r->cb) {
        r->cb(r->arg, m->topic, m->topic_len, m->payload, m->payload_len, qos, true);
        return;
    }
    /* Retained messages sent because of a new subscription always carry RETAIN. */
    ipb__session_deliver(r->b, r->s, m, qos, true, r->subid ? &r->subid : NULL,
                         r->subid ? 1 : 0);
}

/* Send what matches filter, then clear what check_retain_source found stale. */
static void walk_retained(ipb_broker_t *b, rctx_t *r, const char *filter, size_t flen)
{
    ipb__retain_match(b, filter, flen, send_retained, r);
    for (size_t i = 0; i < r->ngone; i++) {
        ipb_msg_t *m = r->gone[i], *clear = ipb__msg_new(m->topic, m->topic_len, NULL, 0, 0,
                                                        true, NULL, r->now);
        if (clear) {
            ipb__log(b, IPB_LOG_NOTICE, "Retained message on %s removed: its publisher may "
                     "no longer publish it (check_retain_source).", m->topic);
            ipb__retain_set(b, clear);
            ipb__msg_unref(clear);
        }
        ipb__msg_unref(m);
    }
    free(r->gone);
}

void ipb__route_retained(ipb_broker_t *b, ipb_session_t *s, ipb_local_cb cb, void *arg,
                         const char *filter, size_t flen, uint8_t opts, uint32_t subid)
{
    rctx_t r = {.b = b, .s = s, .cb = cb, .arg = arg, .opts = opts, .subid = subid,
                .now = ipb__now(b)};
    walk_retained(b, &r, filter, flen);
}

void ipb__route_retained_local(ipb_broker_t *b, const ipb_sub_t *sub, const char *filter,
                               size_t flen)
{
    rctx_t r = {.b = b, .local = sub, .opts = sub->opts, .now = ipb__now(b)};
    walk_retained(b, &r, filter, flen);
}
