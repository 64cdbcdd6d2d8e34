/*
 * plotclient_ipm.c - our MQTT client as the plot client's publisher.
 *
 * Kept apart from plotclient.c so the plot client itself depends on nothing but a
 * function pointer, and a device with another MQTT stack can still use it.
 */
#include "iotplot/client.h"
#include "iotplot/plotclient.h"

/* How long a QoS 1 publish waits for room in the message store, in 1 ms turns: short
 * turns, because wait_msg() returns early only for incoming messages, not for the
 * acknowledgements that free the room. */
#define FULL_RETRIES 10000

int ipp_plotclient_ipm_publish(void *ctx, const char *topic, const uint8_t *payload,
                               size_t len, uint8_t qos)
{
    ipm_client_t *c = ctx;
    for (int i = 0;; i++) {
        int rc = ipm_client_publish(c, topic, payload, len, qos, false);
        if (rc >= 0)
            return 0;
        /* A device sending rows faster than the broker acknowledges them fills the
         * store; waiting for acknowledgements here is what QoS 1 is chosen for. */
        if (rc != IPM_EFULL || i >= FULL_RETRIES)
            return rc;
        rc = ipm_client_wait_msg(c, 1);
        if (rc < 0)
            return rc;
    }
}
