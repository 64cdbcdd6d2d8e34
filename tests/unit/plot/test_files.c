/*
 * test_files.c - exporters and readers round trip exactly; the store keeps versions.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "plotserver/plot_internal.h"

static void sample(ipp_data_t *d)
{
    const char *names[] = {"time", "a,\"b\"", "\xc3\xa9"};
    size_t cap = 0;
    assert_int_equal(ipp__data_init(d, names, 3), 0);
    for (int i = 0; i < 2500; i++) {
        double row[3] = {i * 0.025, exp(-i * 0.025) * cos(i), i == 7 ? NAN : 1.0 / (i + 1)};
        if (i == 9)
            row[1] = -INFINITY;
        assert_int_equal(ipp__data_push(d, row, &cap), 0);
    }
}

/* b is a read back exactly; with `finite_only` (JSON, where NaN and infinities are all
 * null) a's non-finite values come back as NaN. */
static void same(const ipp_data_t *a, const ipp_data_t *b, bool finite_only)
{
    assert_int_equal(a->ncols, b->ncols);
    assert_int_equal(a->nrows, b->nrows);
    for (size_t c = 0; c < a->ncols; c++) {
        assert_string_equal(a->names[c], b->names[c]);
        for (size_t r = 0; r < a->nrows; r++) {
            if (isnan(a->cols[c][r]) || (finite_only && !isfinite(a->cols[c][r])))
                assert_true(isnan(b->cols[c][r]));
            else
                assert_memory_equal(&a->cols[c][r], &b->cols[c][r], 8);
        }
    }
}

/* Write with `wr` into memory, read back with `rd`. */
static void round_trip(int kind)
{
    ipp_data_t d, back;
    char *buf = NULL, err[256];
    size_t len = 0;
    sample(&d);
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    int rc = kind == 0 ? ipp_write_pickle(f, &d)
             : kind == 1 ? ipp_write_csv(f, &d)
                         : ipp_write_json(f, "s", &d);
    assert_int_equal(rc, 0);
    fclose(f);
    rc = kind == 0 ? ipp_read_pickle((uint8_t *)buf, len, &back, err, sizeof err)
         : kind == 1 ? ipp_read_csv(buf, len, &back, err, sizeof err)
                     : ipp_read_json(buf, len, &back, err, sizeof err);
    if (rc)
        fail_msg("%s", err);
    same(&d, &back, kind == 2);
    ipp_data_free(&d);
    ipp_data_free(&back);
    free(buf);
}

static void test_pickle(void **state)
{
    (void)state;
    round_trip(0);
}

static void test_csv(void **state)
{
    (void)state;
    round_trip(1);
}

static void test_json(void **state)
{
    (void)state;
    round_trip(2);
}

/* Pickles as Python writes them (protocols 0, 2 and 4, ints and None among floats). */
static void test_python_pickles(void **state)
{
    (void)state;
    static const char p0[] = "ccollections\nOrderedDict\np0\n(tRp1\nVa\np2\n(lp3\nF1.0\naI2\n"
                             "asVb\np4\n(lp5\nNas.";
    static const char p4[] =
        "\x80\x04\x95N\x00\x00\x00\x00\x00\x00\x00\x8c\x0b" "collections\x94\x8c\x0bOrderedDict"
        "\x94\x93\x94)R\x94(\x8c\x01" "a\x94]\x94(G?\xf0\x00\x00\x00\x00\x00\x00G@\x04\x00\x00"
        "\x00\x00\x00\x00" "e\x8c\x01" "b\x94]\x94G@\x08\x00\x00\x00\x00\x00\x00" "au.";
    ipp_data_t d;
    char err[128];
    assert_int_equal(ipp_read_pickle((const uint8_t *)p0, sizeof p0 - 1, &d, err, sizeof err),
                     0);
    assert_int_equal(d.ncols, 2);
    assert_int_equal(d.nrows, 2);
    assert_true(d.cols[0][0] == 1.0 && d.cols[0][1] == 2.0 && isnan(d.cols[1][0]));
    ipp_data_free(&d);
    assert_int_equal(ipp_read_pickle((const uint8_t *)p4, sizeof p4 - 1, &d, err, sizeof err),
                     0);
    assert_string_equal(d.names[1], "b");
    assert_true(d.cols[0][1] == 2.5 && d.cols[1][0] == 3.0);
    ipp_data_free(&d);
    /* anything but a dict of lists is refused, never called */
    static const char evil[] = "cos\nsystem\n(S'echo hi'\ntR.";
    assert_int_equal(ipp_read_pickle((const uint8_t *)evil, sizeof evil - 1, &d, err,
                                     sizeof err), -1);
    assert_int_equal(ipp_read_pickle((const uint8_t *)"\x80\x02", 2, &d, err, sizeof err), -1);
    /* SETITEMS / APPENDS with nothing below their MARK (found by fuzzing) */
    static const char *const broken[] = {"(u.", "(e.", "Ka.", "KKs.", "]q\x00h\x01.", "(t."};
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++)
        assert_int_equal(ipp_read_pickle((const uint8_t *)broken[i], strlen(broken[i]), &d,
                                         err, sizeof err),
                         -1);
}

static void test_csv_edges(void **state)
{
    (void)state;
    ipp_data_t d;
    char err[128];
    static const char ok[] = "\"a,\"\"x\"\"\",b\r\n1,\r\n\n2.5,-Infinity\n3";
    assert_int_equal(ipp_read_csv(ok, sizeof ok - 1, &d, err, sizeof err), 0);
    assert_string_equal(d.names[0], "a,\"x\"");
    assert_int_equal(d.nrows, 3);
    assert_true(isnan(d.cols[1][0]) && isinf(d.cols[1][1]) && isnan(d.cols[1][2]));
    ipp_data_free(&d);
    static const char *bad[] = {"", "a,b\n1,x\n", "a\n1,2\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ipp_read_csv(bad[i], strlen(bad[i]), &d, err, sizeof err), -1);
    char *wide = malloc(IPP_MAX_COLS * 2 + 8);
    for (size_t i = 0; i < IPP_MAX_COLS + 1; i++)
        memcpy(wide + 2 * i, "x,", 2);
    wide[2 * IPP_MAX_COLS + 1] = '\n';
    assert_int_equal(ipp_read_csv(wide, 2 * IPP_MAX_COLS + 2, &d, err, sizeof err), -1);
    free(wide);
}

static void test_store_versions(void **state)
{
    (void)state;
    char dir[] = "/tmp/ipp-store-XXXXXX", path[128], err[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/db", dir);
    ipp_store_t *st;
    assert_int_equal(ipp__store_open(path, false, &st, err, sizeof err), 0);
    const char *cols[] = {"x", "y"};
    ipp_series_info_t a, b, f;
    assert_int_equal(ipp__store_begin(st), 0);
    assert_int_equal(ipp__store_new_series(st, "s", "n", cols, 2, &a), 0);
    for (int i = 0; i < 10; i++) {
        double v[2] = {i, i * 0.5};
        assert_int_equal(ipp__store_append(st, a.id, i, 0, v, 2), 0);
    }
    assert_int_equal(ipp__store_new_series(st, "s", "n", cols, 1, &b), 0);
    assert_int_equal(ipp__store_commit(st), 0);
    assert_int_equal(a.version, 1);
    assert_int_equal(b.version, 2);
    assert_int_equal(ipp_store_find(st, "s", "n", 0, &f), 0);
    assert_int_equal(f.id, b.id);
    assert_int_equal(ipp_store_find(st, "s", "n", 1, &f), 0);
    assert_int_equal(f.nrows, 10);
    assert_int_equal(f.ncols, 2);
    assert_int_equal(ipp_store_find(st, "other", "n", 0, &f), 1);
    ipp_data_t d;
    assert_int_equal(ipp_store_read(st, a.id, 4, &d), 0);
    assert_int_equal(d.nrows, 4);
    assert_true(d.cols[1][3] == 1.5);
    ipp_data_free(&d);
    ipp_store_close(st);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pickle),         cmocka_unit_test(test_csv),
        cmocka_unit_test(test_json),           cmocka_unit_test(test_python_pickles),
        cmocka_unit_test(test_csv_edges),      cmocka_unit_test(test_store_versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
