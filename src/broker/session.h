/*
 * session.h - sessions (session.c): the client-id table, each session's subscriptions
 * list, its policy (expiry, delayed wills, what a connection leaves behind when it ends),
 * and what it delivers (deliver.c): its QoS 1/2 window and offline queue.
 */
#ifndef IOTPLOT_BROKER_SESSION_H
#define IOTPLOT_BROKER_SESSION_H

#include <stdlib.h>

#include "broker.h"
#include "msg.h"
#include "tree.h"

typedef struct ipb_conn ipb_conn_t;

#define IPB_DLV_QUEUED 0     /* not sent yet */
#define IPB_DLV_WAIT_ACK 1   /* PUBLISH sent, waiting for PUBACK or PUBREC */
#define IPB_DLV_WAIT_COMP 2  /* PUBREL sent, waiting for PUBCOMP */

typedef struct ipb_dlv {
    struct ipb_dlv *next;
    ipb_msg_t *msg;
    uint32_t *subids; /* NULL if none */
    uint16_t nsubids;
    uint16_t pid;
    uint8_t qos;
    uint8_t state;
    bool retain;
    uint64_t sseq; /* its row in the persistence file; 0 = not stored */
} ipb_dlv_t;

typedef struct ipb_sub ipb_sub_t;

/* A session's parked queue: from sequence next on, the newest last (deliver.c). */
typedef struct {
    uint64_t next, last;
} ipb_parked_t;

/*
 * A SUBACK held until the commit of the subscriptions it acknowledges, with what goes
 * out after it: the retained messages of those filters (handle_subscribe.c builds and
 * sends it; the session frees what its connection leaves behind). One allocation.
 */
typedef struct ipb_held_suback {
    struct ipb_held_suback *next;
    uint16_t pid, count;
    uint32_t subid;
    ipm_bytes_t *filters; /* count, mounted; {NULL, 0} where refused */
    uint8_t *reasons;     /* count reason codes */
    uint8_t *opts;        /* count subscription options */
    bool *fresh;          /* count: the subscription is new (retain handling 1) */
} ipb_held_suback_t;

/*
 * What a session delivers and what QoS 2 it received, apart: most sessions never need
 * it (QoS 0 to a client online goes straight out), so it is allocated by the first
 * delivery that is queued or in flight, the first QoS 2 PUBLISH received or the first
 * acknowledgement held for a commit, and freed
 * (ipb__session_flow_trim) once it has stayed empty a while, or with the session.
 */
typedef struct ipb_flow {
    ipb_dlv_t *inflight, *inflight_tail; /* sent, waiting for an acknowledgement */
    ipb_dlv_t *queue, *queue_tail;       /* waiting for room in the inflight window */
    uint16_t *rx_qos2;    /* packet ids of QoS 2 received, waiting for PUBREL */
    /* With persistence, the queue past a short head in memory is on disk only ("parked",
     * counted in nqueued and queued_bytes): ndisk deliveries, their sequences in park
     * (valid while ndisk). */
    ipb_parked_t park;
    uint32_t ndisk;
    uint32_t nqueued;
    uint32_t queued_bytes; /* payload bytes queued, saturating (caps fit 31 bits) */
    uint32_t held;        /* acknowledgements to the client waiting for a commit (persist.c) */
    uint16_t ninflight;
    uint16_t nrx_qos2;    /* the array's capacity follows from it: see ipb__session_rx_add() */
    uint16_t next_pid;
    bool used;            /* something was added since the last trim found it empty */
} ipb_flow_t;

struct ipb_session {
    /* Pointers, then 32-bit, 16-bit and byte fields, so no padding comes before the id:
     * with glibc's size classes, an idle client's session with an id of up to 13 bytes
     * takes 112 bytes of heap, one of up to 29 bytes 128. */
    ipb_session_t *hnext; /* client-id hash chain */
    ipb_conn_t *conn;     /* NULL while offline */
    ipb_sub_t *subs;      /* this session's subscriptions */
    ipb_flow_t *flow;     /* NULL until the first queued or QoS 1/2 delivery, QoS 2 PUBLISH
                           * received or acknowledgement held */
    ipb_msg_t *will;      /* delayed will waiting while offline */
    ipb_held_suback_t *subacks; /* SUBACKs waiting for a commit: the newest, circular */
    char *username;       /* who owns it: ACL checks of deliveries while offline */
    uint32_t serial;      /* tells sessions apart for No Local (0 = none) */
    uint32_t expire_at;   /* while offline: ipb__secs() deadline; 0 = never */
    uint32_t will_at;     /* ipb__secs() when the delayed will goes out */
    uint32_t nsubs;
    uint32_t expiry;      /* session expiry interval, seconds */
    uint32_t mgen, midx;  /* scratch of one fan-out (see route.c) */
    uint32_t oidx;        /* 1 + slot in the broker's offline array; 0 = not there */
    uint8_t listener;     /* of its last connection: whose ACL those checks use */
    bool stored : 1;      /* it has a row in the persistence file */
    bool pwait : 1;       /* waiting for a commit to page its queue in (persist.c) */
    bool trusted : 1;     /* a bridge's local side (bridge.c): no ACL on its deliveries */
    char id[];            /* client identifier, in the same allocation */
};

ipb_session_t *ipb__session_find(ipb_broker_t *b, const char *id);
ipb_session_t *ipb__session_new(ipb_broker_t *b, const char *id);
/* Remove every trace of s (subscriptions, queues) and free it. */
void ipb__session_free(ipb_broker_t *b, ipb_session_t *s);
/* Clear queues and subscriptions (clean start on an existing session). */
void ipb__session_reset(ipb_broker_t *b, ipb_session_t *s);
/* deliver.c: every delivery of s (in flight, queued, parked) goes; and the freed
 * deliveries kept for reuse are freed (the broker closes). */
void ipb__session_drop_deliveries(ipb_broker_t *b, ipb_session_t *s);
void ipb__dlv_spares_free(ipb_broker_t *b);
/* s's flow, allocated if it has none; NULL without memory. Inline: persist.c, which
 * deliver.c calls, needs it. */
static inline ipb_flow_t *ipb__session_flow(ipb_session_t *s)
{
    if (!s->flow)
        s->flow = calloc(1, sizeof *s->flow);
    return s->flow;
}
/* Free s's flow if it holds nothing and held nothing since the last call (the broker's
 * sweep calls it for connected sessions, a few times a second), or now if idle_now. */
void ipb__session_flow_trim(ipb_session_t *s, bool idle_now);
/* Deliveries in s's queue (memory and disk) and in flight. */
static inline uint32_t ipb__session_nqueued(const ipb_session_t *s)
{
    return s->flow ? s->flow->nqueued : 0;
}
static inline uint32_t ipb__session_held(const ipb_session_t *s)
{
    return s->flow ? s->flow->held : 0;
}
static inline uint32_t ipb__session_ninflight(const ipb_session_t *s)
{
    return s->flow ? s->flow->ninflight : 0;
}
void ipb__session_set_offline(ipb_broker_t *b, ipb_session_t *s, bool offline);
/*
 * Give s a message at qos (already min(message, subscription)). Sends now if online and
 * the window allows, else queues (dropping per policy). Takes no reference from the
 * caller: it adds its own.
 */
void ipb__session_deliver(ipb_broker_t *b, ipb_session_t *s, ipb_msg_t *m, uint8_t qos,
                          bool retain, const uint32_t *subids, unsigned nsubids);
/* QoS 2 received from the client (exactly once): is pid waiting for PUBREL; remember it
 * (false: no memory); PUBREL releases it (false: it was not there). */
bool ipb__session_rx_has(const ipb_session_t *s, uint16_t pid);
bool ipb__session_rx_add(ipb_session_t *s, uint16_t pid);
bool ipb__session_rx_release(ipb_session_t *s, uint16_t pid);
/* A delivery read back from the persistence file: in flight (state, pid) or queued. */
bool ipb__session_restore_dlv(ipb_broker_t *b, ipb_session_t *s, ipb_msg_t *m, uint8_t qos,
                              bool retain, uint8_t state, uint16_t pid, const uint32_t *subids,
                              unsigned nsubids, uint64_t sseq);
/* A restored session's queue, left on disk: n deliveries, sequences first to last. Their
 * payload bytes are not counted in queued_bytes (reading them would cost seconds at
 * start): after a restart max_queued_bytes counts what was queued since. */
void ipb__session_restore_queue(ipb_broker_t *b, ipb_session_t *s, uint32_t n, uint64_t first,
                                uint64_t last);
/* Send what fits in the window from the queue (after an ack or on reconnect), paging the
 * queue in from disk as its head in memory drains. */
void ipb__session_pump(ipb_broker_t *b, ipb_session_t *s);
/* Resend everything in flight with DUP (reconnect). */
void ipb__session_resend(ipb_broker_t *b, ipb_session_t *s);
/* Handle PUBACK / PUBREC / PUBCOMP for an outgoing message. */
void ipb__session_ack(ipb_broker_t *b, ipb_session_t *s, uint8_t type, const ipm_ack_t *a);
/*
 * A new connection takes s over (MQTT-3.1.4-3): unlink the connection holding it and
 * return that one, for the caller to close. Its will goes out now if it has no delay or
 * the session is ending; otherwise the newcomer cancels it.
 */
ipb_conn_t *ipb__session_unlink(ipb_broker_t *b, ipb_session_t *s, bool ending);
/*
 * Attach c to session s of client id (s from ipb__session_find, or NULL). fresh: a clean
 * start, or another user's session: the old one ends first, its will sent. *present
 * tells whether a session was resumed. NULL when no session can be made.
 */
ipb_session_t *ipb__session_attach(ipb_broker_t *b, ipb_conn_t *c, ipb_session_t *s,
                                   const char *id, bool fresh, bool *present);
/* A SUBACK held for a commit joins s's, in order; the oldest leaves (NULL: none). */
void ipb__session_suback_push(ipb_session_t *s, ipb_held_suback_t *h);
ipb_held_suback_t *ipb__session_suback_pop(ipb_session_t *s);
/* The SUBACKs held for s go unsent (its connection left: the client subscribes again). */
void ipb__session_drop_subacks(ipb_session_t *s);
/* c ends: unlink its session; publish or keep its will; free or time the session. */
void ipb__session_detach(ipb_broker_t *b, ipb_conn_t *c);
void ipb__sessions_tick(ipb_broker_t *b, uint64_t now);
void ipb__sessions_free_all(ipb_broker_t *b);

#endif
