/*
 * plot_internal.h - the pieces of the plot server, shared between its files and its
 * unit tests: the payload parser, path confinement, the SQLite store and the exporters.
 */
#ifndef IOTPLOT_PLOT_INTERNAL_H
#define IOTPLOT_PLOT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "render/render.h"

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

/* ---- payloads: a JSON array of scalars ------------------------------------------------ */

typedef enum { IPP_JV_NULL, IPP_JV_BOOL, IPP_JV_NUM, IPP_JV_STR, IPP_JV_NESTED } ipp_jtype_t;

/* One item of the top-level array. Strings are decoded (NUL-terminated, no NUL inside);
 * nested arrays and objects are left as raw text for cJSON. */
typedef struct {
    ipp_jtype_t type;
    bool b;
    double num;
    const char *str; /* STR: decoded; NESTED: raw JSON text */
    size_t len;
} ipp_jval_t;

/*
 * Parse `s[0..n)` as a JSON array whose items are scalars (NaN, Infinity and -Infinity
 * accepted as numbers, as Python's json writes them) or nested values. Decoded strings go
 * to strbuf[0..strcap). Returns the number of items, or -1 with a reason in *why.
 */
int ipp__json_array(const char *s, size_t n, ipp_jval_t *vals, size_t maxvals, char *strbuf,
                    size_t strcap, const char **why);

/* ---- file names from the network ------------------------------------------------------ */

/* 0 if `rel` may name a file inside the output folder, else -1 and the reason. */
int ipp__path_check(const char *rel, const char **why);
/*
 * Open (creating what is missing) the folder that holds `rel` inside `rootfd`, never
 * following a symbolic link. Returns the folder's fd and points *leaf into rel at the
 * file name, or -1 with the reason.
 */
int ipp__path_open_parent(int rootfd, const char *rel, const char **leaf, const char **why);
/* Lower-case extension of a file name without the dot ("" if none). */
void ipp__path_ext(const char *name, char *ext, size_t cap);

/* ---- the store ------------------------------------------------------------------------ */

typedef struct ipp_store ipp_store_t;

typedef struct {
    int64_t id;
    int64_t version;
    size_t ncols;
    int64_t nrows;
} ipp_series_info_t;

/* Open or create `path`; readonly opens an existing one only. 0 or -1 with err. */
int ipp__store_open(const char *path, bool readonly, ipp_store_t **out, char *err, size_t errlen);
void ipp__store_close(ipp_store_t *st);
int ipp__store_begin(ipp_store_t *st);
int ipp__store_commit(ipp_store_t *st);
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
/* The options of the latest plot_series of series id (malloc'd), or NULL. */
char *ipp__store_last_plot(ipp_store_t *st, int64_t id);
/* Every version of every series, oldest first (for `iotplot plot --list`). */
typedef void (*ipp_store_list_cb)(void *arg, const char *session, const char *name,
                                  const ipp_series_info_t *info, const char *columns,
                                  double created);
int ipp__store_list(ipp_store_t *st, ipp_store_list_cb cb, void *arg);
/* Find session/name (version 0 = the latest). 0, 1 if not found, -1 on error. */
int ipp__store_find(ipp_store_t *st, const char *session, const char *name, int64_t version,
                    ipp_series_info_t *info);

/* Data of a series, column-major, owned by the caller (ipp__data_free). */
typedef struct {
    size_t ncols, nrows;
    char **names;
    double **cols;
} ipp_data_t;

/* Rows 0..upto of series `id` (upto < 0: all) with its column names. 0 or -1. */
int ipp__store_read(ipp_store_t *st, int64_t id, int64_t upto, ipp_data_t *d);
const char *ipp__store_errmsg(ipp_store_t *st);

/* ---- data in memory, files of data ---------------------------------------------------- */

/* Allocate ncols empty columns with these names. 0 or -1 (out of memory). */
int ipp__data_init(ipp_data_t *d, const char *const *names, size_t ncols);
/* Append one row (ncols values). 0 or -1. */
int ipp__data_push(ipp_data_t *d, const double *row, size_t *cap);
void ipp__data_free(ipp_data_t *d);

/* Exporters: 0 or -1 (write error, errno set). */
int ipp__write_pickle(FILE *f, const ipp_data_t *d);
int ipp__write_csv(FILE *f, const ipp_data_t *d);
int ipp__write_json(FILE *f, const char *series, const ipp_data_t *d);

/* Readers for `iotplot plot`: 0 or -1 with a reason. */
int ipp__read_pickle(const uint8_t *buf, size_t len, ipp_data_t *d, char *err, size_t errlen);
int ipp__read_csv(const char *buf, size_t len, ipp_data_t *d, char *err, size_t errlen);
int ipp__read_json(const char *buf, size_t len, ipp_data_t *d, char *err, size_t errlen);
/* Read a whole file by its extension (.pkl, .csv, .json). */
int ipp__read_file(const char *path, ipp_data_t *d, char *err, size_t errlen);

/* ---- plot options --------------------------------------------------------------------- */

typedef struct {
    char *filename; /* as sent, NULL if absent */
    char *title, *xlabel, *ylabel;
    double width_in, height_in;
    char **formats;
    size_t nformats;
    bool hist, xlog, ylog, grid;
} ipp_plotopts_t;

/* Parse the options object (raw JSON text). 0 or -1 with a reason in err. */
int ipp__plotopts_parse(const char *json, size_t len, ipp_plotopts_t *o, char *err,
                        size_t errlen);
void ipp__plotopts_free(ipp_plotopts_t *o);
/* A figure of `d` with options `o` (pointers into both). */
void ipp__figure_of(const ipp_data_t *d, const ipp_plotopts_t *o, ipp_figure_t *fig);

#endif
