/*
 * render.c - ipp_render(): check the request, prepare lines and limits, pick the
 * output surface, and draw in matplotlib's order (grid, data, frame, legend).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cairo-pdf.h>
#include <cairo-svg.h>

#include "render/render_int.h"

#define MAX_INCHES 100.0
#define MAX_DPI 2400.0
#define MAX_PIXELS 25000000.0 /* 25 Mpixel PNG (e.g. 50 x 50 in at 100 dpi): 100 MB of canvas */
#define VECTOR_COLUMN 0.25     /* decimation column of PDF/SVG in points (288 dpi) */

typedef enum { OUT_PDF, OUT_PNG, OUT_SVG } out_kind_t;

typedef struct {
    const ipp_figure_t *fig;
    out_kind_t kind;
    double w_in, h_in, dpi;
    size_t nlines;
    ipp__line_t lines[IPP__MAX_LINES];
    ipp__hist_t *hist; /* hist mode only */
    ipp__path_t paths[IPP__MAX_LINES];
    FILE *out;
} job_t;

static int failf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int failf(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int out_kind(const char *path, out_kind_t *kind)
{
    const char *dot = strrchr(path, '.');
    if (!dot)
        return -1;
    if (strcasecmp(dot, ".pdf") == 0)
        *kind = OUT_PDF;
    else if (strcasecmp(dot, ".png") == 0)
        *kind = OUT_PNG;
    else if (strcasecmp(dot, ".svg") == 0)
        *kind = OUT_SVG;
    else
        return -1;
    return 0;
}

static int check_figure(job_t *j, const char *path, char *err, size_t errlen)
{
    const ipp_figure_t *f = j->fig;
    if (!f || !path)
        return failf(err, errlen, "no figure or no output path");
    if (out_kind(path, &j->kind) != 0)
        return failf(err, errlen, "unknown output format (use .pdf, .png or .svg)");
    if (f->ncols < 1)
        return failf(err, errlen, "a figure needs at least one column");
    if (f->ncols > IPP__MAX_LINES + (f->hist ? 0 : 1))
        return failf(err, errlen, "too many columns (at most %d plotted)", IPP__MAX_LINES);
    if (f->nrows > 0 && !f->cols)
        return failf(err, errlen, "rows without column data");
    for (size_t c = 0; f->nrows > 0 && c < f->ncols; c++) {
        if (!f->cols[c])
            return failf(err, errlen, "column %zu has no data", c);
    }
    j->w_in = f->width_in > 0 ? f->width_in : 5;
    j->h_in = f->height_in > 0 ? f->height_in : 3;
    j->dpi = f->dpi > 0 ? f->dpi : 100;
    if (!(j->w_in <= MAX_INCHES) || !(j->h_in <= MAX_INCHES) || !(f->width_in >= 0) ||
        !(f->height_in >= 0))
        return failf(err, errlen, "figure size out of range (0 < size <= %g in)", MAX_INCHES);
    if (!(j->dpi <= MAX_DPI) || !(f->dpi >= 0))
        return failf(err, errlen, "dpi out of range (0 < dpi <= %g)", MAX_DPI);
    if (j->kind == OUT_PNG && round(j->w_in * j->dpi) * round(j->h_in * j->dpi) > MAX_PIXELS)
        return failf(err, errlen, "image too large (more than %g pixels)", MAX_PIXELS);
    if (j->kind == OUT_PNG && (round(j->w_in * j->dpi) < 1 || round(j->h_in * j->dpi) < 1))
        return failf(err, errlen, "image smaller than one pixel");
    return 0;
}

static const char *col_name(const ipp_figure_t *f, size_t c)
{
    return f->names && f->names[c] ? f->names[c] : "";
}

/* The plotted lines (or histogram columns) with their styles resolved. */
static int prepare_lines(job_t *j, char *err, size_t errlen)
{
    const ipp_figure_t *f = j->fig;
    bool time = f->time && !f->hist;
    bool one = f->hist || f->ncols == 1;
    j->nlines = f->hist || time ? f->ncols : (one ? 1 : f->ncols - 1);
    double gap = time && f->nrows ? ipp__time_gap(f->time, f->nrows) : 0;
    size_t cycle = 0;
    for (size_t i = 0; i < j->nlines; i++) {
        size_t c = f->hist || time ? i : (one ? 0 : i + 1);
        ipp__line_t *ln = &j->lines[i];
        const double *x = time ? f->time : one ? NULL : (f->nrows ? f->cols[0] : NULL);
        *ln = (ipp__line_t){.x = f->nrows ? x : NULL, .y = f->nrows ? f->cols[c] : NULL,
                            .n = f->nrows, .gap = gap, .label = col_name(f, c)};
        const char *fmt = (f->formats && i < f->nformats) ? f->formats[i] : NULL;
        char why[160];
        if (ipp__parse_format(fmt, &ln->style, why, sizeof why) != 0)
            return failf(err, errlen, "format %zu: %s", i, why);
        /* only lines without an explicit colour advance the cycle, as in matplotlib */
        if (!ln->style.has_color)
            ln->style.color = ipp__cycle_color(cycle++);
    }
    return 0;
}

static bool usable(double v, bool log) { return isfinite(v) && (!log || v > 0); }

/* Limits of rows [r0, r1) of x against y, the points that can be drawn. */
static void limits_of(const double *x, const double *y, size_t r0, size_t r1, bool xl,
                      bool yl, double lim[4])
{
    for (size_t r = r0; r < r1; r++) {
        double xv = x ? x[r] : (double)r, yv = y[r];
        if (!usable(xv, xl) || !usable(yv, yl))
            continue;
        lim[0] = xv < lim[0] ? xv : lim[0];
        lim[1] = xv > lim[1] ? xv : lim[1];
        lim[2] = yv < lim[2] ? yv : lim[2];
        lim[3] = yv > lim[3] ? yv : lim[3];
    }
}

/*
 * The same on linear axes, a block of rows at a time without a branch per row: v - v is
 * 0 for a finite v and NaN for NaN or an infinity, so one sum tells whether the whole
 * block can be drawn; a block that cannot is done again row by row.
 */
#define LIMIT_BLOCK 512
static void limits_linear(const double *x, const double *y, size_t n, double lim[4])
{
    for (size_t r0 = 0; r0 < n; r0 += LIMIT_BLOCK) {
        size_t r1 = n - r0 < LIMIT_BLOCK ? n : r0 + LIMIT_BLOCK;
        double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY, bad = 0;
        for (size_t r = r0; r < r1; r++) {
            double xv = x[r], yv = y[r];
            bad += (xv - xv) + (yv - yv);
            x0 = xv < x0 ? xv : x0;
            x1 = xv > x1 ? xv : x1;
            y0 = yv < y0 ? yv : y0;
            y1 = yv > y1 ? yv : y1;
        }
        if (bad == 0) {
            lim[0] = x0 < lim[0] ? x0 : lim[0];
            lim[1] = x1 > lim[1] ? x1 : lim[1];
            lim[2] = y0 < lim[2] ? y0 : lim[2];
            lim[3] = y1 > lim[3] ? y1 : lim[3];
        } else {
            limits_of(x, y, r0, r1, false, false, lim);
        }
    }
}

/* Limits of the data: points count when both coordinates can be drawn. */
static void data_limits(job_t *j, ipp__axes_t *ax)
{
    const ipp_figure_t *f = j->fig;
    if (f->hist) {
        ipp__hist_compute(j->hist, f->cols, f->ncols, f->nrows);
        double l, r, dummy;
        ipp__hist_bar(j->hist, 0, 0, &l, &dummy);
        ipp__hist_bar(j->hist, j->hist->ncols - 1, IPP__HIST_BINS - 1, &dummy, &r);
        ipp__axis_limits(&ax->x, l, r, false, 0);
        double top = j->hist->maxcount > 0 ? j->hist->maxcount : 1;
        ipp__axis_limits(&ax->y, ax->y.log ? 1 : 0, top, true, 0);
        return;
    }
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    bool xl = ax->x.log, yl = ax->y.log;
    for (size_t i = 0; i < j->nlines; i++) {
        const ipp__line_t *ln = &j->lines[i];
        if (!ln->x && !yl) {
            /* against the row index: a tight loop over y alone */
            size_t first = SIZE_MAX, last = 0;
            for (size_t r = 0; r < ln->n; r++) {
                double y = ln->y[r];
                if (!isfinite(y))
                    continue;
                first = r < first ? r : first;
                last = r;
                y0 = y < y0 ? y : y0;
                y1 = y > y1 ? y : y1;
            }
            if (first != SIZE_MAX) {
                x0 = fmin(x0, (double)first);
                x1 = fmax(x1, (double)last);
            }
            continue;
        }
        double lim[4] = {x0, x1, y0, y1};
        if (ln->x && !xl && !yl)
            limits_linear(ln->x, ln->y, ln->n, lim);
        else
            limits_of(ln->x, ln->y, 0, ln->n, xl, yl, lim);
        x0 = lim[0], x1 = lim[1], y0 = lim[2], y1 = lim[3];
    }
    if (ax->x.time && !(x0 < x1)) {
        /* no span to show: a minute around one point, the first day of 1970 for none */
        bool none = !(x0 <= x1);
        x0 = none ? 0 : x0 - 30;
        x1 = none ? 86400 : x1 + 30;
    }
    ipp__axis_limits(&ax->x, x0, x1, false, 0);
    ipp__axis_limits(&ax->y, y0, y1, false, 0);
}

static int draw_data(job_t *j, cairo_t *cr, const ipp__page_t *pg, const ipp__axes_t *ax)
{
    ipp__map_t mx, my;
    ipp__axes_map(ax, &mx, &my);
    int rc = 0;
    cairo_save(cr);
    /* a clip on whole pixels is a plain rectangle for cairo; a fractional one becomes a
     * mask that every stroke has to be composited through */
    double x0 = ax->box.x0, y0 = ax->box.y0, x1 = ax->box.x1, y1 = ax->box.y1;
    if (pg->raster) {
        x0 = floor(x0 / pg->px) * pg->px;
        y0 = floor(y0 / pg->px) * pg->px;
        x1 = ceil(x1 / pg->px) * pg->px;
        y1 = ceil(y1 / pg->px) * pg->px;
    }
    cairo_rectangle(cr, x0, y0, x1 - x0, y1 - y0);
    cairo_clip(cr);
    if (j->fig->hist) {
        rc = ipp__draw_hist(cr, pg, j->hist, j->lines, &mx, &my, &j->paths[0]);
    } else {
        for (size_t i = 0; i < j->nlines && rc == 0; i++)
            rc = ipp__draw_line(cr, pg, &j->lines[i], &mx, &my, &j->paths[i]);
    }
    cairo_restore(cr);
    return rc;
}

static void draw_entries(job_t *j, ipp__text_t *tx, const ipp__axes_t *ax,
                         const ipp__page_t *pg, const ipp__line_t *lines, size_t n);

static void draw_legend(job_t *j, ipp__text_t *tx, const ipp__axes_t *ax, const ipp__page_t *pg)
{
    if (!j->fig->hist && j->nlines < 2)
        return;
    /* like matplotlib, entries without a label (or "_hidden" ones) stay out */
    ipp__line_t *shown = malloc(j->nlines * sizeof *shown);
    size_t n = 0;
    for (size_t i = 0; shown && i < j->nlines; i++) {
        if (j->lines[i].label[0] && j->lines[i].label[0] != '_')
            shown[n++] = j->lines[i];
    }
    if (n > 0)
        draw_entries(j, tx, ax, pg, shown, n);
    free(shown);
}

static void draw_entries(job_t *j, ipp__text_t *tx, const ipp__axes_t *ax,
                         const ipp__page_t *pg, const ipp__line_t *lines, size_t n)
{
    ipp__legend_t lg = {.n = n, .lines = lines, .patches = j->fig->hist};
    ipp__legend_measure(&lg, tx);
    ipp__legend_place(&lg, &ax->box, j->paths, j->fig->hist ? 1 : j->nlines);
    ipp__legend_draw(&lg, tx, pg);
}

/* Ticks, axes box and page size, measured on a scratch surface: the page size
 * (cropped to the content) must be known before the output surface exists. */
static int layout_figure(job_t *j, ipp__axes_t *ax, ipp__page_t *pg)
{
    *ax = (ipp__axes_t){.fig = j->fig};
    ax->x.time = j->fig->time && !j->fig->hist;
    ax->x.utc = j->fig->utc;
    ax->x.log = j->fig->xlog && !ax->x.time; /* a date axis is linear */
    ax->y.log = j->fig->ylog;
    data_limits(j, ax);
    cairo_surface_t *scratch = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
    cairo_t *cr = cairo_create(scratch);
    ipp__text_t tx;
    int rc = ipp__text_init(&tx, cr);
    if (rc == 0) {
        ipp__axes_layout(ax, &tx, pg);
        ipp__text_free(&tx);
    }
    cairo_destroy(cr);
    cairo_surface_destroy(scratch);
    return rc;
}

/* Everything on one page; cr is in points. */
static int draw_figure(job_t *j, cairo_t *cr, const ipp__page_t *pg, const ipp__axes_t *ax,
                       char *err, size_t errlen)
{
    ipp__text_t tx;
    if (ipp__text_init(&tx, cr) != 0)
        return failf(err, errlen, "cannot set up text rendering");
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    if (j->fig->grid)
        ipp__axes_draw_grid(ax, cr, pg);
    int rc = draw_data(j, cr, pg, ax);
    if (rc == 0) {
        ipp__axes_draw_frame(ax, &tx, pg);
        draw_legend(j, &tx, ax, pg);
    } else {
        failf(err, errlen, "out of memory");
    }
    ipp__text_free(&tx);
    return rc;
}

static cairo_status_t write_cb(void *closure, const unsigned char *data, unsigned int len)
{
    FILE *fp = closure;
    return fwrite(data, 1, len, fp) == len ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

static cairo_surface_t *make_surface(job_t *j, const ipp__page_t *pg)
{
    switch (j->kind) {
    case OUT_PNG:
        return cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)round(pg->page_w / pg->px),
                                          (int)round(pg->page_h / pg->px));
    case OUT_PDF: {
        cairo_surface_t *s = cairo_pdf_surface_create_for_stream(write_cb, j->out, pg->page_w,
                                                                 pg->page_h);
        cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "iotplot");
        if (j->fig->title)
            cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, j->fig->title);
        return s;
    }
    case OUT_SVG: {
        cairo_surface_t *s = cairo_svg_surface_create_for_stream(write_cb, j->out, pg->page_w,
                                                                 pg->page_h);
        cairo_svg_surface_set_document_unit(s, CAIRO_SVG_UNIT_PT);
        return s;
    }
    }
    return NULL;
}

static int render_to(job_t *j, const char *path, char *err, size_t errlen)
{
    ipp__page_t pg = {.page_w = j->w_in * 72, .page_h = j->h_in * 72,
                      .raster = j->kind == OUT_PNG};
    pg.px = pg.raster ? 72 / j->dpi : VECTOR_COLUMN;
    ipp__axes_t ax;
    if (layout_figure(j, &ax, &pg) != 0)
        return failf(err, errlen, "cannot set up text rendering");
    if (pg.raster && (pg.page_w / pg.px) * (pg.page_h / pg.px) > MAX_PIXELS)
        return failf(err, errlen, "image too large (more than %g pixels)", MAX_PIXELS);
    cairo_surface_t *s = make_surface(j, &pg);
    if (!s || cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        if (s)
            cairo_surface_destroy(s);
        return failf(err, errlen, "cannot create the %s surface", path);
    }
    cairo_t *cr = cairo_create(s);
    if (pg.raster)
        cairo_scale(cr, j->dpi / 72, j->dpi / 72);
    int rc = draw_figure(j, cr, &pg, &ax, err, errlen);
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    if (rc == 0 && st != CAIRO_STATUS_SUCCESS)
        rc = failf(err, errlen, "drawing failed: %s", cairo_status_to_string(st));
    if (rc == 0 && pg.raster) {
        if (ipp__write_png(s, j->dpi, j->out) != 0)
            rc = failf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    }
    cairo_surface_finish(s);
    st = cairo_surface_status(s);
    if (rc == 0 && st != CAIRO_STATUS_SUCCESS)
        rc = failf(err, errlen, "cannot write %s: %s", path, cairo_status_to_string(st));
    cairo_surface_destroy(s);
    return rc;
}

int ipp_render(const ipp_figure_t *fig, const char *path, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = 0;
    job_t *j = calloc(1, sizeof *j);
    if (!j)
        return failf(err, errlen, "out of memory");
    j->fig = fig;
    int rc = check_figure(j, path, err, errlen);
    if (rc == 0)
        rc = prepare_lines(j, err, errlen);
    if (rc == 0 && fig->hist && !(j->hist = calloc(1, sizeof *j->hist)))
        rc = failf(err, errlen, "out of memory");
    if (rc == 0 && !(j->out = fopen(path, "wb")))
        rc = failf(err, errlen, "cannot open %s: %s", path, strerror(errno));
    if (rc == 0)
        rc = render_to(j, path, err, errlen);
    if (j->out && fclose(j->out) != 0 && rc == 0)
        rc = failf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    if (rc != 0 && j->out)
        remove(path); /* no half-written image left behind */
    for (size_t i = 0; i < IPP__MAX_LINES; i++)
        ipp__path_free(&j->paths[i]);
    free(j->hist);
    free(j);
    return rc;
}
