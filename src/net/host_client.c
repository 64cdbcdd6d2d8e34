/*
 * host_client.c - ipm_client_new(): a client with generous heap buffers and the TCP or
 * TLS transport, for host programs that do not want to size every table themselves.
 */
#include <stdio.h>
#include <stdlib.h>

#include "iotplot/net.h"
#include "net_int.h"

/* Virtual sizes: calloc maps them lazily, so an idle client costs little memory. */
#define HOST_RX (16u << 20)
#define HOST_TX (16u << 20)
#define HOST_STORE (16u << 20)
#define HOST_SUBS (64u << 10)
/* Every packet id: an id waits here from our PUBREC to the server's PUBREL, and a server
 * that resumes a session may send thousands of QoS 2 messages before the first PUBREL
 * (mosquitto 2.0 does, for a 3.1.1 session), so a smaller table ends every connection
 * with IPM_EQUOTA, again after each reconnect. */
#define HOST_QOS2 65535u
#define HOST_ALIASES (16u << 10)
#define HOST_ACKS 65535u /* every packet id a server can have in flight to us */

/* Everything in one allocation, freed at once by ipm_client_free(). */
typedef struct {
    ipm_client_t client;
    ipm_transport_t tr;
    bool is_tls;
    ipm_tcp_t tcp;
    ipm_tls_t tls;
    uint16_t qos2[HOST_QOS2];
    ipm_ack_slot_t acks[HOST_ACKS];
    uint8_t bytes[]; /* rx, tx, store, subs, aliases */
} host_client_t;

ipm_client_t *ipm_client_new(const ipm_client_config_t *cfg, const ipm_tls_opts_t *tls,
                              const char **err)
{
    /* Reasons outlive the allocation they describe: keep them in static storage. */
    static char why[sizeof ((ipm_tls_t *)0)->error];
    const char *reason = "out of memory";
    size_t total = (size_t)HOST_RX + HOST_TX + HOST_STORE + HOST_SUBS + HOST_ALIASES;
    host_client_t *h = calloc(1, sizeof *h + total);
    if (!h)
        goto fail;
    h->is_tls = tls != NULL;
    if (tls && ipm_tls_init(&h->tls, tls, &h->tr) != IPM_OK) {
        snprintf(why, sizeof why, "%s", h->tls.error);
        reason = why;
        goto fail;
    }
    if (!tls)
        ipm_tcp_init(&h->tcp, &h->tr);
    uint8_t *b = h->bytes;
    ipm_client_mem_t mem = {
        .rx_buf = b, .rx_cap = HOST_RX,
        .tx_buf = b + HOST_RX, .tx_cap = HOST_TX,
        .store = b + HOST_RX + HOST_TX, .store_cap = HOST_STORE,
        .subs = b + HOST_RX + HOST_TX + HOST_STORE, .subs_cap = HOST_SUBS,
        .qos2_ids = h->qos2, .qos2_cap = HOST_QOS2,
        .aliases = b + HOST_RX + HOST_TX + HOST_STORE + HOST_SUBS, .aliases_cap = HOST_ALIASES,
        .acks = h->acks, .acks_cap = HOST_ACKS,
    };
    ipm_client_config_t c = *cfg;
    c.transport = &h->tr;
    ipm_net_platform(&c.platform);
    if (ipm_client_init(&h->client, &c, &mem) != IPM_OK) {
        reason = "invalid client configuration";
        goto fail;
    }
    h->client.host_alloc = h;
    return &h->client;
fail:
    if (h && h->is_tls)
        ipm_tls_free(&h->tls);
    free(h);
    if (err)
        *err = reason;
    return NULL;
}

void ipm_client_free(ipm_client_t *c)
{
    if (!c)
        return;
    host_client_t *h = c->host_alloc;
    ipm_client_close(c);
    if (!h)
        return;
    if (h->is_tls)
        ipm_tls_free(&h->tls);
    free(h);
}

const char *ipm_client_tls_error(const ipm_client_t *c)
{
    const host_client_t *h = c->host_alloc;
    return h && h->is_tls ? ipm_tls_error(&h->tls) : "";
}
