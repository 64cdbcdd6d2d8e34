/*
 * series.c - what goes inside the axes: lines, markers and histogram bars.
 *
 * Sizes are matplotlib's: 1.5 pt lines, 6 pt markers with a 1 pt edge of the same
 * colour, dash patterns scaled by the line width. Long series are decimated per
 * column before cairo sees them, and markers are drawn once per output pixel, so the
 * cost follows the image size rather than the number of points.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "render/render_int.h"

void ipp__set_line_style(cairo_t *cr, ipp__linestyle_t ls, double width)
{
    static const double dashed[] = {3.7, 1.6}, dashdot[] = {6.4, 1.6, 1.0, 1.6},
                        dotted[] = {1.0, 1.65};
    const double *pat = NULL;
    int n = 0;
    switch (ls) {
    case IPP__LS_DASHED:
        pat = dashed;
        n = 2;
        break;
    case IPP__LS_DASHDOT:
        pat = dashdot;
        n = 4;
        break;
    case IPP__LS_DOTTED:
        pat = dotted;
        n = 2;
        break;
    default:
        break;
    }
    double d[4];
    for (int i = 0; i < n; i++)
        d[i] = pat[i] * width;
    cairo_set_line_width(cr, width);
    cairo_set_dash(cr, d, n, 0);
    /* matplotlib: solid lines have projecting caps, dashes butt caps, joins round */
    cairo_set_line_cap(cr, n ? CAIRO_LINE_CAP_BUTT : CAIRO_LINE_CAP_SQUARE);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
}

static void polygon(cairo_t *cr, double x, double y, int n, double r, double rot)
{
    for (int i = 0; i < n; i++) {
        double t = rot + M_PI / 2 + 2 * M_PI * i / n;
        double px = x + r * cos(t), py = y - r * sin(t);
        if (i == 0)
            cairo_move_to(cr, px, py);
        else
            cairo_line_to(cr, px, py);
    }
    cairo_close_path(cr);
}

static void star(cairo_t *cr, double x, double y, double r)
{
    const double inner = 0.381966 * r;
    for (int i = 0; i < 10; i++) {
        double t = M_PI / 2 + M_PI * i / 5, rr = (i % 2) ? inner : r;
        double px = x + rr * cos(t), py = y - rr * sin(t);
        if (i == 0)
            cairo_move_to(cr, px, py);
        else
            cairo_line_to(cr, px, py);
    }
    cairo_close_path(cr);
}

static void triangle(cairo_t *cr, double x, double y, double r, double ux, double uy)
{
    /* tip at (x, y) + r * u, base corners at -r * u +- r * perpendicular */
    double px = -uy, py = ux;
    cairo_move_to(cr, x + r * ux, y + r * uy);
    cairo_line_to(cr, x - r * ux + r * px, y - r * uy + r * py);
    cairo_line_to(cr, x - r * ux - r * px, y - r * uy - r * py);
    cairo_close_path(cr);
}

/* Add the outline of one marker (size = matplotlib markersize) to the path. */
static void marker_path(cairo_t *cr, char m, double x, double y, double s)
{
    double r = s / 2;
    cairo_new_sub_path(cr);
    switch (m) {
    case '.': cairo_arc(cr, x, y, r / 2, 0, 2 * M_PI); break;
    case 'o': cairo_arc(cr, x, y, r, 0, 2 * M_PI); break;
    case '^': triangle(cr, x, y, r, 0, -1); break;
    case 'v': triangle(cr, x, y, r, 0, 1); break;
    case '<': triangle(cr, x, y, r, -1, 0); break;
    case '>': triangle(cr, x, y, r, 1, 0); break;
    case 's': cairo_rectangle(cr, x - r, y - r, s, s); break;
    case 'p': polygon(cr, x, y, 5, r, 0); break;
    case 'h': polygon(cr, x, y, 6, r, 0); break;
    case 'H': polygon(cr, x, y, 6, r, M_PI / 6); break;
    case '*': star(cr, x, y, r); break;
    case 'D':
    case 'd': {
        double hx = (m == 'd' ? 0.6 : 1.0) * r * M_SQRT2, hy = r * M_SQRT2;
        cairo_move_to(cr, x, y - hy);
        cairo_line_to(cr, x + hx, y);
        cairo_line_to(cr, x, y + hy);
        cairo_line_to(cr, x - hx, y);
        cairo_close_path(cr);
        break;
    }
    case '+':
        cairo_move_to(cr, x - r, y);
        cairo_line_to(cr, x + r, y);
        cairo_move_to(cr, x, y - r);
        cairo_line_to(cr, x, y + r);
        break;
    case 'x':
        cairo_move_to(cr, x - r, y - r);
        cairo_line_to(cr, x + r, y + r);
        cairo_move_to(cr, x - r, y + r);
        cairo_line_to(cr, x + r, y - r);
        break;
    case '|':
        cairo_move_to(cr, x, y - r);
        cairo_line_to(cr, x, y + r);
        break;
    case '_':
        cairo_move_to(cr, x - r, y);
        cairo_line_to(cr, x + r, y);
        break;
    default: break;
    }
}

/* Fill (filled markers) and stroke the markers collected in the current path. */
static void finish_markers(cairo_t *cr, char m)
{
    cairo_set_dash(cr, NULL, 0, 0);
    cairo_set_line_width(cr, IPP__MARKER_EDGE);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_MITER);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
    if (!ipp__marker_unfilled(m))
        cairo_fill_preserve(cr);
    cairo_stroke(cr);
}

void ipp__draw_marker(cairo_t *cr, char marker, double x, double y, double size)
{
    if (marker == ',') {
        cairo_rectangle(cr, x - 0.5, y - 0.5, 1, 1);
        cairo_fill(cr);
        return;
    }
    cairo_new_path(cr);
    marker_path(cr, marker, x, y, size);
    finish_markers(cr, marker);
}

/* Markers: one per distinct output pixel (a bitmap of the page), in batches. */
static int draw_markers(cairo_t *cr, const ipp__page_t *pg, const ipp__line_t *ln,
                        const ipp__map_t *mx, const ipp__map_t *my)
{
    /* cells of one output pixel, but at most 8192 a side (8 MB of bits at worst): a
     * huge vector page gets slightly coarser cells */
    double pix = fmax(pg->px, fmax(pg->page_w, pg->page_h) / 8192), s = IPP__MARKER_SIZE;
    double slack = s;
    size_t cols = (size_t)ceil(pg->page_w / pix) + 1, rows = (size_t)ceil(pg->page_h / pix) + 1;
    uint8_t *seen = calloc((cols * rows + 7) / 8, 1);
    if (!seen)
        return -1;
    size_t batch = 0;
    cairo_new_path(cr);
    for (size_t i = 0; i < ln->n; i++) {
        double x = ipp__map(mx, ln->x ? ln->x[i] : (double)i), y = ipp__map(my, ln->y[i]);
        if (isnan(x) || isnan(y) || x < -slack || y < -slack || x > pg->page_w + slack ||
            y > pg->page_h + slack)
            continue;
        size_t cx = (size_t)fmin(fmax(x / pix, 0), (double)(cols - 1));
        size_t cy = (size_t)fmin(fmax(y / pix, 0), (double)(rows - 1));
        size_t bit = cy * cols + cx;
        if (seen[bit / 8] & (1u << (bit % 8)))
            continue;
        seen[bit / 8] |= (uint8_t)(1u << (bit % 8));
        if (ln->style.marker == ',') {
            cairo_rectangle(cr, x - pg->px / 2, y - pg->px / 2, pg->px, pg->px);
        } else {
            marker_path(cr, ln->style.marker, x, y, s);
        }
        if (++batch == 4096) { /* keep cairo's path small */
            if (ln->style.marker == ',')
                cairo_fill(cr);
            else
                finish_markers(cr, ln->style.marker);
            batch = 0;
        }
    }
    if (ln->style.marker == ',')
        cairo_fill(cr);
    else
        finish_markers(cr, ln->style.marker);
    free(seen);
    return 0;
}

/* Points per cairo_stroke. Decimated ordered data is short anyway; data whose x goes
 * back and forth cannot be decimated, and cairo's stroker spends time quadratic in the
 * self-crossings of one path, while each stroke also costs a pass over its extents:
 * pieces of 64 points balance the two (the dash pattern carries on across pieces).
 * Such lines still cost some 10 us per point. */
#define STROKE_CHUNK 64

static void stroke_path(cairo_t *cr, const ipp__path_t *path, ipp__linestyle_t ls, size_t chunk)
{
    ipp__set_line_style(cr, ls, IPP__LINE_WIDTH);
    double dashes[4], offset = 0, len = 0;
    int ndash = cairo_get_dash_count(cr);
    cairo_get_dash(cr, dashes, &offset);
    cairo_new_path(cr);
    bool pen = false;
    size_t inpath = 0;
    ipp__pt_t prev = {0, 0};
    for (size_t i = 0; i < path->n; i++) {
        ipp__pt_t p = path->pts[i];
        if (isnan(p.x)) {
            pen = false;
            continue;
        }
        if (pen) {
            cairo_line_to(cr, p.x, p.y);
            len += hypot(p.x - prev.x, p.y - prev.y);
        } else {
            cairo_move_to(cr, p.x, p.y);
        }
        pen = true;
        prev = p;
        if (++inpath >= chunk) {
            cairo_stroke(cr);
            if (ndash > 0)
                cairo_set_dash(cr, dashes, ndash, offset + len);
            cairo_move_to(cr, p.x, p.y);
            inpath = 0;
        }
    }
    cairo_stroke(cr);
}

int ipp__draw_line(cairo_t *cr, const ipp__page_t *pg, const ipp__line_t *ln,
                   const ipp__map_t *mx, const ipp__map_t *my, ipp__path_t *path)
{
    if (ipp__decimate_gaps(ln->x, ln->y, ln->n, ln->gap, mx, my, pg->px, path) != 0)
        return -1;
    const ipp__rgb_t c = ln->style.color;
    cairo_set_source_rgb(cr, c.r, c.g, c.b);
    /* ordered data decimates to at most 4 points per column: one stroke, true joins */
    size_t ordered = 4 * (size_t)(pg->page_w / pg->px) + 64;
    if (ln->style.ls != IPP__LS_NONE && path->n > 1)
        stroke_path(cr, path, ln->style.ls, path->n > ordered ? STROKE_CHUNK : SIZE_MAX);
    if (ln->style.marker)
        return draw_markers(cr, pg, ln, mx, my);
    return 0;
}

void ipp__hist_compute(ipp__hist_t *h, const double *const *cols, size_t ncols, size_t n)
{
    memset(h, 0, sizeof *h);
    h->ncols = ncols > IPP__MAX_LINES ? IPP__MAX_LINES : ncols;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t c = 0; c < h->ncols; c++) {
        for (size_t i = 0; i < n; i++) {
            double v = cols[c][i];
            if (isfinite(v)) {
                lo = fmin(lo, v);
                hi = fmax(hi, v);
            }
        }
    }
    if (!(lo <= hi)) {
        lo = 0;
        hi = 1;
    } else if (lo == hi) {
        lo -= 0.5; /* numpy.histogram's range for constant data */
        hi += 0.5;
    }
    for (int b = 0; b <= IPP__HIST_BINS; b++)
        h->edges[b] = lo + (hi - lo) * b / IPP__HIST_BINS;
    for (size_t c = 0; c < h->ncols; c++) {
        for (size_t i = 0; i < n; i++) {
            double v = cols[c][i];
            if (!isfinite(v))
                continue;
            int b = (int)floor((v - lo) / (hi - lo) * IPP__HIST_BINS);
            b = b < 0 ? 0 : b >= IPP__HIST_BINS ? IPP__HIST_BINS - 1 : b; /* last bin is closed */
            h->counts[c][b] += 1;
        }
        for (int b = 0; b < IPP__HIST_BINS; b++)
            h->maxcount = fmax(h->maxcount, h->counts[c][b]);
    }
}

void ipp__hist_bar(const ipp__hist_t *h, size_t c, size_t b, double *left, double *right)
{
    /* matplotlib's hist of several datasets: bars side by side, together filling
     * IPP__HIST_RWIDTH of the bin, centred on it */
    double tw = h->edges[b + 1] - h->edges[b], nc = h->ncols ? (double)h->ncols : 1;
    double width = IPP__HIST_RWIDTH * tw / nc;
    double centre = h->edges[b] + 0.5 * tw - 0.5 * IPP__HIST_RWIDTH * tw * (1 - 1 / nc) +
                    (double)c * width;
    *left = centre - width / 2;
    *right = centre + width / 2;
}

static double snap_edge(const ipp__page_t *pg, double v)
{
    return pg->raster ? round(v / pg->px) * pg->px : v;
}

int ipp__draw_hist(cairo_t *cr, const ipp__page_t *pg, const ipp__hist_t *h,
                   const ipp__line_t *cols, const ipp__map_t *mx, const ipp__map_t *my,
                   ipp__path_t *path)
{
    double base = my->log ? my->p0 : ipp__map(my, 0);
    for (size_t c = 0; c < h->ncols; c++) {
        const ipp__rgb_t col = cols[c].style.color;
        cairo_set_source_rgb(cr, col.r, col.g, col.b);
        cairo_new_path(cr);
        for (size_t b = 0; b < IPP__HIST_BINS; b++) {
            double l, r, top = ipp__map(my, h->counts[c][b]);
            if (h->counts[c][b] <= 0 || isnan(top))
                continue;
            ipp__hist_bar(h, c, b, &l, &r);
            double x0 = snap_edge(pg, ipp__map(mx, l)), x1 = snap_edge(pg, ipp__map(mx, r));
            double y1 = snap_edge(pg, top), y0 = snap_edge(pg, base);
            if (isnan(x0) || isnan(x1))
                continue;
            cairo_rectangle(cr, x0, y1, x1 - x0, y0 - y1);
            /* the legend avoids the bar tops and the area under them */
            ipp__pt_t pts[3] = {{x0, y1}, {x1, y1}, {(x0 + x1) / 2, (y0 + y1) / 2}};
            for (int k = 0; k < 3; k++) {
                if (path->n == path->cap) {
                    size_t cap = path->cap ? path->cap * 2 : 64;
                    ipp__pt_t *np = realloc(path->pts, cap * sizeof *np);
                    if (!np)
                        return -1;
                    path->pts = np;
                    path->cap = cap;
                }
                path->pts[path->n++] = pts[k];
            }
        }
        cairo_fill(cr);
    }
    return 0;
}
