/*
 * props.c - MQTT 5.0 properties, driven by one table (section 2.2.2.2): each id's type,
 * the packets that may carry it, whether it may repeat, and its value rule.
 */
#include "wire.h"

#define P(t) (1u << (t))
#define PUBLISH_AND_WILL (P(IPM_PUBLISH) | P(IPM__WILL))
#define ACKS (P(IPM_PUBACK) | P(IPM_PUBREC) | P(IPM_PUBREL) | P(IPM_PUBCOMP))
#define ALL_PACKETS 0xFFFFu /* every type 1..15 and the will (bit 0) */

typedef enum { V_ANY, V_BOOL, V_NONZERO } value_rule_t;

typedef struct {
    uint8_t type;     /* ipm_prop_type_t; 0 = undefined id */
    uint8_t rule;     /* value_rule_t */
    uint8_t repeat;   /* may appear more than once (in the packets where `repeat_in`) */
    uint16_t allowed; /* bit per packet type, bit 0 = will properties */
    uint16_t repeat_in;
} prop_def_t;

static const prop_def_t defs[] = {
    [IPM_PROP_PAYLOAD_FORMAT_INDICATOR] = {IPM_PT_BYTE, V_BOOL, 0, PUBLISH_AND_WILL, 0},
    [IPM_PROP_MESSAGE_EXPIRY_INTERVAL] = {IPM_PT_U32, V_ANY, 0, PUBLISH_AND_WILL, 0},
    [IPM_PROP_CONTENT_TYPE] = {IPM_PT_UTF8, V_ANY, 0, PUBLISH_AND_WILL, 0},
    [IPM_PROP_RESPONSE_TOPIC] = {IPM_PT_UTF8, V_ANY, 0, PUBLISH_AND_WILL, 0},
    [IPM_PROP_CORRELATION_DATA] = {IPM_PT_BINARY, V_ANY, 0, PUBLISH_AND_WILL, 0},
    /* 3.3.2.3.8: a PUBLISH may carry several (one per matching subscription); 3.8.2.1.2:
     * a SUBSCRIBE at most one. 0 is a Protocol Error in both. */
    [IPM_PROP_SUBSCRIPTION_IDENTIFIER] = {IPM_PT_VARINT, V_NONZERO, 1,
                                          P(IPM_PUBLISH) | P(IPM_SUBSCRIBE), P(IPM_PUBLISH)},
    [IPM_PROP_SESSION_EXPIRY_INTERVAL] = {IPM_PT_U32, V_ANY, 0,
                                          P(IPM_CONNECT) | P(IPM_CONNACK) | P(IPM_DISCONNECT), 0},
    [IPM_PROP_ASSIGNED_CLIENT_IDENTIFIER] = {IPM_PT_UTF8, V_ANY, 0, P(IPM_CONNACK), 0},
    [IPM_PROP_SERVER_KEEP_ALIVE] = {IPM_PT_U16, V_ANY, 0, P(IPM_CONNACK), 0},
    [IPM_PROP_AUTHENTICATION_METHOD] = {IPM_PT_UTF8, V_ANY, 0,
                                        P(IPM_CONNECT) | P(IPM_CONNACK) | P(IPM_AUTH), 0},
    [IPM_PROP_AUTHENTICATION_DATA] = {IPM_PT_BINARY, V_ANY, 0,
                                      P(IPM_CONNECT) | P(IPM_CONNACK) | P(IPM_AUTH), 0},
    [IPM_PROP_REQUEST_PROBLEM_INFORMATION] = {IPM_PT_BYTE, V_BOOL, 0, P(IPM_CONNECT), 0},
    [IPM_PROP_WILL_DELAY_INTERVAL] = {IPM_PT_U32, V_ANY, 0, P(IPM__WILL), 0},
    [IPM_PROP_REQUEST_RESPONSE_INFORMATION] = {IPM_PT_BYTE, V_BOOL, 0, P(IPM_CONNECT), 0},
    [IPM_PROP_RESPONSE_INFORMATION] = {IPM_PT_UTF8, V_ANY, 0, P(IPM_CONNACK), 0},
    [IPM_PROP_SERVER_REFERENCE] = {IPM_PT_UTF8, V_ANY, 0, P(IPM_CONNACK) | P(IPM_DISCONNECT), 0},
    [IPM_PROP_REASON_STRING] = {IPM_PT_UTF8, V_ANY, 0,
                                P(IPM_CONNACK) | ACKS | P(IPM_SUBACK) | P(IPM_UNSUBACK) |
                                    P(IPM_DISCONNECT) | P(IPM_AUTH),
                                0},
    [IPM_PROP_RECEIVE_MAXIMUM] = {IPM_PT_U16, V_NONZERO, 0, P(IPM_CONNECT) | P(IPM_CONNACK), 0},
    [IPM_PROP_TOPIC_ALIAS_MAXIMUM] = {IPM_PT_U16, V_ANY, 0, P(IPM_CONNECT) | P(IPM_CONNACK), 0},
    [IPM_PROP_TOPIC_ALIAS] = {IPM_PT_U16, V_NONZERO, 0, P(IPM_PUBLISH), 0},
    [IPM_PROP_MAXIMUM_QOS] = {IPM_PT_BYTE, V_BOOL, 0, P(IPM_CONNACK), 0},
    [IPM_PROP_RETAIN_AVAILABLE] = {IPM_PT_BYTE, V_BOOL, 0, P(IPM_CONNACK), 0},
    [IPM_PROP_USER_PROPERTY] = {IPM_PT_PAIR, V_ANY, 1, ALL_PACKETS, ALL_PACKETS},
    [IPM_PROP_MAXIMUM_PACKET_SIZE] = {IPM_PT_U32, V_NONZERO, 0,
                                      P(IPM_CONNECT) | P(IPM_CONNACK), 0},
    [IPM_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE] = {IPM_PT_BYTE, V_BOOL, 0, P(IPM_CONNACK), 0},
    [IPM_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE] = {IPM_PT_BYTE, V_BOOL, 0, P(IPM_CONNACK), 0},
    [IPM_PROP_SHARED_SUBSCRIPTION_AVAILABLE] = {IPM_PT_BYTE, V_BOOL, 0, P(IPM_CONNACK), 0},
};

#define NDEFS (sizeof defs / sizeof defs[0])

ipm_prop_type_t ipm_prop_type(uint8_t id)
{
    return id < NDEFS ? (ipm_prop_type_t)defs[id].type : (ipm_prop_type_t)0;
}

/* Checks one property against the table: allowed here, value in range, not repeated. */
static int check(const ipm_prop_t *p, uint8_t packet_type, uint64_t *seen)
{
    if (p->id >= NDEFS || !defs[p->id].type)
        return IPM_EUNKNOWN_PROPERTY;
    const prop_def_t *d = &defs[p->id];
    if (!(d->allowed & P(packet_type)))
        return IPM_EBAD_PROPERTY;
    if (*seen >> p->id & 1 && !(d->repeat && d->repeat_in & P(packet_type)))
        return IPM_EDUP_PROPERTY;
    *seen |= (uint64_t)1 << p->id;
    if (d->rule == V_BOOL && p->num > 1)
        return IPM_EBAD_PROPERTY;
    if (d->rule == V_NONZERO && p->num == 0)
        return p->id == IPM_PROP_TOPIC_ALIAS ? IPM_EBAD_ALIAS : IPM_EBAD_PROPERTY;
    /* MQTT-3.3.2-14: a Response Topic is a topic name, so it holds no wildcards. */
    if (p->id == IPM_PROP_RESPONSE_TOPIC && !ipm_topic_name_valid(p->bin.data, p->bin.len))
        return IPM_EBAD_TOPIC;
    return IPM_OK;
}

/* Reads one property's value; the id has been read and is defined. */
static int read_value(ipm__rd_t *r, ipm_prop_t *p)
{
    uint8_t b = 0;
    uint16_t s = 0;
    int rc;
    p->num = 0;
    p->bin.data = p->val.data = NULL;
    p->bin.len = p->val.len = 0;
    switch (defs[p->id].type) {
    case IPM_PT_BYTE:
        rc = rd_u8(r, &b);
        p->num = b;
        return rc;
    case IPM_PT_U16:
        rc = rd_u16(r, &s);
        p->num = s;
        return rc;
    case IPM_PT_U32:
        return rd_u32(r, &p->num);
    case IPM_PT_VARINT:
        return rd_varint(r, &p->num);
    case IPM_PT_UTF8:
        return rd_str(r, &p->bin);
    case IPM_PT_BINARY:
        return rd_bin(r, &p->bin);
    case IPM_PT_PAIR:
        rc = rd_str(r, &p->bin);
        return rc ? rc : rd_str(r, &p->val);
    }
    return IPM_EUNKNOWN_PROPERTY;
}

static int read_prop(ipm__rd_t *r, ipm_prop_t *p)
{
    uint32_t id;
    int rc = rd_varint(r, &id);
    if (rc)
        return rc;
    if (id >= NDEFS || !defs[id].type)
        return IPM_EUNKNOWN_PROPERTY;
    p->id = (uint8_t)id;
    return read_value(r, p);
}

int ipm__props_decode(ipm__rd_t *r, uint8_t packet_type, ipm_props_t *out)
{
    uint32_t len;
    uint64_t seen = 0;
    int rc = rd_varint(r, &len);
    if (rc)
        return rc;
    if (rd_left(r) < len)
        return IPM_ETRUNCATED;
    ipm__rd_t block = {r->p, r->p + len};
    out->list = NULL;
    out->count = 0;
    out->raw.data = r->p;
    out->raw.len = len;
    while (block.p < block.end) {
        ipm_prop_t p;
        if ((rc = read_prop(&block, &p)) != IPM_OK)
            return rc;
        if ((rc = check(&p, packet_type, &seen)) != IPM_OK)
            return rc;
        if (out->count == UINT16_MAX)
            return IPM_EMALFORMED;
        out->count++;
    }
    r->p = block.end;
    return IPM_OK;
}

void ipm_props_iter(const ipm_props_t *props, ipm_prop_iter_t *it)
{
    it->p = props->raw.data;
    it->end = props->raw.data ? props->raw.data + props->raw.len : NULL;
}

int ipm_props_next(ipm_prop_iter_t *it, ipm_prop_t *out)
{
    if (!it->p || it->p >= it->end)
        return 0;
    ipm__rd_t r = {it->p, it->end};
    if (read_prop(&r, out) != IPM_OK) {
        it->p = it->end; /* not a validated block: stop rather than guess */
        return 0;
    }
    it->p = r.p;
    return 1;
}

int ipm_props_get(const ipm_props_t *props, uint8_t id, ipm_prop_t *out)
{
    if (props->list) {
        for (uint16_t i = 0; i < props->count; i++)
            if (props->list[i].id == id) {
                *out = props->list[i];
                return 1;
            }
        return 0;
    }
    ipm_prop_iter_t it;
    ipm_props_iter(props, &it);
    while (ipm_props_next(&it, out))
        if (out->id == id)
            return 1;
    return 0;
}

/* Writes (or, with a counting writer, sizes) one validated property. */
static int put_prop(ipm__wr_t *w, const ipm_prop_t *p)
{
    int rc;
    wr_u8(w, p->id); /* every defined id is below 128: a one-byte varint */
    switch (defs[p->id].type) {
    case IPM_PT_BYTE:
        wr_u8(w, (uint8_t)p->num);
        return IPM_OK;
    case IPM_PT_U16:
        if (p->num > UINT16_MAX)
            return IPM_EBAD_PROPERTY;
        wr_u16(w, (uint16_t)p->num);
        return IPM_OK;
    case IPM_PT_U32:
        wr_u32(w, p->num);
        return IPM_OK;
    case IPM_PT_VARINT:
        if (p->num > IPM_MAX_REMAINING_LENGTH)
            return IPM_EBAD_PROPERTY;
        wr_varint(w, p->num);
        return IPM_OK;
    case IPM_PT_UTF8:
        if ((rc = ipm__str_ok(p->bin)) != IPM_OK)
            return rc;
        wr_bin(w, p->bin);
        return IPM_OK;
    case IPM_PT_BINARY:
        if ((rc = ipm__bin_ok(p->bin)) != IPM_OK)
            return rc;
        wr_bin(w, p->bin);
        return IPM_OK;
    case IPM_PT_PAIR:
        if ((rc = ipm__str_ok(p->bin)) != IPM_OK || (rc = ipm__str_ok(p->val)) != IPM_OK)
            return rc;
        wr_bin(w, p->bin);
        wr_bin(w, p->val);
        return IPM_OK;
    }
    return IPM_EUNKNOWN_PROPERTY;
}

/* The block's contents without the length prefix. */
static int put_block(ipm__wr_t *w, const ipm_props_t *props, uint8_t packet_type)
{
    if (!props->list) {
        if (props->raw.len && !props->raw.data)
            return IPM_EINVALID;
        wr_raw(w, props->raw.data, props->raw.len);
        return IPM_OK;
    }
    uint64_t seen = 0;
    for (uint16_t i = 0; i < props->count; i++) {
        int rc = check(&props->list[i], packet_type, &seen);
        if (rc == IPM_OK)
            rc = put_prop(w, &props->list[i]);
        if (rc != IPM_OK)
            return rc;
    }
    return IPM_OK;
}

int64_t ipm_props_size(const ipm_props_t *props, uint8_t packet_type)
{
    ipm__wr_t w = {NULL, 0, 0};
    int rc = put_block(&w, props, packet_type);
    return rc ? rc : (int64_t)w.len;
}

int ipm__props_put(ipm__wr_t *w, const ipm_props_t *props, uint8_t packet_type)
{
    ipm_props_t none = {NULL, 0, {NULL, 0}};
    if (!props)
        props = &none;
    int64_t n = ipm_props_size(props, packet_type);
    if (n < 0)
        return (int)n;
    if (n > IPM_MAX_REMAINING_LENGTH)
        return IPM_ETOO_LARGE;
    wr_varint(w, (uint32_t)n);
    /* Validated by the sizing pass, so this cannot fail. */
    return w->p ? put_block(w, props, packet_type) : (w->len += (size_t)n, IPM_OK);
}

/* 5.0 3.1.2.11.10: Authentication Data without an Authentication Method is a Protocol Error. */
bool ipm__auth_props_ok(const ipm_props_t *props)
{
    ipm_prop_t p;
    return !ipm_props_get(props, IPM_PROP_AUTHENTICATION_DATA, &p) ||
           ipm_props_get(props, IPM_PROP_AUTHENTICATION_METHOD, &p);
}
