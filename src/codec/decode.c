/*
 * decode.c - stream framing and packet decoding for MQTT 3.1, 3.1.1 and 5.0.
 *
 * One decoder per packet type handles every version; each check cites the rule it
 * enforces where the reason is not obvious.
 */
#include "wire.h"

int ipm_frame(const uint8_t *buf, size_t len, uint32_t max_packet, ipm_frame_t *f)
{
    if (len < 1)
        return IPM_ENEED_MORE;
    if ((buf[0] >> 4) == 0)
        return IPM_EBAD_TYPE;
    uint32_t rl;
    int n = ipm_varint_read(buf + 1, len - 1, &rl);
    if (n == 0)
        return IPM_ENEED_MORE;
    if (n < 0)
        return n;
    uint64_t total = 1u + (unsigned)n + (uint64_t)rl;
    if (max_packet && total > max_packet)
        return IPM_ETOO_LARGE;
    f->first_byte = buf[0];
    f->remaining_len = rl;
    f->header_len = 1u + (unsigned)n;
    f->total_len = (uint32_t)total;
    return len < total ? IPM_ENEED_MORE : IPM_OK;
}

static bool is_v5(uint8_t version) { return version == IPM_PROTO_V5; }

/* A Packet Identifier: never 0 (MQTT-2.2.1-3). */
static int rd_pid(ipm__rd_t *r, uint16_t *pid)
{
    int rc = rd_u16(r, pid);
    return rc ? rc : *pid ? IPM_OK : IPM_EZERO_PACKET_ID;
}

static int finish(const ipm__rd_t *r)
{
    return r->p == r->end ? IPM_OK : IPM_ETRAILING;
}

/*
 * Which 5.0 packets may carry which reason code: IPM_REASON_MAP's packet sets in one byte
 * per row, small enough for a device. PUBREC shares PUBACK's bit and PUBCOMP PUBREL's: the
 * specification gives each pair the same codes (5.0 3.5.2.1, 3.7.2.1), as checked below.
 */
#define BIT(in, type, to) (((in) >> (type) & 1u) << (to))
#define FOLD(in)                                                                          \
    (BIT(in, IPM_CONNACK, 0) | BIT(in, IPM_PUBACK, 1) | BIT(in, IPM_PUBREC, 1) |           \
     BIT(in, IPM_PUBREL, 2) | BIT(in, IPM_PUBCOMP, 2) | BIT(in, IPM_SUBACK, 3) |           \
     BIT(in, IPM_UNSUBACK, 4) | BIT(in, IPM_DISCONNECT, 5) | BIT(in, IPM_AUTH, 6))

#define PAIRED(in, a, b) (((in) >> (a) & 1u) == ((in) >> (b) & 1u))
#define CHECK_PAIRS(code, name, spec, v3, in)                                             \
    _Static_assert(PAIRED(in, IPM_PUBACK, IPM_PUBREC) && PAIRED(in, IPM_PUBREL, IPM_PUBCOMP), \
                   "PUBREC and PUBCOMP share the reason codes of PUBACK and PUBREL: " spec);
IPM_REASON_MAP(CHECK_PAIRS)

#define CODE(code, name, spec, v3, in) code,
static const uint8_t rc_codes[] = {IPM_REASON_MAP(CODE)};
#undef CODE

bool ipm__reason_ok(uint8_t type, uint8_t rc)
{
#define SET(code, name, spec, v3, in) (uint8_t)FOLD(in),
    static const uint8_t sets[] = {IPM_REASON_MAP(SET)};
#undef SET
#define KIND(t) [t] = FOLD(1u << (t))
    static const uint8_t bit_of_type[16] = {
        KIND(IPM_CONNACK), KIND(IPM_PUBACK),   KIND(IPM_PUBREC),     KIND(IPM_PUBREL),
        KIND(IPM_PUBCOMP), KIND(IPM_SUBACK),   KIND(IPM_UNSUBACK),   KIND(IPM_DISCONNECT),
        KIND(IPM_AUTH)};
#undef KIND
    unsigned bit = type < 16 ? bit_of_type[type] : 0;
    for (size_t i = 0; i < sizeof rc_codes; i++)
        if (rc_codes[i] == rc && (sets[i] & bit))
            return true;
    return false;
}

uint8_t ipm_reason_connack3(uint8_t reason)
{
#define V3(code, name, spec, v3, in) v3,
    static const uint8_t v3s[] = {IPM_REASON_MAP(V3)};
#undef V3
    for (size_t i = 0; i < sizeof rc_codes; i++)
        if (rc_codes[i] == reason && v3s[i] != IPM_NO_3X)
            return v3s[i];
    return IPM_CONNACK_REFUSED_SERVER_UNAVAILABLE;
}

static int decode_will(ipm__rd_t *r, ipm_connect_t *c)
{
    int rc;
    if (is_v5(c->version) && (rc = ipm__props_decode(r, IPM__WILL, &c->will_props)))
        return rc;
    if ((rc = rd_str(r, &c->will_topic)))
        return rc;
    /* MQTT-3.1.3-11: the Will Topic is a topic name, so no wildcards and not empty. */
    if (!ipm_topic_name_valid(c->will_topic.data, c->will_topic.len))
        return IPM_EBAD_TOPIC;
    return rd_bin(r, &c->will_payload);
}

static int decode_protocol(ipm__rd_t *r, ipm_connect_t *c)
{
    ipm_bytes_t name;
    int rc = rd_bin(r, &name);
    if (rc == IPM_OK)
        rc = rd_u8(r, &c->version);
    if (rc)
        return rc;
    /* mosquitto's bridges (try_private) add 0x80 to a 3.x level. */
    if ((c->version == (IPM_PROTO_V31 | 0x80) || c->version == (IPM_PROTO_V311 | 0x80))) {
        c->bridge = true;
        c->version &= 0x7F;
    }
    bool mqtt = name.len == 4 && !memcmp(name.data, "MQTT", 4);
    bool mqisdp = name.len == 6 && !memcmp(name.data, "MQIsdp", 6);
    if (!mqtt && !mqisdp)
        return IPM_EBAD_PROTOCOL;
    if (mqisdp ? c->version != IPM_PROTO_V31
               : c->version != IPM_PROTO_V311 && c->version != IPM_PROTO_V5)
        return IPM_EBAD_VERSION;
    return IPM_OK;
}

static int decode_connect(ipm__rd_t *r, ipm_connect_t *c)
{
    uint8_t flags;
    int rc = decode_protocol(r, c);
    if (rc == IPM_OK)
        rc = rd_u8(r, &flags);
    if (rc == IPM_OK)
        rc = rd_u16(r, &c->keepalive);
    if (rc)
        return rc;
    /* MQTT-3.1.2-3 reserved bit; MQTT-3.1.2-11..15 will QoS/retain only with a will. */
    c->will = flags & IPM_CONNECT_FLAG_WILL;
    c->will_qos = (flags & IPM_CONNECT_FLAG_WILL_QOS_MASK) >> 3;
    c->will_retain = flags & IPM_CONNECT_FLAG_WILL_RETAIN;
    c->clean_start = flags & IPM_CONNECT_FLAG_CLEAN;
    c->has_username = flags & IPM_CONNECT_FLAG_USERNAME;
    c->has_password = flags & IPM_CONNECT_FLAG_PASSWORD;
    if (flags & IPM_CONNECT_FLAG_RESERVED)
        return IPM_EBAD_CONNECT_FLAGS;
    if (c->will_qos == 3 || (!c->will && (c->will_qos || c->will_retain)))
        return IPM_EBAD_CONNECT_FLAGS;
    /* MQTT-3.1.2-22: 3.1.1 forbids a password without a user name; 5.0 allows it. */
    if (!is_v5(c->version) && c->has_password && !c->has_username)
        return IPM_EBAD_CONNECT_FLAGS;
    if (is_v5(c->version) && (rc = ipm__props_decode(r, IPM_CONNECT, &c->props)))
        return rc;
    if (is_v5(c->version) && !ipm__auth_props_ok(&c->props))
        return IPM_EPROTOCOL;
    if ((rc = rd_str(r, &c->client_id)))
        return rc;
    if (c->will && (rc = decode_will(r, c)))
        return rc;
    if (c->has_username && (rc = rd_str(r, &c->username)))
        return rc;
    if (c->has_password && (rc = rd_bin(r, &c->password)))
        return rc;
    return finish(r);
}

static int decode_connack(ipm__rd_t *r, uint8_t version, ipm_connack_t *c)
{
    uint8_t flags;
    int rc = rd_u8(r, &flags);
    if (rc == IPM_OK)
        rc = rd_u8(r, &c->reason);
    if (rc)
        return rc;
    /* 3.1 leaves this byte unused; 3.1.1 and 5.0 reserve all but Session Present. */
    if (version != IPM_PROTO_V31 && (flags & 0xFE))
        return IPM_EMALFORMED;
    c->session_present = version != IPM_PROTO_V31 && (flags & 1);
    /* A 5.0 client may get a 3.1.1-style refusal (0x01) from an older server: no props. */
    if (is_v5(version) && rd_left(r) > 0) {
        if ((rc = ipm__props_decode(r, IPM_CONNACK, &c->props)))
            return rc;
        if (!ipm__reason_ok(IPM_CONNACK, c->reason))
            return IPM_EBAD_REASON;
    } else if (is_v5(version) && c->reason != IPM_CONNACK_REFUSED_PROTOCOL_VERSION) {
        return IPM_ETRUNCATED; /* 5.0 3.2.2.3.1: otherwise the property length is required */
    } else if (c->reason > IPM_CONNACK_REFUSED_NOT_AUTHORIZED && !is_v5(version)) {
        return IPM_EBAD_REASON;
    }
    return finish(r);
}

static int decode_publish(ipm__rd_t *r, uint8_t flags, uint8_t version, ipm_publish_t *p)
{
    int rc;
    p->dup = flags & 0x08;
    p->qos = (flags >> 1) & 3;
    p->retain = flags & 0x01;
    if (p->qos == 3)
        return IPM_EBAD_QOS; /* MQTT-3.3.1-4 */
    if (p->dup && p->qos == 0)
        return IPM_EBAD_FLAGS; /* MQTT-3.3.1-2 */
    if ((rc = rd_str(r, &p->topic)))
        return rc;
    if (p->qos) {
        if ((rc = rd_pid(r, &p->packet_id)))
            return rc;
    }
    if (is_v5(version) && (rc = ipm__props_decode(r, IPM_PUBLISH, &p->props)))
        return rc;
    if (p->topic.len == 0) {
        ipm_prop_t alias;
        /* 5.0 3.3.2.1: an empty name is allowed only with a Topic Alias. */
        if (!is_v5(version))
            return IPM_EBAD_TOPIC;
        if (!ipm_props_get(&p->props, IPM_PROP_TOPIC_ALIAS, &alias))
            return IPM_EPROTOCOL;
    } else if (!ipm_topic_name_valid(p->topic.data, p->topic.len)) {
        return IPM_EBAD_TOPIC; /* MQTT-3.3.2-2: no wildcards in a topic name */
    }
    p->payload.data = r->p;
    p->payload.len = (uint32_t)rd_left(r);
    r->p = r->end;
    return IPM_OK;
}

/* PUBACK, PUBREC, PUBREL, PUBCOMP; 5.0 may omit the reason (0) and the properties. */
static int decode_ack(ipm__rd_t *r, uint8_t type, uint8_t version, ipm_ack_t *a)
{
    int rc = rd_pid(r, &a->packet_id);
    if (rc)
        return rc;
    if (is_v5(version) && rd_left(r) > 0) {
        if ((rc = rd_u8(r, &a->reason)))
            return rc;
        if (rd_left(r) > 0 && (rc = ipm__props_decode(r, type, &a->props)))
            return rc;
        if (!ipm__reason_ok(type, a->reason))
            return IPM_EBAD_REASON;
    }
    return finish(r);
}

static int decode_sub_entry(ipm__rd_t *r, bool unsub, uint8_t version, ipm_sub_t *s)
{
    int rc = rd_str(r, &s->filter);
    if (rc)
        return rc;
    if (!ipm_topic_filter_valid(s->filter.data, s->filter.len))
        return IPM_EBAD_FILTER;
    int shared = ipm_shared_split(s->filter.data, s->filter.len, NULL, NULL);
    if (shared < 0)
        return shared;
    s->options = 0;
    if (unsub)
        return IPM_OK;
    if ((rc = rd_u8(r, &s->options)))
        return rc;
    uint8_t reserved = is_v5(version) ? IPM_SUBOPT_RESERVED_MASK : 0xFC;
    if (s->options & reserved || (s->options & IPM_SUBOPT_QOS_MASK) == 3)
        return IPM_EBAD_SUBOPT; /* MQTT-3.8.3-5 / MQTT-3-8.3-4 (3.1.1) */
    if (!is_v5(version))
        return IPM_OK;
    if ((s->options & IPM_SUBOPT_RETAIN_HANDLING_MASK) >> IPM_SUBOPT_RETAIN_HANDLING_SHIFT == 3)
        return IPM_EPROTOCOL; /* 3.8.3.1: Retain Handling 3 */
    if (shared && (s->options & IPM_SUBOPT_NO_LOCAL))
        return IPM_EPROTOCOL; /* MQTT-3.8.3-4: No Local on a shared subscription */
    return IPM_OK;
}

static int decode_subscribe(ipm__rd_t *r, uint8_t type, uint8_t version, ipm_subscribe_t *s)
{
    int rc = rd_pid(r, &s->packet_id);
    if (rc)
        return rc;
    if (is_v5(version) && (rc = ipm__props_decode(r, type, &s->props)))
        return rc;
    s->raw.data = r->p;
    s->raw.len = (uint32_t)rd_left(r);
    s->count = 0;
    while (rd_left(r) > 0) {
        ipm_sub_t e;
        if ((rc = decode_sub_entry(r, type == IPM_UNSUBSCRIBE, version, &e)))
            return rc;
        if (s->count == UINT16_MAX)
            return IPM_EMALFORMED;
        s->count++;
    }
    /* MQTT-3.8.3-3 / MQTT-3.10.3-2: at least one topic filter. */
    return s->count ? IPM_OK : IPM_EEMPTY_LIST;
}

static int decode_suback(ipm__rd_t *r, uint8_t type, uint8_t version, ipm_suback_t *s)
{
    int rc = rd_pid(r, &s->packet_id);
    if (rc)
        return rc;
    if (is_v5(version) && (rc = ipm__props_decode(r, type, &s->props)))
        return rc;
    s->reasons = r->p;
    s->count = (uint16_t)(rd_left(r) > UINT16_MAX ? UINT16_MAX : rd_left(r));
    if (rd_left(r) > UINT16_MAX)
        return IPM_EMALFORMED;
    /* 3.x UNSUBACK carries no payload. */
    if (type == IPM_UNSUBACK && !is_v5(version))
        return finish(r);
    if (s->count == 0)
        return IPM_EEMPTY_LIST;
    for (uint16_t i = 0; i < s->count; i++) {
        uint8_t c = s->reasons[i];
        bool ok = is_v5(version) ? ipm__reason_ok(type, c) : c <= 2 || c == IPM_SUBACK_FAILURE;
        if (!ok)
            return IPM_EBAD_REASON;
    }
    r->p = r->end;
    return IPM_OK;
}

/* 5.0 DISCONNECT and AUTH: reason and properties may be omitted (reason 0). */
static int decode_reason(ipm__rd_t *r, uint8_t type, uint8_t version, ipm_reason_t *d)
{
    int rc;
    if (!is_v5(version))
        return finish(r);
    if (rd_left(r) > 0) {
        if ((rc = rd_u8(r, &d->reason)))
            return rc;
        if (rd_left(r) > 0 && (rc = ipm__props_decode(r, type, &d->props)))
            return rc;
        if (!ipm__reason_ok(type, d->reason))
            return IPM_EBAD_REASON;
    }
    return finish(r);
}

/* MQTT-2.1.3-1: the flags each type must carry (PUBLISH's are checked separately). */
static int check_flags(uint8_t type, uint8_t flags)
{
    if (type == IPM_PUBLISH)
        return IPM_OK;
    uint8_t want = type == IPM_PUBREL || type == IPM_SUBSCRIBE || type == IPM_UNSUBSCRIBE ? 2 : 0;
    return flags == want ? IPM_OK : IPM_EBAD_FLAGS;
}

int ipm_decode(const ipm_frame_t *f, const uint8_t *buf, uint8_t version, ipm_packet_t *pkt)
{
    uint8_t type = f->first_byte >> 4, flags = f->first_byte & 0x0F;
    ipm__rd_t r = {buf + f->header_len, buf + f->header_len + f->remaining_len};
    int rc;

    memset(pkt, 0, sizeof *pkt);
    pkt->type = type;
    if (type == 0 || (type == IPM_AUTH && !is_v5(version)))
        return IPM_EBAD_TYPE;
    if ((rc = check_flags(type, flags)))
        return rc;
    switch (type) {
    case IPM_CONNECT:
        return decode_connect(&r, &pkt->u.connect);
    case IPM_CONNACK:
        return decode_connack(&r, version, &pkt->u.connack);
    case IPM_PUBLISH:
        return decode_publish(&r, flags, version, &pkt->u.publish);
    case IPM_PUBACK:
    case IPM_PUBREC:
    case IPM_PUBREL:
    case IPM_PUBCOMP:
        return decode_ack(&r, type, version, &pkt->u.ack);
    case IPM_SUBSCRIBE:
    case IPM_UNSUBSCRIBE:
        return decode_subscribe(&r, type, version, &pkt->u.subscribe);
    case IPM_SUBACK:
    case IPM_UNSUBACK:
        return decode_suback(&r, type, version, &pkt->u.suback);
    case IPM_PINGREQ:
    case IPM_PINGRESP:
        return finish(&r);
    case IPM_DISCONNECT:
    case IPM_AUTH:
        return decode_reason(&r, type, version, &pkt->u.disconnect);
    }
    return IPM_EBAD_TYPE;
}

void ipm_subs_iter(const ipm_subscribe_t *s, bool unsubscribe, ipm_sub_iter_t *it)
{
    it->p = s->raw.data;
    it->end = s->raw.data ? s->raw.data + s->raw.len : NULL;
    it->unsubscribe = unsubscribe;
}

int ipm_subs_next(ipm_sub_iter_t *it, ipm_sub_t *out)
{
    if (!it->p || it->p >= it->end)
        return 0;
    ipm__rd_t r = {it->p, it->end};
    if (rd_bin(&r, &out->filter) != IPM_OK) {
        it->p = it->end;
        return 0;
    }
    out->options = 0;
    if (!it->unsubscribe && rd_u8(&r, &out->options) != IPM_OK) {
        it->p = it->end;
        return 0;
    }
    it->p = r.p;
    return 1;
}
