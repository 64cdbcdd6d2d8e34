/*
 * config_table.c - every mosquitto.conf directive the broker knows, one row each.
 *
 * Directives keep mosquitto's meaning. Directives of features this broker does not offer
 * are rows too (IPB__CT_REFUSED): refused by name with the feature they need, never
 * silently ignored, so a config that asks for what is not offered does not come up without it.
 * Rows are in the order docs/broker.md lists them, section by section.
 */
#include <limits.h>
#include <string.h>

#include "bridge_conf.h"
#include "config_table.h"

/* Where a row's value lives: a field of ipb_config_t or of the listener above it. */
#define G(m)                                                                                \
    .scope = IPB__CS_GLOBAL, .offset = offsetof(ipb_config_t, m),                          \
    .size = sizeof(((ipb_config_t *)0)->m)
#define L(m)                                                                                \
    .scope = IPB__CS_LISTENER, .offset = offsetof(ipb_listener_config_t, m),               \
    .size = sizeof(((ipb_listener_config_t *)0)->m)
#define B(m)                                                                                \
    .scope = IPB__CS_BRIDGE, .offset = offsetof(ipb_bridge_config_t, m),                   \
    .size = sizeof(((ipb_bridge_config_t *)0)->m)

/* ... and, with per_listener_settings, also in the listener above it. */
#define PL(m)                                                                               \
    .flags = IPB__CF_PER_LISTENER, .loffset = offsetof(ipb_listener_config_t, m),          \
    .lsize = sizeof(((ipb_listener_config_t *)0)->m)

#define LISTENERS "Listeners"
#define AUTH "Authentication and authorization"
#define LIMITS "Limits"
#define PERSISTENCE "Persistence"
#define OTHER "Other"
#define REFUSED "Not offered"
#define PROCESS "Process and log"
#define BRIDGES "Bridges"
#define CLIENTS "Clients and deliveries"

/* ---- the directives that need more than a value --------------------------------------- */

static int listener(ipb__cparse_t *p, const ipb__cdir_t *d, char **tok, int n)
{
    ipb_config_t *cfg = ipb__cparse_cfg(p);
    const char *addr = n > 2 && !strcmp(d->name, "listener") ? tok[2] : NULL;
    int64_t port;
    if (ipb__cparse_int(p, "listener", n > 1 ? tok[1] : NULL, 0, UINT16_MAX, &port) < 0)
        return IPM_EINVALID;
    if (addr && strlen(addr) >= sizeof cfg->listeners[0].address)
        return ipb__cfail(p, "listener address too long");
    if (ipb_config_add_listener(cfg, (uint16_t)port, addr) < 0)
        return ipb__cfail(p, "more than %d listeners", IPB_MAX_LISTENERS);
    return 0;
}

static int tls_version(ipb__cparse_t *p, const ipb__cdir_t *d, char **tok, int n)
{
    ipb_config_t *c = ipb__cparse_cfg(p);
    const char *v = n > 1 ? tok[1] : NULL;
    if (!v || (strcmp(v, "tlsv1.2") && strcmp(v, "tlsv1.3")))
        return ipb__cfail(p, "tls_version must be tlsv1.2 or tlsv1.3 (older versions are broken)");
    char *out = (char *)&c->listeners[c->n_listeners - 1] + d->offset;
    snprintf(out, d->size, "%s", v);
    return 0;
}

static int include_dir(ipb__cparse_t *p, const ipb__cdir_t *d, char **tok, int n)
{
    (void)d;
    return ipb__cparse_include_dir(p, n > 1 ? tok[1] : NULL);
}

/* ---- the directives of the process, its log and its sockets that need more ----------- */

/* log_dest: repeatable; the first line replaces the default, `none` empties the set. */
static int log_dest(ipb__cparse_t *p, const ipb__cdir_t *d, char **tok, int n)
{
    static const ipb__cname_t dests[] = {
        {"stderr", IPB_LOG_DEST_STDERR}, {"stdout", IPB_LOG_DEST_STDOUT},
        {"file", IPB_LOG_DEST_FILE},     {"syslog", IPB_LOG_DEST_SYSLOG},
        {"topic", IPB_LOG_DEST_TOPIC},   {"none", IPB_LOG_DEST_NONE},
        {NULL, 0}};
    ipb_config_t *c = ipb__cparse_cfg(p);
    const char *v = n > 1 ? tok[1] : NULL;
    const ipb__cname_t *nm = NULL;
    for (const ipb__cname_t *x = dests; v && x->name && !nm; x++)
        if (!strcmp(v, x->name))
            nm = x;
    if (!nm)
        return ipb__cfail(p, "log_dest must be stderr, stdout, file PATH, syslog, topic or none%s",
                          v && !strcmp(v, "dlt") ? " (dlt is not offered)" : "");
    if (nm->value == IPB_LOG_DEST_FILE) {
        if (n < 3)
            return ipb__cfail(p, "log_dest file needs a path");
        if (snprintf(c->log_file, sizeof c->log_file, "%s", tok[2]) >= (int)sizeof c->log_file)
            return ipb__cfail(p, "log_dest file: path too long");
    }
    unsigned cur = ipb__cparse_first(p, d) ? 0 : c->log_dest;
    c->log_dest = nm->value ? cur | nm->value : 0;
    return 0;
}

/* A value with spaces in it (a strftime format): every word after the directive. */
static int rest_of_line(ipb__cparse_t *p, const ipb__cdir_t *d, char **tok, int n)
{
    char *out = (char *)ipb__cparse_cfg(p) + d->offset;
    size_t at = 0;
    if (n < 2)
        return ipb__cfail(p, "%s needs a value", d->name);
    out[0] = 0;
    for (int i = 1; i < n; i++) {
        int w = snprintf(out + at, d->size - at, "%s%s", i > 1 ? " " : "", tok[i]);
        if (w < 0 || (size_t)w >= d->size - at)
            return ipb__cfail(p, "%s: value longer than %zu bytes", d->name, d->size - 1);
        at += (size_t)w;
    }
    return 0;
}

/* bind_address: the address of the listener `port` made (the first one). */
static int bind_address(ipb__cparse_t *p, const ipb__cdir_t *d, char **tok, int n)
{
    ipb_config_t *c = ipb__cparse_cfg(p);
    (void)d;
    if (n < 2)
        return ipb__cfail(p, "bind_address needs an address");
    if (!c->n_listeners && ipb_config_add_listener(c, 1883, NULL) < 0)
        return ipb__cfail(p, "more than %d listeners", IPB_MAX_LISTENERS);
    ipb_listener_config_t *l = &c->listeners[0];
    if (snprintf(l->address, sizeof l->address, "%s", tok[1]) >= (int)sizeof l->address)
        return ipb__cfail(p, "bind_address too long");
    return 0;
}

static int ws_log_level(ipb__cparse_t *p, const ipb__cdir_t *d, char **tok, int n)
{
    int64_t v;
    (void)d;
    return ipb__cparse_int(p, "websockets_log_level", n > 1 ? tok[1] : NULL, 0, INT_MAX, &v);
}

static int ws_headers_size(ipb__cparse_t *p, const ipb__cdir_t *d, char **tok, int n)
{
    int64_t v;
    (void)d;
    return ipb__cparse_int(p, "websockets_headers_size", n > 1 ? tok[1] : NULL, 0, 8192, &v);
}

static const ipb__cname_t domains[] = {{"ipv4", IPB_DOMAIN_IPV4}, {"ipv6", IPB_DOMAIN_IPV6},
                                       {NULL, 0}};
static int tls_keyform(ipb__cparse_t *p, const ipb__cdir_t *d, char **tok, int n)
{
    (void)d;
    if (n > 1 && !strcmp(tok[1], "pem"))
        return 0;
    return ipb__cfail(p, "tls_keyform must be pem (OpenSSL engines are not offered)");
}

static const ipb__cname_t bridge_versions[] = {
    {"mqttv31", IPM_PROTO_V31}, {"mqttv311", IPM_PROTO_V311}, {"mqttv50", IPM_PROTO_V5},
    {NULL, 0}};

static const ipb__cname_t bridge_starts[] = {{"automatic", IPB_BRIDGE_AUTOMATIC},
                                             {"lazy", IPB_BRIDGE_LAZY},
                                             {"once", IPB_BRIDGE_ONCE},
                                             {NULL, 0}};

static const ipb__cname_t protocols[] = {{"mqtt", 0}, {"websockets", 1}, {NULL, 0}};

/* autosave_interval: a number, checked and not kept (every change is committed anyway). */
static int accepted_seconds(ipb__cparse_t *p, const ipb__cdir_t *d, char **tok, int n)
{
    int64_t v;
    return ipb__cparse_int(p, d->name, n > 1 ? tok[1] : NULL, 0, INT32_MAX, &v) < 0
               ? IPM_EINVALID
               : 0;
}

static const ipb__cname_t syncs[] = {
    {"normal", IPB_PERSIST_SYNC_NORMAL}, {"full", IPB_PERSIST_SYNC_FULL}, {NULL, 0}};

/* mosquitto's log_type names; websockets is accepted and logs nothing here. */
static const ipb__cname_t log_types[] = {
    {"error", IPB_LOG_ERR},        {"warning", IPB_LOG_WARNING},
    {"notice", IPB_LOG_NOTICE},    {"information", IPB_LOG_INFO},
    {"debug", IPB_LOG_DEBUG},      {"subscribe", IPB_LOG_SUBSCRIBE},
    {"unsubscribe", IPB_LOG_UNSUBSCRIBE}, {"websockets", 0},
    {"all", IPB_LOG_ALL},          {"none", 0},
    {NULL, 0}};

#define NOT_OFFERED_IN(n, sec, what) {.name = n, .section = sec, .type = IPB__CT_REFUSED, .doc = what}
#define NOT_OFFERED(n, what) NOT_OFFERED_IN(n, REFUSED, what)

const ipb__cdir_t ipb__config_table[] = {
    /* ---- listeners ---- */
    {.name = "listener", .section = LISTENERS, .type = IPB__CT_CUSTOM, .parse = listener,
     .arg = "PORT [ADDRESS]", .doc_default = "none",
     .doc = "a listener; `0` lets the kernel pick the port (logged)"},
    {.name = "port", .section = LISTENERS, .type = IPB__CT_CUSTOM, .parse = listener,
     .arg = "PORT", .doc = "the same as `listener PORT`"},
    {.name = "protocol", .section = LISTENERS, .type = IPB__CT_ENUM, L(websockets),
     .names = protocols,
     .doc = "`websockets`: MQTT over WebSockets (any path, subprotocol `mqtt` or `mqttv3.1`) "
            "and static files on GET"},
    {.name = "http_dir", .section = LISTENERS, .type = IPB__CT_PATH, L(http_dir), .arg = "DIR",
     .doc_default = "the built-in console", .doc = "files served on GET by a websockets listener"},
    {.name = "http_metrics", .section = LISTENERS, .type = IPB__CT_BOOL, L(http_metrics),
     .max = 1, .doc = "`GET /metrics` on a websockets listener: Prometheus text format "
                      "0.0.4 (the list is below), with the same login as `/plots/`"},
    {.name = "certfile", .section = LISTENERS, .type = IPB__CT_PATH, L(certfile), .arg = "FILE",
     .flags = IPB__CF_READABLE,
     .doc = "PEM certificate chain: the listener speaks TLS (`mqtts`, `wss`); needs `keyfile`"},
    {.name = "keyfile", .section = LISTENERS, .type = IPB__CT_PATH, L(keyfile), .arg = "FILE",
     .flags = IPB__CF_READABLE,
     .doc = "the PEM key of that certificate"},
    {.name = "cafile", .section = LISTENERS, .type = IPB__CT_PATH, L(cafile), .arg = "FILE",
     .flags = IPB__CF_READABLE,
     .doc = "CAs for client certificates"},
    {.name = "capath", .section = LISTENERS, .type = IPB__CT_PATH, L(capath), .arg = "DIR",
     .doc = "a folder of such CAs"},
    {.name = "require_certificate", .section = LISTENERS, .type = IPB__CT_BOOL,
     L(require_certificate), .max = 1, .doc = "mutual TLS"},
    {.name = "use_identity_as_username", .section = LISTENERS, .type = IPB__CT_BOOL,
     L(use_identity_as_username), .max = 1,
     .doc = "the client certificate's CN is the user name (no password needed)"},
    {.name = "use_subject_as_username", .section = LISTENERS, .type = IPB__CT_BOOL,
     L(use_subject_as_username), .max = 1, .doc = "its whole subject, RFC 2253, is"},
    {.name = "tls_version", .section = LISTENERS, .type = IPB__CT_CUSTOM, L(tls_version),
     .parse = tls_version, .arg = "tlsv1.2|tlsv1.3", .doc_default = "`tlsv1.2`",
     .doc = "minimum TLS version"},
    {.name = "ciphers", .section = LISTENERS, .type = IPB__CT_STRING, L(ciphers), .arg = "LIST",
     .doc_default = "OpenSSL's", .doc = "TLS 1.2 cipher list"},
    {.name = "ciphers_tls1.3", .section = LISTENERS, .type = IPB__CT_STRING, L(ciphersuites),
     .arg = "LIST", .doc_default = "OpenSSL's", .doc = "TLS 1.3 suites"},
    {.name = "ciphersuites", .section = LISTENERS, .type = IPB__CT_STRING, L(ciphersuites),
     .arg = "LIST", .doc = "the same as `ciphers_tls1.3`"},

    /* ---- authentication and authorization ---- */
    {.name = "allow_anonymous", .section = AUTH, .type = IPB__CT_BOOL, G(allow_anonymous),
     PL(allow_anonymous), .max = 1, .dflt = 1, .arg = "true|false",
     .doc_default = "`false` with `-c`",
     .doc = "clients without a user name; per listener with `per_listener_settings true`"},
    {.name = "per_listener_settings", .section = AUTH, .type = IPB__CT_BOOL,
     G(per_listener_settings), .max = 1,
     .doc = "`allow_anonymous`, `password_file`, `acl_file`, `psk_file`, `auto_id_prefix` "
            "and `allow_zero_length_clientid` given under a listener apply to it alone "
            "(it must come before them). Given before the first listener, they apply to "
            "every listener that does not set its own, where mosquitto applies them to none. "
            "Messages for a session are checked against the ACL of the listener it last "
            "connected to. Without it, each is broker-wide wherever it appears"},
    {.name = "password_file", .section = AUTH, .type = IPB__CT_PATH, G(password_file),
     PL(password_file),
     .arg = "FILE", .doc_default = "none",
     .doc = "mosquitto_passwd's format: `user:$7$...` (PBKDF2-SHA512) or `user:$6$...`; make "
            "it with `iotplot passwd`"},
    {.name = "acl_file", .section = AUTH, .type = IPB__CT_PATH, G(acl_file),
     PL(acl_file), .arg = "FILE",
     .doc_default = "none",
     .doc = "mosquitto's ACL format; once given, what it does not allow is denied"},
    {.name = "max_login_failures", .section = AUTH, .type = IPB__CT_INT, G(max_login_failures),
     .max = UINT32_MAX, .dflt = 10,
     .doc = "failed logins of one user from one address per window before that user is "
            "refused from that address (`0x8A`, 3.1.1: not authorized) without checking; "
            "others behind the same address are not; `0` = no limit"},
    {.name = "max_address_failures", .section = AUTH, .type = IPB__CT_INT,
     G(max_address_failures), .max = UINT32_MAX, .dflt = 100,
     .doc = "failed logins from one address per window, whatever the user names, before "
            "every login from it is refused (against guessing many names); `0` = no limit"},
    {.name = "login_failure_window", .section = AUTH, .type = IPB__CT_INT,
     G(login_failure_window), .max = 86400, .dflt = 60, .arg = "SECONDS", .doc = "that window"},

    /* ---- limits ---- */
    {.name = "max_connections", .section = LIMITS, .type = IPB__CT_INT, G(max_connections),
     .min = -1, .max = INT_MAX, .dflt = -1, .doc_default = "`-1` (none)",
     .doc = "connections beyond it are closed at once. At start the broker raises its soft "
            "open files limit (RLIMIT_NOFILE) as far as this needs, to the hard limit when "
            "unlimited, and logs it, with a warning when the hard limit is lower (mosquitto "
            "leaves the limit as it finds it)"},
    {.name = "connect_timeout", .section = LIMITS, .type = IPB__CT_INT, G(connect_timeout_ms),
     .min = 1, .max = 3600, .dflt = 10, .scale = 1000, .arg = "SECONDS",
     .doc = "time for the TLS handshake, the HTTP request and the first MQTT packet"},
    {.name = "max_connect_size", .section = LIMITS, .type = IPB__CT_SIZE, G(max_connect_size),
     .max = IPM_MAX_REMAINING_LENGTH + 5, .dflt = 64 << 10,
     .doc = "a larger first packet closes the connection at once (5.0: CONNACK `0x95`), so "
            "connections that have not logged in hold little memory; `0` = max_packet_size"},
    {.name = "max_packet_size", .section = LIMITS, .type = IPB__CT_SIZE, G(max_packet_size),
     .max = IPM_MAX_REMAINING_LENGTH + 5, .dflt = 16 << 20,
     .doc = "larger packets close the connection (5.0: DISCONNECT `0x95`); `0` = the "
            "protocol's 256 MB"},
    {.name = "message_size_limit", .section = LIMITS, .type = IPB__CT_SIZE,
     G(message_size_limit), .max = IPM_MAX_REMAINING_LENGTH, .doc_default = "`0` (none)",
     .doc = "larger payloads are refused (5.0: `0x97`)"},
    {.name = "max_topic_length", .section = LIMITS, .type = IPB__CT_SIZE, G(max_topic_length),
     .max = IPM_MAX_STRING_LEN, .dflt = 4096, .flags = IPB__CF_ZERO_IS_MAX,
     .doc = "longer topics and filters are refused (`0x90` / `0x8F`); `0` = the protocol's "
            "65535"},
    {.name = "max_topic_levels", .section = LIMITS, .type = IPB__CT_INT, G(max_topic_levels),
     .max = IPM_MAX_STRING_LEN, .dflt = 64, .flags = IPB__CF_ZERO_IS_MAX,
     .doc = "so are deeper ones; `0` = no limit"},
    {.name = "max_subscriptions", .section = LIMITS, .type = IPB__CT_INT, G(max_subscriptions),
     .max = UINT32_MAX, .dflt = 10000, .doc = "per client"},
    {.name = "max_inflight_messages", .section = LIMITS, .type = IPB__CT_INT,
     G(max_inflight_messages), .max = UINT16_MAX, .dflt = 20,
     .doc = "QoS 1/2 in flight per client each way (our Receive Maximum)"},
    {.name = "max_queued_messages", .section = LIMITS, .type = IPB__CT_INT,
     G(max_queued_messages), .max = UINT32_MAX, .dflt = 1000,
     .doc = "per session beyond the in-flight window; when full, the newest message is "
            "dropped and what is queued keeps its order"},
    {.name = "max_queued_bytes", .section = LIMITS, .type = IPB__CT_SIZE, G(max_queued_bytes),
     .max = INT32_MAX, .doc_default = "`0` (none)", .doc = "the same in payload bytes"},
    {.name = "queue_qos0_messages", .section = LIMITS, .type = IPB__CT_BOOL,
     G(queue_qos0_messages), .max = 1,
     .doc = "queue QoS 0 for offline persistent sessions too"},
    {.name = "max_outgoing_bytes", .section = LIMITS, .type = IPB__CT_SIZE,
     G(max_outgoing_bytes), .max = INT64_MAX, .dflt = 4 << 20,
     .doc = "unsent bytes per connection before QoS 0 messages to it are dropped (a slow "
            "reader cannot grow memory). Every drop counts in "
            "`$SYS/broker/publish/messages/dropped`"},
    {.name = "max_retained_messages", .section = LIMITS, .type = IPB__CT_INT,
     G(max_retained_messages), .max = UINT32_MAX, .dflt = 100000,
     .doc = "distinct retained topics kept; beyond it new retained topics are delivered but "
            "not kept (replacing and clearing still work); `0` = none"},
    {.name = "memory_limit", .section = LIMITS, .type = IPB__CT_SIZE, G(memory_limit),
     .max = INT64_MAX, .doc_default = "`0` (none)",
     .doc = "above this resident size, publishes from clients are refused (5.0: `0x97`)"},
    {.name = "max_keepalive", .section = LIMITS, .type = IPB__CT_INT, G(max_keepalive),
     .max = UINT16_MAX, .dflt = UINT16_MAX, .arg = "SECONDS",
     .doc = "larger keepalives are lowered (5.0: Server Keep Alive)"},
    {.name = "max_topic_alias", .section = LIMITS, .type = IPB__CT_INT, G(topic_alias_maximum),
     .max = UINT16_MAX, .dflt = 10, .doc = "topic aliases a 5.0 client may use towards us"},
    {.name = "persistent_client_expiration", .section = LIMITS, .type = IPB__CT_DURATION,
     G(persistent_client_expiration), .max = UINT32_MAX - 1, .doc_default = "never",
     .doc = "3.x persistent sessions expire after this (`1h`, `2d`, `3w`, `4m`, `5y`)"},

    /* ---- persistence ---- */
    {.name = "persistence", .section = PERSISTENCE, .type = IPB__CT_BOOL, G(persistence),
     .max = 1,
     .doc = "keep retained messages, sessions that outlive their connection, their "
            "subscriptions, queued and in-flight messages in one SQLite file, restored at "
            "start. A QoS 1/2 PUBLISH, and a persistent session's SUBSCRIBE, is acknowledged "
            "only once what it changed is committed"},
    {.name = "persistence_location", .section = PERSISTENCE, .type = IPB__CT_PATH,
     G(persistence_location), .arg = "DIR", .doc_default = "the working directory",
     .doc = "the folder of the persistence file"},
    {.name = "persistence_file", .section = PERSISTENCE, .type = IPB__CT_STRING,
     G(persistence_file), .arg = "NAME", .doc_default = "`iotplot.db`",
     .doc = "its name; SQLite keeps `NAME-wal` and `NAME-shm` beside it while running"},
    {.name = "persistence_sync", .section = PERSISTENCE, .type = IPB__CT_ENUM,
     G(persistence_sync), .names = syncs, .arg = "normal|full", .doc_default = "`normal`",
     .doc = "`normal`: what was acknowledged survives the broker being killed (kill -9, a "
            "crash); `full`: each commit is also flushed to the disk (fsync), so it survives "
            "a power loss, at the disk's flush rate"},
    {.name = "persistence_queue_memory", .section = PERSISTENCE, .type = IPB__CT_SIZE,
     G(persistence_queue_memory), .max = INT64_MAX, .dflt = 16 << 20,
     .doc = "the queued messages that sessions keep in memory, all sessions together, each "
            "counted as its payload, its topic and 200 bytes; an offline session keeps at "
            "most the first 64 of its queue there. The rest of a queue is only in the "
            "persistence file and is read back as the queue drains, so queues much larger "
            "than memory fit. `max_queued_messages` and `max_queued_bytes` count the whole "
            "queue (after a restart, `max_queued_bytes` counts what was queued since). `0` "
            "= no limit but the 64"},
    {.name = "autosave_interval", .section = PERSISTENCE, .type = IPB__CT_CUSTOM,
     .parse = accepted_seconds, .arg = "SECONDS", .doc_default = "-",
     .doc = "accepted as mosquitto's and unnecessary: every change is committed before it is "
            "acknowledged"},
    {.name = "autosave_on_changes", .section = PERSISTENCE, .type = IPB__CT_BOOL,
     .flags = IPB__CF_NOSTORE, .max = 1, .doc_default = "-",
     .doc = "the same"},

    /* ---- other ---- */
    {.name = "retain_available", .section = OTHER, .type = IPB__CT_BOOL, G(retain_available),
     .max = 1, .dflt = 1, .doc = "retained messages"},
    {.name = "sys_interval", .section = OTHER, .type = IPB__CT_INT, G(sys_interval),
     .max = 86400 * 365, .dflt = 10, .arg = "SECONDS",
     .doc = "seconds between updates of the `$SYS/broker/...` topics below; `0` = off"},
    {.name = "plots_dir", .section = OTHER, .type = IPB__CT_PATH, G(plots_dir), .arg = "DIR",
     .doc_default = "none (`iotplot serve`: its output folder)",
     .doc = "served read-only under `/plots/` by websockets listeners"},
    {.name = "announce", .section = OTHER, .type = IPB__CT_BOOL, G(announce), .max = 1,
     .doc_default = "`false` (`iotplot serve`: `true`)",
     .doc = "announce the listeners over mDNS/DNS-SD through avahi-daemon: `_mqtt._tcp`, "
            "`_secure-mqtt._tcp` (TLS), `_http._tcp` with `path=/` (websockets), so "
            "`iotplot sub -h auto` and other browsers find the broker. No daemon: one log "
            "line, and the announcement follows when one starts"},
    {.name = "announce_name", .section = OTHER, .type = IPB__CT_CUSTOM, G(announce_name),
     .parse = rest_of_line, .arg = "NAME", .doc_default = "`iotplot on HOST`",
     .doc = "the service name browsers show (the rest of the line, spaces included); a name "
            "taken on the network becomes `NAME #2`"},
    {.name = "include_dir", .section = OTHER, .type = IPB__CT_CUSTOM, .parse = include_dir,
     .arg = "DIR", .doc = "every `*.conf` in DIR, in name order"},

    /* ---- the process and its log ---- */
    {.name = "pid_file", .section = PROCESS, .type = IPB__CT_PATH, G(pid_file), .arg = "FILE",
     .doc_default = "none", .doc = "the broker's process id, written at start and removed at exit"},
    {.name = "user", .section = PROCESS, .type = IPB__CT_STRING, G(user), .arg = "NAME",
     .doc_default = "none: keep the ids it was started with",
     .doc = "started as root, the broker takes this user's ids (and groups) once its "
            "listeners are bound and its files open. Unlike mosquitto, no user is assumed"},
    {.name = "log_dest", .section = PROCESS, .type = IPB__CT_CUSTOM, G(log_dest),
     .parse = log_dest, .max = UINT_MAX, .dflt = IPB_LOG_DEST_STDERR,
     .arg = "stderr|stdout|file PATH|syslog|topic|none", .doc_default = "`stderr`",
     .doc = "where the log goes; repeatable, the first line replaces the default. `topic`: "
            "`$SYS/broker/log/E` (error), `W`, `N`, `I`, `D`, `M` (subscribe, unsubscribe). "
            "The file is reopened on SIGHUP (logrotate)"},
    {.name = "log_facility", .section = PROCESS, .type = IPB__CT_INT, G(log_facility),
     .max = 8, .dflt = 8, .doc_default = "`daemon`",
     .doc = "syslog's `local0` to `local7` (`0` to `7`); `8` is `daemon`"},
    {.name = "log_type", .section = PROCESS, .type = IPB__CT_FLAGS, G(log_types),
     .names = log_types, .max = UINT_MAX,
     .dflt = IPB_LOG_ERR | IPB_LOG_WARNING | IPB_LOG_NOTICE | IPB_LOG_INFO,
     .doc = "repeatable; the first replaces the default"},
    {.name = "log_timestamp", .section = PROCESS, .type = IPB__CT_BOOL, G(log_timestamp),
     .max = 1, .dflt = 1, .doc = "each line (not syslog's) starts with the time"},
    {.name = "log_timestamp_format", .section = PROCESS, .type = IPB__CT_CUSTOM,
     G(log_timestamp_format), .parse = rest_of_line, .arg = "FORMAT",
     .doc_default = "Unix seconds",
     .doc = "that time as strftime(3) writes it, e.g. `%Y-%m-%dT%H:%M:%S` (the rest of the "
            "line, spaces included)"},
    {.name = "connection_messages", .section = PROCESS, .type = IPB__CT_BOOL,
     G(connection_messages), .max = 1, .dflt = 1,
     .doc = "log each client's connection and disconnection"},
    {.name = "websockets_log_level", .section = PROCESS, .type = IPB__CT_CUSTOM,
     .parse = ws_log_level, .arg = "N", .doc_default = "`0`",
     .doc = "accepted: a level of libwebsockets, which this broker does not use; its "
            "WebSocket lines follow `log_type`"},

    /* ---- listeners: addresses and sockets ---- */
    {.name = "bind_address", .section = LISTENERS, .type = IPB__CT_CUSTOM, .parse = bind_address,
     .arg = "ADDRESS", .doc_default = "every address",
     .doc = "the address of the listener made by `port` (mosquitto's older spelling)"},
    {.name = "bind_interface", .section = LISTENERS, .type = IPB__CT_STRING, L(bind_interface),
     .arg = "DEVICE", .doc_default = "any",
     .doc = "only connections arriving on this network interface (SO_BINDTODEVICE, needs "
            "root or CAP_NET_RAW)"},
    {.name = "socket_domain", .section = LISTENERS, .type = IPB__CT_ENUM, L(socket_domain),
     .names = domains, .doc_default = "either; no address: `0.0.0.0`",
     .doc = "which family a listener's host name resolves to; without an address, `ipv6` "
            "binds `::` (which takes IPv4 too). Unlike mosquitto, a listener without address "
            "or domain is IPv4 only"},
    {.name = "mount_point", .section = LISTENERS, .type = IPB__CT_STRING, L(mount_point),
     .arg = "PREFIX",
     .doc = "prefixed to the topics, filters and wills of this listener's clients, and taken "
            "off the topics they receive: they see only the tree under it"},
    {.name = "max_qos", .section = LISTENERS, .type = IPB__CT_INT, L(max_qos), .max = 2,
     .dflt = 2,
     .doc = "the highest QoS of this listener's clients: 5.0 CONNACKs say it (Maximum QoS), "
            "subscriptions are granted (and delivered) at most it, a PUBLISH above it "
            "disconnects (5.0: `0x9B`), a will above it is refused (CONNACK `0x9B`, 3.1.1: "
            "`3`, where mosquitto closes without one). Always per listener, whatever "
            "`per_listener_settings` says"},
    {.name = "use_username_as_clientid", .section = LISTENERS, .type = IPB__CT_BOOL,
     L(use_username_as_clientid), .max = 1,
     .doc = "the user name replaces the client id (one session per user)"},
    {.name = "set_tcp_nodelay", .section = LISTENERS, .type = IPB__CT_BOOL, G(set_tcp_nodelay),
     .max = 1, .dflt = 1,
     .doc = "TCP_NODELAY on client sockets. Unlike mosquitto's default, on: writes are "
            "already batched once per loop turn"},
    {.name = "websockets_headers_size", .section = LISTENERS, .type = IPB__CT_CUSTOM,
     .parse = ws_headers_size, .arg = "BYTES", .doc_default = "8192",
     .doc = "accepted up to 8192: request heads of that size are always read; larger is "
            "refused"},

    /* ---- clients and deliveries ---- */
    {.name = "allow_zero_length_clientid", .section = CLIENTS, .type = IPB__CT_BOOL,
     G(allow_zero_length_clientid), PL(allow_zero_length_clientid), .max = 1, .dflt = 1,
     .doc = "an empty client id gets one assigned (3.1.1 with a clean session, 5.0); "
            "`false` refuses it"},
    {.name = "auto_id_prefix", .section = CLIENTS, .type = IPB__CT_STRING, G(auto_id_prefix),
     PL(auto_id_prefix),
     .arg = "PREFIX", .doc_default = "`auto-`", .doc = "the start of those assigned ids"},
    {.name = "clientid_prefixes", .section = CLIENTS, .type = IPB__CT_STRING,
     G(clientid_prefixes), .arg = "PREFIX", .doc_default = "none",
     .doc = "only client ids starting with it may connect (others: not authorized, `0x87` / `5`)"},
    {.name = "check_retain_source", .section = CLIENTS, .type = IPB__CT_BOOL,
     G(check_retain_source), .max = 1,
     .doc = "before a retained message is sent to a new subscriber, its publisher's right "
            "to publish it is checked again against the ACL file (as SIGHUP last read it); if "
            "gone, the message is removed"},
    {.name = "upgrade_outgoing_qos", .section = CLIENTS, .type = IPB__CT_BOOL,
     G(upgrade_outgoing_qos), .max = 1,
     .doc = "deliver at the subscription's QoS even when the message's is lower"},
    {.name = "allow_duplicate_messages", .section = CLIENTS, .type = IPB__CT_BOOL,
     .flags = IPB__CF_NOSTORE, .max = 1, .doc_default = "`false`",
     .doc = "accepted (deprecated in mosquitto): a message matching several subscriptions "
            "of a client reaches it once, which both values allow"},
    {.name = "max_inflight_bytes", .section = CLIENTS, .type = IPB__CT_SIZE,
     G(max_inflight_bytes), .max = INT64_MAX, .doc_default = "`0` (none)",
     .doc = "QoS 1/2 payload bytes in flight to a client, beside `max_inflight_messages`; "
            "one larger message still goes, alone"},

    /* ---- TLS beyond certificates ---- */
    {.name = "crlfile", .section = LISTENERS, .type = IPB__CT_PATH, L(crlfile), .arg = "FILE",
     .doc = "PEM certificate revocation list(s) of `cafile`'s CA: revoked client "
            "certificates fail the handshake; read again on SIGHUP"},
    {.name = "psk_hint", .section = LISTENERS, .type = IPB__CT_STRING, L(psk_hint),
     .arg = "HINT",
     .doc = "TLS-PSK on this listener: clients may use a key of `psk_file` (then `certfile` "
            "and `keyfile` are optional); read again on SIGHUP"},
    {.name = "psk_file", .section = LISTENERS, .type = IPB__CT_PATH, G(psk_file),
     PL(psk_file), .arg = "FILE",
     .doc_default = "none", .doc = "`identity:hexkey` lines, as mosquitto's"},
    {.name = "tls_keyform", .section = LISTENERS, .type = IPB__CT_CUSTOM, .parse = tls_keyform,
     .arg = "pem", .doc_default = "`pem`",
     .doc = "`keyfile` is PEM; `engine` is refused (OpenSSL engines are not offered)"},

    /* ---- bridges (bridge.c), each row of the `connection` block above it ---- */
    {.name = "connection", .section = BRIDGES, .type = IPB__CT_CUSTOM,
     .parse = ipb__bridge_parse_connection, .arg = "NAME", .doc_default = "none",
     .doc = "starts a bridge block: the lines below it, up to the next `connection`, are "
            "this bridge's"},
    {.name = "address", .section = BRIDGES, .type = IPB__CT_CUSTOM, .scope = IPB__CS_BRIDGE,
     .parse = ipb__bridge_parse_address, .arg = "HOST[:PORT] ...", .doc_default = "none",
     .doc = "the remote broker (port 1883 unless given); several are tried in order when "
            "one fails"},
    {.name = "addresses", .section = BRIDGES, .type = IPB__CT_CUSTOM, .scope = IPB__CS_BRIDGE,
     .parse = ipb__bridge_parse_address, .arg = "HOST[:PORT] ...", .doc_default = "none",
     .doc = "the same as `address`"},
    {.name = "topic", .section = BRIDGES, .type = IPB__CT_CUSTOM, .scope = IPB__CS_BRIDGE,
     .parse = ipb__bridge_parse_topic,
     .arg = "PATTERN [[[out|in|both] QOS] LOCAL_PREFIX REMOTE_PREFIX]", .doc_default = "none",
     .doc = "what crosses, which way, at which QoS, and mosquitto's prefix remapping (`\"\"` "
            "is empty); repeatable"},
    {.name = "remote_clientid", .section = BRIDGES, .type = IPB__CT_STRING, B(remote_clientid),
     .arg = "ID", .doc_default = "`HOSTNAME.NAME`", .doc = "client id on the remote broker"},
    {.name = "local_clientid", .section = BRIDGES, .type = IPB__CT_STRING, B(local_clientid),
     .arg = "ID", .doc_default = "`local.<remote_clientid>`",
     .doc = "client id of the bridge's session on this broker"},
    {.name = "remote_username", .section = BRIDGES, .type = IPB__CT_STRING, B(remote_username),
     .arg = "NAME", .doc_default = "none", .doc = "user name on the remote broker"},
    {.name = "remote_password", .section = BRIDGES, .type = IPB__CT_STRING, B(remote_password),
     .arg = "PASSWORD", .doc_default = "none", .doc = "password on the remote broker"},
    {.name = "cleansession", .section = BRIDGES, .type = IPB__CT_BOOL, B(cleansession), .max = 1,
     .doc = "clean session on the remote broker (false: it keeps the bridge's subscriptions "
            "and queue while the link is down)"},
    {.name = "local_cleansession", .section = BRIDGES, .type = IPB__CT_BOOL,
     B(local_cleansession), .min = -1, .max = 1, .dflt = -1,
     .doc_default = "as `cleansession`",
     .doc = "clean session of the bridge's session here (false: messages for the remote "
            "are queued while it is down)"},
    {.name = "keepalive_interval", .section = BRIDGES, .type = IPB__CT_INT, B(keepalive),
     .min = 5, .max = 65535, .dflt = 60, .arg = "SECONDS",
     .doc = "PINGREQ after this long without traffic to the remote broker"},
    {.name = "bridge_protocol_version", .section = BRIDGES, .type = IPB__CT_ENUM,
     B(protocol_version), .names = bridge_versions, .max = IPM_PROTO_V5, .dflt = IPM_PROTO_V311,
     .doc = "MQTT version towards the remote broker"},
    {.name = "try_private", .section = BRIDGES, .type = IPB__CT_BOOL, B(try_private), .max = 1,
     .dflt = 1,
     .doc = "tell the remote it is a bridge (3.x: protocol level + 0x80; 5.0: No Local and "
            "Retain As Published), so nothing loops back"},
    {.name = "restart_timeout", .section = BRIDGES, .type = IPB__CT_CUSTOM,
     .scope = IPB__CS_BRIDGE, .parse = ipb__bridge_parse_restart, .arg = "BASE CAP|CONSTANT",
     .doc_default = "`5 30`",
     .doc = "seconds before reconnecting: constant, or mosquitto's decorrelated jitter from "
            "BASE up to CAP"},
    {.name = "round_robin", .section = BRIDGES, .type = IPB__CT_BOOL, B(round_robin), .max = 1,
     .doc = "false: the first address is the main one, tried first after each loss; true: "
            "go on with the next address"},
    {.name = "start_type", .section = BRIDGES, .type = IPB__CT_ENUM, B(start_type),
     .names = bridge_starts, .max = IPB_BRIDGE_ONCE, .dflt = IPB_BRIDGE_AUTOMATIC,
     .doc = "`automatic`: connect at start, reconnect after `restart_timeout`; `lazy`: "
            "connect once `threshold` messages wait for the remote, disconnect after "
            "`idle_timeout`; `once`: connect at start, never reconnect"},
    {.name = "idle_timeout", .section = BRIDGES, .type = IPB__CT_INT, B(idle_timeout),
     .min = 1, .max = 86400, .dflt = 60, .arg = "SECONDS",
     .doc = "`start_type lazy`: disconnect after this long with nothing sent to the remote "
            "(keepalive pings aside) and nothing waiting for it"},
    {.name = "threshold", .section = BRIDGES, .type = IPB__CT_INT, B(threshold), .min = 1,
     .max = 1000000, .dflt = 10, .arg = "COUNT",
     .doc = "`start_type lazy`: connect once this many messages wait for the remote (in "
            "the bridge's session, queued or unacknowledged)"},
    {.name = "notifications", .section = BRIDGES, .type = IPB__CT_BOOL, B(notifications),
     .max = 1, .dflt = 1,
     .doc = "retained `1` / `0` on the notification topic, here and on the remote (there "
            "`0` is the bridge's will)"},
    {.name = "notifications_local_only", .section = BRIDGES, .type = IPB__CT_BOOL,
     B(notifications_local_only), .max = 1, .doc = "notifications on this broker only"},
    {.name = "notification_topic", .section = BRIDGES, .type = IPB__CT_STRING,
     B(notification_topic), .arg = "TOPIC",
     .doc_default = "`$SYS/broker/connection/<remote_clientid>/state`",
     .doc = "where notifications go"},
    {.name = "bridge_max_packet_size", .section = BRIDGES, .type = IPB__CT_SIZE,
     B(max_packet_size), .max = 268435455, .doc_default = "`0` (none)",
     .doc = "larger packets are not sent to the remote broker (nor larger than its own "
            "5.0 maximum)"},
    {.name = "bridge_outgoing_retain", .section = BRIDGES, .type = IPB__CT_BOOL,
     B(outgoing_retain), .max = 1, .dflt = 1,
     .doc = "false: the retain flag is cleared on everything sent to the remote broker"},
    {.name = "bridge_cafile", .section = BRIDGES, .type = IPB__CT_PATH, B(cafile),
     .flags = IPB__CF_READABLE, .arg = "FILE", .doc_default = "none",
     .doc = "TLS to the remote broker, its certificate verified against these PEM CAs"},
    {.name = "bridge_capath", .section = BRIDGES, .type = IPB__CT_PATH, B(capath),
     .arg = "DIR", .doc_default = "none",
     .doc = "the same from a folder of hashed CA certificates (`openssl rehash`)"},
    {.name = "bridge_certfile", .section = BRIDGES, .type = IPB__CT_PATH, B(certfile),
     .flags = IPB__CF_READABLE, .arg = "FILE", .doc_default = "none",
     .doc = "the bridge's own PEM certificate, for a remote that asks for one"},
    {.name = "bridge_keyfile", .section = BRIDGES, .type = IPB__CT_PATH, B(keyfile),
     .flags = IPB__CF_READABLE, .arg = "FILE", .doc_default = "none",
     .doc = "its PEM private key"},
    {.name = "bridge_insecure", .section = BRIDGES, .type = IPB__CT_BOOL, B(insecure), .max = 1,
     .doc = "true: the remote's certificate need not name the address connected to (it is "
            "still verified against the CAs); for tests only"},
    {.name = "bridge_tls_version", .section = BRIDGES, .type = IPB__CT_CUSTOM,
     .scope = IPB__CS_BRIDGE, .parse = ipb__bridge_parse_tls_version, .arg = "tlsv1.2|tlsv1.3",
     .doc_default = "`tlsv1.2`", .doc = "the lowest TLS version offered to the remote"},
    {.name = "bridge_identity", .section = BRIDGES, .type = IPB__CT_STRING, B(identity),
     .arg = "IDENTITY", .doc_default = "none", .doc = "the TLS-PSK identity of `bridge_psk`"},
    {.name = "bridge_psk", .section = BRIDGES, .type = IPB__CT_STRING, B(psk), .arg = "HEX",
     .doc_default = "none",
     .doc = "TLS-PSK to the remote instead of certificates: the key in hexadecimal"},
    {.name = "local_username", .section = BRIDGES, .type = IPB__CT_STRING, B(local_username),
     .arg = "NAME", .doc_default = "none (trusted)",
     .doc = "the local side logs in to this broker as NAME and is under the ACL as that "
            "user; without it, it is trusted (no login, no ACL)"},
    {.name = "local_password", .section = BRIDGES, .type = IPB__CT_STRING, B(local_password),
     .arg = "PASSWORD", .doc_default = "none", .doc = "its password here"},
    {.name = "bridge_", .section = BRIDGES, .type = IPB__CT_REFUSED, .flags = IPB__CF_PREFIX,
     .doc = "this bridge option (bind address, ALPN, OCSP, 5.0 session options)"},

    /* ---- other features not offered ---- */
    NOT_OFFERED("dhparamfile", "finite-field Diffie-Hellman (TLS here uses ECDHE only)"),
    NOT_OFFERED("tls_engine", "OpenSSL engines"),
    NOT_OFFERED("tls_engine_kpass_sha1", "OpenSSL engines"),
    NOT_OFFERED("auth_plugin_deny_special_chars", "plugins"),
    {.name = "auth_opt_", .section = REFUSED, .type = IPB__CT_REFUSED, .flags = IPB__CF_PREFIX,
     .doc = "plugins"},
    {.name = "plugin_opt_", .section = REFUSED, .type = IPB__CT_REFUSED, .flags = IPB__CF_PREFIX,
     .doc = "plugins"},

    /* ---- recognised and refused ---- */
    NOT_OFFERED("plugin", "plugins"),
    NOT_OFFERED("auth_plugin", "plugins"),
};

const size_t ipb__config_table_len = sizeof ipb__config_table / sizeof ipb__config_table[0];

const ipb__cdir_t *ipb__config_find(const char *name)
{
    for (size_t i = 0; i < ipb__config_table_len; i++) {
        const ipb__cdir_t *d = &ipb__config_table[i];
        if (d->flags & IPB__CF_PREFIX ? !strncmp(name, d->name, strlen(d->name))
                                      : !strcmp(name, d->name))
            return d;
    }
    return NULL;
}

/* Only fields the row stores: string fields start empty, custom rows without a field and
 * refused rows have none. */
static bool has_number(const ipb__cdir_t *d)
{
    return d->size && d->type != IPB__CT_STRING && d->type != IPB__CT_PATH &&
           !(d->type == IPB__CT_CUSTOM && d->size > sizeof(int64_t));
}

int64_t ipb__config_get(const ipb__cdir_t *d, const void *base)
{
    const char *f = (const char *)base + d->offset;
    bool s = d->min < 0;
    switch (d->size) {
    case 1: {
        bool b;
        memcpy(&b, f, 1);
        return b;
    }
    case 2: {
        uint16_t v;
        memcpy(&v, f, 2);
        return v;
    }
    case 4: {
        uint32_t v;
        memcpy(&v, f, 4);
        return s ? (int64_t)(int32_t)v : (int64_t)v;
    }
    default: {
        int64_t v;
        memcpy(&v, f, 8);
        return v;
    }
    }
}

void ipb__config_put(const ipb__cdir_t *d, void *base, int64_t v)
{
    char *f = (char *)base + d->offset;
    switch (d->size) {
    case 1: {
        bool b = v != 0;
        memcpy(f, &b, 1);
        break;
    }
    case 2: {
        uint16_t x = (uint16_t)v;
        memcpy(f, &x, 2);
        break;
    }
    case 4: {
        uint32_t x = (uint32_t)v;
        memcpy(f, &x, 4);
        break;
    }
    default:
        memcpy(f, &v, 8);
    }
}

static void put_defaults(ipb__cscope_t scope, void *base)
{
    for (size_t i = 0; i < ipb__config_table_len; i++) {
        const ipb__cdir_t *d = &ipb__config_table[i];
        if (d->scope == scope && has_number(d))
            ipb__config_put(d, base, d->dflt * (d->scale ? d->scale : 1));
    }
}

void ipb__config_defaults(ipb_config_t *cfg)
{
    put_defaults(IPB__CS_GLOBAL, cfg);
}

void ipb__config_listener_defaults(ipb_listener_config_t *l)
{
    put_defaults(IPB__CS_LISTENER, l);
}

void ipb__config_bridge_defaults(ipb_bridge_config_t *bc)
{
    put_defaults(IPB__CS_BRIDGE, bc);
    /* Not a single value of a row: restart_timeout's two. */
    bc->restart_base = 5;
    bc->restart_cap = 30;
}
