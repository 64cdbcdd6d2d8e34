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
    double dpi;                 /* PNG only; 0 = 100; at most 2400 */
    bool xlog, ylog;
    bool grid;  /* callers set true unless the options say false */
    bool hist;  /* a histogram of every column side by side */

    size_t ncols;             /* columns, >= 1 (at most 256 plotted) */
    const char *const *names; /* column names, ncols of them */
    size_t nrows;             /* rows, may be 0 */
    const double *const *cols; /* cols[c][r]: column-major, ncols arrays of nrows */
    const double *time; /* NULL, or nrows arrival times (seconds since the epoch): then
                           every column is a line against them, on a date axis */
    bool utc;           /* date labels in UTC; false: in the local time zone */

    const char *const *formats; /* matplotlib format strings, one per plotted line */
    size_t nformats;            /* may be fewer than the lines; the rest use defaults */
} ipp_figure_t;

/*
 * Render `fig` to `path`; the format is chosen by the extension (.pdf, .png, .svg,
 * any case). Returns 0, or -1 with a one-line reason in err[0..errlen) (unknown
 * extension, cannot write the file, bad format string, figsize or dpi out of range,
 * too many columns); on failure no file is left behind. Never aborts on odd data: NaNs,
 * infinities, empty or constant columns all produce a sensible figure. Thread-safe:
 * figures may be rendered on several threads at once (pango's per-thread font maps).
 *
 * Look: matplotlib's default style (tab10, DejaVu Sans 10 pt, 1.5 pt lines, ticks
 * from MaxNLocator, log decades labelled 10^n with minor ticks 2..9, legend at the
 * "best" corner when more than one line or in hist mode). Columns: without hist,
 * column 0 is x and each other column a line; a single column is plotted against its
 * row index. With `time`, every column is a line against it: ticks on calendar
 * boundaries as matplotlib's AutoDateLocator picks them, labels as its
 * ConciseDateFormatter writes them ("12:30", "Dec-02", "Feb", "2027") with the date they
 * leave out at the right ("2026-Dec-01"), and a break in a line wherever arrival times
 * jump by more than 10 times their median step. With hist, every column is a histogram over 10 shared bins, bars side by
 * side filling 0.7 of each bin. formats[i] styles plotted line i (matplotlib format
 * strings: colour bgrcmykw or C0..C9, marker .,ov^<>sp*hH+xDd|_, line - -- -. :).
 * Text may hold TeX math between $...$ (superscripts, subscripts, Greek, \frac,
 * \sqrt, \cdot, \times, \pm, \infty, \sin... without any LaTeX).
 *
 * Size: like matplotlib's savefig(bbox_inches="tight", pad_inches=0.1). The axes are
 * placed as a default subplot of a width_in x height_in figure (left 12.5%, right 90%,
 * bottom 11%, top 88%), then the page is cropped to the bounding box of everything
 * drawn (axes, tick labels, axis labels, title) plus 0.1 in on each side. A PNG is
 * therefore round(content_width_in * dpi) x round(content_height_in * dpi) pixels,
 * usually within a few percent of figsize x dpi (the 5 x 3 in sinusoid at 100 dpi:
 * 479 x 320, matplotlib: 479 x 319); PDF and SVG pages are the same box in points.
 * Series longer than the page is wide are reduced per output pixel column (first,
 * min, max, last), so 10 million points take tens of milliseconds and PDF/SVG files
 * stay small, with the same picture as drawing every point.
 *
 * Example:
 *     const double t[] = {0, 1, 2}, v[] = {1, 3, 2};
 *     const double *cols[] = {t, v};
 *     const char *names[] = {"time", "volts"};
 *     ipp_figure_t f = {.title = "$V_{out}$", .grid = true, .ncols = 2, .names = names,
 *                       .nrows = 3, .cols = cols};
 *     char err[256];
 *     if (ipp_render(&f, "out.png", err, sizeof err) != 0)
 *         fprintf(stderr, "plot: %s\n", err);
 */
int ipp_render(const ipp_figure_t *fig, const char *path, char *err, size_t errlen);

#endif
