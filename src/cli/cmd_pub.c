/*
 * cmd_pub.c - `iotplot pub`: publish one message, a file, or one message per stdin line,
 * with mosquitto_pub's options.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "mqtt_opts.h"

#define PUB_FLUSH_MS 60000u
#define PUB_OUTBOX 10000u

static void usage(FILE *out)
{
    fputs("usage: iotplot pub -t TOPIC (-m MSG | -f FILE | -l | -n | -s) [OPTIONS]\n"
          "Publish to an MQTT broker, like mosquitto_pub.\n\n"
          "message:\n"
          "  -t TOPIC           topic to publish to\n"
          "  -m MSG             the message\n"
          "  -f FILE            the contents of FILE as the message\n"
          "  -l                 one message per line of stdin, each delivered at -q QOS;\n"
          "                     reconnects and queues lines while the broker is away\n"
          "  -n                 an empty message\n"
          "  -s                 all of stdin as one message\n"
          "  -r                 retain the message\n"
          "  --repeat N         publish the -m, -f, -s or -n message N times\n"
          "  --repeat-delay S   wait S seconds (fractions allowed) between repeats\n",
          out);
    cli_mqtt_usage(out, NULL);
}

typedef struct {
    cli_mqtt_opts_t o;
    const char *message, *file;
    bool lines, null_msg, whole_stdin;
    long repeat;       /* --repeat: times to publish the message (1) */
    double repeat_gap; /* --repeat-delay: seconds between them */
} pub_opts_t;

__attribute__((format(printf, 2, 3))) static int bad(const pub_opts_t *p, const char *fmt, ...)
{
    if (p->o.quiet)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    fputs("iotplot pub: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n\n", stderr);
    usage(stderr);
    return -1;
}

static int parse(pub_opts_t *p, int argc, char **argv)
{
    cli_mqtt_defaults(&p->o, "iotplot pub");
    p->o.usage = usage;
    p->repeat = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = cli_mqtt_option(&p->o, argc, argv, &i);
        if (r < 0)
            return -1;
        if (r > 0)
            continue;
        if (!strcmp(a, "--help")) {
            usage(stdout);
            return 1;
        } else if (!strcmp(a, "--version")) {
            printf("iotplot pub version %s\n", IOTPLOT_VERSION);
            return 1;
        } else if ((!strcmp(a, "-m") || !strcmp(a, "--message")) && i + 1 < argc) {
            p->message = argv[++i];
        } else if ((!strcmp(a, "-f") || !strcmp(a, "--file")) && i + 1 < argc) {
            p->file = argv[++i];
        } else if (!strcmp(a, "-l") || !strcmp(a, "--stdin-line")) {
            p->lines = true;
        } else if (!strcmp(a, "-n") || !strcmp(a, "--null-message")) {
            p->null_msg = true;
        } else if (!strcmp(a, "-s") || !strcmp(a, "--stdin-file")) {
            p->whole_stdin = true;
        } else if (!strcmp(a, "-r") || !strcmp(a, "--retain")) {
            p->o.retain = true;
        } else if (!strcmp(a, "--repeat") && i + 1 < argc) {
            char *end;
            p->repeat = strtol(argv[++i], &end, 10);
            if (*end || p->repeat < 1)
                return bad(p, "--repeat argument must be >0.");
        } else if (!strcmp(a, "--repeat-delay") && i + 1 < argc) {
            char *end;
            p->repeat_gap = strtod(argv[++i], &end);
            if (*end || !(p->repeat_gap >= 0 && p->repeat_gap < 1e9))
                return bad(p, "--repeat-delay argument must be >=0.0.");
        } else {
            return bad(p, "unknown or incomplete option '%s'", a);
        }
    }
    int sources = !!p->message + !!p->file + p->lines + p->null_msg + p->whole_stdin;
    const char *why = p->o.ntopics != 1 ? "exactly one topic (-t) is needed"
                      : sources != 1    ? "exactly one of -m, -f, -l, -n, -s is needed"
                                        : NULL;
    if (why)
        return bad(p, "%s", why);
    return cli_mqtt_check(&p->o);
}

/* Read all of `f` into a heap buffer. */
static char *slurp(FILE *f, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap), *grown;
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        cap *= 2;
        grown = realloc(buf, cap);
        if (!grown)
            free(buf);
        buf = grown;
    }
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    *len = n;
    return buf;
}

static int publish(pub_opts_t *p, ipm_client_t *c, const char *data, size_t len)
{
    ipm_message_t m = {.topic = p->o.topics[0], .payload = data, .len = len,
                       .qos = (uint8_t)p->o.qos, .retain = p->o.retain,
                       .props = p->o.props[CLI_PROPS_PUBLISH],
                       .prop_count = p->o.nprops[CLI_PROPS_PUBLISH]};
    for (;;) {
        int rc = p->o.fatal ? p->o.fatal : ipm_client_publish_ex(c, &m);
        if (rc != IPM_EFULL)
            return rc;
        /* The store or the outbox is full: let acknowledgements (or the reconnect) come. */
        rc = ipm_client_wait_msg(c, 100);
        if (rc < 0)
            return rc;
    }
}

/* -l: publish each line as it arrives, servicing the connection while stdin is quiet. */
static int publish_lines(pub_opts_t *p, ipm_client_t *c)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    int rc = buf ? IPM_OK : IPM_ENOMEM;
    bool eof = false;
    while (rc >= 0 && !eof) {
        struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
        if (poll(&pfd, 1, 100) <= 0) {
            rc = ipm_client_check_msg(c);
            rc = rc >= 0 && p->o.fatal ? p->o.fatal : rc;
            continue;
        }
        if (len == cap) {
            char *grown = cap < (256u << 20) ? realloc(buf, cap * 2) : NULL;
            if (!grown) {
                rc = IPM_ENOMEM;
                break;
            }
            buf = grown;
            cap *= 2;
        }
        ssize_t n = read(STDIN_FILENO, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        eof = n <= 0;
        len += n > 0 ? (size_t)n : 0;
        size_t start = 0;
        for (size_t i = 0; rc >= 0 && i < len; i++) {
            if (buf[i] != '\n')
                continue;
            rc = publish(p, c, buf + start, i - start);
            start = i + 1;
        }
        if (rc >= 0 && eof && start < len)
            rc = publish(p, c, buf + start, len - start); /* last line without newline */
        memmove(buf, buf + start, len - start);
        len -= start;
        if (rc >= 0)
            rc = ipm_client_check_msg(c);
    }
    free(buf);
    return rc < 0 ? rc : IPM_OK;
}

/* The message --repeat times, servicing the connection through each --repeat-delay. */
static int publish_repeated(pub_opts_t *p, ipm_client_t *c, const char *data, size_t len)
{
    int rc = IPM_OK;
    for (long n = 0; rc >= 0 && n < p->repeat; n++) {
        if (n > 0 && p->repeat_gap > 0) {
            struct timespec t0, t;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            for (double left = p->repeat_gap; rc >= 0 && left > 0;) {
                rc = ipm_client_wait_msg(c, left > 0.1 ? 100 : (uint32_t)(left * 1000) + 1);
                rc = rc >= 0 && p->o.fatal ? p->o.fatal : rc;
                clock_gettime(CLOCK_MONOTONIC, &t);
                left = p->repeat_gap - (double)(t.tv_sec - t0.tv_sec) -
                       (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
            }
        }
        if (rc >= 0)
            rc = publish(p, c, data, len);
    }
    return rc;
}

int cmd_pub(int argc, char **argv)
{
    pub_opts_t p;
    memset(&p, 0, sizeof p);
    int r = parse(&p, argc, argv);
    if (r != 0)
        return r > 0 ? 0 : 1; /* mosquitto_pub's status for bad arguments */
    signal(SIGPIPE, SIG_IGN);
    char *data = NULL;
    size_t len = 0;
    if (p.file || p.whole_stdin) {
        FILE *f = p.file ? fopen(p.file, "rb") : stdin;
        data = f ? slurp(f, &len) : NULL;
        if (f && f != stdin)
            fclose(f);
        if (!data) {
            fprintf(stderr, "iotplot pub: cannot read %s: %s\n", p.file ? p.file : "stdin",
                    strerror(errno));
            return 1;
        }
    }
    int status = 1;
    ipm_client_t *c = cli_mqtt_connect(&p.o, p.lines, p.lines ? PUB_OUTBOX : 0);
    if (!c)
        goto out;
    int rc;
    if (p.lines)
        rc = publish_lines(&p, c);
    else
        rc = publish_repeated(&p, c, data ? data : p.message ? p.message : "",
                              data ? len : p.message ? strlen(p.message) : 0);
    const char *what = "publish failed";
    if (rc >= 0) {
        what = "waiting for acknowledgements";
        for (uint32_t t = 0; t < PUB_FLUSH_MS; t += 200) {
            rc = ipm_client_flush(c, 200);
            if (rc == IPM_ETIMEOUT && p.o.fatal)
                rc = p.o.fatal;
            if (rc != IPM_ETIMEOUT)
                break;
        }
    }
    if (rc < 0)
        cli_mqtt_error(&p.o, c, what, rc);
    else if (p.o.refused)
        fprintf(stderr, "iotplot pub: publish refused: %s (reason code 0x%02x)\n",
                ipm_reason_string((uint8_t)p.o.refused), (unsigned)p.o.refused);
    else
        status = 0;
    ipm_client_disconnect(c, 0);
    cli_mqtt_free(&p.o, c);
out:
    free(data);
    return status;
}
