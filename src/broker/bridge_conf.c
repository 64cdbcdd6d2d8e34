/*
 * bridge_conf.c - the bridge directives of mosquitto.conf that need more than a value:
 * `connection` (a new block), `address`, `topic` with mosquitto's prefix rules,
 * and `restart_timeout`. The rows themselves are config_table.c's.
 */
#include <stdlib.h>
#include <string.h>

#include "bridge_conf.h"
#include "config_table.h"

int ipb__bridge_parse_connection(ipb__cparse_t *p, const ipb__cdir_t *d, char **tok, int n)
{
    (void)d;
    ipb_config_t *cfg = ipb__cparse_cfg(p);
    if (n < 2)
        return ipb__cfail(p, "connection needs a name");
    if (cfg->n_bridges >= IPB_MAX_BRIDGES)
        return ipb__cfail(p, "more than %d bridges", IPB_MAX_BRIDGES);
    for (unsigned i = 0; i < cfg->n_bridges; i++)
        if (!strcmp(cfg->bridges[i].name, tok[1]))
            return ipb__cfail(p, "a second bridge named '%s'", tok[1]);
    ipb_bridge_config_t *bc = &cfg->bridges[cfg->n_bridges];
    memset(bc, 0, sizeof *bc);
    if (snprintf(bc->name, sizeof bc->name, "%s", tok[1]) >= (int)sizeof bc->name)
        return ipb__cfail(p, "connection name longer than %zu bytes", sizeof bc->name - 1);
    ipb__config_bridge_defaults(bc);
    cfg->n_bridges++;
    return 0;
}

/* host[:port], the port after the last ':' (an IPv6 address needs one, as mosquitto's). */
static int one_address(ipb__cparse_t *p, ipb_bridge_config_t *bc, const char *v)
{
    if (bc->n_addresses >= IPB_BRIDGE_MAX_ADDRESSES)
        return ipb__cfail(p, "more than %d bridge addresses", IPB_BRIDGE_MAX_ADDRESSES);
    const char *colon = strrchr(v, ':');
    size_t hlen = colon ? (size_t)(colon - v) : strlen(v);
    int64_t port = 1883;
    if (colon && ipb__cparse_int(p, "address port", colon + 1, 1, 65535, &port) < 0)
        return IPM_EINVALID;
    if (!hlen || hlen >= sizeof bc->host[0])
        return ipb__cfail(p, "address '%s': no host, or a host longer than %zu bytes", v,
                          sizeof bc->host[0] - 1);
    memcpy(bc->host[bc->n_addresses], v, hlen);
    bc->host[bc->n_addresses][hlen] = 0;
    bc->port[bc->n_addresses++] = (uint16_t)port;
    return 0;
}

int ipb__bridge_parse_address(ipb__cparse_t *p, const ipb__cdir_t *d, char **tok, int n)
{
    ipb_bridge_config_t *bc = ipb__cparse_bridge(p);
    if (n < 2)
        return ipb__cfail(p, "%s needs host[:port]", d->name);
    for (int i = 1; i < n; i++) {
        /* mosquitto also reads "a:1,b:2"; the addresses are words or commas alike. */
        char buf[256], *save = NULL;
        if (snprintf(buf, sizeof buf, "%s", tok[i]) >= (int)sizeof buf)
            return ipb__cfail(p, "address too long");
        for (char *a = strtok_r(buf, ",", &save); a; a = strtok_r(NULL, ",", &save))
            if (one_address(p, bc, a) < 0)
                return IPM_EINVALID;
    }
    return 0;
}

/* mosquitto's `""` is an empty prefix (or no pattern). */
static const char *unquote(const char *s) { return strcmp(s, "\"\"") ? s : ""; }

static int copy_word(ipb__cparse_t *p, const char *what, const char *v, char *out, size_t cap)
{
    if (snprintf(out, cap, "%s", unquote(v)) >= (int)cap)
        return ipb__cfail(p, "topic %s longer than %zu bytes", what, cap - 1);
    return 0;
}

/* prefix + pattern must be a valid filter, and a prefix itself a topic name (no wildcard). */
static int check_side(ipb__cparse_t *p, const char *side, const char *prefix, const char *pattern)
{
    char full[512];
    size_t plen = strlen(prefix);
    if (plen && !ipm_topic_name_valid((const uint8_t *)prefix, plen))
        return ipb__cfail(p, "invalid bridge topic %s prefix '%s'", side, prefix);
    snprintf(full, sizeof full, "%s%s", prefix, pattern);
    if (!ipm_topic_filter_valid((const uint8_t *)full, strlen(full)))
        return ipb__cfail(p, "invalid bridge topic %s prefix and pattern combination '%s'", side,
                          full);
    return 0;
}

/* topic PATTERN [[[out|in|both] QOS] LOCAL_PREFIX REMOTE_PREFIX] */
int ipb__bridge_parse_topic(ipb__cparse_t *p, const ipb__cdir_t *d, char **tok, int n)
{
    (void)d;
    ipb_bridge_config_t *bc = ipb__cparse_bridge(p);
    if (n < 2)
        return ipb__cfail(p, "topic needs a pattern");
    if (n > 6)
        return ipb__cfail(p, "topic takes at most a pattern, a direction, a QoS and two "
                             "prefixes");
    if (n == 5)
        return ipb__cfail(p, "topic: a local prefix needs a remote prefix after it");
    if (bc->n_topics >= IPB_BRIDGE_MAX_TOPICS)
        return ipb__cfail(p, "more than %d topics in one bridge", IPB_BRIDGE_MAX_TOPICS);
    ipb_bridge_topic_t t = {.direction = IPB_BRIDGE_OUT};
    if (copy_word(p, "pattern", tok[1], t.pattern, sizeof t.pattern) < 0)
        return IPM_EINVALID;
    if (n > 2) {
        if (!strcmp(tok[2], "out"))
            t.direction = IPB_BRIDGE_OUT;
        else if (!strcmp(tok[2], "in"))
            t.direction = IPB_BRIDGE_IN;
        else if (!strcmp(tok[2], "both"))
            t.direction = IPB_BRIDGE_BOTH;
        else
            return ipb__cfail(p, "topic direction must be out, in or both");
    }
    int64_t qos = 0;
    if (n > 3 && ipb__cparse_int(p, "topic QoS", tok[3], 0, 2, &qos) < 0)
        return IPM_EINVALID;
    t.qos = (uint8_t)qos;
    if (n == 6 &&
        (copy_word(p, "local prefix", tok[4], t.local_prefix, sizeof t.local_prefix) < 0 ||
         copy_word(p, "remote prefix", tok[5], t.remote_prefix, sizeof t.remote_prefix) < 0))
        return IPM_EINVALID;
    /* mosquitto's table: without a pattern both prefixes are the topics, so both needed. */
    if (!t.pattern[0] && (!t.local_prefix[0] || !t.remote_prefix[0]))
        return ipb__cfail(p, "topic \"\" needs both a local and a remote prefix (invalid "
                             "bridge remapping)");
    if (check_side(p, "local", t.local_prefix, t.pattern) < 0 ||
        check_side(p, "remote", t.remote_prefix, t.pattern) < 0)
        return IPM_EINVALID;
    for (unsigned i = 0; i < bc->n_topics; i++)
        if (!memcmp(&bc->topics[i], &t, sizeof t))
            return 0; /* mosquitto skips a duplicate too */
    bc->topics[bc->n_topics++] = t;
    return 0;
}

/* restart_timeout CONSTANT, or BASE CAP for mosquitto's decorrelated-jitter backoff. */
int ipb__bridge_parse_restart(ipb__cparse_t *p, const ipb__cdir_t *d, char **tok, int n)
{
    ipb_bridge_config_t *bc = ipb__cparse_bridge(p);
    int64_t base, cap = 0;
    if (n < 2 || n > 3)
        return ipb__cfail(p, "%s takes one number (constant) or two (base cap)", d->name);
    if (ipb__cparse_int(p, "restart_timeout", tok[1], 1, 86400, &base) < 0)
        return IPM_EINVALID;
    if (n == 3 && ipb__cparse_int(p, "restart_timeout cap", tok[2], base, 86400, &cap) < 0)
        return IPM_EINVALID;
    bc->restart_base = (uint32_t)base;
    bc->restart_cap = (uint32_t)cap;
    return 0;
}

int ipb__bridge_parse_tls_version(ipb__cparse_t *p, const ipb__cdir_t *d, char **tok, int n)
{
    ipb_bridge_config_t *bc = ipb__cparse_bridge(p);
    const char *v = n > 1 ? tok[1] : "";
    if (strcmp(v, "tlsv1.2") && strcmp(v, "tlsv1.3"))
        return ipb__cfail(p, "%s must be tlsv1.2 or tlsv1.3 (older versions are broken)", d->name);
    snprintf(bc->tls_version, sizeof bc->tls_version, "%s", v);
    return 0;
}
