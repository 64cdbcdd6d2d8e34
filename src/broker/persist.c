/*
 * persist.c - the broker's store on SQLite: the batch of operations, the group commit on
 * a worker thread, and the acknowledgements held for it (the file itself: persist_db.c).
 *
 * Why a batch and not a transaction per change: a commit costs one WAL append (and with
 * persistence_sync full one fsync) whatever it holds, so a loop turn's messages share it.
 * The loop thread only appends operations (copies, or references to immutable message
 * bytes); the worker thread alone touches SQLite while a commit is in flight, and the
 * loop thread touches it only when none is (open, replay, close).
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "persist_int.h"
#include "session.h"

int64_t ipb__wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

ipb_msg_t *ipb__persist_msg(const ipb__persist_row_t *r, bool retain, uint64_t now,
                            int64_t wall)
{
    ipm_props_t props = {.raw = {r->props, (uint32_t)r->props_len}};
    ipb_msg_t *m = ipb__msg_new(r->str, strlen(r->str), r->payload, r->payload_len, r->qos,
                                retain, r->props_len ? &props : NULL, now);
    if (m && r->expire_wall)
        m->expire_at = r->expire_wall > wall ? now + (uint64_t)(r->expire_wall - wall)
                                             : (now ? now : 1); /* already expired */
    return m;
}

/* ---- recording operations ------------------------------------------------------------- */

static void oom(ipb_persist_t *p)
{
    if (!p->oom_logged)
        ipb__log(p->b, IPB_LOG_ERR, "Error: out of memory recording a change for the "
                 "persistence file; it is not stored.");
    p->oom_logged = true;
}

static op_t *op_new(ipb_persist_t *p, uint8_t kind)
{
    batch_t *bt = &p->cur;
    if (bt->n == bt->cap) {
        size_t nc = bt->cap ? bt->cap * 2 : 256;
        op_t *n = realloc(bt->ops, nc * sizeof *n);
        if (!n) {
            oom(p);
            return NULL;
        }
        bt->ops = n;
        bt->cap = nc;
    }
    op_t *o = &bt->ops[bt->n++];
    memset(o, 0, sizeof *o);
    o->kind = kind;
    p->marks++;
    return o;
}

/* An operation with one or two copied strings; NULL (nothing recorded) without memory. */
static op_t *op_str(ipb_persist_t *p, uint8_t kind, const char *s1, const char *s2)
{
    op_t *o = op_new(p, kind);
    if (!o)
        return NULL;
    o->s1 = s1 ? strdup(s1) : NULL;
    o->s2 = s2 ? strdup(s2) : NULL;
    if ((s1 && !o->s1) || (s2 && !o->s2)) {
        free(o->s1);
        free(o->s2);
        p->cur.n--;
        oom(p);
        return NULL;
    }
    return o;
}

/*
 * A delivery inserted and finished (a subscriber online acknowledges within a turn or
 * two) is never written: its insert is found in the batch still filling and undone.
 */
static void note(ipb_persist_t *p, opref_t **v, size_t *n, size_t *cap, uint64_t key)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        opref_t *nv = realloc(*v, nc * sizeof *nv);
        if (!nv)
            return; /* not undoable, still correct */
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = (opref_t){key, (uint32_t)(p->cur.n - 1)};
}

static op_t *pending_insert(ipb_persist_t *p, const opref_t *v, size_t n, uint64_t key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == n || v[lo].key != key)
        return NULL;
    op_t *o = &p->cur.ops[v[lo].op];
    return o->dead ? NULL : o;
}

/* Where the loop's expiry deadline falls on the wall clock (0 = never). */
static int64_t wall_of(ipb_persist_t *p, const ipb_msg_t *m, uint64_t now)
{
    (void)p;
    if (!m->expire_at)
        return 0;
    int64_t left = m->expire_at > now ? (int64_t)(m->expire_at - now) : 0;
    return ipb__wall_ms() + left;
}

static uint64_t dlv_insert(ipb_persist_t *p, const char *client, ipb_msg_t *m, uint8_t qos,
                           bool retain, uint8_t state, uint16_t pid, const uint32_t *subids,
                           unsigned nsubids)
{
    if (!m->sid) {
        op_t *o = op_new(p, IPB__OP_MSG);
        if (!o)
            return 0;
        o->id = m->sid = p->next_msg++;
        o->wall = wall_of(p, m, ipb__now(p->b));
        ipb__msg_ref(m);
        o->m = m;
        note(p, &p->cur.msgs, &p->cur.nmsg, &p->cur.msgcap, o->id);
    }
    op_t *o = op_str(p, IPB__OP_DLV, client, NULL);
    if (!o)
        return 0;
    if (nsubids && (o->blob = malloc(nsubids * sizeof *subids)))
        memcpy(o->blob, subids, nsubids * sizeof *subids);
    o->nblob = o->blob ? nsubids : 0;
    o->seq = p->next_seq++;
    o->id = m->sid;
    o->qos = qos;
    o->retain = retain;
    o->state = state;
    o->pid = pid;
    p->cur.maxseq = o->seq;
    note(p, &p->cur.dlvs, &p->cur.ndlv, &p->cur.dlvcap, o->seq);
    return o->seq;
}

uint64_t ipb__persist_dlv_add(ipb_persist_t *p, const char *client, ipb_msg_t *m, uint8_t qos,
                              bool retain, uint8_t state, uint16_t pid, const uint32_t *subids,
                              unsigned nsubids)
{
    uint64_t seq = dlv_insert(p, client, m, qos, retain, state, pid, subids, nsubids);
    if (seq)
        m->srefs++;
    return seq;
}

/*
 * A parked delivery is not counted in m->srefs (nothing in memory will finish it); m is
 * pinned instead, so that neither its insert is undone nor its row deleted by the count
 * of the deliveries in memory alone.
 */
uint64_t ipb__persist_dlv_park(ipb_persist_t *p, const char *client, ipb_msg_t *m,
                               uint8_t qos, bool retain, const uint32_t *subids,
                               unsigned nsubids)
{
    uint64_t seq = dlv_insert(p, client, m, qos, retain, IPB_DLV_QUEUED, 0, subids, nsubids);
    if (seq)
        m->srefs |= IPB__SREF_PIN;
    return seq;
}

void ipb__persist_dlv_drop(ipb_persist_t *p, const char *client)
{
    op_str(p, IPB__OP_DLV_DROP, client, NULL);
}

void ipb__persist_msg_gc(ipb_persist_t *p, uint64_t msg_id)
{
    op_t *o = op_new(p, IPB__OP_MSG_GC);
    if (o)
        o->id = msg_id;
}

void ipb__persist_dlv_restored(ipb_msg_t *m, uint64_t msg_id)
{
    m->sid = msg_id;
    m->srefs = (m->srefs + 1) | IPB__SREF_PIN;
}

void ipb__persist_dlv_state(ipb_persist_t *p, uint64_t seq, uint8_t state, uint16_t pid)
{
    op_t *o = pending_insert(p, p->cur.dlvs, p->cur.ndlv, seq);
    if (o) {
        o->state = state;
        o->pid = pid;
        return;
    }
    o = op_new(p, IPB__OP_DLV_STATE);
    if (o) {
        o->seq = seq;
        o->state = state;
        o->pid = pid;
    }
}

void ipb__persist_dlv_del(ipb_persist_t *p, uint64_t seq, ipb_msg_t *m)
{
    op_t *o = pending_insert(p, p->cur.dlvs, p->cur.ndlv, seq);
    if (o)
        o->dead = true;
    else if ((o = op_new(p, IPB__OP_DLV_DEL)))
        o->seq = seq;
    if (!m || !(m->srefs & ~IPB__SREF_PIN) || (--m->srefs & ~IPB__SREF_PIN) || !m->sid)
        return;
    if (m->srefs & IPB__SREF_PIN) {
        /* Parked or read-back deliveries of it may still need its row. */
        if ((o = op_new(p, IPB__OP_MSG_GC)))
            o->id = m->sid;
    } else if ((o = pending_insert(p, p->cur.msgs, p->cur.nmsg, m->sid))) {
        o->dead = true;
    } else if ((o = op_new(p, IPB__OP_MSG_DEL))) {
        o->id = m->sid;
    }
    m->srefs = 0;
    m->sid = 0;
}

void ipb__persist_session(ipb_persist_t *p, const char *client, const char *user,
                          uint8_t version, uint32_t expiry, int64_t expire_wall)
{
    op_t *o = op_str(p, IPB__OP_SESSION, client, user);
    if (o) {
        o->version = version;
        o->num = expiry;
        o->wall = expire_wall;
    }
}

void ipb__persist_session_offline(ipb_persist_t *p, const char *client, int64_t expire_wall)
{
    op_t *o = op_str(p, IPB__OP_SESSION_OFF, client, NULL);
    if (o)
        o->wall = expire_wall;
}

void ipb__persist_session_del(ipb_persist_t *p, const char *client)
{
    op_str(p, IPB__OP_SESSION_DEL, client, NULL);
}

void ipb__persist_sub(ipb_persist_t *p, const char *client, const char *filter, uint8_t opts,
                      uint32_t subid)
{
    op_t *o = op_str(p, IPB__OP_SUB, client, filter);
    if (o) {
        o->state = opts;
        o->num = subid;
    }
}

void ipb__persist_sub_del(ipb_persist_t *p, const char *client, const char *filter)
{
    op_str(p, IPB__OP_SUB_DEL, client, filter);
}

void ipb__persist_rx(ipb_persist_t *p, const char *client, uint16_t pid, bool add)
{
    op_t *o = op_str(p, add ? IPB__OP_RX : IPB__OP_RX_DEL, client, NULL);
    if (o)
        o->pid = pid;
}

void ipb__persist_retain(ipb_persist_t *p, ipb_msg_t *m, uint64_t now)
{
    if (!m->payload_len) {
        op_str(p, IPB__OP_RETAIN_DEL, m->topic, NULL);
        return;
    }
    op_t *o = op_new(p, IPB__OP_RETAIN);
    if (o) {
        ipb__msg_ref(m);
        o->m = m;
        o->wall = wall_of(p, m, now);
    }
}

void ipb__persist_will(ipb_persist_t *p, const char *client, ipb_msg_t *will, int64_t due_wall)
{
    op_t *o = op_str(p, will ? IPB__OP_WILL : IPB__OP_WILL_DEL, client, NULL);
    if (o && will) {
        ipb__msg_ref(will);
        o->m = will;
        o->num = will->will_delay;
        o->wall = due_wall;
    }
}

/* ---- the commit (worker thread) ------------------------------------------------------ */

static void work_cb(uv_work_t *req)
{
    /* From the request's address, not req->data: that field is the loop's, read before
     * the hand-off below could order it. */
    ipb_persist_t *p = (ipb_persist_t *)((char *)req - offsetof(ipb_persist_t, req));
    uint64_t n = atomic_load_explicit(&p->handoff, memory_order_acquire);
    p->run_rc = ipb__persist_commit(p, &p->run, p->run_err, sizeof p->run_err);
    atomic_store_explicit(&p->handoff, n + 1, memory_order_release);
}

/* ---- after a commit (loop thread) ------------------------------------------------------- */

static void batch_clear(batch_t *bt)
{
    for (size_t i = 0; i < bt->n; i++) {
        op_t *o = &bt->ops[i];
        ipb__msg_unref(o->m);
        free(o->s1);
        free(o->s2);
        free(o->blob);
    }
    bt->n = 0;
    bt->nheld = 0;
    bt->ndlv = bt->nmsg = 0;
    bt->maxseq = 0;
}

static void release_all(ipb_persist_t *p, batch_t *bt, bool stored)
{
    for (size_t i = 0; i < bt->nheld; i++) {
        held_t *h = &bt->held[i];
        if (!h->s)
            continue; /* its connection went away: the client resends */
        h->s->flow->held--; /* a session holding acknowledgements keeps its flow */
        p->release(p->b, h->c, h->type, h->pid, h->reason, stored);
    }
}

static void failed(ipb_persist_t *p, int rc, const char *why)
{
    p->failures++;
    p->b->st.store_failures++;
    uint64_t now = ipb__now(p->b);
    /* Once a minute at most: a full disk fails every commit until space returns. */
    if (!p->last_fail_log || now - p->last_fail_log >= 60000) {
        p->last_fail_log = now;
        ipb__log(p->b, IPB_LOG_ERR, "Error: writing the persistence file failed (%s, %s); "
                 "the messages of that commit were refused (%llu failed commits so far).",
                 sqlite3_errstr(rc), why, (unsigned long long)p->failures);
    }
}

static void start(ipb_persist_t *p);

/* The sessions that waited for this commit page in what it made readable. */
static void wake_all(ipb_persist_t *p)
{
    ipb_session_t **w = p->waiters;
    size_t n = p->nwait, cap = p->waitcap;
    /* A woken session may wait again, for the next commit: a fresh list for that. */
    p->waiters = NULL;
    p->nwait = p->waitcap = 0;
    p->waking = w;
    p->nwaking = n;
    for (size_t i = 0; i < n; i++) {
        ipb_session_t *s = w[i];
        if (!s)
            continue; /* forgotten */
        w[i] = NULL;
        s->pwait = false;
        if (p->wake)
            p->wake(p->b, s);
    }
    p->waking = NULL;
    p->nwaking = 0;
    if (!p->waiters) {
        p->waiters = w;
        p->waitcap = cap;
    } else {
        free(w);
    }
}

static void after_cb(uv_work_t *req, int status)
{
    ipb_persist_t *p = req->data;
    (void)atomic_load_explicit(&p->handoff, memory_order_acquire);
    p->busy = false;
    ipb__hist_observe(&p->b->store_commit, uv_hrtime() - p->b->store_commit_start);
    bool ok = status == 0 && p->run_rc == SQLITE_OK;
    if (!ok)
        failed(p, p->run_rc, p->run_err);
    release_all(p, &p->run, ok);
    for (size_t i = 0; !ok && p->rx_lost && i < p->run.n; i++)
        if (p->run.ops[i].kind == IPB__OP_RX)
            p->rx_lost(p->b, p->run.ops[i].s1, p->run.ops[i].pid);
    if (p->run.maxseq > p->settled)
        p->settled = p->run.maxseq;
    batch_clear(&p->run);
    wake_all(p);
    /* What accumulated meanwhile goes at once: its acknowledgements are waiting. */
    start(p);
}

static void start(ipb_persist_t *p)
{
    if (p->busy || (!p->cur.n && !p->cur.nheld))
        return;
    if (!p->cur.n) {
        /* Held only to keep their order behind a commit that has completed. */
        release_all(p, &p->cur, true);
        p->cur.nheld = 0;
        return;
    }
    batch_t t = p->run;
    p->run = p->cur;
    p->cur = t;
    p->busy = true;
    p->req.data = p;
    p->b->store_commit_start = uv_hrtime(); /* GET /metrics: how long commits take */
    atomic_fetch_add_explicit(&p->handoff, 1, memory_order_release);
    if (uv_queue_work(p->b->loop, &p->req, work_cb, after_cb) < 0) {
        p->run_rc = ipb__persist_commit(p, &p->run, p->run_err, sizeof p->run_err);
        after_cb(&p->req, 0);
    }
}

void ipb__persist_turn(ipb_persist_t *p)
{
    start(p);
}

bool ipb__persist_pending(const ipb_persist_t *p)
{
    return p->busy || p->cur.n;
}

bool ipb__persist_busy(const ipb_persist_t *p)
{
    return p->busy;
}

uint64_t ipb__persist_mark(const ipb_persist_t *p)
{
    return p->marks;
}

uint64_t ipb__persist_failures(const ipb_persist_t *p)
{
    return p->failures;
}

bool ipb__persist_hold(ipb_persist_t *p, ipb_session_t *s, ipb_conn_t *c, uint8_t type,
                       uint16_t pid, uint8_t reason)
{
    batch_t *bt = &p->cur;
    if (!ipb__session_flow(s))
        return false;
    if (bt->nheld == bt->heldcap) {
        size_t nc = bt->heldcap ? bt->heldcap * 2 : 64;
        held_t *n = realloc(bt->held, nc * sizeof *n);
        if (!n)
            return false;
        bt->held = n;
        bt->heldcap = nc;
    }
    bt->held[bt->nheld++] = (held_t){s, c, pid, type, reason};
    s->flow->held++;
    return true;
}

bool ipb__persist_backlog(const ipb_persist_t *p)
{
    return p->busy && p->cur.n >= IPB__PERSIST_BACKLOG;
}

uint64_t ipb__persist_settled(const ipb_persist_t *p)
{
    return p->settled;
}

void ipb__persist_set_wake(ipb_persist_t *p, ipb__persist_wake_fn wake)
{
    p->wake = wake;
}

void ipb__persist_set_rx_lost(ipb_persist_t *p, ipb__persist_rx_lost_fn fn)
{
    p->rx_lost = fn;
}

void ipb__persist_wait(ipb_persist_t *p, ipb_session_t *s)
{
    if (s->pwait)
        return;
    if (p->nwait == p->waitcap) {
        size_t nc = p->waitcap ? p->waitcap * 2 : 16;
        ipb_session_t **n = realloc(p->waiters, nc * sizeof *n);
        if (!n)
            return; /* it tries again at its next acknowledgement or reconnection */
        p->waiters = n;
        p->waitcap = nc;
    }
    p->waiters[p->nwait++] = s;
    s->pwait = true;
}

void ipb__persist_forget(ipb_persist_t *p, ipb_session_t *s)
{
    for (size_t i = 0; i < p->nwaking; i++)
        if (p->waking[i] == s)
            p->waking[i] = NULL;
    for (size_t i = 0; i < p->nwait && s->pwait; i++)
        if (p->waiters[i] == s) {
            p->waiters[i] = NULL;
            s->pwait = false;
        }
    batch_t *bts[2] = {&p->cur, &p->run};
    for (int k = 0; k < 2 && ipb__session_held(s); k++)
        for (size_t i = 0; i < bts[k]->nheld; i++)
            if (bts[k]->held[i].s == s) {
                bts[k]->held[i].s = NULL;
                s->flow->held--;
            }
}

void ipb__persist_close(ipb_persist_t *p)
{
    if (!p)
        return;
    /* The caller waited for the commit in flight; what is left is written here. */
    if (p->cur.n) {
        char err[160];
        int rc = ipb__persist_commit(p, &p->cur, err, sizeof err);
        if (rc != SQLITE_OK)
            failed(p, rc, err);
    }
    batch_clear(&p->cur);
    batch_clear(&p->run);
    batch_t *bts[2] = {&p->cur, &p->run};
    for (int i = 0; i < 2; i++) {
        free(bts[i]->ops);
        free(bts[i]->held);
        free(bts[i]->dlvs);
        free(bts[i]->msgs);
    }
    free(p->waiters);
    ipb__persist_db_close(p);
    free(p);
}
