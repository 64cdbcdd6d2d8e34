/*
 * hello.c - the first program of the course: publish a greeting every second and print
 * every message that arrives, in the umqtt style (connect, set_callback, subscribe,
 * publish, check_msg).
 *
 *   hello [HOST [PORT [COUNT]]]     defaults: localhost 1883, 10 greetings
 *
 * Run `mosquitto_sub -t 'hello/#' -v` next to it to watch, or
 * `mosquitto_pub -t hello/in -m hi` to talk back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "iotplot/net.h"

static void on_message(ipm_client_t *c, const ipm_msg_t *m, void *user)
{
    (void)c;
    (void)user;
    printf("received %.*s: %.*s\n", (int)m->topic.len, (const char *)m->topic.data,
           (int)m->payload.len, (const char *)m->payload.data);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    char id[32], msg[64];
    ipm_client_config_t cfg = ipm_client_config_default();
    cfg.host = argc > 1 ? argv[1] : "localhost";
    cfg.port = (uint16_t)(argc > 2 ? atoi(argv[2]) : 1883);
    int count = argc > 3 ? atoi(argv[3]) : 10;
    snprintf(id, sizeof id, "hello-%ld", (long)getpid());
    cfg.client_id = id;

    const char *why = NULL;
    ipm_client_t *c = ipm_client_new(&cfg, NULL, &why);
    if (!c) {
        fprintf(stderr, "hello: %s\n", why ? why : "cannot create the client");
        return 1;
    }
    ipm_client_set_callback(c, on_message, NULL);
    int rc = ipm_client_connect(c);
    if (rc == IPM_OK)
        rc = ipm_client_subscribe(c, "hello/#", 0) < 0 ? -1 : IPM_OK;
    if (rc != IPM_OK) {
        fprintf(stderr, "hello: cannot connect to %s:%u\n", cfg.host, cfg.port);
        ipm_client_free(c);
        return 1;
    }
    for (int i = 1; i <= count; i++) {
        int n = snprintf(msg, sizeof msg, "hello %d from %s", i, id);
        if (ipm_client_publish(c, "hello/world", msg, (size_t)n, 0, false) < 0)
            break;
        /* wait_msg delivers what arrives (our own greeting comes back too) */
        if (ipm_client_wait_msg(c, 1000) < 0)
            break;
        if (i < count) {
            struct timespec ts = {1, 0};
            nanosleep(&ts, NULL);
        }
    }
    ipm_client_disconnect(c, 0);
    ipm_client_free(c);
    return 0;
}
