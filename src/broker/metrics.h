/*
 * metrics.h - the broker's statistics in the Prometheus text exposition format 0.0.4,
 * served as GET /metrics by websockets listeners with `http_metrics true` (layered.c).
 * One row per metric in ipb__metrics; a row reads its value from the $SYS row it names
 * (sys.c), so both show the same number, or from ipb_stats_t where $SYS has no row.
 */
#ifndef IOTPLOT_BROKER_METRICS_H
#define IOTPLOT_BROKER_METRICS_H

#include <stddef.h>

#include "broker.h"

/* The Content-Type of what ipb__metrics_text writes. */
#define IPB__METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

typedef struct ipb__metric ipb__metric_t;
typedef struct ipb__mout ipb__mout_t;

struct ipb__metric {
    const char *name; /* after "iotplot_broker_" */
    const char *type; /* "counter" (name ends in _total), "gauge" or "histogram" */
    const char *sys;  /* the $SYS row (after "$SYS/broker/") that holds the value, */
    const char *help;
    size_t field;     /* ...or, where $SYS has none (sys is NULL), an offset in ipb_stats_t */
    /* ...or a metric of several samples (labels, buckets): writes it whole, HELP and TYPE
     * included, or nothing where it does not apply (the store without persistence). */
    void (*write)(ipb_broker_t *b, const ipb__metric_t *m, ipb__mout_t *o);
    const char *labels; /* for the doc: what the samples are told apart by */
};

extern const ipb__metric_t ipb__metrics[];
extern const size_t ipb__metrics_len;

/*
 * Every metric with its # HELP and # TYPE lines, into buf. Returns the length of the
 * whole text, like snprintf: when it is len or more, buf holds a truncated text (still
 * NUL-terminated when len > 0) and the caller asks again with more room.
 */
size_t ipb__metrics_text(ipb_broker_t *b, char *buf, size_t len);

#endif /* IOTPLOT_BROKER_METRICS_H */
