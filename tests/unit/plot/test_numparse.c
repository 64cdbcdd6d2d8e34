/*
 * test_numparse.c - the number parser gives strtod()'s exact double (C locale) for every
 * spelling tried: random doubles printed shortest, with %.17g and with other precisions,
 * random digit strings, the edge cases of the format; and it ignores the locale.
 */
#define _GNU_SOURCE /* mkdtemp, setenv under the project's _POSIX_C_SOURCE */
#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "plotserver/numparse.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void) /* xorshift64*: reproducible, and no libc rand() state */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static uint64_t bits_of(double v)
{
    uint64_t b;
    memcpy(&b, &v, 8);
    return b;
}

/* s parses whole to exactly `want`'s bits (NaNs: any NaN of the same sign). */
static void check(const char *s, double want)
{
    double got = 12345.0;
    const char *end = s + strlen(s);
    const char *stop = ipp__parse_double(s, end, &got);
    if (stop != end)
        fail_msg("'%s': stopped after %td of %zu bytes", s, stop - s, strlen(s));
    if (isnan(want)) {
        if (!isnan(got) || signbit(got) != signbit(want))
            fail_msg("'%s': got %.17g, want %snan", s, got, signbit(want) ? "-" : "");
        return;
    }
    if (bits_of(got) != bits_of(want))
        fail_msg("'%s': got %.17g (%016llx), want %.17g (%016llx)", s, got,
                 (unsigned long long)bits_of(got), want, (unsigned long long)bits_of(want));
}

/* s as strtod() in the C locale reads it (the process locale is "C" unless a test sets
 * another one, and this is only called from those that do not). */
static void check_strtod(const char *s)
{
    check(s, strtod(s, NULL));
}

static double random_double(void)
{
    for (;;) {
        double v;
        uint64_t b = rnd();
        memcpy(&v, &b, 8);
        if (isfinite(v))
            return v;
    }
}

/* The shortest %.Ng that reads back as v: what Python's repr() prints, digit for digit
 * (the exponent is spelled differently, which the parser must not mind). */
static void shortest(char *out, size_t cap, double v)
{
    for (int p = 1; p <= 17; p++) {
        snprintf(out, cap, "%.*g", p, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

static void test_random_doubles(void **state)
{
    (void)state;
    char buf[64];
    for (int i = 0; i < 300000; i++) {
        double v = random_double();
        snprintf(buf, sizeof buf, "%.17g", v);
        check(buf, v);
        shortest(buf, sizeof buf, v);
        check(buf, v);
        snprintf(buf, sizeof buf, "%.*e", (int)(rnd() % 25), v); /* rounded: like strtod */
        check_strtod(buf);
    }
}

/* Doubles of ordinary magnitudes, the ones data files hold, shortest and %.17g. */
static void test_random_ordinary(void **state)
{
    (void)state;
    char buf[64];
    for (int i = 0; i < 300000; i++) {
        double v = ((double)(rnd() >> 11) / 9007199254740992.0 - 0.5) *
                   pow(10, (double)(rnd() % 40) - 20);
        shortest(buf, sizeof buf, v);
        check(buf, v);
        snprintf(buf, sizeof buf, "%.17g", v);
        check(buf, v);
        snprintf(buf, sizeof buf, "%.*f", (int)(rnd() % 12), v);
        check_strtod(buf);
    }
}

/* Random digit strings: 1 to 40 digits (past 19 the last ones decide ties), a point
 * anywhere, any exponent from far below the subnormals to past the largest double. */
static void test_random_digits(void **state)
{
    (void)state;
    char buf[128];
    for (int i = 0; i < 300000; i++) {
        size_t n = 0, nd = 1 + rnd() % 40, point = rnd() % (nd + 1);
        if (rnd() & 1)
            buf[n++] = rnd() & 1 ? '-' : '+';
        for (size_t k = 0; k < nd; k++) {
            if (k == point && k)
                buf[n++] = '.';
            buf[n++] = (char)('0' + rnd() % 10);
        }
        snprintf(buf + n, sizeof buf - n, "e%d", (int)(rnd() % 720) - 380);
        check_strtod(buf);
    }
}

static void test_edges(void **state)
{
    (void)state;
    static const char *const same_as_strtod[] = {
        "0", "-0", "+0", "0.0", "-0.0", "0e0", "0e-999", "0e999", "00000", ".5", "5.", "-.5",
        "+1.5", "1e0", "1E+2", "1e-2", "1e22", "1e23", "1e-22", "1e-23", "123456789012345678",
        "9007199254740992", "9007199254740993", "9007199254740994", "9007199254740995",
        "18446744073709551615", "18446744073709551616", "99999999999999999999",
        /* the smallest subnormal, half of it (a tie: to zero), just over half */
        "4.9406564584124654e-324", "5e-324", "2.4703282292062327e-324",
        "2.4703282292062328e-324", "2.47032822920623272e-324", "1e-324", "3e-324",
        /* the largest subnormal, the smallest normal */
        "2.2250738585072009e-308", "2.2250738585072011e-308", "2.2250738585072014e-308",
        "2.2250738585072012e-308", "1e-308", "1e-320", "1e-400",
        /* the largest double, the tie above it (to infinity), past it */
        "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308",
        "1e308", "1e309", "-1e309", "1e400", "1e99999999999",
        /* exact ties of 1 + 2^-53: to even, and just above */
        "1.00000000000000011102230246251565404236316680908203125",
        "1.00000000000000011102230246251565404236316680908203124",
        "1.00000000000000011102230246251565404236316680908203126",
        "3.14159265358979323846264338327950288419716939937510582097494459",
        "0.1", "0.2", "0.3", "0.30000000000000004", "1.1", "2.5", "1e-5", "123.456",
        "0.000000000000000000000000000000000000000000000000000000001234567",
        "1234567890123456789012345678901234567890e-30", "7.2057594037927933e16",
        "8.98846567431158e307", "4.4501477170144023e-308", "2.2250738585072011e-308",
    };
    for (size_t i = 0; i < sizeof same_as_strtod / sizeof *same_as_strtod; i++)
        check_strtod(same_as_strtod[i]);
    check("-0", -0.0);
    assert_true(signbit(-0.0));
    check("nan", NAN);
    check("NaN", NAN);
    check("-nan", -NAN);
    check("inf", INFINITY);
    check("-Infinity", -INFINITY);
    check("+INF", INFINITY);
    check("1e308", 1e308);
    check("5e-324", 4.9406564584124654e-324);
}

/* What is not a number is not read; a number is read as far as it goes. */
static void test_not_numbers(void **state)
{
    (void)state;
    static const char *const none[] = {"", "+", "-", ".", "-.", "e5", ".e5", "abc", "na",
                                       "in", " 1", "--1", "+-1"};
    double v = 7;
    for (size_t i = 0; i < sizeof none / sizeof *none; i++) {
        const char *s = none[i];
        assert_ptr_equal(ipp__parse_double(s, s + strlen(s), &v), s);
        assert_true(v == 7);
    }
    static const struct {
        const char *s;
        size_t used;
        double v;
    } part[] = {{"1e", 1, 1}, {"1e+", 1, 1}, {"2.5x", 3, 2.5}, {"1,5", 1, 1},
                {"0x10", 1, 0}, {"12 ", 2, 12}, {"infinit", 3, INFINITY},
                {"-3e2e1", 4, -300}};
    for (size_t i = 0; i < sizeof part / sizeof *part; i++) {
        const char *s = part[i].s;
        const char *stop = ipp__parse_double(s, s + strlen(s), &v);
        if (stop != s + part[i].used)
            fail_msg("'%s': read %td bytes, not %zu", s, stop - s, part[i].used);
        assert_true(v == part[i].v);
    }
    /* the end bound is honoured: no terminating NUL needed, nothing read past it */
    const char *s = "12345";
    assert_ptr_equal(ipp__parse_double(s, s + 3, &v), s + 3);
    assert_true(v == 123);
}

/* A locale with a decimal comma: de_DE.UTF-8 if installed, else one compiled for this
 * test with localedef (LOCPATH). Whether it could be set. */
static bool german_numbers(char *dir, size_t cap)
{
    dir[0] = '\0';
    if (setlocale(LC_NUMERIC, "de_DE.UTF-8"))
        return true;
    snprintf(dir, cap, "/tmp/numparse-locale-XXXXXX");
    if (!mkdtemp(dir))
        return false;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 2>/dev/null", dir);
    if (system(cmd) != 0)
        return false;
    setenv("LOCPATH", dir, 1);
    return setlocale(LC_NUMERIC, "de_DE.UTF-8") != NULL;
}

static void test_locale(void **state)
{
    (void)state;
    char dir[64], buf[64];
    bool german = german_numbers(dir, sizeof dir);
    if (dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd)) { /* only a leftover folder in /tmp */
        }
    }
    if (!german) {
        print_message("no de_DE locale and no localedef: the locale test is skipped\n");
        skip();
    }
    /* the locale is in force: strtod reads "1.5" as 1 and stops at the point */
    assert_true(strtod("1.5", NULL) == 1.0);
    check("1.5", 1.5);
    check("-2.5e-3", -2.5e-3);
    check("1.00000000000000011102230246251565404236316680908203126", 1.0000000000000002);
    /* the slow path (ties beyond 19 digits) runs strtod() too: under its own locale */
    check("1.00000000000000011102230246251565404236316680908203125", 1.0);
    for (int i = 0; i < 20000; i++) {
        double v = random_double();
        snprintf(buf, sizeof buf, "%.17g", v); /* prints a comma here */
        for (char *c = buf; *c; c++)
            if (*c == ',')
                *c = '.';
        check(buf, v);
    }
    setlocale(LC_NUMERIC, "C");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edges),           cmocka_unit_test(test_not_numbers),
        cmocka_unit_test(test_random_doubles),  cmocka_unit_test(test_random_ordinary),
        cmocka_unit_test(test_random_digits),   cmocka_unit_test(test_locale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
