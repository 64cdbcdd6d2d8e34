/*
 * plotserver.h - the plot server: iot-plot messages in, series in SQLite and files out;
 * and the pieces tools build on: series in memory, the data files the server writes and
 * `iotplot plot` reads, the store read back, and the figure options of plot_series.
 *
 * The server does not know how messages arrive: `iotplot plotserver` feeds it from an
 * MQTT client subscribed to a broker, `iotplot serve` from inside our broker. Either way
 * every message goes to ipp_server_handle(), which only copies it into a bounded queue,
 * so it never blocks the network thread. One ingest thread applies the messages in
 * arrival order to the store (batched in transactions); save_series and plot_series
 * become jobs for a writer thread that reads the committed rows back, renders or exports
 * them to a temporary file and renames it into place, so a file that exists is complete.
 *
 * Example:
 *
 *     ipp_server_config_t cfg = {.dir = "plots"};
 *     ipp_server_t *s;
 *     char err[256];
 *     if (ipp_server_create(&cfg, &s, err, sizeof err)) die(err);
 *     ... for each message: ipp_server_handle(s, topic, tlen, payload, plen);
 *     ipp_server_destroy(s);   // applies and writes everything received first
 */
#ifndef IOTPLOT_PLOTSERVER_H
#define IOTPLOT_PLOTSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ipp_server ipp_server_t;

/* One line without its newline (a problem with a message, a file written...). */
typedef void (*ipp_log_fn)(void *arg, const char *line);
/* A file was written: `path` is relative to the output folder. */
typedef void (*ipp_file_fn)(void *arg, const char *session, const char *series,
                            const char *path);

typedef struct {
    const char *dir;    /* output folder, created if missing; holds the store */
    size_t max_payload; /* larger messages are logged and dropped; 0 = 1 MiB */
    size_t max_queue;   /* bytes waiting to be applied; beyond it messages are dropped
                           with a log line; 0 = 256 MiB */
    ipp_log_fn log;     /* NULL: lines go to stderr */
    void *log_arg;
    ipp_file_fn on_file; /* optional */
    void *file_arg;
} ipp_server_config_t;

typedef struct {
    uint64_t messages; /* handed to ipp_server_handle() */
    uint64_t rows;     /* data rows stored */
    uint64_t dropped;  /* messages refused (bad input, queue full) */
    uint64_t files;    /* files written */
} ipp_server_stats_t;

/*
 * Open (or create) the output folder and its store, load the latest version of every
 * series stored by an earlier run, and start the threads. 0, or -1 with err.
 */
int ipp_server_create(const ipp_server_config_t *cfg, ipp_server_t **out, char *err,
                      size_t errlen);

/*
 * One message, "<session>/<command>" and its payload. Thread-safe; copies what it needs
 * and returns at once. Problems are reported later through the log, one line each.
 */
void ipp_server_handle(ipp_server_t *s, const char *topic, size_t topic_len,
                       const uint8_t *payload, size_t len);

/*
 * The same for a message whose files belong to `owner` (the publisher's user name when
 * the broker authenticates): every file it asks for is written below the folder of
 * that name, "<owner>/<file>", so no one else's message can replace it. An owner that
 * is not one folder name (empty, '/', ".", "..", the store's own names) drops the
 * message with a log line. owner NULL is ipp_server_handle().
 */
void ipp_server_handle_owned(ipp_server_t *s, const char *owner, const char *topic,
                             size_t topic_len, const uint8_t *payload, size_t len);

/*
 * Wait until every message handed in so far is applied and every file it asked for is
 * written. 0, or -1 after timeout_ms (< 0: no limit).
 */
int ipp_server_sync(ipp_server_t *s, int timeout_ms);

void ipp_server_stats(ipp_server_t *s, ipp_server_stats_t *out);

/* The store's file name inside the output folder. */
const char *ipp_server_db_name(void);

/* Apply and write everything queued, stop the threads and free the server. */
void ipp_server_destroy(ipp_server_t *s);

/* ---- series in memory ----------------------------------------------------------------- */

/* The columns of a series, column-major: cols[c][r] is row r of column names[c]. Filled
 * by the readers and ipp_store_read(); owned by the caller, freed with ipp_data_free(). */
typedef struct {
    size_t ncols, nrows;
    char **names;
    double **cols;
} ipp_data_t;

/* Free what d holds and zero it (also safe on a zeroed or already freed d). */
void ipp_data_free(ipp_data_t *d);

/* ---- data files: what save_series writes and `iotplot plot` reads --------------------- */

/*
 * Readers: the whole input in buf[0..len), d filled (free it with ipp_data_free()).
 * 0, or -1 with a reason in err (malformed input, out of memory); d is then empty.
 * - pickle: a dict (or OrderedDict) of column name -> list of numbers, protocols 0-5, as
 *   the original server writes it; nothing but the two dict types is ever called, so a
 *   hostile pickle only produces an error.
 * - csv: a header of column names (RFC 4180 quoting), then one row of numbers per line.
 * - json: ours, {"series": s, "columns": [...], "rows": [[...], ...]}, or column-wise
 *   {"col": [...], ...}; NaN, Infinity and -Infinity are read as numbers.
 */
int ipp_read_pickle(const uint8_t *buf, size_t len, ipp_data_t *d, char *err, size_t errlen);
int ipp_read_csv(const char *buf, size_t len, ipp_data_t *d, char *err, size_t errlen);
int ipp_read_json(const char *buf, size_t len, ipp_data_t *d, char *err, size_t errlen);

/*
 * Read the file at `path` by its extension (.csv, .json, .pkl or .pickle, any case).
 * 0, or -1 with err (cannot read, too large, unknown extension, or the reader's reason).
 *
 *     ipp_data_t d;
 *     char err[256];
 *     if (ipp_read_file("sinusoid.pkl", &d, err, sizeof err)) die(err);
 *     printf("%zu rows\n", d.nrows);
 *     ipp_data_free(&d);
 */
int ipp_read_file(const char *path, ipp_data_t *d, char *err, size_t errlen);

/*
 * Exporters, written to f as the server writes them: 0, or -1 on a write error (errno
 * set). pickle: protocol 2, collections.OrderedDict of column -> list of float, exact
 * (what the original server writes). csv: a header, one line per row, the shortest
 * numbers that read back exactly, NaN/Infinity for non-finite values. json: row-wise
 * with `series` as its name, numbers as in the payloads.
 */
int ipp_write_pickle(FILE *f, const ipp_data_t *d);
int ipp_write_csv(FILE *f, const ipp_data_t *d);
int ipp_write_json(FILE *f, const char *series, const ipp_data_t *d);

/* ---- the series store, read back ------------------------------------------------------ */

typedef struct ipp_store ipp_store_t;

/* One version of one series. */
typedef struct {
    int64_t id;      /* its key in the store (for ipp_store_read, ipp_store_last_plot) */
    int64_t version; /* 1 for the first new_series of a name, then 2, 3... */
    size_t ncols;
    int64_t nrows;
} ipp_series_info_t;

/*
 * Open the store of the plot server's output folder `dir` read-only (a running server may
 * keep writing; reads see what it has committed). 0, or -1 with err (no store there, not
 * a database). Close it with ipp_store_close().
 *
 *     ipp_store_t *st;
 *     ipp_series_info_t info;
 *     ipp_data_t d;
 *     if (ipp_store_open("plots", &st, err, sizeof err)) die(err);
 *     if (ipp_store_find(st, "iot49", "sinusoid", 0, &info) == 0 &&
 *         ipp_store_read(st, info.id, -1, &d) == 0) { ... ipp_data_free(&d); }
 *     ipp_store_close(st);
 */
int ipp_store_open(const char *dir, ipp_store_t **out, char *err, size_t errlen);
void ipp_store_close(ipp_store_t *st); /* NULL is fine */

/* Find session/name, version 0 meaning the latest. 0, 1 if there is none, -1 on error. */
int ipp_store_find(ipp_store_t *st, const char *session, const char *name, int64_t version,
                   ipp_series_info_t *info);
/* Rows 0..upto of series `id` (upto < 0: all) with its column names. 0 or -1. */
int ipp_store_read(ipp_store_t *st, int64_t id, int64_t upto, ipp_data_t *d);
/* The options object of the latest plot_series of series `id` as received (JSON text,
 * malloc'd, the caller frees it), or NULL if it was never plotted. */
char *ipp_store_last_plot(ipp_store_t *st, int64_t id);

/* Every version of every series, by session, name and version: `columns` is the JSON
 * array of its column names, `created` seconds since the epoch. 0 or -1. */
typedef void (*ipp_store_list_cb)(void *arg, const char *session, const char *name,
                                  const ipp_series_info_t *info, const char *columns,
                                  double created);
int ipp_store_list(ipp_store_t *st, ipp_store_list_cb cb, void *arg);
/* The reason for the last failed call on st. */
const char *ipp_store_errmsg(ipp_store_t *st);

/* ---- figure options: the options object of plot_series -------------------------------- */

typedef struct {
    char *filename; /* as sent, NULL if absent */
    char *title, *xlabel, *ylabel;
    double width_in, height_in; /* figsize; 0: the default 5 x 3 inches */
    char **formats;             /* matplotlib format strings, one per line */
    size_t nformats;
    bool hist, xlog, ylog, grid;
} ipp_plotopts_t;

/*
 * Parse an options object (JSON text json[0..len); json NULL: every default, with grid
 * on). Unknown keys are ignored; a known key of the wrong type is an error, since half
 * the options would draw a figure nobody asked for. 0, or -1 with a reason in err and o
 * empty. Free o with ipp_plotopts_free().
 */
int ipp_plotopts_parse(const char *json, size_t len, ipp_plotopts_t *o, char *err,
                       size_t errlen);
void ipp_plotopts_free(ipp_plotopts_t *o);

/*
 * Draw d with options o into `path` (its extension picks .pdf, .png or .svg); dpi is the
 * PNG resolution, 0 for 100. d needs at least one column. 0, or -1 with err.
 *
 *     ipp_plotopts_t o;
 *     const char *json = "{\"xlabel\": \"Time [s]\", \"format\": [\"r--\"]}";
 *     if (ipp_plotopts_parse(json, strlen(json), &o, err, sizeof err)) die(err);
 *     if (ipp_figure_render(&d, &o, 0, "sinusoid.png", err, sizeof err)) die(err);
 *     ipp_plotopts_free(&o);
 */
int ipp_figure_render(const ipp_data_t *d, const ipp_plotopts_t *o, double dpi,
                      const char *path, char *err, size_t errlen);

/* ---- what the server reads from the network ------------------------------------------- */

/* Public so that fuzzers and tools exercise the very checks the server runs. */

typedef enum { IPP_JV_NULL, IPP_JV_BOOL, IPP_JV_NUM, IPP_JV_STR, IPP_JV_NESTED } ipp_jtype_t;

/* One item of a payload's top-level array. Strings are decoded (NUL-terminated, no NUL
 * inside); nested arrays and objects are left as raw text (the options object). */
typedef struct {
    ipp_jtype_t type;
    bool b;
    double num;
    const char *str; /* STR: decoded; NESTED: raw JSON text */
    size_t len;
} ipp_jval_t;

/*
 * Parse `s[0..n)` as a JSON array whose items are scalars (NaN, Infinity and -Infinity
 * accepted as numbers, as Python's json writes them) or nested values, at most maxvals
 * of them. Decoded strings go to strbuf[0..strcap). Returns the number of items, or -1
 * with a reason in *why.
 */
int ipp_json_array(const char *s, size_t n, ipp_jval_t *vals, size_t maxvals, char *strbuf,
                   size_t strcap, const char **why);

/* 0 if `rel` may name a file inside the output folder (save_series, plot_series), else
 * -1 and the reason: absolute, "." or ".." or empty components, control characters,
 * too long, or one of the store's own files. */
int ipp_path_check(const char *rel, const char **why);
/* Lower-case extension of a file name, without the dot ("" if none). */
void ipp_path_ext(const char *name, char *ext, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
