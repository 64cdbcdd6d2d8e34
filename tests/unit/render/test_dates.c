/* Time axes: the step AutoDateLocator picks for a span, the ticks on calendar
 * boundaries, ConciseDateFormatter's labels and offset text, and where a line of
 * arrival times breaks. All in UTC, so the results do not depend on the machine's zone. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "render/render_int.h"

#define DEC01 1796083200.0 /* 2026-12-01 00:00:00 UTC */
#define H 3600.0
#define D 86400.0

static void expect_step(double lo, double hi, int unit, int step)
{
    ipp__date_step_t s = ipp__date_step(lo, hi, true, 0);
    if (s.unit != unit || s.step != step)
        fail_msg("span %g s: unit %d step %d, want unit %d step %d", hi - lo, s.unit, s.step,
                 unit, step);
}

static void test_steps(void **state)
{
    (void)state;
    /* matplotlib's AutoDateLocator(minticks=5, interval_multiples=True) */
    expect_step(DEC01, DEC01 + 2, 6, 500000);         /* 2 s: half seconds */
    expect_step(DEC01, DEC01 + 10, 5, 1);             /* 10 s: every second */
    expect_step(DEC01, DEC01 + 11, 5, 5);             /* 11 s: more than 11 ticks */
    expect_step(DEC01, DEC01 + 66, 5, 10);            /* a minute and margins */
    expect_step(DEC01, DEC01 + 300, 4, 1);            /* 5 min: every minute */
    expect_step(DEC01, DEC01 + 3 * H, 4, 30);         /* 3 h: 180 minutes */
    expect_step(DEC01, DEC01 + 5 * H, 3, 1);          /* 5 h: every hour */
    expect_step(DEC01, DEC01 + 2 * D, 3, 6);          /* 2 days: 48 hours */
    expect_step(DEC01, DEC01 + 40 * D, 2, 4);         /* 40 days */
    expect_step(DEC01, DEC01 + 41 * D, 2, 7);         /* 41 days: 1st, 8th, 15th, 22nd */
    expect_step(DEC01, DEC01 + 730 * D, 1, 3);        /* 2 years: 24 months */
    expect_step(DEC01, DEC01 + 30 * 365.25 * D, 0, 4); /* 30 years */
    /* fewer ticks allowed: a coarser step of the same unit */
    ipp__date_step_t s = ipp__date_step(DEC01, DEC01 + 10, true, 4);
    assert_int_equal(s.unit, 5);
    assert_int_equal(s.step, 5);
}

static void expect_axis(double lo, double hi, const char *const *labels, size_t n,
                        const char *offset)
{
    ipp__axis_t ax = {.time = true, .utc = true, .lo = lo, .hi = hi};
    ipp__date_ticks(&ax, 0, true);
    for (size_t i = 0; i < ax.nmajor && i < n; i++) {
        if (strcmp(ax.labels[i], labels[i]))
            fail_msg("span %g s: label %zu is '%s', want '%s'", hi - lo, i, ax.labels[i],
                     labels[i]);
    }
    if (ax.nmajor != n)
        fail_msg("span %g s: %zu ticks, want %zu (first '%s')", hi - lo, ax.nmajor, n,
                 ax.nmajor ? ax.labels[0] : "");
    if (strcmp(ax.offset_text, offset))
        fail_msg("span %g s: offset '%s', want '%s'", hi - lo, ax.offset_text, offset);
    for (size_t i = 1; i < ax.nmajor; i++)
        assert_true(ax.major[i] > ax.major[i - 1]);
}

#define AXIS(lo, hi, offset, ...)                                                               \
    do {                                                                                        \
        const char *const w_[] = {__VA_ARGS__};                                                 \
        expect_axis(lo, hi, w_, sizeof w_ / sizeof w_[0], offset);                              \
    } while (0)

static void test_labels(void **state)
{
    (void)state;
    /* what matplotlib's ConciseDateFormatter writes for the same ticks */
    double t = DEC01 + 12 * H + 29 * 60 + 55; /* 12:29:55 */
    AXIS(t, t + 10, "2026-Dec-01 12:30", "55", "56", "57", "58", "59", "12:30", "01", "02",
         "03", "04", "05");
    t = DEC01 + 12 * H + 30 * 60;
    AXIS(t, t + 2, "2026-Dec-01 12:30", "12:30", "00.5", "01.0", "01.5", "02.0");
    t = DEC01 + 12 * H + 28 * 60;
    AXIS(t, t + 300, "2026-Dec-01", "12:28", "12:29", "12:30", "12:31", "12:32", "12:33");
    t = DEC01 + 10 * H;
    AXIS(t, t + 3 * H, "2026-Dec-01", "10:00", "10:30", "11:00", "11:30", "12:00", "12:30",
         "13:00");
    AXIS(DEC01, DEC01 + 2 * D, "2026-Dec-03", "Dec-01", "06:00", "12:00", "18:00", "Dec-02",
         "06:00", "12:00", "18:00", "Dec-03");
    AXIS(DEC01, DEC01 + 40 * D, "2027-Jan", "Dec", "05", "09", "13", "17", "21", "25", "29",
         "Jan", "05", "09");
    AXIS(DEC01, DEC01 + 41 * D, "2027-Jan", "Dec", "08", "15", "22", "Jan", "08");
    AXIS(DEC01, DEC01 + 66, "2026-Dec-01 00:01", "00:00", "10", "20", "30", "40", "50",
         "00:01");
    /* January is labelled with its year: no offset */
    AXIS(DEC01, DEC01 + 731 * D, "", "2027", "Apr", "Jul", "Oct", "2028", "Apr", "Jul", "Oct");
    /* 14 days: the 1st and the 15th of each month; February has no 29th here */
    ipp__axis_t ax = {.time = true, .utc = true, .lo = DEC01, .hi = DEC01 + 100 * D};
    ipp__date_ticks(&ax, 0, true);
    assert_string_equal(ax.labels[0], "Dec");
    assert_string_equal(ax.labels[1], "15");
    assert_string_equal(ax.labels[2], "Jan");
    assert_string_equal(ax.labels[3], "15");
    assert_string_equal(ax.labels[4], "Feb");
    assert_string_equal(ax.labels[6], "Mar");
    assert_string_equal(ax.offset_text, "2027-Mar");
}

static void test_ticks_utc_boundaries(void **state)
{
    (void)state;
    /* 6-hour ticks fall on 00, 06, 12, 18 UTC even when the view starts off the grid */
    ipp__axis_t ax = {.time = true, .utc = true, .lo = DEC01 + 1.5 * H, .hi = DEC01 + 50 * H};
    ipp__date_ticks(&ax, 0, true);
    assert_true(ax.nmajor >= 8);
    for (size_t i = 0; i < ax.nmajor; i++)
        assert_true(fmod(ax.major[i] - DEC01, 6 * H) == 0);
    assert_true(ax.major[0] == DEC01 + 6 * H);
}

static void test_gap(void **state)
{
    (void)state;
    double t[40];
    for (size_t i = 0; i < 40; i++)
        t[i] = DEC01 + (double)i + (i >= 20 ? 100 : 0); /* offline for 100 s after row 19 */
    double gap = ipp__time_gap(t, 40);
    assert_true(gap == 10.0); /* ten times the typical 1 s */
    assert_true(t[20] - t[19] > gap);
    assert_true(ipp__time_gap(t, 1) == 0);

    /* the decimated line has a break at the gap and nowhere else */
    double y[40];
    for (size_t i = 0; i < 40; i++)
        y[i] = (double)(i % 3);
    ipp__map_t mx = {false, t[0], t[39], 0, 1000}, my = {false, 0, 2, 100, 0};
    ipp__path_t p = {0};
    assert_int_equal(ipp__decimate_gaps(t, y, 40, gap, &mx, &my, 1, &p), 0);
    size_t breaks = 0;
    for (size_t i = 0; i < p.n; i++)
        breaks += isnan(p.pts[i].x);
    assert_int_equal(breaks, 1);
    ipp__path_free(&p);
    assert_int_equal(ipp__decimate_gaps(t, y, 40, 0, &mx, &my, 1, &p), 0);
    for (size_t i = 0; i < p.n; i++)
        assert_false(isnan(p.pts[i].x));
    ipp__path_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steps),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_ticks_utc_boundaries),
        cmocka_unit_test(test_gap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
