/*
 * device.c - an MQTT client on a microcontroller: all memory static, the network through
 * the module's socket API (modem.h), time from SysTick. Publishes a reading every 10 s at
 * QoS 1 and obeys commands on "dev/cmd/#"; reconnects by itself, queueing up to 16 readings
 * while the network is away.
 *
 * Build (see scripts/size-cortex-m.sh):
 *     arm-none-eabi-gcc -Os -mcpu=cortex-m4 -mthumb -include ports/ipm_port_config.h \
 *         -Iinclude ports/example/device.c src/codec/\*.c src/client/{client,io,store}.c ...
 */
#include <stdio.h>
#include <string.h>

#include "iotplot/client.h"
#include "modem.h"

/* ---- the transport: ipm_transport_t over the modem's sockets ---------------------------- */

static int dev_open(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    int *h = ctx;
    *h = modem_tcp_open(host, port, timeout_ms);
    return *h >= 0 ? IPM_OK : IPM_EIO;
}

static int dev_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    int *h = ctx;
    uint32_t start = modem_millis();
    /* The module may take part of a packet at a time: the client needs all or an error. */
    while (len > 0) {
        uint32_t spent = modem_millis() - start;
        if (spent >= timeout_ms)
            return IPM_ETIMEOUT;
        int n = modem_tcp_write(*h, buf, len, timeout_ms - spent);
        if (n < 0)
            return IPM_ECLOSED;
        buf += n;
        len -= (size_t)n;
    }
    return IPM_OK;
}

static int dev_recv(void *ctx, uint8_t *buf, size_t cap, uint32_t timeout_ms)
{
    int *h = ctx;
    int n = modem_tcp_read(*h, buf, cap, timeout_ms);
    return n < 0 ? IPM_ECLOSED : n;
}

static void dev_close(void *ctx)
{
    int *h = ctx;
    if (*h >= 0)
        modem_tcp_close(*h);
    *h = -1;
}

static uint32_t dev_now(void *ctx)
{
    (void)ctx;
    return modem_millis();
}

/* ---- static memory ------------------------------------------------------------------- */

static int sock = -1;
static const ipm_transport_t transport = {&sock, dev_open, dev_send, dev_recv, dev_close};
static uint8_t rx[512], tx[512], store[1024], subs[128], aliases[128];
static uint16_t qos2[4];
static const ipm_client_mem_t mem = {rx, sizeof rx, tx, sizeof tx, store, sizeof store,
                                     subs, sizeof subs, qos2, 4, aliases, sizeof aliases};
static ipm_client_t client;
static volatile int led;

static volatile uint32_t lost;

static void on_event(ipm_client_t *c, const ipm_event_t *ev, void *user)
{
    (void)c;
    (void)user;
    if (ev->type == IPM_EV_DISCONNECTED)
        lost++;
}

static void on_message(ipm_client_t *c, const ipm_msg_t *m, void *user)
{
    (void)c;
    (void)user;
    if (m->payload.len == 2 && !memcmp(m->payload.data, "on", 2))
        led = 1;
    else if (m->payload.len == 3 && !memcmp(m->payload.data, "off", 3))
        led = 0;
}

int main(void)
{
    ipm_client_config_t cfg = ipm_client_config_default();
    cfg.host = "broker.example.net";
    cfg.client_id = "dev-0001";
    cfg.version = IPM_PROTO_V5;
    cfg.clean_start = false;
    cfg.session_expiry = 3600;
    cfg.will = (ipm_will_t){.topic = "dev/status", .payload = "offline", .len = 7, .retain = true};
    cfg.auto_reconnect = true;
    cfg.outbox_max = 16;
    cfg.transport = &transport;
    cfg.platform.now_ms = dev_now;
    if (ipm_client_init(&client, &cfg, &mem) != IPM_OK)
        return 1;
    ipm_client_set_callback(&client, on_message, NULL);
    ipm_client_set_event_cb(&client, on_event, NULL);
    while (ipm_client_connect(&client) != IPM_OK) {
        uint32_t t = modem_millis();
        while (modem_millis() - t < 5000) {
        }
    }
    ipm_prop_t p;
    if (ipm_props_get(ipm_client_connack_props(&client), IPM_PROP_SERVER_KEEP_ALIVE, &p))
        led = (int)p.num;
    ipm_sub_opts_t so = {.qos = 1, .no_local = true};
    (void)ipm_client_subscribe_ex(&client, "dev/cmd/#", &so);
    (void)ipm_client_publish(&client, "dev/status", "online", 6, 1, true);
    uint32_t last = modem_millis();
    for (int reading = 0;; reading++) {
        (void)ipm_client_wait_msg(&client, 100);
        (void)ipm_client_check_msg(&client);
        if (modem_millis() - last < 10000 || !ipm_client_connected(&client))
            continue;
        last = modem_millis();
        char text[16];
        int n = snprintf(text, sizeof text, "%d", reading);
        ipm_prop_t ct = {.id = IPM_PROP_CONTENT_TYPE, .bin = ipm_str("text/plain")};
        ipm_message_t m = {.topic = "dev/reading", .payload = text, .len = (size_t)n, .qos = 1,
                           .props = &ct, .prop_count = 1};
        (void)ipm_client_publish_ex(&client, &m);
        if (reading == 1000) {
            (void)ipm_client_unsubscribe(&client, "dev/cmd/#");
            (void)ipm_client_flush(&client, 5000);
            if (ipm_client_pending(&client) || ipm_client_reason(&client))
                ipm_client_close(&client);
            (void)ipm_client_disconnect(&client, 0);
            break;
        }
    }
    return (int)ipm_client_dropped(&client) + ipm_client_session_present(&client) + led;
}
