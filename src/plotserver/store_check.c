/*
 * store_check.c - the store's health at start.
 *
 * The server never refuses to start because of its own file. A store that SQLite finds
 * damaged (PRAGMA quick_check), that is not a database (truncated header, a PNG, random
 * bytes) or that is a database of something else (not our tables) is moved aside under
 * a timestamped name, with its -wal and -shm, and the server starts with a new store.
 * When the file is ours but damaged in places (the pages of some series' rows), the new
 * store first receives everything still readable: every series, and of each series the
 * rows before and after the damaged pages. A damaged store is not kept in service: every
 * read or write of the damaged series would fail again, and writing into a damaged
 * b-tree can spread the damage. The original stays beside it, untouched, for whoever
 * wants to look further.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "server_int.h"

/* Damaged series named one line each, at most this many (then a count). */
#define MAX_NAMED 20

/* Our tables and the columns we read: anything else is a file of another program. */
static const char *const probes[] = {
    "SELECT id, session, name, version, columns, created FROM series LIMIT 0",
    "SELECT series, seq, t, vals FROM rows LIMIT 0",
    "SELECT series, t, options FROM plots LIMIT 0",
};

typedef enum { CHECK_OK, CHECK_DAMAGED, CHECK_FOREIGN, CHECK_ERROR } check_t;

/* Damage SQLite reports, as opposed to a lock or a full disk (those are no reason to
 * move a store aside: another server may be using it). */
static bool is_damage(int rc)
{
    return (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB ||
           (rc & 0xff) == SQLITE_FORMAT || rc == SQLITE_IOERR_SHORT_READ /* truncated */;
}

static check_t check(sqlite3 *db, char *why, size_t cap)
{
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &q, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *r = (const char *)sqlite3_column_text(q, 0);
        if (r && strcmp(r, "ok")) {
            /* the first line naming a page, not the "*** in database main ***" header */
            const char *line = strstr(r, "\n") ? strstr(r, "\n") + 1 : r;
            snprintf(why, cap, "damaged (quick_check: %.*s)", (int)strcspn(line, "\n"), line);
            sqlite3_finalize(q);
            return CHECK_DAMAGED;
        }
        rc = SQLITE_OK;
    }
    sqlite3_finalize(q);
    if ((rc & 0xff) == SQLITE_CORRUPT || rc == SQLITE_IOERR_SHORT_READ) {
        /* too damaged to list its damage (a truncated file): copy what can be read */
        snprintf(why, cap, "damaged (%s)", sqlite3_errmsg(db));
        return CHECK_DAMAGED;
    }
    if (rc != SQLITE_OK) {
        bool damage = is_damage(rc);
        snprintf(why, cap, damage ? "not a plot store (%s)" : "%s", sqlite3_errmsg(db));
        return damage ? CHECK_FOREIGN : CHECK_ERROR;
    }
    int ours = 0, others = 0;
    rc = sqlite3_prepare_v2(db,
                            "SELECT name IN ('series', 'rows', 'plots') FROM sqlite_schema"
                            " WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
                            -1, &q, NULL);
    while (rc == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
        sqlite3_column_int(q, 0) ? ours++ : others++;
    sqlite3_finalize(q);
    if (ours == 0 && others == 0)
        return CHECK_OK; /* an empty database: the schema is made on open */
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        if (sqlite3_prepare_v2(db, probes[i], -1, &q, NULL) != SQLITE_OK) {
            snprintf(why, cap, "not a plot store (%s)", sqlite3_errmsg(db));
            sqlite3_finalize(q);
            return CHECK_FOREIGN;
        }
        sqlite3_finalize(q);
    }
    return CHECK_OK;
}

/* ---- copying what is readable --------------------------------------------------------- */

typedef struct {
    ipp_server_t *s;
    sqlite3 *db;  /* the damaged file, read only in autocommit (damage may end a
                     transaction), and the new store, written in one transaction */
    sqlite3 *out;
    sqlite3_stmt *ins_row;
    int64_t series, rows, damaged;
} salvage_t;

/* Copy the rows of one series: forward until the damage, then backward from the end
 * until it again (a damaged inner page can also end a read early without an error, so
 * the backward pass always runs). Returns how many rows were copied; *lost is how many
 * of the rows the series had are missing (-1: some, not known how many). */
static int64_t copy_rows(salvage_t *sv, int64_t id, int64_t *lost)
{
    static const char *const dirs[] = {
        "SELECT seq, t, vals FROM main.rows WHERE series = ? AND seq > ? ORDER BY seq",
        "SELECT seq, t, vals FROM main.rows WHERE series = ? AND seq > ? ORDER BY seq DESC",
    };
    int64_t copied = 0, last = -1, top = -1;
    bool clean = true;
    for (int d = 0; d < 2; d++) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(sv->db, dirs[d], -1, &q, NULL) != SQLITE_OK) {
            clean = false;
            break;
        }
        sqlite3_bind_int64(q, 1, id);
        sqlite3_bind_int64(q, 2, last);
        int step;
        while ((step = sqlite3_step(q)) == SQLITE_ROW) {
            int64_t seq = sqlite3_column_int64(q, 0);
            if (d == 0)
                last = seq;
            else if (top < 0)
                top = seq;
            sqlite3_stmt *w = sv->ins_row;
            sqlite3_reset(w);
            sqlite3_bind_int64(w, 1, id);
            sqlite3_bind_int64(w, 2, seq);
            sqlite3_bind_double(w, 3, sqlite3_column_double(q, 1));
            sqlite3_bind_blob(w, 4, sqlite3_column_blob(q, 2), sqlite3_column_bytes(q, 2),
                              SQLITE_TRANSIENT);
            if (sqlite3_step(w) == SQLITE_DONE)
                copied++;
        }
        clean &= step == SQLITE_DONE;
        sqlite3_finalize(q);
    }
    if (top < 0)
        top = last;
    /* seq runs 0, 1, 2...: a gap is a row lost */
    *lost = top + 1 - copied;
    if (*lost == 0 && !clean)
        *lost = -1;
    return copied;
}

static void copy_series(salvage_t *sv)
{
    static const char *const dirs[] = {
        "SELECT id, session, name, version, columns, created FROM main.series ORDER BY id",
        "SELECT id, session, name, version, columns, created FROM main.series"
        " WHERE id > ? ORDER BY id DESC",
    };
    sqlite3_stmt *ins;
    if (sqlite3_prepare_v2(sv->out,
                           "INSERT OR IGNORE INTO series(id, session, name, version,"
                           " columns, created) VALUES(?,?,?,?,?,?)",
                           -1, &ins, NULL) != SQLITE_OK)
        return;
    int64_t last = -1;
    bool whole = false;
    for (int d = 0; d < 2 && !whole; d++) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(sv->db, dirs[d], -1, &q, NULL) != SQLITE_OK)
            break;
        if (d)
            sqlite3_bind_int64(q, 1, last);
        int step;
        while ((step = sqlite3_step(q)) == SQLITE_ROW) {
            int64_t id = sqlite3_column_int64(q, 0);
            last = d ? last : id;
            sqlite3_reset(ins);
            for (int c = 0; c < 6; c++)
                sqlite3_bind_value(ins, c + 1, sqlite3_column_value(q, c));
            if (sqlite3_step(ins) != SQLITE_DONE)
                continue;
            int64_t lost;
            sv->series++;
            sv->rows += copy_rows(sv, id, &lost);
            if (lost && sv->damaged++ < MAX_NAMED) {
                char n[64];
                snprintf(n, sizeof n, lost > 0 ? "%lld rows" : "some rows", (long long)lost);
                ipp__log(sv->s, "store: series '%s' of session '%s' (version %lld) is damaged: "
                         "%s could not be read; the rest is kept",
                         (const char *)sqlite3_column_text(q, 2),
                         (const char *)sqlite3_column_text(q, 1),
                         (long long)sqlite3_column_int64(q, 3), n);
            }
        }
        whole = step == SQLITE_DONE;
        sqlite3_finalize(q);
    }
    sqlite3_finalize(ins);
}

static void copy_plots(salvage_t *sv)
{
    static const char *const dirs[] = {
        "SELECT rowid, series, t, options FROM main.plots ORDER BY rowid",
        "SELECT rowid, series, t, options FROM main.plots WHERE rowid > ? ORDER BY rowid DESC",
    };
    int64_t last = -1;
    bool whole = false;
    for (int d = 0; d < 2 && !whole; d++) {
        sqlite3_stmt *q, *ins;
        if (sqlite3_prepare_v2(sv->db, dirs[d], -1, &q, NULL) != SQLITE_OK)
            break;
        if (sqlite3_prepare_v2(sv->out,
                               "INSERT INTO plots(rowid, series, t, options)"
                               " VALUES(?,?,?,?)",
                               -1, &ins, NULL) != SQLITE_OK) {
            sqlite3_finalize(q);
            break;
        }
        if (d)
            sqlite3_bind_int64(q, 1, last);
        int step;
        while ((step = sqlite3_step(q)) == SQLITE_ROW) {
            last = d ? last : sqlite3_column_int64(q, 0);
            sqlite3_reset(ins);
            for (int c = 0; c < 4; c++)
                sqlite3_bind_value(ins, c + 1, sqlite3_column_value(q, c));
            sqlite3_step(ins);
        }
        whole = step == SQLITE_DONE;
        sqlite3_finalize(ins);
        sqlite3_finalize(q);
    }
}

/* Everything readable from the open damaged file into a new store at `fresh`. */
static int salvage(salvage_t *sv, const char *fresh, char *err, size_t errlen)
{
    ipp_store_t *st;
    if (ipp__store_open(fresh, false, &st, err, errlen)) /* makes our schema */
        return -1;
    ipp_store_close(st);
    int rc = sqlite3_open_v2(fresh, &sv->out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(sv->out, "BEGIN", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(sv->out,
                                "INSERT OR IGNORE INTO rows(series, seq, t, vals)"
                                " VALUES(?,?,?,?)",
                                -1, &sv->ins_row, NULL);
    if (rc == SQLITE_OK) {
        copy_series(sv);
        copy_plots(sv);
        rc = sqlite3_exec(sv->out, "COMMIT", NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK)
        snprintf(err, errlen, "%s", sv->out ? sqlite3_errmsg(sv->out) : "cannot open");
    sqlite3_finalize(sv->ins_row);
    sv->ins_row = NULL;
    sqlite3_close(sv->out);
    sv->out = NULL;
    return rc == SQLITE_OK ? 0 : -1;
}

/* ---- a truncated file ---------------------------------------------------------------- */

/*
 * A file cut short still says in its header how many pages it had, and SQLite then
 * refuses every read. Returns the pages the file holds when it is an SQLite file shorter
 * than its header says, else 0.
 */
static uint32_t truncated_pages(const char *path, uint32_t *said)
{
    uint8_t h[100];
    struct stat sb;
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(h, 1, sizeof h, f) : 0;
    if (f)
        fclose(f);
    if (n < sizeof h || memcmp(h, "SQLite format 3", 16) || stat(path, &sb))
        return 0;
    uint32_t ps = (uint32_t)h[16] << 8 | h[17];
    ps = ps == 1 ? 65536 : ps;
    *said = (uint32_t)h[28] << 24 | (uint32_t)h[29] << 16 | (uint32_t)h[30] << 8 | h[31];
    if (ps < 512 || (uint64_t)*said * ps <= (uint64_t)sb.st_size)
        return 0;
    return (uint32_t)((uint64_t)sb.st_size / ps);
}

/* Copy from to to (the store's -wal too), the header's page count set to `pages`, so
 * SQLite reads the pages that are there. */
static int copy_patched(const char *from, const char *to, uint32_t pages)
{
    char f2[4300], t2[4300];
    for (int i = 0; i < 2; i++) {
        snprintf(f2, sizeof f2, "%s%s", from, i ? "-wal" : "");
        snprintf(t2, sizeof t2, "%s%s", to, i ? "-wal" : "");
        FILE *in = fopen(f2, "rb"), *out = in ? fopen(t2, "wb") : NULL;
        char buf[65536];
        size_t n, at = 0;
        bool ok = in && out;
        while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0) {
            if (i == 0 && at == 0 && n >= 32) {
                buf[28] = (char)(pages >> 24), buf[29] = (char)(pages >> 16);
                buf[30] = (char)(pages >> 8), buf[31] = (char)pages;
            }
            ok = fwrite(buf, 1, n, out) == n;
            at += n;
        }
        if (in)
            fclose(in);
        if (out && fclose(out))
            ok = false;
        if (!ok && (i == 0 || in))
            return -1; /* no -wal is fine */
    }
    return 0;
}

/* ---- moving aside --------------------------------------------------------------------- */

/* Rename path (and its -wal, -shm) to path.corrupt-<UTC time>; the new name in aside. */
static int move_aside(const char *path, char *aside, size_t cap)
{
    char stamp[32], from[4200], to[4200];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(aside, cap, "%s.corrupt-%s", path, stamp);
    for (int n = 2; access(aside, F_OK) == 0 && n < 100; n++) /* a second one this second */
        snprintf(aside, cap, "%s.corrupt-%s-%d", path, stamp, n);
    if (rename(path, aside))
        return -1;
    /* SQLite pairs "<file>-wal" with "<file>": the moved store keeps its journal */
    static const char *const sfx[] = {"-wal", "-shm"};
    for (int i = 0; i < 2; i++) {
        snprintf(from, sizeof from, "%s%s", path, sfx[i]);
        snprintf(to, sizeof to, "%s%s", aside, sfx[i]);
        if (rename(from, to) && errno != ENOENT)
            unlink(from);
    }
    return 0;
}

/* The patched copy of a truncated file and what SQLite made beside it. */
static void remove_copy(const char *path, const char *src)
{
    char p[4300];
    if (!strcmp(path, src))
        return;
    static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", src, sfx[i]);
        unlink(p);
    }
}

int ipp__store_check(ipp_server_t *s, const char *path, char *err, size_t errlen)
{
    struct stat sb;
    if (stat(path, &sb))
        return 0; /* none yet: a new store */
    if (S_ISREG(sb.st_mode) && sb.st_size == 0) {
        ipp__log(s, "store: %s is empty (0 bytes): starting a new store", path);
        return 0;
    }
    sqlite3 *db = NULL;
    char why[300] = "cannot open", src[4200];
    uint32_t said = 0, pages = truncated_pages(path, &said);
    check_t c = CHECK_FOREIGN;
    /* a truncated file is read through a copy that says how long it is */
    snprintf(src, sizeof src, "%s%s", path, pages ? ".truncated" : "");
    if (pages && copy_patched(path, src, pages))
        snprintf(src, sizeof src, "%s", path);
    int rc = sqlite3_open_v2(src, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        /* closing must not checkpoint the journal into a file we are about to move aside */
        sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
        sqlite3_extended_result_codes(db, 1);
        sqlite3_busy_timeout(db, 5000);
        c = check(db, why, sizeof why);
        if (pages) {
            snprintf(why, sizeof why, "truncated (%lu of its %lu pages)", (unsigned long)pages,
                     (unsigned long)said);
            c = CHECK_DAMAGED;
        }
    } else {
        c = is_damage(rc) ? CHECK_FOREIGN : CHECK_ERROR;
        snprintf(why, sizeof why, c == CHECK_FOREIGN ? "not a plot store (%s)" : "%s",
                 db ? sqlite3_errmsg(db) : "cannot open");
    }
    if (c == CHECK_OK || c == CHECK_ERROR) {
        sqlite3_close(db);
        remove_copy(path, src);
        if (c == CHECK_ERROR)
            snprintf(err, errlen, "%s: cannot check the store: %s", path, why);
        return c == CHECK_OK ? 0 : -1;
    }
    char fresh[4200], aside[4200], serr[256] = "";
    salvage_t sv = {.s = s, .db = db};
    snprintf(fresh, sizeof fresh, "%s.salvage", path);
    unlink(fresh);
    int saved = c == CHECK_DAMAGED ? salvage(&sv, fresh, serr, sizeof serr) : -1;
    sqlite3_close(db);
    remove_copy(path, src);
    if (move_aside(path, aside, sizeof aside)) {
        snprintf(err, errlen, "%s is %s, and cannot be moved aside: %s", path, why,
                 strerror(errno));
        unlink(fresh);
        return -1;
    }
    if (saved == 0 && rename(fresh, path) == 0) {
        ipp__log(s, "store: %s was %s; moved to %s; a new store holds the %lld series and "
                 "%lld rows still readable%s",
                 path, why, aside, (long long)sv.series, (long long)sv.rows,
                 sv.damaged ? " (the damaged series are named above)" : "");
    } else {
        unlink(fresh);
        ipp__log(s, "store: %s was %s; moved to %s; starting a new store%s%s", path, why,
                 aside, c == CHECK_DAMAGED ? "; the readable rows could not be copied: " : "",
                 c == CHECK_DAMAGED ? serr : "");
    }
    if (sv.damaged > MAX_NAMED)
        ipp__log(s, "store: and %lld more damaged series", (long long)(sv.damaged - MAX_NAMED));
    return 0;
}
