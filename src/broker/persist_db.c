/*
 * persist_db.c - the persistence file itself: the schema and its version, the checks at
 * open (a damaged, truncated or foreign file is moved aside, a newer one refused), the
 * replay at start, and the statements one commit runs. persist.c decides what to write
 * and when; this file knows SQL.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "persist_int.h"
#include "session.h"

static const char *const schema[] = {
    "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS msgs(id INTEGER PRIMARY KEY, topic TEXT NOT NULL, payload "
    "BLOB, qos INTEGER, retain INTEGER, props BLOB, expire INTEGER)",
    "CREATE TABLE IF NOT EXISTS dlvs(seq INTEGER PRIMARY KEY, client TEXT NOT NULL, msg "
    "INTEGER NOT NULL, qos INTEGER, retain INTEGER, state INTEGER, pid INTEGER, subids BLOB)",
    "CREATE TABLE IF NOT EXISTS sessions(id TEXT PRIMARY KEY, user TEXT, version INTEGER, "
    "expiry INTEGER, expire INTEGER)",
    "CREATE TABLE IF NOT EXISTS subs(client TEXT, filter TEXT, opts INTEGER, subid INTEGER, "
    "PRIMARY KEY(client, filter))",
    "CREATE TABLE IF NOT EXISTS rx(client TEXT, pid INTEGER, PRIMARY KEY(client, pid))",
    "CREATE TABLE IF NOT EXISTS retained(topic TEXT PRIMARY KEY, payload BLOB, qos INTEGER, "
    "props BLOB, expire INTEGER)",
    "CREATE TABLE IF NOT EXISTS wills(client TEXT PRIMARY KEY, topic TEXT, payload BLOB, qos "
    "INTEGER, retain INTEGER, props BLOB, delay INTEGER, due INTEGER)",
    /* A queue is paged in by (client, seq); a message's row goes when no delivery has it.
     * Files of the first schema gain them at open: older brokers keep them up to date. */
    "CREATE INDEX IF NOT EXISTS dlvs_client ON dlvs(client, seq)",
    "CREATE INDEX IF NOT EXISTS dlvs_msg ON dlvs(msg)",
};

/* One statement per operation kind (a session's end takes IPB__PERSIST_MORE more). */
static const char *const op_sql[IPB__OP_N] = {
    [IPB__OP_MSG] = "INSERT OR REPLACE INTO msgs VALUES(?1,?2,?3,?4,?5,?6,?7)",
    [IPB__OP_MSG_DEL] = "DELETE FROM msgs WHERE id=?1",
    [IPB__OP_DLV] = "INSERT OR REPLACE INTO dlvs VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
    [IPB__OP_DLV_STATE] = "UPDATE dlvs SET state=?2, pid=?3 WHERE seq=?1",
    [IPB__OP_DLV_DEL] = "DELETE FROM dlvs WHERE seq=?1",
    [IPB__OP_SESSION] = "INSERT OR REPLACE INTO sessions VALUES(?1,?2,?3,?4,?5)",
    [IPB__OP_SESSION_OFF] = "UPDATE sessions SET expire=?2 WHERE id=?1",
    [IPB__OP_SESSION_DEL] = "DELETE FROM sessions WHERE id=?1",
    [IPB__OP_SUB] = "INSERT OR REPLACE INTO subs VALUES(?1,?2,?3,?4)",
    [IPB__OP_SUB_DEL] = "DELETE FROM subs WHERE client=?1 AND filter=?2",
    [IPB__OP_RX] = "INSERT OR IGNORE INTO rx VALUES(?1,?2)",
    [IPB__OP_RX_DEL] = "DELETE FROM rx WHERE client=?1 AND pid=?2",
    [IPB__OP_RETAIN] = "INSERT OR REPLACE INTO retained VALUES(?1,?2,?3,?4,?5)",
    [IPB__OP_RETAIN_DEL] = "DELETE FROM retained WHERE topic=?1",
    [IPB__OP_WILL] = "INSERT OR REPLACE INTO wills VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
    [IPB__OP_WILL_DEL] = "DELETE FROM wills WHERE client=?1",
    [IPB__OP_MSG_GC] = ("DELETE FROM msgs WHERE id=?1 AND NOT EXISTS (SELECT 1 FROM dlvs "
                        "WHERE msg=?1)"),
    /* After more_sql[IPB__PERSIST_MORE_MSGS]. */
    [IPB__OP_DLV_DROP] = "DELETE FROM dlvs WHERE client=?1",
};
static const char *const more_sql[IPB__PERSIST_MORE] = {
    "DELETE FROM subs WHERE client=?1",
    "DELETE FROM rx WHERE client=?1",
    [IPB__PERSIST_MORE_MSGS] = ("DELETE FROM msgs WHERE id IN (SELECT msg FROM dlvs WHERE "
                                "client=?1) AND NOT EXISTS (SELECT 1 FROM dlvs d WHERE d.msg="
                                "msgs.id AND d.client<>?1)"),
    "DELETE FROM dlvs WHERE client=?1",
    "DELETE FROM wills WHERE client=?1",
};

#define DLV_COLUMNS                                                                        \
    "SELECT d.seq, d.client, d.msg, d.qos, d.retain, d.state, d.pid, d.subids, m.topic,"     \
    " m.payload, m.props, m.expire FROM dlvs d JOIN msgs m ON m.id = d.msg"
static const char page_sql[] = DLV_COLUMNS " WHERE d.client=?1 AND d.seq>=?2 ORDER BY d.seq "
                                           "LIMIT ?3";

/* ---- opening: checks, moving a bad file aside, the schema ------------------------------ */

static int exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static int64_t one_int(sqlite3 *db, const char *sql, int64_t dflt)
{
    sqlite3_stmt *st;
    int64_t v = dflt;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return dflt;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

typedef enum { CHECK_OK, CHECK_BAD, CHECK_NEWER } check_t;

/* What is at path: nothing or ours (OK), damaged or foreign (BAD), or ours but newer. */
static check_t check_file(sqlite3 *db, int64_t *version, const char **why)
{
    sqlite3_stmt *st;
    *why = "it is not a database";
    if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, NULL) != SQLITE_OK)
        return CHECK_BAD;
    int rc = sqlite3_step(st);
    bool ok = rc == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    if (!ok) {
        *why = rc == SQLITE_ROW ? "it fails SQLite's integrity check" : "it is not a database";
        return CHECK_BAD;
    }
    int64_t tables = one_int(db, "SELECT count(*) FROM sqlite_master", -1);
    if (tables < 0)
        return CHECK_BAD;
    if (tables == 0)
        return CHECK_OK; /* empty: ours to fill */
    *why = "it belongs to another program";
    if (one_int(db, "PRAGMA application_id", 0) != IPB__PERSIST_APP_ID)
        return CHECK_BAD;
    *version = one_int(db, "SELECT max(version) FROM schema_version", -1);
    if (*version < 1) {
        *why = "it has no schema version";
        return CHECK_BAD;
    }
    return *version > IPB_PERSIST_SCHEMA ? CHECK_NEWER : CHECK_OK;
}

static void move_aside(ipb_broker_t *b, const char *path, const char *why)
{
    char stamp[32], to[IPB_PATH_MAX * 2 + 64];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(to, sizeof to, "%s.broken-%s", path, stamp);
    if (rename(path, to) < 0) {
        ipb__log(b, IPB_LOG_ERR, "Error: persistence file %s is unusable (%s) and cannot be "
                 "moved aside (%s); removing it.", path, why, strerror(errno));
        remove(path);
    } else {
        ipb__log(b, IPB_LOG_WARNING, "Warning: persistence file %s is unusable (%s); moved it "
                 "to %s and starting with an empty store.", path, why, to);
    }
    /* Its journal belongs to it, not to the new database. */
    char side[IPB_PATH_MAX + 8];
    snprintf(side, sizeof side, "%s-wal", path);
    remove(side);
    snprintf(side, sizeof side, "%s-shm", path);
    remove(side);
}

static int open_db(const char *path, sqlite3 **db)
{
    int rc = sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                           SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK)
        sqlite3_busy_timeout(*db, 2000);
    return rc;
}

static int make_schema(sqlite3 *db, bool full_sync)
{
    char sql[96];
    if (exec(db, "PRAGMA journal_mode=WAL") != SQLITE_OK)
        return -1;
    snprintf(sql, sizeof sql, "PRAGMA synchronous=%s", full_sync ? "FULL" : "NORMAL");
    if (exec(db, sql) != SQLITE_OK || exec(db, "BEGIN") != SQLITE_OK)
        return -1;
    for (size_t i = 0; i < sizeof schema / sizeof schema[0]; i++)
        if (exec(db, schema[i]) != SQLITE_OK)
            goto fail;
    snprintf(sql, sizeof sql, "PRAGMA application_id=%d", IPB__PERSIST_APP_ID);
    if (exec(db, sql) != SQLITE_OK)
        goto fail;
    if (one_int(db, "SELECT count(*) FROM schema_version", 0) == 0) {
        snprintf(sql, sizeof sql, "INSERT INTO schema_version VALUES(%d)", IPB_PERSIST_SCHEMA);
        if (exec(db, sql) != SQLITE_OK)
            goto fail;
    }
    if (exec(db, "COMMIT") == SQLITE_OK)
        return 0;
fail:
    exec(db, "ROLLBACK");
    return -1;
}

static void free_stmts(ipb_persist_t *p)
{
    sqlite3_finalize(p->st_page);
    for (int i = 0; i < IPB__OP_N; i++)
        sqlite3_finalize(p->st[i]);
    for (int i = 0; i < IPB__PERSIST_MORE; i++)
        sqlite3_finalize(p->st_more[i]);
}

int ipb__persist_open(ipb_broker_t *b, const char *path, bool full_sync,
                      ipb__persist_release_fn release, ipb_persist_t **out, char *err,
                      size_t errlen)
{
    ipb_persist_t *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    p->b = b;
    p->release = release;
    p->next_msg = p->next_seq = 1;
    /* Two tries: the file as found, then (if it was unusable) a fresh one in its place. */
    for (int attempt = 0; attempt < 2; attempt++) {
        int64_t version = 0;
        const char *why = NULL;
        if (open_db(path, &p->db) != SQLITE_OK) {
            snprintf(err, errlen, "cannot open persistence file %s: %s", path,
                     p->db ? sqlite3_errmsg(p->db) : "out of memory");
            goto fail;
        }
        check_t c = check_file(p->db, &version, &why);
        if (c == CHECK_NEWER) {
            snprintf(err, errlen, "persistence file %s has schema version %lld; this broker "
                     "reads version %d and older (use a newer broker or move the file)",
                     path, (long long)version, IPB_PERSIST_SCHEMA);
            goto fail;
        }
        if (c == CHECK_OK && make_schema(p->db, full_sync) == 0)
            break;
        if (c == CHECK_OK)
            why = sqlite3_errmsg(p->db);
        sqlite3_close(p->db);
        p->db = NULL;
        if (attempt) {
            snprintf(err, errlen, "cannot create persistence file %s", path);
            goto fail;
        }
        char reason[160];
        snprintf(reason, sizeof reason, "%s", why);
        move_aside(b, path, reason);
    }
    for (int i = 0; i < IPB__OP_N; i++)
        if (sqlite3_prepare_v3(p->db, op_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &p->st[i],
                               NULL) != SQLITE_OK)
            goto sqlfail;
    for (int i = 0; i < IPB__PERSIST_MORE; i++)
        if (sqlite3_prepare_v3(p->db, more_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &p->st_more[i], NULL) != SQLITE_OK)
            goto sqlfail;
    if (sqlite3_open_v2(path, &p->rdb, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v3(p->rdb, page_sql, -1, SQLITE_PREPARE_PERSISTENT, &p->st_page,
                           NULL) != SQLITE_OK) {
        snprintf(err, errlen, "persistence file %s: %s", path,
                 p->rdb ? sqlite3_errmsg(p->rdb) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(p->rdb, 2000);
    *out = p;
    return 0;
sqlfail:
    snprintf(err, errlen, "persistence file %s: %s", path, sqlite3_errmsg(p->db));
fail:
    free_stmts(p);
    sqlite3_close(p->rdb);
    sqlite3_close(p->db);
    free(p);
    return -1;
}

/* ---- replay ------------------------------------------------------------------------ */

static const char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

static const uint8_t *col_blob(sqlite3_stmt *st, int i, size_t *len)
{
    *len = (size_t)sqlite3_column_bytes(st, i);
    return sqlite3_column_blob(st, i);
}

static int each_row(ipb_persist_t *p, const char *sql,
                    void (*row)(sqlite3_stmt *st, ipb__persist_row_t *r),
                    void (*fn)(void *arg, const ipb__persist_row_t *r), void *arg)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(p->db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        ipb__persist_row_t r = {0};
        row(st, &r);
        fn(arg, &r);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static void row_session(sqlite3_stmt *st, ipb__persist_row_t *r)
{
    r->client = col_text(st, 0);
    r->str = sqlite3_column_type(st, 1) == SQLITE_NULL ? NULL : col_text(st, 1);
    r->version = (uint8_t)sqlite3_column_int(st, 2);
    r->num = (uint32_t)sqlite3_column_int64(st, 3);
    r->expire_wall = sqlite3_column_int64(st, 4);
}

static void row_sub(sqlite3_stmt *st, ipb__persist_row_t *r)
{
    r->client = col_text(st, 0);
    r->str = col_text(st, 1);
    r->opts = (uint8_t)sqlite3_column_int(st, 2);
    r->num = (uint32_t)sqlite3_column_int64(st, 3);
}

static void row_rx(sqlite3_stmt *st, ipb__persist_row_t *r)
{
    r->client = col_text(st, 0);
    r->pid = (uint16_t)sqlite3_column_int(st, 1);
}

static void row_retained(sqlite3_stmt *st, ipb__persist_row_t *r)
{
    r->str = col_text(st, 0);
    r->payload = col_blob(st, 1, &r->payload_len);
    r->qos = (uint8_t)sqlite3_column_int(st, 2);
    r->props = col_blob(st, 3, &r->props_len);
    r->expire_wall = sqlite3_column_int64(st, 4);
}

static void row_will(sqlite3_stmt *st, ipb__persist_row_t *r)
{
    r->client = col_text(st, 0);
    r->str = col_text(st, 1);
    r->payload = col_blob(st, 2, &r->payload_len);
    r->qos = (uint8_t)sqlite3_column_int(st, 3);
    r->retain = (uint8_t)sqlite3_column_int(st, 4);
    r->props = col_blob(st, 5, &r->props_len);
    r->num = (uint32_t)sqlite3_column_int64(st, 6);
    r->expire_wall = sqlite3_column_int64(st, 7);
}

static void row_dlv(sqlite3_stmt *st, ipb__persist_row_t *r)
{
    r->seq = (uint64_t)sqlite3_column_int64(st, 0);
    r->client = col_text(st, 1);
    r->id = (uint64_t)sqlite3_column_int64(st, 2);
    r->qos = (uint8_t)sqlite3_column_int(st, 3);
    r->retain = (uint8_t)sqlite3_column_int(st, 4);
    r->state = (uint8_t)sqlite3_column_int(st, 5);
    r->pid = (uint16_t)sqlite3_column_int(st, 6);
    size_t n;
    r->subids = (const uint32_t *)col_blob(st, 7, &n);
    r->nsubids = (unsigned)(n / sizeof(uint32_t));
    r->str = col_text(st, 8);
    r->payload = col_blob(st, 9, &r->payload_len);
    r->props = col_blob(st, 10, &r->props_len);
    r->expire_wall = sqlite3_column_int64(st, 11);
}

/*
 * Deliveries: what each client has in flight comes back whole (it is at the head of its
 * sequence and bounded by the window); its queue stays on disk, counted, to be paged in
 * as it drains. Reads by the (client, seq) index: a start does not read every row.
 */
static int load_dlvs(ipb_persist_t *p, const ipb__persist_load_t *fn, void *arg)
{
    sqlite3_stmt *cl, *st;
    /* The index alone: summing payload bytes too would read every message (seconds for a
     * million), so a queue's bytes count as its deliveries are read back. */
    if (sqlite3_prepare_v2(p->db, "SELECT client, count(*), max(seq) FROM dlvs GROUP BY client",
                           -1, &cl, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_prepare_v2(p->db, DLV_COLUMNS " WHERE d.client=?1 ORDER BY d.seq", -1, &st,
                           NULL) != SQLITE_OK) {
        sqlite3_finalize(cl);
        return -1;
    }
    int rc, rc2 = SQLITE_DONE;
    while ((rc = sqlite3_step(cl)) == SQLITE_ROW) {
        ipb__persist_row_t q = {.client = col_text(cl, 0)};
        q.num = (uint32_t)sqlite3_column_int64(cl, 1);
        q.id = (uint64_t)sqlite3_column_int64(cl, 2);
        sqlite3_bind_text(st, 1, q.client, -1, SQLITE_STATIC);
        while ((rc2 = sqlite3_step(st)) == SQLITE_ROW) {
            ipb__persist_row_t r = {0};
            row_dlv(st, &r);
            if (r.state == IPB_DLV_QUEUED) {
                q.seq = r.seq;
                break;
            }
            q.num--;
            fn->dlv(arg, &r);
        }
        sqlite3_reset(st);
        if (rc2 != SQLITE_ROW && rc2 != SQLITE_DONE)
            break;
        if (q.num)
            fn->queue(arg, &q);
    }
    sqlite3_finalize(st);
    sqlite3_finalize(cl);
    return rc == SQLITE_DONE && (rc2 == SQLITE_ROW || rc2 == SQLITE_DONE) ? 0 : -1;
}

int ipb__persist_page(ipb_persist_t *p, const char *client, uint64_t from, unsigned max,
                      void (*fn)(void *arg, const ipb__persist_row_t *r), void *arg)
{
    sqlite3_stmt *st = p->st_page;
    sqlite3_bind_text(st, 1, client, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)from);
    sqlite3_bind_int(st, 3, (int)max);
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        ipb__persist_row_t r = {0};
        row_dlv(st, &r);
        fn(arg, &r);
        n++;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        ipb__log(p->b, IPB_LOG_ERR, "Error: reading a queue back from the persistence file: "
                 "%s.", sqlite3_errmsg(p->rdb));
        return -1;
    }
    return n;
}

int ipb__persist_load(ipb_persist_t *p, const ipb__persist_load_t *fn, void *arg, char *err,
                      size_t errlen)
{
    int rc = each_row(p, "SELECT id, user, version, expiry, expire FROM sessions", row_session,
                      fn->session, arg);
    if (!rc)
        rc = each_row(p, "SELECT client, filter, opts, subid FROM subs", row_sub, fn->sub, arg);
    if (!rc)
        rc = each_row(p, "SELECT client, pid FROM rx", row_rx, fn->rx, arg);
    if (!rc)
        rc = each_row(p, "SELECT client, topic, payload, qos, retain, props, delay, due FROM wills",
                      row_will, fn->will, arg);
    if (!rc)
        rc = each_row(p, "SELECT topic, payload, qos, props, expire FROM retained",
                      row_retained, fn->retained, arg);
    if (!rc)
        rc = load_dlvs(p, fn, arg);
    if (rc)
        snprintf(err, errlen, "reading the persistence file: %s", sqlite3_errmsg(p->db));
    ipb__persist_seen(p, (uint64_t)one_int(p->db, "SELECT max(id) FROM msgs", 0),
                      (uint64_t)one_int(p->db, "SELECT max(seq) FROM dlvs", 0));
    p->settled = p->next_seq - 1;
    return rc;
}

void ipb__persist_seen(ipb_persist_t *p, uint64_t msg_id, uint64_t seq)
{
    if (msg_id >= p->next_msg)
        p->next_msg = msg_id + 1;
    if (seq >= p->next_seq)
        p->next_seq = seq + 1;
}

/* ---- a commit (on the worker thread) ---------------------------------------------------- */

/* The forwarded 5.0 properties as they came: the block msg.c copied in front of the topic. */
static void bind_props(sqlite3_stmt *st, int i, const ipb_msg_t *m)
{
    const uint8_t *raw = (const uint8_t *)(m->props + m->nprops);
    size_t len = (size_t)((const uint8_t *)m->topic - raw);
    if (len)
        sqlite3_bind_blob(st, i, raw, (int)len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static int bind_op(ipb_persist_t *p, const op_t *o, sqlite3_stmt *st)
{
    const ipb_msg_t *m = o->m;
    switch (o->kind) {
    case IPB__OP_MSG:
        sqlite3_bind_int64(st, 1, (int64_t)o->id);
        sqlite3_bind_text(st, 2, m->topic, m->topic_len, SQLITE_STATIC);
        sqlite3_bind_blob(st, 3, m->payload, (int)m->payload_len, SQLITE_STATIC);
        sqlite3_bind_int(st, 4, m->qos);
        sqlite3_bind_int(st, 5, m->retain);
        bind_props(st, 6, m);
        sqlite3_bind_int64(st, 7, o->wall);
        break;
    case IPB__OP_MSG_DEL:
    case IPB__OP_MSG_GC:
        sqlite3_bind_int64(st, 1, (int64_t)o->id);
        break;
    case IPB__OP_DLV:
        sqlite3_bind_int64(st, 1, (int64_t)o->seq);
        sqlite3_bind_text(st, 2, o->s1, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (int64_t)o->id);
        sqlite3_bind_int(st, 4, o->qos);
        sqlite3_bind_int(st, 5, o->retain);
        sqlite3_bind_int(st, 6, o->state);
        sqlite3_bind_int(st, 7, o->pid);
        if (o->nblob)
            sqlite3_bind_blob(st, 8, o->blob, (int)(o->nblob * sizeof *o->blob), SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 8);
        break;
    case IPB__OP_DLV_STATE:
        sqlite3_bind_int64(st, 1, (int64_t)o->seq);
        sqlite3_bind_int(st, 2, o->state);
        sqlite3_bind_int(st, 3, o->pid);
        break;
    case IPB__OP_DLV_DEL:
        sqlite3_bind_int64(st, 1, (int64_t)o->seq);
        break;
    case IPB__OP_SESSION:
        sqlite3_bind_text(st, 1, o->s1, -1, SQLITE_STATIC);
        if (o->s2)
            sqlite3_bind_text(st, 2, o->s2, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 2);
        sqlite3_bind_int(st, 3, o->version);
        sqlite3_bind_int64(st, 4, o->num);
        sqlite3_bind_int64(st, 5, o->wall);
        break;
    case IPB__OP_SESSION_OFF:
        sqlite3_bind_text(st, 1, o->s1, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, o->wall);
        break;
    case IPB__OP_SUB:
        sqlite3_bind_text(st, 1, o->s1, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, o->s2, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, o->state);
        sqlite3_bind_int64(st, 4, o->num);
        break;
    case IPB__OP_SUB_DEL:
        sqlite3_bind_text(st, 1, o->s1, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, o->s2, -1, SQLITE_STATIC);
        break;
    case IPB__OP_RX:
    case IPB__OP_RX_DEL:
        sqlite3_bind_text(st, 1, o->s1, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, o->pid);
        break;
    case IPB__OP_RETAIN:
        sqlite3_bind_text(st, 1, m->topic, m->topic_len, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, m->payload, (int)m->payload_len, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, m->qos);
        bind_props(st, 4, m);
        sqlite3_bind_int64(st, 5, o->wall);
        break;
    case IPB__OP_WILL:
        sqlite3_bind_text(st, 1, o->s1, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, m->topic, m->topic_len, SQLITE_STATIC);
        sqlite3_bind_blob(st, 3, m->payload, (int)m->payload_len, SQLITE_STATIC);
        sqlite3_bind_int(st, 4, m->qos);
        sqlite3_bind_int(st, 5, m->retain);
        bind_props(st, 6, m);
        sqlite3_bind_int64(st, 7, o->num);
        sqlite3_bind_int64(st, 8, o->wall);
        break;
    case IPB__OP_SESSION_DEL:
    case IPB__OP_DLV_DROP:
    case IPB__OP_RETAIN_DEL:
    case IPB__OP_WILL_DEL:
        sqlite3_bind_text(st, 1, o->s1, -1, SQLITE_STATIC);
        break;
    }
    (void)p;
    return 0;
}

static int step(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static int run_op(ipb_persist_t *p, const op_t *o)
{
    if (o->dead)
        return SQLITE_OK;
    sqlite3_stmt *st = p->st[o->kind];
    int rc = SQLITE_OK;
    if (o->kind == IPB__OP_DLV_DROP) {
        sqlite3_stmt *msgs = p->st_more[IPB__PERSIST_MORE_MSGS];
        sqlite3_bind_text(msgs, 1, o->s1, -1, SQLITE_STATIC);
        rc = step(msgs);
    }
    bind_op(p, o, st);
    if (rc == SQLITE_OK)
        rc = step(st);
    if (rc == SQLITE_OK && o->kind == IPB__OP_SESSION_DEL)
        for (int i = 0; i < IPB__PERSIST_MORE && rc == SQLITE_OK; i++) {
            sqlite3_bind_text(p->st_more[i], 1, o->s1, -1, SQLITE_STATIC);
            rc = step(p->st_more[i]);
        }
    return rc;
}

/* One transaction for the whole batch: all of it is durable, or none of it is. */
int ipb__persist_commit(ipb_persist_t *p, const batch_t *bt, char *err, size_t errlen)
{
    int rc = exec(p->db, "BEGIN");
    for (size_t i = 0; rc == SQLITE_OK && i < bt->n; i++)
        rc = run_op(p, &bt->ops[i]);
    if (rc == SQLITE_OK)
        rc = exec(p->db, "COMMIT");
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(p->db));
        exec(p->db, "ROLLBACK");
    }
    return rc;
}

void ipb__persist_db_close(ipb_persist_t *p)
{
    free_stmts(p);
    sqlite3_close(p->rdb);
    /* A clean close checkpoints the WAL into the database and removes it. */
    sqlite3_close(p->db);
}
