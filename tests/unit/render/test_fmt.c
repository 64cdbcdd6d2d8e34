/* Format strings: every colour, marker and line style, combinations in any order,
 * and matplotlib's errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "render/render_int.h"

static ipp__style_t ok(const char *fmt)
{
    ipp__style_t st;
    char err[128] = "";
    int rc = ipp__parse_format(fmt, &st, err, sizeof err);
    if (rc != 0)
        fail_msg("\"%s\" rejected: %s", fmt, err);
    return st;
}

static void bad(const char *fmt, const char *why)
{
    ipp__style_t st;
    char err[128] = "";
    assert_int_equal(ipp__parse_format(fmt, &st, err, sizeof err), -1);
    if (!strstr(err, why))
        fail_msg("\"%s\": error \"%s\" lacks \"%s\"", fmt, err, why);
}

static void test_defaults(void **state)
{
    (void)state;
    ipp__style_t st = ok(NULL);
    assert_false(st.has_color);
    assert_int_equal(st.marker, 0);
    assert_int_equal(st.ls, IPP__LS_SOLID);
    st = ok("");
    assert_int_equal(st.ls, IPP__LS_SOLID);
}

static void test_colors(void **state)
{
    (void)state;
    const char *letters = "bgrcmykw";
    const double want[8][3] = {{0, 0, 1},       {0, 0.5, 0},    {1, 0, 0}, {0, 0.75, 0.75},
                               {0.75, 0, 0.75}, {0.75, 0.75, 0}, {0, 0, 0}, {1, 1, 1}};
    for (int i = 0; i < 8; i++) {
        char f[2] = {letters[i], 0};
        ipp__style_t st = ok(f);
        assert_true(st.has_color);
        assert_true(st.color.r == want[i][0] && st.color.g == want[i][1] &&
                    st.color.b == want[i][2]);
        assert_int_equal(st.ls, IPP__LS_SOLID);
    }
    ipp__style_t st = ok("C1");
    ipp__rgb_t c1 = ipp__cycle_color(1);
    assert_true(st.has_color && st.color.r == c1.r && st.color.g == c1.g);
    /* tab10 in matplotlib's order, wrapping */
    assert_true(ipp__cycle_color(0).r == 0x1f / 255.0 && ipp__cycle_color(10).r == 0x1f / 255.0);
    assert_true(ipp__cycle_color(9).b == 0xcf / 255.0);
}

static void test_markers(void **state)
{
    (void)state;
    const char *markers = ".,ov^<>sp*hH+xDd|_";
    for (const char *m = markers; *m; m++) {
        char f[2] = {*m, 0};
        ipp__style_t st = ok(f);
        assert_int_equal(st.marker, *m);
        assert_int_equal(st.ls, IPP__LS_NONE); /* a marker alone: markers only */
        assert_false(st.has_color);
    }
    assert_true(ipp__marker_unfilled('+') && ipp__marker_unfilled('x'));
    assert_false(ipp__marker_unfilled('o'));
}

static void test_styles(void **state)
{
    (void)state;
    assert_int_equal(ok("-").ls, IPP__LS_SOLID);
    assert_int_equal(ok("--").ls, IPP__LS_DASHED);
    assert_int_equal(ok("-.").ls, IPP__LS_DASHDOT);
    assert_int_equal(ok(":").ls, IPP__LS_DOTTED);
}

static void test_combinations(void **state)
{
    (void)state;
    ipp__style_t st = ok("r--");
    assert_true(st.has_color && st.color.r == 1 && st.color.g == 0);
    assert_int_equal(st.ls, IPP__LS_DASHED);
    assert_int_equal(st.marker, 0);
    st = ok("bs");
    assert_int_equal(st.marker, 's');
    assert_int_equal(st.ls, IPP__LS_NONE);
    st = ok("g^");
    assert_int_equal(st.marker, '^');
    st = ok("k:o");
    assert_int_equal(st.marker, 'o');
    assert_int_equal(st.ls, IPP__LS_DOTTED);
    st = ok("o:k"); /* any order */
    assert_int_equal(st.marker, 'o');
    assert_int_equal(st.ls, IPP__LS_DOTTED);
    st = ok("--or");
    assert_int_equal(st.ls, IPP__LS_DASHED);
    assert_int_equal(st.marker, 'o');
    st = ok("-.");
    assert_int_equal(st.ls, IPP__LS_DASHDOT);
    st = ok(".-"); /* point marker then solid line */
    assert_int_equal(st.marker, '.');
    assert_int_equal(st.ls, IPP__LS_SOLID);
    st = ok("x-.C3");
    assert_int_equal(st.marker, 'x');
    assert_int_equal(st.ls, IPP__LS_DASHDOT);
}

static void test_invalid(void **state)
{
    (void)state;
    bad("q", "unrecognized character 'q'");
    bad("r-z", "unrecognized character 'z'");
    bad("rg", "two color");
    bad("os", "two marker");
    bad("--:", "two linestyle");
    bad("- -", "unrecognized character ' '");
    bad("C", "unrecognized character 'C'");
    bad("r\n", "0x0a");
    bad("\xff", "0xff");
    ipp__style_t st;
    assert_int_equal(ipp__parse_format("zz", &st, NULL, 0), -1); /* no room for a reason */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),     cmocka_unit_test(test_colors),
        cmocka_unit_test(test_markers),      cmocka_unit_test(test_styles),
        cmocka_unit_test(test_combinations), cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
