/*
 * encode.c - packet encoding for MQTT 3.1, 3.1.1 and 5.0.
 *
 * Each packet's layout is written once (put_*); run with a counting writer it gives the
 * size, run with a buffer it writes. What a receiver would reject is refused here too,
 * so we never put a malformed packet on the wire.
 */
#include "wire.h"

static bool is_v5(uint8_t version) { return version == IPM_PROTO_V5; }

static bool props_empty(const ipm_props_t *p)
{
    return (p->list ? p->count == 0 : p->raw.len == 0);
}

static int put_str(ipm__wr_t *w, ipm_bytes_t s)
{
    int rc = ipm__str_ok(s);
    if (rc == IPM_OK)
        wr_bin(w, s);
    return rc;
}

static int put_bin(ipm__wr_t *w, ipm_bytes_t b)
{
    int rc = ipm__bin_ok(b);
    if (rc == IPM_OK)
        wr_bin(w, b);
    return rc;
}

static int put_connect(ipm__wr_t *w, const ipm_connect_t *c)
{
    int rc;
    uint8_t v = c->version;
    if (v != IPM_PROTO_V31 && v != IPM_PROTO_V311 && v != IPM_PROTO_V5)
        return IPM_EBAD_VERSION;
    if (c->will && (c->will_qos > 2 || !ipm_topic_name_valid(c->will_topic.data, c->will_topic.len)))
        return c->will_qos > 2 ? IPM_EBAD_QOS : IPM_EBAD_TOPIC;
    if (!is_v5(v) && c->has_password && !c->has_username)
        return IPM_EBAD_CONNECT_FLAGS;
    if (is_v5(v) && !ipm__auth_props_ok(&c->props))
        return IPM_EPROTOCOL;
    wr_bin(w, ipm_str(v == IPM_PROTO_V31 ? "MQIsdp" : "MQTT"));
    wr_u8(w, (uint8_t)(c->bridge && !is_v5(v) ? v | 0x80 : v));
    uint8_t flags = (c->clean_start ? IPM_CONNECT_FLAG_CLEAN : 0) |
                    (c->has_username ? IPM_CONNECT_FLAG_USERNAME : 0) |
                    (c->has_password ? IPM_CONNECT_FLAG_PASSWORD : 0);
    if (c->will)
        flags |= IPM_CONNECT_FLAG_WILL | (uint8_t)(c->will_qos << 3) |
                 (c->will_retain ? IPM_CONNECT_FLAG_WILL_RETAIN : 0);
    wr_u8(w, flags);
    wr_u16(w, c->keepalive);
    if (is_v5(v) && (rc = ipm__props_put(w, &c->props, IPM_CONNECT)))
        return rc;
    if ((rc = put_str(w, c->client_id)))
        return rc;
    if (c->will) {
        if (is_v5(v) && (rc = ipm__props_put(w, &c->will_props, IPM__WILL)))
            return rc;
        if ((rc = put_str(w, c->will_topic)) || (rc = put_bin(w, c->will_payload)))
            return rc;
    }
    if (c->has_username && (rc = put_str(w, c->username)))
        return rc;
    if (c->has_password && (rc = put_bin(w, c->password)))
        return rc;
    return IPM_OK;
}

static int put_connack(ipm__wr_t *w, const ipm_connack_t *c, uint8_t v)
{
    if (is_v5(v) ? !ipm__reason_ok(IPM_CONNACK, c->reason)
                 : c->reason > IPM_CONNACK_REFUSED_NOT_AUTHORIZED)
        return IPM_EBAD_REASON;
    wr_u8(w, v != IPM_PROTO_V31 && c->session_present ? 1 : 0);
    wr_u8(w, c->reason);
    return is_v5(v) ? ipm__props_put(w, &c->props, IPM_CONNACK) : IPM_OK;
}

static int put_publish(ipm__wr_t *w, const ipm_publish_t *p, uint8_t v)
{
    int rc;
    ipm_prop_t alias;
    if (p->qos > 2)
        return IPM_EBAD_QOS;
    if (p->dup && p->qos == 0)
        return IPM_EBAD_FLAGS;
    if (p->topic.len == 0) {
        if (!is_v5(v))
            return IPM_EBAD_TOPIC;
        if (!ipm_props_get(&p->props, IPM_PROP_TOPIC_ALIAS, &alias))
            return IPM_EPROTOCOL;
    } else if (!ipm_topic_name_valid(p->topic.data, p->topic.len)) {
        return IPM_EBAD_TOPIC;
    }
    if (p->qos && p->packet_id == 0)
        return IPM_EZERO_PACKET_ID;
    if (p->payload.len && !p->payload.data)
        return IPM_EINVALID;
    wr_bin(w, p->topic);
    if (p->qos)
        wr_u16(w, p->packet_id);
    if (is_v5(v) && (rc = ipm__props_put(w, &p->props, IPM_PUBLISH)))
        return rc;
    wr_raw(w, p->payload.data, p->payload.len);
    return IPM_OK;
}

static int put_ack(ipm__wr_t *w, uint8_t type, const ipm_ack_t *a, uint8_t v)
{
    if (a->packet_id == 0)
        return IPM_EZERO_PACKET_ID;
    wr_u16(w, a->packet_id);
    if (!is_v5(v))
        return IPM_OK;
    if (!ipm__reason_ok(type, a->reason))
        return IPM_EBAD_REASON;
    /* 3.4.2.1: reason 0 without properties may be left out, and so may empty properties. */
    if (a->reason == 0 && props_empty(&a->props))
        return IPM_OK;
    wr_u8(w, a->reason);
    return props_empty(&a->props) ? IPM_OK : ipm__props_put(w, &a->props, type);
}

static int check_sub(const ipm_sub_t *s, bool unsub, uint8_t v)
{
    if (s->filter.len && !s->filter.data)
        return IPM_EINVALID;
    if (!ipm_topic_filter_valid(s->filter.data, s->filter.len))
        return IPM_EBAD_FILTER;
    int shared = ipm_shared_split(s->filter.data, s->filter.len, NULL, NULL);
    if (shared < 0)
        return shared;
    if (unsub)
        return IPM_OK;
    uint8_t reserved = is_v5(v) ? IPM_SUBOPT_RESERVED_MASK : 0xFC;
    if (s->options & reserved || (s->options & IPM_SUBOPT_QOS_MASK) == 3)
        return IPM_EBAD_SUBOPT;
    if (is_v5(v) && ((s->options & IPM_SUBOPT_RETAIN_HANDLING_MASK) >>
                             IPM_SUBOPT_RETAIN_HANDLING_SHIFT == 3 ||
                     (shared && (s->options & IPM_SUBOPT_NO_LOCAL))))
        return IPM_EPROTOCOL;
    return IPM_OK;
}

static int put_subscribe(ipm__wr_t *w, uint8_t type, const ipm_subscribe_t *s, uint8_t v)
{
    int rc;
    bool unsub = type == IPM_UNSUBSCRIBE;
    if (s->packet_id == 0)
        return IPM_EZERO_PACKET_ID;
    if (s->count == 0 || !s->subs)
        return IPM_EEMPTY_LIST;
    wr_u16(w, s->packet_id);
    if (is_v5(v) && (rc = ipm__props_put(w, &s->props, type)))
        return rc;
    for (uint16_t i = 0; i < s->count; i++) {
        if ((rc = check_sub(&s->subs[i], unsub, v)))
            return rc;
        wr_bin(w, s->subs[i].filter);
        if (!unsub)
            wr_u8(w, s->subs[i].options);
    }
    return IPM_OK;
}

static int put_suback(ipm__wr_t *w, uint8_t type, const ipm_suback_t *s, uint8_t v)
{
    int rc;
    if (s->packet_id == 0)
        return IPM_EZERO_PACKET_ID;
    wr_u16(w, s->packet_id);
    if (type == IPM_UNSUBACK && !is_v5(v))
        return IPM_OK; /* 3.x UNSUBACK has no payload */
    if (s->count == 0 || !s->reasons)
        return IPM_EEMPTY_LIST;
    if (is_v5(v) && (rc = ipm__props_put(w, &s->props, type)))
        return rc;
    for (uint16_t i = 0; i < s->count; i++) {
        uint8_t c = s->reasons[i];
        if (!(is_v5(v) ? ipm__reason_ok(type, c) : c <= 2 || c == IPM_SUBACK_FAILURE))
            return IPM_EBAD_REASON;
        wr_u8(w, c);
    }
    return IPM_OK;
}

static int put_reason(ipm__wr_t *w, uint8_t type, const ipm_reason_t *d, uint8_t v)
{
    if (!is_v5(v))
        return IPM_OK;
    if (!ipm__reason_ok(type, d->reason))
        return IPM_EBAD_REASON;
    if (d->reason == 0 && props_empty(&d->props))
        return IPM_OK; /* 3.14.2.1 / 3.15.2.1: remaining length 0 means success */
    wr_u8(w, d->reason);
    return props_empty(&d->props) ? IPM_OK : ipm__props_put(w, &d->props, type);
}

/* The low nibble of the first byte (MQTT-2.1.3-1). */
static uint8_t fixed_flags(const ipm_packet_t *pkt)
{
    const ipm_publish_t *p = &pkt->u.publish;
    switch (pkt->type) {
    case IPM_PUBLISH:
        return (uint8_t)((p->dup ? 0x08 : 0) | (p->qos & 3) << 1 | (p->retain ? 1 : 0));
    case IPM_PUBREL:
    case IPM_SUBSCRIBE:
    case IPM_UNSUBSCRIBE:
        return 2;
    default:
        return 0;
    }
}

static int put_body(ipm__wr_t *w, const ipm_packet_t *pkt, uint8_t v)
{
    uint8_t type = pkt->type;
    switch (type) {
    case IPM_CONNECT:
        return put_connect(w, &pkt->u.connect);
    case IPM_CONNACK:
        return put_connack(w, &pkt->u.connack, v);
    case IPM_PUBLISH:
        return put_publish(w, &pkt->u.publish, v);
    case IPM_PUBACK:
    case IPM_PUBREC:
    case IPM_PUBREL:
    case IPM_PUBCOMP:
        return put_ack(w, type, &pkt->u.ack, v);
    case IPM_SUBSCRIBE:
    case IPM_UNSUBSCRIBE:
        return put_subscribe(w, type, &pkt->u.subscribe, v);
    case IPM_SUBACK:
    case IPM_UNSUBACK:
        return put_suback(w, type, &pkt->u.suback, v);
    case IPM_PINGREQ:
    case IPM_PINGRESP:
        return IPM_OK;
    case IPM_DISCONNECT:
        return put_reason(w, type, &pkt->u.disconnect, v);
    case IPM_AUTH:
        return is_v5(v) ? put_reason(w, type, &pkt->u.disconnect, v) : IPM_EBAD_TYPE;
    }
    return IPM_EBAD_TYPE;
}

/* For CONNECT the packet's own version rules; everyone else speaks the session's. */
static uint8_t version_of(const ipm_packet_t *pkt, uint8_t version)
{
    return pkt->type == IPM_CONNECT ? pkt->u.connect.version : version;
}

/* Remaining length of the packet, or a negative IPM_E* if it is not valid. */
static int64_t body_len(const ipm_packet_t *pkt, uint8_t v)
{
    ipm__wr_t w = {NULL, 0, 0};
    int rc = put_body(&w, pkt, v);
    if (rc)
        return rc;
    return w.len > IPM_MAX_REMAINING_LENGTH ? IPM_ETOO_LARGE : (int64_t)w.len;
}

int64_t ipm_packet_size(const ipm_packet_t *pkt, uint8_t version)
{
    int64_t rl = body_len(pkt, version_of(pkt, version));
    return rl < 0 ? rl : 1 + (int64_t)ipm_varint_size((uint32_t)rl) + rl;
}

int64_t ipm_encode(const ipm_packet_t *pkt, uint8_t version, uint8_t *buf, size_t cap)
{
    uint8_t v = version_of(pkt, version);
    int64_t rl = body_len(pkt, v);
    if (rl < 0)
        return rl;
    int64_t size = 1 + (int64_t)ipm_varint_size((uint32_t)rl) + rl;
    if ((uint64_t)size > cap)
        return IPM_ENOSPACE;
    ipm__wr_t w = {buf, 0, cap};
    wr_u8(&w, (uint8_t)(pkt->type << 4 | fixed_flags(pkt)));
    wr_varint(&w, (uint32_t)rl);
    int rc = put_body(&w, pkt, v);
    assert(rc == IPM_OK && (int64_t)w.len == size);
    (void)rc;
    return size;
}
