/*
 * cmd_sub.c - `iotplot sub`: subscribe and print messages, with mosquitto_sub's options.
 * Reconnects by itself; with -c the broker keeps the session (and queued messages).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "mqtt_opts.h"

static void usage(FILE *out)
{
    fputs("usage: iotplot sub -t FILTER [-t FILTER...] [OPTIONS]\n"
          "Subscribe to topic filters and print messages, like mosquitto_sub.\n\n"
          "output:\n"
          "  -t FILTER          topic filter to subscribe to (repeatable)\n"
          "  -U FILTER          unsubscribe from FILTER after subscribing (repeatable)\n"
          "  -v                 print the topic before each payload\n"
          "  -N                 no newline after each payload\n"
          "  -C COUNT           exit after COUNT messages\n"
          "  -W SECONDS         exit (with status 27) when nothing came for SECONDS\n"
          "  -R                 do not print retained messages (stale ones)\n"
          "  --retained-only    print only retained messages; exit at the first live one\n"
          "  -E                 exit once the subscriptions are acknowledged\n"
          "  --remove-retained  clear each retained message received from the broker\n",
          out);
    cli_mqtt_usage(out);
}

typedef struct {
    cli_mqtt_opts_t o;
    const char *unsub[CLI_MAX_TOPICS];
    int nunsub;
    bool verbose, no_newline, skip_retained, remove_retained, retained_only, exit_subscribed;
    bool done;
    long count, timeout_s, received;
} sub_opts_t;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int parse(sub_opts_t *s, int argc, char **argv)
{
    cli_mqtt_defaults(&s->o, "iotplot sub");
    s->o.usage = usage;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = cli_mqtt_option(&s->o, argc, argv, &i);
        if (r < 0)
            return -1;
        if (r > 0)
            continue;
        char *end = NULL;
        if (!strcmp(a, "--help")) {
            usage(stdout);
            return 1;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            s->verbose = true;
        } else if (!strcmp(a, "-N")) {
            s->no_newline = true;
        } else if (!strcmp(a, "-R")) {
            s->skip_retained = true;
        } else if (!strcmp(a, "--remove-retained")) {
            s->remove_retained = true;
        } else if (!strcmp(a, "--retained-only")) {
            s->retained_only = true;
        } else if (!strcmp(a, "-E")) {
            s->exit_subscribed = true;
        } else if (!strcmp(a, "-U") && i + 1 < argc && s->nunsub < CLI_MAX_TOPICS) {
            s->unsub[s->nunsub++] = argv[++i];
        } else if ((!strcmp(a, "-C") || !strcmp(a, "-W")) && i + 1 < argc) {
            long v = strtol(argv[++i], &end, 10);
            if (*end || v <= 0) {
                fprintf(stderr, "iotplot sub: %s needs a positive number\n\n", a);
                usage(stderr);
                return -1;
            }
            *(a[1] == 'C' ? &s->count : &s->timeout_s) = v;
        } else {
            fprintf(stderr, "iotplot sub: unknown or incomplete option '%s'\n\n", a);
            usage(stderr);
            return -1;
        }
    }
    if (s->o.ntopics == 0 && s->nunsub == 0) {
        fprintf(stderr, "iotplot sub: at least one topic filter (-t) is needed\n\n");
        usage(stderr);
        return -1;
    }
    return cli_mqtt_check(&s->o);
}

/* With -d: the 5.0 properties of a message, one line on stderr. */
static void print_props(const ipm_msg_t *m)
{
    ipm_prop_iter_t it;
    ipm_prop_t p;
    ipm_props_iter(&m->props, &it);
    fputs("properties:", stderr);
    while (ipm_props_next(&it, &p)) {
        switch (ipm_prop_type(p.id)) {
        case IPM_PT_PAIR:
            fprintf(stderr, " user-property %.*s=%.*s", (int)p.bin.len, (const char *)p.bin.data,
                    (int)p.val.len, (const char *)p.val.data);
            break;
        case IPM_PT_UTF8:
        case IPM_PT_BINARY:
            fprintf(stderr, " 0x%02x=%.*s", p.id, (int)p.bin.len, (const char *)p.bin.data);
            break;
        default:
            fprintf(stderr, " 0x%02x=%lu", p.id, (unsigned long)p.num);
        }
    }
    fputc('\n', stderr);
}

static void on_message(ipm_client_t *c, const ipm_msg_t *m, void *user)
{
    sub_opts_t *s = user;
    if (s->remove_retained && m->retain && m->payload.len) {
        char topic[65536];
        memcpy(topic, m->topic.data, m->topic.len);
        topic[m->topic.len] = 0;
        (void)ipm_client_publish(c, topic, "", 0, 0, true);
    }
    if (s->retained_only && !m->retain)
        s->done = true;
    if (s->done || (s->skip_retained && m->retain) || (s->count && s->received >= s->count))
        return;
    s->received++;
    if (s->o.debug && s->o.version == IPM_PROTO_V5)
        print_props(m);
    if (s->verbose)
        printf("%.*s ", (int)m->topic.len, (const char *)m->topic.data);
    fwrite(m->payload.data, 1, m->payload.len, stdout);
    if (!s->no_newline)
        putchar('\n');
    fflush(stdout);
}

static int subscribe_all(sub_opts_t *s, ipm_client_t *c)
{
    char what[300];
    for (int i = 0; i < s->o.ntopics; i++) {
        ipm_sub_opts_t so = {.qos = (uint8_t)s->o.qos, .props = s->o.props[CLI_PROPS_SUBSCRIBE],
                             .prop_count = s->o.nprops[CLI_PROPS_SUBSCRIBE]};
        int rc = ipm_client_subscribe_ex(c, s->o.topics[i], &so);
        if (rc < 0) {
            snprintf(what, sizeof what, "subscribe to '%s'", s->o.topics[i]);
            cli_mqtt_error(&s->o, c, what, rc);
            return -1;
        }
        if (s->o.debug)
            fprintf(stderr, "iotplot sub: subscribed to '%s' (granted QoS %d)\n",
                    s->o.topics[i], rc);
    }
    for (int i = 0; i < s->nunsub; i++) {
        int rc = ipm_client_unsubscribe(c, s->unsub[i]);
        if (rc < 0) {
            snprintf(what, sizeof what, "unsubscribe from '%s'", s->unsub[i]);
            cli_mqtt_error(&s->o, c, what, rc);
            return -1;
        }
        if (s->o.debug)
            fprintf(stderr, "iotplot sub: unsubscribed from '%s'\n", s->unsub[i]);
    }
    return 0;
}

int cmd_sub(int argc, char **argv)
{
    static sub_opts_t s;
    memset(&s, 0, sizeof s);
    int r = parse(&s, argc, argv);
    if (r != 0)
        return r > 0 ? 0 : 2;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    ipm_client_t *c = cli_mqtt_connect_cb(&s.o, true, 0, on_message, &s);
    if (!c)
        return 1;
    int status = 0;
    if (subscribe_all(&s, c) < 0) {
        status = 1;
        goto out;
    }
    long waited_ms = 0;
    while (!stop_requested && !s.exit_subscribed && !s.done &&
           !(s.count && s.received >= s.count)) {
        long before = s.received;
        int rc = ipm_client_wait_msg(c, 200);
        if (rc >= 0 && s.o.fatal)
            rc = s.o.fatal;
        if (rc < 0) {
            cli_mqtt_error(&s.o, c, "connection lost", rc);
            status = 1;
            break;
        }
        waited_ms = s.received != before ? 0 : waited_ms + 200;
        if (s.timeout_s && waited_ms >= s.timeout_s * 1000) {
            fprintf(stderr, "iotplot sub: timed out after %ld s without a message\n", s.timeout_s);
            status = 27;
            break;
        }
    }
out:
    ipm_client_disconnect(c, 0);
    ipm_client_free(c);
    return status;
}
