/*
 * local.c - the in-process API (ipb_local_subscribe / ipb_local_publish in broker.h):
 * clients without a socket, such as the plot server and $SYS. Their messages are checked
 * as a client's would be and take the same route. A receiver may also be told who
 * published each message (ipb_local_subscribe_from), or acknowledge what it takes later,
 * from any thread (ipb_local_receiver_new): then the publisher's acknowledgement waits.
 *
 * How the waiting works (local.h): each connection with an acknowledgement waiting has
 * a queue (ackq_t) of its acknowledgements in packet order, each with a count of tokens
 * not acknowledged yet; each receiver has a queue of the tokens it was given, each naming
 * its entry. Receivers acknowledge cumulatively, so the loop pops a receiver's tokens up
 * to the acknowledged one, counts their entries down and sends what is complete from the
 * front of each connection's queue. A closed connection's queue outlives it, empty, until
 * the last token naming it is popped.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "local.h"
#include "msg.h"
#include "route.h"
#include "session.h"
#include "tree.h"

/* A client cannot have more packets waiting for an acknowledgement than packet ids. */
#define MAX_WAITING 65535

/* A queue of fixed-size items (capacity a power of two): push at the back, pop the front. */
typedef struct {
    void *v;
    size_t head, n, cap;
} ring_t;

static void *ring_at(const ring_t *r, size_t i, size_t size)
{
    return (char *)r->v + ((r->head + i) & (r->cap - 1)) * size;
}

static void *ring_push(ring_t *r, size_t size)
{
    if (r->n == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 16;
        char *nv = malloc(nc * size);
        if (!nv)
            return NULL;
        for (size_t i = 0; i < r->n; i++)
            memcpy(nv + i * size, ring_at(r, i, size), size);
        free(r->v);
        r->v = nv;
        r->head = 0;
        r->cap = nc;
    }
    return ring_at(r, r->n++, size);
}

static void ring_pop(ring_t *r)
{
    r->head = (r->head + 1) & (r->cap - 1);
    r->n--;
}

/* One acknowledgement of a connection, waiting. */
typedef struct {
    uint32_t waits; /* tokens not acknowledged yet */
    uint16_t pid;
    uint8_t type, reason;
    bool open;    /* its packet is still being handled: not complete whatever waits says */
    bool changed; /* its packet changed the broker's store */
} wait_t;

typedef struct ipb_ackq {
    ipb_conn_t *c; /* NULL once it closed */
    ipb__local_release_fn release;
    uint32_t refs;  /* the connection's, and one per token naming an entry */
    uint64_t first; /* the number of the entry at the front, counted since the start */
    ring_t w;       /* of wait_t */
} ackq_t;

/* A token given out: entry `idx` of q waits for it. */
typedef struct {
    ackq_t *q;
    uint64_t idx, token;
} pend_t;

struct ipb_local_receiver {
    ipb_local_receiver_t *next;
    struct ipb_local *L;
    ipb_local_recv_cb cb;
    ipb_local_release_cb release; /* records QoS 2 exchanges (ipb_local_receiver_qos2) */
    void *arg;
    uint64_t issued, acked;     /* loop thread */
    _Atomic uint64_t acked_req; /* ipb_local_ack(), any thread */
    ring_t pend;                /* of pend_t, tokens in increasing order */
};

/* The broker's receivers, created with the first one. */
typedef struct ipb_local {
    uv_async_t async; /* ipb_local_ack() wakes the loop */
    ipb_local_receiver_t *receivers;
    unsigned nqos2; /* receivers that record QoS 2 exchanges */
    bool closed;
    /* The client message being routed (ipb__local_begin .. end) */
    ipb_conn_t *cur_c;
    const ipb_msg_t *cur_m;
    uint64_t cur_idx; /* its entry, when cur_has */
    uint16_t cur_pid; /* its QoS 2 packet id, or 0 */
    bool cur_dup, cur_has, cur_failed;
    bool cur_recorded; /* a receiver that records QoS 2 exchanges took it */
} ipb_local_t;

/* ---- subscriptions ------------------------------------------------------------------ */

/*
 * Every kind of receiver lives in the tree as (cb, arg): a from-receiver's address stands
 * in cb as its name, for finding and replacing it, and is only ever called as `from`; an
 * acknowledging receiver is named by rx_name and itself as arg.
 */
static ipb_local_cb name_of(ipb_local_from_cb from)
{
    return (ipb_local_cb)(void (*)(void))from;
}

static void rx_name(void *arg, const char *topic, size_t topic_len, const uint8_t *payload,
                    size_t payload_len, uint8_t qos, bool retain)
{
    (void)arg, (void)topic, (void)topic_len, (void)payload, (void)payload_len, (void)qos;
    (void)retain;
}

static int subscribe(ipb_broker_t *b, const char *filter, uint8_t qos, ipb_local_cb cb,
                     ipb_local_from_cb from, ipb_local_receiver_t *rx, void *arg)
{
    if (!b || !filter || !cb || qos > 2)
        return IPM_EINVALID;
    size_t len = strlen(filter);
    ipm_bytes_t g, f;
    int shared = ipm_shared_split((const uint8_t *)filter, len, &g, &f);
    if (shared < 0 || (!shared && !ipm_topic_filter_valid((const uint8_t *)filter, len)))
        return IPM_EBAD_FILTER;
    bool isnew;
    ipb_sub_t *sub = ipb__sub_add(b, NULL, cb, arg, filter, len, qos, 0, &isnew);
    if (!sub)
        return IPM_ENOMEM;
    sub->from = from;
    sub->rx = rx;
    if (!shared)
        ipb__route_retained_local(b, sub, filter, len);
    return 0;
}

int ipb_local_subscribe(ipb_broker_t *b, const char *filter, uint8_t qos, ipb_local_cb cb,
                        void *arg)
{
    return subscribe(b, filter, qos, cb, NULL, NULL, arg);
}

int ipb_local_subscribe_from(ipb_broker_t *b, const char *filter, uint8_t qos,
                             ipb_local_from_cb cb, void *arg)
{
    return subscribe(b, filter, qos, cb ? name_of(cb) : NULL, cb, NULL, arg);
}

int ipb_local_subscribe_receiver(ipb_broker_t *b, const char *filter, uint8_t qos,
                                 ipb_local_receiver_t *r)
{
    return r ? subscribe(b, filter, qos, rx_name, NULL, r, r) : IPM_EINVALID;
}

int ipb_local_unsubscribe(ipb_broker_t *b, const char *filter, ipb_local_cb cb, void *arg)
{
    if (!b || !filter || !cb)
        return IPM_EINVALID;
    return ipb__sub_remove(b, NULL, cb, arg, filter, strlen(filter)) ? 0 : IPM_EINVALID;
}

int ipb_local_unsubscribe_from(ipb_broker_t *b, const char *filter, ipb_local_from_cb cb,
                               void *arg)
{
    return ipb_local_unsubscribe(b, filter, cb ? name_of(cb) : NULL, arg);
}

int ipb_local_unsubscribe_receiver(ipb_broker_t *b, const char *filter,
                                   ipb_local_receiver_t *r)
{
    return r ? ipb_local_unsubscribe(b, filter, rx_name, r) : IPM_EINVALID;
}

int ipb_local_publish(ipb_broker_t *b, const char *topic, const uint8_t *payload, size_t len,
                      uint8_t qos, bool retain)
{
    ipb_msg_t *m;
    int rc = ipb__msg_local(b, topic, payload, len, qos, retain, &m);
    if (rc)
        return rc;
    ipb__publish(b, m);
    ipb__msg_unref(m);
    return 0;
}

/* ---- connections' queues of acknowledgements ------------------------------------------ */

static void unref(ackq_t *q)
{
    if (--q->refs)
        return;
    free(q->w.v);
    free(q);
}

static wait_t *entry(ackq_t *q, uint64_t idx)
{
    return ring_at(&q->w, (size_t)(idx - q->first), sizeof(wait_t));
}

/* A new entry at the back of c's queue, open; NULL without memory or with too many. */
static wait_t *push_entry(ipb_conn_t *c)
{
    ipb_conn_rare_t *rare = ipb__conn_rare(c);
    if (!rare)
        return NULL;
    ackq_t *q = rare->ackq;
    if (!q) {
        if (!(q = calloc(1, sizeof *q)))
            return NULL;
        q->c = c;
        q->refs = 1;
        rare->ackq = q;
    }
    if (q->w.n >= MAX_WAITING)
        return NULL;
    wait_t *w = ring_push(&q->w, sizeof *w);
    if (w)
        *w = (wait_t){.open = true};
    return w;
}

/* Send what is complete from the front of q. */
static void drain(ackq_t *q)
{
    q->refs++; /* a release may close the connection, which drops its reference */
    while (q->c && q->w.n) {
        wait_t w = *(wait_t *)ring_at(&q->w, 0, sizeof w);
        if (w.waits || w.open)
            break;
        ring_pop(&q->w);
        q->first++;
        q->release(q->c, w.changed, w.type, w.pid, w.reason);
    }
    unref(q);
}

void ipb__local_forget(ipb_conn_t *c)
{
    ipb_local_t *L = c->b->local;
    if (L && L->cur_c == c) {
        /* Closed while its own message is routed: the rest of the fan-out owes it no
         * acknowledgement, so its deliveries take no token. */
        L->cur_c = NULL;
        L->cur_has = false;
    }
    ackq_t *q = c->rare ? c->rare->ackq : NULL;
    if (!q)
        return;
    c->rare->ackq = NULL;
    q->c = NULL;
    q->first += q->w.n;
    q->w.n = 0;
    unref(q);
}

/* ---- delivery -------------------------------------------------------------------------- */

/* Give a token of r to the message being routed, counted against its entry. */
static uint64_t take_token(ipb_local_t *L, ipb_local_receiver_t *r)
{
    ipb_conn_t *c = L->cur_c;
    if (!L->cur_has) {
        if (!push_entry(c))
            return 0;
        L->cur_idx = c->rare->ackq->first + c->rare->ackq->w.n - 1;
        L->cur_has = true;
    }
    pend_t *p = ring_push(&r->pend, sizeof *p);
    if (!p)
        return 0;
    ackq_t *q = c->rare->ackq; /* push_entry() made it */
    entry(q, L->cur_idx)->waits++;
    q->refs++;
    *p = (pend_t){q, L->cur_idx, ++r->issued};
    return p->token;
}

static void receive(ipb_local_receiver_t *r, const ipb_msg_t *m, uint8_t qos, bool retain)
{
    ipb_local_t *L = r->L;
    ipb_local_msg_t lm = {m->user, m->topic, m->topic_len, m->payload, m->payload_len, qos,
                          retain, 0, NULL, 0, false};
    bool waits = qos && L->cur_c && L->cur_m == m && !L->closed;
    if (waits && !(lm.token = take_token(L, r))) {
        L->cur_failed = true; /* not delivered: the client sends it again */
        return;
    }
    if (waits && r->release && L->cur_pid) {
        lm.client_id = L->cur_c->s->id;
        lm.packet_id = L->cur_pid;
        lm.dup = L->cur_dup;
        L->cur_recorded = true;
    }
    if (r->cb(r->arg, &lm) && waits)
        L->cur_failed = true;
}

void ipb__route_local(const ipb_sub_t *sub, const ipb_msg_t *m, uint8_t qos, bool retain)
{
    if (sub->rx)
        receive(sub->rx, m, qos, retain);
    else if (sub->from)
        sub->from(sub->arg, m->user, m->topic, m->topic_len, m->payload, m->payload_len, qos,
                  retain);
    else
        sub->cb(sub->arg, m->topic, m->topic_len, m->payload, m->payload_len, qos, retain);
}

void ipb__local_begin(ipb_broker_t *b, ipb_conn_t *c, const ipb_msg_t *m, uint16_t pid,
                      bool dup)
{
    ipb_local_t *L = b->local;
    if (!L)
        return; /* no receiver: nothing can wait */
    L->cur_c = c;
    L->cur_m = m;
    L->cur_pid = pid;
    L->cur_dup = dup;
    L->cur_has = L->cur_failed = L->cur_recorded = false;
}

bool ipb__local_end(ipb_broker_t *b, bool *recorded)
{
    ipb_local_t *L = b->local;
    *recorded = false;
    if (!L)
        return true;
    *recorded = L->cur_recorded;
    L->cur_c = NULL;
    L->cur_m = NULL;
    return !L->cur_failed;
}

int ipb__local_pubrel(ipb_conn_t *c, uint16_t pid)
{
    ipb_local_t *L = c->b->local;
    if (!L || !L->nqos2 || L->closed)
        return 0;
    /* As a message being routed: the tokens count against one open entry, the PUBCOMP's. */
    L->cur_c = c;
    L->cur_m = NULL;
    L->cur_has = false;
    int took = 0;
    for (ipb_local_receiver_t *r = L->receivers; r; r = r->next) {
        if (!r->release)
            continue;
        uint64_t token = take_token(L, r);
        if (!token || r->release(r->arg, c->s->id, pid, token)) {
            took = -1;
            break;
        }
        took++;
    }
    L->cur_c = NULL;
    L->cur_has = false;
    return took;
}

int ipb__local_ack(ipb_conn_t *c, bool changed, uint8_t type, uint16_t pid, uint8_t reason,
                   bool barrier, ipb__local_release_fn release)
{
    ipb_local_t *L = c->b->local;
    if (!L)
        return 0;
    ackq_t *q = c->rare ? c->rare->ackq : NULL;
    wait_t *w = q && q->w.n ? ring_at(&q->w, q->w.n - 1, sizeof *w) : NULL;
    bool mine = w && w->open; /* the entry a receiver's token made for this packet */
    bool others = false;
    for (ipb_local_receiver_t *r = L->receivers; barrier && r; r = r->next)
        others |= r->issued > r->acked;
    if (!mine && !others && !(q && q->w.n))
        return 0;
    if (!mine && !(w = push_entry(c)))
        return -1;
    q = c->rare->ackq;
    uint64_t idx = q->first + q->w.n - 1;
    for (ipb_local_receiver_t *r = L->receivers; others && r; r = r->next) {
        if (r->issued <= r->acked)
            continue;
        pend_t *p = ring_push(&r->pend, sizeof *p);
        if (!p)
            return -1;
        w = entry(q, idx);
        w->waits++;
        q->refs++;
        *p = (pend_t){q, idx, r->issued};
    }
    w = entry(q, idx);
    *w = (wait_t){.waits = w->waits, .pid = pid, .type = type, .reason = reason,
                  .changed = changed};
    q->release = release;
    drain(q);
    return 1;
}

/* ---- receivers ------------------------------------------------------------------------- */

/* The acknowledgements of one receiver up to what it said. */
static void acked(ipb_local_receiver_t *r)
{
    uint64_t a = atomic_load(&r->acked_req);
    if (a <= r->acked)
        return;
    r->acked = a;
    while (r->pend.n) {
        pend_t p = *(pend_t *)ring_at(&r->pend, 0, sizeof p);
        if (p.token > a)
            break;
        ring_pop(&r->pend);
        ackq_t *q = p.q;
        if (q->c && --entry(q, p.idx)->waits == 0 && p.idx == q->first)
            drain(q);
        unref(q);
    }
}

static void on_async(uv_async_t *h)
{
    ipb_local_t *L = h->data;
    for (ipb_local_receiver_t *r = L->receivers; r; r = r->next)
        acked(r);
}

int ipb_local_receiver_new(ipb_broker_t *b, ipb_local_recv_cb cb, void *arg,
                           ipb_local_receiver_t **out)
{
    if (!b || !cb || !out || b->closing)
        return IPM_EINVALID;
    if (!b->local) {
        ipb_local_t *L = calloc(1, sizeof *L);
        if (!L)
            return IPM_ENOMEM;
        if (uv_async_init(b->loop, &L->async, on_async) < 0) {
            free(L);
            return IPM_ENOMEM;
        }
        L->async.data = L;
        b->open_handles++;
        b->local = L;
    }
    ipb_local_receiver_t *r = calloc(1, sizeof *r);
    if (!r)
        return IPM_ENOMEM;
    r->L = b->local;
    r->cb = cb;
    r->arg = arg;
    atomic_init(&r->acked_req, 0);
    r->next = b->local->receivers;
    b->local->receivers = r;
    *out = r;
    return 0;
}

int ipb__local_clean_start(ipb_broker_t *b, const char *client_id)
{
    ipb_local_t *L = b->local;
    if (!L || !L->nqos2 || L->closed)
        return 0;
    for (ipb_local_receiver_t *r = L->receivers; r; r = r->next)
        if (r->release && r->release(r->arg, client_id, 0, 0))
            return -1;
    return 0;
}

int ipb_local_receiver_qos2(ipb_local_receiver_t *r, ipb_local_release_cb release)
{
    if (!r || !release || r->release)
        return IPM_EINVALID;
    r->release = release;
    r->L->nqos2++;
    return 0;
}

void ipb_local_ack(ipb_local_receiver_t *r, uint64_t token)
{
    uint64_t cur = atomic_load(&r->acked_req);
    while (token > cur && !atomic_compare_exchange_weak(&r->acked_req, &cur, token))
        ;
    uv_async_send(&r->L->async);
}

void ipb__local_close(ipb_broker_t *b, uv_close_cb close_cb)
{
    ipb_local_t *L = b->local;
    if (!L || L->closed)
        return;
    L->closed = true;
    L->async.data = b;
    uv_close((uv_handle_t *)&L->async, close_cb);
}

void ipb__local_free(ipb_broker_t *b)
{
    ipb_local_t *L = b->local;
    if (!L)
        return;
    while (L->receivers) {
        ipb_local_receiver_t *r = L->receivers;
        L->receivers = r->next;
        for (size_t i = 0; i < r->pend.n; i++)
            unref(((pend_t *)ring_at(&r->pend, i, sizeof(pend_t)))->q);
        free(r->pend.v);
        free(r);
    }
    free(L);
    b->local = NULL;
}
