/*
 * figure.c - a series with plot_series options drawn through the renderer (src/render),
 * for the writer thread and for `iotplot plot`. Apart from opts.c so that the options
 * parser builds without cairo (the fuzzer compiles it alone).
 */
#include <string.h>

#include "plot_internal.h"
#include "render/render.h"

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
}

int ipp_figure_render(const ipp_data_t *d, const ipp_plotopts_t *o, double dpi,
                      const char *path, char *err, size_t errlen)
{
    ipp_figure_t fig;
    figure_of(d, o, &fig);
    fig.dpi = dpi;
    return ipp_render(&fig, path, err, errlen);
}
