/*
 * plot_internal.h - the pieces of the plot server below its public API
 * (iotplot/plotserver.h), shared between its files and its unit tests: limits, path
 * confinement, the store's write side, and building series in memory.
 */
#ifndef IOTPLOT_PLOT_INTERNAL_H
#define IOTPLOT_PLOT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotplot/plotserver.h"

/* Most columns a series may have (and values a data row may carry). */
#define IPP_MAX_COLS 1024
/* Longest series or column name, in bytes. */
#define IPP_MAX_NAME 256
/* Longest file name from the network, in bytes. */
#define IPP_MAX_PATH 1024
/* The store and the temporary folder live in the output folder under these names;
 * file names from the network may not touch them. */
#define IPP_DB_NAME "iotplot-series.db"
#define IPP_TMP_DIR ".iotplot-tmp"

/* ---- file names from the network ------------------------------------------------------ */

/*
 * Open (creating what is missing) the folder that holds `rel` inside `rootfd`, never
 * following a symbolic link. Returns the folder's fd and points *leaf into rel at the
 * file name, or -1 with the reason. `rel` has passed ipp_path_check().
 */
int ipp__path_open_parent(int rootfd, const char *rel, const char **leaf, const char **why);

/* ---- the store ------------------------------------------------------------------------ */

/* Open or create the store file `path`; readonly opens an existing one only. 0 or -1
 * with err. (ipp_store_open() is this, read-only, for an output folder.) */
int ipp__store_open(const char *path, bool readonly, ipp_store_t **out, char *err,
                    size_t errlen);
int ipp__store_begin(ipp_store_t *st);
int ipp__store_commit(ipp_store_t *st);
/* Undo the open transaction, if SQLite has not already. */
void ipp__store_rollback(ipp_store_t *st);
/* Whether the last failure on st may pass by itself (a full disk, I/O, a lock, memory),
 * so the write is worth retrying, rather than being about this message. */
bool ipp__store_transient(ipp_store_t *st);
/* A new version of session/name with these columns. */
int ipp__store_new_series(ipp_store_t *st, const char *session, const char *name,
                          const char *const *cols, size_t ncols, ipp_series_info_t *info);
int ipp__store_append(ipp_store_t *st, int64_t id, int64_t seq, double t, const double *v,
                      size_t n);
/* The latest version of every series, for a restart. */
typedef void (*ipp_store_each_cb)(void *arg, const char *session, const char *name,
                                  const ipp_series_info_t *info);
int ipp__store_each_latest(ipp_store_t *st, ipp_store_each_cb cb, void *arg);
/* Remember the options object of a plot_series (for re-rendering offline). */
int ipp__store_plot(ipp_store_t *st, int64_t id, const char *options, size_t len);
/* The write connection (sqlite3 *), for tables kept beside the series (delivery.c). */
void *ipp__store_db(ipp_store_t *st);

/* ---- data in memory ------------------------------------------------------------------- */

/* Allocate ncols empty columns with these names. 0 or -1 (out of memory). */
int ipp__data_init(ipp_data_t *d, const char *const *names, size_t ncols);
/* Append one row (ncols values). 0 or -1. */
int ipp__data_push(ipp_data_t *d, const double *row, size_t *cap);
/* Append one row that arrived at time t (seconds since the epoch); d->t is allocated at
 * the first such row. 0 or -1. */
int ipp__data_push_timed(ipp_data_t *d, const double *row, double t, size_t *cap);

/* ---- arrival times in files ----------------------------------------------------------- */

/* The header of the arrival-time column in CSV and .xlsx files. */
#define IPP_RECEIVED "received"
/* Length of "2026-12-01T23:00:00.123Z". */
#define IPP_TIME_LEN 24
/* t as ISO 8601 UTC with milliseconds into out (cap > IPP_TIME_LEN); "" for a time
 * that is not finite or outside years 0-9999. Returns the length. */
size_t ipp__fmt_time(char *out, size_t cap, double t);
/* The inverse, for a whole field s[0..n): 0 and *t, or -1 if it is not such a time.
 * Accepts what ipp__fmt_time() writes, with 0 to 9 decimals, and an offset +hh:mm in
 * place of Z. */
int ipp__parse_time(const char *s, size_t n, double *t);

#endif
