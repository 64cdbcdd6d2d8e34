/*
 * hist.h - a histogram of durations (hist.c) for GET /metrics: fixed buckets from half a
 * millisecond to ten seconds, counted on the loop thread.
 */
#ifndef IOTPLOT_BROKER_HIST_H
#define IOTPLOT_BROKER_HIST_H

#include <stdint.h>

#define IPB__HIST_N 14

/* The buckets' upper bounds, in seconds, increasing. */
extern const double ipb__hist_bounds[IPB__HIST_N];

typedef struct {
    uint64_t counts[IPB__HIST_N]; /* observations in (bound[i-1], bound[i]] */
    uint64_t count;               /* all of them, those above the last bound included */
    uint64_t sum_ns;
} ipb__hist_t;

void ipb__hist_observe(ipb__hist_t *h, uint64_t ns);

#endif
