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

/*
 * Messages handed in with ipp_server_handle_ack() are now durable: every one with a
 * token up to `token` (in the order they were handed in) is committed, or was refused
 * as bad input and will never be stored. stored = false instead reports a commit that
 * failed: messages up to `token` may be lost, so they must not be acknowledged. Called
 * on the ingest thread after each commit that covered a new token; keep it short.
 */
typedef void (*ipp_commit_fn)(void *arg, uint64_t token, bool stored);

typedef struct {
    const char *dir;    /* output folder, created if missing; holds the store */
    size_t max_payload; /* larger messages are logged and dropped; 0 = 1 MiB */
    size_t max_queue;   /* bytes waiting to be applied; beyond it messages are dropped
                           with a log line; 0 = 256 MiB */
    ipp_log_fn log;     /* NULL: lines go to stderr */
    void *log_arg;
    ipp_file_fn on_file; /* optional */
    void *file_arg;
    ipp_commit_fn on_commit; /* optional: tokens of ipp_server_handle_ack() made durable */
    void *commit_arg;
} ipp_server_config_t;

/* The upper bounds, in seconds, of the buckets of ipp_server_stats_t.commit_counts. */
#define IPP_COMMIT_BUCKETS 14
#define IPP_COMMIT_BOUNDS                                                                  \
    {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

typedef struct {
    uint64_t messages; /* handed to ipp_server_handle() */
    uint64_t rows;     /* data rows stored: committed to the store, never more */
    uint64_t dropped;  /* messages refused (bad input, queue full, given up at stop) */
    uint64_t files;    /* files written */
    uint64_t repeated; /* QoS 2 messages skipped: their packet id was recorded */
    /* Commits of the series store that succeeded, and how long each took: commit_counts[i]
     * those of at most IPP_COMMIT_BOUNDS[i] seconds and above the bound before it. */
    uint64_t commits;
    double commit_seconds; /* their sum */
    uint64_t commit_counts[IPP_COMMIT_BUCKETS];
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
 * ipp_server_handle() for a feeder that acknowledges a message only once it is stored,
 * such as an MQTT client with manual acknowledgement (`iotplot plotserver`):
 * - token (> 0, increasing from call to call) comes back through cfg.on_commit after
 *   the commit that made the message durable. A message refused as bad input (too
 *   large, not a command, bad rows...) is reported too, in order: it will never be
 *   stored, and a broker sending it again would send it forever.
 * - qos2_id (0 = none) is the MQTT QoS 2 packet id. It is recorded in the same
 *   transaction as the message's rows, and a message whose id is recorded is skipped
 *   (and reported), so a message the broker sends again because the server crashed
 *   after the commit but before its acknowledgement went out is applied once. The id
 *   stays recorded until ipp_server_release().
 * Returns 0 when queued (or refused as bad input), or -1 when dropped: queue full,
 * stopping, out of memory. A dropped message is never reported, but later tokens may
 * be, so a feeder whose acknowledgements are cumulative must acknowledge nothing from
 * the dropped one on and have it sent again (reconnect, for MQTT).
 *
 *     static void on_commit(void *arg, uint64_t token, bool stored)
 *     {
 *         if (stored) ipm_client_ack(arg, (uint32_t)token);   // acknowledge up to here
 *     }
 *     ...
 *     if (ipp_server_handle_ack(s, topic, tlen, payload, plen, m->seq,
 *                               m->qos == 2 ? m->packet_id : 0)) reconnect_later();
 */
int ipp_server_handle_ack(ipp_server_t *s, const char *topic, size_t topic_len,
                          const uint8_t *payload, size_t len, uint64_t token,
                          uint16_t qos2_id);

/*
 * The broker released QoS 2 packet id `qos2_id` (PUBREL): forget it, in order with the
 * messages, so a new message reusing the id is applied. qos2_id 0 forgets every id (a
 * new MQTT session: the old ids mean nothing). token (0 = none) is reported through
 * cfg.on_commit once the forgetting is committed. 0, or -1 as ipp_server_handle_ack().
 */
int ipp_server_release(ipp_server_t *s, uint16_t qos2_id, uint64_t token);

/*
 * ipp_server_handle_ack() (without a QoS 2 id) for a message whose files belong to
 * `owner`, as ipp_server_handle_owned(); a refused owner is refused as bad input, its
 * token reported in its turn. `iotplot serve` with logins feeds its broker's rows so.
 */
int ipp_server_handle_owned_ack(ipp_server_t *s, const char *owner, const char *topic,
                                size_t topic_len, const uint8_t *payload, size_t len,
                                uint64_t token);

/*
 * The QoS 2 exchange a message came in, as a broker serving many clients sees it
 * (`iotplot serve`): the publishing client's id, its packet id and the PUBLISH's DUP flag.
 */
typedef struct {
    const char *client;
    uint16_t packet_id;
    bool dup;
} ipp_qos2_t;

/*
 * ipp_server_handle_owned_ack() for a message a client published at QoS 2 to a broker
 * in the same process, which hands it over without remembering it across its own
 * restart. (q2->client, q2->packet_id) is recorded in the same transaction as the
 * message's rows. A message with q2->dup set whose pair is recorded is a resend of one
 * stored before (its PUBREC was lost with a crash): it is not applied again, and its
 * token is reported in its turn. One without dup is a new message, applied even if the
 * pair is still recorded (the record is kept). q2 NULL, or without a client or id, is
 * ipp_server_handle_owned_ack(). The pair stays recorded until ipp_server_release_from().
 * 0, or -1 as ipp_server_handle_ack().
 */
int ipp_server_handle_qos2(ipp_server_t *s, const char *owner, const ipp_qos2_t *q2,
                           const char *topic, size_t topic_len, const uint8_t *payload,
                           size_t len, uint64_t token);

/*
 * The client's PUBREL of packet_id: forget the pair, in order with the messages; token
 * is reported through cfg.on_commit once the forgetting is committed, and the PUBCOMP
 * must wait for it (a client reuses the id only after its PUBCOMP, so a pair recorded
 * can never hide a new message). packet_id 0 forgets every pair of the client (it starts
 * a clean session: its old ids mean nothing). 0, or -1 as ipp_server_handle_ack() (also
 * for a NULL client).
 */
int ipp_server_release_from(ipp_server_t *s, const char *client, uint16_t packet_id,
                            uint64_t token);

/*
 * A message the feeder refused itself (e.g. one it has no folder for): nothing is
 * applied, but token is reported through cfg.on_commit in its turn, as a refused
 * message's is. 0, or -1 as ipp_server_handle_ack().
 */
int ipp_server_skip(ipp_server_t *s, uint64_t token);

/*
 * ipp_server_handle() for a message whose files belong to `owner` (the publisher's user
 * name when the broker authenticates): every file it asks for is written below the
 * folder of that name, "<owner>/<file>", so no one else's message can replace it. An owner that
 * is not one folder name (empty, '/', ".", "..", the store's own names) drops the
 * message with a log line. owner NULL is ipp_server_handle().
 */
void ipp_server_handle_owned(ipp_server_t *s, const char *owner, const char *topic,
                             size_t topic_len, const uint8_t *payload, size_t len);

/*
 * Wait until every message handed in so far is applied and every file it asked for is
 * written. 0, or -1 after timeout_ms (< 0: no limit, but then -1 as soon as the store
 * cannot be written, e.g. a full disk: its messages are kept and retried meanwhile).
 */
int ipp_server_sync(ipp_server_t *s, int timeout_ms);

void ipp_server_stats(ipp_server_t *s, ipp_server_stats_t *out);

/* The store's file name inside the output folder. */
const char *ipp_server_db_name(void);

/* Apply and write everything queued, stop the threads and free the server. */
void ipp_server_destroy(ipp_server_t *s);

/* ---- series in memory ----------------------------------------------------------------- */

/* The columns of a series, column-major: cols[c][r] is row r of column names[c]. Filled
 * by the readers and ipp_store_read(); owned by the caller, freed with ipp_data_free().
 * t[r] is row r's arrival time at the server (seconds since the epoch, UTC): filled by
 * ipp_store_read() and by the CSV reader from a `received` column, NULL otherwise. */
typedef struct {
    size_t ncols, nrows;
    char **names;
    double **cols;
    double *t;
} ipp_data_t;

/* Free what d holds and zero it (also safe on a zeroed or already freed d). */
void ipp_data_free(ipp_data_t *d);

/* ---- data files: what save_series writes and `iotplot plot` reads --------------------- */

/*
 * Readers: the whole input in buf[0..len), d filled (free it with ipp_data_free()).
 * 0, or -1 with a reason in err (malformed input, out of memory); d is then empty.
 * The reasons do not name the input; ipp_read_file() puts the file name in front.
 * - pickle: a dict (or OrderedDict) of column name -> list of numbers, protocols 0-5, as
 *   the original server writes it; nothing but the two dict types is ever called, so a
 *   hostile pickle only produces an error ("not a pickle (bad memo)").
 * - csv: an optional UTF-8 byte order mark, a header of column names (RFC 4180
 *   quoting), then one row of numbers per line; a last column `received` holding ISO
 *   8601 times (what ipp_write_csv() adds) fills d->t instead of a column.
 * - json: ours, {"series": s, "columns": [...], "rows": [[...], ...]}, or column-wise
 *   {"col": [...], ...}; null, NaN, Infinity and -Infinity are read as numbers (null as
 *   NaN), so files of older versions and of Python's json read too.
 */
int ipp_read_pickle(const uint8_t *buf, size_t len, ipp_data_t *d, char *err, size_t errlen);
int ipp_read_csv(const char *buf, size_t len, ipp_data_t *d, char *err, size_t errlen);
int ipp_read_json(const char *buf, size_t len, ipp_data_t *d, char *err, size_t errlen);

/*
 * Read the file at `path` by its extension (.csv, .json, .pkl or .pickle, any case).
 * 0, or -1 with err, which starts with the path (cannot read, too large, unknown
 * extension, or the reader's reason: "data.pkl: not a pickle (bad memo)"). A regular
 * file is mapped and parsed in place; what cannot be mapped (a pipe) is read whole.
 * The path "-" is standard input, its format told by its first byte: '{' JSON, 0x80 a
 * pickle (protocol 2 or later), anything else CSV.
 * Numbers are read with a '.' decimal point whatever the locale, to the exact double.
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
 * set).
 * - pickle: protocol 2, collections.OrderedDict of column -> list of float, exact (what
 *   the original server writes; no arrival times).
 * - csv: a header, one line per row, the shortest numbers that read back exactly,
 *   NaN/Infinity for non-finite values; if d->t, a last column `received` with each
 *   row's arrival time in ISO 8601, UTC, to the millisecond (2026-12-01T23:00:00.123Z).
 * - json: strict JSON (RFC 8259), row-wise with `series` as its name, numbers as in the
 *   payloads, NaN and infinities as null (JSON has no word for them).
 */
int ipp_write_pickle(FILE *f, const ipp_data_t *d);
int ipp_write_csv(FILE *f, const ipp_data_t *d);
int ipp_write_json(FILE *f, const char *series, const ipp_data_t *d);

/*
 * Exporters that write a file at `path` (the libraries want a name, not a stream):
 * 0, or -1 with err.
 * - xlsx (libxlsxwriter): one worksheet named after the series, a header row, numbers
 *   as numbers, NaN and infinities as empty cells; if d->t, a last column `received`
 *   of Excel dates formatted yyyy-mm-dd hh:mm:ss.000 (UTC). At most 1,048,575 rows.
 * - mat (libmatio, MAT-file level 5, compressed): one struct variable, named after the
 *   series, with one double column vector per column; names are made Matlab
 *   identifiers by ipp_mat_name(). If d->t, a field `received` with the arrival times
 *   as POSIX seconds (datetime(s.received, 'ConvertFrom', 'posixtime') in Matlab).
 */
int ipp_write_xlsx(const char *path, const char *series, const ipp_data_t *d, char *err,
                   size_t errlen);
int ipp_write_mat(const char *path, const char *series, const ipp_data_t *d, char *err,
                  size_t errlen);

/*
 * The Matlab identifier for `name`, written to out[0..64): every character (a UTF-8
 * sequence counts as one) other than an ASCII letter, digit or underscore becomes `_`;
 * a name that does not start with a letter, or is a Matlab keyword, gets an `x` in
 * front ("1st" -> "x1st", "end" -> "xend", "" -> "x"); the result is cut to 63 bytes.
 * `taken` (ntaken names already given out) keeps it unique: "_2", "_3"... is appended,
 * cutting the name to leave room. "Temperatur °C" -> "Temperatur__C".
 */
void ipp_mat_name(const char *name, const char *const *taken, size_t ntaken, char out[64]);

/* How save_series (and `iotplot plot -o`) write a data file. */
typedef struct {
    const char *series; /* the series' name: JSON's "series", the sheet, the MAT struct */
    bool excel;         /* .csv: start with a UTF-8 byte order mark, without which Excel
                           reads UTF-8 as its ANSI code page ("Temperatur Â°C") */
} ipp_export_opts_t;

/*
 * Write d to `path` in the format its extension names (.pkl, .csv, .json, .xlsx or .mat,
 * any case). 0, or -1 with err: an unknown extension, or why the write failed.
 *
 *     ipp_export_opts_t o = {.series = "sinusoid", .excel = true};
 *     if (ipp_export_file("sinusoid.csv", &d, &o, err, sizeof err)) die(err);
 */
int ipp_export_file(const char *path, const ipp_data_t *d, const ipp_export_opts_t *o,
                    char *err, size_t errlen);
/* Whether ipp_export_file() writes files ending in `.ext` (lower case, no dot). */
bool ipp_export_known(const char *ext);
/* The extensions it writes, for messages: ".pkl, .csv, .json, .xlsx or .mat". */
const char *ipp_export_list(void);

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
/* Rows 0..upto of series `id` (upto < 0: all) with its column names and the rows'
 * arrival times (d->t). 0 or -1. */
int ipp_store_read(ipp_store_t *st, int64_t id, int64_t upto, ipp_data_t *d);
/* As ipp_store_read(), but from a damaged store too: the rows before the damaged pages
 * and those after them (read from the end backwards), in order. *missing is 0 when the
 * series was read whole, else how many rows could not be read (-1: some, not known how
 * many). 0, or -1 when not even its column names can be read. */
int ipp_store_read_readable(ipp_store_t *st, int64_t id, int64_t upto, ipp_data_t *d,
                            int64_t *missing);
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

/* ---- the store as JSON, for a network API ----------------------------------------------- */

/* What a client asks of the store (src/broker's GET /api/...). */
typedef struct {
    const char *owner;   /* only this user's sessions: the name itself or below it
                            ("alice", "alice/lab1"); NULL: every session */
    const char *session; /* ipp_query_rows: which series */
    const char *name;
    int64_t version;     /* 0: the latest */
    int64_t since;       /* ipp_query_rows: the first row (0 = the first) */
    int64_t limit;       /* most rows; 0: 10,000; at most 100,000 */
    size_t max_bytes;    /* the answer's size limit (at least 4 KiB is used) */
} ipp_query_t;

/*
 * The series of output folder `dir` that q->owner may see, the latest version of each,
 * as strict JSON in *json (malloc'd, *len bytes, NUL-terminated; the caller frees it):
 *
 *     {"series": [{"session": "alice/lab1", "name": "sinusoid", "version": 1,
 *                  "columns": ["t", "sin"], "rows": 200, "created": 1764633600.5,
 *                  "last": 1764633660.1, "title": "A sine", "xlabel": "t [s]"}, ...],
 *      "truncated": false}
 *
 * `last` is the arrival time of the last row (null when there is none); title, xlabel
 * and ylabel come from its latest plot_series, when it had them, and so do "x"
 * ("first" or "received", when it chose one) and "utc" (true, when set). Entries that do not fit
 * in q->max_bytes are left out and `truncated` is true. No store in dir is an empty
 * list. Each call opens its own read-only connection: any thread may call it while a
 * server writes. 0, or -1 (out of memory, the store cannot be read).
 */
int ipp_query_series(const char *dir, const ipp_query_t *q, char **json, size_t *len);

/*
 * Rows q->since.. of series q->session/q->name (q->version) as strict JSON (NaN and the
 * infinities as null), at most q->limit of them and as many as fit in q->max_bytes:
 *
 *     {"session": "alice/lab1", "name": "sinusoid", "version": 1, "columns": ["t", "sin"],
 *      "total": 200, "since": 0, "rows": [[0.0, 0.0], [0.1, null], ...],
 *      "received": [1764633600.5, ...], "next": 200, "more": false}
 *
 * received[i] is the arrival time of rows[i] (seconds since the epoch, UTC); `next` is
 * the `since` that reads on. 0; 1 when there is no such series or q->owner may not see
 * it; -1 on error (or when not one row fits in max_bytes).
 */
int ipp_query_rows(const char *dir, const ipp_query_t *q, char **json, size_t *len);

/* May `owner` see `session` (ipp_query_t.owner's rule)? NULL owner: yes; "": no. */
bool ipp_query_owns(const char *owner, const char *session);

/* ---- options: the options object of plot_series and save_series ---------------------- */

/* What x is: option x absent (auto), "first" or "received". Auto takes the arrival
 * times when the series has them and no x column worth plotting: a single column, or
 * a first column that goes backwards somewhere (a reading, not a clock). */
typedef enum { IPP_X_AUTO, IPP_X_FIRST, IPP_X_RECEIVED } ipp_xsource_t;

typedef struct {
    char *filename; /* as sent, NULL if absent */
    char *title, *xlabel, *ylabel;
    double width_in, height_in; /* figsize; 0: the default 5 x 3 inches */
    char **formats;             /* matplotlib format strings, one per line */
    size_t nformats;
    bool hist, xlog, ylog, grid;
    ipp_xsource_t x; /* "received": every column against its arrival time, on a date axis */
    bool utc;        /* date labels in UTC rather than the local time zone */
    bool excel; /* save_series: a .csv starts with a UTF-8 byte order mark */
    char *unknown; /* the keys not understood, quoted: "'titel', 'colour'"; NULL if none */
} ipp_plotopts_t;

/*
 * Parse an options object (JSON text json[0..len); json NULL: every default, with grid
 * on). Unknown keys are not an error but are named in o->unknown, for the caller to warn
 * about (matplotlib raises on an unknown keyword; a typo such as `titel` must not pass
 * silently); a known key of the wrong type is an error, since half the options would
 * draw a figure nobody asked for. 0, or -1 with a reason in err and o
 * empty. Free o with ipp_plotopts_free().
 */
int ipp_plotopts_parse(const char *json, size_t len, ipp_plotopts_t *o, char *err,
                       size_t errlen);
void ipp_plotopts_free(ipp_plotopts_t *o);

/*
 * Draw d with options o into `path` (its extension picks .pdf, .png or .svg); dpi is the
 * PNG resolution, 0 for 100. d needs at least one column. 0, or -1 with err (also when
 * o->x is IPP_X_RECEIVED and d has no arrival times, d->t NULL).
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
