/* Tick choice against matplotlib 3.6's MaxNLocator and ScalarFormatter, view limits
 * against its autoscale, log decades. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "render/render_int.h"

static void expect_ticks(double lo, double hi, int nbins, const double *want, size_t nwant)
{
    double t[64];
    size_t n = ipp__nice_ticks(lo, hi, nbins, t, 64);
    if (n != nwant)
        fail_msg("[%g, %g] nbins %d: %zu ticks, want %zu", lo, hi, nbins, n, nwant);
    for (size_t i = 0; i < n; i++) {
        if (fabs(t[i] - want[i]) > 1e-9 * fmax(1, fabs(want[i])))
            fail_msg("[%g, %g] nbins %d: tick %zu is %.17g, want %.17g", lo, hi, nbins, i, t[i],
                     want[i]);
    }
}

#define TICKS(lo, hi, nb, ...)                                                                  \
    do {                                                                                        \
        const double w_[] = {__VA_ARGS__};                                                      \
        expect_ticks(lo, hi, nb, w_, sizeof w_ / sizeof w_[0]);                                 \
    } while (0)

static void test_max_n_locator(void **state)
{
    (void)state;
    /* values printed by matplotlib.ticker.MaxNLocator(nbins, steps=[1, 2, 2.5, 5, 10]) */
    TICKS(-0.7, 1.1, 8, -0.75, -0.5, -0.25, 0, 0.25, 0.5, 0.75, 1.0, 1.25);
    TICKS(0, 5, 9, 0, 1, 2, 3, 4, 5);
    TICKS(-0.05, 5.05, 9, -1, 0, 1, 2, 3, 4, 5, 6);
    TICKS(0.95, 2.05, 9, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.2);
    TICKS(4.725, 5.275, 8, 4.7, 4.8, 4.9, 5.0, 5.1, 5.2, 5.3);
    TICKS(0, 1e7, 9, 0, 2e6, 4e6, 6e6, 8e6, 1e7);
    TICKS(1000000.1, 1000000.5, 6, 1000000.1, 1000000.2, 1000000.3, 1000000.4, 1000000.5);
    TICKS(-3.3, 7.1, 5, -5, -2.5, 0, 2.5, 5, 7.5);
    TICKS(123.4, 125.1, 9, 123.4, 123.6, 123.8, 124.0, 124.2, 124.4, 124.6, 124.8, 125.0, 125.2);
    TICKS(0, 1, 1, 0, 1);
    double t[4];
    assert_int_equal(ipp__nice_ticks(1, 1, 5, t, 4), 0);   /* empty range */
    assert_int_equal(ipp__nice_ticks(NAN, 1, 5, t, 4), 0); /* no numbers */
    assert_true(ipp__nice_ticks(0, 1000, 9, t, 4) <= 4);   /* capped */
}

static void labels(ipp__axis_t *a, double lo, double hi, int nb, const char *const *want,
                   size_t nwant, const char *offset)
{
    a->lo = lo;
    a->hi = hi;
    ipp__axis_ticks(a, nb);
    if (a->nmajor != nwant)
        fail_msg("[%g, %g]: %zu labels, want %zu", lo, hi, a->nmajor, nwant);
    for (size_t i = 0; i < nwant; i++)
        assert_string_equal(a->labels[i], want[i]);
    assert_string_equal(a->offset_text, offset);
}

#define LABELS(lo, hi, nb, off, ...)                                                            \
    do {                                                                                        \
        const char *const w_[] = {__VA_ARGS__};                                                 \
        ipp__axis_t a_ = {0};                                                                   \
        labels(&a_, lo, hi, nb, w_, sizeof w_ / sizeof w_[0], off);                             \
    } while (0)

#define M "\xe2\x88\x92" /* U+2212, matplotlib's minus sign */

static void test_scalar_formatter(void **state)
{
    (void)state;
    LABELS(-0.7, 1.1, 8, "", M "0.50", M "0.25", "0.00", "0.25", "0.50", "0.75", "1.00");
    LABELS(-0.05, 5.05, 9, "", "0", "1", "2", "3", "4", "5");
    /* offset and scientific notation, as matplotlib prints them */
    LABELS(1000000.1, 1000000.5, 9, "+1e6", "0.10", "0.15", "0.20", "0.25", "0.30", "0.35",
           "0.40", "0.45", "0.50");
    LABELS(0, 3e7, 6, "1e7", "0.0", "0.5", "1.0", "1.5", "2.0", "2.5", "3.0");
    LABELS(0, 3e-7, 6, "1e" M "7", "0.0", "0.5", "1.0", "1.5", "2.0", "2.5", "3.0");
    LABELS(99990, 100010, 9, "+1e5", M "10.0", M "7.5", M "5.0", M "2.5", "0.0", "2.5", "5.0",
           "7.5", "10.0");
    LABELS(0.99999, 1.00001, 9, "1e" M "5+1", M "1.00", M "0.75", M "0.50", M "0.25", "0.00",
           "0.25", "0.50", "0.75", "1.00");
    LABELS(1732469820, 1732473780, 9, "+1.73247e9", "0", "500", "1000", "1500", "2000", "2500",
           "3000", "3500");
    LABELS(123.4, 125.1, 9, "", "123.4", "123.6", "123.8", "124.0", "124.2", "124.4", "124.6",
           "124.8", "125.0");
}

static void test_limits(void **state)
{
    (void)state;
    ipp__axis_t a = {0};
    ipp__axis_limits(&a, 0, 5, false, 0); /* 5% margins */
    assert_true(fabs(a.lo + 0.25) < 1e-12 && fabs(a.hi - 5.25) < 1e-12);
    ipp__axis_limits(&a, 5, 5, false, 0); /* constant: matplotlib gives 4.725..5.275 */
    assert_true(fabs(a.lo - 4.725) < 1e-12 && fabs(a.hi - 5.275) < 1e-12);
    ipp__axis_limits(&a, 0, 0, false, 0);
    assert_true(fabs(a.lo + 0.055) < 1e-12 && fabs(a.hi - 0.055) < 1e-12);
    ipp__axis_limits(&a, INFINITY, -INFINITY, false, 0); /* no data */
    assert_true(fabs(a.lo + 0.055) < 1e-12 && fabs(a.hi - 0.055) < 1e-12);
    ipp__axis_limits(&a, 0, 10, true, 0); /* histogram: the bars stand on 0 */
    assert_true(a.lo == 0 && fabs(a.hi - 10.5) < 1e-12);
    a.log = true;
    ipp__axis_limits(&a, 1, 1e6, false, 0);
    assert_true(fabs(a.lo - 0.5011872336272722) < 1e-12);
    assert_true(fabs(a.hi / 1995262.3149688786 - 1) < 1e-12);
    ipp__axis_limits(&a, INFINITY, -INFINITY, false, 0); /* matplotlib: 0.891..11.22 */
    assert_true(fabs(a.lo - 0.8912509381337455) < 1e-12 && fabs(a.hi - 11.220184543019634) < 1e-9);
    ipp__axis_limits(&a, 5, 5, false, 0);
    assert_true(fabs(a.lo - 0.8912509381337455) < 1e-12);
}

static void test_log_ticks(void **state)
{
    (void)state;
    ipp__axis_t a = {.log = true, .lo = 0.5, .hi = 2e6};
    ipp__axis_ticks(&a, 9);
    assert_int_equal(a.nmajor, 7); /* 1 .. 1e6 */
    assert_string_equal(a.labels[0], "$10^{0}$");
    assert_string_equal(a.labels[6], "$10^{6}$");
    assert_int_equal(a.nminor, 5 + 6 * 8 + 1); /* 0.5..0.9, 2..9 per decade, 2e6 */
    a.lo = 1e-30;
    a.hi = 1e30;
    ipp__axis_ticks(&a, 5); /* 61 decades: every 13th labelled */
    assert_true(a.nmajor >= 2 && a.nmajor <= 6);
    assert_true(a.nminor >= 40 && a.nminor <= 61); /* the unlabelled decades */
    a.lo = 2;
    a.hi = 8; /* no decade inside: minor ticks labelled like matplotlib's */
    ipp__axis_ticks(&a, 6);
    assert_int_equal(a.nmajor, 4);
    assert_string_equal(a.labels[0], "$2\\times10^{0}$");
    assert_string_equal(a.labels[3], "$6\\times10^{0}$");
    assert_int_equal(a.nminor, 3); /* 5, 7, 8 unlabelled */
    a.lo = 2;
    a.hi = 30; /* one decade inside: it alone is labelled */
    ipp__axis_ticks(&a, 6);
    assert_int_equal(a.nmajor, 1);
    assert_string_equal(a.labels[0], "$10^{1}$");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_max_n_locator),
        cmocka_unit_test(test_scalar_formatter),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_log_ticks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
