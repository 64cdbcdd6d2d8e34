/*
 * core.h - the broker context, struct ipb_broker: what every layer of src/broker keeps in
 * it. Only the struct and the types it embeds; each module's functions are declared in
 * that module's header (clock.h, msg.h, tree.h, retain.h, session.h, route.h, outq.h,
 * conn.h, handlers.h, listener.h, ...).
 *
 * Ownership in one paragraph: the broker owns listeners, connections, sessions, the topic
 * tree and the message store. A session outlives its connection (persistent sessions);
 * a connection points at its session while attached.
 */
#ifndef IOTPLOT_BROKER_CORE_H
#define IOTPLOT_BROKER_CORE_H

#include <stdio.h>

#include "broker.h"
#include "hist.h"
#include "listener.h"
#include "msg.h"
#include "sys.h"
#include "tree.h"

typedef struct ipb_conn ipb_conn_t;
typedef struct ipb_security ipb_security_t;

#define IPB_RBUF_SHARED 65536

struct ipb_broker {
    uv_loop_t *loop;
    ipb_config_t cfg;
    ipb_listener_t listeners[IPB_MAX_LISTENERS];
    uv_timer_t tick;
    uv_prepare_t prep;
    uv_check_t check;
    unsigned open_handles;
    void (*closed_cb)(void *arg);
    void *closed_arg;
    bool closing;
    /*
     * How wills leave a session: set by broker.c to the routing layer's ipb__publish.
     * Sessions sit below routing, so they call up through this pointer, not by name.
     */
    void (*publish)(ipb_broker_t *b, ipb_msg_t *m);
    /* How a connection whose CONNECT waited for its password hash goes on: set by
     * broker.c to dispatch.c's ipb__conn_resume, called by security.c. */
    void (*resume)(ipb_conn_t *c);
    /* GET /metrics: set by broker.c to metrics.c's ipb__metrics_text. The transports sit
     * below $SYS and the statistics, so layered.c calls up through this pointer. */
    size_t (*metrics_text)(ipb_broker_t *b, char *buf, size_t len);
    /* GET /api/...: the embedder's store reader (ipb_broker_set_api), which layered.c
     * runs on the thread pool through http/api.c; api_jobs of them are running. */
    ipb_api_fn api;
    void *api_ctx;
    unsigned api_jobs;
    ipb_metrics_fn metrics_extra; /* the embedder's lines after ours */
    void *metrics_extra_arg;

    ipb_conn_t *conns;
    uint32_t nconns;
    uint32_t closed_since_trim;
    ipb_conn_t *flush;
    /*
     * The loop turns' reading (dispatch.c): the connection being read, its bytes so far
     * this turn and what it may read; the turn's bytes so far and its number; heavy
     * connections are read every rd_k-th turn; how many heavy ones were read this turn
     * (with their bytes) and skipped.
     */
    ipb_conn_t *rd_conn;
    uint32_t rd_bytes, rd_allow, rd_turn_bytes, rd_turn, rd_k, rd_served, rd_skipped;
    uint64_t rd_served_bytes, rd_k_ms; /* rd_k_ms: loop ms when rd_k last changed */
    struct ipb_out *out_spare; /* written outq entries kept for reuse (outq.c) */
    uint32_t nout_spare;
    struct ipb_dlv *dlv_spare; /* freed deliveries kept for reuse (deliver.c) */
    uint32_t ndlv_spare;

    ipb_session_t **stab;      /* client id -> session */
    size_t nstab, nsessions;
    ipb_session_t **offline;   /* offline sessions with an expiry or a delayed will */
    size_t noffline, offline_cap;
    uint32_t next_serial;
    uint64_t next_auto_id;

    ipb_tree_t tree;
    uint32_t mgen;             /* fan-out generation, see ipb_session_t.mgen */
    void *fan_v, *fan_local;   /* fan-out scratch, reused (route.c) */
    size_t fan_cap, fan_local_cap;

    const ipb_auth_t *auth;
    void *auth_ctx;
    ipb_security_t *sec;
    bool retain_full_logged;
    uint32_t retained_by_clients; /* retained topics not under '$' (max_retained_messages) */
    const ipb_store_t *store;
    void *store_ctx;
    struct ipb_persist *persist; /* `persistence true`: the broker's own store (persist.c) */
    struct ipb_local *local;   /* acknowledging in-process receivers (local.c), or NULL */
    struct ipb_announce *announce; /* `announce true`: the mDNS services (announce.c) */
    ipb__hist_t store_commit;  /* group commits, handed to the worker until done (persist.c) */
    uint64_t store_commit_start; /* uv_hrtime() of the commit in flight */
    struct ipb_bridges *bridges; /* the `connection` blocks' bridges (bridge.c) */

    unsigned fanout_depth;
    ipb_msg_t **deferred;      /* local publishes made during a fan-out */
    size_t ndeferred, deferred_cap;
    bool draining;

    ipb_stats_t st;
    uint64_t queued_total;     /* deliveries queued or in flight, all sessions */
    uint64_t queue_memory;     /* with persistence: what queued deliveries in memory cost */
    uint64_t clients_disconnected;
    uint64_t start_ms, next_sys;
    ipb__sys_t sys;            /* load averages between $SYS ticks (sys.c) */

    FILE *log;                 /* log_dest file */
    /* log_dest topic: set by broker.c to a retained-less publish (the log is a leaf). */
    void (*log_publish)(ipb_broker_t *b, const char *topic, const char *text, size_t len);
    bool log_busy;
    bool pid_written;          /* pid_file is ours to remove */
    uint8_t rbuf[IPB_RBUF_SHARED]; /* every connection reads here first */
};

#endif
