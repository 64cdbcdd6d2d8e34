/*
 * bridge_topic.c - mosquitto's topic remapping of a bridge: which filter each `topic` line
 * subscribes to on either side, and how a message's topic crosses. Pure: strings in,
 * strings out.
 *
 * A line's local filter is LOCAL_PREFIX + PATTERN, its remote filter REMOTE_PREFIX +
 * PATTERN (a line without a pattern, `""`, has the prefixes alone as its topics). Out: a
 * local topic matching the local filter loses the local prefix and gains the remote
 * one; in: the other way round. The first line of the right direction that matches wins.
 */
#include <string.h>

#include "bridge.h"

size_t ipb__bridge_filter(const ipb_bridge_topic_t *t, bool remote, char *out, size_t cap)
{
    const char *prefix = remote ? t->remote_prefix : t->local_prefix;
    int n = snprintf(out, cap, "%s%s", prefix, t->pattern);
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

static bool starts_with(const char *s, size_t len, const char *prefix)
{
    size_t plen = strlen(prefix);
    return plen <= len && !memcmp(s, prefix, plen);
}

size_t ipb__bridge_map(const ipb_bridge_config_t *bc, bool outgoing, const char *topic, size_t len,
                       char *out, size_t cap, uint8_t *qos)
{
    char filter[IPB__BRIDGE_TOPIC_MAX];
    uint8_t dir = outgoing ? IPB_BRIDGE_OUT : IPB_BRIDGE_IN;
    for (unsigned i = 0; i < bc->n_topics; i++) {
        const ipb_bridge_topic_t *t = &bc->topics[i];
        size_t flen = ipb__bridge_filter(t, !outgoing, filter, sizeof filter);
        if (!(t->direction & dir) || !flen ||
            !ipm_topic_matches((const uint8_t *)filter, flen, (const uint8_t *)topic, len))
            continue;
        const char *from = outgoing ? t->local_prefix : t->remote_prefix;
        const char *to = outgoing ? t->remote_prefix : t->local_prefix;
        size_t skip = starts_with(topic, len, from) ? strlen(from) : 0;
        size_t tlen = strlen(to);
        if (tlen + len - skip + 1 > cap || tlen + len - skip == 0)
            return 0;
        memcpy(out, to, tlen);
        memcpy(out + tlen, topic + skip, len - skip);
        out[tlen + len - skip] = 0;
        if (qos)
            *qos = t->qos;
        return tlen + len - skip;
    }
    return 0;
}
