/*
 * cmd_sub.c - `iotplot sub`: subscribe and print messages, with mosquitto_sub's options.
 * Reconnects by itself; with -c the broker keeps the session (and queued messages).
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "mqtt_opts.h"
#include "sub_format.h"

static void usage(FILE *out)
{
    fputs("usage: iotplot sub {-t FILTER [-t FILTER...] | -L URL} [OPTIONS]\n"
          "Subscribe to topic filters and print messages, like mosquitto_sub.\n\n"
          "output:\n"
          "  -t FILTER          topic filter to subscribe to (repeatable)\n"
          "  -T FILTER          do not print messages whose topic matches FILTER (repeatable)\n"
          "  -U FILTER          unsubscribe from FILTER after subscribing (repeatable)\n"
          "  -v                 print the topic before each payload\n"
          "  -F FORMAT          print each message as FORMAT: %t topic, %p payload, %x/%X hex,\n"
          "                     %l length, %q QoS, %r retain, %m message id, %j/%J JSON,\n"
          "                     %I ISO time, %U Unix time, %C %D %E %F %P %R %S %A 5.0\n"
          "                     properties, %% a '%'; @ plus a strftime letter (@@, @N ns);\n"
          "                     \\n \\t \\e \\0 \\a \\r \\v \\\\ escapes; widths as %-10t, %05l\n"
          "  --pretty           indented JSON for %j and %J\n"
          "  -N                 no newline after each message\n"
          "  -C COUNT           exit after COUNT messages\n"
          "  -W SECONDS         exit (with status 27) after SECONDS, messages or not\n"
          "  -R                 do not print retained messages (stale ones)\n"
          "  --retained-only    print only retained messages; exit at the first live one\n"
          "  -E                 exit once the subscriptions are acknowledged\n"
          "  --remove-retained  clear each retained message received from the broker\n"
          "  --retain-as-published  MQTT 5: keep the retain flag of forwarded messages\n"
          "  --random-filter P  print only about P percent of the messages (as mosquitto_sub)\n",
          out);
    cli_mqtt_usage(out, NULL);
}

typedef struct {
    cli_mqtt_opts_t o;
    cli_sub_format_t fmt;
    const char *unsub[CLI_MAX_TOPICS];
    int nunsub;
    const char *filter_out[CLI_MAX_TOPICS];
    int nfilter_out;
    bool skip_retained, remove_retained, retained_only, exit_subscribed, retain_as_published;
    bool done;
    long count, timeout_s, received;
    int random_filter; /* mosquitto's scale: 10000 = all; compared with a random % 10000 */
    unsigned seed;
} sub_opts_t;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

__attribute__((format(printf, 2, 3))) static int bad(const sub_opts_t *s, const char *fmt, ...)
{
    if (s->o.quiet)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    fputs("iotplot sub: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n\n", stderr);
    usage(stderr);
    return -1;
}

/* The options that take a value, only sub's. */
static int parse_valued(sub_opts_t *s, const char *a, const char *v)
{
    char *end = NULL;
    if (!strcmp(a, "-F")) {
        char why[80];
        if (cli_sub_format_check(v, why, sizeof why) < 0)
            return bad(s, "%s", why);
        s->fmt.format = v;
    } else if (!strcmp(a, "-T") || !strcmp(a, "--filter-out") || !strcmp(a, "-U") ||
               !strcmp(a, "--unsubscribe")) {
        bool out = !strcmp(a, "-T") || !strcmp(a, "--filter-out");
        int *n = out ? &s->nfilter_out : &s->nunsub;
        if (*n >= CLI_MAX_TOPICS || !ipm_topic_filter_valid((const uint8_t *)v, strlen(v)))
            return bad(s, "invalid %s topic filter '%s'", out ? "filter-out" : "unsubscribe", v);
        (out ? s->filter_out : s->unsub)[(*n)++] = v;
    } else if (!strcmp(a, "--random-filter")) {
        s->random_filter = (int)(10.0 * atof(v));
        if (s->random_filter > 10000 || s->random_filter < 1)
            return bad(s, "--random-filter chance must be between 0.1-100.0");
    } else {
        long n = strtol(v, &end, 10);
        if (*end || n <= 0)
            return bad(s, "%s needs a positive number", a);
        *(a[1] == 'C' ? &s->count : &s->timeout_s) = n;
    }
    return 0;
}

static int parse(sub_opts_t *s, int argc, char **argv)
{
    static const char *const valued[] = {"-F", "-T", "--filter-out", "-U", "--unsubscribe",
                                         "--random-filter", "-C", "-W"};
    cli_mqtt_defaults(&s->o, "iotplot sub");
    s->o.usage = usage;
    s->fmt.eol = true;
    s->random_filter = 10000;
    s->seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = cli_mqtt_option(&s->o, argc, argv, &i);
        if (r < 0)
            return -1;
        if (r > 0)
            continue;
        bool takes = false;
        for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++)
            takes |= !strcmp(a, valued[k]);
        if (takes) {
            if (i + 1 >= argc)
                return bad(s, "%s needs a value", a);
            if (parse_valued(s, a, argv[++i]) < 0)
                return -1;
        } else if (!strcmp(a, "--help")) {
            usage(stdout);
            return 1;
        } else if (!strcmp(a, "--version")) {
            printf("iotplot sub version %s\n", IOTPLOT_VERSION);
            return 1;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            s->fmt.verbose = true;
        } else if (!strcmp(a, "-N")) {
            s->fmt.eol = false;
        } else if (!strcmp(a, "--pretty")) {
            s->fmt.pretty = true;
        } else if (!strcmp(a, "-R")) {
            s->skip_retained = true;
        } else if (!strcmp(a, "--remove-retained")) {
            s->remove_retained = true;
        } else if (!strcmp(a, "--retained-only")) {
            s->retained_only = true;
        } else if (!strcmp(a, "--retain-as-published")) {
            s->retain_as_published = true;
        } else if (!strcmp(a, "-E")) {
            s->exit_subscribed = true;
        } else {
            return bad(s, "unknown or incomplete option '%s'", a);
        }
    }
    s->fmt.quiet = s->o.quiet;
    if (s->o.ntopics == 0 && s->nunsub == 0)
        return bad(s, "at least one topic filter (-t) is needed");
    if (s->skip_retained && s->retained_only)
        return bad(s, "Combining '-R' and '--retained-only' makes no sense.");
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

/* In mosquitto_sub's order: --retained-only ends at a live message, -R and -T drop,
 * --remove-retained clears, then the message is printed and counted for -C. */
static void on_message(ipm_client_t *c, const ipm_msg_t *m, void *user)
{
    sub_opts_t *s = user;
    if (s->done || (s->count && s->received >= s->count))
        return;
    if (s->retained_only && !m->retain) {
        s->done = true;
        return;
    }
    if (s->skip_retained && m->retain)
        return;
    for (int i = 0; i < s->nfilter_out; i++)
        if (ipm_topic_matches((const uint8_t *)s->filter_out[i], strlen(s->filter_out[i]),
                              m->topic.data, m->topic.len))
            return;
    if (s->remove_retained && m->retain) {
        char topic[65536];
        memcpy(topic, m->topic.data, m->topic.len);
        topic[m->topic.len] = 0;
        (void)ipm_client_publish(c, topic, "", 0, 1, true);
    }
    if (s->o.debug && s->o.version == IPM_PROTO_V5)
        print_props(m);
    if (s->random_filter >= 10000 || rand_r(&s->seed) % 10000 < s->random_filter)
        cli_sub_print(&s->fmt, m);
    s->received++;
}

static int subscribe_all(sub_opts_t *s, ipm_client_t *c)
{
    char what[300];
    for (int i = 0; i < s->o.ntopics; i++) {
        /* -R also asks a 5.0 server not to send retained messages at all. */
        ipm_sub_opts_t so = {.qos = (uint8_t)s->o.qos, .props = s->o.props[CLI_PROPS_SUBSCRIBE],
                             .prop_count = s->o.nprops[CLI_PROPS_SUBSCRIBE],
                             .retain_handling = s->skip_retained ? 2 : 0,
                             .retain_as_published = s->retain_as_published};
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

static long elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

int cmd_sub(int argc, char **argv)
{
    static sub_opts_t s;
    memset(&s, 0, sizeof s);
    int r = parse(&s, argc, argv);
    if (r != 0)
        return r > 0 ? 0 : 1; /* mosquitto_sub's status for bad arguments */
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
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
    while (!stop_requested && !s.exit_subscribed && !s.done &&
           !(s.count && s.received >= s.count)) {
        int rc = ipm_client_wait_msg(c, 200);
        if (rc >= 0 && s.o.fatal)
            rc = s.o.fatal;
        if (rc < 0) {
            cli_mqtt_error(&s.o, c, "connection lost", rc);
            status = 1;
            break;
        }
        /* -W bounds the whole run, messages or not, as mosquitto_sub's alarm does. */
        if (s.timeout_s && elapsed_ms(&start) >= s.timeout_s * 1000) {
            if (!s.o.quiet)
                fprintf(stderr, "iotplot sub: timed out after %ld s\n", s.timeout_s);
            status = 27;
            break;
        }
    }
out:
    ipm_client_disconnect(c, 0);
    cli_mqtt_free(&s.o, c);
    return status;
}
