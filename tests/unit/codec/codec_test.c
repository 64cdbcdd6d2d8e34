/*
 * codec_test.c - helpers shared by the codec unit tests: the 5.0 property table written
 * from the specification, exact-size buffers for ASan, field-by-field packet comparison
 * and a generator of random valid packets.
 */
#include "codec_test.h"

#include <stdio.h>

#define P(t) (1u << (t))
#define ALL_WITH_PROPS                                                                      \
    (P(IPM_CONNECT) | P(IPM_CONNACK) | P(IPM_PUBLISH) | P(IPMT_WILL) | P(IPM_PUBACK) |      \
     P(IPM_PUBREC) | P(IPM_PUBREL) | P(IPM_PUBCOMP) | P(IPM_SUBSCRIBE) | P(IPM_SUBACK) |    \
     P(IPM_UNSUBSCRIBE) | P(IPM_UNSUBACK) | P(IPM_DISCONNECT) | P(IPM_AUTH))

/* MQTT 5.0 section 2.2.2.2, table 2-4: identifier, type, and the packets that carry it. */
const ipmt_prop_spec_t ipmt_props[] = {
    {0x01, IPM_PT_BYTE, P(IPM_PUBLISH) | P(IPMT_WILL), false, "payload format indicator"},
    {0x02, IPM_PT_U32, P(IPM_PUBLISH) | P(IPMT_WILL), false, "message expiry interval"},
    {0x03, IPM_PT_UTF8, P(IPM_PUBLISH) | P(IPMT_WILL), false, "content type"},
    {0x08, IPM_PT_UTF8, P(IPM_PUBLISH) | P(IPMT_WILL), false, "response topic"},
    {0x09, IPM_PT_BINARY, P(IPM_PUBLISH) | P(IPMT_WILL), false, "correlation data"},
    {0x0B, IPM_PT_VARINT, P(IPM_PUBLISH) | P(IPM_SUBSCRIBE), false, "subscription identifier"},
    {0x11, IPM_PT_U32, P(IPM_CONNECT) | P(IPM_CONNACK) | P(IPM_DISCONNECT), false,
     "session expiry interval"},
    {0x12, IPM_PT_UTF8, P(IPM_CONNACK), false, "assigned client identifier"},
    {0x13, IPM_PT_U16, P(IPM_CONNACK), false, "server keep alive"},
    {0x15, IPM_PT_UTF8, P(IPM_CONNECT) | P(IPM_CONNACK) | P(IPM_AUTH), false,
     "authentication method"},
    {0x16, IPM_PT_BINARY, P(IPM_CONNECT) | P(IPM_CONNACK) | P(IPM_AUTH), false,
     "authentication data"},
    {0x17, IPM_PT_BYTE, P(IPM_CONNECT), false, "request problem information"},
    {0x18, IPM_PT_U32, P(IPMT_WILL), false, "will delay interval"},
    {0x19, IPM_PT_BYTE, P(IPM_CONNECT), false, "request response information"},
    {0x1A, IPM_PT_UTF8, P(IPM_CONNACK), false, "response information"},
    {0x1C, IPM_PT_UTF8, P(IPM_CONNACK) | P(IPM_DISCONNECT), false, "server reference"},
    {0x1F, IPM_PT_UTF8,
     P(IPM_CONNACK) | P(IPM_PUBACK) | P(IPM_PUBREC) | P(IPM_PUBREL) | P(IPM_PUBCOMP) |
         P(IPM_SUBACK) | P(IPM_UNSUBACK) | P(IPM_DISCONNECT) | P(IPM_AUTH),
     false, "reason string"},
    {0x21, IPM_PT_U16, P(IPM_CONNECT) | P(IPM_CONNACK), false, "receive maximum"},
    {0x22, IPM_PT_U16, P(IPM_CONNECT) | P(IPM_CONNACK), false, "topic alias maximum"},
    {0x23, IPM_PT_U16, P(IPM_PUBLISH), false, "topic alias"},
    {0x24, IPM_PT_BYTE, P(IPM_CONNACK), false, "maximum qos"},
    {0x25, IPM_PT_BYTE, P(IPM_CONNACK), false, "retain available"},
    {0x26, IPM_PT_PAIR, ALL_WITH_PROPS, true, "user property"},
    {0x27, IPM_PT_U32, P(IPM_CONNECT) | P(IPM_CONNACK), false, "maximum packet size"},
    {0x28, IPM_PT_BYTE, P(IPM_CONNACK), false, "wildcard subscription available"},
    {0x29, IPM_PT_BYTE, P(IPM_CONNACK), false, "subscription identifier available"},
    {0x2A, IPM_PT_BYTE, P(IPM_CONNACK), false, "shared subscription available"},
};
const size_t ipmt_props_count = IPMT_ARRAY_LEN(ipmt_props);

const ipmt_prop_spec_t *ipmt_prop_spec(uint8_t id) {
    for (size_t i = 0; i < ipmt_props_count; i++) {
        if (ipmt_props[i].id == id) {
            return &ipmt_props[i];
        }
    }
    return NULL;
}

void ipmt_corpus_save(const char *kind, uint8_t version, const uint8_t *bytes, size_t len) {
    const char *dir = getenv("IPMT_CORPUS_DIR");
    if (!dir) {
        return;
    }
    /* The fuzz targets pick 3.1, 3.1.1, 5.0 from the first byte modulo 3. */
    uint8_t sel = (uint8_t)(version - IPM_PROTO_V31);
    uint32_t h = 2166136261u; /* FNV-1a: equal vectors get one file */
    h = (h ^ sel) * 16777619u;
    for (size_t i = 0; i < len; i++) {
        h = (h ^ bytes[i]) * 16777619u;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s-v%u-%08x", dir, kind, version, (unsigned)h);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(&sel, 1, 1, f), 1);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

uint8_t *ipmt_dup(const void *p, size_t len) {
    /* malloc(0) may return NULL; one byte keeps the pointer valid without making reads
     * past len legal for the tests that use it (they never pass 0 to a reader). */
    uint8_t *b = malloc(len ? len : 1);
    assert_non_null(b);
    if (len) {
        memcpy(b, p, len);
    }
    return b;
}

ipm_bytes_t ipmt_bytes(const void *p, size_t len) {
    ipm_bytes_t b = {(const uint8_t *)p, (uint32_t)len};
    return b;
}

void ipmt__assert_err(int actual, int expected, const char *file, int line) {
    if (actual != expected) {
        print_error("%s:%d: got %s (%d), expected %s (%d)\n", file, line, ipm_err_name(actual),
                    actual, ipm_err_name(expected), expected);
        fail();
    }
}

void ipmt__assert_err_in(int actual, const int *set, size_t n, const char *file, int line) {
    for (size_t i = 0; i < n; i++) {
        if (actual == set[i]) {
            return;
        }
    }
    print_error("%s:%d: got %s (%d), expected one of:", file, line, ipm_err_name(actual), actual);
    for (size_t i = 0; i < n; i++) {
        print_error(" %s", ipm_err_name(set[i]));
    }
    print_error("\n");
    fail();
}

int ipmt_decode_copy(const uint8_t *bytes, size_t len, uint8_t version) {
    uint8_t *b = ipmt_dup(bytes, len);
    ipm_frame_t f;
    int rc = ipm_frame(b, len, 0, &f);
    if (rc == IPM_OK) {
        /* The packet must be the whole vector: otherwise the test itself is wrong. */
        assert_int_equal(f.total_len, len);
        ipm_packet_t pkt;
        memset(&pkt, 0, sizeof pkt);
        rc = ipm_decode(&f, b, version, &pkt);
    }
    free(b);
    return rc;
}

size_t ipmt_props_collect(const ipm_props_t *p, ipm_prop_t *out, size_t max) {
    size_t n = 0;
    if (p->list) {
        for (size_t i = 0; i < p->count; i++) {
            assert_true(n < max);
            out[n++] = p->list[i];
        }
        return n;
    }
    ipm_prop_iter_t it;
    ipm_props_iter(p, &it);
    ipm_prop_t prop;
    while (ipm_props_next(&it, &prop)) {
        assert_true(n < max);
        out[n++] = prop;
    }
    return n;
}

static void assert_bytes_equal(ipm_bytes_t a, ipm_bytes_t b, const char *what) {
    if (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0)) {
        print_error("%s differs: '%.*s' (%u bytes) vs '%.*s' (%u bytes)\n", what, (int)a.len,
                    a.len ? (const char *)a.data : "", a.len, (int)b.len,
                    b.len ? (const char *)b.data : "", b.len);
        fail();
    }
}

static void assert_props_equal(const ipm_props_t *a, const ipm_props_t *b) {
    ipm_prop_t pa[64], pb[64];
    size_t na = ipmt_props_collect(a, pa, 64);
    size_t nb = ipmt_props_collect(b, pb, 64);
    assert_int_equal(na, nb);
    /* A decoded block reports how many properties it holds. */
    if (!a->list) {
        assert_int_equal(a->count, na);
    }
    if (!b->list) {
        assert_int_equal(b->count, nb);
    }
    for (size_t i = 0; i < na; i++) {
        assert_int_equal(pa[i].id, pb[i].id);
        const ipmt_prop_spec_t *s = ipmt_prop_spec(pa[i].id);
        assert_non_null(s);
        switch (s->type) {
        case IPM_PT_BYTE:
        case IPM_PT_U16:
        case IPM_PT_U32:
        case IPM_PT_VARINT:
            assert_int_equal(pa[i].num, pb[i].num);
            break;
        case IPM_PT_PAIR:
            assert_bytes_equal(pa[i].bin, pb[i].bin, "user property key");
            assert_bytes_equal(pa[i].val, pb[i].val, "user property value");
            break;
        case IPM_PT_UTF8:
        case IPM_PT_BINARY:
            assert_bytes_equal(pa[i].bin, pb[i].bin, s->name);
            break;
        }
    }
}

static size_t subs_collect(const ipm_subscribe_t *s, bool unsub, ipm_sub_t *out, size_t max) {
    size_t n = 0;
    if (s->subs) {
        for (size_t i = 0; i < s->count; i++) {
            assert_true(n < max);
            out[n++] = s->subs[i];
        }
        return n;
    }
    ipm_sub_iter_t it;
    ipm_subs_iter(s, unsub, &it);
    ipm_sub_t sub;
    while (ipm_subs_next(&it, &sub)) {
        assert_true(n < max);
        out[n++] = sub;
    }
    assert_int_equal(s->count, n);
    return n;
}

static void assert_connect_equal(const ipm_connect_t *a, const ipm_connect_t *b, bool v5) {
    assert_int_equal(a->version, b->version);
    assert_int_equal(a->clean_start, b->clean_start);
    assert_int_equal(a->keepalive, b->keepalive);
    assert_bytes_equal(a->client_id, b->client_id, "client id");
    assert_int_equal(a->will, b->will);
    if (a->will) {
        assert_int_equal(a->will_qos, b->will_qos);
        assert_int_equal(a->will_retain, b->will_retain);
        assert_bytes_equal(a->will_topic, b->will_topic, "will topic");
        assert_bytes_equal(a->will_payload, b->will_payload, "will payload");
        if (v5) {
            assert_props_equal(&a->will_props, &b->will_props);
        }
    }
    assert_int_equal(a->has_username, b->has_username);
    assert_int_equal(a->has_password, b->has_password);
    if (a->has_username) {
        assert_bytes_equal(a->username, b->username, "username");
    }
    if (a->has_password) {
        assert_bytes_equal(a->password, b->password, "password");
    }
    if (v5) {
        assert_props_equal(&a->props, &b->props);
    }
}

void ipmt_assert_packet_equal(const ipm_packet_t *a, const ipm_packet_t *b, uint8_t version) {
    assert_int_equal(a->type, b->type);
    bool v5 = version == IPM_PROTO_V5;
    switch (a->type) {
    case IPM_CONNECT:
        assert_connect_equal(&a->u.connect, &b->u.connect, a->u.connect.version == IPM_PROTO_V5);
        break;
    case IPM_CONNACK:
        assert_int_equal(a->u.connack.session_present, b->u.connack.session_present);
        assert_int_equal(a->u.connack.reason, b->u.connack.reason);
        if (v5) {
            assert_props_equal(&a->u.connack.props, &b->u.connack.props);
        }
        break;
    case IPM_PUBLISH:
        assert_bytes_equal(a->u.publish.topic, b->u.publish.topic, "topic");
        assert_bytes_equal(a->u.publish.payload, b->u.publish.payload, "payload");
        assert_int_equal(a->u.publish.qos, b->u.publish.qos);
        assert_int_equal(a->u.publish.retain, b->u.publish.retain);
        assert_int_equal(a->u.publish.dup, b->u.publish.dup);
        if (a->u.publish.qos > 0) {
            assert_int_equal(a->u.publish.packet_id, b->u.publish.packet_id);
        }
        if (v5) {
            assert_props_equal(&a->u.publish.props, &b->u.publish.props);
        }
        break;
    case IPM_PUBACK:
    case IPM_PUBREC:
    case IPM_PUBREL:
    case IPM_PUBCOMP:
        assert_int_equal(a->u.ack.packet_id, b->u.ack.packet_id);
        if (v5) {
            assert_int_equal(a->u.ack.reason, b->u.ack.reason);
            assert_props_equal(&a->u.ack.props, &b->u.ack.props);
        }
        break;
    case IPM_SUBSCRIBE:
    case IPM_UNSUBSCRIBE: {
        bool unsub = a->type == IPM_UNSUBSCRIBE;
        assert_int_equal(a->u.subscribe.packet_id, b->u.subscribe.packet_id);
        if (v5) {
            assert_props_equal(&a->u.subscribe.props, &b->u.subscribe.props);
        }
        ipm_sub_t sa[64], sb[64];
        size_t na = subs_collect(&a->u.subscribe, unsub, sa, 64);
        size_t nb = subs_collect(&b->u.subscribe, unsub, sb, 64);
        assert_int_equal(na, nb);
        for (size_t i = 0; i < na; i++) {
            assert_bytes_equal(sa[i].filter, sb[i].filter, "filter");
            if (!unsub) {
                assert_int_equal(sa[i].options, sb[i].options);
            }
        }
        break;
    }
    case IPM_SUBACK:
    case IPM_UNSUBACK:
        assert_int_equal(a->u.suback.packet_id, b->u.suback.packet_id);
        if (v5) {
            assert_props_equal(&a->u.suback.props, &b->u.suback.props);
        }
        assert_int_equal(a->u.suback.count, b->u.suback.count);
        if (a->u.suback.count) {
            assert_memory_equal(a->u.suback.reasons, b->u.suback.reasons, a->u.suback.count);
        }
        break;
    case IPM_DISCONNECT:
    case IPM_AUTH:
        if (v5) {
            assert_int_equal(a->u.disconnect.reason, b->u.disconnect.reason);
            assert_props_equal(&a->u.disconnect.props, &b->u.disconnect.props);
        }
        break;
    default:
        break;
    }
}

/* Make a decoded SUBSCRIBE encodable: the encoder reads `subs`, the decoder sets `raw`. */
static void subs_to_array(ipm_packet_t *pkt, ipm_sub_t *arr, size_t max) {
    if (pkt->type != IPM_SUBSCRIBE && pkt->type != IPM_UNSUBSCRIBE) {
        return;
    }
    if (pkt->u.subscribe.subs) {
        return;
    }
    size_t n = subs_collect(&pkt->u.subscribe, pkt->type == IPM_UNSUBSCRIBE, arr, max);
    pkt->u.subscribe.subs = arr;
    pkt->u.subscribe.count = (uint16_t)n;
}

static void check_decode(const ipm_packet_t *pkt, uint8_t version, const uint8_t *bytes,
                         size_t len, bool reencode) {
    uint8_t *copy = ipmt_dup(bytes, len);
    ipm_frame_t f;
    ipmt_assert_err(ipm_frame(copy, len, 0, &f), IPM_OK);
    assert_int_equal(f.total_len, len);
    assert_int_equal(f.first_byte, bytes[0]);
    assert_int_equal(f.header_len + f.remaining_len, f.total_len);
    /* A packet whose size equals the limit is allowed; one byte less is too large. */
    ipmt_assert_err(ipm_frame(copy, len, (uint32_t)len, &f), IPM_OK);
    ipmt_assert_err(ipm_frame(copy, len, (uint32_t)len - 1, &f), IPM_ETOO_LARGE);
    ipmt_assert_err(ipm_frame(copy, len, 0, &f), IPM_OK);

    ipm_packet_t out;
    memset(&out, 0, sizeof out);
    ipmt_assert_err(ipm_decode(&f, copy, version, &out), IPM_OK);
    ipmt_assert_packet_equal(pkt, &out, version);

    if (reencode) {
        /* What was decoded encodes back to the same bytes (properties from `raw`). */
        ipm_sub_t subs[64];
        subs_to_array(&out, subs, 64);
        uint8_t *again = malloc(len);
        assert_non_null(again);
        assert_int_equal(ipm_packet_size(&out, version), (int64_t)len);
        assert_int_equal(ipm_encode(&out, version, again, len), (int64_t)len);
        assert_memory_equal(again, bytes, len);
        free(again);
    }
    free(copy);
}

void ipmt_check_vector(const ipm_packet_t *pkt, uint8_t version, const uint8_t *bytes,
                       size_t len, const char *file, int line) {
    assert_int_equal(ipm_packet_size(pkt, version), (int64_t)len);

    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    int64_t n = ipm_encode(pkt, version, buf, len);
    assert_int_equal(n, (int64_t)len);
    if (memcmp(buf, bytes, len) != 0) {
        for (size_t i = 0; i < len; i++) {
            if (buf[i] != bytes[i]) {
                print_error("%s:%d: byte %zu is 0x%02x, expected 0x%02x\n", file, line, i,
                            buf[i], bytes[i]);
                break;
            }
        }
        fail();
    }
    free(buf);

    /* A larger buffer: the same size, and nothing written after the packet. */
    uint8_t *big = malloc(len + 8);
    assert_non_null(big);
    memset(big, 0xA5, len + 8);
    assert_int_equal(ipm_encode(pkt, version, big, len + 8), (int64_t)len);
    assert_memory_equal(big, bytes, len);
    for (size_t i = len; i < len + 8; i++) {
        assert_int_equal(big[i], 0xA5);
    }
    free(big);

    /* One byte short: nothing is written past cap (ASan watches the exact allocation). */
    uint8_t *small = malloc(len - 1);
    assert_non_null(small);
    ipmt_assert_err(ipm_encode(pkt, version, small, len - 1), IPM_ENOSPACE);
    free(small);

    check_decode(pkt, version, bytes, len, true);
}

void ipmt_check_decode_only(const ipm_packet_t *pkt, uint8_t version, const uint8_t *bytes,
                            size_t len, const char *file, int line) {
    check_decode(pkt, version, bytes, len, false);
}

uint8_t *ipmt_encode_alloc(const ipm_packet_t *pkt, uint8_t version, size_t *len) {
    int64_t size = ipm_packet_size(pkt, version);
    if (size < 0) {
        print_error("ipm_packet_size: %s\n", ipm_err_name((int)size));
        fail();
    }
    uint8_t *buf = malloc((size_t)size);
    assert_non_null(buf);
    int64_t n = ipm_encode(pkt, version, buf, (size_t)size);
    if (n != size) {
        print_error("ipm_encode: %lld (%s), size %lld\n", (long long)n,
                    n < 0 ? ipm_err_name((int)n) : "short", (long long)size);
        fail();
    }
    *len = (size_t)size;
    return buf;
}

/* ---- random valid packets -------------------------------------------------------- */

uint32_t ipmt_rand(uint32_t *state) {
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

typedef struct {
    uint8_t *base;
    size_t used;
} arena_t;

static void *arena_alloc(arena_t *a, size_t n) {
    /* Keep every allocation aligned for the structs placed in it. */
    size_t at = (a->used + 7u) & ~(size_t)7u;
    assert_true(at + n <= IPMT_ARENA);
    a->used = at + n;
    return a->base + at;
}

static uint32_t rnd(uint32_t *rng, uint32_t n) {
    return ipmt_rand(rng) % n;
}

static const char *const topic_pool[] = {
    "a", "a/b", "/", "a//b", "$SYS/broker/load", "sensor/temp", "h\xc3\xa9llo",
    "\xe2\x82\xac/\xf0\x9f\x98\x80", "/finance", "x/y/z/", "sport/tennis/player1",
};
static const char *const filter_pool[] = {
    "#", "+", "a/+/c", "a/#", "+/+", "/", "sport/tennis", "$SYS/#", "+/", "\xc3\xa9/+",
};
static const char *const string_pool[] = {
    "", "a", "text/plain", "h\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "key", "value 1",
};

static ipm_bytes_t pick(uint32_t *rng, const char *const *pool, size_t n) {
    return ipm_str(pool[rnd(rng, (uint32_t)n)]);
}

static ipm_bytes_t random_binary(uint32_t *rng, arena_t *a, uint32_t max) {
    uint32_t len = rnd(rng, max + 1);
    uint8_t *p = arena_alloc(a, len ? len : 1);
    for (uint32_t i = 0; i < len; i++) {
        p[i] = (uint8_t)ipmt_rand(rng);
    }
    return ipmt_bytes(p, len);
}

static const uint8_t rc_connack[] = {0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86,
                                     0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97,
                                     0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F};
static const uint8_t rc_puback[] = {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99};
static const uint8_t rc_pubrel[] = {0x00, 0x92};
static const uint8_t rc_suback[] = {0x00, 0x01, 0x02, 0x80, 0x83, 0x87,
                                    0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2};
static const uint8_t rc_unsuback[] = {0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91};
static const uint8_t rc_disconnect[] = {0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89,
                                        0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95,
                                        0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D,
                                        0x9E, 0x9F, 0xA0, 0xA1, 0xA2};
static const uint8_t rc_auth[] = {0x00, 0x18, 0x19};

#define PICK_RC(rng, arr) (arr)[rnd((rng), (uint32_t)sizeof(arr))]

/* A valid value for property `s`: the ranges are those section 3 gives each property. */
static void random_prop_value(uint32_t *rng, arena_t *a, const ipmt_prop_spec_t *s,
                              ipm_prop_t *p) {
    memset(p, 0, sizeof *p);
    p->id = s->id;
    switch (s->type) {
    case IPM_PT_BYTE:
        p->num = rnd(rng, 2); /* every byte property is 0 or 1 */
        break;
    case IPM_PT_U16:
        p->num = 1 + rnd(rng, 65535); /* receive maximum and topic alias may not be 0 */
        break;
    case IPM_PT_U32:
        p->num = 1 + rnd(rng, 0xFFFFFFFEu); /* maximum packet size may not be 0 */
        break;
    case IPM_PT_VARINT: {
        static const uint32_t sizes[] = {127, 16383, 2097151, 268435455};
        p->num = 1 + rnd(rng, sizes[rnd(rng, 4)]);
        break;
    }
    case IPM_PT_UTF8:
        /* A response topic is a topic name; the other strings are any UTF-8. */
        p->bin = s->id == IPM_PROP_RESPONSE_TOPIC ? pick(rng, topic_pool, IPMT_ARRAY_LEN(topic_pool))
                                                  : pick(rng, string_pool, IPMT_ARRAY_LEN(string_pool));
        break;
    case IPM_PT_BINARY:
        p->bin = random_binary(rng, a, 12);
        break;
    case IPM_PT_PAIR:
        p->bin = pick(rng, string_pool, IPMT_ARRAY_LEN(string_pool));
        p->val = pick(rng, string_pool, IPMT_ARRAY_LEN(string_pool));
        break;
    }
}

/* Up to 6 properties allowed in `where` (a packet type or IPMT_WILL), no forbidden repeats. */
static ipm_props_t random_props(uint32_t *rng, arena_t *a, unsigned where) {
    ipm_props_t props = {NULL, 0, {NULL, 0}};
    const ipmt_prop_spec_t *allowed[32];
    size_t nallowed = 0;
    for (size_t i = 0; i < ipmt_props_count; i++) {
        if (ipmt_props[i].packets & P(where)) {
            allowed[nallowed++] = &ipmt_props[i];
        }
    }
    uint32_t want = rnd(rng, 7);
    if (want == 0 || nallowed == 0) {
        return props;
    }
    ipm_prop_t *list = arena_alloc(a, sizeof(ipm_prop_t) * 8);
    uint16_t n = 0;
    bool has_method = false;
    for (uint32_t k = 0; k < want; k++) {
        const ipmt_prop_spec_t *s = allowed[rnd(rng, (uint32_t)nallowed)];
        bool repeat = s->repeat || (s->id == IPM_PROP_SUBSCRIPTION_IDENTIFIER && where == IPM_PUBLISH);
        bool seen = false;
        for (uint16_t j = 0; j < n; j++) {
            seen |= list[j].id == s->id;
        }
        if (seen && !repeat) {
            continue;
        }
        /* Authentication data without a method is a protocol error (5.0 3.1.2.11.10). */
        if (s->id == IPM_PROP_AUTHENTICATION_DATA && !has_method) {
            s = ipmt_prop_spec(IPM_PROP_AUTHENTICATION_METHOD);
            bool have = false;
            for (uint16_t j = 0; j < n; j++) {
                have |= list[j].id == s->id;
            }
            if (have) {
                continue;
            }
        }
        has_method |= s->id == IPM_PROP_AUTHENTICATION_METHOD;
        random_prop_value(rng, a, s, &list[n++]);
    }
    props.list = list;
    props.count = n;
    return props;
}

/* An AUTH packet names its authentication method (5.0 3.15.2.2.2): put one first. */
static void ensure_auth_method(ipm_props_t *props, arena_t *a) {
    for (uint16_t i = 0; i < props->count; i++) {
        if (props->list[i].id == IPM_PROP_AUTHENTICATION_METHOD) {
            return;
        }
    }
    ipm_prop_t *list = arena_alloc(a, sizeof(ipm_prop_t) * (props->count + 1u));
    memset(&list[0], 0, sizeof list[0]);
    list[0].id = IPM_PROP_AUTHENTICATION_METHOD;
    list[0].bin = ipm_str("SCRAM-SHA-1");
    for (uint16_t i = 0; i < props->count; i++) {
        list[i + 1] = props->list[i];
    }
    props->list = list;
    props->count++;
}

static void random_connect(uint32_t *rng, uint8_t version, ipm_connect_t *c, arena_t *a) {
    static const char *const ids[] = {"c", "client-1", "0123456789abcdefghijklm", "d\xc3\xa9v"};
    bool v5 = version == IPM_PROTO_V5;
    c->version = version;
    c->clean_start = rnd(rng, 2);
    c->keepalive = (uint16_t)ipmt_rand(rng);
    /* An empty id is only for clean sessions in 3.1.1 (MQTT-3.1.3-8) and not in 3.1. */
    if (version != IPM_PROTO_V31 && c->clean_start && rnd(rng, 4) == 0) {
        c->client_id = ipm_str("");
    } else {
        c->client_id = pick(rng, ids, IPMT_ARRAY_LEN(ids));
    }
    c->will = rnd(rng, 2);
    if (c->will) {
        c->will_qos = (uint8_t)rnd(rng, 3);
        c->will_retain = rnd(rng, 2);
        c->will_topic = pick(rng, topic_pool, IPMT_ARRAY_LEN(topic_pool));
        c->will_payload = random_binary(rng, a, 20);
        if (v5) {
            c->will_props = random_props(rng, a, IPMT_WILL);
        }
    }
    c->has_username = rnd(rng, 2);
    if (c->has_username) {
        c->username = pick(rng, string_pool, IPMT_ARRAY_LEN(string_pool));
    }
    /* A password needs a user name before 5.0 (MQTT-3.1.2-22). */
    c->has_password = (v5 || c->has_username) && rnd(rng, 2);
    if (c->has_password) {
        c->password = random_binary(rng, a, 16);
    }
    if (v5) {
        c->props = random_props(rng, a, IPM_CONNECT);
    }
}

static void random_subscribe(uint32_t *rng, uint8_t type, uint8_t version, ipm_subscribe_t *s,
                             arena_t *a) {
    bool v5 = version == IPM_PROTO_V5;
    s->packet_id = (uint16_t)(1 + rnd(rng, 65535));
    uint16_t n = (uint16_t)(1 + rnd(rng, 4));
    ipm_sub_t *subs = arena_alloc(a, sizeof(ipm_sub_t) * n);
    for (uint16_t i = 0; i < n; i++) {
        subs[i].options = 0;
        bool shared = v5 && rnd(rng, 5) == 0;
        subs[i].filter = shared ? ipm_str("$share/group/a/+") : pick(rng, filter_pool, IPMT_ARRAY_LEN(filter_pool));
        if (type == IPM_SUBSCRIBE) {
            subs[i].options = (uint8_t)rnd(rng, 3);
            if (v5) {
                /* No Local on a shared subscription is a protocol error (MQTT-3.8.3-4). */
                if (!shared && rnd(rng, 2)) {
                    subs[i].options |= IPM_SUBOPT_NO_LOCAL;
                }
                if (rnd(rng, 2)) {
                    subs[i].options |= IPM_SUBOPT_RETAIN_AS_PUBLISHED;
                }
                subs[i].options |= (uint8_t)(rnd(rng, 3) << IPM_SUBOPT_RETAIN_HANDLING_SHIFT);
            }
        }
    }
    s->subs = subs;
    s->count = n;
    if (v5) {
        s->props = random_props(rng, a, type);
    }
}

static void random_suback(uint32_t *rng, uint8_t type, uint8_t version, ipm_suback_t *s,
                          arena_t *a) {
    static const uint8_t v311[] = {0x00, 0x01, 0x02, 0x80};
    bool v5 = version == IPM_PROTO_V5;
    s->packet_id = (uint16_t)(1 + rnd(rng, 65535));
    /* A 3.x UNSUBACK carries no reason codes. */
    if (type == IPM_UNSUBACK && !v5) {
        return;
    }
    uint16_t n = (uint16_t)(1 + rnd(rng, 6));
    uint8_t *r = arena_alloc(a, n);
    for (uint16_t i = 0; i < n; i++) {
        if (v5) {
            r[i] = type == IPM_SUBACK ? PICK_RC(rng, rc_suback) : PICK_RC(rng, rc_unsuback);
        } else if (version == IPM_PROTO_V311) {
            r[i] = PICK_RC(rng, v311);
        } else {
            r[i] = (uint8_t)rnd(rng, 3); /* 3.1 SUBACK holds granted QoS only */
        }
    }
    s->reasons = r;
    s->count = n;
    if (v5) {
        s->props = random_props(rng, a, type);
    }
}

void ipmt_random_packet(uint32_t *rng, uint8_t type, uint8_t version, ipm_packet_t *pkt,
                        uint8_t *arena) {
    arena_t a = {arena, 0};
    bool v5 = version == IPM_PROTO_V5;
    memset(pkt, 0, sizeof *pkt);
    pkt->type = type;
    switch (type) {
    case IPM_CONNECT:
        random_connect(rng, version, &pkt->u.connect, &a);
        break;
    case IPM_CONNACK:
        if (v5) {
            pkt->u.connack.reason = PICK_RC(rng, rc_connack);
            pkt->u.connack.props = random_props(rng, &a, IPM_CONNACK);
        } else {
            pkt->u.connack.reason = (uint8_t)rnd(rng, 6);
        }
        /* Session present is 0 with a refusal (MQTT-3.2.2-4, 5.0 MQTT-3.2.2-6); 3.1 has none. */
        pkt->u.connack.session_present =
            version != IPM_PROTO_V31 && pkt->u.connack.reason == 0 && rnd(rng, 2);
        break;
    case IPM_PUBLISH: {
        ipm_publish_t *p = &pkt->u.publish;
        p->qos = (uint8_t)rnd(rng, 3);
        p->dup = p->qos > 0 && rnd(rng, 2);
        p->retain = rnd(rng, 2);
        p->packet_id = p->qos ? (uint16_t)(1 + rnd(rng, 65535)) : 0;
        p->topic = pick(rng, topic_pool, IPMT_ARRAY_LEN(topic_pool));
        p->payload = random_binary(rng, &a, rnd(rng, 8) == 0 ? 300 : 24);
        if (v5) {
            p->props = random_props(rng, &a, IPM_PUBLISH);
        }
        break;
    }
    case IPM_PUBACK:
    case IPM_PUBREC:
    case IPM_PUBREL:
    case IPM_PUBCOMP:
        pkt->u.ack.packet_id = (uint16_t)(1 + rnd(rng, 65535));
        if (v5) {
            pkt->u.ack.reason = type <= IPM_PUBREC ? PICK_RC(rng, rc_puback) : PICK_RC(rng, rc_pubrel);
            pkt->u.ack.props = random_props(rng, &a, type);
        }
        break;
    case IPM_SUBSCRIBE:
    case IPM_UNSUBSCRIBE:
        random_subscribe(rng, type, version, &pkt->u.subscribe, &a);
        break;
    case IPM_SUBACK:
    case IPM_UNSUBACK:
        random_suback(rng, type, version, &pkt->u.suback, &a);
        break;
    case IPM_DISCONNECT:
    case IPM_AUTH:
        if (v5) {
            pkt->u.disconnect.reason =
                type == IPM_AUTH ? PICK_RC(rng, rc_auth) : PICK_RC(rng, rc_disconnect);
            pkt->u.disconnect.props = random_props(rng, &a, type);
            if (type == IPM_AUTH) {
                ensure_auth_method(&pkt->u.disconnect.props, &a);
            }
        }
        break;
    default:
        break;
    }
}
