/*
 * delivery.c - acknowledged means committed: the tokens of ipp_server_handle_ack()
 * reported after each commit, and the QoS 2 packet ids recorded with the rows.
 *
 * Why the ids are needed: the feeder acknowledges a QoS 2 message (PUBREC) only after the
 * commit, so a crash can never lose one, but a crash between the commit and the PUBREC
 * reaching the broker makes the broker send the message again on the next connection.
 * The id, committed in the same transaction as the rows, recognises that copy. It is
 * forgotten on PUBREL (ipp_server_release), after which the broker may reuse it, and the
 * feeder completes the exchange (PUBCOMP) only once the forgetting is committed too, so
 * a crash in between makes the broker send the PUBREL again, never a new message under
 * an id still recorded. The table holds at most the ids in flight (65535).
 *
 * `iotplot serve` hands over the messages of many clients from a broker in the same
 * process that, without persistence, forgets its QoS 2 ids when it is killed and then
 * routes a client's resend as a new message. There the pair (client id, packet id) is
 * recorded (ipp_server_handle_qos2), and only a resend (DUP set) is taken for the
 * recorded message: one without DUP is new, and its record stands in for a stale one
 * (left by a client that started over with a clean session, say). The pair is forgotten
 * on the client's PUBREL (ipp_server_release_from), whose PUBCOMP waits for that commit.
 */
#include <stdlib.h>

#include <sqlite3.h>

#include "server_int.h"

struct ipp_qos2 {
    sqlite3_stmt *has, *add, *del, *clear;
    sqlite3_stmt *chas, *cadd, *cdel, *cclear; /* by (client, id); a client's */
};

static const char qos2_schema[] =
    "CREATE TABLE IF NOT EXISTS qos2_ids(id INTEGER PRIMARY KEY);"
    "CREATE TABLE IF NOT EXISTS qos2_clients(client TEXT NOT NULL, id INTEGER NOT NULL,"
    " PRIMARY KEY(client, id)) WITHOUT ROWID";

static void qos2_close(struct ipp_qos2 *q)
{
    if (!q)
        return;
    sqlite3_finalize(q->has);
    sqlite3_finalize(q->add);
    sqlite3_finalize(q->del);
    sqlite3_finalize(q->clear);
    sqlite3_finalize(q->chas);
    sqlite3_finalize(q->cadd);
    sqlite3_finalize(q->cdel);
    sqlite3_finalize(q->cclear);
    free(q);
}

/* Opened on the first QoS 2 message, so a store fed at QoS 0 and 1 gains no table. */
static struct ipp_qos2 *qos2_open(ipp_server_t *s)
{
    if (s->qos2)
        return s->qos2;
    sqlite3 *db = ipp__store_db(s->store);
    struct ipp_qos2 *q = calloc(1, sizeof *q);
    if (!q || sqlite3_exec(db, qos2_schema, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT 1 FROM qos2_ids WHERE id = ?", -1, &q->has, NULL) ||
        sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO qos2_ids(id) VALUES(?)", -1, &q->add,
                           NULL) ||
        sqlite3_prepare_v2(db, "DELETE FROM qos2_ids WHERE id = ?", -1, &q->del, NULL) ||
        sqlite3_prepare_v2(db, "DELETE FROM qos2_ids", -1, &q->clear, NULL) ||
        sqlite3_prepare_v2(db, "SELECT 1 FROM qos2_clients WHERE client = ?2 AND id = ?1", -1,
                           &q->chas, NULL) ||
        sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO qos2_clients(client, id) VALUES(?2, ?1)",
                           -1, &q->cadd, NULL) ||
        sqlite3_prepare_v2(db, "DELETE FROM qos2_clients WHERE client = ?2 AND id = ?1", -1,
                           &q->cdel, NULL) ||
        sqlite3_prepare_v2(db, "DELETE FROM qos2_clients WHERE client = ?2", -1, &q->cclear,
                           NULL)) {
        ipp__log(s, "store: cannot keep QoS 2 packet ids: %s", sqlite3_errmsg(db));
        qos2_close(q);
        return NULL;
    }
    s->qos2 = q;
    return q;
}

/* Run a prepared statement on id (and client, for the by-client ones): SQLITE_ROW,
 * SQLITE_DONE or an error. */
static int run(sqlite3_stmt *st, uint16_t id, const char *client)
{
    sqlite3_reset(st);
    if (id)
        sqlite3_bind_int(st, 1, id);
    if (client)
        sqlite3_bind_text(st, 2, client, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_clear_bindings(st);
    sqlite3_reset(st);
    return rc;
}

/* Whether an earlier run made the tables (then they are opened now). */
static bool qos2_exists(ipp_server_t *s)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(ipp__store_db(s->store),
                           "SELECT 1 FROM sqlite_master WHERE name = 'qos2_clients'", -1, &st,
                           NULL) != SQLITE_OK)
        return true; /* then qos2_open() says what is wrong */
    bool found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

int ipp__delivery_begin(ipp_server_t *s, const ipp_msg_t *m)
{
    if (m->token)
        s->token_applied = m->token;
    if (m->kind == IPP_MSG_REFUSED)
        return 0;
    if (!m->qos2_id && m->kind == IPP_MSG_APPLY)
        return 1;
    const char *cl = m->client;
    /* A client's clean start, before any QoS 2 message: no table to clear, none made. */
    if (m->kind == IPP_MSG_RELEASE && cl && !m->qos2_id && !s->qos2 && !qos2_exists(s))
        return 0;
    struct ipp_qos2 *q = qos2_open(s);
    if (m->kind == IPP_MSG_RELEASE) {
        sqlite3_stmt *st = !q    ? NULL
                           : cl  ? (m->qos2_id ? q->cdel : q->cclear)
                                 : (m->qos2_id ? q->del : q->clear);
        if (q && run(st, m->qos2_id, cl) != SQLITE_DONE)
            ipp__log(s, "store: cannot forget QoS 2 packet id %u: %s", m->qos2_id,
                     sqlite3_errmsg(ipp__store_db(s->store)));
        return 0;
    }
    /* By client, only a resend can be the recorded message (the comment at the top). */
    if (q && (!cl || m->dup) && run(cl ? q->chas : q->has, m->qos2_id, cl) == SQLITE_ROW) {
        pthread_mutex_lock(&s->mu);
        s->stats.repeated++;
        pthread_mutex_unlock(&s->mu);
        return 0;
    }
    /* Without the record a copy after a crash would be applied twice: say so. */
    if (!q || run(cl ? q->cadd : q->add, m->qos2_id, cl) != SQLITE_DONE)
        ipp__log(s, "store: cannot record QoS 2 packet id %u: %s", m->qos2_id,
                 sqlite3_errmsg(ipp__store_db(s->store)));
    return 1;
}

void ipp__delivery_committed(ipp_server_t *s, bool stored)
{
    if (s->token_applied == s->token_reported)
        return;
    s->token_reported = s->token_applied;
    if (s->cfg.on_commit)
        s->cfg.on_commit(s->cfg.commit_arg, s->token_reported, stored);
}

void ipp__delivery_free(ipp_server_t *s)
{
    qos2_close(s->qos2);
    s->qos2 = NULL;
}
