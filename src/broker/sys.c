/*
 * sys.c - $SYS/broker/... topics like mosquitto's, published as retained messages every
 * sys_interval seconds.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "sys.h"

#ifndef IOTPLOT_VERSION
#define IOTPLOT_VERSION "0"
#endif

static void pub(ipb_broker_t *b, const char *topic, unsigned long long v)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%llu", v);
    ipb_local_publish(b, topic, (const uint8_t *)buf, (size_t)n, 0, true);
}

static void pub_load(ipb_broker_t *b, const char *base, const double load[3])
{
    static const char *const names[3] = {"1min", "5min", "15min"};
    char topic[128], buf[32];
    for (int i = 0; i < 3; i++) {
        snprintf(topic, sizeof topic, "$SYS/broker/load/%s/%s", base, names[i]);
        int n = snprintf(buf, sizeof buf, "%.2f", load[i]);
        ipb_local_publish(b, topic, (const uint8_t *)buf, (size_t)n, 0, true);
    }
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
    ipb_stats_t *st = &b->st;
    update_load(b->load_rx, &b->last_rx_total, st->msgs_received, interval);
    update_load(b->load_tx, &b->last_tx_total, st->msgs_sent, interval);
    update_load(b->load_conn, &b->last_conn_total, st->clients_total, interval);
    update_load(b->load_brx, &b->last_brx, st->bytes_received, interval);
    update_load(b->load_btx, &b->last_btx, st->bytes_sent, interval);
    update_load(b->load_prx, &b->last_prx, st->pub_received, interval);
    update_load(b->load_ptx, &b->last_ptx, st->pub_sent, interval);
    ipb_local_publish(b, "$SYS/broker/version", (const uint8_t *)"iotplot version " IOTPLOT_VERSION,
                      strlen("iotplot version " IOTPLOT_VERSION), 0, true);
    char up[48];
    int n = snprintf(up, sizeof up, "%llu seconds", (unsigned long long)(now - b->start_ms) / 1000);
    ipb_local_publish(b, "$SYS/broker/uptime", (const uint8_t *)up, (size_t)n, 0, true);
    pub(b, "$SYS/broker/clients/connected", st->clients_connected);
    pub(b, "$SYS/broker/clients/active", st->clients_connected);
    pub(b, "$SYS/broker/clients/disconnected", b->nsessions - st->clients_connected);
    pub(b, "$SYS/broker/clients/inactive", b->nsessions - st->clients_connected);
    pub(b, "$SYS/broker/clients/total", b->nsessions);
    pub(b, "$SYS/broker/clients/maximum", st->clients_maximum);
    pub(b, "$SYS/broker/messages/received", st->msgs_received);
    pub(b, "$SYS/broker/messages/sent", st->msgs_sent);
    pub(b, "$SYS/broker/bytes/received", st->bytes_received);
    pub(b, "$SYS/broker/bytes/sent", st->bytes_sent);
    pub(b, "$SYS/broker/publish/messages/received", st->pub_received);
    pub(b, "$SYS/broker/publish/messages/sent", st->pub_sent);
    pub(b, "$SYS/broker/publish/messages/dropped", st->pub_dropped);
    pub(b, "$SYS/broker/subscriptions/count", st->subscriptions);
    pub(b, "$SYS/broker/retained messages/count", st->retained);
    pub(b, "$SYS/broker/store/messages/count", st->retained + b->queued_total);
    pub_load(b, "messages/received", b->load_rx);
    pub_load(b, "messages/sent", b->load_tx);
    pub_load(b, "connections", b->load_conn);
    pub_load(b, "bytes/received", b->load_brx);
    pub_load(b, "bytes/sent", b->load_btx);
    pub_load(b, "publish/received", b->load_prx);
    pub_load(b, "publish/sent", b->load_ptx);
}
