/*
 * decimate.c - reduce a long series to what can be seen.
 *
 * A line through many points that share one output pixel column paints that column
 * from the lowest to the highest of them, joined to its neighbours through the first
 * and the last: keeping first, min, max and last of every run of consecutive points in
 * one column draws the same pixels as drawing them all. Ten million ordered points
 * become at most four per column, so time and memory follow the image, not the data.
 */
#include <math.h>
#include <stdlib.h>

#include "render/render_int.h"

/* Page coordinates far outside the page are clamped: cairo's fixed-point
 * coordinates overflow around 2^23, and such points are never visible anyway. */
#define FAR 1e6

typedef struct {
    bool open;    /* a column run is being collected */
    double col;   /* its column index */
    ipp__pt_t first, min, max, last;
    size_t imin, imax; /* order of min and max within the run */
} run_t;

static int push(ipp__path_t *p, ipp__pt_t pt)
{
    if (p->n > 0) {
        ipp__pt_t q = p->pts[p->n - 1];
        if (q.x == pt.x && q.y == pt.y)
            return 0; /* same point again adds nothing */
        if (isnan(q.x) && isnan(pt.x))
            return 0; /* one break is enough */
    } else if (isnan(pt.x)) {
        return 0;
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 1024;
        ipp__pt_t *np = realloc(p->pts, cap * sizeof *np);
        if (!np)
            return -1;
        p->pts = np;
        p->cap = cap;
    }
    p->pts[p->n++] = pt;
    return 0;
}

static int flush(run_t *r, ipp__path_t *out)
{
    if (!r->open)
        return 0;
    r->open = false;
    ipp__pt_t a = r->imin <= r->imax ? r->min : r->max;
    ipp__pt_t b = r->imin <= r->imax ? r->max : r->min;
    if (push(out, r->first) || push(out, a) || push(out, b) || push(out, r->last))
        return -1;
    return 0;
}

static double clampf(double v) { return v < -FAR ? -FAR : v > FAR ? FAR : v; }

/* The map as page = a + b * v (or b * log10 v), so the loop multiplies, never divides. */
typedef struct {
    bool log;
    double a, b;
} lin_t;

static lin_t lin_of(const ipp__map_t *m)
{
    lin_t l = {m->log, 0, 0};
    double lo = m->log ? log10(m->lo) : m->lo, hi = m->log ? log10(m->hi) : m->hi;
    l.b = (m->p1 - m->p0) / (hi - lo);
    l.a = m->p0 - lo * l.b;
    return l;
}

static inline double lin(const lin_t *l, double v)
{
    if (l->log)
        return v > 0 && isfinite(v) ? l->a + l->b * log10(v) : NAN;
    return isfinite(v) ? l->a + l->b * v : NAN;
}

int ipp__decimate(const double *x, const double *y, size_t n, const ipp__map_t *mx,
                  const ipp__map_t *my, double colw, ipp__path_t *out)
{
    run_t r = {.open = false};
    const ipp__pt_t brk = {NAN, NAN};
    const lin_t lx = lin_of(mx), ly = lin_of(my);
    size_t k = 0;                            /* position inside the current run */
    double c0 = INFINITY, c1 = -INFINITY;    /* page x range of the current column */
    if (!(colw > 0))
        colw = 1;
    for (size_t i = 0; i < n; i++) {
        double px = x ? lin(&lx, x[i]) : lx.a + lx.b * (double)i, py = lin(&ly, y[i]);
        if (isnan(px) || isnan(py)) {
            if (flush(&r, out) || push(out, brk))
                return -1;
            c0 = INFINITY;
            c1 = -INFINITY;
            continue;
        }
        ipp__pt_t pt = {clampf(px), clampf(py)};
        if (pt.x >= c0 && pt.x < c1) { /* same column: the common case, no floor() */
            k++;
            if (pt.y < r.min.y) {
                r.min = pt;
                r.imin = k;
            }
            if (pt.y > r.max.y) {
                r.max = pt;
                r.imax = k;
            }
            r.last = pt;
            continue;
        }
        if (flush(&r, out))
            return -1;
        double col = floor(pt.x / colw);
        c0 = col * colw;
        c1 = c0 + colw;
        r = (run_t){.open = true, .col = col, .first = pt, .min = pt, .max = pt,
                    .last = pt, .imin = 0, .imax = 0};
        k = 0;
    }
    if (flush(&r, out))
        return -1;
    /* a trailing break carries no information */
    if (out->n > 0 && isnan(out->pts[out->n - 1].x))
        out->n--;
    return 0;
}

void ipp__path_free(ipp__path_t *p)
{
    free(p->pts);
    p->pts = NULL;
    p->n = p->cap = 0;
}
