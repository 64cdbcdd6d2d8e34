/*
 * config.c - the mosquitto.conf-style configuration file: the line reader, and what each
 * type of row of config_table.c means. Which directives exist, their bounds and defaults
 * are the table's business, not this file's.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "config_table.h"

#define IPB_CONFIG_MAX_DEPTH 4
#define IPB_CONFIG_MAX_LINE 4096
#define IPB_CONFIG_MAX_ROWS 256 /* for the bitmap of FLAGS rows already replaced */

void ipb_config_init(ipb_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    ipb__config_defaults(cfg);
    /* Not a directive: the cap on the session table, generous enough never to matter for
     * honest clients. */
    cfg->max_sessions = 1000000;
}

int ipb_config_add_listener(ipb_config_t *cfg, uint16_t port, const char *address)
{
    if (cfg->n_listeners >= IPB_MAX_LISTENERS)
        return IPM_EFULL;
    ipb_listener_config_t *l = &cfg->listeners[cfg->n_listeners++];
    memset(l, 0, sizeof *l);
    l->port = port;
    l->allow_anonymous = -1;
    l->allow_zero_length_clientid = -1;
    ipb__config_listener_defaults(l);
    if (address)
        snprintf(l->address, sizeof l->address, "%s", address);
    return 0;
}

struct ipb__cparse {
    ipb_config_t *cfg;
    const char *file;
    unsigned line;
    char *err;
    size_t errlen;
    int depth;
    uint8_t replaced[IPB_CONFIG_MAX_ROWS / 8]; /* FLAGS rows seen once in this load */
};

int ipb__cfail(ipb__cparse_t *p, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "%s:%u: %s", p->file, p->line, msg);
    return IPM_EINVALID;
}

ipb_config_t *ipb__cparse_cfg(ipb__cparse_t *p)
{
    return p->cfg;
}

ipb_bridge_config_t *ipb__cparse_bridge(ipb__cparse_t *p)
{
    return p->cfg->n_bridges ? &p->cfg->bridges[p->cfg->n_bridges - 1] : NULL;
}

int ipb__cparse_int(ipb__cparse_t *p, const char *what, const char *v, int64_t min,
                    int64_t max, int64_t *out)
{
    char *end;
    if (!v)
        return ipb__cfail(p, "%s needs a value", what);
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || *end || end == v || x < min || x > max)
        return ipb__cfail(p, "%s: '%s' is not a number from %lld to %lld", what, v,
                          (long long)min, (long long)max);
    *out = x;
    return 0;
}

int ipb__cparse_bool(ipb__cparse_t *p, const char *what, const char *v, bool *out)
{
    if (v && !strcmp(v, "true"))
        *out = true;
    else if (v && !strcmp(v, "false"))
        *out = false;
    else
        return ipb__cfail(p, "%s must be true or false", what);
    return 0;
}

/* mosquitto's durations: a number and h, d, w, m (months) or y. */
static int get_duration(ipb__cparse_t *p, const ipb__cdir_t *d, const char *v, int64_t *out)
{
    static const struct {
        char unit;
        unsigned long long seconds;
    } units[] = {{'h', 3600}, {'d', 86400}, {'w', 7 * 86400}, {'m', 30 * 86400},
                 {'y', 365 * 86400}};
    char *end;
    if (!v)
        return ipb__cfail(p, "%s needs a value", d->name);
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10), unit = 0;
    for (size_t i = 0; i < sizeof units / sizeof units[0] && end[0] && !end[1]; i++)
        if (end[0] == units[i].unit)
            unit = units[i].seconds;
    if (errno || end == v || v[0] == '-' || !unit || x > (unsigned long long)d->max / unit)
        return ipb__cfail(p, "%s: '%s' is not a duration like 1h, 2d, 3w, 4m or 5y", d->name,
                          v);
    *out = (int64_t)(x * unit);
    return 0;
}

static int set_str(ipb__cparse_t *p, const ipb__cdir_t *d, const char *v, char *out)
{
    if (!v)
        return ipb__cfail(p, "%s needs a value", d->name);
    if (snprintf(out, d->size, "%s", v) >= (int)d->size)
        return ipb__cfail(p, "%s: value longer than %zu bytes", d->name, d->size - 1);
    if ((d->flags & IPB__CF_READABLE) && access(v, R_OK) != 0)
        return ipb__cfail(p, "%s %s: %s", d->name, v, strerror(errno));
    return 0;
}

/* "a, b or c" of a row's names, for messages. */
static void join_names(const ipb__cname_t *names, char *buf, size_t len)
{
    size_t n = 0, at = 0;
    while (names[n].name)
        n++;
    buf[0] = 0;
    for (size_t i = 0; i < n && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%s",
                               i == 0 ? "" : i + 1 == n ? " or " : ", ", names[i].name);
}

static const ipb__cname_t *find_name(const ipb__cname_t *names, const char *v)
{
    for (; v && names->name; names++)
        if (!strcmp(v, names->name))
            return names;
    return NULL;
}

bool ipb__cparse_first(ipb__cparse_t *p, const ipb__cdir_t *d)
{
    size_t row = (size_t)(d - ipb__config_table);
    uint8_t bit = (uint8_t)(1u << (row % 8));
    bool first = !(p->replaced[row / 8] & bit);
    p->replaced[row / 8] |= bit;
    return first;
}

/* One value-taking row: parse tok[1] by the row's type into the field at base. */
static int set_value(ipb__cparse_t *p, const ipb__cdir_t *d, void *base, const char *v)
{
    int64_t x = 0;
    bool b = false;
    const ipb__cname_t *nm;
    char names[256];
    switch (d->type) {
    case IPB__CT_BOOL:
        if (ipb__cparse_bool(p, d->name, v, &b) < 0)
            return IPM_EINVALID;
        x = b;
        break;
    case IPB__CT_INT:
    case IPB__CT_SIZE:
        if (ipb__cparse_int(p, d->name, v, d->min, d->max, &x) < 0)
            return IPM_EINVALID;
        if (x == 0 && d->flags & IPB__CF_ZERO_IS_MAX)
            x = d->max;
        x *= d->scale ? d->scale : 1;
        break;
    case IPB__CT_DURATION:
        if (get_duration(p, d, v, &x) < 0)
            return IPM_EINVALID;
        break;
    case IPB__CT_STRING:
    case IPB__CT_PATH:
        return set_str(p, d, v, (char *)base + d->offset);
    case IPB__CT_ENUM:
        if (!(nm = find_name(d->names, v))) {
            join_names(d->names, names, sizeof names);
            return ipb__cfail(p, "%s must be %s", d->name, names);
        }
        x = nm->value;
        break;
    case IPB__CT_FLAGS: {
        if (!v)
            return ipb__cfail(p, "%s needs a value", d->name);
        if (!(nm = find_name(d->names, v)))
            return ipb__cfail(p, "unknown %s '%s'", d->name, v);
        if (ipb__cparse_first(p, d))
            ipb__config_put(d, base, 0); /* the first line replaces the default set */
        x = ipb__config_get(d, base) | nm->value;
        break;
    }
    default:
        return ipb__cfail(p, "%s: no parser for this row", d->name);
    }
    if (!(d->flags & IPB__CF_NOSTORE))
        ipb__config_put(d, base, x);
    return 0;
}

static int directive(ipb__cparse_t *p, char **tok, int n)
{
    const ipb__cdir_t *d = ipb__config_find(tok[0]);
    if (!d)
        return ipb__cfail(p, "unknown directive '%s'", tok[0]);
    if (d->type == IPB__CT_REFUSED)
        return ipb__cfail(p, "'%s' needs %s, which this broker does not support yet", tok[0],
                          d->doc);
    void *base = p->cfg;
    if (d->scope == IPB__CS_LISTENER) {
        if (!p->cfg->n_listeners)
            return ipb__cfail(p, "'%s' must follow the 'listener' line it applies to", tok[0]);
        base = &p->cfg->listeners[p->cfg->n_listeners - 1];
    } else if (d->scope == IPB__CS_BRIDGE) {
        if (!(base = ipb__cparse_bridge(p)))
            return ipb__cfail(p, "'%s' must follow the 'connection' line of its bridge", tok[0]);
    }
    if (d->type == IPB__CT_CUSTOM)
        return d->parse(p, d, tok, n);
    if ((d->flags & IPB__CF_PER_LISTENER) && p->cfg->per_listener_settings &&
        p->cfg->n_listeners) {
        ipb__cdir_t own = *d; /* the same row, stored in the listener's field */
        own.offset = d->loffset;
        own.size = d->lsize;
        return set_value(p, &own, &p->cfg->listeners[p->cfg->n_listeners - 1],
                         n > 1 ? tok[1] : NULL);
    }
    return set_value(p, d, base, n > 1 ? tok[1] : NULL);
}

static int parse_file(ipb__cparse_t *p, const char *path);

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* include_dir: every *.conf in the folder, in alphabetical order, as mosquitto does. */
int ipb__cparse_include_dir(ipb__cparse_t *p, const char *dir)
{
    if (!dir)
        return ipb__cfail(p, "include_dir needs a folder");
    if (p->depth >= IPB_CONFIG_MAX_DEPTH)
        return ipb__cfail(p, "include_dir nested too deeply");
    DIR *d = opendir(dir);
    if (!d)
        return ipb__cfail(p, "include_dir %s: %s", dir, strerror(errno));
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
                rc = ipb__cfail(p, "out of memory");
                break;
            }
            names = nn;
            cap = nc;
        }
        size_t sz = strlen(dir) + len + 2;
        if (!(names[n] = malloc(sz))) {
            rc = ipb__cfail(p, "out of memory");
            break;
        }
        snprintf(names[n++], sz, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    ipb__cparse_t sub = *p;
    sub.depth++;
    for (size_t i = 0; i < n; i++) {
        if (rc == 0) {
            sub.file = names[i];
            rc = parse_file(&sub, names[i]);
        }
        free(names[i]);
    }
    free(names);
    memcpy(p->replaced, sub.replaced, sizeof p->replaced);
    return rc;
}

/*
 * mosquitto has no comments after a value: it reads "password_file /x # users" as the
 * file "/x # users", so the same configuration breaks there. Here a directive takes its
 * words and leaves the rest, but the difference is said out loud.
 */
static void warn_comment(ipb__cparse_t *p, char **tok, int n)
{
    for (int i = 1; i < n; i++)
        if (tok[i][0] == '#') {
            fprintf(stderr,
                    "%s:%u: warning: '%s' has ' #' in its value; mosquitto reads no comment "
                    "after a value, put it on its own line\n",
                    p->file, p->line, tok[0]);
            return;
        }
}

static int parse_stream(ipb__cparse_t *p, FILE *f)
{
    char line[IPB_CONFIG_MAX_LINE];
    int rc = 0;
    p->line = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        p->line++;
        if (!strchr(line, '\n') && !feof(f)) {
            rc = ipb__cfail(p, "line longer than %d bytes", IPB_CONFIG_MAX_LINE - 2);
            break;
        }
        char *tok[8], *save = NULL;
        int n = 0;
        for (char *t = strtok_r(line, " \t\r\n", &save); t && n < 8;
             t = strtok_r(NULL, " \t\r\n", &save))
            tok[n++] = t;
        if (!n || tok[0][0] == '#')
            continue;
        warn_comment(p, tok, n);
        rc = directive(p, tok, n);
    }
    return rc;
}

static int parse_file(ipb__cparse_t *p, const char *path)
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

/* What a bridge block needs once all its lines are read: mosquitto refuses one without an
 * address. */
static int check_bridges(ipb__cparse_t *p, int rc)
{
    for (unsigned i = 0; rc == 0 && i < p->cfg->n_bridges; i++)
        if (!p->cfg->bridges[i].n_addresses) {
            snprintf(p->err, p->errlen, "%s: bridge '%s' has no address", p->file,
                     p->cfg->bridges[i].name);
            rc = IPM_EINVALID;
        }
    return rc;
}

int ipb_config_load(ipb_config_t *cfg, const char *path, char *err, size_t errlen)
{
    ipb__cparse_t p = {.cfg = cfg, .file = path, .err = err, .errlen = errlen};
    /* As mosquitto 2: a configuration file must allow anonymous clients explicitly. */
    cfg->allow_anonymous = false;
    return check_bridges(&p, parse_file(&p, path));
}

int ipb_config_parse(ipb_config_t *cfg, const char *text, size_t len, const char *name,
                     char *err, size_t errlen)
{
    ipb__cparse_t p = {.cfg = cfg, .file = name, .err = err, .errlen = errlen};
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
    return check_bridges(&p, rc);
}
