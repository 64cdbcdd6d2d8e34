/*
 * render_int.h - the renderer's internal modules and the types they share.
 *
 * Module map (each file one job):
 *   fmt.c       matplotlib format strings ('r--', 'bs', 'k:o') and colour tables
 *   ticks.c     view limits, "nice number" and log tick choice, tick label text
 *   dates.c     time axes: calendar tick steps, concise date labels, line gaps
 *   decimate.c  per-pixel-column reduction of long series (first/min/max/last)
 *   mathtext.c  the $...$ TeX subset: parser to a node tree, layout to positioned runs
 *   text.c      pango measuring and drawing of plain and math text
 *   series.c    lines, markers and histogram bars
 *   legend.c    legend size, "best" placement and drawing
 *   axes.c      axes layout (tight), spines, ticks, grid, labels, title
 *   png.c       fast PNG writer for the raster output
 *   render.c    ipp_render(): checks, data preparation, output surfaces
 *
 * All coordinates handed between modules are cairo user units: points (1/72 in),
 * y growing downwards. Nothing here keeps state outside the structs passed in.
 */
#ifndef IOTPLOT_RENDER_INT_H
#define IOTPLOT_RENDER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cairo.h>
#include <pango/pangocairo.h>

#include "render/render.h"

#ifndef M_PI /* strict C11 headers leave these out */
#define M_PI 3.14159265358979323846
#endif
#ifndef M_SQRT2
#define M_SQRT2 1.41421356237309504880
#endif

/* ---- style constants: matplotlib's default rcParams, in points ---- */
#define IPP__FONT_FAMILY "DejaVu Sans"
#define IPP__FONT_SIZE 10.0       /* font.size; tick labels, axis labels, legend */
#define IPP__TITLE_SIZE 12.0      /* axes.titlesize "large" */
#define IPP__LINE_WIDTH 1.5       /* lines.linewidth */
#define IPP__SPINE_WIDTH 0.8      /* axes.linewidth */
#define IPP__TICK_MAJOR 3.5       /* xtick.major.size */
#define IPP__TICK_MINOR 2.0       /* xtick.minor.size */
#define IPP__TICK_MINOR_WIDTH 0.6 /* xtick.minor.width */
#define IPP__TICK_PAD 3.5         /* xtick.major.pad */
#define IPP__LABEL_PAD 4.0        /* axes.labelpad */
#define IPP__TITLE_PAD 6.0        /* axes.titlepad */
#define IPP__GRID_WIDTH 0.8       /* grid.linewidth */
#define IPP__MARKER_SIZE 6.0      /* lines.markersize */
#define IPP__MARKER_EDGE 1.0      /* lines.markeredgewidth */
#define IPP__MARGIN 0.05          /* axes.xmargin / axes.ymargin */
#define IPP__FIG_PAD 7.2          /* savefig.pad_inches = 0.1 in */
#define IPP__HIST_BINS 10
#define IPP__HIST_RWIDTH 0.7      /* fraction of a bin the side-by-side bars fill */
#define IPP__MAX_LINES 256        /* plotted lines (and histogram columns) */

typedef struct {
    double r, g, b;
} ipp__rgb_t;

/* ---- fmt.c ---- */
typedef enum {
    IPP__LS_SOLID,
    IPP__LS_DASHED,
    IPP__LS_DASHDOT,
    IPP__LS_DOTTED,
    IPP__LS_NONE
} ipp__linestyle_t;

typedef struct {
    bool has_color;   /* false: take the next colour of the cycle */
    ipp__rgb_t color;
    char marker;      /* one of ".,ov^<>sp*hH+xDd|_", or 0 for none */
    ipp__linestyle_t ls;
} ipp__style_t;

/* Parse one matplotlib format string (NULL or "" = defaults). Returns 0, or -1 with
 * matplotlib's reason in err (unrecognised character, two colours/markers/styles). */
int ipp__parse_format(const char *fmt, ipp__style_t *out, char *err, size_t errlen);
/* Colour i of the tab10 cycle (wraps around). */
ipp__rgb_t ipp__cycle_color(size_t i);
/* Whether a marker is drawn as strokes only ('+', 'x', '|', '_'). */
bool ipp__marker_unfilled(char marker);

/* ---- ticks.c ---- */
#define IPP__MAX_TICKS 32
#define IPP__MAX_MINOR 256
#define IPP__LABEL_LEN 48

typedef struct {
    bool log;
    bool time, utc;                        /* seconds since the epoch, shown as dates in
                                              UTC or in the local zone */
    double lo, hi;                         /* view limits in data units, lo < hi */
    size_t nmajor;                         /* major ticks inside the view */
    double major[IPP__MAX_TICKS];
    char labels[IPP__MAX_TICKS][IPP__LABEL_LEN]; /* UTF-8; log labels are "$10^{n}$" */
    size_t nminor;                         /* log axes only */
    double minor[IPP__MAX_MINOR];
    char offset_text[IPP__LABEL_LEN];      /* "1e6", "+1e3", "1e−3+2"... or "" */
} ipp__axis_t;

/* View limits from finite data limits like matplotlib's autoscale: nonsingular
 * expansion, then 5% margins (in log space for log axes); a sticky bottom at `sticky`
 * (histograms: 0) is never crossed by the margin. dmin > dmax means "no data". */
void ipp__axis_limits(ipp__axis_t *ax, double dmin, double dmax, bool has_sticky,
                      double sticky);
/* MaxNLocator(nbins, steps=[1, 2, 2.5, 5, 10]): writes up to `cap` ticks covering
 * [lo, hi] (the outer ones may lie outside) and returns how many. */
size_t ipp__nice_ticks(double lo, double hi, int nbins, double *ticks, size_t cap);
/* Choose major (and for log axes minor) ticks inside the view for at most `nbins`
 * intervals and write their labels (ScalarFormatter / LogFormatterSciNotation). */
void ipp__axis_ticks(ipp__axis_t *ax, int nbins);

/* ---- dates.c ---- */
/* A line of arrival times breaks where one step exceeds this many typical steps. */
#define IPP__GAP_FACTOR 10.0

typedef struct {
    int unit; /* 0 years, 1 months, 2 days, 3 hours, 4 minutes, 5 seconds, 6 microseconds */
    int step; /* in that unit */
} ipp__date_step_t;

/* AutoDateLocator's choice for the view [lo, hi]: the coarsest unit of which the span
 * holds at least 5, with the smallest of its steps that needs at most maxticks ticks
 * (maxticks <= 1: matplotlib's defaults, 11 or 12 and 8 below a second). */
ipp__date_step_t ipp__date_step(double lo, double hi, bool utc, int maxticks);
/* Major ticks of a time axis (ax->lo..hi in epoch seconds) on calendar boundaries of
 * UTC or the local zone, then their labels (ipp__date_labels). */
void ipp__date_ticks(ipp__axis_t *ax, int maxticks, bool utc);
/* ConciseDateFormatter: the labels of ax->major[] and the offset text (the date the
 * labels leave out, from the last tick: "2026-Dec-01"). */
void ipp__date_labels(ipp__axis_t *ax, bool utc);
/* Steps of t[0..n) longer than the returned value break the line: IPP__GAP_FACTOR
 * times the median step (0: no breaks, fewer than two positive steps). */
double ipp__time_gap(const double *t, size_t n);

/* ---- mapping data to the page ---- */
typedef struct {
    bool log;
    double lo, hi; /* view limits */
    double p0, p1; /* page coordinates of lo and hi */
} ipp__map_t;

/* Page coordinate of data value v; NaN when v has no place (NaN, or <= 0 on a log axis). */
double ipp__map(const ipp__map_t *m, double v);

/* ---- decimate.c ---- */
typedef struct {
    double x, y; /* page coordinates; x = NaN marks a break in the line */
} ipp__pt_t;

typedef struct {
    ipp__pt_t *pts;
    size_t n, cap;
} ipp__path_t;

/* Map (x[i], y[i]) (x NULL: x = i) to the page and reduce every run of consecutive
 * points that fall in one column of width `colw` to its first, min, max and last point:
 * the drawn line covers exactly the same pixels, with at most 4 points per column for
 * ordered x. Non-finite or unmappable points break the line. Returns 0 or -1 (memory). */
int ipp__decimate(const double *x, const double *y, size_t n, const ipp__map_t *mx,
                  const ipp__map_t *my, double colw, ipp__path_t *out);
/* The same, with a break wherever x grows by more than `gap` (> 0) from one point to
 * the next: a device that was offline leaves a hole, not a straight line. */
int ipp__decimate_gaps(const double *x, const double *y, size_t n, double gap,
                       const ipp__map_t *mx, const ipp__map_t *my, double colw,
                       ipp__path_t *out);
void ipp__path_free(ipp__path_t *p);

/* ---- mathtext.c ---- */
typedef enum {
    IPP__MT_TEXT,   /* a run of characters in one style */
    IPP__MT_GROUP,  /* children a, linked by next */
    IPP__MT_SCRIPT, /* base a, superscript b, subscript c (-1 when absent) */
    IPP__MT_FRAC,   /* numerator a over denominator b */
    IPP__MT_SQRT,   /* radical over a */
    IPP__MT_SPACE   /* horizontal space of `space_em` em */
} ipp__mt_kind_t;

typedef enum { IPP__MT_ROMAN, IPP__MT_ITALIC } ipp__mt_style_t;

typedef struct {
    ipp__mt_kind_t kind;
    ipp__mt_style_t style;
    uint32_t off, len; /* TEXT: bytes of ipp__mt_t.text */
    int a, b, c;
    int next;          /* next sibling inside a group, -1 = last */
    float space_em;
} ipp__mt_node_t;

typedef struct {
    ipp__mt_node_t *nodes;
    size_t nnodes, cap;
    char *text;
    size_t textlen, textcap;
    int root; /* a GROUP */
} ipp__mt_t;

#define IPP__MT_MAX_INPUT 4096 /* longer text is cut (at a character boundary) */
#define IPP__MT_MAX_DEPTH 12   /* deeper nesting is kept as literal text */

/* Parse a label: text outside $...$ is roman, math inside follows mathtext rules.
 * Never fails on odd input (unbalanced braces or $, unknown commands): those come out
 * literally. Returns 0, or -1 only when memory runs out. Free with ipp__mt_free. */
int ipp__mt_parse(const char *s, ipp__mt_t *mt);
void ipp__mt_free(ipp__mt_t *mt);
/* Whether text needs the math path at all (holds a '$'). */
bool ipp__mt_has_math(const char *s);

/* A laid-out label: runs of text and rules (fraction bars, radical overlines). */
typedef struct {
    bool rule;
    ipp__mt_style_t style;
    uint32_t off, len;  /* text run: bytes of the parsed text */
    double x, y;        /* text: left end of the baseline; rule: left end of its centre */
    double w, size;     /* rule: length and thickness; text: width and font size */
} ipp__mt_item_t;       /* a text item with len 0 is the radical sign of a \sqrt */

typedef struct {
    ipp__mt_item_t *items;
    size_t n, cap;
    double width, ascent, descent; /* relative to the baseline at y = 0 (y down) */
} ipp__mt_box_t;

/* Measures a run of text at a font size: its advance width, ascent and descent. */
typedef void (*ipp__mt_measure_cb)(void *ctx, const char *s, size_t len, double size,
                                   ipp__mt_style_t style, double *w, double *asc,
                                   double *desc);

/* Lay out a parsed label at font size `size`. Returns 0 or -1 (memory). */
int ipp__mt_layout(const ipp__mt_t *mt, double size, ipp__mt_measure_cb measure,
                   void *ctx, ipp__mt_box_t *box);
void ipp__mt_box_free(ipp__mt_box_t *box);

/* ---- text.c ---- */
typedef struct {
    cairo_t *cr;
    PangoLayout *layout;
    PangoFontDescription *font;
} ipp__text_t;

typedef struct {
    double w, asc, desc; /* extent of a label at its baseline */
} ipp__extent_t;

int ipp__text_init(ipp__text_t *tx, cairo_t *cr);
void ipp__text_free(ipp__text_t *tx);
/* Extent of `s` (plain or with $math$) at `size` points; zero for NULL or "". */
ipp__extent_t ipp__text_measure(ipp__text_t *tx, const char *s, double size);
/* Draw `s` with its anchor at (x, y): ha 0 = left, 0.5 = centre, 1 = right of the
 * text; va 0 = top, 0.5 = middle, 1 = bottom of the text box; rotated by `angle`
 * radians (counter-clockwise, about the anchor). */
void ipp__text_draw(ipp__text_t *tx, const char *s, double size, double x, double y,
                    double ha, double va, double angle);

/* ---- series.c ---- */
typedef struct {
    const double *x; /* NULL: the row index */
    const double *y;
    size_t n;
    double gap; /* > 0: x steps longer than this break the line (time axes) */
    const char *label;
    ipp__style_t style; /* colour always resolved */
} ipp__line_t;

typedef struct {
    double x0, y0, x1, y1; /* page rectangle, x0 < x1, y0 < y1 (y0 is the top) */
} ipp__rect_t;

typedef struct {
    double page_w, page_h;
    double px;         /* page units per output pixel (PNG) or per decimation column */
    bool raster;       /* snap hairlines to pixel centres */
} ipp__page_t;

void ipp__set_line_style(cairo_t *cr, ipp__linestyle_t ls, double width);
/* Draw one marker centred at (x, y) in the current source colour. */
void ipp__draw_marker(cairo_t *cr, char marker, double x, double y, double size);
/* Draw a line (and its markers), clipped by the caller to the axes. `path` receives
 * the decimated points (the legend avoids them). Returns 0 or -1 (memory). */
int ipp__draw_line(cairo_t *cr, const ipp__page_t *pg, const ipp__line_t *ln,
                   const ipp__map_t *mx, const ipp__map_t *my, ipp__path_t *path);

typedef struct {
    size_t ncols;
    double edges[IPP__HIST_BINS + 1];
    double counts[IPP__MAX_LINES][IPP__HIST_BINS];
    double maxcount;
} ipp__hist_t;

/* Shared bins over all finite values of every column, counts per column. */
void ipp__hist_compute(ipp__hist_t *h, const double *const *cols, size_t ncols, size_t n);
/* Left and right data x of bar (column c, bin b). */
void ipp__hist_bar(const ipp__hist_t *h, size_t c, size_t b, double *left, double *right);
/* Draw the bars; `path` receives their top corners (the legend avoids them). */
int ipp__draw_hist(cairo_t *cr, const ipp__page_t *pg, const ipp__hist_t *h,
                   const ipp__line_t *cols, const ipp__map_t *mx, const ipp__map_t *my,
                   ipp__path_t *path);

/* ---- legend.c ---- */
typedef struct {
    size_t n;
    const ipp__line_t *lines;
    bool patches;  /* histogram: rectangles instead of line samples */
    double w, h;   /* box size */
    double x, y;   /* top-left corner, once placed */
} ipp__legend_t;

void ipp__legend_measure(ipp__legend_t *lg, ipp__text_t *tx);
/* Place the legend at the corner ("best") where it covers the fewest data points. */
void ipp__legend_place(ipp__legend_t *lg, const ipp__rect_t *axes,
                       const ipp__path_t *paths, size_t npaths);
void ipp__legend_draw(ipp__legend_t *lg, ipp__text_t *tx, const ipp__page_t *pg);

/* ---- png.c ---- */
/* Write an RGB24 image surface as PNG (recording `dpi`). Returns 0 or -1. */
int ipp__write_png(cairo_surface_t *img, double dpi, FILE *fp);

/* ---- axes.c ---- */
typedef struct {
    const ipp_figure_t *fig;
    ipp__axis_t x, y;
    ipp__rect_t box; /* the axes rectangle on the page */
} ipp__axes_t;

/* Place the axes as matplotlib's default subplot in a figure of pg->page_w x page_h,
 * choose the ticks, then crop: pg->page_w/h become the size of the content's bounding
 * box plus IPP__FIG_PAD on each side (whole pixels for PNG) and the axes box moves
 * with it (matplotlib's savefig(bbox_inches="tight", pad_inches=0.1)). */
void ipp__axes_layout(ipp__axes_t *ax, ipp__text_t *tx, ipp__page_t *pg);
void ipp__axes_map(const ipp__axes_t *ax, ipp__map_t *mx, ipp__map_t *my);
void ipp__axes_draw_grid(const ipp__axes_t *ax, cairo_t *cr, const ipp__page_t *pg);
void ipp__axes_draw_frame(const ipp__axes_t *ax, ipp__text_t *tx, const ipp__page_t *pg);

/* Round a page coordinate to the centre of an output pixel (raster only), so that
 * thin axis lines stay crisp like matplotlib's snapping. */
double ipp__snap(const ipp__page_t *pg, double v);
/* The same for a line of `width` points: pixel centres when it covers an odd number of
 * pixels, pixel edges when even, so it covers whole pixels like matplotlib's snapping. */
double ipp__snap_w(const ipp__page_t *pg, double v, double width);

#endif
