/* Decimation keeps what a line through every point would paint: per column the
 * first, lowest, highest and last point, in order; breaks at NaN; bounded output. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_min_max_preserved),
        cmocka_unit_test(test_breaks_and_index),
        cmocka_unit_test(test_unordered_and_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
