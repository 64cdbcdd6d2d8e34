/*
 * store.c - every series in one SQLite database in the output folder.
 *
 * A series is a (session, name, version) with its column names; a new_series of an
 * existing name adds a version, so older data stays queryable. Each row is one record
 * keyed by (series, seq) holding its arrival time and its values packed as little-endian
 * doubles in a blob: one insert per row, no per-value records, which keeps ingest fast.
 * The database runs in WAL mode so the exporter thread reads while ingest writes.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "iotplot/plotclient.h"
#include "plot_internal.h"

struct ipp_store {
    sqlite3 *db;
    sqlite3_stmt *ins_row, *ins_series, *max_version;
    int depth;
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS series("
    " id INTEGER PRIMARY KEY, session TEXT NOT NULL, name TEXT NOT NULL,"
    " version INTEGER NOT NULL, columns TEXT NOT NULL, created REAL NOT NULL,"
    " UNIQUE(session, name, version));"
    "CREATE TABLE IF NOT EXISTS rows("
    " series INTEGER NOT NULL, seq INTEGER NOT NULL, t REAL NOT NULL, vals BLOB NOT NULL,"
    " PRIMARY KEY(series, seq)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS plots("
    " series INTEGER NOT NULL, t REAL NOT NULL, options TEXT NOT NULL);";

const char *ipp_store_errmsg(ipp_store_t *st)
{
    return st && st->db ? sqlite3_errmsg(st->db) : "no database";
}

int ipp__store_open(const char *path, bool readonly, ipp_store_t **out, char *err, size_t errlen)
{
    ipp_store_t *st = calloc(1, sizeof *st);
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (sqlite3_open_v2(path, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_busy_timeout(st->db, 5000);
    if (!readonly && sqlite3_exec(st->db, schema, NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    if (sqlite3_prepare_v2(st->db, "INSERT INTO rows(series, seq, t, vals) VALUES(?,?,?,?)",
                           -1, &st->ins_row, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db,
                           "INSERT INTO series(session, name, version, columns, created)"
                           " VALUES(?,?,?,?,?)",
                           -1, &st->ins_series, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db,
                           "SELECT COALESCE(MAX(version), 0) FROM series"
                           " WHERE session = ? AND name = ?",
                           -1, &st->max_version, NULL) != SQLITE_OK)
        goto fail;
    *out = st;
    return 0;
fail:
    snprintf(err, errlen, "%s: %s", path, st->db ? sqlite3_errmsg(st->db) : "cannot open");
    ipp_store_close(st);
    return -1;
}

int ipp_store_open(const char *dir, ipp_store_t **out, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, IPP_DB_NAME);
    if (ipp__store_open(path, true, out, err, errlen))
        return -1;
    /* pages read in place from a mapping rather than copied by a read() each: a million
     * rows come back about twice as fast */
    sqlite3_exec((*out)->db, "PRAGMA mmap_size=1073741824", NULL, NULL, NULL);
    return 0;
}

void ipp_store_close(ipp_store_t *st)
{
    if (!st)
        return;
    sqlite3_finalize(st->ins_row);
    sqlite3_finalize(st->ins_series);
    sqlite3_finalize(st->max_version);
    sqlite3_close(st->db);
    free(st);
}

void *ipp__store_db(ipp_store_t *st)
{
    return st->db;
}

int ipp__store_begin(ipp_store_t *st)
{
    return sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

int ipp__store_commit(ipp_store_t *st)
{
    return sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

void ipp__store_rollback(ipp_store_t *st)
{
    if (!sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

bool ipp__store_transient(ipp_store_t *st)
{
    switch (sqlite3_errcode(st->db) & 0xff) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_NOMEM:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
        return true;
    default:
        return false;
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int ipp__store_new_series(ipp_store_t *st, const char *session, const char *name,
                          const char *const *cols, size_t ncols, ipp_series_info_t *info)
{
    int rc = -1;
    size_t cap = 64;
    for (size_t i = 0; i < ncols; i++)
        cap += strlen(cols[i]) * 6 + 4; /* worst case: every byte \u-escaped */
    char *buf = malloc(cap);
    if (!buf)
        return -1;
    ipp_json_t j;
    ipp_json_init(&j, buf, cap);
    ipp_json_raw(&j, "[", 1);
    for (size_t i = 0; i < ncols; i++) {
        if (i)
            ipp_json_raw(&j, ", ", 2);
        ipp_json_str(&j, cols[i]);
    }
    ipp_json_raw(&j, "]", 1);
    if (j.err)
        goto done;
    sqlite3_stmt *q = st->max_version;
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, session, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_ROW)
        goto done;
    int64_t version = sqlite3_column_int64(q, 0) + 1;
    sqlite3_reset(q);
    q = st->ins_series;
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, session, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, version);
    sqlite3_bind_text(q, 4, buf, (int)j.len, SQLITE_STATIC);
    sqlite3_bind_double(q, 5, now_s());
    if (sqlite3_step(q) != SQLITE_DONE)
        goto done;
    sqlite3_reset(q);
    info->id = sqlite3_last_insert_rowid(st->db);
    info->version = version;
    info->ncols = ncols;
    info->nrows = 0;
    rc = 0;
done:
    free(buf);
    return rc;
}

/* Values are stored little-endian whatever the host, so the file moves between hosts. */
static void pack(uint8_t *out, const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t u;
        memcpy(&u, &v[i], 8);
        for (int b = 0; b < 8; b++)
            out[i * 8 + b] = (uint8_t)(u >> (8 * b));
    }
}

static double unpack1(const uint8_t *in)
{
    uint64_t u = 0;
    for (int b = 7; b >= 0; b--)
        u = u << 8 | in[b];
    double d;
    memcpy(&d, &u, 8);
    return d;
}

int ipp__store_append(ipp_store_t *st, int64_t id, int64_t seq, double t, const double *v,
                      size_t n)
{
    uint8_t blob[IPP_MAX_COLS * 8];
    if (n > IPP_MAX_COLS)
        return -1;
    pack(blob, v, n);
    sqlite3_stmt *q = st->ins_row;
    sqlite3_reset(q);
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_int64(q, 2, seq);
    sqlite3_bind_double(q, 3, t);
    sqlite3_bind_blob(q, 4, blob, (int)(n * 8), SQLITE_TRANSIENT);
    int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
    sqlite3_reset(q);
    return rc;
}

/* Count the column names in a stored JSON array (written by us: no NaN or nesting). */
static size_t count_columns(const char *json)
{
    ipp_jval_t v[IPP_MAX_COLS];
    size_t n = strlen(json);
    char *tmp = malloc(n + 1);
    const char *why;
    int c = tmp ? ipp_json_array(json, n, v, IPP_MAX_COLS, tmp, n + 1, &why) : -1;
    free(tmp);
    return c < 0 ? 0 : (size_t)c;
}

static int64_t row_count(ipp_store_t *st, int64_t id)
{
    sqlite3_stmt *q;
    int64_t n = -1;
    if (sqlite3_prepare_v2(st->db, "SELECT COALESCE(MAX(seq) + 1, 0) FROM rows WHERE series = ?",
                           -1, &q, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(q, 1, id);
    if (sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return n;
}

int ipp__store_each_latest(ipp_store_t *st, ipp_store_each_cb cb, void *arg)
{
    sqlite3_stmt *q;
    int rc = -1;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT id, session, name, version, columns FROM series s"
                           " WHERE version = (SELECT MAX(version) FROM series"
                           " WHERE session = s.session AND name = s.name)",
                           -1, &q, NULL) != SQLITE_OK)
        return -1;
    int step;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        ipp_series_info_t info = {.id = sqlite3_column_int64(q, 0),
                                  .version = sqlite3_column_int64(q, 3)};
        info.ncols = count_columns((const char *)sqlite3_column_text(q, 4));
        info.nrows = row_count(st, info.id);
        if (info.ncols && info.nrows >= 0)
            cb(arg, (const char *)sqlite3_column_text(q, 1),
               (const char *)sqlite3_column_text(q, 2), &info);
    }
    if (step == SQLITE_DONE)
        rc = 0;
    sqlite3_finalize(q);
    return rc;
}

int ipp__store_plot(ipp_store_t *st, int64_t id, const char *options, size_t len)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "INSERT INTO plots(series, t, options) VALUES(?,?,?)", -1,
                           &q, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_double(q, 2, now_s());
    sqlite3_bind_text(q, 3, options, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(q);
    return rc;
}

char *ipp_store_last_plot(ipp_store_t *st, int64_t id)
{
    sqlite3_stmt *q;
    char *out = NULL;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT options FROM plots WHERE series = ? ORDER BY t DESC,"
                           " rowid DESC LIMIT 1",
                           -1, &q, NULL) != SQLITE_OK)
        return NULL; /* an older store without the table: no options */
    sqlite3_bind_int64(q, 1, id);
    if (sqlite3_step(q) == SQLITE_ROW)
        out = strdup((const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    return out;
}

int ipp_store_list(ipp_store_t *st, ipp_store_list_cb cb, void *arg)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT id, session, name, version, columns, created FROM series"
                           " ORDER BY session, name, version",
                           -1, &q, NULL) != SQLITE_OK)
        return -1;
    int step;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        const char *cols = (const char *)sqlite3_column_text(q, 4);
        ipp_series_info_t info = {.id = sqlite3_column_int64(q, 0),
                                  .version = sqlite3_column_int64(q, 3),
                                  .ncols = count_columns(cols)};
        info.nrows = row_count(st, info.id);
        cb(arg, (const char *)sqlite3_column_text(q, 1), (const char *)sqlite3_column_text(q, 2),
           &info, cols, sqlite3_column_double(q, 5));
    }
    sqlite3_finalize(q);
    return step == SQLITE_DONE ? 0 : -1;
}

int ipp_store_find(ipp_store_t *st, const char *session, const char *name, int64_t version,
                   ipp_series_info_t *info)
{
    sqlite3_stmt *q;
    int rc = -1;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT id, version, columns FROM series WHERE session = ?"
                           " AND name = ? AND (? = 0 OR version = ?)"
                           " ORDER BY version DESC LIMIT 1",
                           -1, &q, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(q, 1, session, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, version);
    sqlite3_bind_int64(q, 4, version);
    int step = sqlite3_step(q);
    if (step == SQLITE_DONE) {
        rc = 1;
    } else if (step == SQLITE_ROW) {
        info->id = sqlite3_column_int64(q, 0);
        info->version = sqlite3_column_int64(q, 1);
        info->ncols = count_columns((const char *)sqlite3_column_text(q, 2));
        info->nrows = row_count(st, info->id);
        rc = 0;
    }
    sqlite3_finalize(q);
    return rc;
}

/* Column names of series `id` into d (allocated by ipp__data_init). */
static int read_names(ipp_store_t *st, int64_t id, ipp_data_t *d)
{
    sqlite3_stmt *q;
    int rc = -1;
    char *tmp = NULL;
    ipp_jval_t *v = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT columns FROM series WHERE id = ?", -1, &q, NULL) !=
        SQLITE_OK)
        return -1;
    sqlite3_bind_int64(q, 1, id);
    if (sqlite3_step(q) != SQLITE_ROW)
        goto done;
    const char *json = (const char *)sqlite3_column_text(q, 0);
    size_t n = strlen(json);
    const char *why;
    tmp = malloc(n + 1);
    v = malloc(sizeof *v * IPP_MAX_COLS);
    int c = tmp && v ? ipp_json_array(json, n, v, IPP_MAX_COLS, tmp, n + 1, &why) : -1;
    if (c <= 0)
        goto done;
    const char *names[IPP_MAX_COLS];
    for (int i = 0; i < c; i++)
        names[i] = v[i].type == IPP_JV_STR ? v[i].str : "";
    rc = ipp__data_init(d, names, (size_t)c);
done:
    free(tmp);
    free(v);
    sqlite3_finalize(q);
    return rc;
}

/* Rows of series `id` with seq in (after, upto), ascending or descending, appended to d
 * as read (values straight into its columns, grown as needed); *last is the seq of the
 * last row. SQLITE_DONE when all were read. */
static int read_rows(ipp_store_t *st, int64_t id, int64_t after, int64_t upto, bool desc,
                     ipp_data_t *d, size_t *cap, int64_t *last)
{
    sqlite3_stmt *q = NULL;
    const char *sql = desc ? "SELECT seq, vals, t FROM rows WHERE series = ? AND seq > ?"
                             " AND seq < ? ORDER BY seq DESC"
                           : "SELECT seq, vals, t FROM rows WHERE series = ? AND seq > ?"
                             " AND seq < ? ORDER BY seq";
    int step = sqlite3_prepare_v2(st->db, sql, -1, &q, NULL);
    if (step != SQLITE_OK)
        return step;
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_int64(q, 2, after);
    sqlite3_bind_int64(q, 3, upto < 0 ? INT64_MAX : upto);
    if (!d->t && *cap) { /* earlier rows of d (none here so far) have no time */
        if (!(d->t = malloc(*cap * sizeof *d->t)))
            step = SQLITE_NOMEM;
        for (size_t r = 0; d->t && r < d->nrows; r++)
            d->t[r] = NAN;
    }
    while (step != SQLITE_NOMEM && (step = sqlite3_step(q)) == SQLITE_ROW) {
        if (d->nrows == *cap) {
            size_t ncap = *cap ? *cap * 2 : 4096;
            for (size_t c = 0; c <= d->ncols; c++) {
                double **slot = c < d->ncols ? &d->cols[c] : &d->t;
                double *p = realloc(*slot, ncap * sizeof *p);
                if (!p) {
                    step = SQLITE_NOMEM;
                    break;
                }
                *slot = p;
            }
            if (step == SQLITE_NOMEM)
                break;
            *cap = ncap;
        }
        const uint8_t *b = sqlite3_column_blob(q, 1);
        size_t n = (size_t)sqlite3_column_bytes(q, 1) / 8, r = d->nrows;
        for (size_t c = 0; c < d->ncols; c++)
            d->cols[c][r] = c < n ? unpack1(b + 8 * c) : NAN;
        d->t[r] = sqlite3_column_double(q, 2);
        d->nrows++;
        *last = sqlite3_column_int64(q, 0);
    }
    sqlite3_finalize(q);
    return step;
}

/* Series of at least this many rows are read in two halves, on two connections at once:
 * SQLite's own work per row (some 100 ns) is most of the time a million rows take. */
#define SPLIT_ROWS 200000

typedef struct {
    ipp_store_t st; /* a second connection, only st.db set */
    int64_t id, after, upto, last;
    ipp_data_t d;
    size_t cap;
    int rc;
} half_t;

static void *read_half(void *arg)
{
    half_t *h = arg;
    h->rc = read_rows(&h->st, h->id, h->after, h->upto, false, &h->d, &h->cap, &h->last);
    return NULL;
}

/* Append src's rows to d (both timed, d's columns room for *cap rows). */
static int append_rows(ipp_data_t *d, size_t *cap, const ipp_data_t *src)
{
    size_t need = d->nrows + src->nrows;
    for (size_t c = 0; c <= d->ncols && need > *cap; c++) {
        double **slot = c < d->ncols ? &d->cols[c] : &d->t;
        double *p = realloc(*slot, need * sizeof *p);
        if (!p)
            return -1;
        *slot = p;
    }
    *cap = need > *cap ? need : *cap;
    for (size_t c = 0; c <= d->ncols; c++)
        memcpy((c < d->ncols ? d->cols[c] : d->t) + d->nrows,
               c < d->ncols ? src->cols[c] : src->t, src->nrows * sizeof(double));
    d->nrows = need;
    return 0;
}

/*
 * The forward read of ipp_store_read_readable() as two halves at once: SQLITE_DONE when
 * both halves came back whole (rows 0 ... n - 1, none missing), with d and *last as the
 * one-pass read leaves them. Anything else (a small series, no second connection, a
 * damaged page or a gap: the one pass handles those) leaves d empty.
 */
static int read_split(ipp_store_t *st, int64_t id, int64_t upto, ipp_data_t *d, size_t *cap,
                      int64_t *last)
{
    int64_t n = row_count(st, id);
    if (upto >= 0 && upto < n)
        n = upto;
    const char *file = sqlite3_db_filename(st->db, "main");
    if (n < SPLIT_ROWS || !file || !*file)
        return SQLITE_MISUSE;
    half_t *h = calloc(1, sizeof *h);
    int rc = SQLITE_MISUSE;
    if (!h || ipp__data_init(&h->d, (const char *const *)d->names, d->ncols))
        goto done;
    if (sqlite3_open_v2(file, &h->st.db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK)
        goto done;
    sqlite3_exec(h->st.db, "PRAGMA mmap_size=1073741824", NULL, NULL, NULL);
    int64_t mid = n / 2;
    *h = (half_t){.st = h->st, .d = h->d, .id = id, .after = mid - 1, .upto = n, .last = -1};
    pthread_t th;
    if (pthread_create(&th, NULL, read_half, h))
        goto done;
    rc = read_rows(st, id, -1, mid, false, d, cap, last);
    pthread_join(th, NULL);
    if (rc == SQLITE_DONE && h->rc == SQLITE_DONE && d->nrows == (size_t)mid &&
        h->d.nrows == (size_t)(n - mid) && append_rows(d, cap, &h->d) == 0) {
        *last = h->last;
    } else {
        rc = SQLITE_MISUSE;
        d->nrows = 0;
        *last = -1;
    }
done:
    if (h) {
        sqlite3_close(h->st.db);
        ipp_data_free(&h->d);
        free(h);
    }
    return rc;
}

int ipp_store_read(ipp_store_t *st, int64_t id, int64_t upto, ipp_data_t *d)
{
    size_t cap = 0;
    int64_t last = -1;
    memset(d, 0, sizeof *d);
    if (read_names(st, id, d))
        return -1;
    if (read_rows(st, id, -1, upto, false, d, &cap, &last) != SQLITE_DONE) {
        ipp_data_free(d);
        return -1;
    }
    return 0;
}

int ipp_store_read_readable(ipp_store_t *st, int64_t id, int64_t upto, ipp_data_t *d,
                            int64_t *missing)
{
    size_t cap = 0, tcap = 0;
    int64_t last = -1, top = -1, ignored;
    ipp_data_t tail = {0};
    *missing = 0;
    memset(d, 0, sizeof *d);
    if (read_names(st, id, d))
        return -1;
    int rc = read_split(st, id, upto, d, &cap, &last);
    if (rc != SQLITE_DONE)
        rc = read_rows(st, id, -1, upto, false, d, &cap, &last);
    bool clean = rc == SQLITE_DONE;
    if ((rc & 0xff) == SQLITE_NOMEM)
        goto fail;
    /* what lies after damaged pages, read from the end backwards; always, since a damaged
     * inner page can also end the forward read early without an error */
    if (ipp__data_init(&tail, (const char *const *)d->names, d->ncols))
        goto fail;
    rc = read_rows(st, id, last, upto, true, &tail, &tcap, &ignored);
    clean &= rc == SQLITE_DONE;
    if (tail.nrows) {
        /* the first row read backwards is the series' last */
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(st->db,
                               "SELECT seq FROM rows WHERE series = ? AND seq > ? AND seq < ?"
                               " ORDER BY seq DESC LIMIT 1",
                               -1, &q, NULL) == SQLITE_OK) {
            sqlite3_bind_int64(q, 1, id);
            sqlite3_bind_int64(q, 2, last);
            sqlite3_bind_int64(q, 3, upto < 0 ? INT64_MAX : upto);
            if (sqlite3_step(q) == SQLITE_ROW)
                top = sqlite3_column_int64(q, 0);
            sqlite3_finalize(q);
        }
    }
    double row[IPP_MAX_COLS];
    for (size_t r = tail.nrows; r-- > 0;) {
        for (size_t c = 0; c < d->ncols; c++)
            row[c] = tail.cols[c][r];
        if (ipp__data_push_timed(d, row, tail.t ? tail.t[r] : NAN, &cap))
            goto fail;
    }
    ipp_data_free(&tail);
    if (top < 0)
        top = last;
    /* seq runs 0, 1, 2...: a gap is a row lost */
    *missing = top + 1 - (int64_t)d->nrows;
    if (*missing == 0 && !clean)
        *missing = -1;
    return 0;
fail:
    ipp_data_free(&tail);
    ipp_data_free(d);
    return -1;
}
