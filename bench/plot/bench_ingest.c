/*
 * bench_ingest.c - rows per second the plot server stores, and that none is lost.
 *
 *   bench_plot_ingest [DEVICES [ROWS [THREADS [WINDOW]]]]   defaults: 100 devices,
 *                         2000 rows, one thread per device, 20 rows in flight per device
 *
 * (1) through the network: DEVICES devices, each with our MQTT client and plot client
 *     and its own connection, publishing ROWS rows at QoS 1 to our broker, with the plot
 *     server attached in-process (`iotplot serve`); timed from the first row to the last
 *     row committed. serve acknowledges a row only once it is committed, so a device has
 *     at most WINDOW rows (its max_inflight; 20 is our client's default, and paho's)
 *     waiting for a commit, and once every device has all its acknowledgements every row
 *     must be counted as stored (checked). The devices run on THREADS threads: on a
 *     two-core machine a hundred device threads mostly measure the scheduler, while real
 *     devices bring their own CPUs, so fewer threads each driving several devices in
 *     turns show the host's share.
 * (2) the server alone: the same rows handed to ipp_server_handle() from one thread.
 * Both then count the rows in the store: every series must have all ROWS rows.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/serve.h"
#include "iotplot/net.h"
#include "iotplot/plotclient.h"
#include "iotplot/plotserver.h"

/* One device: its own static-sized buffers, as on a board; QoS 1, every row acknowledged. */
typedef struct {
    int index;
    char id[32], name[32];
    uint8_t rx[4096], tx[4096], store[65536], subs[256];
    uint16_t q2[8];
    char json[256];
    ipm_tcp_t tcp;
    ipm_transport_t tr;
    ipm_client_t c;
    ipp_plotclient_t pc;
    int rc;
} device_t;

/* A thread driving devices[first .. first + count) in turns, a row each per turn. */
typedef struct {
    device_t *dev;
    int count, rows;
    uint16_t port, window;
    pthread_barrier_t *start;
} group_t;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int device_open(device_t *d, uint16_t port, uint16_t window)
{
    ipm_client_config_t cfg = ipm_client_config_default();
    ipm_client_mem_t mem = {d->rx, sizeof d->rx, d->tx, sizeof d->tx, d->store,
                            sizeof d->store, d->subs, sizeof d->subs, d->q2, 8, NULL, 0, NULL, 0};
    ipm_tcp_init(&d->tcp, &d->tr);
    ipm_net_platform(&cfg.platform);
    snprintf(d->id, sizeof d->id, "bench-device-%d", d->index);
    snprintf(d->name, sizeof d->name, "dev%d", d->index);
    cfg.host = "127.0.0.1";
    cfg.port = port;
    cfg.client_id = d->id;
    cfg.max_inflight = window;
    cfg.transport = &d->tr;
    int rc = ipm_client_init(&d->c, &cfg, &mem);
    if (rc == 0)
        rc = ipm_client_connect(&d->c);
    if (rc == 0)
        rc = ipp_plotclient_init(&d->pc, "bench", 1, d->json, sizeof d->json,
                                 ipp_plotclient_ipm_publish, &d->c);
    if (rc == 0)
        rc = ipp_plot_new_series(&d->pc, d->name, "i", "t", "v");
    return rc;
}

static void *group_main(void *arg)
{
    group_t *g = arg;
    for (int k = 0; k < g->count; k++)
        g->dev[k].rc = device_open(&g->dev[k], g->port, g->window);
    pthread_barrier_wait(g->start);
    for (int i = 0; i < g->rows; i++)
        for (int k = 0; k < g->count; k++) {
            device_t *d = &g->dev[k];
            if (d->rc == 0)
                d->rc = ipp_plot_data(&d->pc, d->name, i, i * 0.001, d->index + i * 1e-6);
            if (d->rc == 0 && g->count > 1)
                ipm_client_check_msg(&d->c); /* acknowledgements, and room to send */
        }
    for (int k = 0; k < g->count; k++) {
        device_t *d = &g->dev[k];
        if (d->rc == 0)
            d->rc = ipm_client_flush(&d->c, 60000);
        if (ipm_client_connected(&d->c))
            ipm_client_disconnect(&d->c, 0);
    }
    return NULL;
}

/* Rows of every device series in the store; -1 if any series misses rows. */
static long count_rows(const char *dir, int devices, int rows)
{
    char err[256], name[32];
    ipp_store_t *st;
    ipp_series_info_t info;
    long total = 0;
    if (ipp_store_open(dir, &st, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    for (int i = 0; i < devices; i++) {
        snprintf(name, sizeof name, "dev%d", i);
        if (ipp_store_find(st, "bench", name, 0, &info) || info.nrows != rows) {
            fprintf(stderr, "series %s: %lld rows, want %d\n", name,
                    (long long)(ipp_store_find(st, "bench", name, 0, &info) ? -1 : info.nrows),
                    rows);
            total = -1;
            break;
        }
        total += (long)info.nrows;
    }
    ipp_store_close(st);
    return total;
}

static void quiet(void *arg, const char *line)
{
    (void)arg;
    if (!strstr(line, "new series"))
        fprintf(stderr, "%s\n", line);
}

static int through_broker(int devices, int rows, int threads, uint16_t window)
{
    char dir[] = "/tmp/iotplot-bench-XXXXXX", err[256], cmd[300];
    ipp_serve_t *s;
    if (!mkdtemp(dir))
        return 1;
    ipp_serve_config_t cfg = {.dir = dir, .address = "127.0.0.1", .quiet_broker = true,
                              .no_announce = true, .log = quiet};
    if (ipp_serve_start(&cfg, &s, err, sizeof err)) {
        fprintf(stderr, "serve: %s\n", err);
        return 1;
    }
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
    device_t *d = calloc((size_t)devices, sizeof *d);
    group_t *g = calloc((size_t)threads, sizeof *g);
    pthread_t *t = calloc((size_t)threads, sizeof *t);
    for (int i = 0; i < devices; i++)
        d[i].index = i;
    for (int i = 0, first = 0; i < threads; i++) {
        int count = devices / threads + (i < devices % threads);
        g[i] = (group_t){.dev = d + first, .count = count, .rows = rows,
                         .port = ipp_serve_port(s), .window = window, .start = &start};
        first += count;
        pthread_create(&t[i], NULL, group_main, &g[i]);
    }
    pthread_barrier_wait(&start);
    double t0 = now();
    int failed = 0;
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < devices; i++)
        if (d[i].rc) {
            fprintf(stderr, "device %d: %s\n", i, ipm_strerror(d[i].rc));
            failed++;
        }
    /* Every device flushed: each row is acknowledged, so committed already. */
    ipp_server_stats_t st;
    ipp_server_stats(ipp_serve_plot(s), &st);
    double acked_at = now() - t0;
    ipp_server_sync(ipp_serve_plot(s), -1);
    double dt = now() - t0;
    ipp_serve_stop(s, NULL);
    long stored = count_rows(dir, devices, rows);
    printf("broker+plot server: %d devices on %d threads x %d rows at QoS 1, window %u: "
           "%ld stored in %.3f s = %.0f rows/s, lost %ld; %llu committed at the last "
           "acknowledgement (%.3f s)\n",
           devices, threads, rows, window, stored, dt, stored > 0 ? stored / dt : 0.0,
           stored >= 0 ? (long)devices * rows - stored : -1, (unsigned long long)st.rows,
           acked_at);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {
    }
    free(d);
    free(g);
    free(t);
    pthread_barrier_destroy(&start);
    uint64_t want = (uint64_t)devices * (uint64_t)rows;
    if (!failed && st.rows != want)
        fprintf(stderr, "rows were acknowledged before they were committed\n");
    return failed || stored != (long)devices * rows || st.rows != want;
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
    int threads = argc > 3 ? atoi(argv[3]) : devices;
    int window = argc > 4 ? atoi(argv[4]) : 20;
    if (devices <= 0 || rows <= 0 || threads <= 0 || threads > devices || window <= 0 ||
        window > 1000) {
        fprintf(stderr, "usage: bench_plot_ingest [DEVICES [ROWS [THREADS [WINDOW]]]]\n");
        return 2;
    }
    int rc = through_broker(devices, rows, threads, (uint16_t)window);
    rc |= server_alone(devices, rows);
    return rc;
}
