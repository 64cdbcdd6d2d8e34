/*
 * test_client_opts.c - the plot client's x, utc and excel options, sent through a real
 * plot server: the exact payloads, then what the server made of them (the options it
 * stored with the series, the rows' arrival times and the byte order mark in the file
 * save_series wrote).
 */
#define _GNU_SOURCE /* mkdtemp under the project's _POSIX_C_SOURCE */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "iotplot/plotclient.h"
#include "iotplot/plotserver.h"

typedef struct {
    ipp_server_t *s;
    char last[512]; /* the last payload sent */
} link_t;

/* The publish function: straight into the server, as the broker would hand it over. */
static int to_server(void *ctx, const char *topic, const uint8_t *payload, size_t len,
                     uint8_t qos)
{
    (void)qos;
    link_t *l = ctx;
    snprintf(l->last, sizeof l->last, "%.*s", (int)len, (const char *)payload);
    ipp_server_handle(l->s, topic, strlen(topic), payload, len);
    return 0;
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void test_through_server(void **state)
{
    (void)state;
    char dir[] = "/tmp/ipp-client-opts-XXXXXX", err[256], buf[256], path[300];
    assert_non_null(mkdtemp(dir));
    ipp_server_config_t cfg = {.dir = dir};
    link_t l = {0};
    assert_int_equal(ipp_server_create(&cfg, &l.s, err, sizeof err), 0);
    ipp_plotclient_t pc;
    assert_int_equal(ipp_plotclient_init(&pc, "hopla", 1, buf, sizeof buf, to_server, &l), 0);
    double before = wall();
    assert_int_equal(ipp_plot_new_series(&pc, "room", "temperature"), 0);
    assert_int_equal(ipp_plot_data(&pc, "room", 21.5), 0);
    assert_int_equal(ipp_plot_data(&pc, "room", 22.0), 0);

    ipp_plot_opts_t o = {.filename = "room.svg", .x = IPP_PLOT_X_RECEIVED, .utc = true};
    assert_int_equal(ipp_plotclient_plot_series(&pc, "room", &o), 0);
    assert_string_equal(l.last, "[\"room\", {\"filename\": \"room.svg\", \"x\": \"received\", "
                                "\"utc\": true}]");
    ipp_save_opts_t so = {.excel = true};
    assert_int_equal(ipp_plotclient_save_series_opts(&pc, "room", "room.csv", &so), 0);
    assert_string_equal(l.last, "[\"room\", \"room.csv\", {\"excel\": true}]");
    assert_int_equal(ipp_server_sync(l.s, 10000), 0);
    double after = wall();
    ipp_server_destroy(l.s);

    /* the options as the server stored them with the series, for `iotplot plot --db` */
    ipp_store_t *st;
    ipp_series_info_t info;
    assert_int_equal(ipp_store_open(dir, &st, err, sizeof err), 0);
    assert_int_equal(ipp_store_find(st, "hopla", "room", 0, &info), 0);
    char *json = ipp_store_last_plot(st, info.id);
    assert_non_null(json);
    ipp_plotopts_t po = {0};
    assert_int_equal(ipp_plotopts_parse(json, strlen(json), &po, err, sizeof err), 0);
    assert_int_equal(po.x, IPP_X_RECEIVED);
    assert_true(po.utc);
    assert_null(po.unknown);
    ipp_plotopts_free(&po);
    free(json);
    ipp_store_close(st);

    /* the figure, and the rows with their arrival times in the file save_series wrote */
    snprintf(path, sizeof path, "%s/room.svg", dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fclose(f);
    snprintf(path, sizeof path, "%s/room.csv", dir);
    ipp_data_t d;
    f = fopen(path, "rb");
    assert_non_null(f);
    char bom[3];
    assert_int_equal(fread(bom, 1, 3, f), 3);
    assert_memory_equal(bom, "\xef\xbb\xbf", 3);
    fclose(f);
    assert_int_equal(ipp_read_file(path, &d, err, sizeof err), 0);
    assert_int_equal(d.ncols, 1);
    assert_int_equal(d.nrows, 2);
    assert_true(d.cols[0][0] == 21.5 && d.cols[0][1] == 22.0);
    assert_non_null(d.t);
    for (size_t r = 0; r < 2; r++) /* milliseconds in the file */
        assert_true(d.t[r] >= before - 0.001 && d.t[r] <= after + 0.001);
    ipp_data_free(&d);

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* The other values of the options, and what is refused, without a server. */
static int capture(void *ctx, const char *topic, const uint8_t *payload, size_t len,
                   uint8_t qos)
{
    (void)topic, (void)qos;
    snprintf(ctx, 512, "%.*s", (int)len, (const char *)payload);
    return 0;
}

static void test_values(void **state)
{
    (void)state;
    char buf[256], last[512] = "";
    ipp_plotclient_t pc;
    assert_int_equal(ipp_plotclient_init(&pc, NULL, 0, buf, sizeof buf, capture, last), 0);
    ipp_plot_opts_t o = {.x = IPP_PLOT_X_FIRST};
    assert_int_equal(ipp_plotclient_plot_series(&pc, "s", &o), 0);
    assert_string_equal(last, "[\"s\", {\"x\": \"first\"}]");
    o = (ipp_plot_opts_t){.utc = true, .xlog = true};
    assert_int_equal(ipp_plotclient_plot_series(&pc, "s", &o), 0);
    assert_string_equal(last, "[\"s\", {\"xlog\": true, \"utc\": true}]");
    o = (ipp_plot_opts_t){.x = (ipp_plot_x_t)7};
    assert_int_equal(ipp_plotclient_plot_series(&pc, "s", &o), IPM_EINVALID);
    /* no options: what the Python client sends */
    ipp_save_opts_t none = {0};
    assert_int_equal(ipp_plotclient_save_series_opts(&pc, "s", NULL, &none), 0);
    assert_string_equal(last, "[\"s\", null]");
    assert_int_equal(ipp_plotclient_save_series_opts(&pc, "s", NULL, NULL), 0);
    assert_string_equal(last, "[\"s\", null]");
    /* too small a buffer: an error, nothing sent */
    char tiny[16];
    strcpy(last, "untouched");
    ipp_save_opts_t so = {.excel = true};
    assert_int_equal(ipp_plotclient_init(&pc, NULL, 0, tiny, sizeof tiny, capture, last), 0);
    assert_int_equal(ipp_plotclient_save_series_opts(&pc, "s", NULL, &so), IPM_ENOSPACE);
    assert_string_equal(last, "untouched");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_through_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
