/*
 * bench_ingest.c - rows per second the plot server stores, and that none is lost.
 *
 *   bench_plot_ingest [DEVICES [ROWS]]        defaults: 100 devices, 2000 rows each
 *
 * (1) through the network: DEVICES threads, each a device with our MQTT client and plot
 *     client publishing ROWS rows at QoS 1 to our broker, with the plot server attached
 *     in-process (`iotplot serve`); timed from the first row to the last row committed.
 * (2) the server alone: the same rows handed to ipp_server_handle() from one thread.
 * Both then count the rows in the store: every series must have all ROWS rows.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "iotplot/client.h"
#include "iotplot/plotclient.h"
#include "iotplot/transport.h"
#include "plot/plot_internal.h"
#include "plot/serve.h"

typedef struct {
    int index, rows;
    uint16_t port;
    pthread_barrier_t *start;
    int rc;
} device_t;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One device: static-sized buffers as on a board, QoS 1, every row acknowledged. */
static void *device_main(void *arg)
{
    device_t *d = arg;
    static _Thread_local uint8_t rx[4096], tx[4096], store[65536], subs[256];
    static _Thread_local uint16_t q2[8];
    static _Thread_local char json[256];
    char id[32], name[32];
    ipm_client_mem_t mem = {rx, sizeof rx, tx, sizeof tx, store, sizeof store, subs,
                            sizeof subs, q2, 8, NULL, 0};
    ipm_tcp_t tcp;
    ipm_client_config_t cfg = ipm_client_config_default();
    ipm_transport_t tr;
    ipm_client_t c;
    ipp_plotclient_t pc;
    ipm_tcp_init(&tcp, &tr);
    ipm_net_platform(&cfg.platform);
    snprintf(id, sizeof id, "bench-device-%d", d->index);
    snprintf(name, sizeof name, "dev%d", d->index);
    cfg.host = "127.0.0.1";
    cfg.port = d->port;
    cfg.client_id = id;
    cfg.transport = &tr;
    d->rc = ipm_client_init(&c, &cfg, &mem);
    if (d->rc == 0)
        d->rc = ipm_client_connect(&c);
    if (d->rc == 0)
        d->rc = ipp_plotclient_init(&pc, "bench", 1, json, sizeof json,
                                    ipp_plotclient_ipm_publish, &c);
    if (d->rc == 0)
        d->rc = ipp_plot_new_series(&pc, name, "i", "t", "v");
    pthread_barrier_wait(d->start);
    for (int i = 0; d->rc == 0 && i < d->rows; i++)
        d->rc = ipp_plot_data(&pc, name, i, i * 0.001, d->index + i * 1e-6);
    if (d->rc == 0)
        d->rc = ipm_client_flush(&c, 60000);
    if (ipm_client_connected(&c))
        ipm_client_disconnect(&c, 0);
    return NULL;
}

/* Rows of every device series in the store; -1 if any series misses rows. */
static long count_rows(const char *dir, int devices, int rows)
{
    char path[512], err[256], name[32];
    ipp_store_t *st;
    ipp_series_info_t info;
    long total = 0;
    snprintf(path, sizeof path, "%s/%s", dir, IPP_DB_NAME);
    if (ipp__store_open(path, true, &st, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    for (int i = 0; i < devices; i++) {
        snprintf(name, sizeof name, "dev%d", i);
        if (ipp__store_find(st, "bench", name, 0, &info) || info.nrows != rows) {
            fprintf(stderr, "series %s: %lld rows, want %d\n", name,
                    (long long)(ipp__store_find(st, "bench", name, 0, &info) ? -1 : info.nrows),
                    rows);
            total = -1;
            break;
        }
        total += (long)info.nrows;
    }
    ipp__store_close(st);
    return total;
}

static void quiet(void *arg, const char *line)
{
    (void)arg;
    if (!strstr(line, "new series"))
        fprintf(stderr, "%s\n", line);
}

static int through_broker(int devices, int rows)
{
    char dir[] = "/tmp/iotplot-bench-XXXXXX", err[256], cmd[300];
    ipp_serve_t *s;
    if (!mkdtemp(dir))
        return 1;
    ipp_serve_config_t cfg = {.dir = dir, .address = "127.0.0.1", .quiet_broker = true,
                              .log = quiet};
    if (ipp_serve_start(&cfg, &s, err, sizeof err)) {
        fprintf(stderr, "serve: %s\n", err);
        return 1;
    }
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)devices + 1);
    device_t *d = calloc((size_t)devices, sizeof *d);
    pthread_t *t = calloc((size_t)devices, sizeof *t);
    for (int i = 0; i < devices; i++) {
        d[i] = (device_t){.index = i, .rows = rows, .port = ipp_serve_port(s), .start = &start};
        pthread_create(&t[i], NULL, device_main, &d[i]);
    }
    pthread_barrier_wait(&start);
    double t0 = now();
    int failed = 0;
    for (int i = 0; i < devices; i++) {
        pthread_join(t[i], NULL);
        if (d[i].rc) {
            fprintf(stderr, "device %d: %s\n", i, ipm_strerror(d[i].rc));
            failed++;
        }
    }
    ipp_server_sync(ipp_serve_plot(s), -1);
    double dt = now() - t0;
    ipp_serve_stop(s, NULL);
    long stored = count_rows(dir, devices, rows);
    printf("broker+plot server: %d devices x %d rows at QoS 1: %ld stored in %.3f s = %.0f "
           "rows/s, lost %ld\n",
           devices, rows, stored, dt, stored > 0 ? stored / dt : 0.0,
           stored >= 0 ? (long)devices * rows - stored : -1);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {
    }
    free(d);
    free(t);
    pthread_barrier_destroy(&start);
    return failed || stored != (long)devices * rows;
}

static int server_alone(int devices, int rows)
{
    char dir[] = "/tmp/iotplot-bench-XXXXXX", err[256], cmd[300], topic[] = "bench/data";
    char msg[128];
    ipp_server_t *s;
    if (!mkdtemp(dir))
        return 1;
    ipp_server_config_t cfg = {.dir = dir, .log = quiet};
    if (ipp_server_create(&cfg, &s, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    for (int i = 0; i < devices; i++) {
        int n = snprintf(msg, sizeof msg, "[\"dev%d\", \"i\", \"t\", \"v\"]", i);
        ipp_server_handle(s, "bench/new_series", 16, (uint8_t *)msg, (size_t)n);
    }
    double t0 = now();
    for (int r = 0; r < rows; r++) {
        for (int i = 0; i < devices; i++) {
            int n = snprintf(msg, sizeof msg, "[\"dev%d\", %d, %.17g, %.17g]", i, r,
                             r * 0.001, i + r * 1e-6);
            ipp_server_handle(s, topic, sizeof topic - 1, (uint8_t *)msg, (size_t)n);
        }
    }
    ipp_server_sync(s, -1);
    double dt = now() - t0;
    ipp_server_destroy(s);
    long stored = count_rows(dir, devices, rows);
    printf("plot server alone:  %d series x %d rows: %ld stored in %.3f s = %.0f rows/s\n",
           devices, rows, stored, dt, stored > 0 ? stored / dt : 0.0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {
    }
    return stored != (long)devices * rows;
}

int main(int argc, char **argv)
{
    int devices = argc > 1 ? atoi(argv[1]) : 100;
    int rows = argc > 2 ? atoi(argv[2]) : 2000;
    if (devices <= 0 || rows <= 0) {
        fprintf(stderr, "usage: bench_plot_ingest [DEVICES [ROWS]]\n");
        return 2;
    }
    int rc = through_broker(devices, rows);
    rc |= server_alone(devices, rows);
    return rc;
}
