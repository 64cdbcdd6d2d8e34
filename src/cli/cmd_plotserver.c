/*
 * cmd_plotserver.c - `iotplot plotserver`: the plot server fed by our MQTT client from
 * any broker, with the options of the Python package's plotserver.
 */
/* realpath() is an XSI interface */
#define _XOPEN_SOURCE 700
#include <signal.h>
#include <stdatomic.h>
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

/*
 * Acknowledged means committed (QoS 1/2): the client acknowledges a message only when the
 * plot server reports its token committed. A token is the connection's number (high 32
 * bits) and the client's sequence number (low 32 bits, what ipm_client_ack() takes).
 * Acknowledgements are cumulative, so once a message of a connection is dropped (queue
 * full) or a commit fails, nothing more of that connection is acknowledged and the main
 * loop reconnects: the broker then sends again everything unacknowledged.
 */
typedef struct {
    ipp_server_t *srv;
    _Atomic(ipm_client_t *) client; /* set on the first CONNACK, read by the ingest thread */
    uint32_t conn;                   /* connections so far (loop thread) */
    atomic_uint_fast32_t blocked;    /* a connection acknowledging nothing more, or 0 */
    atomic_bool reconnect;           /* the main loop is to reconnect */
    bool qos2;                       /* subscribed at QoS 2: packet ids are recorded */
} feed_t;

static uint64_t token(const feed_t *f, uint32_t seq)
{
    return (uint64_t)f->conn << 32 | seq;
}

/* Nothing more of connection `conn` is acknowledged; the loop reconnects. Only the
 * latest connection's block matters (an older number acknowledges nothing waiting on a
 * newer connection), so a late report about an older one must not lift it. */
static void block(feed_t *f, uint32_t conn)
{
    uint_fast32_t old = atomic_load(&f->blocked);
    while (old < conn && !atomic_compare_exchange_weak(&f->blocked, &old, conn))
        ;
    atomic_store(&f->reconnect, true);
}

static void on_message(ipm_client_t *c, const ipm_msg_t *m, void *user)
{
    feed_t *f = user;
    (void)c;
    if (!m->seq) { /* QoS 0, or automatic acknowledgement */
        ipp_server_handle(f->srv, (const char *)m->topic.data, m->topic.len, m->payload.data,
                          m->payload.len);
        return;
    }
    if (ipp_server_handle_ack(f->srv, (const char *)m->topic.data, m->topic.len,
                              m->payload.data, m->payload.len, token(f, m->seq),
                              m->qos == 2 ? m->packet_id : 0))
        block(f, f->conn);
}

/* The ingest thread, after a commit. */
static void on_commit(void *arg, uint64_t tok, bool stored)
{
    feed_t *f = arg;
    uint32_t conn = (uint32_t)(tok >> 32);
    if (!stored)
        block(f, conn);
    ipm_client_t *c = atomic_load(&f->client);
    if (c && conn != atomic_load(&f->blocked))
        ipm_client_ack(c, (uint32_t)tok);
}

static void on_event(ipm_client_t *c, const ipm_event_t *ev, void *user)
{
    feed_t *f = user;
    if (ev->type == IPM_EV_DISCONNECTED && !stop_requested && !atomic_load(&f->reconnect))
        fprintf(stderr, "plotserver: connection lost (%s); reconnecting\n",
                ipm_strerror(ev->err));
    if (ev->type == IPM_EV_CONNECTED) {
        f->conn++;
        atomic_store(&f->client, c);
        fprintf(stderr, "plotserver: connected (session present %d)\n", ev->session_present);
        /* A new session: QoS 2 ids recorded for the old one mean nothing now. */
        if (f->qos2 && !ev->session_present && ipp_server_release(f->srv, 0, 0))
            block(f, f->conn);
    }
    if (ev->type == IPM_EV_RELEASED &&
        ipp_server_release(f->srv, ev->packet_id, token(f, ev->seq)))
        block(f, f->conn);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: iotplot plotserver [-b HOST] [-p PORT] [-s SESSION]... [-d DIR] [-q QOS]\n"
            "                          [-u USER -P PASS] [--cafile FILE] ...\n\n"
            "Stores and plots the series that devices send with the iot-plot protocol.\n"
            "  -b, --broker HOST   broker (default localhost; auto: found over mDNS)\n"
            "  -s, --session NAME  session (topic prefix) to serve, repeatable; '+' for all\n"
            "                      (default iot49)\n"
            "  -d, --dir DIR       output folder for files and the series store (default .)\n"
            "  -q QOS              subscription QoS: 0 as the original, 1 or 2 (default 0)\n"
            "  --verbose           print every file written\n"
            "  With -q 1 or 2 the broker keeps the session (clean session off; 5.0: a day\n"
            "  unless -x says otherwise) under a client id derived from the output folder\n"
            "  unless -i gives one: rows sent while the plot server is down are delivered\n"
            "  when it is back, and a row is acknowledged only once it is committed, so a\n"
            "  crash loses none (QoS 2: and applies none twice).\n\n"
            "MQTT options as in `iotplot sub` (-d and -q are the ones above):\n");
    static const char *const own[] = {"-d", "-q", NULL};
    cli_mqtt_usage(out, own);
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
    bool id_given;
    char idbuf[24];
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
    if (a->mq.qos > 2) {
        fprintf(stderr, "iotplot plotserver: -q is 0, 1 or 2\n");
        return 2;
    }
    a->id_given = a->mq.id != NULL;
    return cli_mqtt_check(&a->mq) ? 2 : 0;
}

/*
 * QoS 1/2: a kept session and acknowledgement after commit. The session is found again
 * by its client id, so without -i it is derived from what the store belongs to: the
 * output folder and the sessions served (FNV-1a; 19 characters, within 3.1's 23).
 */
static int keep_session(ps_args_t *a)
{
    a->mq.no_clean = true;
    a->mq.manual_ack = true;
    if (a->mq.version == IPM_PROTO_V5 && a->mq.session_expiry < 0)
        a->mq.session_expiry = 86400;
    if (a->id_given)
        return 0;
    char *dir = realpath(a->dir, NULL);
    if (!dir) {
        fprintf(stderr, "iotplot plotserver: %s: cannot derive a client id; give one with -i\n",
                a->dir);
        return -1;
    }
    uint32_t h = 2166136261u;
    for (const char *p = dir; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    for (int i = 0; i < a->nsessions; i++)
        for (const char *p = a->sessions[i]; ; p++) {
            h = (h ^ (uint8_t)*p) * 16777619u;
            if (!*p)
                break;
        }
    free(dir);
    snprintf(a->idbuf, sizeof a->idbuf, "iotplot-ps-%08x", (unsigned)h);
    a->mq.id = a->idbuf;
    return 0;
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
    static feed_t feed; /* the ingest thread reads it until the server is destroyed */
    ipp_server_config_t cfg = {.dir = a.dir, .on_commit = on_commit, .commit_arg = &feed};
    if (a.verbose) {
        cfg.on_file = on_file;
        cfg.file_arg = (void *)a.dir;
    }
    if (ipp_server_create(&cfg, &srv, err, sizeof err)) {
        fprintf(stderr, "iotplot plotserver: %s\n", err);
        return 1;
    }
    feed.srv = srv;
    feed.qos2 = a.mq.qos == 2;
    if (a.mq.qos > 0 && keep_session(&a))
        goto done;
    a.mq.ev_cb = on_event;
    a.mq.ev_user = &feed;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* the callback is in place before CONNACK: a kept session delivers right after it */
    c = cli_mqtt_connect_cb(&a.mq, true, 0, on_message, &feed);
    if (!c)
        goto done;
    if (subscribe_all(&a, c))
        goto done;
    fprintf(stderr, "plotserver: broker %s:%d, saving to '%s', store %s/%s\n", a.mq.host,
            a.mq.port, a.dir, a.dir, ipp_server_db_name());
    if (a.mq.qos > 0)
        fprintf(stderr, "plotserver: QoS %d, client id '%s', acknowledging after commit\n",
                a.mq.qos, a.mq.id);
    while (!stop_requested) {
        if (atomic_exchange(&feed.reconnect, false)) {
            fprintf(stderr, "plotserver: messages dropped; reconnecting to have them again\n");
            ipm_client_close(c);
            (void)ipm_client_connect(c); /* a failure leaves it to auto reconnect */
            continue;
        }
        int n = ipm_client_wait_msg(c, 200);
        if (n < 0 && !ipm_client_connected(c)) {
            /* auto reconnect reports through events; a hard error here is final */
            cli_mqtt_error(&a.mq, c, "connection", n);
            goto done;
        }
    }
    /* What is committed by now is acknowledged before leaving: fewer repeats next time. */
    if (a.mq.qos > 0 && ipp_server_sync(srv, 5000) == 0)
        for (int i = 0; i < 5 && ipm_client_connected(c); i++)
            (void)ipm_client_wait_msg(c, 10);
    rc = 0;
done:
    if (c && ipm_client_connected(c))
        ipm_client_disconnect(c, 0);
    /* The server goes first: its last commits still acknowledge through the client. */
    ipp_server_destroy(srv); /* stores and writes everything received */
    ipm_client_free(c);
    return rc;
}
