/*
 * test_exports.c - the pieces of the exporters that a file opened elsewhere depends on:
 * arrival times in ISO 8601 both ways, Matlab names, the `received` column and byte
 * order mark of CSV, null in JSON, the choice by extension.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plotserver/plot_internal.h"

static void test_time_text(void **state)
{
    (void)state;
    char s[40];
    assert_int_equal(ipp__fmt_time(s, sizeof s, 0), IPP_TIME_LEN);
    assert_string_equal(s, "1970-01-01T00:00:00.000Z");
    ipp__fmt_time(s, sizeof s, 1796166000.123); /* 2026-12-01 23:00:00.123 UTC */
    assert_string_equal(s, "2026-12-01T23:00:00.123Z");
    ipp__fmt_time(s, sizeof s, 951782399.9996); /* rounds into the leap day */
    assert_string_equal(s, "2000-02-29T00:00:00.000Z");
    ipp__fmt_time(s, sizeof s, -0.5);
    assert_string_equal(s, "1969-12-31T23:59:59.500Z");
    assert_int_equal(ipp__fmt_time(s, sizeof s, NAN), 0);
    assert_string_equal(s, "");
    assert_int_equal(ipp__fmt_time(s, 10, 0), 0); /* too small a buffer: nothing */

    /* every millisecond text reads back to its time, across years and leap days */
    for (double t = -2208988800.0; t < 4102444800.0; t += 86400.0 * 97.3 + 0.731) {
        double back;
        size_t n = ipp__fmt_time(s, sizeof s, t);
        assert_int_equal(ipp__parse_time(s, n, &back), 0);
        if (fabs(back - t) > 0.0005 + 1e-6)
            fail_msg("%s: %.4f read back as %.4f", s, t, back);
    }
    double t;
    assert_int_equal(ipp__parse_time("2026-12-01T23:00:00Z", 20, &t), 0);
    assert_true(t == 1796166000.0);
    assert_int_equal(ipp__parse_time("2026-12-02T00:30:00.5+01:30", 27, &t), 0);
    assert_true(t == 1796166000.5);
    static const char *const bad[] = {
        "2026-12-01T23:00:00",      "2026-13-01T23:00:00Z",   "2026-12-01T24:00:00Z",
        "2026-12-01T23:00:00.Z",    "2026-12-01T23:00:00.1Zx", "12026-12-01T23:00:00Z",
        "2026-12-01T23:00:00+0100", "1.5",                     "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ipp__parse_time(bad[i], strlen(bad[i]), &t) == 0)
            fail_msg("'%s' read as a time", bad[i]);
}

static void test_mat_names(void **state)
{
    (void)state;
    char out[64];
    static const char *const cases[][2] = {
        {"time", "time"},         {"Temperatur \xc2\xb0" "C", "Temperatur__C"},
        {"sin*cos", "sin_cos"},   {"1st", "x1st"},
        {"_a", "x_a"},            {"", "x"},
        {"end", "xend"},          {"function", "xfunction"},
        {"End", "End"},           {"\xe6\xb8\xa9\xe5\xba\xa6", "x__"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ipp_mat_name(cases[i][0], NULL, 0, out);
        assert_string_equal(out, cases[i][1]);
    }
    char longname[200];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    ipp_mat_name(longname, NULL, 0, out);
    assert_int_equal(strlen(out), 63);
    longname[0] = '9'; /* the x in front still leaves 63 */
    ipp_mat_name(longname, NULL, 0, out);
    assert_int_equal(strlen(out), 63);
    assert_int_equal(out[0], 'x');

    /* unique: a suffix, within 63 bytes even for a name that was cut */
    char given[12][64];
    const char *taken[12];
    for (int i = 0; i < 12; i++) {
        ipp_mat_name(i < 6 ? "a b" : longname, taken + (i < 6 ? 0 : 6), (size_t)(i % 6),
                     given[i]);
        taken[i] = given[i];
        assert_true(strlen(given[i]) <= 63);
    }
    assert_string_equal(given[0], "a_b");
    assert_string_equal(given[1], "a_b_2");
    assert_string_equal(given[5], "a_b_6");
    assert_int_equal(strlen(given[7]), 63);
    assert_string_equal(given[7] + 61, "_2");
    assert_string_equal(given[11] + 61, "_6");
}

static char *write_mem(int (*wr)(FILE *, const ipp_data_t *), const ipp_data_t *d)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(wr(f, d), 0);
    fclose(f);
    return buf;
}

static int json_s(FILE *f, const ipp_data_t *d)
{
    return ipp_write_json(f, "s", d);
}

static void timed_sample(ipp_data_t *d)
{
    const char *names[] = {"a", "received"}; /* a user's column of that name too */
    size_t cap = 0;
    assert_int_equal(ipp__data_init(d, names, 2), 0);
    double rows[3][2] = {{1.5, 2}, {NAN, INFINITY}, {-INFINITY, 0.1}};
    for (int i = 0; i < 3; i++)
        assert_int_equal(ipp__data_push_timed(d, rows[i], 1796166000.123 + i, &cap), 0);
}

static void test_csv_times(void **state)
{
    (void)state;
    ipp_data_t d, back;
    char err[256];
    timed_sample(&d);
    char *csv = write_mem(ipp_write_csv, &d);
    assert_string_equal(csv, "a,received,received\n"
                             "1.5,2.0,2026-12-01T23:00:00.123Z\n"
                             "NaN,Infinity,2026-12-01T23:00:01.123Z\n"
                             "-Infinity,0.1,2026-12-01T23:00:02.123Z\n");
    /* read back with the byte order mark Excel wants: the times are times again */
    size_t n = strlen(csv);
    char *bom = malloc(n + 4);
    memcpy(bom, "\xef\xbb\xbf", 3);
    memcpy(bom + 3, csv, n + 1);
    if (ipp_read_csv(bom, n + 3, &back, err, sizeof err))
        fail_msg("%s", err);
    assert_int_equal(back.ncols, 2);
    assert_string_equal(back.names[0], "a");
    assert_string_equal(back.names[1], "received");
    assert_non_null(back.t);
    for (size_t r = 0; r < 3; r++)
        assert_true(fabs(back.t[r] - d.t[r]) < 1e-6);
    assert_true(back.cols[1][1] == INFINITY);
    ipp_data_free(&back);
    /* a numeric column named received is just a column */
    static const char plain[] = "x,received\n1,2\n";
    assert_int_equal(ipp_read_csv(plain, sizeof plain - 1, &back, err, sizeof err), 0);
    assert_int_equal(back.ncols, 2);
    assert_null(back.t);
    ipp_data_free(&back);
    static const char badtime[] = "x,received\n1,2026-12-01T23:00:00.123Z\n2,yesterday\n";
    assert_int_equal(ipp_read_csv(badtime, sizeof badtime - 1, &back, err, sizeof err), -1);
    assert_string_equal(err, "line 3: 'yesterday' is not an ISO 8601 time");
    free(bom);
    free(csv);
    ipp_data_free(&d);
}

static void test_json_null(void **state)
{
    (void)state;
    ipp_data_t d;
    timed_sample(&d);
    char *json = write_mem(json_s, &d);
    assert_string_equal(json, "{\"series\": \"s\", \"columns\": [\"a\", \"received\"],"
                              " \"rows\": [\n  [1.5, 2.0],\n  [null, null],\n  [null, 0.1]\n]}\n");
    free(json);
    ipp_data_free(&d);
}

static void test_by_extension(void **state)
{
    (void)state;
    char err[256];
    ipp_data_t d;
    timed_sample(&d);
    assert_true(ipp_export_known("xlsx") && ipp_export_known("mat") && ipp_export_known("pkl"));
    assert_false(ipp_export_known("xyz") || ipp_export_known("") || ipp_export_known("pdf"));
    assert_int_equal(ipp_export_file("/nonexistent/s.xyz", &d, NULL, err, sizeof err), -1);
    assert_string_equal(err,
                        "unknown data format '.xyz' (use .pkl, .csv, .json, .xlsx or .mat)");
    assert_int_equal(ipp_export_file("/nonexistent/s.csv", &d, NULL, err, sizeof err), -1);
    assert_string_equal(err, "No such file or directory");
    for (const char *const *p = (const char *const[]){"xlsx", "mat", NULL}; *p; p++) {
        char path[64];
        snprintf(path, sizeof path, "/nonexistent/s.%s", *p);
        assert_int_equal(ipp_export_file(path, &d, NULL, err, sizeof err), -1);
        assert_true(err[0] != '\0');
    }
    ipp_data_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_text), cmocka_unit_test(test_mat_names),
        cmocka_unit_test(test_csv_times), cmocka_unit_test(test_json_null),
        cmocka_unit_test(test_by_extension),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
