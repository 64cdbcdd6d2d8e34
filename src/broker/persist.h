/*
 * persist.h - the broker's own store (persist.c): one SQLite database in WAL mode, written
 * by group commit. Everything that must outlive the process is recorded as an operation
 * in the current batch; once per loop turn the batch is committed as one transaction on
 * a worker thread (at most one commit in flight, the next batch filling meanwhile), and
 * the acknowledgements held for it are released when it is durable.
 *
 * This module calls nothing of the broker above it: sessions, retained messages and the
 * PUBLISH handler call in; acknowledgements go back up through `release`.
 */
#ifndef IOTPLOT_BROKER_PERSIST_H
#define IOTPLOT_BROKER_PERSIST_H

#include <stdbool.h>
#include <stdint.h>

#include "msg.h"

typedef struct ipb_persist ipb_persist_t;
typedef struct ipb_session ipb_session_t;
typedef struct ipb_conn ipb_conn_t;

/* The schema this build writes; a newer one on disk is refused, never rewritten. */
#define IPB_PERSIST_SCHEMA 1

/*
 * A held acknowledgement goes out: stored says whether its batch was committed (if not,
 * the caller refuses the PUBLISH: 5.0 0x97, 3.x a disconnect).
 */
/* A session that waited for a commit to page its queue in can try again. */
typedef void (*ipb__persist_wake_fn)(ipb_broker_t *b, ipb_session_t *s);

typedef void (*ipb__persist_release_fn)(ipb_broker_t *b, ipb_conn_t *c, uint8_t type,
                                        uint16_t pid, uint8_t reason, bool stored);
/* A QoS 2 id received whose commit failed: its PUBLISH was never acknowledged, so the
 * session forgets it (also when the acknowledgement had no connection left to go to). */
typedef void (*ipb__persist_rx_lost_fn)(ipb_broker_t *b, const char *client, uint16_t pid);

/*
 * Open (or create) the database at path. A file that is not a database, fails SQLite's
 * quick check, or belongs to another program is moved aside to path.broken-<UTC time> (one
 * log line says where) and an empty store is made. Returns 0, or -1 with err set: a
 * schema newer than IPB_PERSIST_SCHEMA, or a file that cannot be created.
 */
int ipb__persist_open(ipb_broker_t *b, const char *path, bool full_sync,
                      ipb__persist_release_fn release, ipb_persist_t **out, char *err,
                      size_t errlen);
/* Commit what is pending (synchronously, on the calling thread) and close. */
void ipb__persist_close(ipb_persist_t *p);

/* ---- reading it back at start --------------------------------------------------------- */

typedef struct {
    const char *client; /* sessions, subs, rx, dlvs */
    const char *str;    /* username, filter, topic */
    const uint8_t *payload, *props;
    size_t payload_len, props_len;
    int64_t expire_wall; /* wall-clock ms; 0 = none (session: was online) */
    uint64_t id, seq;    /* message id, delivery sequence */
    uint32_t num;        /* session expiry, subscription identifier */
    uint16_t pid;
    uint8_t qos, retain, state, version, opts;
    const uint32_t *subids; /* deliveries */
    unsigned nsubids;
} ipb__persist_row_t;

typedef struct {
    void (*session)(void *arg, const ipb__persist_row_t *r);
    void (*sub)(void *arg, const ipb__persist_row_t *r);
    void (*rx)(void *arg, const ipb__persist_row_t *r);
    /* A delayed will (num = its delay, expire_wall = when it goes out). */
    void (*will)(void *arg, const ipb__persist_row_t *r);
    void (*retained)(void *arg, const ipb__persist_row_t *r);
    /* A queued or in-flight delivery with its message (id, topic, payload, props), in
     * sequence order. */
    void (*dlv)(void *arg, const ipb__persist_row_t *r);
    /* A client's queued deliveries, left on disk: num of them, seq the first, id the last
     * (after its in-flight ones went through dlv). */
    void (*queue)(void *arg, const ipb__persist_row_t *r);
} ipb__persist_load_t;

/* Replay the database through fn (before anything is written). 0, or -1 with err set. */
int ipb__persist_load(ipb_persist_t *p, const ipb__persist_load_t *fn, void *arg, char *err,
                      size_t errlen);
/* A message read back (a delivery's or a retained one), its expiry from the wall clock at
 * wall on the loop's clock at now. NULL without memory. */
ipb_msg_t *ipb__persist_msg(const ipb__persist_row_t *r, bool retain, uint64_t now,
                            int64_t wall);

/* ---- offline queues on disk ------------------------------------------------------------- */

/*
 * Read up to max queued deliveries of client from sequence from on, in order, through fn
 * (on the loop thread, from the last commit: a small indexed read). The number read, or
 * -1 on a read error.
 */
int ipb__persist_page(ipb_persist_t *p, const char *client, uint64_t from, unsigned max,
                      void (*fn)(void *arg, const ipb__persist_row_t *r), void *arg);
/* The batch behind the commit in flight is long: reading queues back waits (each message
 * read back and delivered adds operations; the disk sets the pace, not memory). */
bool ipb__persist_backlog(const ipb_persist_t *p);
/* Every delivery up to this sequence is committed (or its commit failed: it is not). */
uint64_t ipb__persist_settled(const ipb_persist_t *p);
/* s waits for the commit in progress (its newest parked deliveries are in it); wake is
 * called for it once that is done, unless forgotten first. */
void ipb__persist_wait(ipb_persist_t *p, ipb_session_t *s);
void ipb__persist_set_wake(ipb_persist_t *p, ipb__persist_wake_fn wake);
void ipb__persist_set_rx_lost(ipb_persist_t *p, ipb__persist_rx_lost_fn fn);

/* After a replay: the message ids and sequences continue from the largest seen. */
void ipb__persist_seen(ipb_persist_t *p, uint64_t msg_id, uint64_t seq);

/* ---- changes (loop thread), each one operation of the current batch --------------------- */

/*
 * A QoS 1/2 delivery to a session that outlives its connection; the message is written
 * once however many sessions it is queued for. Returns its sequence (0: out of memory,
 * not stored).
 */
uint64_t ipb__persist_dlv_add(ipb_persist_t *p, const char *client, ipb_msg_t *m, uint8_t qos,
                              bool retain, uint8_t state, uint16_t pid, const uint32_t *subids,
                              unsigned nsubids);
void ipb__persist_dlv_state(ipb_persist_t *p, uint64_t seq, uint8_t state, uint16_t pid);
/* A queued delivery kept on disk only ("parked"): written like one of dlv_add, with
 * nothing of it in memory once its batch is committed. Its sequence, or 0. */
uint64_t ipb__persist_dlv_park(ipb_persist_t *p, const char *client, ipb_msg_t *m,
                               uint8_t qos, bool retain, const uint32_t *subids,
                               unsigned nsubids);
/* Every delivery of client goes (a clean start), with the messages only they needed. */
void ipb__persist_dlv_drop(ipb_persist_t *p, const char *client);
/* The delivery is done; the message goes too when no stored delivery needs it (m NULL:
 * a row the replay dropped). */
void ipb__persist_dlv_del(ipb_persist_t *p, uint64_t seq, ipb_msg_t *m);
/* The message's row goes if no delivery row needs it (one the replay dropped). */
void ipb__persist_msg_gc(ipb_persist_t *p, uint64_t msg_id);
/* A restored delivery counts for its message like a new one (other deliveries of it may
 * be on disk: its row goes only when none needs it). */
void ipb__persist_dlv_restored(ipb_msg_t *m, uint64_t msg_id);

/* Session rows: expire_wall is the wall-clock ms it expires at while offline, 0 online. */
void ipb__persist_session(ipb_persist_t *p, const char *client, const char *user,
                          uint8_t version, uint32_t expiry, int64_t expire_wall);
void ipb__persist_session_offline(ipb_persist_t *p, const char *client, int64_t expire_wall);
void ipb__persist_session_del(ipb_persist_t *p, const char *client);
void ipb__persist_sub(ipb_persist_t *p, const char *client, const char *filter, uint8_t opts,
                      uint32_t subid);
void ipb__persist_sub_del(ipb_persist_t *p, const char *client, const char *filter);
/* A QoS 2 packet id received and waiting for PUBREL (add), or released. */
void ipb__persist_rx(ipb_persist_t *p, const char *client, uint16_t pid, bool add);
/* A session's delayed will, due at due_wall (wall-clock ms); NULL: it went out or was
 * cancelled. */
void ipb__persist_will(ipb_persist_t *p, const char *client, ipb_msg_t *will, int64_t due_wall);
/* Retained message set (payload) or cleared (none), with its properties and expiry. */
void ipb__persist_retain(ipb_persist_t *p, ipb_msg_t *m, uint64_t now);

/* ---- group commit ------------------------------------------------------------------- */

/* Operations recorded so far: a PUBLISH that changed it must wait for the commit. */
uint64_t ipb__persist_mark(const ipb_persist_t *p);
/* Hold an acknowledgement for c (of session s) until the current batch is committed.
 * false: out of memory (the caller disconnects). */
bool ipb__persist_hold(ipb_persist_t *p, ipb_session_t *s, ipb_conn_t *c, uint8_t type,
                       uint16_t pid, uint8_t reason);
/* s is leaving its connection (or ending): its held acknowledgements are dropped, and it
 * waits for no commit. */
void ipb__persist_forget(ipb_persist_t *p, ipb_session_t *s);
/* Once per loop turn: start committing the batch if none is in flight. */
void ipb__persist_turn(ipb_persist_t *p);
/* Something is not committed yet: a batch is filling or a commit is in flight. */
bool ipb__persist_pending(const ipb_persist_t *p);
/* A commit is in flight (close waits for it). */
bool ipb__persist_busy(const ipb_persist_t *p);
/* Commits that failed ($SYS). */
uint64_t ipb__persist_failures(const ipb_persist_t *p);

/* Wall-clock milliseconds (deadlines on disk survive restarts; loop time does not). */
int64_t ipb__wall_ms(void);

#endif
