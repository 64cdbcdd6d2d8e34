/*
 * test_codec_props.c - MQTT 5.0 properties against the table of section 2.2.2.2: every
 * property in every packet (allowed or not), repeats, value rules, truncated values, the
 * iterator, ipm_props_get and ipm_props_size.
 *
 * Property bytes are written here by a tiny writer that follows section 1.5 (integers big
 * endian, strings and binary data with a two-byte length), independent of the codec.
 */
#include "codec_test.h"

#define V5 IPM_PROTO_V5

/* ---- a test-side writer ----------------------------------------------------------------- */

typedef struct {
    uint8_t b[512];
    size_t n;
} buf_t;

static void put(buf_t *b, const void *p, size_t n) {
    assert_true(b->n + n <= sizeof b->b);
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

static void put_u8(buf_t *b, uint32_t v) {
    uint8_t x = (uint8_t)v;
    put(b, &x, 1);
}

static void put_u16(buf_t *b, uint32_t v) {
    put_u8(b, v >> 8);
    put_u8(b, v);
}

static void put_varint(buf_t *b, uint32_t v) {
    do {
        uint8_t x = v % 128;
        v /= 128;
        put_u8(b, v ? x | 0x80 : x);
    } while (v);
}

static void put_str(buf_t *b, ipm_bytes_t s) {
    put_u16(b, s.len);
    put(b, s.data, s.len);
}

/* Append property `p` as section 2.2.2.2 encodes it. */
static void put_prop(buf_t *b, const ipm_prop_t *p) {
    const ipmt_prop_spec_t *s = ipmt_prop_spec(p->id);
    assert_non_null(s);
    put_u8(b, p->id);
    switch (s->type) {
    case IPM_PT_BYTE:
        put_u8(b, p->num);
        break;
    case IPM_PT_U16:
        put_u16(b, p->num);
        break;
    case IPM_PT_U32:
        put_u16(b, p->num >> 16);
        put_u16(b, p->num);
        break;
    case IPM_PT_VARINT:
        put_varint(b, p->num);
        break;
    case IPM_PT_UTF8:
    case IPM_PT_BINARY:
        put_str(b, p->bin);
        break;
    case IPM_PT_PAIR:
        put_str(b, p->bin);
        put_str(b, p->val);
        break;
    }
}

/* A valid value of property `id`. */
static ipm_prop_t sample(uint8_t id) {
    ipm_prop_t p = {id, 1, {(const uint8_t *)"a", 1}, {(const uint8_t *)"v", 1}};
    return p;
}

/*
 * A 5.0 packet of `where` (a packet type, or IPMT_WILL for the will properties of a
 * CONNECT) carrying the property block `props`, around fixed valid fields.
 */
static size_t build(uint8_t where, const buf_t *props, uint8_t *out, size_t cap) {
    static const uint8_t connect_head[] = {0, 4, 'M', 'Q', 'T', 'T', 5, 0x02, 0, 60};
    static const uint8_t will_head[] = {0, 4, 'M', 'Q', 'T', 'T', 5, 0x06, 0, 60, 0, 0, 1, 'a'};
    buf_t body = {.n = 0};
    uint8_t first = 0;
    switch (where) {
    case IPMT_WILL:
        first = 0x10;
        put(&body, will_head, sizeof will_head);
        break;
    case IPM_CONNECT:
        first = 0x10;
        put(&body, connect_head, sizeof connect_head);
        break;
    case IPM_CONNACK:
        first = 0x20;
        put_u16(&body, 0);
        break;
    case IPM_PUBLISH:
        first = 0x30;
        put_str(&body, ipm_str("t"));
        break;
    case IPM_PUBACK:
    case IPM_PUBREC:
    case IPM_PUBREL:
    case IPM_PUBCOMP:
        first = (uint8_t)(where << 4 | (where == IPM_PUBREL ? 2 : 0));
        put_u16(&body, 1);
        put_u8(&body, 0);
        break;
    case IPM_SUBSCRIBE:
    case IPM_SUBACK:
    case IPM_UNSUBSCRIBE:
    case IPM_UNSUBACK:
        first = (uint8_t)(where << 4 | (where == IPM_SUBSCRIBE || where == IPM_UNSUBSCRIBE ? 2 : 0));
        put_u16(&body, 1);
        break;
    case IPM_DISCONNECT:
        first = 0xE0;
        put_u8(&body, 0);
        break;
    case IPM_AUTH:
        first = 0xF0;
        put_u8(&body, IPM_RC_CONTINUE_AUTHENTICATION);
        break;
    default:
        fail();
    }
    put_varint(&body, (uint32_t)props->n);
    put(&body, props->b, props->n);
    switch (where) {
    case IPMT_WILL:
        put_str(&body, ipm_str("w"));
        put_str(&body, ipm_str(""));
        break;
    case IPM_CONNECT:
        put_str(&body, ipm_str("a"));
        break;
    case IPM_PUBLISH:
        put_u8(&body, 'x');
        break;
    case IPM_SUBSCRIBE:
        put_str(&body, ipm_str("a"));
        put_u8(&body, 0);
        break;
    case IPM_UNSUBSCRIBE:
        put_str(&body, ipm_str("a"));
        break;
    case IPM_SUBACK:
    case IPM_UNSUBACK:
        put_u8(&body, 0);
        break;
    default:
        break;
    }
    buf_t pkt = {.n = 0};
    put_u8(&pkt, first);
    put_varint(&pkt, (uint32_t)body.n);
    put(&pkt, body.b, body.n);
    assert_true(pkt.n <= cap);
    memcpy(out, pkt.b, pkt.n);
    return pkt.n;
}

static int decode_with(uint8_t where, const buf_t *props) {
    uint8_t bytes[600];
    size_t n = build(where, props, bytes, sizeof bytes);
    return ipmt_decode_copy(bytes, n, V5);
}

/* The same packet as a struct, for the encoder. */
static int64_t encode_with(uint8_t where, const ipm_prop_t *list, uint16_t count) {
    static const ipm_sub_t sub = {{(const uint8_t *)"a", 1}, 0};
    static const uint8_t zero = 0;
    ipm_props_t props = {list, count, {NULL, 0}};
    ipm_packet_t p;
    memset(&p, 0, sizeof p);
    p.type = where == IPMT_WILL ? IPM_CONNECT : where;
    switch (where) {
    case IPMT_WILL:
        p.u.connect.version = V5;
        p.u.connect.client_id = ipm_str("a");
        p.u.connect.will = true;
        p.u.connect.will_topic = ipm_str("w");
        p.u.connect.will_props = props;
        break;
    case IPM_CONNECT:
        p.u.connect.version = V5;
        p.u.connect.client_id = ipm_str("a");
        p.u.connect.props = props;
        break;
    case IPM_CONNACK:
        p.u.connack.props = props;
        break;
    case IPM_PUBLISH:
        p.u.publish.topic = ipm_str("t");
        p.u.publish.props = props;
        break;
    case IPM_PUBACK:
    case IPM_PUBREC:
    case IPM_PUBREL:
    case IPM_PUBCOMP:
        p.u.ack.packet_id = 1;
        p.u.ack.props = props;
        break;
    case IPM_SUBSCRIBE:
    case IPM_UNSUBSCRIBE:
        p.u.subscribe.packet_id = 1;
        p.u.subscribe.subs = &sub;
        p.u.subscribe.count = 1;
        p.u.subscribe.props = props;
        break;
    case IPM_SUBACK:
    case IPM_UNSUBACK:
        p.u.suback.packet_id = 1;
        p.u.suback.reasons = &zero;
        p.u.suback.count = 1;
        p.u.suback.props = props;
        break;
    case IPM_DISCONNECT:
    case IPM_AUTH:
        p.u.disconnect.reason = where == IPM_AUTH ? IPM_RC_CONTINUE_AUTHENTICATION : 0;
        p.u.disconnect.props = props;
        break;
    default:
        fail();
    }
    return ipm_packet_size(&p, V5);
}

/* Every place a property block can be: the 13 packet types that have one, and the will. */
static const uint8_t places[] = {
    IPMT_WILL, IPM_CONNECT, IPM_CONNACK, IPM_PUBLISH, IPM_PUBACK, IPM_PUBREC, IPM_PUBREL,
    IPM_PUBCOMP, IPM_SUBSCRIBE, IPM_SUBACK, IPM_UNSUBSCRIBE, IPM_UNSUBACK, IPM_DISCONNECT,
    IPM_AUTH,
};

/* Authentication data needs a method where both may appear (5.0 3.1.2.11.10). */
static void prefix_for(uint8_t id, buf_t *b, ipm_prop_t *list, uint16_t *n) {
    if (id == IPM_PROP_AUTHENTICATION_DATA) {
        ipm_prop_t m = sample(IPM_PROP_AUTHENTICATION_METHOD);
        put_prop(b, &m);
        list[(*n)++] = m;
    }
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_prop_types(void **state) {
    for (unsigned id = 0; id < 256; id++) {
        const ipmt_prop_spec_t *s = ipmt_prop_spec((uint8_t)id);
        print_message("property 0x%02x\n", id);
        assert_int_equal(ipm_prop_type((uint8_t)id), s ? s->type : 0);
    }
}

/* Section 2.2.2.2: a property in a packet that does not list it is refused. */
static void test_allowed_matrix(void **state) {
    for (size_t i = 0; i < ipmt_props_count; i++) {
        const ipmt_prop_spec_t *s = &ipmt_props[i];
        for (size_t k = 0; k < sizeof places; k++) {
            uint8_t where = places[k];
            bool allowed = s->packets & (1u << where);
            buf_t b = {.n = 0};
            ipm_prop_t list[2];
            uint16_t n = 0;
            /* The method is allowed wherever the data is, so it adds no error of its own. */
            if (allowed) {
                prefix_for(s->id, &b, list, &n);
            }
            ipm_prop_t p = sample(s->id);
            put_prop(&b, &p);
            list[n++] = p;
            print_message("%s in packet %u: %s\n", s->name, where, allowed ? "allowed" : "refused");
            int want = allowed ? IPM_OK : IPM_EBAD_PROPERTY;
            ipmt_assert_err(decode_with(where, &b), want);
            int64_t size = encode_with(where, list, n);
            if (allowed) {
                assert_true(size > 0);
            } else {
                ipmt_assert_err((int)size, IPM_EBAD_PROPERTY);
            }
        }
    }
}

/* "It is a Protocol Error to include X more than once", except user properties and
 * subscription identifiers in PUBLISH (3.3.2.3.8). */
static void test_repeats(void **state) {
    for (size_t i = 0; i < ipmt_props_count; i++) {
        const ipmt_prop_spec_t *s = &ipmt_props[i];
        for (size_t k = 0; k < sizeof places; k++) {
            uint8_t where = places[k];
            if (!(s->packets & (1u << where))) {
                continue;
            }
            bool repeat = s->repeat || (s->id == IPM_PROP_SUBSCRIPTION_IDENTIFIER && where == IPM_PUBLISH);
            buf_t b = {.n = 0};
            ipm_prop_t list[3];
            uint16_t n = 0;
            prefix_for(s->id, &b, list, &n);
            ipm_prop_t p = sample(s->id);
            put_prop(&b, &p);
            put_prop(&b, &p);
            list[n++] = p;
            list[n++] = p;
            print_message("%s twice in packet %u\n", s->name, where);
            ipmt_assert_err(decode_with(where, &b), repeat ? IPM_OK : IPM_EDUP_PROPERTY);
            int64_t size = encode_with(where, list, n);
            if (repeat) {
                assert_true(size > 0);
            } else {
                ipmt_assert_err((int)size, IPM_EDUP_PROPERTY);
            }
        }
    }
}

static uint8_t first_place(const ipmt_prop_spec_t *s) {
    for (size_t k = 0; k < sizeof places; k++) {
        if (s->packets & (1u << places[k])) {
            return places[k];
        }
    }
    fail();
    return 0;
}

static void check_value(uint8_t id, uint32_t num, int err) {
    const ipmt_prop_spec_t *s = ipmt_prop_spec(id);
    uint8_t where = first_place(s);
    buf_t b = {.n = 0};
    ipm_prop_t p = sample(id);
    p.num = num;
    put_prop(&b, &p);
    print_message("%s = %u\n", s->name, num);
    ipmt_assert_err(decode_with(where, &b), err);
    int64_t size = encode_with(where, &p, 1);
    if (err == IPM_OK) {
        assert_true(size > 0);
    } else {
        ipmt_assert_err((int)size, err);
    }
}

/* The value rules of sections 3.1.2.11, 3.2.2.3 and 3.3.2.3. */
static void test_values(void **state) {
    for (size_t i = 0; i < ipmt_props_count; i++) {
        /* Every one-byte property is a 0/1 flag (maximum QoS too: 2 is not sent). */
        if (ipmt_props[i].type == IPM_PT_BYTE) {
            check_value(ipmt_props[i].id, 0, IPM_OK);
            check_value(ipmt_props[i].id, 1, IPM_OK);
            check_value(ipmt_props[i].id, 2, IPM_EBAD_PROPERTY);
            check_value(ipmt_props[i].id, 255, IPM_EBAD_PROPERTY);
        }
    }
    check_value(IPM_PROP_RECEIVE_MAXIMUM, 0, IPM_EBAD_PROPERTY);
    check_value(IPM_PROP_RECEIVE_MAXIMUM, 65535, IPM_OK);
    check_value(IPM_PROP_TOPIC_ALIAS, 0, IPM_EBAD_ALIAS);
    check_value(IPM_PROP_TOPIC_ALIAS, 65535, IPM_OK);
    check_value(IPM_PROP_TOPIC_ALIAS_MAXIMUM, 0, IPM_OK);
    check_value(IPM_PROP_SERVER_KEEP_ALIVE, 0, IPM_OK);
    check_value(IPM_PROP_MAXIMUM_PACKET_SIZE, 0, IPM_EBAD_PROPERTY);
    check_value(IPM_PROP_MAXIMUM_PACKET_SIZE, 0xFFFFFFFFu, IPM_OK);
    check_value(IPM_PROP_SESSION_EXPIRY_INTERVAL, 0, IPM_OK);
    check_value(IPM_PROP_SESSION_EXPIRY_INTERVAL, IPM_SESSION_EXPIRY_NEVER, IPM_OK);
    check_value(IPM_PROP_MESSAGE_EXPIRY_INTERVAL, 0, IPM_OK);
    check_value(IPM_PROP_WILL_DELAY_INTERVAL, 0, IPM_OK);
    check_value(IPM_PROP_SUBSCRIPTION_IDENTIFIER, 0, IPM_EBAD_PROPERTY);
    check_value(IPM_PROP_SUBSCRIPTION_IDENTIFIER, IPM_SUBSCRIPTION_ID_MAX, IPM_OK);
}

/* Values the wire cannot carry are refused by the encoder, never truncated. */
static void test_encode_out_of_range(void **state) {
    ipm_prop_t p = sample(IPM_PROP_RECEIVE_MAXIMUM);
    p.num = 65536;
    assert_true(encode_with(IPM_CONNECT, &p, 1) < 0);
    p = sample(IPM_PROP_SUBSCRIPTION_IDENTIFIER);
    p.num = IPM_SUBSCRIPTION_ID_MAX + 1;
    assert_true(encode_with(IPM_SUBSCRIBE, &p, 1) < 0);
    p = sample(IPM_PROP_CONTENT_TYPE);
    p.bin = ipm_str("\xC0\x80");
    ipmt_assert_err_in((int)encode_with(IPM_PUBLISH, &p, 1), IPM_EBAD_UTF8, IPM_EBAD_PROPERTY);
    p = sample(IPM_PROP_USER_PROPERTY);
    p.val = ipm_str("\xED\xA0\x80");
    ipmt_assert_err_in((int)encode_with(IPM_PUBLISH, &p, 1), IPM_EBAD_UTF8, IPM_EBAD_PROPERTY);
    p.id = 0x05; /* not a property */
    ipmt_assert_err((int)encode_with(IPM_PUBLISH, &p, 1), IPM_EUNKNOWN_PROPERTY);
}

/* A value cut short by the end of its block, for every property. */
static void test_truncated_values(void **state) {
    for (size_t i = 0; i < ipmt_props_count; i++) {
        const ipmt_prop_spec_t *s = &ipmt_props[i];
        buf_t full = {.n = 0};
        ipm_prop_t p = sample(s->id);
        p.num = 200; /* a two-byte varint for the subscription identifier */
        if (s->type == IPM_PT_BYTE) {
            p.num = 1;
        }
        put_prop(&full, &p);
        for (size_t cut = 1; cut < full.n; cut++) {
            buf_t b = {.n = 0};
            put(&b, full.b, cut);
            print_message("%s cut to %zu of %zu bytes\n", s->name, cut, full.n);
            ipmt_assert_err(decode_with(first_place(s), &b), IPM_ETRUNCATED);
        }
    }
}

/* The iterator and ipm_props_get over a decoded block; the same getter over a list. */
static void test_iterate_and_get(void **state) {
    static const uint8_t pkt[] = {
        0x30, 0x1C, 0x00, 0x01, 't',
        0x16,                                   /* property length 22 */
        0x26, 0x00, 0x01, 'k', 0x00, 0x01, '1', /* user property k=1 */
        0x02, 0x00, 0x00, 0x01, 0x00,           /* message expiry 256 */
        0x26, 0x00, 0x01, 'k', 0x00, 0x01, '2', /* user property k=2 */
        0x0B, 0x81, 0x01,                       /* subscription identifier 129 */
        'p', 'l'};
    uint8_t *b = ipmt_dup(pkt, sizeof pkt);
    ipm_frame_t f;
    ipm_packet_t p;
    ipmt_assert_err(ipm_frame(b, sizeof pkt, 0, &f), IPM_OK);
    ipmt_assert_err(ipm_decode(&f, b, V5, &p), IPM_OK);
    const ipm_props_t *props = &p.u.publish.props;
    assert_int_equal(props->count, 4);
    assert_int_equal(props->raw.len, 22);
    assert_ptr_equal(props->raw.data, b + 6);
    assert_int_equal(p.u.publish.payload.len, 2);
    assert_memory_equal(p.u.publish.payload.data, "pl", 2);

    ipm_prop_iter_t it;
    ipm_prop_t q;
    ipm_props_iter(props, &it);
    assert_int_equal(ipm_props_next(&it, &q), 1);
    assert_int_equal(q.id, IPM_PROP_USER_PROPERTY);
    assert_int_equal(q.bin.len, 1);
    assert_memory_equal(q.bin.data, "k", 1);
    assert_memory_equal(q.val.data, "1", 1);
    assert_int_equal(ipm_props_next(&it, &q), 1);
    assert_int_equal(q.id, IPM_PROP_MESSAGE_EXPIRY_INTERVAL);
    assert_int_equal(q.num, 256);
    assert_int_equal(ipm_props_next(&it, &q), 1);
    assert_memory_equal(q.val.data, "2", 1);
    assert_int_equal(ipm_props_next(&it, &q), 1);
    assert_int_equal(q.id, IPM_PROP_SUBSCRIPTION_IDENTIFIER);
    assert_int_equal(q.num, 129);
    assert_int_equal(ipm_props_next(&it, &q), 0);
    assert_int_equal(ipm_props_next(&it, &q), 0);

    /* The first of a repeated property; a missing one. */
    assert_int_equal(ipm_props_get(props, IPM_PROP_USER_PROPERTY, &q), 1);
    assert_memory_equal(q.val.data, "1", 1);
    assert_int_equal(ipm_props_get(props, IPM_PROP_SUBSCRIPTION_IDENTIFIER, &q), 1);
    assert_int_equal(q.num, 129);
    assert_int_equal(ipm_props_get(props, IPM_PROP_TOPIC_ALIAS, &q), 0);
    free(b);

    static const ipm_prop_t list[] = {
        IPMT_PNUM(IPM_PROP_TOPIC_ALIAS, 9),
        IPMT_PSTR(IPM_PROP_CONTENT_TYPE, "c"),
    };
    ipm_props_t lp = IPMT_PROPS(list);
    assert_int_equal(ipm_props_get(&lp, IPM_PROP_CONTENT_TYPE, &q), 1);
    assert_int_equal(q.bin.len, 1);
    assert_int_equal(ipm_props_get(&lp, IPM_PROP_TOPIC_ALIAS, &q), 1);
    assert_int_equal(q.num, 9);
    assert_int_equal(ipm_props_get(&lp, IPM_PROP_USER_PROPERTY, &q), 0);

    /* An empty block iterates to nothing. */
    ipm_props_t empty = {NULL, 0, {NULL, 0}};
    ipm_props_iter(&empty, &it);
    assert_int_equal(ipm_props_next(&it, &q), 0);
    assert_int_equal(ipm_props_get(&empty, IPM_PROP_USER_PROPERTY, &q), 0);
}

static void test_props_size(void **state) {
    static const ipm_prop_t list[] = {
        IPMT_PNUM(IPM_PROP_PAYLOAD_FORMAT_INDICATOR, 1),      /* 2 */
        IPMT_PNUM(IPM_PROP_MESSAGE_EXPIRY_INTERVAL, 1),       /* 5 */
        IPMT_PNUM(IPM_PROP_TOPIC_ALIAS, 1),                   /* 3 */
        IPMT_PNUM(IPM_PROP_SUBSCRIPTION_IDENTIFIER, 16384),   /* 4 */
        IPMT_PSTR(IPM_PROP_CONTENT_TYPE, "abc"),              /* 6 */
        IPMT_PPAIR("ab", "cde"),                              /* 10 */
    };
    ipm_props_t p = IPMT_PROPS(list);
    assert_int_equal(ipm_props_size(&p, IPM_PUBLISH), 30);
    ipmt_assert_err((int)ipm_props_size(&p, IPM_PUBACK), IPM_EBAD_PROPERTY);
    ipm_props_t empty = {NULL, 0, {NULL, 0}};
    assert_int_equal(ipm_props_size(&empty, IPM_PUBLISH), 0);
    static const uint8_t raw[] = {0x1F, 0x00, 0x01, 'x'};
    ipm_props_t r = {NULL, 1, {raw, sizeof raw}};
    assert_int_equal(ipm_props_size(&r, IPM_PUBACK), 4);
}

/* Properties are a 5.0 thing: 3.x encoding leaves them out (codec.h). */
static void test_ignored_before_v5(void **state) {
    static const ipm_prop_t list[] = {IPMT_PNUM(IPM_PROP_TOPIC_ALIAS, 1)};
    ipm_packet_t p = {.type = IPM_PUBLISH};
    p.u.publish.topic = ipm_str("t");
    p.u.publish.payload = ipm_str("x");
    p.u.publish.props = IPMT_PROPS(list);
    uint8_t buf[16];
    assert_int_equal(ipm_encode(&p, IPM_PROTO_V311, buf, sizeof buf), 6);
    static const uint8_t want[] = {0x30, 0x04, 0x00, 0x01, 't', 'x'};
    assert_memory_equal(buf, want, sizeof want);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prop_types),
        cmocka_unit_test(test_allowed_matrix),
        cmocka_unit_test(test_repeats),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_encode_out_of_range),
        cmocka_unit_test(test_truncated_values),
        cmocka_unit_test(test_iterate_and_get),
        cmocka_unit_test(test_props_size),
        cmocka_unit_test(test_ignored_before_v5),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
