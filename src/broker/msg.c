/*
 * msg.c - reference-counted messages and their shared encodings.
 *
 * A message is one allocation: header, forwarded properties, topic and payload. Its
 * PUBLISH encodings are cached per (5.0 or not, QoS 0 or not): a fan-out to any number
 * of subscribers encodes at most four times, and each subscriber's queue entry patches
 * only the first byte (DUP, QoS, RETAIN) and the packet id when writing.
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "core.h"
#include "msg.h"

/* Properties a broker forwards as they came; alias, expiry and ids are per hop. */
static bool prop_forwarded(uint8_t id)
{
    return id != IPM_PROP_TOPIC_ALIAS && id != IPM_PROP_MESSAGE_EXPIRY_INTERVAL &&
           id != IPM_PROP_SUBSCRIPTION_IDENTIFIER && id != IPM_PROP_WILL_DELAY_INTERVAL;
}

ipb_msg_t *ipb__msg_new(const char *topic, size_t tlen, const uint8_t *payload, size_t plen,
                        uint8_t qos, bool retain, const ipm_props_t *props, uint64_t now)
{
    return ipb__msg_new_by(NULL, topic, tlen, payload, plen, qos, retain, props, now);
}

ipb_msg_t *ipb__msg_new_by(const char *user, const char *topic, size_t tlen,
                           const uint8_t *payload, size_t plen, uint8_t qos, bool retain,
                           const ipm_props_t *props, uint64_t now)
{
    unsigned n = 0;
    uint32_t expiry = 0;
    size_t rawlen = props ? props->raw.len : 0;
    ipm_prop_iter_t it;
    ipm_prop_t p;
    if (tlen > IPM_MAX_STRING_LEN || plen > IPM_MAX_REMAINING_LENGTH)
        return NULL;
    if (props && props->raw.len) {
        ipm_props_iter(props, &it);
        while (ipm_props_next(&it, &p)) {
            if (prop_forwarded(p.id))
                n++;
            else if (p.id == IPM_PROP_MESSAGE_EXPIRY_INTERVAL)
                expiry = p.num;
        }
    }
    size_t ulen = user ? strlen(user) + 1 : 0;
    size_t sz = sizeof(ipb_msg_t) + n * sizeof(ipm_prop_t) + rawlen + tlen + 1 + plen + ulen;
    ipb_msg_t *m = calloc(1, sz);
    if (!m)
        return NULL;
    m->refs = 1;
    m->qos = qos;
    m->retain = retain;
    m->topic_len = (uint16_t)tlen;
    m->payload_len = (uint32_t)plen;
    m->expiry = expiry;
    m->expire_at = expiry ? now + (uint64_t)expiry * 1000 : 0;
    m->props = (ipm_prop_t *)(m + 1);
    uint8_t *raw = (uint8_t *)(m->props + n);
    m->topic = (char *)raw + rawlen;
    m->payload = (uint8_t *)m->topic + tlen + 1;
    if (rawlen) {
        /* Walk our own copy so every forwarded property points into the message. */
        memcpy(raw, props->raw.data, rawlen);
        ipm_props_t copy = {.raw = {raw, (uint32_t)rawlen}};
        ipm_props_iter(&copy, &it);
        while (ipm_props_next(&it, &p))
            if (prop_forwarded(p.id))
                m->props[m->nprops++] = p;
    }
    memcpy(m->topic, topic, tlen);
    m->topic[tlen] = 0;
    if (plen)
        memcpy(m->payload, payload, plen);
    if (user)
        m->user = memcpy(m->payload + plen, user, ulen);
    return m;
}

void ipb__msg_ref(ipb_msg_t *m)
{
    m->refs++;
}

void ipb__msg_unref(ipb_msg_t *m)
{
    if (!m || --m->refs)
        return;
    for (int i = 0; i < 4; i++)
        if (m->cache[i])
            ipb__enc_unref(m->cache[i]);
    free(m->source);
    free(m);
}

int ipb__msg_set_source(ipb_msg_t *m, const char *client_id, const char *username)
{
    size_t a = strlen(client_id), u = username ? strlen(username) : 0;
    char *s = malloc(a + u + 2);
    if (!s)
        return IPM_ENOMEM;
    memcpy(s, client_id, a + 1);
    if (u)
        memcpy(s + a + 1, username, u);
    s[a + 1 + u] = 0;
    free(m->source);
    m->source = s;
    return 0;
}

uint32_t ipb__msg_remaining(const ipb_msg_t *m, uint64_t now)
{
    if (!m->expire_at)
        return UINT32_MAX;
    if (now >= m->expire_at)
        return 0;
    /* Round up: a message with 0.4 s left is still valid and says 1. */
    return (uint32_t)((m->expire_at - now + 999) / 1000);
}

ipb_enc_t *ipb__enc_new(size_t len)
{
    ipb_enc_t *e = malloc(sizeof *e + len);
    if (!e)
        return NULL;
    e->refs = 1;
    e->len = (uint32_t)len;
    e->pid_off = 0;
    return e;
}

void ipb__enc_unref(ipb_enc_t *e)
{
    if (e && --e->refs == 0)
        free(e);
}

ipb_enc_t *ipb__enc_packet(const ipm_packet_t *pkt, uint8_t version)
{
    int64_t sz = ipm_packet_size(pkt, version);
    if (sz <= 0)
        return NULL;
    ipb_enc_t *e = ipb__enc_new((size_t)sz);
    if (!e)
        return NULL;
    if (ipm_encode(pkt, version, e->data, (size_t)sz) != sz) {
        free(e);
        return NULL;
    }
    return e;
}

/* Encode m once with packet id 1 (QoS > 0) and remember where the id sits. */
static ipb_enc_t *encode_publish(ipb_msg_t *m, uint8_t version, uint8_t qos,
                                 const ipm_prop_t *props, unsigned nprops, bool no_topic,
                                 size_t skip)
{
    ipm_packet_t pkt = {.type = IPM_PUBLISH};
    ipm_publish_t *p = &pkt.u.publish;
    uint16_t tlen = no_topic ? 0 : (uint16_t)(m->topic_len - skip);
    p->topic = (ipm_bytes_t){(const uint8_t *)m->topic + skip, tlen};
    p->payload = (ipm_bytes_t){m->payload, m->payload_len};
    p->qos = qos;
    p->packet_id = qos ? 1 : 0;
    if (version == IPM_PROTO_V5) {
        p->props.list = props;
        p->props.count = (uint16_t)nprops;
    }
    ipb_enc_t *e = ipb__enc_packet(&pkt, version);
    if (!e || !qos)
        return e;
    ipm_frame_t f;
    if (ipm_frame(e->data, e->len, 0, &f) != IPM_OK) {
        ipb__enc_unref(e);
        return NULL;
    }
    e->pid_off = f.header_len + 2 + tlen;
    return e;
}

ipb_enc_t *ipb__enc_publish(ipb_msg_t *m, uint8_t version, uint8_t qos, const uint32_t *subids,
                            unsigned nsubids, uint64_t now)
{
    bool v5 = version == IPM_PROTO_V5;
    uint32_t left = ipb__msg_remaining(m, now);
    bool expiry_changed = v5 && m->expiry && left != m->expiry;
    if (!v5 || (!nsubids && !expiry_changed)) {
        /* The common shape: shared by every client of this protocol family. */
        ipb_enc_t **slot = &m->cache[(v5 ? 2 : 0) + (qos ? 1 : 0)];
        if (!*slot) {
            ipm_prop_t *list = NULL;
            unsigned n = m->nprops;
            if (v5 && m->expiry) {
                list = malloc((n + 1) * sizeof *list);
                if (!list)
                    return NULL;
                memcpy(list, m->props, n * sizeof *list);
                list[n++] = (ipm_prop_t){.id = IPM_PROP_MESSAGE_EXPIRY_INTERVAL,
                                         .num = m->expiry};
            }
            *slot = encode_publish(m, version, qos, list ? list : m->props, n, false, 0);
            free(list);
            if (!*slot)
                return NULL;
        }
        (*slot)->refs++;
        return *slot;
    }
    return ipb__enc_publish_alias(m, qos, subids, nsubids, now, 0, false);
}

ipb_enc_t *ipb__enc_publish_mounted(ipb_msg_t *m, uint8_t version, uint8_t qos,
                                    const uint32_t *subids, unsigned nsubids, uint64_t now,
                                    size_t skip)
{
    if (version != IPM_PROTO_V5)
        return encode_publish(m, version, qos, m->props, m->nprops, false, skip);
    ipm_prop_t *list = malloc((m->nprops + 1 + nsubids) * sizeof *list);
    if (!list)
        return NULL;
    unsigned n = m->nprops;
    memcpy(list, m->props, n * sizeof *list);
    if (m->expiry)
        list[n++] = (ipm_prop_t){.id = IPM_PROP_MESSAGE_EXPIRY_INTERVAL,
                                 .num = ipb__msg_remaining(m, now)};
    for (unsigned i = 0; i < nsubids; i++)
        list[n++] = (ipm_prop_t){.id = IPM_PROP_SUBSCRIPTION_IDENTIFIER, .num = subids[i]};
    ipb_enc_t *e = encode_publish(m, version, qos, list, n, false, skip);
    free(list);
    return e;
}

ipb_enc_t *ipb__enc_publish_alias(ipb_msg_t *m, uint8_t qos, const uint32_t *subids,
                                  unsigned nsubids, uint64_t now, uint16_t alias, bool known)
{
    /* Per-client shape: identifiers, a decremented expiry interval or a topic alias. */
    ipm_prop_t *list = malloc((m->nprops + 2 + nsubids) * sizeof *list);
    if (!list)
        return NULL;
    unsigned n = m->nprops;
    memcpy(list, m->props, n * sizeof *list);
    if (alias)
        list[n++] = (ipm_prop_t){.id = IPM_PROP_TOPIC_ALIAS, .num = alias};
    if (m->expiry)
        list[n++] = (ipm_prop_t){.id = IPM_PROP_MESSAGE_EXPIRY_INTERVAL,
                                 .num = ipb__msg_remaining(m, now)};
    for (unsigned i = 0; i < nsubids; i++)
        list[n++] = (ipm_prop_t){.id = IPM_PROP_SUBSCRIPTION_IDENTIFIER, .num = subids[i]};
    ipb_enc_t *e = encode_publish(m, IPM_PROTO_V5, qos, list, n, alias && known, 0);
    free(list);
    return e;
}

int ipb__msg_local(ipb_broker_t *b, const char *topic, const uint8_t *payload, size_t len,
                   uint8_t qos, bool retain, ipb_msg_t **out)
{
    if (!b || !topic || (len && !payload))
        return IPM_EINVALID;
    if (qos > 2)
        return IPM_EBAD_QOS;
    size_t tlen = strlen(topic);
    if (!ipm_topic_name_valid((const uint8_t *)topic, tlen))
        return IPM_EBAD_TOPIC;
    *out = ipb__msg_new(topic, tlen, payload, len, qos, retain, NULL, ipb__now(b));
    return *out ? 0 : IPM_ENOMEM;
}
