/*
 * metrics.c - GET /metrics: one row per Prometheus metric, its value read through the
 * $SYS table's row (sys.c), so a dashboard and a `$SYS/#` subscriber never disagree.
 * Names in the mosquitto and EMQX exporters' conventions (snake case, a unit suffix,
 * counters ending in _total), prefixed iotplot_broker_.
 */
#include <assert.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "core.h"
#include "hist.h"
#include "metrics.h"
#include "store.h"
#include "sys.h"

#define PREFIX "iotplot_broker_"

/* Counters get their _total here, so none can miss it. */
#define GAUGE(n, s, h) {.name = n, .type = "gauge", .sys = s, .help = h}
#define COUNTER(n, s, h) {.name = n "_total", .type = "counter", .sys = s, .help = h}
/* The doc's list of a label's values, from their table. */
#define DOC_LABEL(e, label, doc) " `" label "`"

static void dropped(ipb_broker_t *b, const ipb__metric_t *m, ipb__mout_t *o);
static void store_bytes(ipb_broker_t *b, const ipb__metric_t *m, ipb__mout_t *o);
static void store_commit(ipb_broker_t *b, const ipb__metric_t *m, ipb__mout_t *o);

const ipb__metric_t ipb__metrics[] = {
    GAUGE("connections", "clients/connected", "MQTT clients connected now."),
    GAUGE("connections_maximum", "clients/maximum",
          "The most MQTT clients connected at once since the broker started."),
    GAUGE("sessions", "clients/total", "Sessions kept, online or offline."),
    GAUGE("sessions_offline", "clients/disconnected", "Sessions kept without a connection."),
    GAUGE("subscriptions", "subscriptions/count", "Subscriptions of all sessions."),
    GAUGE("retained_messages", "retained messages/count", "Retained topics."),
    GAUGE("stored_messages", "store/messages/count",
          "Retained messages and deliveries queued or in flight."),
    COUNTER("messages_received", "messages/received", "MQTT packets received, of every type."),
    COUNTER("messages_sent", "messages/sent", "MQTT packets sent, of every type."),
    COUNTER("bytes_received", "bytes/received", "Bytes of MQTT packets received."),
    COUNTER("bytes_sent", "bytes/sent", "Bytes sent to MQTT clients."),
    COUNTER("publish_messages_received", "publish/messages/received",
            "PUBLISH packets received."),
    COUNTER("publish_messages_sent", "publish/messages/sent", "PUBLISH packets sent."),
    COUNTER("publish_messages_dropped", "publish/messages/dropped",
            "Publishes refused on arrival and deliveries dropped (a full queue, too many "
            "unsent bytes, a packet larger than the receiver takes)."),
    GAUGE("uptime_seconds", "uptime", "Seconds since the broker started."),
    {.name = "login_failures_total", .type = "counter",
     .field = offsetof(ipb_stats_t, login_failures),
     .help = "Logins refused, over MQTT and HTTP: a wrong password, an unknown user, a "
             "lockout after failed logins, an auth hook's refusal."},
    {.name = "messages_dropped_total", .type = "counter", .write = dropped,
     .labels = "`reason`:" IPB_DROP_MAP(DOC_LABEL),
     .help = "Messages dropped, by reason: refused on arrival, or a delivery that never "
             "left (queue_full and outgoing_bytes are the queues'). All but expired also "
             "count in publish_messages_dropped_total."},
    {.name = "store_file_bytes", .type = "gauge", .write = store_bytes,
     .help = "Bytes of the persistence file and its write-ahead log (persistence true)."},
    {.name = "store_commit_seconds", .type = "histogram", .write = store_commit,
     .labels = "`le`: 0.0005 to 10 seconds",
     .help = "Group commits of the persistence file, from handing the batch to the worker "
             "thread to its end: what a QoS 1/2 acknowledgement waits for (persistence true)."},
};

const size_t ipb__metrics_len = sizeof ipb__metrics / sizeof ipb__metrics[0];

static uint64_t stat_at(const ipb_broker_t *b, size_t field)
{
    uint64_t v;
    memcpy(&v, (const char *)&b->st + field, sizeof v);
    return v;
}

/* The value of the $SYS row named topic; every row of ipb__metrics names a numeric one. */
static uint64_t sys_value(ipb_broker_t *b, const char *topic, uint64_t now)
{
    for (size_t i = 0; i < ipb__sys_topics_len; i++) {
        const ipb__sys_topic_t *t = &ipb__sys_topics[i];
        if (strcmp(t->topic, topic))
            continue;
        uint64_t v = 0;
        if (t->kind == IPB__SYS_FIELD)
            v = stat_at(b, t->field);
        else if (t->kind == IPB__SYS_FN)
            v = t->fn(b, now);
        else
            assert(!"a metric names a $SYS row that is no number");
        return v;
    }
    assert(!"a metric names no $SYS row");
    return 0;
}

struct ipb__mout {
    char *buf;
    size_t len, used; /* used may pass len: the length the whole text needs */
};
typedef ipb__mout_t out_t;

static void put(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = o->used < o->len ? o->len - o->used : 0;
    int n = vsnprintf(room ? o->buf + o->used : NULL, room, fmt, ap);
    va_end(ap);
    assert(n >= 0);
    o->used += (size_t)n;
}

static void header(out_t *o, const ipb__metric_t *m)
{
    put(o, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX "%s %s\n", m->name, m->help, m->name,
        m->type);
}

static void dropped(ipb_broker_t *b, const ipb__metric_t *m, out_t *o)
{
    static const char *const labels[IPB_DROP_N] = {
#define LABEL(e, label, doc) label,
        IPB_DROP_MAP(LABEL)
#undef LABEL
    };
    header(o, m);
    for (unsigned r = 0; r < IPB_DROP_N; r++)
        put(o, PREFIX "%s{reason=\"%s\"} %llu\n", m->name, labels[r],
            (unsigned long long)b->st.dropped[r]);
}

static void store_bytes(ipb_broker_t *b, const ipb__metric_t *m, out_t *o)
{
    int64_t n = ipb__store_file_bytes(b);
    if (n < 0)
        return;
    header(o, m);
    put(o, PREFIX "%s %lld\n", m->name, (long long)n);
}

/* Everything after the name: put() appends in place, and a histogram has its own writer. */
static void put_histogram(out_t *o, const char *name, const char *help, const double *bounds,
                          const uint64_t *counts, unsigned n, uint64_t count, double sum)
{
    put(o, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cum = 0;
    for (unsigned i = 0; i < n; i++) {
        cum += counts[i];
        put(o, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i], (unsigned long long)cum);
    }
    put(o, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.9g\n%s_count %llu\n", name,
        (unsigned long long)count, name, sum, name, (unsigned long long)count);
}

static void store_commit(ipb_broker_t *b, const ipb__metric_t *m, out_t *o)
{
    if (!b->persist)
        return;
    const ipb__hist_t *h = &b->store_commit;
    put_histogram(o, PREFIX "store_commit_seconds", m->help, ipb__hist_bounds, h->counts,
                  IPB__HIST_N, h->count, (double)h->sum_ns / 1e9);
}

size_t ipb_metrics_histogram(char *buf, size_t len, const char *name, const char *help,
                             const double *bounds, const uint64_t *counts, unsigned n,
                             uint64_t count, double sum)
{
    out_t o = {buf, len, 0};
    if (len)
        buf[0] = '\0';
    put_histogram(&o, name, help, bounds, counts, n, count, sum);
    return o.used;
}

size_t ipb__metrics_text(ipb_broker_t *b, char *buf, size_t len)
{
    out_t o = {buf, len, 0};
    uint64_t now = ipb__now(b);
    if (len)
        buf[0] = '\0';
    for (size_t i = 0; i < ipb__metrics_len; i++) {
        const ipb__metric_t *m = &ipb__metrics[i];
        if (m->write) {
            m->write(b, m, &o);
            continue;
        }
        put(&o, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX "%s %s\n" PREFIX "%s %llu\n",
            m->name, m->help, m->name, m->type, m->name,
            (unsigned long long)(m->sys ? sys_value(b, m->sys, now) : stat_at(b, m->field)));
    }
    if (b->metrics_extra) {
        size_t room = o.used < o.len ? o.len - o.used : 0;
        o.used += b->metrics_extra(b->metrics_extra_arg, room ? o.buf + o.used : NULL, room);
    }
    return o.used;
}
