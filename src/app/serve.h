/*
 * serve.h - our broker and the plot server in one process (`iotplot serve`, the demo).
 *
 * The broker runs on its own libuv loop in a thread; the plot server is attached to it
 * in-process with ipb_local_subscribe(), so messages reach it without a socket. The
 * demo device (a C program of the classic iot-plot example) lives here too, since the
 * demo and the tests both run it against a serve instance.
 */
#ifndef IOTPLOT_APP_SERVE_H
#define IOTPLOT_APP_SERVE_H

#include <stdbool.h>
#include <stdint.h>

#include "iotplot/plotserver.h"

typedef struct ipp_serve ipp_serve_t;

#define IPP_SERVE_MAX_SESSIONS 32

typedef struct {
    const char *dir;         /* output folder of the plot server */
    const char *address;     /* listen address; NULL = every address */
    uint16_t port;           /* 0 = ephemeral (see ipp_serve_port) */
    const char *config_file; /* optional mosquitto.conf-style broker configuration */
    bool http;               /* also the web console and MQTT over WebSockets */
    uint16_t http_port;      /* its port (0 = ephemeral, see ipp_serve_http_port) */
    const char *sessions[IPP_SERVE_MAX_SESSIONS]; /* none = every session ("+") */
    int nsessions;
    bool quiet_broker; /* broker log off (the demo) */
    bool no_announce;  /* not announced over mDNS (the broker's `announce`, on by default) */
    ipp_log_fn log;    /* plot server log; NULL = stderr */
    void *log_arg;
    ipp_file_fn on_file;
    void *file_arg;
} ipp_serve_config_t;

/* Start the broker thread and the plot server. 0, or -1 with err. */
int ipp_serve_start(const ipp_serve_config_t *cfg, ipp_serve_t **out, char *err,
                    size_t errlen);
/* The port devices connect to (the first listener). */
uint16_t ipp_serve_port(const ipp_serve_t *s);
/* The port of the web console and MQTT over WebSockets, or 0 without one. */
uint16_t ipp_serve_http_port(const ipp_serve_t *s);
/* The plot server (for ipp_server_sync and stats). */
ipp_server_t *ipp_serve_plot(ipp_serve_t *s);
/* Stop the broker, write everything received, free s. If final is not NULL it gets the
 * plot server's statistics once everything is written. */
void ipp_serve_stop(ipp_serve_t *s, ipp_server_stats_t *final);

/*
 * The classic iot-plot example as a device: connect to host:port with our MQTT client,
 * send series "sinusoid" (time, cos, sin, sin*cos of e^-t damped 2 pi t sinusoids, 200
 * rows), save_series, and plot_series to "<base>.pdf" and "<base>.png". 0, or -1 with err.
 */
int ipp_demo_device(const char *host, uint16_t port, const char *session, uint8_t qos,
                    const char *base, char *err, size_t errlen);

#endif
