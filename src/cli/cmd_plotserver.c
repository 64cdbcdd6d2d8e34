/*
 * cmd_plotserver.c - `iotplot plotserver`: the plot server fed by our MQTT client from
 * any broker, with the options of the Python package's plotserver.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "iotplot/net.h"
#include "mqtt_opts.h"
#include "iotplot/plotserver.h"

#define MAX_SESSIONS 32

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void on_message(ipm_client_t *c, const ipm_msg_t *m, void *user)
{
    (void)c;
    ipp_server_handle(user, (const char *)m->topic.data, m->topic.len, m->payload.data,
                      m->payload.len);
}

static void on_event(ipm_client_t *c, const ipm_event_t *ev, void *user)
{
    (void)c;
    (void)user;
    if (ev->type == IPM_EV_DISCONNECTED && !stop_requested)
        fprintf(stderr, "plotserver: connection lost (%s); reconnecting\n",
                ipm_strerror(ev->err));
    else if (ev->type == IPM_EV_CONNECTED)
        fprintf(stderr, "plotserver: connected\n");
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: iotplot plotserver [-b HOST] [-p PORT] [-s SESSION]... [-d DIR] [-q QOS]\n"
            "                          [-u USER -P PASS] [--cafile FILE] ...\n\n"
            "Stores and plots the series that devices send with the iot-plot protocol.\n"
            "  -b, --broker HOST   broker (default localhost)\n"
            "  -s, -session NAME   session (topic prefix) to serve, repeatable; '+' for all\n"
            "                      (default iot49)\n"
            "  -d, --dir DIR       output folder for files and the series store (default .)\n"
            "  -q QOS              subscription QoS, 0 as the original or 1 (default 0)\n"
            "  --verbose           print every file written\n"
            "  With -q 1 -c -i ID the broker keeps the session: rows sent while the plot\n"
            "  server is down are delivered when it is back.\n\n"
            "MQTT options as in `iotplot sub`:\n");
    cli_mqtt_usage(out);
}

static void on_file(void *arg, const char *session, const char *series, const char *path)
{
    const char *dir = arg;
    printf("%s/%s\n", dir, path);
    fflush(stdout);
    (void)session;
    (void)series;
}

typedef struct {
    cli_mqtt_opts_t mq;
    const char *sessions[MAX_SESSIONS];
    int nsessions;
    const char *dir;
    bool verbose;
} ps_args_t;

static int parse(int argc, char **argv, ps_args_t *a)
{
    cli_mqtt_defaults(&a->mq, "iotplot plotserver");
    a->dir = ".";
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        bool more = i + 1 < argc;
        if ((!strcmp(k, "-b") || !strcmp(k, "--broker")) && more) {
            a->mq.host = argv[++i];
        } else if ((!strcmp(k, "-s") || !strcmp(k, "-session") || !strcmp(k, "--session")) &&
                   more) {
            if (a->nsessions == MAX_SESSIONS) {
                fprintf(stderr, "iotplot plotserver: at most %d sessions\n", MAX_SESSIONS);
                return 2;
            }
            a->sessions[a->nsessions++] = argv[++i];
        } else if ((!strcmp(k, "-d") || !strcmp(k, "--dir")) && more) {
            a->dir = argv[++i];
        } else if (!strcmp(k, "--verbose") || !strcmp(k, "-v")) {
            a->verbose = true;
        } else {
            int rc = cli_mqtt_option(&a->mq, argc, argv, &i);
            if (rc < 0)
                return 2;
            if (rc == 0) {
                fprintf(stderr, "iotplot plotserver: unknown option '%s'\n\n", k);
                usage(stderr);
                return 2;
            }
        }
    }
    if (!a->nsessions)
        a->sessions[a->nsessions++] = "iot49";
    if (a->mq.qos > 1) {
        fprintf(stderr, "iotplot plotserver: -q is 0 or 1\n");
        return 2;
    }
    return cli_mqtt_check(&a->mq) ? 2 : 0;
}

static int subscribe_all(ps_args_t *a, ipm_client_t *c)
{
    for (int i = 0; i < a->nsessions; i++) {
        char filter[512];
        const char *s = a->sessions[i];
        if (!*s || strchr(s, '#') || (strchr(s, '+') && strcmp(s, "+"))) {
            fprintf(stderr, "iotplot plotserver: bad session '%s'\n", s);
            return -1;
        }
        snprintf(filter, sizeof filter, "%s/+", s);
        int rc = ipm_client_subscribe(c, filter, (uint8_t)a->mq.qos);
        if (rc < 0) {
            cli_mqtt_error(&a->mq, c, "subscribe", rc);
            return -1;
        }
        fprintf(stderr, "plotserver: serving session '%s' (topic %s)\n", s, filter);
    }
    return 0;
}

int cmd_plotserver(int argc, char **argv)
{
    ps_args_t a = {0};
    ipp_server_t *srv = NULL;
    ipm_client_t *c = NULL;
    char err[512];
    int rc = 1;
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    if ((rc = parse(argc, argv, &a)))
        return rc;
    rc = 1;
    ipp_server_config_t cfg = {.dir = a.dir};
    if (a.verbose) {
        cfg.on_file = on_file;
        cfg.file_arg = (void *)a.dir;
    }
    if (ipp_server_create(&cfg, &srv, err, sizeof err)) {
        fprintf(stderr, "iotplot plotserver: %s\n", err);
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* the callback is in place before CONNACK: a kept session delivers right after it */
    c = cli_mqtt_connect_cb(&a.mq, true, 0, on_message, srv);
    if (!c)
        goto done;
    ipm_client_set_event_cb(c, on_event, NULL);
    if (subscribe_all(&a, c))
        goto done;
    fprintf(stderr, "plotserver: broker %s:%d, saving to '%s', store %s/%s\n", a.mq.host,
            a.mq.port, a.dir, a.dir, ipp_server_db_name());
    while (!stop_requested) {
        int n = ipm_client_wait_msg(c, 200);
        if (n < 0 && !ipm_client_connected(c)) {
            /* auto reconnect reports through events; a hard error here is final */
            cli_mqtt_error(&a.mq, c, "connection", n);
            goto done;
        }
    }
    rc = 0;
done:
    if (c) {
        if (ipm_client_connected(c))
            ipm_client_disconnect(c, 0);
        ipm_client_free(c);
    }
    ipp_server_destroy(srv); /* stores and writes everything received */
    return rc;
}
