/*
 * server_int.h - the plot server's state, shared by server.c (queue and lifecycle),
 * ingest.c (applying messages) and writer.c (files).
 */
#ifndef IOTPLOT_PLOT_SERVER_INT_H
#define IOTPLOT_PLOT_SERVER_INT_H

#include <locale.h>
#include <pthread.h>
#include <stdbool.h>

#include "iotplot/plotserver.h"
#include "plot_internal.h"

/* Most series the server keeps track of at once (each costs a few dozen bytes). */
#define IPP_MAX_SERIES 100000
#define IPP_MAP_BUCKETS 4096
/* Files waiting to be written; more requests are refused (a device asking for a new
 * file name every millisecond must not grow the queue without bound). */
#define IPP_MAX_JOBS 1000
/* Log lines per second at most: a device sending bad rows as fast as it can must not
 * turn the log into the bottleneck. The rest are counted and the count is logged. */
#define IPP_LOG_PER_SECOND 100
/* Rows per transaction at most, so one commit never holds a huge batch. */
#define IPP_BATCH_ROWS 20000

typedef struct ipp_msg {
    struct ipp_msg *next;
    double t; /* arrival, seconds since the epoch */
    size_t topic_len, len;
    const char *owner; /* the folder its files go in (in data), or NULL */
    char data[]; /* topic, NUL, payload, NUL[, owner, NUL] */
} ipp_msg_t;

typedef enum { IPP_JOB_SAVE, IPP_JOB_PLOT } ipp_job_kind_t;

typedef struct ipp_job {
    struct ipp_job *next;
    ipp_job_kind_t kind;
    char *session, *name, *rel; /* rel: output file, checked, relative to the folder */
    int64_t id, nrows;          /* rows 0..nrows of series id */
    ipp_plotopts_t opts;
} ipp_job_t;

/* The ingest thread's view of the latest version of one series. */
typedef struct ipp_entry {
    struct ipp_entry *next;
    ipp_series_info_t info;
    char *key; /* session NUL name NUL */
    size_t session_len;
} ipp_entry_t;

struct ipp_server {
    ipp_server_config_t cfg;
    char *dir;     /* absolute path of the output folder */
    char *tmpdir;  /* absolute path of its temporary folder */
    int rootfd, tmpfd;
    locale_t c_locale;

    pthread_mutex_t mu;
    pthread_cond_t msg_cv, job_cv, idle_cv;
    ipp_msg_t *head, *tail;
    size_t queued_bytes;
    ipp_job_t *jobs, *jobs_tail;
    size_t njobs;
    int busy; /* batches and jobs in progress */
    bool stopping, ingest_done;
    ipp_server_stats_t stats;
    uint64_t tmp_seq;
    double full_logged_at; /* a full queue is logged once a second, with a count */
    uint64_t full_unlogged;
    pthread_mutex_t log_mu; /* log lines: at most IPP_LOG_PER_SECOND, then a count */
    double log_window;
    unsigned log_lines;
    uint64_t log_suppressed;

    pthread_t ingest_thread, writer_thread;
    bool threads_started;

    /* ingest thread only */
    ipp_store_t *store;
    ipp_entry_t *map[IPP_MAP_BUCKETS];
    size_t nseries;
    ipp_jval_t *vals;
    char *strbuf;
    ipp_job_t *ready, *ready_tail; /* jobs made in this batch, queued after commit */
};

/* A log line "plot: <fmt...>" through the configured sink. */
void ipp__log(ipp_server_t *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ingest.c */
void *ipp__ingest_main(void *arg);
int ipp__ingest_load(ipp_server_t *s, char *err, size_t errlen);
void ipp__ingest_free(ipp_server_t *s);

/* writer.c */
void *ipp__writer_main(void *arg);
void ipp__job_free(ipp_job_t *j);
/* Queue a job for the writer (called with mu held), coalescing with a pending twin.
 * Returns 0, or -1 when the queue is full and the job was freed. */
int ipp__job_push_locked(ipp_server_t *s, ipp_job_t *j);

#endif
