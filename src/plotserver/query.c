/*
 * query.c - the store read for a client that asks over the network (the broker's
 * GET /api/...): the series a user may see, and rows of one series, as strict JSON.
 *
 * Each call opens its own read-only connection, so any thread may call it while the
 * server writes (WAL: a read sees what is committed). Every answer is bounded by the
 * caller's byte limit: a listing stops before the entry that would not fit and says
 * so, rows stop at a whole row and give the index to go on from.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "iotplot/plotclient.h"
#include "plot_internal.h"

#define DEFAULT_LIMIT 10000
#define MAX_LIMIT 100000
#define MIN_BYTES 4096

/* Is `session` the owner's: the owner's name itself or below it ("alice", "alice/lab1"),
 * as `pattern readwrite %u/#` lets the owner publish? */
static bool owned_by(const char *session, const char *owner)
{
    size_t n = strlen(owner);
    return !strncmp(session, owner, n) && (session[n] == '\0' || session[n] == '/');
}

bool ipp_query_owns(const char *owner, const char *session)
{
    return !owner || (owner[0] && owned_by(session, owner));
}

/* A number, or null: strict JSON has no NaN or infinities. */
static void num(ipp_json_t *j, double v)
{
    if (isfinite(v))
        ipp_json_num(j, v);
    else
        ipp_json_raw(j, "null", 4);
}

static void key(ipp_json_t *j, const char *k)
{
    ipp_json_str(j, k);
    ipp_json_raw(j, ": ", 2);
}

static void int_field(ipp_json_t *j, const char *k, int64_t v)
{
    char t[32];
    int n = snprintf(t, sizeof t, ", \"%s\": %lld", k, (long long)v);
    ipp_json_raw(j, t, (size_t)n);
}

/* The column names as stored: a JSON array written by the server, re-encoded (an old
 * or foreign file could hold anything). */
static void columns(ipp_json_t *j, const char *stored)
{
    size_t n = stored ? strlen(stored) : 0;
    ipp_jval_t *v = malloc(sizeof *v * IPP_MAX_COLS);
    char *tmp = malloc(n + 1);
    const char *why;
    int c = v && tmp && n ? ipp_json_array(stored, n, v, IPP_MAX_COLS, tmp, n + 1, &why) : -1;
    ipp_json_raw(j, "[", 1);
    for (int i = 0; i < c; i++) {
        if (i)
            ipp_json_raw(j, ", ", 2);
        ipp_json_str(j, v[i].type == IPP_JV_STR ? v[i].str : "");
    }
    ipp_json_raw(j, "]", 1);
    free(v);
    free(tmp);
}

/* title, xlabel and ylabel of the latest plot_series of series id, when there are any,
 * and what its x is ("first" or "received"; absent: the rule) and utc, so that a chart of
 * the series draws what the figure does. */
static void labels(ipp_json_t *j, ipp_store_t *st, int64_t id)
{
    char *opts = ipp_store_last_plot(st, id), err[128];
    ipp_plotopts_t o;
    if (!opts)
        return;
    if (ipp_plotopts_parse(opts, strlen(opts), &o, err, sizeof err) == 0) {
        const char *names[] = {"title", "xlabel", "ylabel"};
        const char *vals[] = {o.title, o.xlabel, o.ylabel};
        for (int i = 0; i < 3; i++) {
            if (!vals[i])
                continue;
            ipp_json_raw(j, ", ", 2);
            key(j, names[i]);
            ipp_json_str(j, vals[i]);
        }
        if (o.x != IPP_X_AUTO) {
            ipp_json_raw(j, ", ", 2);
            key(j, "x");
            ipp_json_str(j, o.x == IPP_X_RECEIVED ? "received" : "first");
        }
        if (o.utc)
            ipp_json_raw(j, ", \"utc\": true", 13);
        ipp_plotopts_free(&o);
    }
    free(opts);
}

static int64_t one_int(sqlite3 *db, const char *sql, int64_t id, int64_t none)
{
    sqlite3_stmt *q;
    int64_t v = none;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        return none;
    sqlite3_bind_int64(q, 1, id);
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
}

/* The arrival time of the last row of series id, or NaN when it has none. */
static double last_time(sqlite3 *db, int64_t id)
{
    sqlite3_stmt *q;
    double t = NAN;
    if (sqlite3_prepare_v2(db, "SELECT t FROM rows WHERE series = ? ORDER BY seq DESC LIMIT 1",
                           -1, &q, NULL) != SQLITE_OK)
        return t;
    sqlite3_bind_int64(q, 1, id);
    if (sqlite3_step(q) == SQLITE_ROW)
        t = sqlite3_column_double(q, 0);
    sqlite3_finalize(q);
    return t;
}

/* The answer's buffer: the caller's limit, never less than an empty answer needs. */
static char *answer_buf(size_t max_bytes, size_t *cap)
{
    *cap = max_bytes < MIN_BYTES ? MIN_BYTES : max_bytes;
    return malloc(*cap);
}

static int finish(ipp_json_t *j, char **json, size_t *len)
{
    if (j->err) {
        free(j->buf);
        return -1;
    }
    char *shrunk = realloc(j->buf, j->len + 1);
    *json = shrunk ? shrunk : j->buf;
    *len = j->len;
    return 0;
}

/* The store of folder dir, or NULL when the server never made one: nothing stored. */
static ipp_store_t *open_store(const char *dir)
{
    ipp_store_t *st = NULL;
    char err[256];
    return ipp_store_open(dir, &st, err, sizeof err) ? NULL : st;
}

/* Did what was written since mark fit the answer? If not, it is taken back, and the
 * answer ends before it (the caller says there is more). */
static bool fits(ipp_json_t *j, size_t mark)
{
    if (!j->err)
        return true;
    j->err = 0;
    j->len = mark;
    j->buf[mark] = '\0';
    return false;
}

/* One series entry of the listing; false when it did not fit (j rolled back). */
static bool list_entry(ipp_json_t *j, ipp_store_t *st, sqlite3_stmt *q, bool first)
{
    size_t mark = j->len;
    int64_t id = sqlite3_column_int64(q, 0);
    sqlite3 *db = ipp__store_db(st);
    if (!first)
        ipp_json_raw(j, ", ", 2);
    ipp_json_raw(j, "{", 1);
    key(j, "session");
    ipp_json_str(j, (const char *)sqlite3_column_text(q, 1));
    ipp_json_raw(j, ", ", 2);
    key(j, "name");
    ipp_json_str(j, (const char *)sqlite3_column_text(q, 2));
    int_field(j, "version", sqlite3_column_int64(q, 3));
    ipp_json_raw(j, ", ", 2);
    key(j, "columns");
    columns(j, (const char *)sqlite3_column_text(q, 4));
    int_field(j, "rows",
              one_int(db, "SELECT COALESCE(MAX(seq) + 1, 0) FROM rows WHERE series = ?", id, 0));
    ipp_json_raw(j, ", ", 2);
    key(j, "created");
    num(j, sqlite3_column_double(q, 5));
    ipp_json_raw(j, ", ", 2);
    key(j, "last");
    num(j, last_time(db, id));
    labels(j, st, id);
    ipp_json_raw(j, "}", 1);
    return fits(j, mark);
}

int ipp_query_series(const char *dir, const ipp_query_t *qr, char **json, size_t *len)
{
    size_t cap;
    int rc = 0;
    ipp_json_t j;
    char *buf = answer_buf(qr->max_bytes, &cap);
    if (!buf)
        return -1;
    ipp_json_init(&j, buf, cap - 32); /* room for the closing text, whatever happens */
    ipp_json_raw(&j, "{\"series\": [", 12);
    ipp_store_t *st = open_store(dir);
    bool truncated = false, first = true;
    sqlite3_stmt *q = NULL;
    /* The latest version of each series, with how many versions there are. */
    if (st && sqlite3_prepare_v2(ipp__store_db(st),
                                 "SELECT id, session, name, version, columns, created FROM"
                                 " series s WHERE version = (SELECT MAX(version) FROM series"
                                 " WHERE session = s.session AND name = s.name)"
                                 " ORDER BY session, name",
                                 -1, &q, NULL) != SQLITE_OK)
        rc = -1;
    while (q && !truncated && sqlite3_step(q) == SQLITE_ROW) {
        const char *session = (const char *)sqlite3_column_text(q, 1);
        if (!session || !ipp_query_owns(qr->owner, session))
            continue;
        if (list_entry(&j, st, q, first))
            first = false;
        else
            truncated = true;
    }
    sqlite3_finalize(q);
    ipp_store_close(st);
    j.cap = cap;
    ipp_json_raw(&j, truncated ? "], \"truncated\": true}" : "], \"truncated\": false}",
                 truncated ? 21 : 22);
    if (rc < 0) {
        free(buf);
        return -1;
    }
    return finish(&j, json, len);
}

/* The head of a rows answer: which series, its columns and how many rows it has. */
static void rows_head(ipp_json_t *j, const ipp_query_t *qr, const ipp_series_info_t *info,
                      sqlite3 *db)
{
    sqlite3_stmt *q;
    ipp_json_raw(j, "{", 1);
    key(j, "session");
    ipp_json_str(j, qr->session);
    ipp_json_raw(j, ", ", 2);
    key(j, "name");
    ipp_json_str(j, qr->name);
    int_field(j, "version", info->version);
    ipp_json_raw(j, ", ", 2);
    key(j, "columns");
    if (sqlite3_prepare_v2(db, "SELECT columns FROM series WHERE id = ?", -1, &q, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_int64(q, 1, info->id);
        columns(j, sqlite3_step(q) == SQLITE_ROW ? (const char *)sqlite3_column_text(q, 0)
                                                 : NULL);
        sqlite3_finalize(q);
    } else {
        columns(j, NULL);
    }
    int_field(j, "total", info->nrows);
    int_field(j, "since", qr->since);
}

/* Values are little-endian doubles, as store.c packs them. */
static double value_at(const uint8_t *b)
{
    uint64_t u = 0;
    for (int i = 7; i >= 0; i--)
        u = u << 8 | b[i];
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/* One row, [v1, v2, ...], with ncols values (missing ones null); false if it did not
 * fit (j rolled back). */
static bool one_row(ipp_json_t *j, sqlite3_stmt *q, size_t ncols, bool first)
{
    size_t mark = j->len;
    const uint8_t *b = sqlite3_column_blob(q, 1);
    size_t n = (size_t)sqlite3_column_bytes(q, 1) / 8;
    ipp_json_raw(j, first ? "[" : ", [", first ? 1 : 3);
    for (size_t c = 0; c < ncols; c++) {
        if (c)
            ipp_json_raw(j, ", ", 2);
        num(j, c < n ? value_at(b + 8 * c) : NAN);
    }
    ipp_json_raw(j, "]", 1);
    return fits(j, mark);
}

int ipp_query_rows(const char *dir, const ipp_query_t *qr, char **json, size_t *len)
{
    ipp_series_info_t info;
    if (!qr->session || !qr->name || !ipp_query_owns(qr->owner, qr->session))
        return 1;
    ipp_store_t *st = open_store(dir);
    if (!st)
        return 1;
    int rc = ipp_store_find(st, qr->session, qr->name, qr->version < 0 ? 0 : qr->version, &info);
    if (rc) {
        ipp_store_close(st);
        return rc;
    }
    size_t cap;
    char *buf = answer_buf(qr->max_bytes, &cap);
    char *tbuf = malloc(cap / 2);
    sqlite3_stmt *q = NULL;
    sqlite3 *db = ipp__store_db(st);
    if (!buf || !tbuf || sqlite3_prepare_v2(db,
                                   "SELECT seq, vals, t FROM rows WHERE series = ? AND seq >= ?"
                                   " ORDER BY seq LIMIT ?",
                                   -1, &q, NULL) != SQLITE_OK) {
        free(tbuf);
        free(buf);
        ipp_store_close(st);
        return -1;
    }
    int64_t since = qr->since < 0 ? 0 : qr->since;
    int64_t limit = qr->limit <= 0 ? DEFAULT_LIMIT : qr->limit > MAX_LIMIT ? MAX_LIMIT : qr->limit;
    /* Two arrays grow side by side, each in half the limit (less room for the closing
     * text): the rows in buf, their arrival times in tbuf, copied after them at the end. */
    ipp_json_t j, t;
    ipp_json_init(&j, buf, cap / 2);
    ipp_json_init(&t, tbuf, cap / 2 - 128);
    ipp_query_t head = *qr;
    head.since = since;
    rows_head(&j, &head, &info, db);
    ipp_json_raw(&j, ", \"rows\": [", 11);
    int64_t next = since, got = 0;
    bool full = j.err;
    sqlite3_bind_int64(q, 1, info.id);
    sqlite3_bind_int64(q, 2, since);
    sqlite3_bind_int64(q, 3, limit);
    int step = SQLITE_DONE;
    while (!full && (step = sqlite3_step(q)) == SQLITE_ROW) {
        size_t tmark = t.len;
        if (got)
            ipp_json_raw(&t, ", ", 2);
        num(&t, sqlite3_column_double(q, 2));
        if (t.err || !one_row(&j, q, info.ncols, got == 0)) {
            full = true;
            t.len = tmark;
            break;
        }
        next = sqlite3_column_int64(q, 0) + 1;
        got++;
    }
    sqlite3_finalize(q);
    ipp_store_close(st);
    if ((step != SQLITE_ROW && step != SQLITE_DONE) || (full && got == 0)) {
        free(tbuf);
        free(buf);
        return -1; /* not even one row fits, or the read failed */
    }
    /* Join: rows, then the times, then the tail. The buffer is cap bytes. */
    j.cap = cap;
    j.err = 0;
    ipp_json_raw(&j, "], \"received\": [", 16);
    ipp_json_raw(&j, tbuf, t.len);
    ipp_json_raw(&j, "]", 1);
    int_field(&j, "next", next);
    ipp_json_raw(&j, next < info.nrows ? ", \"more\": true}" : ", \"more\": false}",
                 next < info.nrows ? 15 : 16);
    free(tbuf);
    return finish(&j, json, len);
}
