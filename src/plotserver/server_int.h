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
/* Longest a transaction short of work waits for more messages before its commit
 * (ingest.c's gather): what a quiet feeder's acknowledgement may be delayed by. */
#define IPP_GATHER_MAX_S 0.002
/* A failed write of the store (a full disk) is retried after this long, doubling up to
 * the maximum, and logged at most once per IPP_FAIL_LOG_S. */
#define IPP_RETRY_MIN_MS 50
#define IPP_RETRY_MAX_MS 1000
#define IPP_FAIL_LOG_S 60.0
/* How long a stopping server keeps retrying a failing store before it gives up on the
 * messages it could not write (and says how many). */
#define IPP_STOP_GRACE_S 5.0

/* What a queued message asks of the ingest thread. */
typedef enum {
    IPP_MSG_APPLY = 0, /* an iot-plot command */
    IPP_MSG_REFUSED,   /* refused before queueing; only its token is reported */
    IPP_MSG_RELEASE    /* forget QoS 2 id qos2_id (0: all) */
} ipp_msg_kind_t;

typedef struct ipp_msg {
    struct ipp_msg *next;
    double t; /* arrival, seconds since the epoch */
    size_t topic_len, len;
    uint64_t token;   /* ipp_server_handle_ack()'s, or 0 */
    uint16_t qos2_id; /* 0, or the QoS 2 packet id applied once */
    uint8_t kind;     /* ipp_msg_kind_t */
    bool dup;         /* with client: the PUBLISH's DUP flag */
    const char *owner; /* the folder its files go in (in data), or NULL */
    const char *client; /* with qos2_id: the publishing client's id (in data), or NULL */
    char data[]; /* topic, NUL, payload, NUL[, owner, NUL][, client, NUL] */
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
    bool failing; /* the store cannot be written right now; the messages are kept */
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
    struct ipp_qos2 *qos2;         /* recorded QoS 2 ids (delivery.c), opened on first use */
    uint64_t token_applied;        /* the last token of this transaction */
    uint64_t token_reported;       /* the last one given to cfg.on_commit */
    /* Messages applied in the open transaction, kept (and still counted in queued_bytes)
     * until it commits: when the write fails they are applied again, so a full disk
     * loses nothing and the queue's bound pushes back on the producer. */
    ipp_msg_t *pending, *pending_tail;
    size_t pending_bytes;
    uint64_t batch_dropped; /* refused by this transaction's messages, counted at commit */
    bool quiet;             /* applying again messages whose problems were logged once */
    double fail_since, fail_logged_at; /* monotonic seconds; 0: not failing */
    double stop_deadline; /* stopping with a failing store: give up after this */
};

/* A log line "plot: <fmt...>" through the configured sink. */
void ipp__log(ipp_server_t *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* store_check.c: before the store at `path` is opened, move it aside if it is damaged,
 * truncated or not ours (copying what is readable into a new one), logging where it
 * went. 0, or -1 with err only when it cannot be checked (locked, unreadable folder) or
 * moved. */
int ipp__store_check(ipp_server_t *s, const char *path, char *err, size_t errlen);

/* ingest.c */
void *ipp__ingest_main(void *arg);
int ipp__ingest_load(ipp_server_t *s, char *err, size_t errlen);
void ipp__ingest_free(ipp_server_t *s);

/* delivery.c: what ipp_server_handle_ack() adds to applying a message. */
/* Before applying m: record its token and QoS 2 id, forget released ids. 1 if m is to be
 * applied, 0 if not (refused earlier, a release, or a QoS 2 id already recorded; with a
 * client id, only a resend, DUP set, is taken for the recorded message). */
int ipp__delivery_begin(ipp_server_t *s, const ipp_msg_t *m);
/* After a commit (stored: it succeeded): report the last token to cfg.on_commit. */
void ipp__delivery_committed(ipp_server_t *s, bool stored);
void ipp__delivery_free(ipp_server_t *s);

/* writer.c */
void *ipp__writer_main(void *arg);
void ipp__job_free(ipp_job_t *j);
/* Queue a job for the writer (called with mu held), coalescing with a pending twin.
 * Returns 0, or -1 when the queue is full and the job was freed. */
int ipp__job_push_locked(ipp_server_t *s, ipp_job_t *j);

#endif
