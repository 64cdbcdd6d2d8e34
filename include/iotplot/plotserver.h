/*
 * plotserver.h - the plot server: iot-plot messages in, series in SQLite and files out.
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

#include <stddef.h>
#include <stdint.h>

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
 * Wait until every message handed in so far is applied and every file it asked for is
 * written. 0, or -1 after timeout_ms (< 0: no limit).
 */
int ipp_server_sync(ipp_server_t *s, int timeout_ms);

void ipp_server_stats(ipp_server_t *s, ipp_server_stats_t *out);

/* The store's file name inside the output folder. */
const char *ipp_server_db_name(void);

/* Apply and write everything queued, stop the threads and free the server. */
void ipp_server_destroy(ipp_server_t *s);

#endif
