/*
 * cmd_broker.c - `iotplot broker [-c file] [-p port] [-v]`: the MQTT broker in the
 * foreground until Ctrl-C or SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "commands.h"
#include "service.h"

typedef struct {
    uv_signal_t sigint, sigterm, sighup;
    ipb_broker_t *b;
    int handles;
} broker_main_t;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: iotplot broker [-c FILE] [-p PORT] [-v]\n\n"
            "  -c FILE  read a mosquitto.conf-style configuration file\n"
            "  -p PORT  listen on PORT (in addition to the file's listeners)\n"
            "  -v       log everything (log_type all)\n\n"
            "Without -c or -p the broker listens on 127.0.0.1:1883 and allows anonymous\n"
            "clients; with -c, anonymous clients need 'allow_anonymous true'.\n"
            "SIGHUP reopens the log file and reloads certificates, keys, password and\n"
            "ACL files.\n");
}

static void on_closed_handle(uv_handle_t *h)
{
    (void)h;
}

static void on_broker_closed(void *arg)
{
    broker_main_t *m = arg;
    uv_close((uv_handle_t *)&m->sigint, on_closed_handle);
    uv_close((uv_handle_t *)&m->sigterm, on_closed_handle);
    uv_close((uv_handle_t *)&m->sighup, on_closed_handle);
}

/* SIGHUP: the log file reopened, certificates, keys, password and ACL files read again;
 * the broker logs the outcome. */
static void on_hangup(uv_signal_t *s, int signum)
{
    broker_main_t *m = s->data;
    char err[512];
    (void)signum;
    service_reloading();
    if (m->b)
        ipb_broker_reload(m->b, err, sizeof err);
}

static void on_signal(uv_signal_t *s, int signum)
{
    broker_main_t *m = s->data;
    (void)signum;
    uv_signal_stop(&m->sigint);
    uv_signal_stop(&m->sigterm);
    uv_signal_stop(&m->sighup);
    if (m->b) {
        ipb_broker_t *b = m->b;
        m->b = NULL;
        ipb_broker_close(b, on_broker_closed, m);
    }
}

static int parse_args(int argc, char **argv, ipb_config_t *cfg)
{
    char err[600];
    bool have_config = false, verbose = false;
    long port = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            verbose = true;
        } else if ((!strcmp(a, "-c") || !strcmp(a, "--config-file")) && i + 1 < argc) {
            if (ipb_config_load(cfg, argv[++i], err, sizeof err) < 0) {
                fprintf(stderr, "iotplot broker: %s\n", err);
                return 1;
            }
            have_config = true;
        } else if ((!strcmp(a, "-p") || !strcmp(a, "--port")) && i + 1 < argc) {
            char *end;
            port = strtol(argv[++i], &end, 10);
            if (*end || port < 0 || port > 65535) {
                fprintf(stderr, "iotplot broker: bad port '%s'\n", argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "iotplot broker: unknown option '%s'\n\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (port >= 0)
        ipb_config_add_listener(cfg, (uint16_t)port, have_config ? NULL : "127.0.0.1");
    if (!cfg->n_listeners)
        ipb_config_add_listener(cfg, 1883, "127.0.0.1");
    if (verbose)
        cfg->log_types = IPB_LOG_ALL;
    return -1;
}

int cmd_broker(int argc, char **argv)
{
    /* About 140 KB of fixed tables (listeners, bridges): on the heap, not the stack, and
     * only until the broker has taken its copy. */
    ipb_config_t *cfg = malloc(sizeof *cfg);
    if (!cfg) {
        fprintf(stderr, "iotplot broker: %s\n", ipm_strerror(IPM_ENOMEM));
        return 1;
    }
    ipb_config_init(cfg);
    int rc = parse_args(argc, argv, cfg);
    if (rc >= 0) {
        free(cfg);
        return rc;
    }
    signal(SIGPIPE, SIG_IGN);
    uv_loop_t *loop = uv_default_loop();
    broker_main_t m = {0};
    rc = ipb_broker_new(loop, cfg, &m.b);
    free(cfg);
    if (rc < 0) {
        fprintf(stderr, "iotplot broker: %s\n", ipm_strerror(rc));
        return 1;
    }
    uv_signal_init(loop, &m.sigint);
    uv_signal_init(loop, &m.sigterm);
    uv_signal_init(loop, &m.sighup);
    m.sigint.data = m.sigterm.data = m.sighup.data = &m;
    uv_signal_start(&m.sigint, on_signal, SIGINT);
    uv_signal_start(&m.sigterm, on_signal, SIGTERM);
    uv_signal_start(&m.sighup, on_hangup, SIGHUP);
    int status = 0;
    if (ipb_broker_start(m.b) < 0) {
        status = 1;
        on_signal(&m.sigint, SIGTERM);
    }
    if (!status)
        service_ready(loop);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    return status;
}
