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

typedef struct {
    run_t r;
    size_t k;      /* position inside the current run */
    double c0, c1; /* page x range of the current column */
    double colw;
    ipp__path_t *out;
} dec_t;

/* One point (page coordinates, NaN = cannot be drawn) into the running reduction. */
static inline int step(dec_t *d, double px, double py)
{
    run_t *r = &d->r;
    if (isnan(px) || isnan(py)) {
        d->c0 = INFINITY;
        d->c1 = -INFINITY;
        const ipp__pt_t brk = {NAN, NAN};
        return flush(r, d->out) || push(d->out, brk) ? -1 : 0;
    }
    ipp__pt_t pt = {clampf(px), clampf(py)};
    if (pt.x >= d->c0 && pt.x < d->c1) { /* same column: the common case, no floor() */
        d->k++;
        if (pt.y < r->min.y) {
            r->min = pt;
            r->imin = d->k;
        }
        if (pt.y > r->max.y) {
            r->max = pt;
            r->imax = d->k;
        }
        r->last = pt;
        return 0;
    }
    if (flush(r, d->out))
        return -1;
    double col = floor(pt.x / d->colw);
    d->c0 = col * d->colw;
    d->c1 = d->c0 + d->colw;
    *r = (run_t){.open = true, .col = col, .first = pt, .min = pt, .max = pt, .last = pt};
    d->k = 0;
    return 0;
}

/* Rows [i, j) of one column, all finite: min and max of the raw values, then mapped. */
static int column_fast(dec_t *d, const double *y, size_t i, size_t j, const lin_t *lx,
                       const lin_t *ly)
{
    double lo = y[i], hi = y[i];
    size_t ilo = i, ihi = i;
    for (size_t t = i + 1; t < j; t++) {
        double v = y[t];
        if (v < lo) {
            lo = v;
            ilo = t;
        }
        if (v > hi) {
            hi = v;
            ihi = t;
        }
    }
    if (flush(&d->r, d->out))
        return -1;
    d->c0 = INFINITY; /* the next generic point opens its own run */
    d->c1 = -INFINITY;
#define PT(t, v) ((ipp__pt_t){clampf(lx->a + lx->b * (double)(t)), clampf(ly->a + ly->b * (v))})
    size_t ia = ilo < ihi ? ilo : ihi, ib = ilo < ihi ? ihi : ilo;
    double va = ilo < ihi ? lo : hi, vb = ilo < ihi ? hi : lo;
    if (push(d->out, PT(i, y[i])) || push(d->out, PT(ia, va)) || push(d->out, PT(ib, vb)) ||
        push(d->out, PT(j - 1, y[j - 1])))
        return -1;
#undef PT
    return 0;
}

/* y against the row index on linear axes: whole columns are index ranges, so the
 * inner loop only compares numbers. Columns holding NaN or inf take the general path. */
static int by_index(dec_t *d, const double *y, size_t n, const lin_t *lx, const lin_t *ly)
{
    for (size_t i = 0; i < n;) {
        double col = floor((lx->a + lx->b * (double)i) / d->colw);
        double j_real = ceil(((col + 1) * d->colw - lx->a) / lx->b);
        size_t j = j_real > (double)n ? n : j_real <= (double)i ? i + 1 : (size_t)j_real;
        bool finite = true;
        for (size_t t = i; t < j && finite; t++)
            finite = isfinite(y[t]);
        if (finite && j - i > 4) {
            if (column_fast(d, y, i, j, lx, ly))
                return -1;
        } else {
            for (size_t t = i; t < j; t++) {
                if (step(d, lx->a + lx->b * (double)t, lin(ly, y[t])))
                    return -1;
            }
        }
        i = j;
    }
    return 0;
}

/*
 * x given, linear axes: once step() has opened a column's run, the points that follow
 * are taken in a tight loop for as long as they stay in that column (the same test as
 * step()'s, on the same page coordinates); the first that leaves it, is off the page,
 * cannot be drawn or comes after a gap goes through step() like any other point. The
 * reduction is the general loop's, point for point, without its per-point call and
 * checks: sorted time series spend nearly all their points in this loop.
 */
static int by_x(dec_t *d, const double *x, const double *y, size_t n, double gap,
                const lin_t *lx, const lin_t *ly)
{
    double g = gap > 0 ? gap : INFINITY;
    for (size_t i = 0; i < n;) {
        if (i > 0 && x[i] - x[i - 1] > g && step(d, NAN, NAN))
            return -1;
        if (step(d, lin(lx, x[i]), lin(ly, y[i])))
            return -1;
        if (!d->r.open) { /* the point was a break */
            i++;
            continue;
        }
        run_t *r = &d->r;
        const double c0 = d->c0 > -FAR ? d->c0 : -FAR, c1 = d->c1 < FAR ? d->c1 : FAR;
        size_t k = d->k;
        for (i++; i < n; i++) {
            double px = lx->a + lx->b * x[i], py = ly->a + ly->b * y[i];
            /* false for NaN: such a point, and one clampf() would move, leave the loop */
            if (!(px >= c0 && px < c1 && py >= -FAR && py <= FAR) || x[i] - x[i - 1] > g)
                break;
            k++;
            if (py < r->min.y) {
                r->min = (ipp__pt_t){px, py};
                r->imin = k;
            }
            if (py > r->max.y) {
                r->max = (ipp__pt_t){px, py};
                r->imax = k;
            }
            r->last = (ipp__pt_t){px, py};
        }
        d->k = k;
    }
    return 0;
}

int ipp__decimate(const double *x, const double *y, size_t n, const ipp__map_t *mx,
                  const ipp__map_t *my, double colw, ipp__path_t *out)
{
    return ipp__decimate_gaps(x, y, n, 0, mx, my, colw, out);
}

int ipp__decimate_gaps(const double *x, const double *y, size_t n, double gap,
                       const ipp__map_t *mx, const ipp__map_t *my, double colw,
                       ipp__path_t *out)
{
    const lin_t lx = lin_of(mx), ly = lin_of(my);
    dec_t d = {.r = {.open = false}, .c0 = INFINITY, .c1 = -INFINITY,
               .colw = colw > 0 ? colw : 1, .out = out};
    if (!x && !lx.log && !ly.log && lx.b > 0 && isfinite(lx.a) && isfinite(lx.b)) {
        if (by_index(&d, y, n, &lx, &ly))
            return -1;
    } else if (x && !lx.log && !ly.log) {
        if (by_x(&d, x, y, n, gap, &lx, &ly))
            return -1;
    } else {
        for (size_t i = 0; i < n; i++) {
            /* a non-finite point is how step() learns of a break */
            if (gap > 0 && x && i > 0 && x[i] - x[i - 1] > gap && step(&d, NAN, NAN))
                return -1;
            if (step(&d, x ? lin(&lx, x[i]) : lx.a + lx.b * (double)i, lin(&ly, y[i])))
                return -1;
        }
    }
    if (flush(&d.r, out))
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
