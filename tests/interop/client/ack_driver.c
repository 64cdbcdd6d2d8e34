/*
 * ack_driver.c - acknowledgement by the application (cfg.manual_ack) against a real
 * broker, with a kept session: a message not acknowledged comes back (DUP) after a
 * reconnect; once acknowledged it does not. At QoS 2 the PUBREL comes back the same way
 * until its release is acknowledged.
 *
 * Usage: ack_driver PORT VERSION QOS (VERSION 4 = 3.1.1, 5 = 5.0). Prints "ok ..." /
 * "FAIL ..." lines and "all passed"; exits non-zero on any failure. Absence of a
 * redelivery is proven by ordering: the broker re-sends what is unacknowledged at once on
 * reconnecting, before a marker published afterwards arrives.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iotplot/net.h"

typedef struct {
    char payload[32][32];
    bool dup[32];
    uint32_t seq[32];
    int n;
    int released;         /* IPM_EV_RELEASED events */
    uint32_t release_seq; /* of the last one */
} inbox_t;

static inbox_t in;

#define CHECK(cond, ...)                                                                    \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            printf("FAIL line %d: %s: ", __LINE__, #cond);                                  \
            printf(__VA_ARGS__);                                                            \
            printf("\n");                                                                   \
            return 1;                                                                       \
        }                                                                                   \
    } while (0)

static void on_msg(ipm_client_t *c, const ipm_msg_t *m, void *user)
{
    (void)c;
    (void)user;
    if (in.n >= 32)
        return;
    snprintf(in.payload[in.n], sizeof in.payload[in.n], "%.*s", (int)m->payload.len,
             (const char *)m->payload.data);
    in.dup[in.n] = m->dup;
    in.seq[in.n] = m->seq;
    in.n++;
}

static void on_event(ipm_client_t *c, const ipm_event_t *ev, void *user)
{
    (void)c;
    (void)user;
    if (ev->type == IPM_EV_RELEASED) {
        in.released++;
        in.release_seq = ev->seq;
    }
}

/* Run the loop until the message with this payload arrives at index >= from; -1 if not. */
static int wait_for(ipm_client_t *c, const char *payload, int from)
{
    for (int turn = 0; turn < 100; turn++) {
        for (int i = from; i < in.n; i++)
            if (!strcmp(in.payload[i], payload))
                return i;
        if (ipm_client_wait_msg(c, 50) < 0)
            return -1;
    }
    return -1;
}

/* Run the loop for ms milliseconds (acknowledgements go out, events come in). */
static void spin(ipm_client_t *c, int ms)
{
    for (int t = 0; t < ms; t += 20)
        (void)ipm_client_wait_msg(c, 20);
}

/* Drop the connection without DISCONNECT, as a crash would, and connect again. */
static int reconnect(ipm_client_t *c)
{
    ipm_client_close(c);
    int rc = ipm_client_connect(c);
    if (rc != IPM_OK)
        return rc;
    return ipm_client_session_present(c) ? IPM_OK : IPM_EPROTOCOL;
}

int main(int argc, char **argv)
{
    if (argc != 4)
        return 2;
    int version = atoi(argv[2]), qos = atoi(argv[3]);
    char id[64], topic[80];
    snprintf(id, sizeof id, "ack-driver-%d-%d-%d", version, qos, (int)getpid());
    snprintf(topic, sizeof topic, "ack/%s", id);
    ipm_client_config_t cfg = ipm_client_config_default();
    cfg.host = "127.0.0.1";
    cfg.port = (uint16_t)atoi(argv[1]);
    cfg.client_id = id; /* new each run: the first connect finds no session */
    cfg.version = version == 5 ? IPM_PROTO_V5 : IPM_PROTO_V311;
    cfg.clean_start = false;
    cfg.session_expiry = 300;
    cfg.manual_ack = true;
    const char *why = NULL;
    ipm_client_t *c = ipm_client_new(&cfg, NULL, &why);
    CHECK(c, "create: %s", why);
    ipm_client_set_callback(c, on_msg, NULL);
    ipm_client_set_event_cb(c, on_event, NULL);
    int rc = ipm_client_connect(c);
    CHECK(rc == IPM_OK, "connect: %s", ipm_strerror(rc));
    CHECK(ipm_client_subscribe(c, topic, (uint8_t)qos) == qos, "subscribe");

    /* 1. Delivered, not acknowledged: back with DUP after the reconnect. */
    CHECK(ipm_client_publish(c, topic, "m1", 2, (uint8_t)qos, false) >= 0, "publish");
    int a = wait_for(c, "m1", 0);
    CHECK(a >= 0 && !in.dup[a] && in.seq[a], "first delivery (index %d)", a);
    CHECK(ipm_client_flush(c, 5000) == IPM_OK, "own publish acknowledged");
    spin(c, 200);
    CHECK((rc = reconnect(c)) == IPM_OK, "reconnect: %s", ipm_strerror(rc));
    int b = wait_for(c, "m1", a + 1);
    CHECK(b > a && in.dup[b], "redelivered with DUP (index %d)", b);
    printf("ok QoS %d unacknowledged message redelivered with DUP\n", qos);

    /* 2. Acknowledged: QoS 1 is done. QoS 2: the PUBREL waits for its own seq. */
    ipm_client_ack(c, in.seq[b]);
    spin(c, 300);
    if (qos == 2) {
        CHECK(in.released == 1, "one release (%d)", in.released);
        CHECK((rc = reconnect(c)) == IPM_OK, "reconnect: %s", ipm_strerror(rc));
        spin(c, 300);
        CHECK(in.released == 2, "PUBREL again after the reconnect (%d)", in.released);
        ipm_client_ack(c, in.release_seq);
        spin(c, 300);
        printf("ok QoS 2 unacknowledged release sent again\n");
    }
    int before = in.n;
    CHECK((rc = reconnect(c)) == IPM_OK, "reconnect: %s", ipm_strerror(rc));
    CHECK(ipm_client_publish(c, topic, "marker", 6, (uint8_t)qos, false) >= 0, "marker");
    int k = wait_for(c, "marker", before);
    CHECK(k == before, "the marker first, nothing redelivered (marker at %d of %d, first '%s')",
          k, before, in.n > before ? in.payload[before] : "");
    CHECK(qos < 2 || in.released == 2, "no more PUBREL (%d)", in.released);
    printf("ok QoS %d acknowledged message not redelivered\n", qos);
    ipm_client_ack(c, in.seq[k]);
    spin(c, 200);
    ipm_client_disconnect(c, 0);
    ipm_client_free(c);
    printf("all passed\n");
    return 0;
}
