/*
 * hist.c - durations into the buckets of a Prometheus histogram. Bounds of 1, 2.5 and 5
 * per decade, as Prometheus client libraries choose them: a commit of the persistence
 * file takes well under a millisecond on an SSD and tens of them with `persistence_sync
 * full` on a disk that flushes slowly.
 */
#include "hist.h"

const double ipb__hist_bounds[IPB__HIST_N] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                              0.025,  0.05,  0.1,    0.25,  0.5,
                                              1,      2.5,   5,      10};

void ipb__hist_observe(ipb__hist_t *h, uint64_t ns)
{
    double s = (double)ns / 1e9;
    h->count++;
    h->sum_ns += ns;
    for (unsigned i = 0; i < IPB__HIST_N; i++)
        if (s <= ipb__hist_bounds[i]) {
            h->counts[i]++;
            return;
        }
}
