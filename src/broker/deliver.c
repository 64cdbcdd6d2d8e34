/*
 * deliver.c - what a session delivers: its queue (in memory and, with persistence, parked
 * on disk), its outgoing QoS 1/2 window, resending after a reconnect, and the client's
 * PUBACK / PUBREC / PUBCOMP. The sessions themselves (table, life, wills) are session.c's.
 *
 * Deliveries sit below routing and the connection: they queue packets on the
 * connection's outgoing queue (outq.c).
 *
 * Drop policy, documented in one place: a message for a session whose queue already
 * holds max_queued_messages messages or max_queued_bytes payload bytes is dropped (the
 * newest is dropped, what is queued keeps its order); QoS 0 messages for an online client
 * are dropped while its socket backlog exceeds max_outgoing_bytes (a slow reader cannot
 * grow the broker); QoS 0 messages for offline sessions are dropped unless
 * queue_qos0_messages is set. Every drop counts in $SYS/broker/publish/messages/dropped.
 *
 * With persistence, the queue of a session that outlives its connection is on disk and
 * only its head is in memory: offline at most QUEUE_HEAD deliveries, and no more while the
 * queued deliveries in memory of all sessions cost more than persistence_queue_memory. What
 * does not fit is parked (written, then held nowhere in memory) and read back in order
 * by sequence as the head drains; once one delivery is parked, every later one is too,
 * until the queue is read back, so the order holds. QoS 0 messages (queue_qos0_messages)
 * are never written: they stay in memory and may go out before parked QoS 1/2 ones.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "alias.h"
#include "clock.h"
#include "conn.h"
#include "core.h"
#include "outq.h"
#include "persist.h"
#include "session.h"

/* The head of a queue kept in memory with persistence, and when it is topped up. */
#define QUEUE_HEAD 64
#define QUEUE_LOW 16
/* What a queued delivery costs in memory beside its payload and topic (the delivery, the
 * message's header and its encodings), counted against persistence_queue_memory. */
#define QUEUE_ENTRY_COST 200
/* Freed deliveries kept for the next ones: every QoS 1/2 message to an online session
 * takes one and gives it back at its PUBACK, a few loop turns later. Bounded: after a
 * burst (a queue drained), the rest is freed. */
#define DLV_SPARE_MAX 4096

static uint64_t cost(const ipb_msg_t *m)
{
    return (uint64_t)m->payload_len + m->topic_len + QUEUE_ENTRY_COST;
}

static void append_inflight(ipb_session_t *s, ipb_dlv_t *d);

static void dlv_free(ipb_broker_t *b, ipb_dlv_t *d)
{
    b->queued_total--;
    if (d->sseq && b->persist)
        ipb__persist_dlv_del(b->persist, d->sseq, d->msg);
    ipb__msg_unref(d->msg);
    free(d->subids);
    if (b->ndlv_spare >= DLV_SPARE_MAX) {
        free(d);
        return;
    }
    d->next = b->dlv_spare;
    b->dlv_spare = d;
    b->ndlv_spare++;
}

static void free_list(ipb_broker_t *b, ipb_dlv_t *d)
{
    while (d) {
        ipb_dlv_t *next = d->next;
        dlv_free(b, d);
        d = next;
    }
}

/* ---- the queue in memory, and what it counts ------------------------------------------ */

/* nqueued and queued_bytes count the whole queue: in memory and parked. */
static void count_add(ipb_session_t *s, uint64_t len)
{
    s->flow->nqueued++;
    uint64_t qb = (uint64_t)s->flow->queued_bytes + len;
    s->flow->queued_bytes = qb > UINT32_MAX ? UINT32_MAX : (uint32_t)qb;
}

static void count_sub(ipb_session_t *s, uint64_t len)
{
    s->flow->nqueued--;
    s->flow->queued_bytes -= len < s->flow->queued_bytes ? (uint32_t)len : s->flow->queued_bytes;
}

static void queue_push(ipb_broker_t *b, ipb_session_t *s, ipb_dlv_t *d)
{
    d->next = NULL;
    if (s->flow->queue_tail)
        s->flow->queue_tail->next = d;
    else
        s->flow->queue = d;
    s->flow->queue_tail = d;
    s->flow->used = true;
    if (b->persist)
        b->queue_memory += cost(d->msg);
}

static ipb_dlv_t *queue_pop(ipb_broker_t *b, ipb_session_t *s)
{
    ipb_dlv_t *d = s->flow->queue;
    s->flow->queue = d->next;
    if (!s->flow->queue)
        s->flow->queue_tail = NULL;
    if (b->persist)
        b->queue_memory -= cost(d->msg) < b->queue_memory ? cost(d->msg) : b->queue_memory;
    return d;
}

/* Every delivery of s, in flight, queued and parked, goes (a clean start, or s ends). */
void ipb__session_drop_deliveries(ipb_broker_t *b, ipb_session_t *s)
{
    if (!s->flow)
        return;
    free_list(b, s->flow->inflight);
    while (s->flow->queue)
        dlv_free(b, queue_pop(b, s));
    s->flow->inflight = s->flow->inflight_tail = NULL;
    if (s->flow->ndisk) {
        ipb__persist_dlv_drop(b->persist, s->id);
        b->queued_total -= s->flow->ndisk;
        s->flow->ndisk = 0;
    }
    s->flow->ninflight = 0;
    s->flow->nqueued = 0;
    s->flow->queued_bytes = 0;
}

void ipb__dlv_spares_free(ipb_broker_t *b)
{
    while (b->dlv_spare) {
        ipb_dlv_t *d = b->dlv_spare;
        b->dlv_spare = d->next;
        free(d);
    }
    b->ndlv_spare = 0;
}

void ipb__session_flow_trim(ipb_session_t *s, bool idle_now)
{
    ipb_flow_t *f = s->flow;
    if (!f || f->inflight || f->queue || f->ndisk || f->nrx_qos2 || f->held)
        return;
    if (f->used && !idle_now) {
        f->used = false; /* freed at the next call if nothing comes meanwhile */
        return;
    }
    free(f->rx_qos2);
    free(f);
    s->flow = NULL;
}

/* ---- sending ---------------------------------------------------------------------- */

static unsigned window(ipb_broker_t *b, ipb_conn_t *c)
{
    unsigned w = c->recv_max;
    if (b->cfg.max_inflight_messages && b->cfg.max_inflight_messages < w)
        w = b->cfg.max_inflight_messages;
    return w;
}

/* Room in the window for m: max_inflight_messages, then max_inflight_bytes (one message
 * always fits, however large). The list is walked only when that cap is set. */
static bool room(ipb_broker_t *b, ipb_session_t *s, const ipb_msg_t *m)
{
    if (s->flow->ninflight >= window(b, s->conn))
        return false;
    if (!b->cfg.max_inflight_bytes || !s->flow->ninflight)
        return true;
    uint64_t bytes = m->payload_len;
    for (ipb_dlv_t *d = s->flow->inflight; d; d = d->next)
        bytes += d->msg->payload_len;
    return bytes <= b->cfg.max_inflight_bytes;
}

static bool online(ipb_session_t *s)
{
    return s->conn && s->conn->state == IPB_CONN_ACTIVE;
}

/* Queue a PUBLISH on the connection; false if it cannot be sent to this client. */
static bool send_publish(ipb_broker_t *b, ipb_conn_t *c, ipb_msg_t *m, uint8_t qos,
                         bool retain, bool dup, uint16_t pid, const uint32_t *ids,
                         unsigned nids)
{
    uint64_t now = ipb__now(b);
    bool known = false;
    /* A mount point's clients see topics without it (their filters are under it). */
    const char *mp = b->cfg.listeners[c->listener].mount_point;
    size_t mlen = strlen(mp), skip = mlen && !strncmp(m->topic, mp, mlen) ? mlen : 0;
    /* Most clients take no aliases: no call for them on the delivery path. */
    uint16_t alias = c->alias_max && !mlen ? ipb__alias_out(c, m, &known) : 0;
    ipb_enc_t *e = alias  ? ipb__enc_publish_alias(m, qos, ids, nids, now, alias, known)
                   : skip ? ipb__enc_publish_mounted(m, c->version, qos, ids, nids, now, skip)
                          : ipb__enc_publish(m, c->version, qos, ids, nids, now);
    if (!e)
        return false;
    if (c->max_packet && e->len > c->max_packet) {
        /* MQTT-3.1.2-25: too large for this client: dropped for it alone. */
        ipb__enc_unref(e);
        b->st.pub_dropped++;
        b->st.dropped[IPB_DROP_PACKET_TOO_LARGE]++;
        return false;
    }
    if (alias && !known)
        ipb__alias_out_commit(c, m);
    uint8_t first = (uint8_t)(IPM_PUBLISH << 4 | (dup ? 0x08 : 0) | qos << 1 | (retain ? 1 : 0));
    ipb__out_queue(c, e, first, pid);
    b->st.pub_sent++;
    return true;
}

static bool pid_used(ipb_session_t *s, uint16_t pid)
{
    for (ipb_dlv_t *d = s->flow->inflight; d; d = d->next)
        if (d->pid == pid)
            return true;
    return false;
}

static uint16_t next_pid(ipb_session_t *s)
{
    for (;;) {
        uint16_t pid = s->flow->next_pid++;
        if (!s->flow->next_pid)
            s->flow->next_pid = 1;
        if (pid && !pid_used(s, pid))
            return pid;
    }
}

/* Send d, whose packet id is chosen, and add it to the inflight window. */
static void send_inflight(ipb_broker_t *b, ipb_session_t *s, ipb_dlv_t *d)
{
    d->next = NULL;
    if (!send_publish(b, s->conn, d->msg, d->qos, d->retain, false, d->pid, d->subids,
                      d->nsubids)) {
        dlv_free(b, d); /* discarded as if delivered */
        return;
    }
    if (s->flow->inflight_tail)
        s->flow->inflight_tail->next = d;
    else
        s->flow->inflight = d;
    s->flow->inflight_tail = d;
    s->flow->ninflight++;
    s->flow->used = true;
}

/* Move d from the queue into the inflight window and send it. */
static void start_inflight(ipb_broker_t *b, ipb_session_t *s, ipb_dlv_t *d)
{
    d->pid = next_pid(s);
    d->state = IPB_DLV_WAIT_ACK;
    if (d->sseq && b->persist)
        ipb__persist_dlv_state(b->persist, d->sseq, d->state, d->pid);
    send_inflight(b, s, d);
}

/* With persistence: m waits on disk only, not in the head in memory. A session online
 * keeps its whole queue in memory while the budget allows: it is being read. */
static bool must_park(ipb_broker_t *b, ipb_session_t *s, const ipb_msg_t *m)
{
    if (s->flow->ndisk || (!online(s) && s->flow->nqueued >= QUEUE_HEAD))
        return true;
    uint64_t cap = b->cfg.persistence_queue_memory;
    return cap && b->queue_memory + cost(m) > cap;
}

static bool queue_full(ipb_broker_t *b, ipb_session_t *s, const ipb_msg_t *m)
{
    if (b->cfg.max_queued_messages && s->flow->nqueued >= b->cfg.max_queued_messages)
        return true;
    return b->cfg.max_queued_bytes &&
           (uint64_t)s->flow->queued_bytes + m->payload_len > b->cfg.max_queued_bytes;
}

static bool deliver_allowed(ipb_broker_t *b, ipb_session_t *s, const ipb_msg_t *m)
{
    if (!b->auth || !b->auth->deliver || s->trusted)
        return true;
    /* The session's owner decides, online or not: queued messages are checked too. */
    ipb_auth_client_t cl = {.client_id = s->id, .username = s->username,
                            .listener = s->listener};
    if (s->conn) {
        cl.version = s->conn->version;
        cl.listener = s->conn->listener;
    }
    return b->auth->deliver(b->auth_ctx, &cl, m->topic) == 0;
}

/* A delivery of m to a session, holding its own reference; NULL without memory. */
static ipb_dlv_t *dlv_new(ipb_broker_t *b, ipb_msg_t *m, uint8_t qos, bool retain,
                          const uint32_t *subids, unsigned nsubids)
{
    ipb_dlv_t *d = b->dlv_spare;
    if (d) {
        b->dlv_spare = d->next;
        b->ndlv_spare--;
        *d = (ipb_dlv_t){0};
    } else if (!(d = calloc(1, sizeof *d))) {
        return NULL;
    }
    if (nsubids && !(d->subids = malloc(nsubids * sizeof *subids))) {
        free(d);
        return NULL;
    }
    ipb__msg_ref(m);
    b->queued_total++;
    d->msg = m;
    d->qos = qos;
    d->retain = retain;
    d->nsubids = (uint16_t)nsubids;
    if (nsubids)
        memcpy(d->subids, subids, nsubids * sizeof *subids);
    return d;
}

void ipb__session_deliver(ipb_broker_t *b, ipb_session_t *s, ipb_msg_t *m, uint8_t qos,
                          bool retain, const uint32_t *subids, unsigned nsubids)
{
    if (!deliver_allowed(b, s, m))
        return;
    bool on = online(s);
    if (qos == 0 && on) {
        if (b->cfg.max_outgoing_bytes && s->conn->out_bytes > b->cfg.max_outgoing_bytes) {
            b->st.pub_dropped++;
            b->st.dropped[IPB_DROP_OUTGOING_BYTES]++;
        } else {
            send_publish(b, s->conn, m, 0, retain, false, 0, subids, nsubids);
        }
        return;
    }
    if (qos == 0 && !b->cfg.queue_qos0_messages)
        return;
    if (!on && !s->expiry)
        return; /* a session that ends with its connection queues nothing */
    if (!ipb__session_flow(s)) {
        b->st.pub_dropped++;
        b->st.dropped[IPB_DROP_NO_MEMORY]++;
        return;
    }
    bool direct = on && !s->flow->queue && !s->flow->ndisk && room(b, s, m);
    if (!direct && queue_full(b, s, m)) {
        b->st.pub_dropped++;
        b->st.dropped[IPB_DROP_QUEUE_FULL]++;
        return;
    }
    if (!direct && b->persist && s->expiry && qos && must_park(b, s, m)) {
        uint64_t seq = ipb__persist_dlv_park(b->persist, s->id, m, qos, retain, subids,
                                             nsubids);
        if (!seq) {
            b->st.pub_dropped++;
            return;
        }
        if (!s->flow->ndisk++)
            s->flow->park.next = seq;
        s->flow->park.last = seq;
        count_add(s, m->payload_len);
        b->queued_total++;
        return;
    }
    ipb_dlv_t *d = dlv_new(b, m, qos, retain, subids, nsubids);
    if (!d) {
        b->st.pub_dropped++;
        b->st.dropped[IPB_DROP_NO_MEMORY]++;
        return;
    }
    if (direct) {
        d->pid = next_pid(s);
        d->state = IPB_DLV_WAIT_ACK;
    }
    /* What a session that outlives its connection is owed is written (QoS 0 never is). */
    if (b->persist && s->expiry && qos)
        d->sseq = ipb__persist_dlv_add(b->persist, s->id, m, qos, retain, d->state, d->pid,
                                       subids, nsubids);
    if (direct) {
        send_inflight(b, s, d);
        return;
    }
    queue_push(b, s, d);
    count_add(s, m->payload_len);
}

bool ipb__session_restore_dlv(ipb_broker_t *b, ipb_session_t *s, ipb_msg_t *m, uint8_t qos,
                              bool retain, uint8_t state, uint16_t pid, const uint32_t *subids,
                              unsigned nsubids, uint64_t sseq)
{
    if (!ipb__session_flow(s))
        return false;
    ipb_dlv_t *d = dlv_new(b, m, qos, retain, subids, nsubids);
    if (!d)
        return false;
    d->sseq = sseq;
    if (state != IPB_DLV_QUEUED && pid) {
        /* Sent before the restart: resent with DUP and its packet id on reconnect. */
        d->state = state;
        d->pid = pid;
        append_inflight(s, d);
        return true;
    }
    queue_push(b, s, d);
    count_add(s, m->payload_len);
    return true;
}

void ipb__session_restore_queue(ipb_broker_t *b, ipb_session_t *s, uint32_t n, uint64_t first,
                                uint64_t last)
{
    if (!n || !ipb__session_flow(s) || s->flow->ndisk)
        return; /* without memory the rows stay on disk, unread, as a full queue's */
    s->flow->ndisk = n;
    s->flow->park.next = first;
    s->flow->park.last = last;
    s->flow->nqueued += n;
    b->queued_total += n;
}

typedef struct {
    ipb_broker_t *b;
    ipb_session_t *s;
    uint64_t now;
    int64_t wall;
} page_t;

/* A parked delivery read back: it joins the head in memory. */
static void on_page(void *arg, const ipb__persist_row_t *r)
{
    page_t *pg = arg;
    ipb_broker_t *b = pg->b;
    ipb_session_t *s = pg->s;
    if (!s->flow->ndisk || r->seq < s->flow->park.next)
        return;
    s->flow->ndisk--;
    s->flow->park.next = r->seq + 1;
    ipb_msg_t *m = ipb__persist_msg(r, r->retain, pg->now, pg->wall);
    ipb_dlv_t *d = m ? dlv_new(b, m, r->qos, r->retain, r->subids, r->nsubids) : NULL;
    if (!d) {
        /* Stays on disk, never delivered: dropped as a full queue would drop it. */
        ipb__msg_unref(m);
        ipb__persist_dlv_del(b->persist, r->seq, NULL);
        ipb__persist_msg_gc(b->persist, r->id);
        count_sub(s, r->payload_len);
        b->queued_total--;
        b->st.pub_dropped++;
        return;
    }
    b->queued_total--; /* counted since it was parked */
    d->sseq = r->seq;
    ipb__persist_dlv_restored(m, r->id);
    ipb__msg_unref(m);
    queue_push(b, s, d);
}

/*
 * Top the head in memory up from disk: a small read of the last commit by (client, seq).
 * Parked deliveries still in a batch being committed are not there yet: s waits for that
 * commit. Those of a commit that failed never will be (their PUBLISH was refused).
 */
static void page_in(ipb_broker_t *b, ipb_session_t *s)
{
    unsigned head = s->flow->nqueued - s->flow->ndisk;
    if (!s->flow->ndisk || s->pwait || head >= QUEUE_LOW)
        return;
    unsigned want = QUEUE_HEAD - head;
    if (b->cfg.persistence_queue_memory && b->queue_memory >= b->cfg.persistence_queue_memory) {
        if (head)
            return;
        want = QUEUE_LOW; /* over the budget, a session that sends still progresses */
    }
    if (want > s->flow->ndisk)
        want = s->flow->ndisk;
    page_t pg = {b, s, ipb__now(b), ipb__wall_ms()};
    int n = ipb__persist_page(b->persist, s->id, s->flow->park.next, want, on_page, &pg);
    if (n < 0 || (unsigned)n >= want || !s->flow->ndisk)
        return;
    if (s->flow->park.last > ipb__persist_settled(b->persist)) {
        ipb__persist_wait(b->persist, s);
        return;
    }
    /* The rest is not on disk: its commit failed. */
    b->queued_total -= s->flow->ndisk;
    b->st.pub_dropped += s->flow->ndisk;
    s->flow->nqueued -= s->flow->ndisk;
    s->flow->ndisk = 0;
    s->flow->queued_bytes = 0;
    for (ipb_dlv_t *d = s->flow->queue; d; d = d->next)
        s->flow->queued_bytes += d->msg->payload_len;
}

void ipb__session_pump(ipb_broker_t *b, ipb_session_t *s)
{
    if (!s->flow)
        return; /* nothing queued */
    uint64_t now = ipb__now(b);
    for (;;) {
        if (s->expiry && b->persist && online(s) && s->flow->queue &&
            ipb__persist_backlog(b->persist)) {
            /* Each delivery sent adds to the batch behind the commit: wait for the disk. */
            ipb__persist_wait(b->persist, s);
            break;
        }
        if (s->flow->ndisk && online(s))
            page_in(b, s);
        if (!s->flow->queue || !online(s) || !room(b, s, s->flow->queue->msg))
            break;
        ipb_dlv_t *d = queue_pop(b, s);
        count_sub(s, d->msg->payload_len);
        if (ipb__msg_remaining(d->msg, now) == 0) {
            b->st.dropped[IPB_DROP_EXPIRED]++;
            dlv_free(b, d); /* expired while queued: never delivered */
        } else if (d->qos == 0) {
            send_publish(b, s->conn, d->msg, 0, d->retain, false, 0, d->subids, d->nsubids);
            dlv_free(b, d);
        } else {
            start_inflight(b, s, d);
        }
    }
}

static void send_ack(ipb_conn_t *c, uint8_t type, uint16_t pid, uint8_t reason)
{
    ipm_packet_t pkt = {.type = type};
    pkt.u.ack.packet_id = pid;
    pkt.u.ack.reason = c->version == IPM_PROTO_V5 ? reason : 0;
    ipb__out_send(c, &pkt);
}

void ipb__session_resend(ipb_broker_t *b, ipb_session_t *s)
{
    /* MQTT-4.4.0-1: in the original order, PUBLISH with DUP, PUBREL as it was. */
    if (!s->flow)
        return;
    ipb_dlv_t **pp = &s->flow->inflight;
    s->flow->inflight_tail = NULL;
    while (*pp) {
        ipb_dlv_t *d = *pp;
        bool keep = true;
        if (d->state == IPB_DLV_WAIT_COMP)
            send_ack(s->conn, IPM_PUBREL, d->pid, 0);
        else
            keep = send_publish(b, s->conn, d->msg, d->qos, d->retain, true, d->pid,
                                d->subids, d->nsubids);
        if (keep) {
            s->flow->inflight_tail = d;
            pp = &d->next;
        } else {
            *pp = d->next;
            s->flow->ninflight--;
            dlv_free(b, d);
        }
    }
}

static ipb_dlv_t *take_inflight(ipb_session_t *s, uint16_t pid, uint8_t state, uint8_t qos)
{
    if (!s->flow)
        return NULL;
    ipb_dlv_t *prev = NULL;
    for (ipb_dlv_t *d = s->flow->inflight; d; prev = d, d = d->next) {
        if (d->pid != pid)
            continue;
        if (d->state != state || d->qos != qos)
            return NULL;
        if (prev)
            prev->next = d->next;
        else
            s->flow->inflight = d->next;
        if (s->flow->inflight_tail == d)
            s->flow->inflight_tail = prev;
        s->flow->ninflight--;
        return d;
    }
    return NULL;
}

static void append_inflight(ipb_session_t *s, ipb_dlv_t *d)
{
    d->next = NULL;
    if (s->flow->inflight_tail)
        s->flow->inflight_tail->next = d;
    else
        s->flow->inflight = d;
    s->flow->inflight_tail = d;
    s->flow->ninflight++;
    s->flow->used = true;
}

void ipb__session_ack(ipb_broker_t *b, ipb_session_t *s, uint8_t type, const ipm_ack_t *a)
{
    ipb_dlv_t *d;
    switch (type) {
    case IPM_PUBACK:
        if ((d = take_inflight(s, a->packet_id, IPB_DLV_WAIT_ACK, 1)))
            dlv_free(b, d);
        break;
    case IPM_PUBREC:
        d = take_inflight(s, a->packet_id, IPB_DLV_WAIT_ACK, 2);
        if (d && a->reason >= 0x80) {
            dlv_free(b, d); /* 5.0: the receiver refused it; the flow ends here */
        } else if (d) {
            /* The message is no longer needed; only the id stays in use until PUBCOMP. */
            d->state = IPB_DLV_WAIT_COMP;
            if (d->sseq && b->persist)
                ipb__persist_dlv_state(b->persist, d->sseq, d->state, d->pid);
            append_inflight(s, d);
            send_ack(s->conn, IPM_PUBREL, a->packet_id, 0);
        } else {
            send_ack(s->conn, IPM_PUBREL, a->packet_id, IPM_RC_PACKET_IDENTIFIER_NOT_FOUND);
        }
        break;
    case IPM_PUBCOMP:
        if ((d = take_inflight(s, a->packet_id, IPB_DLV_WAIT_COMP, 2)))
            dlv_free(b, d);
        break;
    default:
        break;
    }
    ipb__session_pump(b, s);
}
