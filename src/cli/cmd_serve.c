/*
 * cmd_serve.c - `iotplot serve`: our broker and the plot server in one process, the
 * zero-configuration way to run the whole system on a laptop.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/serve.h"
#include "commands.h"
#include "service.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: iotplot serve [-p PORT] [-a ADDRESS] [-d DIR] [-s SESSION]... [-c CONF]\n\n"
            "Runs an MQTT broker for the devices and the plot server attached to it.\n"
            "  -p, --port PORT       port devices connect to (default 1883; 0 = any free)\n"
            "  --http-port PORT      web console and MQTT over WebSockets (default 8080)\n"
            "  --no-http             no web console\n"
            "  -a, --address ADDR    listen address (default: every address)\n"
            "  -d, --dir DIR         where series, files and plots go (default ./plots)\n"
            "  -s, --session NAME    serve only this session (repeatable; default all)\n"
            "  -c, --config FILE     broker configuration (mosquitto.conf style)\n"
            "  -q, --quiet           no broker log\n"
            "  --no-announce         not announced over mDNS (devices then need the address)\n");
}

static void on_file(void *arg, const char *session, const char *series, const char *path)
{
    printf("%s/%s  (session %s, series %s)\n", (const char *)arg, path, session, series);
    fflush(stdout);
}

static int parse(int argc, char **argv, ipp_serve_config_t *cfg)
{
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if ((!strcmp(k, "-p") || !strcmp(k, "--port")) && v) {
            char *end;
            long p = strtol(v, &end, 10);
            if (*end || p < 0 || p > 65535) {
                fprintf(stderr, "iotplot serve: bad port '%s'\n", v);
                return 2;
            }
            cfg->port = (uint16_t)p;
        } else if (!strcmp(k, "--http-port") && v) {
            char *end;
            long p = strtol(v, &end, 10);
            if (*end || p < 0 || p > 65535) {
                fprintf(stderr, "iotplot serve: bad port '%s'\n", v);
                return 2;
            }
            cfg->http_port = (uint16_t)p;
        } else if (!strcmp(k, "--no-http")) {
            cfg->http = false;
            continue;
        } else if ((!strcmp(k, "-a") || !strcmp(k, "--address")) && v) {
            cfg->address = v;
        } else if ((!strcmp(k, "-d") || !strcmp(k, "--dir")) && v) {
            cfg->dir = v;
        } else if ((!strcmp(k, "-c") || !strcmp(k, "--config")) && v) {
            cfg->config_file = v;
        } else if ((!strcmp(k, "-s") || !strcmp(k, "--session") || !strcmp(k, "-session")) &&
                   v) {
            if (cfg->nsessions == IPP_SERVE_MAX_SESSIONS || !*v || strchr(v, '#') ||
                (strchr(v, '+') && strcmp(v, "+"))) {
                fprintf(stderr, "iotplot serve: bad or too many sessions ('%s')\n", v);
                return 2;
            }
            cfg->sessions[cfg->nsessions++] = v;
        } else if (!strcmp(k, "--no-announce")) {
            cfg->no_announce = true;
            continue;
        } else if (!strcmp(k, "-q") || !strcmp(k, "--quiet")) {
            cfg->quiet_broker = true;
            continue;
        } else {
            fprintf(stderr, "iotplot serve: unknown or incomplete option '%s'\n\n", k);
            usage(stderr);
            return 2;
        }
        i++;
    }
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    ipp_serve_config_t cfg = {.dir = "plots", .port = 1883, .http = true, .http_port = 8080};
    ipp_serve_t *s;
    char err[512];
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    int rc = parse(argc, argv, &cfg);
    if (rc)
        return rc;
    cfg.on_file = on_file;
    cfg.file_arg = (void *)cfg.dir;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (ipp_serve_start(&cfg, &s, err, sizeof err)) {
        fprintf(stderr, "iotplot serve: %s\n", err);
        return 1;
    }
    fprintf(stderr,
            "iotplot serve: broker on %s:%u, plot server attached (sessions: ",
            cfg.address ? cfg.address : "*", ipp_serve_port(s));
    for (int i = 0; i < cfg.nsessions; i++)
        fprintf(stderr, "%s%s", i ? ", " : "", cfg.sessions[i]);
    fprintf(stderr, "%s)\niotplot serve: plots and saved series go to %s/ (series store %s/%s)\n",
            cfg.nsessions ? "" : "all", cfg.dir, cfg.dir, ipp_server_db_name());
    char host[256];
    if (!cfg.no_announce && gethostname(host, sizeof host) == 0 &&
        (host[strcspn(host, ".")] = 0, host[0])) /* mDNS names the host by its first label */
        fprintf(stderr, "iotplot serve: devices on this network connect to %.200s.local port %u "
                        "(announced over mDNS; iotplot sub -h auto finds it)\n",
                host, ipp_serve_port(s));
    if (ipp_serve_http_port(s))
        fprintf(stderr, "iotplot serve: web console at http://%s:%u/ (MQTT over WebSockets there too)\n",
                cfg.address ? cfg.address : "localhost", ipp_serve_http_port(s));
    service_ready(NULL);
    while (!stop_requested) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "iotplot serve: stopping\n");
    service_stopping();
    ipp_server_stats_t st;
    ipp_serve_stop(s, &st);
    fprintf(stderr,
            "iotplot serve: %llu messages, %llu rows stored, %llu refused, %llu files written\n",
            (unsigned long long)st.messages, (unsigned long long)st.rows,
            (unsigned long long)st.dropped, (unsigned long long)st.files);
    return 0;
}
