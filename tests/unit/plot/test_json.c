/*
 * test_json.c - the plot client's payloads and the server's payload parser.
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

#include "iotplot/plotclient.h"
#include "plotserver/plot_internal.h"

typedef struct {
    char topic[128];
    char payload[4096];
    size_t len;
    uint8_t qos;
    int calls;
} capture_t;

static int capture(void *ctx, const char *topic, const uint8_t *payload, size_t len,
                   uint8_t qos)
{
    capture_t *c = ctx;
    snprintf(c->topic, sizeof c->topic, "%s", topic);
    memcpy(c->payload, payload, len);
    c->payload[len] = '\0';
    c->len = len;
    c->qos = qos;
    c->calls++;
    return 0;
}

static void fmt_is(double v, const char *want)
{
    char buf[40];
    size_t n = ipp_fmt_double(buf, sizeof buf, v);
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
}

static void test_fmt_shortest(void **state)
{
    (void)state;
    fmt_is(0.0, "0.0");
    fmt_is(-0.0, "-0.0");
    fmt_is(1.0, "1.0");
    fmt_is(0.1, "0.1");
    fmt_is(0.025, "0.025");
    fmt_is(1.0 / 3, "0.3333333333333333");
    fmt_is(0.1 + 0.2, "0.30000000000000004");
    fmt_is(1e300, "1e+300");
    fmt_is(5e-324, "4.94065645841247e-324"); /* round-trips; not the shortest */
    fmt_is(123456789012.0, "123456789012.0");
    fmt_is(NAN, "NaN");
    fmt_is(INFINITY, "Infinity");
    fmt_is(-INFINITY, "-Infinity");
}

/* Every value must read back bit for bit. */
static void test_fmt_round_trip(void **state)
{
    (void)state;
    uint64_t x = 0x9E3779B97F4A7C15u;
    char buf[40];
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double v;
        memcpy(&v, &x, 8);
        if (!isfinite(v))
            continue;
        ipp_fmt_double(buf, sizeof buf, v);
        double back = strtod(buf, NULL);
        assert_memory_equal(&back, &v, 8);
        assert_true(strlen(buf) <= 24);
    }
}

static void test_payloads(void **state)
{
    (void)state;
    char buf[512];
    capture_t cap = {0};
    ipp_plotclient_t pc;
    assert_int_equal(ipp_plotclient_init(&pc, "hopla", 1, buf, sizeof buf, capture, &cap), 0);
    assert_int_equal(ipp_plot_new_series(&pc, "sinusoid", "time", "cos", "sin", "sin*cos"), 0);
    assert_string_equal(cap.topic, "hopla/new_series");
    assert_string_equal(cap.payload, "[\"sinusoid\", \"time\", \"cos\", \"sin\", \"sin*cos\"]");
    assert_int_equal(cap.qos, 1);
    assert_int_equal(ipp_plot_data(&pc, "sinusoid", 0.025, 0.9578, 1, -2.5e-7), 0);
    assert_string_equal(cap.topic, "hopla/data");
    assert_string_equal(cap.payload, "[\"sinusoid\", 0.025, 0.9578, 1.0, -2.5e-07]");
    assert_int_equal(ipp_plotclient_save_series(&pc, "sinusoid", NULL), 0);
    assert_string_equal(cap.payload, "[\"sinusoid\", null]");
    assert_int_equal(ipp_plotclient_save_series(&pc, "sinusoid", "d/s.csv"), 0);
    assert_string_equal(cap.payload, "[\"sinusoid\", \"d/s.csv\"]");
    const char *fmts[] = {"r--", "bs"};
    ipp_plot_opts_t o = {.filename = "example.pdf", .xlabel = "Time [s]",
                         .title = "Damped $e^{-t} \\cos(2\\pi t)$", .figsize = {6, 4},
                         .format = fmts, .nformat = 2, .hist = true, .xlog = true,
                         .no_grid = true};
    assert_int_equal(ipp_plotclient_plot_series(&pc, "sinusoid", &o), 0);
    assert_string_equal(cap.topic, "hopla/plot_series");
    assert_string_equal(cap.payload,
                        "[\"sinusoid\", {\"filename\": \"example.pdf\", \"title\": \"Damped "
                        "$e^{-t} \\\\cos(2\\\\pi t)$\", \"xlabel\": \"Time [s]\", \"figsize\": "
                        "[6.0, 4.0], \"format\": [\"r--\", \"bs\"], \"hist\": true, \"xlog\": "
                        "true, \"grid\": false}]");
    assert_int_equal(ipp_plotclient_plot_series(&pc, "s", NULL), 0);
    assert_string_equal(cap.payload, "[\"s\", {}]");
}

static void test_escaping_and_limits(void **state)
{
    (void)state;
    char buf[64];
    capture_t cap = {0};
    ipp_plotclient_t pc;
    assert_int_equal(ipp_plotclient_init(&pc, NULL, 0, buf, sizeof buf, capture, &cap), 0);
    assert_int_equal(ipp_plot_new_series(&pc, "q\"\\\n\x01", "\xc3\xa9t\xc3\xa9"), 0);
    assert_string_equal(cap.topic, "iot49/new_series");
    assert_string_equal(cap.payload, "[\"q\\\"\\\\\\n\\u0001\", \"\xc3\xa9t\xc3\xa9\"]");
    assert_int_equal(ipp_plot_new_series(&pc, "bad", "\xc3("), IPM_EBAD_UTF8);
    /* a message that does not fit is an error and nothing is sent */
    int calls = cap.calls;
    assert_int_equal(ipp_plot_data(&pc, "s", 1.0 / 3, 1.0 / 3, 1.0 / 3, 1.0 / 3),
                     IPM_ENOSPACE);
    assert_int_equal(cap.calls, calls);
    /* ["<name>", 1.0] is name + 9 bytes; the buffer keeps one byte for a NUL */
    char name[64];
    memset(name, 'x', 54);
    name[54] = '\0';
    assert_int_equal(ipp_plot_data(&pc, name, 1), 0);
    assert_int_equal(cap.len, 63);
    name[54] = 'x';
    name[55] = '\0';
    assert_int_equal(ipp_plot_data(&pc, name, 1), IPM_ENOSPACE);
    assert_int_equal(ipp_plotclient_init(&pc, "a/+", 0, buf, sizeof buf, capture, &cap),
                     IPM_EINVALID);
    assert_int_equal(ipp_plotclient_init(&pc, "a", 2, buf, sizeof buf, capture, &cap),
                     IPM_EINVALID);
}

static void test_parser(void **state)
{
    (void)state;
    ipp_jval_t v[8];
    char sb[256];
    const char *why = NULL;
    const char *in = " [\"s\\u00e9\\ud83d\\ude00\", 1.5, -0, NaN, -Infinity, null, true,"
                     " {\"a\": [1, \"]\"]}] ";
    int n = ipp_json_array(in, strlen(in), v, 8, sb, sizeof sb, &why);
    assert_int_equal(n, 8);
    assert_int_equal(v[0].type, IPP_JV_STR);
    assert_string_equal(v[0].str, "s\xc3\xa9\xf0\x9f\x98\x80");
    assert_true(v[1].num == 1.5);
    assert_true(v[2].num == 0 && signbit(v[2].num));
    assert_true(isnan(v[3].num));
    assert_true(isinf(v[4].num) && v[4].num < 0);
    assert_int_equal(v[5].type, IPP_JV_NULL);
    assert_true(v[6].type == IPP_JV_BOOL && v[6].b);
    assert_int_equal(v[7].type, IPP_JV_NESTED);
    assert_int_equal(v[7].len, strlen("{\"a\": [1, \"]\"]}"));
    static const char *bad[] = {"", "{}", "[1,]", "[01]", "[1 2]", "[\"a]", "[1] x",
                                "[\"\\u0000\"]", "[\"\\ud800\"]", "[.5]", "[1e]",
                                "[nan]", "[\"a\tb\"]", "[{]", "[\"\xff\"]",
                                "[\"\xc3\"]", "[\"\xed\xa0\x80\"]", "[\"\xc0\xaf\"]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why = NULL;
        assert_int_equal(ipp_json_array(bad[i], strlen(bad[i]), v, 8, sb, sizeof sb, &why),
                         -1);
        assert_non_null(why);
    }
    /* too many items, too long strings */
    assert_int_equal(ipp_json_array("[1,2,3]", 7, v, 2, sb, sizeof sb, &why), -1);
    assert_int_equal(ipp_json_array("[\"abcdef\"]", 10, v, 2, sb, 4, &why), -1);
}

/* What the client writes, the server reads back exactly. */
static void test_client_to_parser(void **state)
{
    (void)state;
    char buf[256], sb[256];
    capture_t cap = {0};
    ipp_plotclient_t pc;
    ipp_jval_t v[8];
    const char *why;
    double vals[] = {3.141592653589793, -1e-310, NAN, INFINITY, 1e22};
    ipp_plotclient_init(&pc, NULL, 0, buf, sizeof buf, capture, &cap);
    assert_int_equal(ipp_plotclient_data(&pc, "n", vals, 5), 0);
    assert_int_equal(ipp_json_array(cap.payload, cap.len, v, 8, sb, sizeof sb, &why), 6);
    for (int i = 0; i < 5; i++) {
        if (isnan(vals[i]))
            assert_true(isnan(v[i + 1].num));
        else
            assert_memory_equal(&v[i + 1].num, &vals[i], 8);
    }
}

static void test_plotopts(void **state)
{
    (void)state;
    ipp_plotopts_t o;
    char err[128];
    const char *js = "{\"filename\": \"a/b.png\", \"title\": \"T\", \"figsize\": [6, 2.5],"
                     " \"format\": [\"r--\", \"bs\"], \"hist\": false, \"xlog\": true,"
                     " \"grid\": false, \"other\": 1}";
    assert_int_equal(ipp_plotopts_parse(js, strlen(js), &o, err, sizeof err), 0);
    assert_string_equal(o.filename, "a/b.png");
    assert_string_equal(o.title, "T");
    assert_null(o.xlabel);
    assert_true(o.width_in == 6 && o.height_in == 2.5);
    assert_int_equal(o.nformats, 2);
    assert_string_equal(o.formats[1], "bs");
    assert_true(o.hist && o.xlog && !o.ylog && !o.grid);
    assert_int_equal(o.x, IPP_X_AUTO);
    assert_false(o.utc);
    ipp_plotopts_free(&o);
    js = "{\"x\": \"received\", \"utc\": true}";
    assert_int_equal(ipp_plotopts_parse(js, strlen(js), &o, err, sizeof err), 0);
    assert_true(o.x == IPP_X_RECEIVED && o.utc && !o.unknown);
    ipp_plotopts_free(&o);
    js = "{\"x\": \"first\"}";
    assert_int_equal(ipp_plotopts_parse(js, strlen(js), &o, err, sizeof err), 0);
    assert_int_equal(o.x, IPP_X_FIRST);
    ipp_plotopts_free(&o);
    assert_int_equal(ipp_plotopts_parse(NULL, 0, &o, err, sizeof err), 0);
    assert_true(o.grid && !o.hist);
    static const char *bad[] = {"[]", "{\"title\": 3}", "{\"figsize\": [1]}",
                                "{\"figsize\": [-1, 2]}", "{\"format\": [1]}",
                                "{\"xlog\": \"yes\"}", "{", "{\"x\": \"time\"}",
                                "{\"x\": 0}", "{\"utc\": \"yes\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ipp_plotopts_parse(bad[i], strlen(bad[i]), &o, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fmt_shortest),     cmocka_unit_test(test_fmt_round_trip),
        cmocka_unit_test(test_payloads),         cmocka_unit_test(test_escaping_and_limits),
        cmocka_unit_test(test_parser),           cmocka_unit_test(test_client_to_parser),
        cmocka_unit_test(test_plotopts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
