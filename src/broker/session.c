/*
 * session.c - sessions: the client-id table, a session's life (clean start, offline,
 * expiry, its end) and what happens to a will when its connection ends, and the QoS 2
 * packet ids received and waiting for PUBREL. What a session delivers (its queue, its
 * outgoing QoS 1/2 window, resending, paging a queue in from disk) is deliver.c's.
 *
 * Sessions sit below routing and the connection; wills go up through b->publish.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "alias.h"
#include "clock.h"
#include "conn.h"
#include "core.h"
#include "local.h"
#include "outq.h"
#include "persist.h"
#include "session.h"

static size_t hash_id(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return (size_t)h;
}

ipb_session_t *ipb__session_find(ipb_broker_t *b, const char *id)
{
    if (!b->nstab)
        return NULL;
    ipb_session_t *s = b->stab[hash_id(id) & (b->nstab - 1)];
    while (s && strcmp(s->id, id))
        s = s->hnext;
    return s;
}

static int table_grow(ipb_broker_t *b)
{
    size_t nn = b->nstab ? b->nstab * 2 : 1024;
    ipb_session_t **t = calloc(nn, sizeof *t);
    if (!t)
        return IPM_ENOMEM;
    for (size_t i = 0; i < b->nstab; i++) {
        ipb_session_t *s = b->stab[i], *next;
        for (; s; s = next) {
            next = s->hnext;
            size_t h = hash_id(s->id) & (nn - 1);
            s->hnext = t[h];
            t[h] = s;
        }
    }
    free(b->stab);
    b->stab = t;
    b->nstab = nn;
    return 0;
}

ipb_session_t *ipb__session_new(ipb_broker_t *b, const char *id)
{
    if (b->nsessions >= b->cfg.max_sessions)
        return NULL;
    /* Up to two sessions per slot: lookups happen at CONNECT only, memory is per client. */
    if (b->nsessions >= 2 * b->nstab && table_grow(b) < 0)
        return NULL;
    size_t len = strlen(id);
    /* offsetof, not sizeof: the id starts in the struct's tail padding. */
    ipb_session_t *s = calloc(1, offsetof(ipb_session_t, id) + len + 1);
    if (!s)
        return NULL;
    memcpy(s->id, id, len + 1);
    if (!++b->next_serial)
        b->next_serial = 1;
    s->serial = b->next_serial;
    size_t h = hash_id(id) & (b->nstab - 1);
    s->hnext = b->stab[h];
    b->stab[h] = s;
    b->nsessions++;
    return s;
}

void ipb__session_reset(ipb_broker_t *b, ipb_session_t *s)
{
    while (s->subs)
        ipb__sub_free(b, s->subs);
    ipb__session_drop_deliveries(b, s);
    if (s->flow)
        s->flow->nrx_qos2 = 0;
    ipb__session_flow_trim(s, true);
    ipb__msg_unref(s->will);
    s->will = NULL;
}

/* Offline sessions to time are kept in an array; each knows its slot (oidx, 1-based). */
void ipb__session_set_offline(ipb_broker_t *b, ipb_session_t *s, bool offline)
{
    if (offline && !s->oidx) {
        if (b->noffline == b->offline_cap) {
            size_t nc = b->offline_cap ? b->offline_cap * 2 : 64;
            ipb_session_t **n = realloc(b->offline, nc * sizeof *n);
            if (!n)
                return; /* not timed: it stays until a client takes it over */
            b->offline = n;
            b->offline_cap = nc;
        }
        b->offline[b->noffline++] = s;
        s->oidx = (uint32_t)b->noffline;
    } else if (!offline && s->oidx) {
        ipb_session_t *last = b->offline[--b->noffline];
        b->offline[s->oidx - 1] = last;
        last->oidx = s->oidx;
        s->oidx = 0;
    }
}

/* The held SUBACKs are a circular list: s->subacks is the newest, its next the oldest. */
void ipb__session_suback_push(ipb_session_t *s, ipb_held_suback_t *h)
{
    ipb_held_suback_t *last = s->subacks;
    h->next = last ? last->next : h;
    if (last)
        last->next = h;
    s->subacks = h;
}

ipb_held_suback_t *ipb__session_suback_pop(ipb_session_t *s)
{
    ipb_held_suback_t *last = s->subacks;
    if (!last)
        return NULL;
    ipb_held_suback_t *h = last->next;
    if (h == last)
        s->subacks = NULL;
    else
        last->next = h->next;
    h->next = NULL;
    return h;
}

void ipb__session_drop_subacks(ipb_session_t *s)
{
    for (ipb_held_suback_t *h; (h = ipb__session_suback_pop(s));)
        free(h);
}

/* s leaves its connection: nothing held for that connection goes out. */
static void forget(ipb_broker_t *b, ipb_session_t *s)
{
    if (b->persist && (ipb__session_held(s) || s->pwait))
        ipb__persist_forget(b->persist, s);
    ipb__session_drop_subacks(s);
}

void ipb__session_free(ipb_broker_t *b, ipb_session_t *s)
{
    ipb_session_t **pp = &b->stab[hash_id(s->id) & (b->nstab - 1)];
    while (*pp != s)
        pp = &(*pp)->hnext;
    *pp = s->hnext;
    b->nsessions--;
    ipb__session_set_offline(b, s, false);
    if (b->store && b->store->session_del && (s->expiry || s->stored))
        b->store->session_del(b->store_ctx, s->id);
    forget(b, s);
    ipb__session_reset(b, s);
    free(s->username);
    free(s);
}

/*
 * s ends (its expiry ran out, or it had none and its connection went), as opposed to being
 * freed with the broker: in-process receivers that keep its QoS 2 ids drop them, as its
 * next clean start would, so a client that never returns leaves none behind.
 */
static void end_session(ipb_broker_t *b, ipb_session_t *s)
{
    (void)ipb__local_clean_start(b, s->id); /* a receiver that fails keeps at most its window */
    ipb__session_free(b, s);
}

void ipb__sessions_free_all(ipb_broker_t *b)
{
    for (size_t i = 0; i < b->nstab; i++)
        while (b->stab[i])
            ipb__session_free(b, b->stab[i]);
    free(b->stab);
    b->stab = NULL;
    b->nstab = 0;
    free(b->offline);
    b->offline = NULL;
    b->noffline = b->offline_cap = 0;
    ipb__dlv_spares_free(b);
}

/* ---- QoS 2 received: packet ids waiting for PUBREL ---------------------------------- */

bool ipb__session_rx_has(const ipb_session_t *s, uint16_t pid)
{
    const ipb_flow_t *f = s->flow;
    for (unsigned i = 0; f && i < f->nrx_qos2; i++)
        if (f->rx_qos2[i] == pid)
            return true;
    return false;
}

bool ipb__session_rx_add(ipb_session_t *s, uint16_t pid)
{
    /* Capacity is 0, or the smallest power of two >= max(4, count): grow when full. */
    ipb_flow_t *f = ipb__session_flow(s);
    if (!f)
        return false;
    unsigned cap = 0;
    if (f->nrx_qos2)
        for (cap = 4; cap < f->nrx_qos2; cap *= 2)
            ;
    if (f->nrx_qos2 == cap) {
        unsigned nc = cap ? cap * 2u : 4u;
        uint16_t *n = realloc(f->rx_qos2, nc * sizeof *n);
        if (!n)
            return false;
        f->rx_qos2 = n;
    }
    f->rx_qos2[f->nrx_qos2++] = pid;
    f->used = true;
    return true;
}

bool ipb__session_rx_release(ipb_session_t *s, uint16_t pid)
{
    ipb_flow_t *f = s->flow;
    for (unsigned i = 0; f && i < f->nrx_qos2; i++) {
        if (f->rx_qos2[i] != pid)
            continue;
        f->rx_qos2[i] = f->rx_qos2[--f->nrx_qos2];
        return true;
    }
    return false;
}

/*
 * The connection c ends: unlink its session and apply the policy of what is left. Its
 * will (if it is to go out) is published now or, 5.0, kept by the session until its
 * delay; a session with no expiry ends with the connection, others wait offline.
 */
void ipb__session_detach(ipb_broker_t *b, ipb_conn_t *c)
{
    ipb_session_t *s = c->s;
    uint64_t now = ipb__now(b);
    ipb_msg_t *will = c->will_on_close ? ipb__conn_will(c) : NULL;
    c->s = NULL;
    if (s)
        s->conn = NULL;
    if (will && s && will->will_delay && s->expiry) {
        /* 5.0: the will waits for its delay unless the session ends first. */
        ipb__msg_ref(will);
        s->will = will;
        s->will_at = ipb__deadline(b, now, will->will_delay);
        if (b->persist)
            ipb__persist_will(b->persist, s->id, will,
                              ipb__wall_ms() + (int64_t)will->will_delay * 1000);
        will = NULL;
    }
    if (will)
        b->publish(b, will);
    ipb__conn_will_drop(c);
    if (!s)
        return;
    if (!s->expiry) {
        end_session(b, s);
        return;
    }
    forget(b, s); /* first: the acknowledgements it held keep its flow */
    ipb__session_flow_trim(s, true); /* an offline session's flow only grows: empty, it goes */
    s->expire_at = s->expiry == IPM_SESSION_EXPIRY_NEVER ? 0 : ipb__deadline(b, now, s->expiry);
    if (s->expire_at || s->will)
        ipb__session_set_offline(b, s, true);
    if (b->persist) {
        ipb__persist_session_offline(b->persist, s->id,
                                     s->expire_at ? ipb__wall_ms() + (int64_t)s->expiry * 1000
                                                  : 0);
    }
}

ipb_conn_t *ipb__session_unlink(ipb_broker_t *b, ipb_session_t *s, bool ending)
{
    ipb_conn_t *old = s->conn;
    old->s = NULL;
    s->conn = NULL;
    forget(b, s);
    /* A delayed will waits for nothing when the session ends here; otherwise the client
     * that takes over is back within the delay and the will is not sent (MQTT-3.1.3-9). */
    ipb_msg_t *will = ipb__conn_will(old);
    if (will && old->will_on_close && (ending || !will->will_delay))
        b->publish(b, will);
    ipb__conn_will_drop(old);
    return old;
}

ipb_session_t *ipb__session_attach(ipb_broker_t *b, ipb_conn_t *c, ipb_session_t *s,
                                   const char *id, bool fresh, bool *present)
{
    if (s && fresh) {
        if (s->will) {
            /* The old session ends here, before its will delay ran out: send it now. */
            b->publish(b, s->will);
        }
        ipb__session_free(b, s);
        s = NULL;
    }
    *present = s != NULL;
    if (!s && !(s = ipb__session_new(b, id)))
        return NULL;
    if (s->will) {
        /* Reconnected within the will delay: the will is not sent (MQTT-3.1.3-9). */
        ipb__msg_unref(s->will);
        s->will = NULL;
        if (b->persist)
            ipb__persist_will(b->persist, s->id, NULL, 0);
    }
    if (c->username && !s->username && !(s->username = strdup(c->username))) {
        ipb__session_free(b, s);
        return NULL;
    }
    s->expire_at = 0;
    ipb__session_set_offline(b, s, false);
    s->conn = c;
    c->s = s;
    return s;
}

void ipb__sessions_tick(ipb_broker_t *b, uint64_t now_ms)
{
    uint32_t now = ipb__secs(b, now_ms);
    /* Backwards: removing slot i moves the last (already visited) session into it. */
    for (size_t i = b->noffline; i-- > 0;) {
        if (i >= b->noffline)
            continue;
        ipb_session_t *s = b->offline[i];
        bool ending = s->expire_at && s->expire_at <= now;
        /* The will goes out after its delay or when the session ends, whichever is first. */
        if (s->will && (s->will_at <= now || ending)) {
            ipb_msg_t *w = s->will;
            s->will = NULL;
            if (b->persist)
                ipb__persist_will(b->persist, s->id, NULL, 0);
            b->publish(b, w);
            ipb__msg_unref(w);
        }
        if (ending)
            end_session(b, s);
        else if (!s->will && !s->expire_at)
            ipb__session_set_offline(b, s, false); /* nothing left to time */
    }
}
