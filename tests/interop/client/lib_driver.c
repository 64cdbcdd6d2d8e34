/*
 * lib_driver.c - the client library itself (not the CLI) against a real MQTT 5.0 broker:
 * subscription options (no local, retain as published, retain handling, subscription
 * identifier), outgoing topic aliases, QoS 2 and properties to itself, unsubscribe, session
 * present after a reconnect, and the outbox with the refuse policy.
 *
 * Usage: lib_driver PORT. Prints "ok NAME" / "FAIL NAME: ..." and exits non-zero on any
 * failure. Absence of a message is proven by ordering: a marker published after it on the
 * same connection arrives, and the broker delivers in order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotplot/net.h"

typedef struct {
    char topic[64][64];
    char payload[64][64];
    bool retain[64];
    uint32_t sub_id[64];
    char user[64][32];
    int n;
} inbox_t;

static inbox_t inbox;
static int failures;

#define CHECK(cond, ...)                                                                    \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            printf("FAIL %s:%d: %s: ", __func__, __LINE__, #cond);                          \
            printf(__VA_ARGS__);                                                            \
            printf("\n");                                                                   \
            failures++;                                                                     \
            return;                                                                         \
        }                                                                                   \
    } while (0)

static void on_msg(ipm_client_t *c, const ipm_msg_t *m, void *user)
{
    if (inbox.n >= 64)
        return;
    int i = inbox.n++;
    snprintf(inbox.topic[i], sizeof inbox.topic[i], "%.*s", (int)m->topic.len,
             (const char *)m->topic.data);
    snprintf(inbox.payload[i], sizeof inbox.payload[i], "%.*s", (int)m->payload.len,
             (const char *)m->payload.data);
    inbox.retain[i] = m->retain;
    ipm_prop_t p;
    inbox.sub_id[i] = ipm_props_get(&m->props, IPM_PROP_SUBSCRIPTION_IDENTIFIER, &p) ? p.num : 0;
    inbox.user[i][0] = 0;
    if (ipm_props_get(&m->props, IPM_PROP_USER_PROPERTY, &p))
        snprintf(inbox.user[i], sizeof inbox.user[i], "%.*s=%.*s", (int)p.bin.len,
                 (const char *)p.bin.data, (int)p.val.len, (const char *)p.val.data);
}

/* Wait until the message with this payload arrived; its index or -1. */
static int wait_for(ipm_client_t *c, const char *payload)
{
    for (int turns = 0; turns < 100; turns++) {
        for (int i = 0; i < inbox.n; i++)
            if (!strcmp(inbox.payload[i], payload))
                return i;
        if (ipm_client_wait_msg(c, 100) < 0)
            return -1;
    }
    return -1;
}

static bool seen(const char *payload)
{
    for (int i = 0; i < inbox.n; i++)
        if (!strcmp(inbox.payload[i], payload))
            return true;
    return false;
}

static void marker(ipm_client_t *c, int *idx, const char *name)
{
    ipm_client_publish(c, "lib/marker", name, strlen(name), 1, false);
    *idx = wait_for(c, name);
}

static void sub_options(ipm_client_t *c)
{
    int m;
    ipm_sub_opts_t nl = {.qos = 1, .no_local = true};
    CHECK(ipm_client_subscribe_ex(c, "lib/nl", &nl) == 1, "granted");
    CHECK(ipm_client_publish(c, "lib/nl", "own", 3, 1, false) > 0, "publish");
    marker(c, &m, "m-nl");
    CHECK(m >= 0 && !seen("own"), "no local: own message came back");

    CHECK(ipm_client_publish(c, "lib/rap", "kept", 4, 1, true) > 0, "retained");
    CHECK(ipm_client_flush(c, 5000) == IPM_OK, "flush");
    ipm_sub_opts_t rh = {.qos = 1, .retain_handling = 2};
    CHECK(ipm_client_subscribe_ex(c, "lib/rap", &rh) == 1, "granted");
    marker(c, &m, "m-rh");
    CHECK(m >= 0 && !seen("kept"), "retain handling 2 sent the retained message");
    CHECK(ipm_client_unsubscribe(c, "lib/rap") == IPM_OK, "unsubscribe");

    ipm_sub_opts_t rap = {.qos = 1, .retain_as_published = true, .subscription_id = 7};
    CHECK(ipm_client_subscribe_ex(c, "lib/rap", &rap) == 1, "granted");
    int k = wait_for(c, "kept");
    CHECK(k >= 0 && inbox.retain[k] && inbox.sub_id[k] == 7, "retained on subscribe, id 7");
    CHECK(ipm_client_publish(c, "lib/rap", "live", 4, 1, true) > 0, "publish");
    k = wait_for(c, "live");
    CHECK(k >= 0 && inbox.retain[k], "retain as published: flag kept on a live message");
    ipm_client_publish(c, "lib/rap", "", 0, 1, true); /* clear it */
    printf("ok subscription options\n");
}

static void aliases_and_props(ipm_client_t *c)
{
    CHECK(ipm_client_subscribe(c, "lib/alias/#", 2) == 2, "granted");
    ipm_prop_t props[] = {{.id = IPM_PROP_TOPIC_ALIAS, .num = 1},
                          {.id = IPM_PROP_USER_PROPERTY, .bin = ipm_str("k"), .val = ipm_str("v")}};
    ipm_message_t m = {.topic = "lib/alias/a/long/topic", .payload = "first", .len = 5,
                       .props = props, .prop_count = 2};
    CHECK(ipm_client_publish_ex(c, &m) == 0, "alias set");
    m.topic = "";
    m.payload = "second";
    m.len = 6;
    CHECK(ipm_client_publish_ex(c, &m) == 0, "alias used");
    int i = wait_for(c, "second");
    CHECK(i >= 0 && !strcmp(inbox.topic[i], "lib/alias/a/long/topic"), "topic %s",
          i >= 0 ? inbox.topic[i] : "-");
    CHECK(!strcmp(inbox.user[i], "k=v"), "user property '%s'", inbox.user[i]);
    ipm_message_t q2 = {.topic = "lib/alias/q2", .payload = "exactly once", .len = 12, .qos = 2,
                        .props = props + 1, .prop_count = 1};
    CHECK(ipm_client_publish_ex(c, &q2) > 0, "qos 2");
    CHECK(ipm_client_flush(c, 5000) == IPM_OK, "flush");
    CHECK(wait_for(c, "exactly once") >= 0, "qos 2 to itself");
    printf("ok topic aliases, properties, QoS 2\n");
}

static void session_and_outbox(ipm_client_t *c)
{
    CHECK(ipm_client_subscribe(c, "lib/box", 1) == 1, "granted");
    CHECK(ipm_client_disconnect(c, 0) == IPM_OK, "disconnect");
    CHECK(ipm_client_publish(c, "lib/box", "b1", 2, 1, false) == 0, "queued");
    CHECK(ipm_client_publish(c, "lib/box", "b2", 2, 0, false) == 0, "queued");
    CHECK(ipm_client_publish(c, "lib/box", "b3", 2, 1, false) == IPM_EFULL, "refused");
    CHECK(ipm_client_dropped(c) == 1, "dropped %u", ipm_client_dropped(c));
    CHECK(ipm_client_connect(c) == IPM_OK, "reconnect");
    CHECK(ipm_client_session_present(c), "session present after reconnect");
    int a = wait_for(c, "b1"), b = wait_for(c, "b2");
    CHECK(a >= 0 && b > a, "outbox drained in order (%d, %d)", a, b);
    printf("ok session present, outbox\n");
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    ipm_client_config_t cfg = ipm_client_config_default();
    cfg.host = "127.0.0.1";
    cfg.port = (uint16_t)atoi(argv[1]);
    cfg.client_id = "lib-driver";
    cfg.version = IPM_PROTO_V5;
    cfg.clean_start = true;
    cfg.session_expiry = 60;
    cfg.outbox_max = 2;
    cfg.outbox_policy = IPM_OUTBOX_REFUSE;
    const char *why = NULL;
    ipm_client_t *c = ipm_client_new(&cfg, NULL, &why);
    if (!c) {
        printf("FAIL create: %s\n", why);
        return 1;
    }
    ipm_client_set_callback(c, on_msg, NULL);
    int rc = ipm_client_connect(c);
    if (rc != IPM_OK) {
        printf("FAIL connect: %s\n", ipm_strerror(rc));
        ipm_client_free(c);
        return 1;
    }
    if (ipm_client_subscribe(c, "lib/marker", 1) != 1)
        failures++;
    sub_options(c);
    aliases_and_props(c);
    session_and_outbox(c);
    ipm_client_disconnect(c, 0);
    ipm_client_free(c);
    printf("%s\n", failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
}
