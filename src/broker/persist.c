/*
 * persist.c - the broker's store on SQLite: schema, checks at open, the batch of
 * operations, and the group commit on a worker thread.
 *
 * Why a batch and not a transaction per change: a commit costs one WAL append (and with
 * persistence_sync full one fsync) whatever it holds, so a loop turn's messages share it.
 * The loop thread only appends operations (copies, or references to immutable message
 * bytes); the worker thread alone touches SQLite while a commit is in flight, and the
 * loop thread touches it only when none is (open, replay, close).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "clock.h"
#include "core.h"
#include "log.h"
#include "persist.h"
#include "session.h"

/* "iotp" in PRAGMA application_id: a database of another program is not ours. */
#define APP_ID 0x696f7470
/* Statements a session's end runs beside deleting its row (more_sql). */
#define N_MORE 4

enum {
    OP_MSG,       /* m: id, topic, payload, props, expiry */
    OP_MSG_DEL,   /* id */
    OP_DLV,       /* seq, s1 = client, id, qos, retain, state, pid, blob = subids */
    OP_DLV_STATE, /* seq, state, pid */
    OP_DLV_DEL,   /* seq */
    OP_SESSION,   /* s1 = client, s2 = user, version, num = expiry, wall */
    OP_SESSION_OFF, /* s1, wall */
    OP_SESSION_DEL, /* s1 */
    OP_SUB,       /* s1, s2 = filter, opts, num = subid */
    OP_SUB_DEL,   /* s1, s2 */
    OP_RX,        /* s1, pid */
    OP_RX_DEL,    /* s1, pid */
    OP_RETAIN,    /* m, wall */
    OP_RETAIN_DEL, /* s1 = topic */
    OP_WILL,      /* s1 = client, m, num = will delay, wall = when it goes out */
    OP_WILL_DEL,  /* s1 */
    OP_N
};

typedef struct {
    uint8_t kind, qos, retain, state, version;
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

typedef struct {
    op_t *ops;
    size_t n, cap;
    held_t *held;
    size_t nheld, heldcap;
} batch_t;

struct ipb_persist {
    ipb_broker_t *b;
    sqlite3 *db;
    sqlite3_stmt *st[OP_N], *st_more[N_MORE];
    ipb__persist_release_fn release;
    batch_t cur, run;
    uv_work_t req;
    bool busy;
    int run_rc;
    char run_err[160];
    uint64_t marks;
    uint64_t next_msg, next_seq;
    uint64_t failures;
    uint64_t last_fail_log; /* loop ms */
    bool oom_logged;
};

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
};

/* One statement per operation kind (a session's end takes N_MORE more). */
static const char *const op_sql[OP_N] = {
    [OP_MSG] = "INSERT OR REPLACE INTO msgs VALUES(?1,?2,?3,?4,?5,?6,?7)",
    [OP_MSG_DEL] = "DELETE FROM msgs WHERE id=?1",
    [OP_DLV] = "INSERT OR REPLACE INTO dlvs VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
    [OP_DLV_STATE] = "UPDATE dlvs SET state=?2, pid=?3 WHERE seq=?1",
    [OP_DLV_DEL] = "DELETE FROM dlvs WHERE seq=?1",
    [OP_SESSION] = "INSERT OR REPLACE INTO sessions VALUES(?1,?2,?3,?4,?5)",
    [OP_SESSION_OFF] = "UPDATE sessions SET expire=?2 WHERE id=?1",
    [OP_SESSION_DEL] = "DELETE FROM sessions WHERE id=?1",
    [OP_SUB] = "INSERT OR REPLACE INTO subs VALUES(?1,?2,?3,?4)",
    [OP_SUB_DEL] = "DELETE FROM subs WHERE client=?1 AND filter=?2",
    [OP_RX] = "INSERT OR IGNORE INTO rx VALUES(?1,?2)",
    [OP_RX_DEL] = "DELETE FROM rx WHERE client=?1 AND pid=?2",
    [OP_RETAIN] = "INSERT OR REPLACE INTO retained VALUES(?1,?2,?3,?4,?5)",
    [OP_RETAIN_DEL] = "DELETE FROM retained WHERE topic=?1",
    [OP_WILL] = "INSERT OR REPLACE INTO wills VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
    [OP_WILL_DEL] = "DELETE FROM wills WHERE client=?1",
};
static const char *const more_sql[N_MORE] = {
    "DELETE FROM subs WHERE client=?1",
    "DELETE FROM rx WHERE client=?1",
    "DELETE FROM dlvs WHERE client=?1",
    "DELETE FROM wills WHERE client=?1",
};

int64_t ipb__wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
    if (one_int(db, "PRAGMA application_id", 0) != APP_ID)
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
    snprintf(sql, sizeof sql, "PRAGMA application_id=%d", APP_ID);
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
    for (int i = 0; i < OP_N; i++)
        sqlite3_finalize(p->st[i]);
    for (int i = 0; i < N_MORE; i++)
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
    for (int i = 0; i < OP_N; i++)
        if (sqlite3_prepare_v3(p->db, op_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &p->st[i],
                               NULL) != SQLITE_OK)
            goto sqlfail;
    for (int i = 0; i < N_MORE; i++)
        if (sqlite3_prepare_v3(p->db, more_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &p->st_more[i], NULL) != SQLITE_OK)
            goto sqlfail;
    *out = p;
    return 0;
sqlfail:
    snprintf(err, errlen, "persistence file %s: %s", path, sqlite3_errmsg(p->db));
fail:
    free_stmts(p);
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
        rc = each_row(p,
                      "SELECT d.seq, d.client, d.msg, d.qos, d.retain, d.state, d.pid, d.subids,"
                      " m.topic, m.payload, m.props, m.expire FROM dlvs d JOIN msgs m ON"
                      " m.id = d.msg ORDER BY d.seq",
                      row_dlv, fn->dlv, arg);
    /* What the replay dropped (sessions gone, messages no delivery needs) goes now. */
    if (!rc)
        rc = exec(p->db, "BEGIN;"
                         "DELETE FROM dlvs WHERE client NOT IN (SELECT id FROM sessions);"
                         "DELETE FROM msgs WHERE id NOT IN (SELECT msg FROM dlvs);"
                         "COMMIT") == SQLITE_OK ? 0 : -1;
    if (rc)
        snprintf(err, errlen, "reading the persistence file: %s", sqlite3_errmsg(p->db));
    ipb__persist_seen(p, (uint64_t)one_int(p->db, "SELECT max(id) FROM msgs", 0),
                      (uint64_t)one_int(p->db, "SELECT max(seq) FROM dlvs", 0));
    return rc;
}

void ipb__persist_seen(ipb_persist_t *p, uint64_t msg_id, uint64_t seq)
{
    if (msg_id >= p->next_msg)
        p->next_msg = msg_id + 1;
    if (seq >= p->next_seq)
        p->next_seq = seq + 1;
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

/* Where the loop's expiry deadline falls on the wall clock (0 = never). */
static int64_t wall_of(ipb_persist_t *p, const ipb_msg_t *m, uint64_t now)
{
    (void)p;
    if (!m->expire_at)
        return 0;
    int64_t left = m->expire_at > now ? (int64_t)(m->expire_at - now) : 0;
    return ipb__wall_ms() + left;
}

uint64_t ipb__persist_dlv_add(ipb_persist_t *p, const char *client, ipb_msg_t *m, uint8_t qos,
                              bool retain, uint8_t state, uint16_t pid, const uint32_t *subids,
                              unsigned nsubids)
{
    if (!m->sid) {
        op_t *o = op_new(p, OP_MSG);
        if (!o)
            return 0;
        o->id = m->sid = p->next_msg++;
        o->wall = wall_of(p, m, ipb__now(p->b));
        ipb__msg_ref(m);
        o->m = m;
    }
    op_t *o = op_str(p, OP_DLV, client, NULL);
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
    m->srefs++;
    return o->seq;
}

void ipb__persist_dlv_restored(ipb_msg_t *m, uint64_t msg_id)
{
    m->sid = msg_id;
    m->srefs++;
}

void ipb__persist_dlv_state(ipb_persist_t *p, uint64_t seq, uint8_t state, uint16_t pid)
{
    op_t *o = op_new(p, OP_DLV_STATE);
    if (o) {
        o->seq = seq;
        o->state = state;
        o->pid = pid;
    }
}

void ipb__persist_dlv_del(ipb_persist_t *p, uint64_t seq, ipb_msg_t *m)
{
    op_t *o = op_new(p, OP_DLV_DEL);
    if (o)
        o->seq = seq;
    if (m && m->srefs && --m->srefs == 0 && m->sid) {
        if ((o = op_new(p, OP_MSG_DEL)))
            o->id = m->sid;
        m->sid = 0;
    }
}

void ipb__persist_session(ipb_persist_t *p, const char *client, const char *user,
                          uint8_t version, uint32_t expiry, int64_t expire_wall)
{
    op_t *o = op_str(p, OP_SESSION, client, user);
    if (o) {
        o->version = version;
        o->num = expiry;
        o->wall = expire_wall;
    }
}

void ipb__persist_session_offline(ipb_persist_t *p, const char *client, int64_t expire_wall)
{
    op_t *o = op_str(p, OP_SESSION_OFF, client, NULL);
    if (o)
        o->wall = expire_wall;
}

void ipb__persist_session_del(ipb_persist_t *p, const char *client)
{
    op_str(p, OP_SESSION_DEL, client, NULL);
}

void ipb__persist_sub(ipb_persist_t *p, const char *client, const char *filter, uint8_t opts,
                      uint32_t subid)
{
    op_t *o = op_str(p, OP_SUB, client, filter);
    if (o) {
        o->state = opts;
        o->num = subid;
    }
}

void ipb__persist_sub_del(ipb_persist_t *p, const char *client, const char *filter)
{
    op_str(p, OP_SUB_DEL, client, filter);
}

void ipb__persist_rx(ipb_persist_t *p, const char *client, uint16_t pid, bool add)
{
    op_t *o = op_str(p, add ? OP_RX : OP_RX_DEL, client, NULL);
    if (o)
        o->pid = pid;
}

void ipb__persist_retain(ipb_persist_t *p, ipb_msg_t *m, uint64_t now)
{
    if (!m->payload_len) {
        op_str(p, OP_RETAIN_DEL, m->topic, NULL);
        return;
    }
    op_t *o = op_new(p, OP_RETAIN);
    if (o) {
        ipb__msg_ref(m);
        o->m = m;
        o->wall = wall_of(p, m, now);
    }
}

void ipb__persist_will(ipb_persist_t *p, const char *client, ipb_msg_t *will, int64_t due_wall)
{
    op_t *o = op_str(p, will ? OP_WILL : OP_WILL_DEL, client, NULL);
    if (o && will) {
        ipb__msg_ref(will);
        o->m = will;
        o->num = will->will_delay;
        o->wall = due_wall;
    }
}

/* ---- the commit (worker thread) -------------------------------------------------------- */

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
    case OP_MSG:
        sqlite3_bind_int64(st, 1, (int64_t)o->id);
        sqlite3_bind_text(st, 2, m->topic, m->topic_len, SQLITE_STATIC);
        sqlite3_bind_blob(st, 3, m->payload, (int)m->payload_len, SQLITE_STATIC);
        sqlite3_bind_int(st, 4, m->qos);
        sqlite3_bind_int(st, 5, m->retain);
        bind_props(st, 6, m);
        sqlite3_bind_int64(st, 7, o->wall);
        break;
    case OP_MSG_DEL:
        sqlite3_bind_int64(st, 1, (int64_t)o->id);
        break;
    case OP_DLV:
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
    case OP_DLV_STATE:
        sqlite3_bind_int64(st, 1, (int64_t)o->seq);
        sqlite3_bind_int(st, 2, o->state);
        sqlite3_bind_int(st, 3, o->pid);
        break;
    case OP_DLV_DEL:
        sqlite3_bind_int64(st, 1, (int64_t)o->seq);
        break;
    case OP_SESSION:
        sqlite3_bind_text(st, 1, o->s1, -1, SQLITE_STATIC);
        if (o->s2)
            sqlite3_bind_text(st, 2, o->s2, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 2);
        sqlite3_bind_int(st, 3, o->version);
        sqlite3_bind_int64(st, 4, o->num);
        sqlite3_bind_int64(st, 5, o->wall);
        break;
    case OP_SESSION_OFF:
        sqlite3_bind_text(st, 1, o->s1, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, o->wall);
        break;
    case OP_SUB:
        sqlite3_bind_text(st, 1, o->s1, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, o->s2, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, o->state);
        sqlite3_bind_int64(st, 4, o->num);
        break;
    case OP_SUB_DEL:
        sqlite3_bind_text(st, 1, o->s1, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, o->s2, -1, SQLITE_STATIC);
        break;
    case OP_RX:
    case OP_RX_DEL:
        sqlite3_bind_text(st, 1, o->s1, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, o->pid);
        break;
    case OP_RETAIN:
        sqlite3_bind_text(st, 1, m->topic, m->topic_len, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, m->payload, (int)m->payload_len, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, m->qos);
        bind_props(st, 4, m);
        sqlite3_bind_int64(st, 5, o->wall);
        break;
    case OP_WILL:
        sqlite3_bind_text(st, 1, o->s1, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, m->topic, m->topic_len, SQLITE_STATIC);
        sqlite3_bind_blob(st, 3, m->payload, (int)m->payload_len, SQLITE_STATIC);
        sqlite3_bind_int(st, 4, m->qos);
        sqlite3_bind_int(st, 5, m->retain);
        bind_props(st, 6, m);
        sqlite3_bind_int64(st, 7, o->num);
        sqlite3_bind_int64(st, 8, o->wall);
        break;
    case OP_SESSION_DEL:
    case OP_RETAIN_DEL:
    case OP_WILL_DEL:
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
    sqlite3_stmt *st = p->st[o->kind];
    bind_op(p, o, st);
    int rc = step(st);
    if (rc == SQLITE_OK && o->kind == OP_SESSION_DEL)
        for (int i = 0; i < N_MORE && rc == SQLITE_OK; i++) {
            sqlite3_bind_text(p->st_more[i], 1, o->s1, -1, SQLITE_STATIC);
            rc = step(p->st_more[i]);
        }
    return rc;
}

/* One transaction for the whole batch: all of it is durable, or none of it is. */
static int commit(ipb_persist_t *p, const batch_t *bt, char *err, size_t errlen)
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

static void work_cb(uv_work_t *req)
{
    ipb_persist_t *p = req->data;
    p->run_rc = commit(p, &p->run, p->run_err, sizeof p->run_err);
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
}

static void release_all(ipb_persist_t *p, batch_t *bt, bool stored)
{
    for (size_t i = 0; i < bt->nheld; i++) {
        held_t *h = &bt->held[i];
        if (!h->s)
            continue; /* its connection went away: the client resends */
        h->s->held--;
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

static void after_cb(uv_work_t *req, int status)
{
    ipb_persist_t *p = req->data;
    p->busy = false;
    bool ok = status == 0 && p->run_rc == SQLITE_OK;
    if (!ok)
        failed(p, p->run_rc, p->run_err);
    release_all(p, &p->run, ok);
    batch_clear(&p->run);
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
    if (uv_queue_work(p->b->loop, &p->req, work_cb, after_cb) < 0) {
        p->run_rc = commit(p, &p->run, p->run_err, sizeof p->run_err);
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
    if (bt->nheld == bt->heldcap) {
        size_t nc = bt->heldcap ? bt->heldcap * 2 : 64;
        held_t *n = realloc(bt->held, nc * sizeof *n);
        if (!n)
            return false;
        bt->held = n;
        bt->heldcap = nc;
    }
    bt->held[bt->nheld++] = (held_t){s, c, pid, type, reason};
    s->held++;
    return true;
}

void ipb__persist_forget(ipb_persist_t *p, ipb_session_t *s)
{
    batch_t *bts[2] = {&p->cur, &p->run};
    for (int k = 0; k < 2 && s->held; k++)
        for (size_t i = 0; i < bts[k]->nheld; i++)
            if (bts[k]->held[i].s == s) {
                bts[k]->held[i].s = NULL;
                s->held--;
            }
}

void ipb__persist_close(ipb_persist_t *p)
{
    if (!p)
        return;
    /* The caller waited for the commit in flight; what is left is written here. */
    if (p->cur.n) {
        char err[160];
        int rc = commit(p, &p->cur, err, sizeof err);
        if (rc != SQLITE_OK)
            failed(p, rc, err);
    }
    batch_clear(&p->cur);
    batch_clear(&p->run);
    free(p->cur.ops);
    free(p->cur.held);
    free(p->run.ops);
    free(p->run.held);
    free_stmts(p);
    /* A clean close checkpoints the WAL into the database and removes it. */
    sqlite3_close(p->db);
    free(p);
}
