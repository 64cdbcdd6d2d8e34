/* The figures of the golden-image tests, also used to look at the renderer's output. */
#ifndef IOTPLOT_GOLDEN_CASES_H
#define IOTPLOT_GOLDEN_CASES_H

#include <stddef.h>

#include "render/render.h"

#define GOLDEN_MAXCOLS 12

typedef struct {
    const char *name;     /* file stem: tests/golden/<name>.png */
    ipp_figure_t fig;
    double *data[GOLDEN_MAXCOLS];
    const double *cols[GOLDEN_MAXCOLS];
    const char *names[GOLDEN_MAXCOLS];
    double *time; /* arrival times of the date-axis cases, else NULL */
} golden_case_t;

/* Number of cases; golden_case_make fills case i (0 = ok), golden_case_free frees it. */
size_t golden_case_count(void);
int golden_case_make(size_t i, golden_case_t *c);
void golden_case_free(golden_case_t *c);

#endif
