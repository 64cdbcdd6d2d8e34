/*
 * mqtt_opts.c - option parsing and connecting, shared by `iotplot pub` and `iotplot sub`.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli_net.h"
#include "discover.h"
#include "mqtt_opts.h"

void cli_mqtt_defaults(cli_mqtt_opts_t *o, const char *prog)
{
    memset(o, 0, sizeof *o);
    o->prog = prog;
    o->host = "localhost";
    o->port = -1;
    o->keepalive = 60;
    o->version = IPM_PROTO_V311;
    o->session_expiry = -1;
}

static const char mqtt_usage[] =
"connection:\n"
          "  -h HOST            broker host (default localhost); auto: the first broker\n"
          "                     announced on the local network (mDNS, avahi-daemon)\n"
          "  -p PORT            broker port (default 1883, 8883 with TLS)\n"
          "  -L URL             mqtt(s)://[USER[:PASS]@]HOST[:PORT]/TOPIC (mqtts: TLS with\n"
          "                     the system's CAs)\n"
          "  --unix PATH        connect to a unix-domain socket instead of HOST:PORT\n"
          "  --proxy URL        through a SOCKS5 proxy: socks5h://[USER[:PASS]@]HOST[:PORT]\n"
          "  -A ADDRESS         connect from this local address\n"
          "  -S                 find HOST's broker in DNS SRV records (_mqtt._tcp.HOST)\n"
          "  --nodelay          accepted: TCP_NODELAY is always on\n"
          "  -i ID              client id (default iotplot-PID)\n"
          "  -I PREFIX          client id PREFIX followed by the process id\n"
          "  -M COUNT           QoS 1/2 messages in flight at once (default 20)\n"
          "  --quiet            print no error messages\n"
          "  -u USER, -P PASS   user name and password\n"
          "  -k SECONDS         keepalive (default 60)\n"
          "  -V VERSION         mqttv31, mqttv311 (default) or mqttv5\n"
          "  -c                 keep the session (clean session / clean start off)\n"
          "  -x SECONDS         session expiry interval (MQTT 5); -1: never\n"
          "  -q QOS             quality of service 0, 1 or 2 (default 0)\n"
          "  -d                 print debug messages on stderr\n"
          "  -D CMD PROP VALUE  MQTT 5 property (implies -V mqttv5); CMD is connect, publish,\n"
          "                     subscribe or will;\n"
          "                     PROP e.g. user-property K V, content-type, response-topic,\n"
          "                     correlation-data, message-expiry-interval,\n"
          "                     session-expiry-interval\n"
          "  --will-topic T, --will-payload P, --will-qos Q, --will-retain\n"
          "tls:\n"
          "  --cafile FILE, --capath DIR   trusted CAs (turns TLS on)\n"
          "  --tls-use-os-certs            TLS with the system's trusted CAs\n"
          "  --cert FILE --key FILE        client certificate and key\n"
          "  --insecure                    do not check the server certificate (tests only)\n";

/* Is the option line (two spaces, then "-x ..." or "--xx ...") one of omit's? */
static bool omitted(const char *line, size_t len, const char *const *omit)
{
    for (; omit && *omit; omit++) {
        size_t n = strlen(*omit);
        if (len > 2 + n && !strncmp(line + 2, *omit, n) &&
            (line[2 + n] == ' ' || line[2 + n] == ','))
            return true;
    }
    return false;
}

void cli_mqtt_usage(FILE *out, const char *const *omit)
{
    /* Skip the lines of options the command defines itself, with their continuations. */
    bool skipping = false;
    for (const char *p = mqtt_usage; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
        bool continuation = len > 4 && !strncmp(p, "    ", 4);
        if (!continuation)
            skipping = omitted(p, len, omit);
        if (!skipping)
            fwrite(p, 1, len, out);
        p += len;
    }
}

/* mosquitto's -D property names, mapped to the 5.0 ids; the codec knows their types. */
static const struct {
    const char *name;
    uint8_t id;
} prop_names[] = {
    {"payload-format-indicator", IPM_PROP_PAYLOAD_FORMAT_INDICATOR},
    {"message-expiry-interval", IPM_PROP_MESSAGE_EXPIRY_INTERVAL},
    {"content-type", IPM_PROP_CONTENT_TYPE},
    {"response-topic", IPM_PROP_RESPONSE_TOPIC},
    {"correlation-data", IPM_PROP_CORRELATION_DATA},
    {"subscription-identifier", IPM_PROP_SUBSCRIPTION_IDENTIFIER},
    {"session-expiry-interval", IPM_PROP_SESSION_EXPIRY_INTERVAL},
    {"request-problem-information", IPM_PROP_REQUEST_PROBLEM_INFORMATION},
    {"request-response-information", IPM_PROP_REQUEST_RESPONSE_INFORMATION},
    {"will-delay-interval", IPM_PROP_WILL_DELAY_INTERVAL},
    {"receive-maximum", IPM_PROP_RECEIVE_MAXIMUM},
    {"topic-alias-maximum", IPM_PROP_TOPIC_ALIAS_MAXIMUM},
    {"maximum-packet-size", IPM_PROP_MAXIMUM_PACKET_SIZE},
    {"user-property", IPM_PROP_USER_PROPERTY},
};

__attribute__((format(printf, 2, 3))) static int bad(const cli_mqtt_opts_t *o, const char *fmt, ...)
{
    if (o->quiet)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", o->prog);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (o->usage) {
        fputc('\n', stderr);
        o->usage(stderr);
    } else {
        fprintf(stderr, "'%s --help' lists the options.\n", o->prog);
    }
    return -1;
}

static int number(const cli_mqtt_opts_t *o, const char *opt, const char *s, long lo, long hi,
                  long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return bad(o, "invalid value for %s", opt);
    *out = v;
    return 0;
}

/* -D CMD NAME VALUE [VALUE2]: consumes 3 or 4 arguments. */
static int parse_prop(cli_mqtt_opts_t *o, int argc, char **argv, int *i)
{
    static const char *const cmds[CLI_PROPS_N] = {"connect", "publish", "subscribe", "will"};
    if (*i + 3 >= argc)
        return bad(o, "%s needs a command, a property and a value", "-D");
    const char *cmd = argv[*i + 1], *name = argv[*i + 2];
    int which = -1;
    for (int k = 0; k < CLI_PROPS_N; k++)
        if (!strcmp(cmd, cmds[k]))
            which = k;
    if (which < 0)
        return bad(o, "-D: unknown command '%s' (connect, publish, subscribe, will)", cmd);
    uint8_t id = 0;
    for (size_t k = 0; k < sizeof prop_names / sizeof prop_names[0]; k++)
        if (!strcmp(name, prop_names[k].name))
            id = prop_names[k].id;
    if (!id)
        return bad(o, "-D: unknown property '%s'", name);
    if (o->nprops[which] >= IPM_CLIENT_MAX_PROPS)
        return bad(o, "-D: too many properties for %s", cmd);
    ipm_prop_t *p = &o->props[which][o->nprops[which]];
    memset(p, 0, sizeof *p);
    p->id = id;
    const char *v = argv[*i + 3];
    switch (ipm_prop_type(id)) {
    case IPM_PT_PAIR:
        if (*i + 4 >= argc)
            return bad(o, "-D: %s needs a key and a value", name);
        p->bin = ipm_str(v);
        p->val = ipm_str(argv[*i + 4]);
        *i += 1;
        break;
    case IPM_PT_UTF8:
    case IPM_PT_BINARY:
        p->bin = ipm_str(v);
        break;
    default: {
        long n;
        if (number(o, name, v, 0, 0xFFFFFFFFL, &n) < 0)
            return -1;
        p->num = (uint32_t)n;
    }
    }
    o->nprops[which]++;
    *i += 3;
    /* As mosquitto_pub 2.0: a property means MQTT 5.0; only a -V after it says otherwise. */
    o->version = IPM_PROTO_V5;
    return 1;
}

static int parse_version(cli_mqtt_opts_t *o, const char *v)
{
    if (!strcmp(v, "mqttv31") || !strcmp(v, "31"))
        o->version = IPM_PROTO_V31;
    else if (!strcmp(v, "mqttv311") || !strcmp(v, "311"))
        o->version = IPM_PROTO_V311;
    else if (!strcmp(v, "mqttv5") || !strcmp(v, "5"))
        o->version = IPM_PROTO_V5;
    else
        return bad(o, "unknown protocol version '%s' (mqttv31, mqttv311, mqttv5)", v);
    return 1;
}

/* "[user[:pass]@]host[:port]" in place; the port is left alone when absent. */
static void split_authority(char *s, const char **user, const char **pass, const char **host,
                            int *port)
{
    char *at = strchr(s, '@'), *colon;
    if (at) {
        *at = 0;
        if ((colon = strchr(s, ':'))) {
            *colon = 0;
            *pass = colon + 1;
        }
        *user = s;
        s = at + 1;
    }
    *host = s;
    if ((colon = strchr(s, ':'))) {
        *colon = 0;
        *port = atoi(colon + 1);
    }
}

/* -L mqtt(s)://[user[:pass]@]host[:port]/topic, read the way mosquitto reads it. */
static int parse_url(cli_mqtt_opts_t *o, const char *url)
{
    bool tls = !strncasecmp(url, "mqtts://", 8);
    if (!tls && strncasecmp(url, "mqtt://", 7))
        return bad(o, "unsupported URL scheme");
    snprintf(o->urlbuf, sizeof o->urlbuf, "%s", url + (tls ? 8 : 7));
    char *topic = strchr(o->urlbuf, '/');
    if (!topic)
        return bad(o, "Invalid URL for -L argument specified - topic missing.");
    *topic++ = 0;
    if (o->ntopics >= CLI_MAX_TOPICS)
        return bad(o, "too many topics (%s)", topic);
    o->topics[o->ntopics++] = topic;
    o->port = tls ? 8883 : 1883;
    o->os_certs |= tls;
    split_authority(o->urlbuf, &o->user, &o->pass, &o->host, &o->port);
    return 1;
}

/* --proxy socks5h://[user[:pass]@]host[:port] (port 1080 when absent). */
static int parse_proxy(cli_mqtt_opts_t *o, const char *url)
{
    if (strncmp(url, "socks5h://", 10))
        return bad(o, "Unsupported proxy protocol: %s", url);
    snprintf(o->proxybuf, sizeof o->proxybuf, "%s", url + 10);
    o->proxy_port = 1080;
    split_authority(o->proxybuf, &o->proxy_user, &o->proxy_pass, &o->proxy_host, &o->proxy_port);
    if (!*o->proxy_host || o->proxy_port < 1 || o->proxy_port > 65535 ||
        (o->proxy_user && !*o->proxy_user))
        return bad(o, "Invalid proxy.");
    return 1;
}

/* -x: 0..4294967295 seconds; -1 (and the infinity sign) mean "never expires". */
static int parse_expiry(cli_mqtt_opts_t *o, const char *v)
{
    if (!strcmp(v, "-1") || !strcmp(v, "\xe2\x88\x9e")) {
        o->session_expiry = 0xFFFFFFFFL;
        return 1;
    }
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < 0 || n > 0xFFFFFFFFLL)
        return bad(o, "session-expiry-interval out of range.");
    o->session_expiry = (long)n;
    return 1;
}

/* mosquitto's TLS-engine, PSK and cipher options: our TLS layer has none of them. */
static const char *const unsupported[] = {"--ciphers", "--tls-version", "--tls-alpn",
                                          "--keyform", "--tls-engine",
                                          "--tls-engine-kpass-sha1", "--psk",
                                          "--psk-identity"};

int cli_mqtt_option(cli_mqtt_opts_t *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    long n;
    if (!strcmp(a, "-D") || !strcmp(a, "--property"))
        return parse_prop(o, argc, argv, i);
    if (!strcmp(a, "-c") || !strcmp(a, "--disable-clean-session")) {
        o->no_clean = true;
        return 1;
    }
    if (!strcmp(a, "-d") || !strcmp(a, "--debug")) {
        o->debug = true;
        return 1;
    }
    if (!strcmp(a, "--insecure")) {
        o->insecure = true;
        return 1;
    }
    if (!strcmp(a, "--tls-use-os-certs")) {
        o->os_certs = true;
        return 1;
    }
    if (!strcmp(a, "--will-retain")) {
        o->will_retain = true;
        return 1;
    }
    if (!strcmp(a, "--quiet")) {
        o->quiet = true;
        return 1;
    }
    if (!strcmp(a, "-S")) {
        o->use_srv = true;
        return 1;
    }
    if (!strcmp(a, "--nodelay"))
        return 1; /* the TCP transport always sets TCP_NODELAY */
    for (size_t k = 0; k < sizeof unsupported / sizeof unsupported[0]; k++)
        if (!strcmp(a, unsupported[k]))
            return bad(o, "%s is not supported", a);
    static const char *const with_arg[] = {"-h", "-p", "-i", "-u", "-P", "-k", "-V", "-q", "-t",
                                          "-x", "--cafile", "--capath", "--cert", "--key",
                                          "--will-topic", "--will-payload", "--will-qos",
                                          "--host", "--port", "--id", "--username", "--pw",
                                          "--keepalive", "--protocol-version", "--qos",
                                          "--topic", "-L", "--url", "-I", "--id-prefix",
                                          "-M", "--unix", "--proxy", "-A"};
    bool known = false;
    for (size_t k = 0; k < sizeof with_arg / sizeof with_arg[0]; k++)
        known |= !strcmp(a, with_arg[k]);
    if (!known)
        return 0;
    if (*i + 1 >= argc)
        return bad(o, "%s needs a value", a);
    const char *v = argv[++*i];
    if (!strcmp(a, "-h") || !strcmp(a, "--host"))
        o->host = v;
    else if (!strcmp(a, "-p") || !strcmp(a, "--port"))
        return number(o, a, v, 1, 65535, &n) < 0 ? -1 : (o->port = (int)n, 1);
    else if (!strcmp(a, "-i") || !strcmp(a, "--id"))
        o->id = v;
    else if (!strcmp(a, "-u") || !strcmp(a, "--username"))
        o->user = v;
    else if (!strcmp(a, "-P") || !strcmp(a, "--pw"))
        o->pass = v;
    else if (!strcmp(a, "-k") || !strcmp(a, "--keepalive"))
        return number(o, a, v, 0, 65535, &n) < 0 ? -1 : (o->keepalive = (int)n, 1);
    else if (!strcmp(a, "-V") || !strcmp(a, "--protocol-version"))
        return parse_version(o, v);
    else if (!strcmp(a, "-q") || !strcmp(a, "--qos"))
        return number(o, a, v, 0, 2, &n) < 0 ? -1 : (o->qos = (int)n, 1);
    else if (!strcmp(a, "-x"))
        return parse_expiry(o, v);
    else if (!strcmp(a, "-L") || !strcmp(a, "--url"))
        return parse_url(o, v);
    else if (!strcmp(a, "--proxy"))
        return parse_proxy(o, v);
    else if (!strcmp(a, "--unix"))
        o->unix_path = v;
    else if (!strcmp(a, "-A"))
        o->bind_address = v;
    else if (!strcmp(a, "-I") || !strcmp(a, "--id-prefix"))
        o->id_prefix = v;
    else if (!strcmp(a, "-M"))
        return number(o, a, v, 1, 65535, &n) < 0 ? -1 : (o->max_inflight = (int)n, 1);
    else if (!strcmp(a, "-t") || !strcmp(a, "--topic")) {
        if (o->ntopics >= CLI_MAX_TOPICS)
            return bad(o, "too many topics (%s)", v);
        o->topics[o->ntopics++] = v;
    } else if (!strcmp(a, "--cafile"))
        o->cafile = v;
    else if (!strcmp(a, "--capath"))
        o->capath = v;
    else if (!strcmp(a, "--cert"))
        o->cert = v;
    else if (!strcmp(a, "--key"))
        o->key = v;
    else if (!strcmp(a, "--will-topic"))
        o->will_topic = v;
    else if (!strcmp(a, "--will-payload"))
        o->will_payload = v;
    else if (!strcmp(a, "--will-qos"))
        return number(o, a, v, 0, 2, &n) < 0 ? -1 : (o->will_qos = (int)n, 1);
    return 1;
}

int cli_mqtt_check(cli_mqtt_opts_t *o)
{
    bool tls = o->cafile || o->capath || o->cert || o->key || o->insecure || o->os_certs;
    if (o->port < 0)
        o->port = tls ? 8883 : 1883;
    if (!o->cert != !o->key)
        return bad(o, "%s", "--cert and --key go together");
    if (o->version != IPM_PROTO_V5) {
        /* A -V 3.x after -D. mosquitto's sentences where it has one; where it publishes or
         * subscribes nothing without a word (publish, subscribe), a refusal instead. */
        if (o->nprops[CLI_PROPS_WILL] && o->will_topic)
            return bad(o, "%s", "Problem setting will.");
        if (o->nprops[CLI_PROPS_CONNECT])
            return bad(o, "%s", "Unable to connect (This feature is not supported.).");
        for (int k = 0; k < CLI_PROPS_N; k++)
            if (o->nprops[k] && k != CLI_PROPS_WILL)
                return bad(o, "-D %s needs MQTT v5, but a later -V chose 3.x",
                           k == CLI_PROPS_PUBLISH ? "publish" : "subscribe");
        if (o->session_expiry >= 0)
            return bad(o, "%s", "-x needs -V mqttv5");
    }
    if ((o->will_payload || o->will_retain) && !o->will_topic)
        return bad(o, "Will %s given, but no will topic given.",
                   o->will_payload ? "payload" : "retain");
    if (o->id && o->id_prefix)
        return bad(o, "%s", "-i and -I argument cannot be used together.");
    if (o->unix_path && o->proxy_host)
        return bad(o, "%s", "--unix goes without --proxy");
    if (!o->id) {
        snprintf(o->idbuf, sizeof o->idbuf, "%s%ld", o->id_prefix ? o->id_prefix : "iotplot-",
                 (long)getpid());
        o->id = o->idbuf;
    }
    /* As mosquitto: a kept 5.0 session without -x never expires. */
    if (o->version == IPM_PROTO_V5 && o->no_clean && o->session_expiry < 0)
        o->session_expiry = 0xFFFFFFFFL;
    return 0;
}

void cli_mqtt_free(const cli_mqtt_opts_t *o, ipm_client_t *c)
{
    if (cli_net_needed(o))
        cli_net_client_free(c);
    else
        ipm_client_free(c);
}

void cli_mqtt_error(const cli_mqtt_opts_t *o, ipm_client_t *c, const char *what, int err)
{
    if (o->quiet)
        return;
    uint8_t rc = c ? ipm_client_reason(c) : 0;
    if (err == IPM_EREFUSED) {
        const char *name =
            o->version == IPM_PROTO_V5 ? ipm_reason_string(rc) : ipm_connack3_string(rc);
        fprintf(stderr, "%s: %s: connection refused: %s (reason code 0x%02x)\n", o->prog, what,
                name, rc);
    } else if (err == IPM_ETLS && c) {
        fprintf(stderr, "%s: %s: %s\n", o->prog, what,
                cli_net_needed(o) ? cli_net_tls_error(c) : ipm_client_tls_error(c));
    } else if (rc >= 0x80 && (err == IPM_EDENIED || err == IPM_ECLOSED)) {
        fprintf(stderr, "%s: %s: %s (reason code 0x%02x)\n", o->prog, what,
                ipm_reason_string(rc), rc);
    } else {
        fprintf(stderr, "%s: %s: %s\n", o->prog, what, ipm_strerror(err));
    }
}

/* Errors of the network, after which trying again makes sense. */
static bool transient(int err)
{
    return err == IPM_OK || err == IPM_EIO || err == IPM_ECLOSED || err == IPM_ETIMEOUT ||
           err == IPM_ETLS || err == IPM_ERESOLVE;
}

static void on_event(ipm_client_t *c, const ipm_event_t *ev, void *user)
{
    cli_mqtt_opts_t *o = user;
    /* A server that sends malformed packets will not mend by reconnecting: give up. */
    if (ev->type == IPM_EV_DISCONNECTED && !transient(ev->err))
        o->fatal = ev->err;
    if (ev->type == IPM_EV_PUBLISHED && ev->reason >= IPM_RC_UNSPECIFIED_ERROR && !o->refused)
        o->refused = ev->reason;
    if (o->ev_cb)
        o->ev_cb(c, ev, o->ev_user);
    if (!o->debug)
        return;
    switch (ev->type) {
    case IPM_EV_CONNECTED:
        fprintf(stderr, "%s: connected (session present %d)\n", o->prog, ev->session_present);
        break;
    case IPM_EV_DISCONNECTED:
        if (ev->err == IPM_OK)
            fprintf(stderr, "%s: disconnected\n", o->prog);
        else
            fprintf(stderr, "%s: connection lost: %s\n", o->prog, ipm_strerror(ev->err));
        break;
    case IPM_EV_PUBLISHED:
        fprintf(stderr, "%s: message %u acknowledged (reason 0x%02x)\n", o->prog,
                ev->packet_id, ev->reason);
        break;
    case IPM_EV_DROPPED:
        fprintf(stderr, "%s: message dropped: %s\n", o->prog, ipm_strerror(ev->err));
        break;
    case IPM_EV_SUBACK:
        fprintf(stderr, "%s: resubscribed (reason 0x%02x)\n", o->prog, ev->reason);
        break;
    case IPM_EV_RELEASED:
        break;
    }
}

ipm_client_t *cli_mqtt_connect_cb(cli_mqtt_opts_t *o, bool auto_reconnect, uint16_t outbox,
                                  ipm_msg_cb on_msg, void *user)
{
    ipm_client_config_t cfg = ipm_client_config_default();
    cfg.host = o->host;
    cfg.port = (uint16_t)o->port;
    cfg.client_id = o->id;
    cfg.username = o->user;
    cfg.password = o->pass;
    cfg.version = (uint8_t)o->version;
    cfg.keepalive = (uint16_t)o->keepalive;
    cfg.clean_start = !o->no_clean;
    cfg.session_expiry = o->session_expiry > 0 ? (uint32_t)o->session_expiry : 0;
    if (o->max_inflight)
        cfg.max_inflight = (uint16_t)o->max_inflight;
    cfg.connect_props = o->props[CLI_PROPS_CONNECT];
    cfg.connect_prop_count = o->nprops[CLI_PROPS_CONNECT];
    if (o->will_topic) {
        cfg.will.topic = o->will_topic;
        cfg.will.payload = o->will_payload ? o->will_payload : "";
        cfg.will.len = o->will_payload ? strlen(o->will_payload) : 0;
        cfg.will.qos = (uint8_t)o->will_qos;
        cfg.will.retain = o->will_retain;
        cfg.will.props = o->props[CLI_PROPS_WILL];
        cfg.will.prop_count = o->nprops[CLI_PROPS_WILL];
    }
    cfg.auto_reconnect = auto_reconnect;
    cfg.reconnect_min_ms = 200;
    cfg.reconnect_max_ms = 5000;
    cfg.outbox_max = outbox;
    cfg.outbox_policy = IPM_OUTBOX_REFUSE; /* pub waits for room: every line is delivered */
    cfg.manual_ack = o->manual_ack;
    ipm_tls_opts_t tls = {.cafile = o->cafile, .capath = o->capath, .certfile = o->cert,
                          .keyfile = o->key, .insecure = o->insecure};
    bool use_tls = o->cafile || o->capath || o->cert || o->key || o->insecure || o->os_certs;
    const char *why = NULL;
    if (o->use_srv) {
        int port = 0;
        if (cli_net_srv(o->host, use_tls, o->srvhost, sizeof o->srvhost, &port) < 0) {
            if (!o->quiet)
                fprintf(stderr, "%s: no SRV record for %s_mqtt._tcp.%s\n", o->prog,
                        use_tls ? "_secure" : "", o->host);
            return NULL;
        }
        cfg.host = o->host = o->srvhost;
        cfg.port = (uint16_t)(o->port = port);
    }
    if (cli_discover_wanted(o)) {
        if (cli_discover(o, use_tls) < 0)
            return NULL;
        cfg.host = o->host;
        cfg.port = (uint16_t)o->port;
    }
    ipm_client_t *c = cli_net_needed(o)
                          ? cli_net_client_new(o, &cfg, use_tls ? &tls : NULL, &why)
                          : ipm_client_new(&cfg, use_tls ? &tls : NULL, &why);
    if (!c) {
        if (!o->quiet)
            fprintf(stderr, "%s: %s\n", o->prog, why ? why : "cannot create the client");
        return NULL;
    }
    ipm_client_set_event_cb(c, on_event, o);
    ipm_client_set_callback(c, on_msg, user);
    int rc = ipm_client_connect(c);
    if (rc != IPM_OK) {
        char what[300];
        if (o->unix_path)
            snprintf(what, sizeof what, "cannot connect to %s", o->unix_path);
        else
            snprintf(what, sizeof what, "cannot connect to %s:%d", o->host, o->port);
        if (rc == IPM_ECLOSED && !use_tls && !o->unix_path && !ipm_client_reason(c) && !o->quiet)
            /* A TLS port closes on the first plaintext byte: the likeliest cause. */
            fprintf(stderr,
                    "%s: %s: the server closed the connection before answering CONNECT; "
                    "if the port expects TLS, give --cafile FILE (or --capath DIR, "
                    "--tls-use-os-certs)\n",
                    o->prog, what);
        else
            cli_mqtt_error(o, c, what, rc);
        cli_mqtt_free(o, c);
        return NULL;
    }
    return c;
}

ipm_client_t *cli_mqtt_connect(cli_mqtt_opts_t *o, bool auto_reconnect, uint16_t outbox)
{
    return cli_mqtt_connect_cb(o, auto_reconnect, outbox, NULL, NULL);
}
