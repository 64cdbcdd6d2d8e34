/*
 * persist_int.h - what persist.c (the batch and the group commit) and persist_db.c (the
 * SQLite file: checks, schema, replay, the statements of a commit) share.
 */
#ifndef IOTPLOT_BROKER_PERSIST_INT_H
#define IOTPLOT_BROKER_PERSIST_INT_H

#include <stdatomic.h>

#include <sqlite3.h>

#include "core.h"
#include "persist.h"

/* Operations in the batch filling behind a commit in flight past which no queue is read
 * back (the batch is memory; it drains at the disk's pace). */
#define IPB__PERSIST_BACKLOG 8192
/* "iotp" in PRAGMA application_id: a database of another program is not ours. */
#define IPB__PERSIST_APP_ID 0x696f7470
/* Statements a session's end runs beside deleting its row (more_sql). */
#define IPB__PERSIST_MORE 5
/* more_sql's: the messages only this client's deliveries need (before those go). */
#define IPB__PERSIST_MORE_MSGS 2
/* In ipb_msg_t.srefs: deliveries of it may be on disk and unknown here (parked, or read
 * back): its row goes only when no delivery row needs it (IPB__OP_MSG_GC). */
#define IPB__SREF_PIN 0x80000000u

enum {
    IPB__OP_MSG,       /* m: id, topic, payload, props, expiry */
    IPB__OP_MSG_DEL,   /* id */
    IPB__OP_DLV,       /* seq, s1 = client, id, qos, retain, state, pid, blob = subids */
    IPB__OP_DLV_STATE, /* seq, state, pid */
    IPB__OP_DLV_DEL,   /* seq */
    IPB__OP_SESSION,   /* s1 = client, s2 = user, version, num = expiry, wall */
    IPB__OP_SESSION_OFF, /* s1, wall */
    IPB__OP_SESSION_DEL, /* s1 */
    IPB__OP_SUB,       /* s1, s2 = filter, opts, num = subid */
    IPB__OP_SUB_DEL,   /* s1, s2 */
    IPB__OP_RX,        /* s1, pid */
    IPB__OP_RX_DEL,    /* s1, pid */
    IPB__OP_RETAIN,    /* m, wall */
    IPB__OP_RETAIN_DEL, /* s1 = topic */
    IPB__OP_WILL,      /* s1 = client, m, num = will delay, wall = when it goes out */
    IPB__OP_WILL_DEL,  /* s1 */
    IPB__OP_MSG_GC,    /* id: deleted if no delivery row needs it */
    IPB__OP_DLV_DROP,  /* s1 = client: its deliveries (a clean start) */
    IPB__OP_N
};

typedef struct {
    uint8_t kind, qos, retain, state, version;
    bool dead; /* undone before it was committed: nothing to write */
    uint16_t pid;
    uint32_t num;
    uint64_t id, seq;
    int64_t wall;
    ipb_msg_t *m; /* a reference, released on the loop thread after the commit */
    char *s1, *s2;
    uint32_t *blob;
    unsigned nblob;
} op_t;

typedef struct {
    ipb_session_t *s; /* NULL once forgotten */
    ipb_conn_t *c;
    uint16_t pid;
    uint8_t type, reason;
} held_t;

/* Where a delivery's or a message's insert sits in the batch (keys only grow). */
typedef struct {
    uint64_t key;
    uint32_t op;
} opref_t;

typedef struct {
    op_t *ops;
    size_t n, cap;
    held_t *held;
    size_t nheld, heldcap;
    opref_t *dlvs, *msgs; /* the inserts of this batch, by sequence and by message id */
    size_t ndlv, dlvcap, nmsg, msgcap;
    uint64_t maxseq; /* the largest delivery sequence inserted by this batch */
} batch_t;

struct ipb_persist {
    ipb_broker_t *b;
    sqlite3 *db;
    sqlite3_stmt *st[IPB__OP_N], *st_more[IPB__PERSIST_MORE];
    /* The loop thread's own reader (WAL: it reads the last commit while the worker writes
     * the next one): queued deliveries paged back in. */
    sqlite3 *rdb;
    sqlite3_stmt *st_page;
    ipb__persist_release_fn release;
    batch_t cur, run;
    uv_work_t req;
    bool busy;
    /* Batches handed to the worker and back (work_cb, after_cb): release/acquire pairs
     * a thread sanitizer can see, where libuv's own hand-off (a mutex inside libuv, an
     * eventfd) is hidden from it. The ordering itself is libuv's. */
    _Atomic uint64_t handoff;
    int run_rc;
    char run_err[160];
    uint64_t marks;
    uint64_t next_msg, next_seq;
    uint64_t settled; /* every delivery up to this sequence is committed or failed */
    ipb_session_t **waiters; /* sessions waiting for a commit to page in their queue */
    size_t nwait, waitcap;
    ipb_session_t **waking; /* the list being woken (a session freed meanwhile leaves it) */
    size_t nwaking;
    ipb__persist_wake_fn wake;
    ipb__persist_rx_lost_fn rx_lost;
    uint64_t failures;
    uint64_t last_fail_log; /* loop ms */
    bool oom_logged;
};

/* Run the batch as one transaction (the worker thread, or the loop at close). An SQLite
 * result code; err says why when it is not SQLITE_OK. */
int ipb__persist_commit(ipb_persist_t *p, const batch_t *bt, char *err, size_t errlen);
/* Finalize the statements and close the database. */
void ipb__persist_db_close(ipb_persist_t *p);

#endif
