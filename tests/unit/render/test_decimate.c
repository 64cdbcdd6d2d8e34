/* Decimation keeps what a line through every point would paint: per column the
 * first, lowest, highest and last point, in order; breaks at NaN; bounded output. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cairo.h>
#include <cmocka.h>

#include "render/render_int.h"

static const ipp__map_t ident_x = {false, 0, 100, 0, 100};
static const ipp__map_t ident_y = {false, 0, 100, 0, 100};

static void test_min_max_preserved(void **state)
{
    (void)state;
    /* 1000 points per column over 10 columns, with a spike in column 3 */
    size_t n = 10000;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    for (size_t i = 0; i < n; i++) {
        x[i] = (double)i / 1000.0;
        y[i] = 50 + 10 * sin((double)i * 0.01);
    }
    y[3500] = 99;
    y[3600] = 1;
    ipp__path_t p = {0};
    assert_int_equal(ipp__decimate(x, y, n, &ident_x, &ident_y, 1.0, &p), 0);
    assert_true(p.n <= 4 * 10);
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < p.n; i++) {
        lo = fmin(lo, p.pts[i].y);
        hi = fmax(hi, p.pts[i].y);
        if (i > 0)
            assert_true(p.pts[i].x >= p.pts[i - 1].x); /* order kept */
    }
    assert_true(lo == 1 && hi == 99);
    /* the first and last points survive */
    assert_true(p.pts[0].x == 0 && p.pts[0].y == y[0]);
    assert_true(p.pts[p.n - 1].x == x[n - 1] && p.pts[p.n - 1].y == y[n - 1]);
    /* column 3 holds its first, the spike up before the spike down, and its last */
    size_t k = 0;
    while (k < p.n && p.pts[k].x < 3)
        k++;
    assert_true(p.pts[k].x == 3.0);
    assert_true(p.pts[k + 1].y == 99 && p.pts[k + 2].y == 1);
    ipp__path_free(&p);
    free(x);
    free(y);
}

static void test_breaks_and_index(void **state)
{
    (void)state;
    double y[] = {1, 2, NAN, 4, INFINITY, 6, 7};
    ipp__path_t p = {0};
    /* x NULL: the row index; columns of 0.5 keep every point */
    assert_int_equal(ipp__decimate(NULL, y, 7, &ident_x, &ident_y, 0.5, &p), 0);
    size_t breaks = 0, pts = 0;
    for (size_t i = 0; i < p.n; i++) {
        if (isnan(p.pts[i].x))
            breaks++;
        else
            pts++;
    }
    assert_int_equal(breaks, 2);
    assert_int_equal(pts, 5);
    assert_true(p.pts[0].x == 0 && p.pts[p.n - 1].x == 6);
    ipp__path_free(&p);
    /* log axes: values <= 0 cannot be drawn and break the line */
    ipp__map_t lx = {true, 1, 100, 0, 100};
    double x2[] = {1, 10, 0, 100}, y2[] = {1, 2, 3, 4};
    assert_int_equal(ipp__decimate(x2, y2, 4, &lx, &ident_y, 0.5, &p), 0);
    assert_int_equal(p.n, 4);
    assert_true(isnan(p.pts[2].x) && p.pts[1].x == 50);
    ipp__path_free(&p);
}

static void test_unordered_and_bounded(void **state)
{
    (void)state;
    /* x going back and forth: runs are per consecutive points, so nothing is lost */
    double x[] = {1.1, 5.1, 1.2, 5.2, 1.3}, y[] = {1, 2, 3, 4, 5};
    ipp__path_t p = {0};
    assert_int_equal(ipp__decimate(x, y, 5, &ident_x, &ident_y, 1.0, &p), 0);
    assert_int_equal(p.n, 5);
    ipp__path_free(&p);
    /* a million ordered points on 100 columns: at most 4 per column */
    size_t n = 1000000;
    double *yy = malloc(n * sizeof *yy);
    assert_non_null(yy);
    for (size_t i = 0; i < n; i++)
        yy[i] = (double)(i * 7919 % 101);
    ipp__map_t mx = {false, 0, (double)n, 0, 100};
    assert_int_equal(ipp__decimate(NULL, yy, n, &mx, &ident_y, 1.0, &p), 0);
    assert_true(p.n <= 4 * 101);
    ipp__path_free(&p);
    free(yy);
    /* far outside the page: clamped, never inf */
    double big[] = {1e300, -1e300};
    double bx[] = {0, 1};
    assert_int_equal(ipp__decimate(bx, big, 2, &ident_x, &ident_y, 1.0, &p), 0);
    for (size_t i = 0; i < p.n; i++)
        assert_true(isfinite(p.pts[i].y) && fabs(p.pts[i].y) <= 1e6);
    ipp__path_free(&p);
}

/* ---- the rule, point by point, to hold the fast loops to ---------------------------- */

typedef struct {
    ipp__pt_t *p;
    size_t n;
} ref_t;

static void ref_push(ref_t *r, ipp__pt_t pt)
{
    if (r->n ? (r->p[r->n - 1].x == pt.x && r->p[r->n - 1].y == pt.y) ||
                   (isnan(r->p[r->n - 1].x) && isnan(pt.x))
             : isnan(pt.x))
        return;
    r->p[r->n++] = pt;
}

static double ref_lin(const ipp__map_t *m, double v)
{
    double b = (m->p1 - m->p0) / (m->hi - m->lo), a = m->p0 - m->lo * b;
    double p = isfinite(v) ? a + b * v : NAN;
    return p < -1e6 ? -1e6 : p > 1e6 ? 1e6 : p;
}

/* Runs of consecutive drawable points in one column of width colw become their first,
 * lowest and highest (in their order; the first of equals) and last; a point that
 * cannot be drawn, or a step in x over gap, is a break. Linear axes. */
static void reference(const double *x, const double *y, size_t n, double gap,
                      const ipp__map_t *mx, const ipp__map_t *my, double colw, ref_t *out)
{
    const ipp__pt_t brk = {NAN, NAN};
    ipp__pt_t first = brk, lo = brk, hi = brk, last = brk;
    size_t ilo = 0, ihi = 0;
    bool open = false;
    double c0 = 0, c1 = 0;
    for (size_t i = 0; i <= n; i++) {
        bool cut = i == n || (gap > 0 && i > 0 && x[i] - x[i - 1] > gap);
        ipp__pt_t pt = i < n ? (ipp__pt_t){ref_lin(mx, x[i]), ref_lin(my, y[i])} : brk;
        bool drawable = !isnan(pt.x) && !isnan(pt.y);
        if (open && !cut && drawable && pt.x >= c0 && pt.x < c1) {
            if (pt.y < lo.y)
                lo = pt, ilo = i;
            if (pt.y > hi.y)
                hi = pt, ihi = i;
            last = pt;
            continue;
        }
        if (open) {
            ref_push(out, first);
            ref_push(out, ilo <= ihi ? lo : hi);
            ref_push(out, ilo <= ihi ? hi : lo);
            ref_push(out, last);
            open = false;
        }
        if (cut || !drawable)
            ref_push(out, brk);
        if (drawable && i < n) {
            c0 = floor(pt.x / colw) * colw;
            c1 = c0 + colw;
            first = lo = hi = last = pt;
            ilo = ihi = i;
            open = true;
        }
    }
    if (out->n && isnan(out->p[out->n - 1].x))
        out->n--;
}

/* Time against a value on linear axes (the loading benchmark's figure): the same points
 * as the rule, exactly, through NaN, infinities, gaps, points off the page, x going
 * back, and runs of equal values. */
static void test_x_path_exact(void **state)
{
    (void)state;
    size_t n = 300000;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    ref_t want = {malloc((n + 1) * sizeof(ipp__pt_t)), 0};
    assert_true(x && y && want.p);
    uint32_t s = 7;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = (double)i / 1000.0 + (i % 77777 == 5 ? 3.0 : 0); /* a jump forward, back */
        y[i] = sin((double)i * 1e-4) + (double)(s >> 8) / 16777216.0 - 0.5;
        if (i % 40000 == 123)
            y[i] = NAN;
        if (i % 50000 == 7)
            x[i] = INFINITY;
        if (i % 61000 == 9)
            y[i] = 1e300; /* off the page: clamped */
        if (i >= 200000 && i < 200500)
            y[i] = 0.25; /* flat */
    }
    ipp__map_t mx = {false, 0, (double)n / 1000.0, 10, 390}, my = {false, -2, 2, 290, 10};
    for (int pass = 0; pass < 3; pass++) {
        double gap = pass == 1 ? 0.0015 : pass == 2 ? 2.5 : 0;
        double colw = pass == 2 ? 0.5 : 1.0;
        want.n = 0;
        reference(x, y, n, gap, &mx, &my, colw, &want);
        ipp__path_t got = {0};
        assert_int_equal(ipp__decimate_gaps(x, y, n, gap, &mx, &my, colw, &got), 0);
        printf("pass %d: %zu points -> %zu (the rule: %zu)\n", pass, n, got.n, want.n);
        assert_int_equal(got.n, want.n);
        for (size_t i = 0; i < got.n; i++) {
            bool same = (isnan(want.p[i].x) && isnan(got.pts[i].x)) ||
                        (got.pts[i].x == want.p[i].x && got.pts[i].y == want.p[i].y);
            if (!same)
                fail_msg("point %zu: got (%g, %g), want (%g, %g)", i, got.pts[i].x,
                         got.pts[i].y, want.p[i].x, want.p[i].y);
        }
        ipp__path_free(&got);
    }
    free(want.p);
    free(x);
    free(y);
}

static void stroke(cairo_t *cr, const ipp__pt_t *p, size_t n)
{
    bool pen = false;
    for (size_t i = 0; i < n; i++) {
        if (isnan(p[i].x) || isnan(p[i].y)) {
            pen = false;
        } else if (pen) {
            cairo_line_to(cr, p[i].x, p[i].y);
        } else {
            cairo_move_to(cr, p[i].x, p[i].y);
            pen = true;
        }
    }
    cairo_stroke(cr);
}

static cairo_surface_t *draw(const ipp__pt_t *p, size_t n)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 400, 300);
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_source_rgb(cr, 0.12, 0.47, 0.71);
    cairo_set_line_width(cr, 1.5);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    stroke(cr, p, n);
    cairo_destroy(cr);
    cairo_surface_flush(s);
    return s;
}

/* The point of it all: the decimated line paints the pixels the full line paints. */
static void test_same_picture(void **state)
{
    (void)state;
    size_t n = 200000;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    ipp__pt_t *full = malloc(n * sizeof *full);
    assert_true(x && y && full);
    uint32_t s = 1;
    double v = 0;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        v += ((double)(s >> 8) / 16777216.0 - 0.5);
        x[i] = (double)i;
        y[i] = (i % 50000 == 25000) ? NAN : v;
    }
    ipp__map_t mx = {false, 0, (double)n, 10, 390}, my = {false, -400, 400, 290, 10};
    for (size_t i = 0; i < n; i++)
        full[i] = (ipp__pt_t){ipp__map(&mx, x[i]), ipp__map(&my, y[i])};
    for (int pass = 0; pass < 2; pass++) {
        ipp__path_t p = {0};
        /* pass 0: explicit x (general path), pass 1: row index (fast path) */
        assert_int_equal(ipp__decimate(pass ? NULL : x, y, n, &mx, &my, 1.0, &p), 0);
        assert_true(p.n < 4 * 400 + 16);
        cairo_surface_t *a = draw(full, n), *b = draw(p.pts, p.n);
        const unsigned char *da = cairo_image_surface_get_data(a);
        const unsigned char *db = cairo_image_surface_get_data(b);
        size_t bytes = (size_t)cairo_image_surface_get_stride(a) * 300, bad = 0;
        for (size_t i = 0; i < bytes; i += 4) {
            for (int k = 0; k < 3; k++) {
                if (abs(da[i + k] - db[i + k]) > 64) {
                    bad++;
                    break;
                }
            }
        }
        printf("decimated %zu -> %zu points, %zu of 120000 pixels differ\n", n, p.n, bad);
        assert_true(bad < 120000 / 1000); /* antialiasing of a few joins only */
        cairo_surface_destroy(a);
        cairo_surface_destroy(b);
        ipp__path_free(&p);
    }
    free(x);
    free(y);
    free(full);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_min_max_preserved),
        cmocka_unit_test(test_breaks_and_index),
        cmocka_unit_test(test_unordered_and_bounded),
        cmocka_unit_test(test_same_picture),
        cmocka_unit_test(test_x_path_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
