/*
 * service.c - sd_notify() for `iotplot broker` and `iotplot serve` under systemd.
 *
 * The state is process-wide on purpose: systemd knows one main process per service and
 * NOTIFY_SOCKET is an environment variable of that process, so there is exactly one
 * notifier whatever the command runs.
 *
 * libsystemd (with the gcrypt, lz4, zstd and lzma it links) is loaded by the first
 * service_ready() under systemd (src/dynlib), not linked: other processes never need it.
 */
#include "service.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifdef IOTPLOT_HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>

#include "dynlib/dynlib.h"

#define SD_FUNCS(X) X(sd_notify) X(sd_notifyf) X(sd_watchdog_enabled)
static struct {
    SD_FUNCS(IPD_FIELD)
} sd;
#define SYM(f) IPD_SYM(sd, f)
static const ipd_sym_t sd_syms[] = {SD_FUNCS(SYM)};
static ipd_lib_t libsystemd = IPD_LIB(LIBSYSTEMD_SONAME, LIBSYSTEMD_PACKAGE, sd_syms);

static struct {
    bool active;          /* service_ready() ran under systemd */
    uv_loop_t *loop;      /* NULL: the watchdog is a thread */
    uint64_t interval_ms; /* 0: no watchdog */
    uv_timer_t watchdog, reloaded;
    uv_signal_t sigint, sigterm;
    pthread_t thread;
    bool thread_running, thread_stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} svc = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void on_watchdog(uv_timer_t *t)
{
    (void)t;
    sd.sd_notify(0, "WATCHDOG=1");
}

static void on_reloaded(uv_timer_t *t)
{
    (void)t;
    sd.sd_notify(0, "READY=1");
}

static void on_stop_signal(uv_signal_t *s, int signum)
{
    (void)s;
    (void)signum;
    service_stopping();
}

/* The pings of a command without a loop of its own; stopped by service_stopping(). */
static void *watchdog_thread(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&svc.mu);
    while (!svc.thread_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t ns = (uint64_t)ts.tv_nsec + svc.interval_ms * 1000000u;
        ts.tv_sec += (time_t)(ns / 1000000000u);
        ts.tv_nsec = (long)(ns % 1000000000u);
        pthread_cond_timedwait(&svc.cv, &svc.mu, &ts);
        if (!svc.thread_stop)
            sd.sd_notify(0, "WATCHDOG=1");
    }
    pthread_mutex_unlock(&svc.mu);
    return NULL;
}

static void start_thread(void)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&svc.cv, &ca);
    pthread_condattr_destroy(&ca);
    svc.thread_running = pthread_create(&svc.thread, NULL, watchdog_thread, NULL) == 0;
}

/* Our handles never keep the loop alive: the command's own handles decide when it ends. */
static void start_on_loop(uv_loop_t *loop)
{
    uv_timer_init(loop, &svc.reloaded);
    uv_unref((uv_handle_t *)&svc.reloaded);
    uv_timer_init(loop, &svc.watchdog);
    if (svc.interval_ms)
        uv_timer_start(&svc.watchdog, on_watchdog, svc.interval_ms, svc.interval_ms);
    uv_unref((uv_handle_t *)&svc.watchdog);
    uv_signal_init(loop, &svc.sigint);
    uv_signal_init(loop, &svc.sigterm);
    uv_signal_start(&svc.sigint, on_stop_signal, SIGINT);
    uv_signal_start(&svc.sigterm, on_stop_signal, SIGTERM);
    uv_unref((uv_handle_t *)&svc.sigint);
    uv_unref((uv_handle_t *)&svc.sigterm);
}

void service_ready(uv_loop_t *loop)
{
    if (svc.active || !getenv("NOTIFY_SOCKET"))
        return;
    char err[320];
    if (ipd_load(&libsystemd, err, sizeof err) < 0) {
        fprintf(stderr, "iotplot: cannot tell systemd the service is ready: %s\n", err);
        return;
    }
    svc.active = true;
    svc.loop = loop;
    uint64_t usec = 0;
    if (sd.sd_watchdog_enabled(0, &usec) > 0 && usec >= 2000)
        svc.interval_ms = usec / 2000;
    sd.sd_notify(0, "READY=1");
    if (loop)
        start_on_loop(loop);
    else if (svc.interval_ms)
        start_thread();
}

void service_reloading(void)
{
    if (!svc.active)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    sd.sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
                  (unsigned long long)ts.tv_sec * 1000000u + (unsigned long long)ts.tv_nsec / 1000u);
    if (svc.loop)
        uv_timer_start(&svc.reloaded, on_reloaded, 0, 0);
    else
        sd.sd_notify(0, "READY=1");
}

void service_stopping(void)
{
    if (!svc.active)
        return;
    svc.active = false;
    sd.sd_notify(0, "STOPPING=1");
    if (svc.loop) {
        uv_close((uv_handle_t *)&svc.watchdog, NULL);
        uv_close((uv_handle_t *)&svc.reloaded, NULL);
        uv_close((uv_handle_t *)&svc.sigint, NULL);
        uv_close((uv_handle_t *)&svc.sigterm, NULL);
    } else if (svc.thread_running) {
        pthread_mutex_lock(&svc.mu);
        svc.thread_stop = true;
        pthread_cond_signal(&svc.cv);
        pthread_mutex_unlock(&svc.mu);
        pthread_join(svc.thread, NULL);
        pthread_cond_destroy(&svc.cv);
        svc.thread_running = false;
    }
}

#else /* no libsystemd: nothing to tell */

void service_ready(uv_loop_t *loop)
{
    (void)loop;
}

void service_reloading(void)
{
}

void service_stopping(void)
{
}

#endif
