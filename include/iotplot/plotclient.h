/*
 * plotclient.h - the device side of iot-plot: send series to a plot server over MQTT.
 *
 * Speaks the protocol of the Python iot-plot package (docs/iot-plot-protocol.md): every
 * call is one MQTT message to "<session>/<command>" with a JSON array as payload, so a
 * device using this library works with the original Python plot server and with ours.
 *
 * The library allocates nothing and uses no POSIX: the JSON is written into a buffer the
 * caller provides, and the message goes out through a publish function the caller
 * provides (ipp_plotclient_ipm_publish() adapts our MQTT client). A message that does
 * not fit the buffer is an error (IPM_ENOSPACE); nothing is ever sent truncated.
 *
 * Numbers are written in their shortest form that reads back to the same double, in any
 * locale. NaN and the infinities are written as NaN, Infinity and -Infinity, exactly as
 * Python's json.dumps writes them: Python's json.loads (the original server) reads them
 * back as the same float values, and so does our server, whereas null would turn into
 * None on the Python side and lose the difference between NaN and +/-inf.
 *
 * Example: the classic sinusoid.
 *
 *     static char buf[512];
 *     ipp_plotclient_t pc;
 *     ipp_plotclient_init(&pc, NULL, 1, buf, sizeof buf, ipp_plotclient_ipm_publish, &mqtt);
 *     ipp_plot_new_series(&pc, "sinusoid", "time", "cos");
 *     for (int i = 0; i < 200; i++) {
 *         double t = i * 0.025;
 *         ipp_plot_data(&pc, "sinusoid", t, exp(-t) * cos(2 * M_PI * t));
 *     }
 *     ipp_plotclient_save_series(&pc, "sinusoid", NULL);
 *     ipp_plot_opts_t o = {.xlabel = "Time [s]", .ylabel = "Voltage [mV]"};
 *     ipp_plotclient_plot_series(&pc, "sinusoid", &o);
 *
 * A device without a clock sends readings only; the server notes when each row arrived,
 * and a plot can be drawn against those times:
 *
 *     ipp_plot_new_series(&pc, "room", "temperature");
 *     ipp_plot_data(&pc, "room", 21.5);            // every minute or so
 *     ipp_plot_opts_t o = {.filename = "room.png", .x = IPP_PLOT_X_RECEIVED, .utc = true};
 *     ipp_plotclient_plot_series(&pc, "room", &o);
 *     ipp_plotclient_save_series(&pc, "room", "room.csv"); // with a `received` column
 */
#ifndef IOTPLOT_PLOTCLIENT_H
#define IOTPLOT_PLOTCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotplot/codec.h" /* the IPM_E* error codes */

#ifdef __cplusplus
extern "C" {
#endif

/* Default session, as in the original package. */
#define IPP_DEFAULT_SESSION "iot49"
/* Longest session prefix accepted (the topic is built in a fixed buffer). */
#define IPP_SESSION_MAX 96

/*
 * Sends one message. Returns 0 or a negative IPM_E* (which the plot client returns to
 * its caller unchanged). `topic` is NUL-terminated; `payload` is not.
 */
typedef int (*ipp_publish_fn)(void *ctx, const char *topic, const uint8_t *payload,
                              size_t len, uint8_t qos);

typedef struct {
    ipp_publish_fn publish;
    void *ctx;
    uint8_t qos;
    char *buf; /* the caller's buffer for one JSON payload */
    size_t cap;
    size_t session_len;
    char topic[IPP_SESSION_MAX + 16]; /* "<session>/" followed by the command */
} ipp_plotclient_t;

/* What a plot is drawn against (the "x" option of plot_series). */
typedef enum {
    IPP_PLOT_X_DEFAULT = 0, /* not sent: the server decides (below) */
    IPP_PLOT_X_RECEIVED,    /* "received": every column against its arrival time at the
                               server, on a date axis (for a device without a clock) */
    IPP_PLOT_X_FIRST,       /* "first": the first column is x (one column: the row index) */
} ipp_plot_x_t;

/*
 * Options of plot_series. Zero-initialised means "the server's defaults": only the keys
 * that are set are sent. Strings are UTF-8 and may hold TeX math between $...$.
 * With x left at IPP_PLOT_X_DEFAULT our server plots against the arrival times when the
 * series has one column or its first column goes backwards somewhere, else against the
 * first column; the Python server always uses the first column, and ignores x and utc.
 */
typedef struct {
    const char *filename; /* NULL: "<name>.pdf"; the extension picks .pdf, .png or .svg */
    const char *title, *xlabel, *ylabel;
    double figsize[2];            /* inches; {0, 0}: not sent (server default 5 x 3) */
    const char *const *format;    /* matplotlib format strings, one per line */
    size_t nformat;
    bool hist;                    /* histogram of every column */
    bool xlog, ylog;              /* sent only when true */
    bool no_grid;                 /* sends "grid": false */
    ipp_plot_x_t x;               /* sends "x": "received" or "first" */
    bool utc;                     /* sends "utc": true: dates in UTC, not the server's
                                     local time zone */
} ipp_plot_opts_t;

/* Options of save_series (zero-initialised: none sent, as the Python client sends). */
typedef struct {
    bool excel; /* sends "excel": true: a .csv starts with a UTF-8 byte order mark, so
                   that Excel reads names such as "Temperatur °C" right */
} ipp_save_opts_t;

/*
 * Prepare a plot client. session NULL means "iot49"; qos is 0 (as the original) or 1
 * (no row lost while the connection holds); buf[0..cap) receives each payload and must
 * outlive the client. Returns 0, or IPM_EINVALID (session empty, too long, or holding
 * '+', '#' or NUL; qos above 1; no buffer or publish function).
 */
int ipp_plotclient_init(ipp_plotclient_t *pc, const char *session, uint8_t qos, char *buf,
                        size_t cap, ipp_publish_fn publish, void *ctx);

/*
 * new_series: create (or restart) series `name` with `ncols` column names.
 * Errors: IPM_EINVALID (NULL name or column, ncols 0), IPM_ENOSPACE, or the publisher's.
 */
int ipp_plotclient_new_series(ipp_plotclient_t *pc, const char *name,
                              const char *const *cols, size_t ncols);

/* data: append one row of `n` values (one per column, in column order). Same errors. */
int ipp_plotclient_data(ipp_plotclient_t *pc, const char *name, const double *values,
                        size_t n);

/* save_series: ask the server to write the series to `filename` (NULL: "<name>.pkl"). */
int ipp_plotclient_save_series(ipp_plotclient_t *pc, const char *name, const char *filename);

/* save_series with options: [name, filename, {options}] (opts NULL or all zero: the
 * same message as ipp_plotclient_save_series). Our server only: the Python server
 * takes two arguments. Same errors. */
int ipp_plotclient_save_series_opts(ipp_plotclient_t *pc, const char *name,
                                    const char *filename, const ipp_save_opts_t *opts);

/* plot_series: ask the server to render the series; opts NULL means all defaults. */
int ipp_plotclient_plot_series(ipp_plotclient_t *pc, const char *name,
                               const ipp_plot_opts_t *opts);

/*
 * Variadic forms: the arguments become an array literal, so any number of columns or
 * values works and integers are converted to double by the compiler.
 *     ipp_plot_new_series(&pc, "s", "time", "v");
 *     ipp_plot_data(&pc, "s", t, v);
 */
#define ipp_plot_new_series(pc, name, ...)                                                   \
    ipp_plotclient_new_series((pc), (name), (const char *const[]){__VA_ARGS__},             \
                              sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))
#define ipp_plot_data(pc, name, ...)                                                         \
    ipp_plotclient_data((pc), (name), (const double[]){__VA_ARGS__},                        \
                        sizeof((const double[]){__VA_ARGS__}) / sizeof(double))

/* ---- the JSON writer underneath (also used by the server's exporters) ----------------- */

/*
 * Shortest decimal text of `v` that reads back (strtod) as exactly `v`, always with a
 * '.' decimal point whatever the locale, with ".0" added to integral values as Python
 * prints them; NaN, Infinity, -Infinity for the non-finite values. Writes at most 32
 * bytes including the NUL into out (cap >= 32). Returns the length.
 */
size_t ipp_fmt_double(char *out, size_t cap, double v);

/* A bounded JSON text being written; `err` sticks once the buffer is too small. */
typedef struct {
    char *buf;
    size_t cap, len;
    int err;
} ipp_json_t;

void ipp_json_init(ipp_json_t *j, char *buf, size_t cap);
void ipp_json_raw(ipp_json_t *j, const char *s, size_t n);
/* A JSON string of `s` (UTF-8): '"' '\\' and control characters escaped. */
void ipp_json_str(ipp_json_t *j, const char *s);
void ipp_json_num(ipp_json_t *j, double v);

/* ---- our MQTT client as the publisher ----------------------------------------------- */

/* An ipp_publish_fn for ctx = an ipm_client_t* (defined with the ipm_client library). */
int ipp_plotclient_ipm_publish(void *ctx, const char *topic, const uint8_t *payload,
                               size_t len, uint8_t qos);

#ifdef __cplusplus
}
#endif

#endif /* IOTPLOT_PLOTCLIENT_H */
