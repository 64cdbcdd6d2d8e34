/*
 * render.h - draw one figure of a series to PDF, PNG or SVG with cairo and pango.
 *
 * The renderer knows nothing of MQTT, SQLite or files of data: it takes columns of
 * doubles and the iot-plot options, and writes one image file. The plot server, the
 * offline `iotplot plot` command and the benchmarks all call it.
 */
#ifndef IOTPLOT_RENDER_H
#define IOTPLOT_RENDER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *title;  /* UTF-8, may hold TeX math between $...$; NULL = none */
    const char *xlabel;
    const char *ylabel;
    double width_in, height_in; /* figsize; 0 = the default 5 x 3 */
    double dpi;                 /* PNG only; 0 = 100 */
    bool xlog, ylog;
    bool grid;  /* callers set true unless the options say false */
    bool hist;  /* a histogram of every column side by side */

    size_t ncols;             /* columns, >= 1 */
    const char *const *names; /* column names, ncols of them */
    size_t nrows;             /* rows, may be 0 */
    const double *const *cols; /* cols[c][r]: column-major, ncols arrays of nrows */

    const char *const *formats; /* matplotlib format strings, one per plotted line */
    size_t nformats;            /* may be fewer than the lines; the rest use defaults */
} ipp_figure_t;

/*
 * Render `fig` to `path`; the format is chosen by the extension (.pdf, .png, .svg).
 * Returns 0, or -1 with a one-line reason in err[0..errlen) (unknown extension, cannot
 * write the file, bad format string...). Never aborts on odd data: NaNs, infinities,
 * empty or constant columns all produce a sensible figure. Thread-safe: figures may be
 * rendered on several threads at once.
 */
int ipp_render(const ipp_figure_t *fig, const char *path, char *err, size_t errlen);

#endif
