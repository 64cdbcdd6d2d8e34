/*
 * figure.c - a series with plot_series options drawn through the renderer (src/render),
 * for the writer thread and for `iotplot plot`. Apart from opts.c so that the options
 * parser builds without cairo (the fuzzer compiles it alone).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot_internal.h"
#include "render/render.h"

/* Whether column c goes backwards somewhere (NaNs skipped): a reading, not an x. */
static bool goes_back(const ipp_data_t *d, size_t c)
{
    double prev = NAN;
    for (size_t r = 0; r < d->nrows; r++) {
        double v = d->cols[c][r];
        if (isnan(v))
            continue;
        if (v < prev)
            return true;
        prev = v;
    }
    return false;
}

/* Arrival times as x: asked for, or (option x absent) when there is no x column worth
 * plotting, a single column or a first column that goes backwards. */
static bool x_is_time(const ipp_data_t *d, const ipp_plotopts_t *o)
{
    if (!d->t || o->hist || o->x == IPP_X_FIRST)
        return false;
    return o->x == IPP_X_RECEIVED || d->ncols == 1 || goes_back(d, 0);
}

/* A figure of `d` with options `o` (pointers into both). */
static void figure_of(const ipp_data_t *d, const ipp_plotopts_t *o, ipp_figure_t *fig)
{
    memset(fig, 0, sizeof *fig);
    fig->title = o->title;
    fig->xlabel = o->xlabel;
    fig->ylabel = o->ylabel;
    fig->width_in = o->width_in;
    fig->height_in = o->height_in;
    fig->xlog = o->xlog;
    fig->ylog = o->ylog;
    fig->grid = o->grid;
    fig->hist = o->hist;
    fig->ncols = d->ncols;
    fig->names = (const char *const *)d->names;
    fig->nrows = d->nrows;
    fig->cols = (const double *const *)d->cols;
    fig->formats = (const char *const *)o->formats;
    fig->nformats = o->nformats;
    fig->time = x_is_time(d, o) ? d->t : NULL;
    fig->utc = o->utc;
}

int ipp_figure_render(const ipp_data_t *d, const ipp_plotopts_t *o, double dpi,
                      const char *path, char *err, size_t errlen)
{
    if (o->x == IPP_X_RECEIVED && !d->t && !o->hist) {
        snprintf(err, errlen, "x=\"received\": the series has no arrival times");
        return -1;
    }
    ipp_figure_t fig;
    figure_of(d, o, &fig);
    fig.dpi = dpi;
    return ipp_render(&fig, path, err, errlen);
}
