/*
 * config.c - defaults and the mosquitto.conf-style configuration file.
 *
 * Directives keep mosquitto's meaning. Directives of features that do not exist yet are
 * recognised and refused with a message saying so, never silently ignored: a config
 * that asks for TLS must not come up as plaintext.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"

#define IPB_CONFIG_MAX_DEPTH 4
#define IPB_CONFIG_MAX_LINE 4096

void ipb_config_init(ipb_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_connections = -1;
    cfg->allow_anonymous = true;
    cfg->max_keepalive = UINT16_MAX;
    /* Bounded by default: a client may not make us buffer 256 MB for one packet. */
    cfg->max_packet_size = 16u << 20;
    cfg->max_inflight_messages = 20;
    cfg->max_queued_messages = 1000;
    cfg->retain_available = true;
    cfg->sys_interval = 10;
    cfg->topic_alias_maximum = 10;
    cfg->max_subscriptions = 10000;
    cfg->max_outgoing_bytes = 4u << 20;
    cfg->connect_timeout_ms = 10000;
    cfg->max_login_failures = 10;
    cfg->login_failure_window = 60;
    cfg->max_topic_length = 4096;
    cfg->max_topic_levels = 64;
    cfg->max_retained_messages = 100000;
    cfg->max_sessions = 1000000;
    cfg->log_types = IPB_LOG_ERR | IPB_LOG_WARNING | IPB_LOG_NOTICE | IPB_LOG_INFO;
    cfg->log_dest = IPB_LOG_DEST_STDERR;
}

int ipb_config_add_listener(ipb_config_t *cfg, uint16_t port, const char *address)
{
    if (cfg->n_listeners >= IPB_MAX_LISTENERS)
        return IPM_EFULL;
    ipb_listener_config_t *l = &cfg->listeners[cfg->n_listeners++];
    memset(l, 0, sizeof *l);
    l->port = port;
    l->allow_anonymous = -1;
    if (address)
        snprintf(l->address, sizeof l->address, "%s", address);
    return 0;
}

typedef struct {
    ipb_config_t *cfg;
    const char *file;
    unsigned line;
    char *err;
    size_t errlen;
    bool log_type_set;
    int depth;
} parse_t;

static int fail(parse_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(parse_t *p, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "%s:%u: %s", p->file, p->line, msg);
    return IPM_EINVALID;
}

static int get_u64(parse_t *p, const char *name, const char *v, uint64_t max, uint64_t *out)
{
    char *end;
    if (!v)
        return fail(p, "%s needs a value", name);
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end || v[0] == '-' || end == v || x > max)
        return fail(p, "%s: '%s' is not a number from 0 to %llu", name, v,
                    (unsigned long long)max);
    *out = x;
    return 0;
}

static int get_bool(parse_t *p, const char *name, const char *v, bool *out)
{
    if (v && !strcmp(v, "true"))
        *out = true;
    else if (v && !strcmp(v, "false"))
        *out = false;
    else
        return fail(p, "%s must be true or false", name);
    return 0;
}

/* mosquitto's durations: a number and h, d, w, m (months) or y. */
static int get_duration(parse_t *p, const char *name, const char *v, uint32_t *out)
{
    char *end;
    if (!v)
        return fail(p, "%s needs a value", name);
    unsigned long long x = strtoull(v, &end, 10);
    unsigned long long unit = 0;
    if (!strcmp(end, "h"))
        unit = 3600;
    else if (!strcmp(end, "d"))
        unit = 86400;
    else if (!strcmp(end, "w"))
        unit = 7 * 86400;
    else if (!strcmp(end, "m"))
        unit = 30 * 86400;
    else if (!strcmp(end, "y"))
        unit = 365 * 86400;
    if (end == v || !unit || x * unit > UINT32_MAX - 1)
        return fail(p, "%s: '%s' is not a duration like 1h, 2d, 3w, 4m or 5y", name, v);
    *out = (uint32_t)(x * unit);
    return 0;
}

static int log_type(parse_t *p, const char *v)
{
    static const struct {
        const char *name;
        unsigned bits;
    } types[] = {{"error", IPB_LOG_ERR},        {"warning", IPB_LOG_WARNING},
                 {"notice", IPB_LOG_NOTICE},    {"information", IPB_LOG_INFO},
                 {"debug", IPB_LOG_DEBUG},      {"subscribe", IPB_LOG_SUBSCRIBE},
                 {"unsubscribe", IPB_LOG_UNSUBSCRIBE}, {"websockets", 0},
                 {"all", IPB_LOG_ALL},          {"none", 0}};
    if (!v)
        return fail(p, "log_type needs a value");
    if (!p->log_type_set)
        p->cfg->log_types = 0; /* the first log_type replaces the default set */
    p->log_type_set = true;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(v, types[i].name)) {
            p->cfg->log_types |= types[i].bits;
            return 0;
        }
    return fail(p, "unknown log_type '%s'", v);
}

static int log_dest(parse_t *p, const char *v, const char *arg)
{
    ipb_config_t *c = p->cfg;
    if (v && !strcmp(v, "stderr"))
        c->log_dest = IPB_LOG_DEST_STDERR;
    else if (v && !strcmp(v, "stdout"))
        c->log_dest = IPB_LOG_DEST_STDOUT;
    else if (v && !strcmp(v, "none"))
        c->log_dest = IPB_LOG_DEST_NONE;
    else if (v && !strcmp(v, "file") && arg) {
        c->log_dest = IPB_LOG_DEST_FILE;
        if (snprintf(c->log_file, sizeof c->log_file, "%s", arg) >= (int)sizeof c->log_file)
            return fail(p, "log_dest file: path too long");
    } else if (v && (!strcmp(v, "syslog") || !strcmp(v, "topic") || !strcmp(v, "dlt")))
        return fail(p, "log_dest %s is not supported; use stderr, stdout, file or none", v);
    else
        return fail(p, "log_dest must be stderr, stdout, file PATH or none");
    return 0;
}

/* Directives that belong to features of later work: refused by name. */
static const char *later(const char *d)
{
    static const struct {
        const char *name;
        const char *what;
    } list[] = {
        {"crlfile", "certificate revocation lists"}, {"psk_hint", "TLS-PSK"},
        {"psk_file", "TLS-PSK"}, {"persistence", "persistence"},
        {"persistence_file", "persistence"}, {"persistence_location", "persistence"},
        {"autosave_interval", "persistence"}, {"autosave_on_changes", "persistence"},
        {"connection", "bridges"}, {"address", "bridges"},
        {"addresses", "bridges"}, {"plugin", "plugins"}, {"auth_plugin", "plugins"},
    };
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        if (!strcmp(d, list[i].name))
            return list[i].what;
    if (!strncmp(d, "bridge_", 7))
        return "bridges";
    return NULL;
}

static int parse_file(parse_t *p, const char *path);

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* include_dir: every *.conf in the folder, in alphabetical order, as mosquitto does. */
static int include_dir(parse_t *p, const char *dir)
{
    if (!dir)
        return fail(p, "include_dir needs a folder");
    if (p->depth >= IPB_CONFIG_MAX_DEPTH)
        return fail(p, "include_dir nested too deeply");
    DIR *d = opendir(dir);
    if (!d)
        return fail(p, "include_dir %s: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) && rc == 0) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".conf"))
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            char **nn = realloc(names, nc * sizeof *nn);
            if (!nn) {
                rc = fail(p, "out of memory");
                break;
            }
            names = nn;
            cap = nc;
        }
        size_t sz = strlen(dir) + len + 2;
        if (!(names[n] = malloc(sz))) {
            rc = fail(p, "out of memory");
            break;
        }
        snprintf(names[n++], sz, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    parse_t sub = *p;
    sub.depth++;
    for (size_t i = 0; i < n; i++) {
        if (rc == 0) {
            sub.file = names[i];
            rc = parse_file(&sub, names[i]);
        }
        free(names[i]);
    }
    free(names);
    p->log_type_set = sub.log_type_set;
    return rc;
}

static int listener(parse_t *p, const char *port, const char *addr)
{
    uint64_t v;
    if (get_u64(p, "listener", port, UINT16_MAX, &v) < 0)
        return IPM_EINVALID;
    if (addr && strlen(addr) >= sizeof p->cfg->listeners[0].address)
        return fail(p, "listener address too long");
    if (ipb_config_add_listener(p->cfg, (uint16_t)v, addr) < 0)
        return fail(p, "more than %d listeners", IPB_MAX_LISTENERS);
    return 0;
}

static int number(parse_t *p, const char *d, const char *v, int *rc)
{
    ipb_config_t *c = p->cfg;
    uint64_t x;
    static const struct {
        const char *name;
        uint64_t max;
    } nums[] = {{"max_keepalive", UINT16_MAX},       {"max_packet_size", IPM_MAX_REMAINING_LENGTH + 5},
                {"message_size_limit", IPM_MAX_REMAINING_LENGTH}, {"max_inflight_messages", UINT16_MAX},
                {"max_queued_messages", UINT32_MAX}, {"max_queued_bytes", INT32_MAX},
                {"sys_interval", 86400 * 365},       {"max_topic_alias", UINT16_MAX},
                {"max_subscriptions", UINT32_MAX},   {"max_outgoing_bytes", UINT64_MAX / 2}};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        if (strcmp(d, nums[i].name))
            continue;
        if ((*rc = get_u64(p, d, v, nums[i].max, &x)) < 0)
            return 1;
        switch (i) {
        case 0: c->max_keepalive = (uint16_t)x; break;
        case 1: c->max_packet_size = (uint32_t)x; break;
        case 2: c->message_size_limit = (uint32_t)x; break;
        case 3: c->max_inflight_messages = (uint16_t)x; break;
        case 4: c->max_queued_messages = (uint32_t)x; break;
        case 5: c->max_queued_bytes = x; break;
        case 6: c->sys_interval = (uint32_t)x; break;
        case 7: c->topic_alias_maximum = (uint16_t)x; break;
        case 8: c->max_subscriptions = (uint32_t)x; break;
        default: c->max_outgoing_bytes = x; break;
        }
        return 1;
    }
    return 0;
}

static int set_str(parse_t *p, const char *d, const char *v, char *out, size_t cap)
{
    if (!v)
        return fail(p, "%s needs a value", d);
    if (snprintf(out, cap, "%s", v) >= (int)cap)
        return fail(p, "%s: value longer than %zu bytes", d, cap - 1);
    return 0;
}

/*
 * Options of the listener above them (TLS, WebSockets), as in mosquitto.conf. Returns 1
 * and sets *rc if `d` is one.
 */
static int listener_option(parse_t *p, const char *d, const char *v, int *rc)
{
    static const char *const names[] = {
        "certfile", "keyfile", "cafile", "capath", "require_certificate",
        "use_identity_as_username", "use_subject_as_username", "tls_version", "ciphers",
        "ciphers_tls1.3", "ciphersuites", "http_dir", "protocol"};
    size_t i = 0;
    while (i < sizeof names / sizeof names[0] && strcmp(d, names[i]))
        i++;
    if (i == sizeof names / sizeof names[0])
        return 0;
    if (!p->cfg->n_listeners) {
        *rc = fail(p, "'%s' must follow the 'listener' line it applies to", d);
        return 1;
    }
    ipb_listener_config_t *l = &p->cfg->listeners[p->cfg->n_listeners - 1];
    switch (i) {
    case 0: *rc = set_str(p, d, v, l->certfile, sizeof l->certfile); break;
    case 1: *rc = set_str(p, d, v, l->keyfile, sizeof l->keyfile); break;
    case 2: *rc = set_str(p, d, v, l->cafile, sizeof l->cafile); break;
    case 3: *rc = set_str(p, d, v, l->capath, sizeof l->capath); break;
    case 4: *rc = get_bool(p, d, v, &l->require_certificate); break;
    case 5: *rc = get_bool(p, d, v, &l->use_identity_as_username); break;
    case 6: *rc = get_bool(p, d, v, &l->use_subject_as_username); break;
    case 7:
        if (v && strcmp(v, "tlsv1.2") && strcmp(v, "tlsv1.3"))
            *rc = fail(p, "tls_version must be tlsv1.2 or tlsv1.3 (older versions are broken)");
        else
            *rc = set_str(p, d, v, l->tls_version, sizeof l->tls_version);
        break;
    case 8: *rc = set_str(p, d, v, l->ciphers, sizeof l->ciphers); break;
    case 9:
    case 10: *rc = set_str(p, d, v, l->ciphersuites, sizeof l->ciphersuites); break;
    case 11: *rc = set_str(p, d, v, l->http_dir, sizeof l->http_dir); break;
    default:
        if (v && (!strcmp(v, "mqtt") || !strcmp(v, "websockets")))
            l->websockets = !strcmp(v, "websockets");
        else
            *rc = fail(p, "protocol must be mqtt or websockets");
    }
    return 1;
}

/* Password and ACL files, login limit, timeouts, plots folder, abuse limits. 1 if `d` is. */
static int security_option(parse_t *p, const char *d, const char *v, int *rc)
{
    ipb_config_t *c = p->cfg;
    uint64_t x;
    if (!strcmp(d, "password_file"))
        *rc = set_str(p, d, v, c->password_file, sizeof c->password_file);
    else if (!strcmp(d, "acl_file"))
        *rc = set_str(p, d, v, c->acl_file, sizeof c->acl_file);
    else if (!strcmp(d, "plots_dir")) /* ours: the plot server's folder, under /plots/ */
        *rc = set_str(p, d, v, c->plots_dir, sizeof c->plots_dir);
    else if (!strcmp(d, "max_topic_length")) {
        if ((*rc = get_u64(p, d, v, IPM_MAX_STRING_LEN, &x)) == 0)
            c->max_topic_length = x ? (uint32_t)x : IPM_MAX_STRING_LEN;
    } else if (!strcmp(d, "max_topic_levels")) {
        if ((*rc = get_u64(p, d, v, IPM_MAX_STRING_LEN, &x)) == 0)
            c->max_topic_levels = x ? (uint32_t)x : IPM_MAX_STRING_LEN;
    } else if (!strcmp(d, "max_retained_messages")) {
        if ((*rc = get_u64(p, d, v, UINT32_MAX, &x)) == 0)
            c->max_retained_messages = (uint32_t)x;
    } else if (!strcmp(d, "memory_limit"))
        *rc = get_u64(p, d, v, UINT64_MAX / 2, &c->memory_limit); /* bytes, as mosquitto */
    else if (!strcmp(d, "max_login_failures")) {
        if ((*rc = get_u64(p, d, v, UINT32_MAX, &x)) == 0)
            c->max_login_failures = (uint32_t)x;
    } else if (!strcmp(d, "login_failure_window")) {
        if ((*rc = get_u64(p, d, v, 86400, &x)) == 0)
            c->login_failure_window = (uint32_t)x; /* seconds */
    } else if (!strcmp(d, "connect_timeout")) {
        if ((*rc = get_u64(p, d, v, 3600, &x)) == 0 && x == 0)
            *rc = fail(p, "connect_timeout must be 1 to 3600 seconds");
        c->connect_timeout_ms = (uint32_t)x * 1000;
    } else
        return 0;
    return 1;
}

static int directive(parse_t *p, char **tok, int n)
{
    ipb_config_t *c = p->cfg;
    const char *d = tok[0], *v = n > 1 ? tok[1] : NULL;
    int rc = 0;
    const char *what = later(d);
    if (what)
        return fail(p, "'%s' needs %s, which this broker does not support yet", d, what);
    if (number(p, d, v, &rc) || listener_option(p, d, v, &rc) || security_option(p, d, v, &rc))
        return rc;
    if (!strcmp(d, "listener"))
        return listener(p, v, n > 2 ? tok[2] : NULL);
    if (!strcmp(d, "port"))
        return listener(p, v, NULL);
    if (!strcmp(d, "max_connections")) {
        if (v && !strcmp(v, "-1")) {
            c->max_connections = -1;
            return 0;
        }
        uint64_t x;
        if ((rc = get_u64(p, d, v, INT_MAX, &x)) == 0)
            c->max_connections = (int)x;
        return rc;
    }
    if (!strcmp(d, "allow_anonymous")) {
        bool b = false;
        if ((rc = get_bool(p, d, v, &b)) < 0)
            return rc;
        if (c->per_listener_settings && c->n_listeners)
            c->listeners[c->n_listeners - 1].allow_anonymous = b;
        else
            c->allow_anonymous = b;
        return 0;
    }
    if (!strcmp(d, "queue_qos0_messages"))
        return get_bool(p, d, v, &c->queue_qos0_messages);
    if (!strcmp(d, "retain_available"))
        return get_bool(p, d, v, &c->retain_available);
    if (!strcmp(d, "per_listener_settings"))
        return get_bool(p, d, v, &c->per_listener_settings);
    if (!strcmp(d, "persistent_client_expiration"))
        return get_duration(p, d, v, &c->persistent_client_expiration);
    if (!strcmp(d, "log_dest"))
        return log_dest(p, v, n > 2 ? tok[2] : NULL);
    if (!strcmp(d, "log_type"))
        return log_type(p, v);
    if (!strcmp(d, "log_timestamp")) {
        bool b = false;
        return get_bool(p, d, v, &b);
    }
    if (!strcmp(d, "include_dir"))
        return include_dir(p, v);
    return fail(p, "unknown directive '%s'", d);
}

static int parse_stream(parse_t *p, FILE *f)
{
    char line[IPB_CONFIG_MAX_LINE];
    int rc = 0;
    p->line = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        p->line++;
        if (!strchr(line, '\n') && !feof(f)) {
            rc = fail(p, "line longer than %d bytes", IPB_CONFIG_MAX_LINE - 2);
            break;
        }
        char *tok[8], *save = NULL;
        int n = 0;
        for (char *t = strtok_r(line, " \t\r\n", &save); t && n < 8;
             t = strtok_r(NULL, " \t\r\n", &save))
            tok[n++] = t;
        if (!n || tok[0][0] == '#')
            continue;
        rc = directive(p, tok, n);
    }
    return rc;
}

static int parse_file(parse_t *p, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(p->err, p->errlen, "%s: %s", path, strerror(errno));
        return IPM_EIO;
    }
    int rc = parse_stream(p, f);
    fclose(f);
    return rc;
}

int ipb_config_load(ipb_config_t *cfg, const char *path, char *err, size_t errlen)
{
    parse_t p = {.cfg = cfg, .file = path, .err = err, .errlen = errlen};
    /* As mosquitto 2: a configuration file must allow anonymous clients explicitly. */
    cfg->allow_anonymous = false;
    return parse_file(&p, path);
}

int ipb_config_parse(ipb_config_t *cfg, const char *text, size_t len, const char *name,
                     char *err, size_t errlen)
{
    parse_t p = {.cfg = cfg, .file = name, .err = err, .errlen = errlen};
    FILE *f = len ? fmemopen((void *)text, len, "r") : NULL;
    cfg->allow_anonymous = false;
    if (!len)
        return 0;
    if (!f) {
        snprintf(err, errlen, "%s: %s", name, strerror(errno));
        return IPM_ENOMEM;
    }
    int rc = parse_stream(&p, f);
    fclose(f);
    return rc;
}
