/*
 * sys.c - $SYS/broker/... topics like mosquitto's, published as retained messages every
 * sys_interval seconds: one row per topic in ipb__sys_topics.
 */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "sys.h"

#ifndef IOTPLOT_VERSION
#define IOTPLOT_VERSION "0"
#endif

#define STAT(m) .field = offsetof(ipb_stats_t, m)

static uint64_t uptime(const ipb_broker_t *b, uint64_t now)
{
    return (now - b->start_ms) / 1000;
}

static uint64_t sessions_offline(const ipb_broker_t *b, uint64_t now)
{
    (void)now;
    return b->nsessions - b->st.clients_connected;
}

static uint64_t sessions(const ipb_broker_t *b, uint64_t now)
{
    (void)now;
    return b->nsessions;
}

static uint64_t stored(const ipb_broker_t *b, uint64_t now)
{
    (void)now;
    return b->st.retained + b->queued_total;
}

const ipb__sys_topic_t ipb__sys_topics[] = {
    {"version", IPB__SYS_TEXT, .text = "iotplot version " IOTPLOT_VERSION,
     .doc = "`iotplot version` and the version"},
    {"uptime", IPB__SYS_FN, .fn = uptime, .unit = "seconds", .doc = "since the broker started"},
    {"clients/connected", IPB__SYS_FIELD, STAT(clients_connected), .doc = "clients connected now"},
    {"clients/active", IPB__SYS_FIELD, STAT(clients_connected), .doc = "the same"},
    {"clients/disconnected", IPB__SYS_FN, .fn = sessions_offline,
     .doc = "sessions kept without a connection"},
    {"clients/inactive", IPB__SYS_FN, .fn = sessions_offline, .doc = "the same"},
    {"clients/total", IPB__SYS_FN, .fn = sessions, .doc = "sessions, online or offline"},
    {"clients/maximum", IPB__SYS_FIELD, STAT(clients_maximum),
     .doc = "the most clients connected at once"},
    {"messages/received", IPB__SYS_FIELD, STAT(msgs_received), .doc = "MQTT packets received, of every type"},
    {"messages/sent", IPB__SYS_FIELD, STAT(msgs_sent), .doc = "MQTT packets sent, of every type"},
    {"bytes/received", IPB__SYS_FIELD, STAT(bytes_received), .doc = "bytes received"},
    {"bytes/sent", IPB__SYS_FIELD, STAT(bytes_sent), .doc = "bytes sent"},
    {"publish/messages/received", IPB__SYS_FIELD, STAT(pub_received),
     .doc = "PUBLISH packets received"},
    {"publish/messages/sent", IPB__SYS_FIELD, STAT(pub_sent), .doc = "PUBLISH packets sent"},
    {"publish/messages/dropped", IPB__SYS_FIELD, STAT(pub_dropped),
     .doc = "publishes refused on arrival, and deliveries dropped: a full queue, unsent "
            "bytes past `max_outgoing_bytes`, a packet larger than the receiver takes"},
    {"subscriptions/count", IPB__SYS_FIELD, STAT(subscriptions), .doc = "subscriptions"},
    {"retained messages/count", IPB__SYS_FIELD, STAT(retained), .doc = "retained topics"},
    {"store/messages/count", IPB__SYS_FN, .fn = stored,
     .doc = "retained messages and deliveries queued or in flight"},
    {"store/commits/failed", IPB__SYS_FIELD, STAT(store_failures),
     .doc = "commits of the persistence file that failed (a full disk): their messages "
            "were refused, never acknowledged"},
    {"load/messages/received", IPB__SYS_LOAD, STAT(msgs_received),
     .doc = "`messages/received` per minute, averaged over 1, 5 and 15 minutes"},
    {"load/messages/sent", IPB__SYS_LOAD, STAT(msgs_sent), .doc = "the same for `messages/sent`"},
    {"load/connections", IPB__SYS_LOAD, STAT(clients_total),
     .doc = "connections accepted per minute"},
    {"load/bytes/received", IPB__SYS_LOAD, STAT(bytes_received),
     .doc = "the same for `bytes/received`"},
    {"load/bytes/sent", IPB__SYS_LOAD, STAT(bytes_sent), .doc = "the same for `bytes/sent`"},
    {"load/publish/received", IPB__SYS_LOAD, STAT(pub_received),
     .doc = "the same for `publish/messages/received`"},
    {"load/publish/sent", IPB__SYS_LOAD, STAT(pub_sent),
     .doc = "the same for `publish/messages/sent`"},
};

const size_t ipb__sys_topics_len = sizeof ipb__sys_topics / sizeof ipb__sys_topics[0];

const char *const ipb__sys_load_spans[3] = {"1min", "5min", "15min"};

static uint64_t stat_of(const ipb_broker_t *b, const ipb__sys_topic_t *t)
{
    uint64_t v;
    memcpy(&v, (const char *)&b->st + t->field, sizeof v);
    return v;
}

static void pub(ipb_broker_t *b, const char *topic, const char *value, int len)
{
    char full[128];
    snprintf(full, sizeof full, "$SYS/broker/%s", topic);
    ipb_local_publish(b, full, (const uint8_t *)value, (size_t)len, 0, true);
}

/* Exponentially weighted per-minute rates over 1, 5 and 15 minutes, as mosquitto's. */
static void update_load(double load[3], uint64_t *last, uint64_t total, double interval_s)
{
    static const double spans[3] = {60, 300, 900};
    double rate = (double)(total - *last) * 60.0 / interval_s;
    *last = total;
    for (int i = 0; i < 3; i++) {
        double k = exp(-interval_s / spans[i]);
        load[i] = load[i] * k + rate * (1 - k);
    }
}

void ipb__sys_tick(ipb_broker_t *b, uint64_t now)
{
    if (!b->cfg.sys_interval || now < b->next_sys)
        return;
    double interval = b->cfg.sys_interval;
    b->next_sys = now + (uint64_t)b->cfg.sys_interval * 1000;
    ipb__sys_t *s = &b->sys;
    /* Every load from the counters as they were at the tick: the publishes below count
     * as messages sent, and must only show in the next tick's rates. */
    size_t li = 0;
    for (size_t i = 0; i < ipb__sys_topics_len; i++)
        if (ipb__sys_topics[i].kind == IPB__SYS_LOAD) {
            assert(li < IPB__SYS_NLOADS);
            update_load(s->load[li], &s->last[li], stat_of(b, &ipb__sys_topics[i]), interval);
            li++;
        }
    li = 0;
    for (size_t i = 0; i < ipb__sys_topics_len; i++) {
        const ipb__sys_topic_t *t = &ipb__sys_topics[i];
        char buf[64], topic[96];
        int n = 0;
        uint64_t v = 0;
        switch (t->kind) {
        case IPB__SYS_TEXT:
            pub(b, t->topic, t->text, (int)strlen(t->text));
            continue;
        case IPB__SYS_LOAD:
            for (int k = 0; k < 3; k++) {
                snprintf(topic, sizeof topic, "%s/%s", t->topic, ipb__sys_load_spans[k]);
                n = snprintf(buf, sizeof buf, "%.2f", s->load[li][k]);
                pub(b, topic, buf, n);
            }
            li++;
            continue;
        case IPB__SYS_FIELD:
            v = stat_of(b, t);
            break;
        case IPB__SYS_FN:
            v = t->fn(b, now);
            break;
        }
        n = snprintf(buf, sizeof buf, "%llu%s%s", (unsigned long long)v, t->unit ? " " : "",
                     t->unit ? t->unit : "");
        pub(b, t->topic, buf, n);
    }
}
