/*
 * serve.c - the broker on a libuv loop in its own thread, with the plot server attached
 * in-process.
 *
 * The broker's API is loop-thread only, so the thread creates, runs and closes it; other
 * threads only wake it with an async handle. The local receiver's callback runs on the
 * loop thread and must not block: the plot server only queues the message. A device's
 * QoS 1/2 row is acknowledged once the plot server has committed it, as `iotplot
 * plotserver` does: the receiver's token goes in with the row and comes back from the
 * ingest thread (on_commit) to ipb_local_ack(), so a serve killed mid-stream loses no
 * acknowledged row. At QoS 2 the plot server also records (client id, packet id) with
 * the row and forgets it on the client's PUBREL before the PUBCOMP goes out
 * (ipb_local_receiver_qos2), so a device's resend after a restart, which the restarted
 * broker no longer recognises, is stored once. With logins on, each user's files go in a
 * folder of their name.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "broker.h"
#include "app/serve.h"

struct ipp_serve {
    ipp_serve_config_t cfg;
    ipp_server_t *plot;
    uv_loop_t loop;
    uv_async_t stop_async;
    ipb_broker_t *broker;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_mutex_t ack_mu; /* rx: the ingest thread acknowledges while the loop runs */
    ipb_local_receiver_t *rx;
    int state; /* 0 starting, 1 running, -1 failed */
    uint16_t port, http_port;
    bool owned;       /* files go in the publisher's folder */
    bool anon_logged; /* loop thread */
    char err[256];
};

/*
 * With authentication on, each user's files go in a folder of the user's name. A
 * message without a user name (an anonymous client where a listener still allows one,
 * a will, a retained message restored from a store) has no folder: writing it in the
 * shared folder would let it replace what users read, so it is dropped.
 */
static bool no_folder(ipp_serve_t *s, const ipb_local_msg_t *m)
{
    if (!s->owned || m->user)
        return false;
    if (!s->anon_logged) {
        char line[640];
        snprintf(line, sizeof line,
                 "plot: topic '%.*s': no user name to file it under (logins are on); "
                 "messages without one are dropped",
                 (int)(m->topic_len < 500 ? m->topic_len : 500), m->topic);
        if (s->cfg.log)
            s->cfg.log(s->cfg.log_arg, line);
        else
            fprintf(stderr, "%s\n", line);
    }
    s->anon_logged = true;
    return true;
}

/*
 * A device's row: its acknowledgement waits for the token (m->token), which comes back
 * through on_commit once the row is committed. Nonzero (the queue is full): the broker
 * disconnects the device without acknowledging, and it sends the row again.
 */
static int on_local(void *arg, const ipb_local_msg_t *m)
{
    ipp_serve_t *s = arg;
    const char *owner = s->owned ? m->user : NULL;
    if (!m->token) {
        if (!no_folder(s, m))
            ipp_server_handle_owned(s->plot, owner, m->topic, m->topic_len, m->payload,
                                    m->payload_len);
        return 0;
    }
    if (no_folder(s, m))
        return ipp_server_skip(s->plot, m->token); /* acknowledged, never stored */
    ipp_qos2_t q2 = {.client = m->client_id, .packet_id = m->packet_id, .dup = m->dup};
    return ipp_server_handle_qos2(s->plot, owner, m->packet_id ? &q2 : NULL, m->topic,
                                  m->topic_len, m->payload, m->payload_len, m->token);
}

/* A device's PUBREL: its PUBCOMP waits until the plot server has forgotten the id. */
static int on_pubrel(void *arg, const char *client_id, uint16_t packet_id, uint64_t token)
{
    ipp_serve_t *s = arg;
    return ipp_server_release_from(s->plot, client_id, packet_id, token);
}

/* The plot server's ingest thread: rows up to token are committed. */
static void on_commit(void *arg, uint64_t token, bool stored)
{
    ipp_serve_t *s = arg;
    if (!stored)
        return;
    pthread_mutex_lock(&s->ack_mu);
    if (s->rx) /* NULL once the broker is closing */
        ipb_local_ack(s->rx, token);
    pthread_mutex_unlock(&s->ack_mu);
}

/* Tokens are acknowledged no more (the broker is closing and frees the receiver). */
static void stop_acks(ipp_serve_t *s)
{
    pthread_mutex_lock(&s->ack_mu);
    s->rx = NULL;
    pthread_mutex_unlock(&s->ack_mu);
}

/* GET /api/... on the broker's thread pool: the store of the output folder, as JSON. */
static int store_api(void *arg, const ipb_api_req_t *r, char **body, size_t *len)
{
    ipp_serve_t *s = arg;
    ipp_query_t q = {.owner = r->user, .session = r->session, .name = r->name,
                     .version = r->version, .since = r->since, .limit = r->limit,
                     .max_bytes = r->max_body};
    int rc = r->route == IPB_API_ROWS ? ipp_query_rows(s->cfg.dir, &q, body, len)
                                      : ipp_query_series(s->cfg.dir, &q, body, len);
    return rc == 0 ? 200 : rc > 0 ? 404 : 500;
}

static void on_broker_closed(void *arg)
{
    ipp_serve_t *s = arg;
    s->broker = NULL;
}

static void on_stop(uv_async_t *a)
{
    ipp_serve_t *s = a->data;
    stop_acks(s);
    if (s->broker)
        ipb_broker_close(s->broker, on_broker_closed, s);
    uv_close((uv_handle_t *)a, NULL);
}

static void set_state(ipp_serve_t *s, int state)
{
    pthread_mutex_lock(&s->mu);
    s->state = state;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* GET /metrics (`http_metrics true`): the plot server's lines after the broker's. */
static size_t plot_metrics(void *arg, char *buf, size_t len)
{
    static const double bounds[IPP_COMMIT_BUCKETS] = IPP_COMMIT_BOUNDS;
    ipp_serve_t *s = arg;
    ipp_server_stats_t st;
    ipp_server_stats(s->plot, &st);
    int n = snprintf(buf, len,
                     "# HELP iotplot_plot_rows_stored_total Data rows the plot server "
                     "committed to its series store.\n"
                     "# TYPE iotplot_plot_rows_stored_total counter\n"
                     "iotplot_plot_rows_stored_total %llu\n",
                     (unsigned long long)st.rows);
    size_t used = n > 0 ? (size_t)n : 0, room = used < len ? len - used : 0;
    return used + ipb_metrics_histogram(room ? buf + used : NULL, room,
                                        "iotplot_plot_commit_seconds",
                                        "Commits of the plot server's series store.", bounds,
                                        st.commit_counts, IPP_COMMIT_BUCKETS, st.commits,
                                        st.commit_seconds);
}

/* Configure and create the broker into s->broker; *console tells whether it serves one. */
static int new_broker(ipp_serve_t *s, ipb_config_t *bc, bool *console)
{
    ipb_config_init(bc);
    /* Zero configuration: devices find the broker over mDNS unless told not to (the
     * flag, or `announce false` in the file). */
    bc->announce = !s->cfg.no_announce;
    if (s->cfg.config_file) {
        int rc = ipb_config_load(bc, s->cfg.config_file, s->err, sizeof s->err);
        if (rc < 0)
            return -1;
    }
    *console = false;
    if (bc->n_listeners == 0) {
        ipb_config_add_listener(bc, s->cfg.port, s->cfg.address);
        /* The console and MQTT over WebSockets on a second listener. */
        if (s->cfg.http && ipb_config_add_listener(bc, s->cfg.http_port, s->cfg.address) == 0)
            bc->listeners[1].websockets = *console = true;
    }
    /* The console links to what the plot server writes: serve the folder under /plots/. */
    if (!bc->plots_dir[0])
        snprintf(bc->plots_dir, sizeof bc->plots_dir, "%s", s->cfg.dir);
    if (s->cfg.no_announce)
        bc->announce = false;
    if (s->cfg.quiet_broker)
        bc->log_dest = IPB_LOG_DEST_NONE;
    int rc = ipb_broker_new(&s->loop, bc, &s->broker);
    if (rc < 0) {
        snprintf(s->err, sizeof s->err, "broker: %s", ipm_strerror(rc));
        return -1;
    }
    return 0;
}

/* Configure, create and start the broker and attach the plot server. */
static int open_broker(ipp_serve_t *s)
{
    /* The configuration's fixed tables (listeners, bridges) make it about 140 KB: heap,
     * not the stack. Only allow_anonymous is needed once the broker has its copy. */
    ipb_config_t *bc = malloc(sizeof *bc);
    if (!bc) {
        snprintf(s->err, sizeof s->err, "broker: %s", ipm_strerror(IPM_ENOMEM));
        return -1;
    }
    bool console;
    int rc = new_broker(s, bc, &console);
    bool anonymous = bc->allow_anonymous;
    free(bc);
    if (rc < 0)
        return -1;
    ipb_broker_set_api(s->broker, store_api, s);
    ipb_broker_set_metrics(s->broker, plot_metrics, s);
    rc = ipb_broker_start(s->broker);
    if (rc < 0) {
        snprintf(s->err, sizeof s->err, "cannot listen on port %u: %s", s->cfg.port,
                 uv_strerror(rc));
        return -1;
    }
    s->port = ipb_broker_port(s->broker, 0);
    s->http_port = console ? ipb_broker_port(s->broker, 1) : 0;
    /* Logins are on when a client without a user name is refused: then a user's files
     * are theirs (and /plots/ serves each user only their own folder). */
    s->owned = !anonymous;
    /* Rows are acknowledged to the devices only once committed (on_commit). */
    ipb_local_receiver_t *rx;
    rc = ipb_local_receiver_new(s->broker, on_local, s, &rx);
    if (rc == 0)
        rc = ipb_local_receiver_qos2(rx, on_pubrel);
    if (rc < 0) {
        snprintf(s->err, sizeof s->err, "broker: %s", ipm_strerror(rc));
        return -1;
    }
    pthread_mutex_lock(&s->ack_mu);
    s->rx = rx;
    pthread_mutex_unlock(&s->ack_mu);
    int n = s->cfg.nsessions ? s->cfg.nsessions : 1;
    for (int i = 0; i < n; i++) {
        char filter[512];
        snprintf(filter, sizeof filter, "%s/+", s->cfg.nsessions ? s->cfg.sessions[i] : "+");
        /* QoS 1: a device's QoS 1 and 2 rows are acknowledged after the commit */
        rc = ipb_local_subscribe_receiver(s->broker, filter, 1, rx);
        if (rc < 0) {
            snprintf(s->err, sizeof s->err, "subscribe %.200s: %s", filter, ipm_strerror(rc));
            return -1;
        }
    }
    return 0;
}

static void *loop_main(void *arg)
{
    ipp_serve_t *s = arg;
    int ok = open_broker(s) == 0 && uv_async_init(&s->loop, &s->stop_async, on_stop) == 0;
    if (!ok) {
        stop_acks(s);
        if (s->broker)
            ipb_broker_close(s->broker, on_broker_closed, s);
        uv_run(&s->loop, UV_RUN_DEFAULT); /* let the broker's handles close */
        set_state(s, -1);
        return NULL;
    }
    s->stop_async.data = s;
    set_state(s, 1);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    return NULL;
}

int ipp_serve_start(const ipp_serve_config_t *cfg, ipp_serve_t **out, char *err,
                    size_t errlen)
{
    ipp_serve_t *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->cfg = *cfg;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_mutex_init(&s->ack_mu, NULL);
    ipp_server_config_t pc = {.dir = cfg->dir, .log = cfg->log, .log_arg = cfg->log_arg,
                              .on_file = cfg->on_file, .file_arg = cfg->file_arg,
                              .on_commit = on_commit, .commit_arg = s};
    if (ipp_server_create(&pc, &s->plot, err, errlen))
        goto fail;
    if (uv_loop_init(&s->loop)) {
        snprintf(err, errlen, "cannot make an event loop");
        goto fail;
    }
    if (pthread_create(&s->thread, NULL, loop_main, s)) {
        snprintf(err, errlen, "cannot start the broker thread");
        uv_loop_close(&s->loop);
        goto fail;
    }
    pthread_mutex_lock(&s->mu);
    while (s->state == 0)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    if (s->state < 0) {
        pthread_join(s->thread, NULL);
        uv_loop_close(&s->loop);
        snprintf(err, errlen, "%s", s->err);
        goto fail;
    }
    *out = s;
    return 0;
fail:
    ipp_server_destroy(s->plot);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->ack_mu);
    free(s);
    return -1;
}

uint16_t ipp_serve_port(const ipp_serve_t *s)
{
    return s->port;
}

uint16_t ipp_serve_http_port(const ipp_serve_t *s)
{
    return s->http_port;
}

ipp_server_t *ipp_serve_plot(ipp_serve_t *s)
{
    return s->plot;
}

void ipp_serve_stop(ipp_serve_t *s, ipp_server_stats_t *final)
{
    if (!s)
        return;
    uv_async_send(&s->stop_async);
    pthread_join(s->thread, NULL);
    uv_loop_close(&s->loop);
    /* after the broker: no callback can still arrive; then write what was received */
    ipp_server_sync(s->plot, -1);
    if (final)
        ipp_server_stats(s->plot, final);
    ipp_server_destroy(s->plot);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->ack_mu);
    free(s);
}
