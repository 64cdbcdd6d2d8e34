/*
 * test_codec_malformed.c - every malformed packet we can name, each with its specific
 * error from IPM_ERR_MAP.
 *
 * Section references: "3.1.1 x.y" is MQTT 3.1.1, "5.0 x.y" is MQTT 5.0; MQTT-a.b.c-n are
 * the normative statements. Where codec.h does not pin the error down and the spec names
 * only "malformed" or "protocol error", the _2 forms accept either of two errors.
 */
#include "codec_test.h"

#define V31 IPM_PROTO_V31
#define V311 IPM_PROTO_V311
#define V5 IPM_PROTO_V5

/* ---- fixed header (3.1.1 2.2, 5.0 2.1) ------------------------------------------------ */

typedef struct {
    uint8_t version;
    uint8_t len;
    uint8_t bytes[20];
} base_t;

/* One valid packet of each type and the flags it must carry. */
static const base_t bases[] = {
    {V311, 17, {0x10, 0x0F, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, 3, 'a', 'b', 'c'}},
    {V311, 4, {0x20, 0x02, 0x00, 0x00}},
    {V311, 4, {0x40, 0x02, 0x00, 0x01}},
    {V311, 4, {0x50, 0x02, 0x00, 0x01}},
    {V311, 4, {0x62, 0x02, 0x00, 0x01}},
    {V311, 4, {0x70, 0x02, 0x00, 0x01}},
    {V311, 8, {0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x00}},
    {V311, 5, {0x90, 0x03, 0x00, 0x01, 0x00}},
    {V311, 7, {0xA2, 0x05, 0x00, 0x01, 0x00, 0x01, 'a'}},
    {V311, 4, {0xB0, 0x02, 0x00, 0x01}},
    {V311, 2, {0xC0, 0x00}},
    {V311, 2, {0xD0, 0x00}},
    {V311, 2, {0xE0, 0x00}},
    {V5, 5, {0x20, 0x03, 0x00, 0x00, 0x00}},
    {V5, 4, {0x40, 0x02, 0x00, 0x01}},
    {V5, 4, {0x62, 0x02, 0x00, 0x01}},
    {V5, 9, {0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x00}},
    {V5, 6, {0x90, 0x04, 0x00, 0x01, 0x00, 0x00}},
    {V5, 8, {0xA2, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, 'a'}},
    {V5, 6, {0xB0, 0x04, 0x00, 0x01, 0x00, 0x00}},
    {V5, 2, {0xC0, 0x00}},
    {V5, 2, {0xE0, 0x00}},
    {V5, 2, {0xF0, 0x00}},
};

/* PUBREL, SUBSCRIBE and UNSUBSCRIBE carry 0010, the others 0000 (MQTT-2.2.2-1/2). */
static void test_fixed_header_flags(void **state) {
    for (size_t i = 0; i < IPMT_ARRAY_LEN(bases); i++) {
        const base_t *b = &bases[i];
        ipmt_assert_err(ipmt_decode_copy(b->bytes, b->len, b->version), IPM_OK);
        uint8_t good = b->bytes[0] & 0x0F;
        for (uint8_t flags = 0; flags < 16; flags++) {
            if (flags == good) {
                continue;
            }
            uint8_t bytes[20];
            memcpy(bytes, b->bytes, b->len);
            bytes[0] = (uint8_t)((b->bytes[0] & 0xF0) | flags);
            print_message("type %u flags %x\n", bytes[0] >> 4, flags);
            ipmt_assert_err(ipmt_decode_copy(bytes, b->len, b->version), IPM_EBAD_FLAGS);
        }
    }
}

/* Types 0 (and 15 before 5.0) are reserved (3.1.1 table 2.1). */
static void test_reserved_type(void **state) {
    static const uint8_t zero[] = {0x00, 0x00};
    static const uint8_t zero_flags[] = {0x0F, 0x02, 0x00, 0x00};
    ipm_frame_t f;
    uint8_t *b = ipmt_dup(zero, sizeof zero);
    ipmt_assert_err(ipm_frame(b, sizeof zero, 0, &f), IPM_EBAD_TYPE);
    free(b);
    b = ipmt_dup(zero_flags, sizeof zero_flags);
    ipmt_assert_err(ipm_frame(b, sizeof zero_flags, 0, &f), IPM_EBAD_TYPE);
    free(b);
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_TYPE, 0xF0, 0x00);
    IPMT_EXPECT_DECODE(V31, IPM_EBAD_TYPE, 0xF0, 0x00);
}

/* ---- PUBLISH (3.1.1 3.3, 5.0 3.3) ----------------------------------------------------- */

static void test_publish_qos3(void **state) {
    /* MQTT-3.3.1-4: both QoS bits set is malformed, with any DUP/RETAIN. */
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_QOS, 0x36, 0x07, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x01);
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_QOS, 0x3F, 0x07, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x01);
    IPMT_EXPECT_DECODE(V31, IPM_EBAD_QOS, 0x36, 0x07, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x01);
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_QOS, 0x37, 0x08, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x01, 0x00);
}

/* MQTT-3.3.1-2: DUP must be 0 for QoS 0. */
static void test_publish_dup_qos0(void **state) {
    IPMT_EXPECT_DECODE2(V311, IPM_EBAD_FLAGS, IPM_EMALFORMED, 0x38, 0x05, 0x00, 0x03, 'a', '/', 'b');
    IPMT_EXPECT_DECODE2(V5, IPM_EBAD_FLAGS, IPM_EMALFORMED, 0x38, 0x06, 0x00, 0x03, 'a', '/', 'b', 0x00);
}

/* MQTT-2.3.1-1: QoS 1 and 2 PUBLISH carry a non-zero packet identifier. */
static void test_publish_zero_packet_id(void **state) {
    IPMT_EXPECT_DECODE(V311, IPM_EZERO_PACKET_ID, 0x32, 0x07, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x00);
    IPMT_EXPECT_DECODE(V311, IPM_EZERO_PACKET_ID, 0x34, 0x07, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x00);
    IPMT_EXPECT_DECODE(V31, IPM_EZERO_PACKET_ID, 0x32, 0x07, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x00);
    IPMT_EXPECT_DECODE(V5, IPM_EZERO_PACKET_ID, 0x32, 0x08, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x00, 0x00);
}

/* MQTT-3.3.2-2: no wildcards in a topic name; MQTT-4.7.3-1: at least one character. */
static void test_publish_bad_topic(void **state) {
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_TOPIC, 0x30, 0x05, 0x00, 0x03, 'a', '/', '+');
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_TOPIC, 0x30, 0x05, 0x00, 0x03, 'a', '/', '#');
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_TOPIC, 0x30, 0x03, 0x00, 0x01, '#');
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_TOPIC, 0x30, 0x04, 0x00, 0x02, 'a', '+');
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_TOPIC, 0x30, 0x06, 0x00, 0x03, 'a', '/', '+', 0x00);
    /* Empty topic: malformed in 3.x. */
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_TOPIC, 0x30, 0x04, 0x00, 0x00, 'h', 'i');
    IPMT_EXPECT_DECODE(V31, IPM_EBAD_TOPIC, 0x30, 0x04, 0x00, 0x00, 'h', 'i');
    /* 5.0 allows it only with a topic alias (3.3.2.1): a protocol error otherwise. */
    IPMT_EXPECT_DECODE2(V5, IPM_EBAD_TOPIC, IPM_EPROTOCOL, 0x30, 0x03, 0x00, 0x00, 0x00);
    IPMT_EXPECT_DECODE2(V5, IPM_EBAD_TOPIC, IPM_EPROTOCOL, 0x30, 0x06, 0x00, 0x00, 0x02, 0x01, 0x01, 'x');
    /* Bad UTF-8 and U+0000 in a topic (MQTT-1.5.3-1/2). */
    IPMT_EXPECT_DECODE2(V311, IPM_EBAD_UTF8, IPM_EBAD_TOPIC, 0x30, 0x05, 0x00, 0x03, 'a', 0xC0, 0x80);
    IPMT_EXPECT_DECODE2(V311, IPM_EBAD_UTF8, IPM_EBAD_TOPIC, 0x30, 0x05, 0x00, 0x03, 'a', 0x00, 'b');
    IPMT_EXPECT_DECODE2(V5, IPM_EBAD_UTF8, IPM_EBAD_TOPIC, 0x30, 0x06, 0x00, 0x03, 0xED, 0xA0, 0x80, 0x00);
}

static void test_publish_truncated(void **state) {
    /* Topic length past the end of the packet (the payload is not a string). */
    IPMT_EXPECT_DECODE(V311, IPM_ETRUNCATED, 0x30, 0x03, 0x00, 0x05, 'a');
    IPMT_EXPECT_DECODE(V311, IPM_ETRUNCATED, 0x30, 0x01, 0x00);
    IPMT_EXPECT_DECODE(V311, IPM_ETRUNCATED, 0x30, 0x00);
    /* QoS 1 without (all of) its packet identifier. */
    IPMT_EXPECT_DECODE(V311, IPM_ETRUNCATED, 0x32, 0x05, 0x00, 0x03, 'a', '/', 'b');
    IPMT_EXPECT_DECODE(V311, IPM_ETRUNCATED, 0x32, 0x06, 0x00, 0x03, 'a', '/', 'b', 0x00);
    /* 5.0: the property length is not optional in PUBLISH. */
    IPMT_EXPECT_DECODE(V5, IPM_ETRUNCATED, 0x30, 0x03, 0x00, 0x01, 't');
    IPMT_EXPECT_DECODE(V5, IPM_ETRUNCATED, 0x32, 0x05, 0x00, 0x01, 't', 0x00, 0x01);
    /* Property length past the end, and a value past the end of its block. */
    IPMT_EXPECT_DECODE(V5, IPM_ETRUNCATED, 0x30, 0x06, 0x00, 0x01, 't', 0x05, 0x01, 0x01);
    IPMT_EXPECT_DECODE(V5, IPM_ETRUNCATED, 0x30, 0x07, 0x00, 0x01, 't', 0x03, 0x02, 0x00, 0x00);
    IPMT_EXPECT_DECODE(V5, IPM_ETRUNCATED, 0x30, 0x08, 0x00, 0x01, 't', 0x04, 0x03, 0x00, 0x05, 'a');
    /* A five-byte property length. */
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_VARINT, 0x30, 0x08, 0x00, 0x01, 't', 0xFF, 0xFF, 0xFF, 0xFF, 0x7F);
}

/* 5.0 PUBLISH property values (3.3.2.3). */
static void test_publish_bad_props(void **state) {
    /* Payload format indicator is 0 or 1. */
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_PROPERTY, 0x30, 0x06, 0x00, 0x01, 't', 0x02, 0x01, 0x02);
    /* Topic alias 0 is not permitted (MQTT-3.3.2-8). */
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_ALIAS, 0x30, 0x07, 0x00, 0x01, 't', 0x03, 0x23, 0x00, 0x00);
    /* Subscription identifier 0 (3.3.2.3.8). */
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_PROPERTY, 0x30, 0x06, 0x00, 0x01, 't', 0x02, 0x0B, 0x00);
    /* Not a PUBLISH property: session expiry, reason string. */
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_PROPERTY, 0x30, 0x09, 0x00, 0x01, 't', 0x05, 0x11, 0x00, 0x00, 0x00, 0x01);
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_PROPERTY, 0x30, 0x08, 0x00, 0x01, 't', 0x04, 0x1F, 0x00, 0x01, 'x');
    /* Unknown identifiers. */
    IPMT_EXPECT_DECODE(V5, IPM_EUNKNOWN_PROPERTY, 0x30, 0x06, 0x00, 0x01, 't', 0x02, 0x00, 0x00);
    IPMT_EXPECT_DECODE(V5, IPM_EUNKNOWN_PROPERTY, 0x30, 0x06, 0x00, 0x01, 't', 0x02, 0x04, 0x00);
    IPMT_EXPECT_DECODE(V5, IPM_EUNKNOWN_PROPERTY, 0x30, 0x06, 0x00, 0x01, 't', 0x02, 0x7F, 0x00);
    IPMT_EXPECT_DECODE(V5, IPM_EUNKNOWN_PROPERTY, 0x30, 0x06, 0x00, 0x01, 't', 0x02, 0x2B, 0x00);
    /* Each non-repeatable property at most once. */
    IPMT_EXPECT_DECODE(V5, IPM_EDUP_PROPERTY, 0x30, 0x08, 0x00, 0x01, 't', 0x04, 0x01, 0x00, 0x01, 0x01);
    IPMT_EXPECT_DECODE(V5, IPM_EDUP_PROPERTY, 0x30, 0x0A, 0x00, 0x01, 't', 0x06, 0x23, 0x00, 0x01, 0x23, 0x00, 0x02);
    /* Strings in properties are UTF-8 (content type, user property value). */
    IPMT_EXPECT_DECODE2(V5, IPM_EBAD_UTF8, IPM_EBAD_PROPERTY, 0x30, 0x09, 0x00, 0x01, 't', 0x05, 0x03, 0x00, 0x02, 0xC3, 0x28);
    IPMT_EXPECT_DECODE2(V5, IPM_EBAD_UTF8, IPM_EBAD_PROPERTY, 0x30, 0x0B, 0x00, 0x01, 't', 0x07, 0x26, 0x00, 0x01, 'k', 0x00, 0x01, 0x00);
    /* A response topic is a topic name: no wildcards (MQTT-3.3.2-14). */
    IPMT_EXPECT_DECODE2(V5, IPM_EBAD_TOPIC, IPM_EBAD_PROPERTY, 0x30, 0x08, 0x00, 0x01, 't', 0x04, 0x08, 0x00, 0x01, '#');
}

/* ---- CONNECT (3.1.1 3.1, 5.0 3.1) ------------------------------------------------------ */

static void test_connect_flags(void **state) {
    /* The reserved flag must be 0 (MQTT-3.1.2-3). */
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_CONNECT_FLAGS, 0x10, 0x0F, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x03, 0, 60, 0, 3, 'a', 'b', 'c');
    IPMT_EXPECT_DECODE(V31, IPM_EBAD_CONNECT_FLAGS, 0x10, 0x11, 0, 6, 'M', 'Q', 'I', 's', 'd', 'p', 3, 0x01, 0, 60, 0, 3, 'a', 'b', 'c');
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_CONNECT_FLAGS, 0x10, 0x10, 0, 4, 'M', 'Q', 'T', 'T', 5, 0x03, 0, 60, 0, 0, 3, 'a', 'b', 'c');
    /* Will QoS or will retain without the will flag (MQTT-3.1.2-13/15). */
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_CONNECT_FLAGS, 0x10, 0x0F, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x0A, 0, 60, 0, 3, 'a', 'b', 'c');
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_CONNECT_FLAGS, 0x10, 0x0F, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x12, 0, 60, 0, 3, 'a', 'b', 'c');
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_CONNECT_FLAGS, 0x10, 0x0F, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x22, 0, 60, 0, 3, 'a', 'b', 'c');
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_CONNECT_FLAGS, 0x10, 0x10, 0, 4, 'M', 'Q', 'T', 'T', 5, 0x22, 0, 60, 0, 0, 3, 'a', 'b', 'c');
    /* Will QoS 3 (MQTT-3.1.2-14), with a will topic and message present. */
    IPMT_EXPECT_DECODE2(V311, IPM_EBAD_CONNECT_FLAGS, IPM_EBAD_QOS, 0x10, 0x15, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x1E, 0, 60,
                        0, 3, 'a', 'b', 'c', 0, 1, 'w', 0, 1, 'm');
    IPMT_EXPECT_DECODE2(V5, IPM_EBAD_CONNECT_FLAGS, IPM_EBAD_QOS, 0x10, 0x17, 0, 4, 'M', 'Q', 'T', 'T', 5, 0x1E, 0, 60, 0,
                        0, 3, 'a', 'b', 'c', 0, 0, 1, 'w', 0, 1, 'm');
    /* 3.1.1: a password needs a user name (MQTT-3.1.2-22). */
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_CONNECT_FLAGS, 0x10, 0x13, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x42, 0, 60,
                       0, 3, 'a', 'b', 'c', 0, 2, 'p', 'w');
}

static void test_connect_protocol(void **state) {
    /* Wrong protocol names (MQTT-3.1.2-1). */
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_PROTOCOL, 0x10, 0x0F, 0, 4, 'M', 'Q', 'T', 'X', 4, 2, 0, 60, 0, 3, 'a', 'b', 'c');
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_PROTOCOL, 0x10, 0x0F, 0, 4, 'm', 'q', 't', 't', 4, 2, 0, 60, 0, 3, 'a', 'b', 'c');
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_PROTOCOL, 0x10, 0x0E, 0, 3, 'M', 'Q', 'T', 4, 2, 0, 60, 0, 3, 'a', 'b', 'c');
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_PROTOCOL, 0x10, 0x0B, 0, 0, 4, 2, 0, 60, 0, 3, 'a', 'b', 'c');
    IPMT_EXPECT_DECODE(V31, IPM_EBAD_PROTOCOL, 0x10, 0x11, 0, 6, 'M', 'Q', 'I', 's', 'd', 'P', 3, 2, 0, 60, 0, 3, 'a', 'b', 'c');
    /* Levels nobody defines (MQTT-3.1.2-2; 5.0 reason 0x84). */
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_VERSION, 0x10, 0x0F, 0, 4, 'M', 'Q', 'T', 'T', 6, 2, 0, 60, 0, 3, 'a', 'b', 'c');
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_VERSION, 0x10, 0x0F, 0, 4, 'M', 'Q', 'T', 'T', 0, 2, 0, 60, 0, 3, 'a', 'b', 'c');
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_VERSION, 0x10, 0x0F, 0, 4, 'M', 'Q', 'T', 'T', 0x83, 2, 0, 60, 0, 3, 'a', 'b', 'c');
    /* After IPM_EBAD_VERSION the asked-for level is known, so a server can answer in kind. */
    static const uint8_t v6[] = {0x10, 0x0F, 0, 4, 'M', 'Q', 'T', 'T', 6, 2, 0, 60, 0, 3, 'a', 'b', 'c'};
    uint8_t *b = ipmt_dup(v6, sizeof v6);
    ipm_frame_t f;
    ipm_packet_t pkt;
    ipmt_assert_err(ipm_frame(b, sizeof v6, 0, &f), IPM_OK);
    ipmt_assert_err(ipm_decode(&f, b, V5, &pkt), IPM_EBAD_VERSION);
    assert_int_equal(pkt.type, IPM_CONNECT);
    assert_int_equal(pkt.u.connect.version, 6);
    free(b);
    /* A name and a level of different versions. */
    IPMT_EXPECT_DECODE2(V311, IPM_EBAD_PROTOCOL, IPM_EBAD_VERSION, 0x10, 0x0F, 0, 4, 'M', 'Q', 'T', 'T', 3, 2, 0, 60, 0, 3, 'a', 'b', 'c');
    IPMT_EXPECT_DECODE2(V311, IPM_EBAD_PROTOCOL, IPM_EBAD_VERSION, 0x10, 0x11, 0, 6, 'M', 'Q', 'I', 's', 'd', 'p', 4, 2, 0, 60, 0, 3, 'a', 'b', 'c');
}

static void test_connect_fields(void **state) {
    /* Too short for the variable header. */
    IPMT_EXPECT_DECODE(V311, IPM_ETRUNCATED, 0x10, 0x02, 0x00, 0x04);
    IPMT_EXPECT_DECODE(V311, IPM_ETRUNCATED, 0x10, 0x08, 0, 4, 'M', 'Q', 'T', 'T', 4, 2);
    /* Client id length past the end. */
    IPMT_EXPECT_DECODE(V311, IPM_ETRUNCATED, 0x10, 0x0E, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, 3, 'a', 'b');
    /* No client id at all. */
    IPMT_EXPECT_DECODE(V311, IPM_ETRUNCATED, 0x10, 0x0A, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60);
    /* A byte after the last field. */
    IPMT_EXPECT_DECODE(V311, IPM_ETRAILING, 0x10, 0x10, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, 3, 'a', 'b', 'c', 0);
    IPMT_EXPECT_DECODE(V5, IPM_ETRAILING, 0x10, 0x11, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 60, 0, 0, 3, 'a', 'b', 'c', 0);
    /* Will flag without will topic and message; user name flag without a user name. */
    IPMT_EXPECT_DECODE(V311, IPM_ETRUNCATED, 0x10, 0x0F, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x06, 0, 60, 0, 3, 'a', 'b', 'c');
    IPMT_EXPECT_DECODE(V311, IPM_ETRUNCATED, 0x10, 0x12, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x06, 0, 60, 0, 3, 'a', 'b', 'c', 0, 1, 'w');
    IPMT_EXPECT_DECODE(V311, IPM_ETRUNCATED, 0x10, 0x0F, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x82, 0, 60, 0, 3, 'a', 'b', 'c');
    /* Bad UTF-8 in the client id and user name; U+0000 (MQTT-1.5.3-1/2). */
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_UTF8, 0x10, 0x0F, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, 3, 'a', 0xC3, 'c');
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_UTF8, 0x10, 0x0F, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, 3, 'a', 0x00, 'c');
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_UTF8, 0x10, 0x13, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x82, 0, 60, 0, 3, 'a', 'b', 'c',
                       0, 2, 0xED, 0xBF);
    /* A will topic is a topic name (MQTT-3.1.3-11). */
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_TOPIC, 0x10, 0x15, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x06, 0, 60, 0, 3, 'a', 'b', 'c',
                       0, 1, '#', 0, 1, 'm');
    /* 5.0: the property length is not optional. */
    IPMT_EXPECT_DECODE(V5, IPM_ETRUNCATED, 0x10, 0x0A, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 60);
}

static void test_connect_v5_props(void **state) {
    /* Topic alias is a PUBLISH property. */
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_PROPERTY, 0x10, 0x13, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 60, 3, 0x23, 0, 1, 0, 3, 'a', 'b', 'c');
    /* Twice the session expiry interval. */
    IPMT_EXPECT_DECODE(V5, IPM_EDUP_PROPERTY, 0x10, 0x1A, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 60, 10,
                       0x11, 0, 0, 0, 1, 0x11, 0, 0, 0, 2, 0, 3, 'a', 'b', 'c');
    /* Receive maximum 0, maximum packet size 0 (3.1.2.11.3/4). */
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_PROPERTY, 0x10, 0x13, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 60, 3, 0x21, 0, 0, 0, 3, 'a', 'b', 'c');
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_PROPERTY, 0x10, 0x15, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 60, 5, 0x27, 0, 0, 0, 0, 0, 3, 'a', 'b', 'c');
    /* Request problem / response information are 0 or 1. */
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_PROPERTY, 0x10, 0x12, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 60, 2, 0x17, 2, 0, 3, 'a', 'b', 'c');
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_PROPERTY, 0x10, 0x12, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 60, 2, 0x19, 0xFF, 0, 3, 'a', 'b', 'c');
    /* Authentication data without a method (3.1.2.11.10). */
    IPMT_EXPECT_DECODE2(V5, IPM_EPROTOCOL, IPM_EBAD_PROPERTY, 0x10, 0x14, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 60, 4,
                        0x16, 0, 1, 'x', 0, 3, 'a', 'b', 'c');
    /* Will delay is a will property only; session expiry is not a will property. */
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_PROPERTY, 0x10, 0x15, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 60, 5, 0x18, 0, 0, 0, 1, 0, 3, 'a', 'b', 'c');
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_PROPERTY, 0x10, 0x1B, 0, 4, 'M', 'Q', 'T', 'T', 5, 0x06, 0, 60, 0, 0, 3, 'a', 'b', 'c',
                       5, 0x11, 0, 0, 0, 1, 0, 1, 'w', 0, 0);
    /* Will properties: payload format 2, duplicate, length past the end. */
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_PROPERTY, 0x10, 0x18, 0, 4, 'M', 'Q', 'T', 'T', 5, 0x06, 0, 60, 0, 0, 3, 'a', 'b', 'c',
                       2, 0x01, 2, 0, 1, 'w', 0, 0);
    IPMT_EXPECT_DECODE(V5, IPM_EDUP_PROPERTY, 0x10, 0x1A, 0, 4, 'M', 'Q', 'T', 'T', 5, 0x06, 0, 60, 0, 0, 3, 'a', 'b', 'c',
                       4, 0x01, 1, 0x01, 1, 0, 1, 'w', 0, 0);
    IPMT_EXPECT_DECODE(V5, IPM_ETRUNCATED, 0x10, 0x12, 0, 4, 'M', 'Q', 'T', 'T', 5, 0x06, 0, 60, 0, 0, 3, 'a', 'b', 'c', 9, 0x01);
}

/* ---- CONNACK (3.1.1 3.2, 5.0 3.2) ------------------------------------------------------ */

static void test_connack(void **state) {
    /* Acknowledge flags bits 7-1 are reserved (MQTT-3.2.2-1 in 5.0: malformed). */
    IPMT_EXPECT_DECODE2(V311, IPM_EMALFORMED, IPM_EBAD_FLAGS, 0x20, 0x02, 0x02, 0x00);
    IPMT_EXPECT_DECODE2(V5, IPM_EMALFORMED, IPM_EBAD_FLAGS, 0x20, 0x03, 0x80, 0x00, 0x00);
    /* Wrong lengths. */
    IPMT_EXPECT_DECODE(V311, IPM_ETRAILING, 0x20, 0x03, 0x00, 0x00, 0x00);
    IPMT_EXPECT_DECODE(V311, IPM_ETRUNCATED, 0x20, 0x01, 0x00);
    IPMT_EXPECT_DECODE(V311, IPM_ETRUNCATED, 0x20, 0x00);
    IPMT_EXPECT_DECODE(V5, IPM_ETRUNCATED, 0x20, 0x02, 0x00, 0x00);
    /* ...except the 3.1.1 refusal a 5.0 client gets from an older server (5.0 3.1.2.2). */
    IPMT_EXPECT_DECODE(V5, IPM_OK, 0x20, 0x02, 0x00, 0x01);
    IPMT_EXPECT_DECODE(V5, IPM_ETRAILING, 0x20, 0x04, 0x00, 0x00, 0x00, 0x00);
    /* Return codes 6-255 are reserved in 3.1.1 (3.2.2.3); 5.0 lists the CONNACK codes. */
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_REASON, 0x20, 0x02, 0x00, 0x06);
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_REASON, 0x20, 0x03, 0x00, 0x01, 0x00);
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_REASON, 0x20, 0x03, 0x00, 0x10, 0x00);
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_REASON, 0x20, 0x03, 0x00, 0x8E, 0x00);
    /* Properties that CONNACK does not carry, and bad values (3.2.2.3). */
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_PROPERTY, 0x20, 0x05, 0x00, 0x00, 0x02, 0x17, 0x01);
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_PROPERTY, 0x20, 0x05, 0x00, 0x00, 0x02, 0x24, 0x02);
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_PROPERTY, 0x20, 0x05, 0x00, 0x00, 0x02, 0x25, 0x02);
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_PROPERTY, 0x20, 0x05, 0x00, 0x00, 0x02, 0x2A, 0x07);
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_PROPERTY, 0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x00);
    IPMT_EXPECT_DECODE(V5, IPM_EDUP_PROPERTY, 0x20, 0x07, 0x00, 0x00, 0x04, 0x24, 0x00, 0x24, 0x01);
    IPMT_EXPECT_DECODE(V5, IPM_ETRUNCATED, 0x20, 0x05, 0x00, 0x00, 0x03, 0x24, 0x00);
}

/* ---- PUBACK, PUBREC, PUBREL, PUBCOMP --------------------------------------------------- */

static void test_acks(void **state) {
    static const uint8_t firsts[] = {0x40, 0x50, 0x62, 0x70};
    for (size_t i = 0; i < sizeof firsts; i++) {
        uint8_t t = firsts[i];
        uint8_t trailing[] = {t, 0x03, 0x00, 0x01, 0x00};
        uint8_t short1[] = {t, 0x01, 0x00};
        uint8_t short0[] = {t, 0x00};
        uint8_t zero[] = {t, 0x02, 0x00, 0x00};
        ipmt_assert_err(ipmt_decode_copy(trailing, sizeof trailing, V311), IPM_ETRAILING);
        ipmt_assert_err(ipmt_decode_copy(short1, sizeof short1, V311), IPM_ETRUNCATED);
        ipmt_assert_err(ipmt_decode_copy(short0, sizeof short0, V311), IPM_ETRUNCATED);
        ipmt_assert_err(ipmt_decode_copy(short0, sizeof short0, V5), IPM_ETRUNCATED);
        /* Packet identifiers are never 0, so no acknowledgement carries 0. */
        ipmt_assert_err(ipmt_decode_copy(zero, sizeof zero, V311), IPM_EZERO_PACKET_ID);
        ipmt_assert_err(ipmt_decode_copy(zero, sizeof zero, V5), IPM_EZERO_PACKET_ID);
        /* 5.0: property length past the end; a byte after the properties; a topic alias. */
        uint8_t past[] = {t, 0x05, 0x00, 0x01, 0x00, 0x03, 0x26};
        uint8_t after[] = {t, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00};
        uint8_t alias[] = {t, 0x07, 0x00, 0x01, 0x00, 0x03, 0x23, 0x00, 0x01};
        uint8_t dup[] = {t, 0x0C, 0x00, 0x01, 0x00, 0x08, 0x1F, 0x00, 0x01, 'a', 0x1F, 0x00, 0x01, 'b'};
        ipmt_assert_err(ipmt_decode_copy(past, sizeof past, V5), IPM_ETRUNCATED);
        ipmt_assert_err(ipmt_decode_copy(after, sizeof after, V5), IPM_ETRAILING);
        ipmt_assert_err(ipmt_decode_copy(alias, sizeof alias, V5), IPM_EBAD_PROPERTY);
        ipmt_assert_err(ipmt_decode_copy(dup, sizeof dup, V5), IPM_EDUP_PROPERTY);
    }
    /* Reason codes another acknowledgement uses (5.0 3.4.2.1, 3.6.2.1). */
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_REASON, 0x40, 0x03, 0x00, 0x01, 0x92);
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_REASON, 0x50, 0x03, 0x00, 0x01, 0x01);
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_REASON, 0x62, 0x03, 0x00, 0x01, 0x10);
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_REASON, 0x70, 0x03, 0x00, 0x01, 0x80);
}

/* ---- SUBSCRIBE (3.1.1 3.8, 5.0 3.8) ---------------------------------------------------- */

/*
 * Cases 5.0 calls a Protocol Error: the error may be IPM_EBAD_SUBOPT (codec.h mentions
 * retain handling 3 there) or IPM_EPROTOCOL, but the server must answer 0x82.
 */
static void expect_protocol_error(uint8_t version, const uint8_t *bytes, size_t len) {
    int rc = ipmt_decode_copy(bytes, len, version);
    ipmt_assert_err_in(rc, IPM_EBAD_SUBOPT, IPM_EPROTOCOL);
    assert_int_equal(ipm_err_reason(rc), IPM_RC_PROTOCOL_ERROR);
}

static void test_subscribe(void **state) {
    /* At least one filter (MQTT-3.8.3-3). */
    IPMT_EXPECT_DECODE(V311, IPM_EEMPTY_LIST, 0x82, 0x02, 0x00, 0x01);
    IPMT_EXPECT_DECODE(V31, IPM_EEMPTY_LIST, 0x82, 0x02, 0x00, 0x01);
    IPMT_EXPECT_DECODE(V5, IPM_EEMPTY_LIST, 0x82, 0x03, 0x00, 0x01, 0x00);
    IPMT_EXPECT_DECODE(V311, IPM_EZERO_PACKET_ID, 0x82, 0x06, 0x00, 0x00, 0x00, 0x01, 'a', 0x00);
    IPMT_EXPECT_DECODE(V5, IPM_EZERO_PACKET_ID, 0x82, 0x07, 0x00, 0x00, 0x00, 0x00, 0x01, 'a', 0x00);
    /* Invalid filters (4.7.1). */
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_FILTER, 0x82, 0x09, 0x00, 0x01, 0x00, 0x04, 'a', '/', 'b', '#', 0x00);
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_FILTER, 0x82, 0x08, 0x00, 0x01, 0x00, 0x03, 'a', '+', 'b', 0x00);
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_FILTER, 0x82, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00);
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_FILTER, 0x82, 0x09, 0x00, 0x01, 0x00, 0x00, 0x03, '#', '/', 'a', 0x00);
    IPMT_EXPECT_DECODE2(V311, IPM_EBAD_UTF8, IPM_EBAD_FILTER, 0x82, 0x07, 0x00, 0x01, 0x00, 0x02, 0xC0, 0xAF, 0x00);
    /* The second filter is bad: every entry is validated. */
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_FILTER, 0x82, 0x0B, 0x00, 0x01, 0x00, 0x01, 'a', 0x00, 0x00, 0x02, '#', '#', 0x01);
    /* Truncated: no options byte, filter length past the end. */
    IPMT_EXPECT_DECODE(V311, IPM_ETRUNCATED, 0x82, 0x05, 0x00, 0x01, 0x00, 0x01, 'a');
    IPMT_EXPECT_DECODE(V311, IPM_ETRUNCATED, 0x82, 0x06, 0x00, 0x01, 0x00, 0x05, 'a', 0x00);
    IPMT_EXPECT_DECODE(V311, IPM_ETRUNCATED, 0x82, 0x03, 0x00, 0x01, 0x00);
    IPMT_EXPECT_DECODE(V311, IPM_ETRUNCATED, 0x82, 0x01, 0x00);
    /* 3.1.1: options bits 7-2 reserved (MQTT-3.8.3-4), QoS 3 malformed. */
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_SUBOPT, 0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x04);
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_SUBOPT, 0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x80);
    IPMT_EXPECT_DECODE2(V311, IPM_EBAD_SUBOPT, IPM_EBAD_QOS, 0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x03);
    /* 5.0: bits 7-6 reserved, retain handling 3 (3.8.3.1), QoS 3. */
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_SUBOPT, 0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x40);
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_SUBOPT, 0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x80);
    expect_protocol_error(V5, (const uint8_t[]){0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x30}, 9);
    IPMT_EXPECT_DECODE2(V5, IPM_EBAD_SUBOPT, IPM_EBAD_QOS, 0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x03);
    /* Subscription identifier 0, twice, or with a five-byte value (3.8.2.1.2). */
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_PROPERTY, 0x82, 0x09, 0x00, 0x01, 0x02, 0x0B, 0x00, 0x00, 0x01, 'a', 0x00);
    IPMT_EXPECT_DECODE(V5, IPM_EDUP_PROPERTY, 0x82, 0x0B, 0x00, 0x01, 0x04, 0x0B, 0x01, 0x0B, 0x02, 0x00, 0x01, 'a', 0x00);
    IPMT_EXPECT_DECODE2(V5, IPM_EBAD_VARINT, IPM_ETRUNCATED, 0x82, 0x0D, 0x00, 0x01, 0x06, 0x0B, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F,
                        0x00, 0x01, 'a', 0x00);
    /* Not a SUBSCRIBE property. */
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_PROPERTY, 0x82, 0x09, 0x00, 0x01, 0x02, 0x01, 0x01, 0x00, 0x01, 'a', 0x00);
    /* Shared subscriptions (4.8.2): no local is a protocol error, bad share names. */
    expect_protocol_error(V5, (const uint8_t[]){0x82, 0x10, 0x00, 0x01, 0x00, 0x00, 0x0A, '$', 's', 'h', 'a',
                                                'r', 'e', '/', 'g', '/', 'a', 0x04}, 18);
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_FILTER, 0x82, 0x10, 0x00, 0x01, 0x00,
                       0x00, 0x0A, '$', 's', 'h', 'a', 'r', 'e', '/', '/', 'a', 'b', 0x00);
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_FILTER, 0x82, 0x0E, 0x00, 0x01, 0x00,
                       0x00, 0x08, '$', 's', 'h', 'a', 'r', 'e', '/', 'g', 0x00);
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_FILTER, 0x82, 0x10, 0x00, 0x01, 0x00,
                       0x00, 0x0A, '$', 's', 'h', 'a', 'r', 'e', '/', '+', '/', 'a', 0x00);
}

/* ---- SUBACK, UNSUBSCRIBE, UNSUBACK ------------------------------------------------------- */

static void test_suback(void **state) {
    /* 3.1.1 allows 0x00, 0x01, 0x02 and 0x80 (MQTT-3.9.3-2). */
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_REASON, 0x90, 0x03, 0x00, 0x01, 0x03);
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_REASON, 0x90, 0x04, 0x00, 0x01, 0x00, 0x81);
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_REASON, 0x90, 0x04, 0x00, 0x01, 0x00, 0x03);
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_REASON, 0x90, 0x04, 0x00, 0x01, 0x00, 0x11);
    IPMT_EXPECT_DECODE(V311, IPM_EZERO_PACKET_ID, 0x90, 0x03, 0x00, 0x00, 0x00);
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_PROPERTY, 0x90, 0x06, 0x00, 0x01, 0x02, 0x0B, 0x01, 0x00);
    IPMT_EXPECT_DECODE(V5, IPM_ETRUNCATED, 0x90, 0x04, 0x00, 0x01, 0x05, 0x00);
}

static void test_unsubscribe(void **state) {
    IPMT_EXPECT_DECODE(V311, IPM_EEMPTY_LIST, 0xA2, 0x02, 0x00, 0x01);
    IPMT_EXPECT_DECODE(V5, IPM_EEMPTY_LIST, 0xA2, 0x03, 0x00, 0x01, 0x00);
    IPMT_EXPECT_DECODE(V311, IPM_EZERO_PACKET_ID, 0xA2, 0x05, 0x00, 0x00, 0x00, 0x01, 'a');
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_FILTER, 0xA2, 0x06, 0x00, 0x01, 0x00, 0x02, 'a', '#');
    IPMT_EXPECT_DECODE(V311, IPM_EBAD_FILTER, 0xA2, 0x04, 0x00, 0x01, 0x00, 0x00);
    IPMT_EXPECT_DECODE(V311, IPM_ETRUNCATED, 0xA2, 0x06, 0x00, 0x01, 0x00, 0x05, 'a', 'b');
    IPMT_EXPECT_DECODE(V311, IPM_ETRUNCATED, 0xA2, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x00);
    /* Subscription identifiers belong to SUBSCRIBE only (3.10.2.1). */
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_PROPERTY, 0xA2, 0x08, 0x00, 0x01, 0x02, 0x0B, 0x01, 0x00, 0x01, 'a');
}

static void test_unsuback(void **state) {
    /* 3.x UNSUBACK is the packet identifier only. */
    IPMT_EXPECT_DECODE(V311, IPM_ETRAILING, 0xB0, 0x03, 0x00, 0x01, 0x00);
    IPMT_EXPECT_DECODE(V311, IPM_ETRUNCATED, 0xB0, 0x01, 0x00);
    IPMT_EXPECT_DECODE(V311, IPM_EZERO_PACKET_ID, 0xB0, 0x02, 0x00, 0x00);
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_REASON, 0xB0, 0x04, 0x00, 0x01, 0x00, 0x10);
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_REASON, 0xB0, 0x04, 0x00, 0x01, 0x00, 0x01);
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_PROPERTY, 0xB0, 0x06, 0x00, 0x01, 0x02, 0x01, 0x01, 0x00);
}

/* ---- PINGREQ, PINGRESP, DISCONNECT, AUTH ------------------------------------------------- */

static void test_empty_packets(void **state) {
    IPMT_EXPECT_DECODE(V311, IPM_ETRAILING, 0xC0, 0x01, 0x00);
    IPMT_EXPECT_DECODE(V311, IPM_ETRAILING, 0xD0, 0x01, 0x00);
    IPMT_EXPECT_DECODE(V311, IPM_ETRAILING, 0xE0, 0x01, 0x00);
    IPMT_EXPECT_DECODE(V31, IPM_ETRAILING, 0xE0, 0x02, 0x00, 0x00);
    IPMT_EXPECT_DECODE(V5, IPM_ETRAILING, 0xC0, 0x01, 0x00);
    IPMT_EXPECT_DECODE(V5, IPM_ETRAILING, 0xD0, 0x02, 0x00, 0x00);
}

static void test_disconnect_auth(void **state) {
    /* DISCONNECT reason codes (5.0 3.14.2.1): 0x01 and 0x18 are not among them. */
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_REASON, 0xE0, 0x01, 0x01);
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_REASON, 0xE0, 0x01, 0x18);
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_PROPERTY, 0xE0, 0x05, 0x00, 0x03, 0x23, 0x00, 0x01);
    IPMT_EXPECT_DECODE(V5, IPM_ETRUNCATED, 0xE0, 0x03, 0x00, 0x04, 0x1F);
    IPMT_EXPECT_DECODE(V5, IPM_ETRAILING, 0xE0, 0x03, 0x00, 0x00, 0x00);
    IPMT_EXPECT_DECODE(V5, IPM_EDUP_PROPERTY, 0xE0, 0x0C, 0x00, 0x0A, 0x11, 0, 0, 0, 1, 0x11, 0, 0, 0, 2);
    /* AUTH reason codes are 0x00, 0x18, 0x19 (3.15.2.1). */
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_REASON, 0xF0, 0x02, 0x01, 0x00);
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_REASON, 0xF0, 0x02, 0x87, 0x00);
    IPMT_EXPECT_DECODE(V5, IPM_EBAD_PROPERTY, 0xF0, 0x07, 0x18, 0x05, 0x11, 0x00, 0x00, 0x00, 0x01);
    IPMT_EXPECT_DECODE(V5, IPM_EDUP_PROPERTY, 0xF0, 0x0A, 0x18, 0x08, 0x15, 0, 1, 'a', 0x15, 0, 1, 'b');
    IPMT_EXPECT_DECODE(V5, IPM_ETRAILING, 0xF0, 0x03, 0x18, 0x00, 0x00);
}

/* ---- encoder: invalid packets are refused, never written -------------------------------- */

static void expect_encode_error(const ipm_packet_t *p, uint8_t version, int err) {
    uint8_t buf[512];
    memset(buf, 0xAA, sizeof buf);
    ipmt_assert_err((int)ipm_packet_size(p, version), err);
    ipmt_assert_err((int)ipm_encode(p, version, buf, sizeof buf), err);
}

static void test_encode_refuses(void **state) {
    ipm_packet_t p = {.type = IPM_PUBLISH};
    p.u.publish.topic = ipm_str("a/+");
    expect_encode_error(&p, V311, IPM_EBAD_TOPIC);
    p.u.publish.topic = ipm_str("");
    expect_encode_error(&p, V311, IPM_EBAD_TOPIC);
    p.u.publish.topic = ipm_str("a\xC0\x80");
    ipmt_assert_err_in((int)ipm_packet_size(&p, V311), IPM_EBAD_UTF8, IPM_EBAD_TOPIC);
    p.u.publish.topic = ipm_str("a");
    p.u.publish.dup = true; /* MQTT-3.3.1-2: DUP is 0 for QoS 0 */
    assert_true(ipm_packet_size(&p, V311) < 0);
    p.u.publish.dup = false;
    p.u.publish.qos = 3;
    p.u.publish.packet_id = 1;
    expect_encode_error(&p, V311, IPM_EBAD_QOS);
    p.u.publish.qos = 1;
    p.u.publish.packet_id = 0;
    expect_encode_error(&p, V311, IPM_EZERO_PACKET_ID);

    static const ipm_prop_t session[] = {IPMT_PNUM(IPM_PROP_SESSION_EXPIRY_INTERVAL, 1)};
    static const ipm_prop_t twice[] = {IPMT_PNUM(IPM_PROP_TOPIC_ALIAS, 1), IPMT_PNUM(IPM_PROP_TOPIC_ALIAS, 2)};
    static const ipm_prop_t zero_alias[] = {IPMT_PNUM(IPM_PROP_TOPIC_ALIAS, 0)};
    p.u.publish.qos = 0;
    p.u.publish.props = IPMT_PROPS(session);
    expect_encode_error(&p, V5, IPM_EBAD_PROPERTY);
    p.u.publish.props = IPMT_PROPS(twice);
    expect_encode_error(&p, V5, IPM_EDUP_PROPERTY);
    p.u.publish.props = IPMT_PROPS(zero_alias);
    expect_encode_error(&p, V5, IPM_EBAD_ALIAS);

    ipm_packet_t s = {.type = IPM_SUBSCRIBE};
    s.u.subscribe.packet_id = 1;
    expect_encode_error(&s, V311, IPM_EEMPTY_LIST);
    static const ipm_sub_t bad[] = {{{(const uint8_t *)"a#", 2}, 0}};
    static const ipm_sub_t rh3[] = {{{(const uint8_t *)"a", 1}, 0x30}};
    s.u.subscribe.subs = bad;
    s.u.subscribe.count = 1;
    expect_encode_error(&s, V311, IPM_EBAD_FILTER);
    s.u.subscribe.subs = rh3;
    ipmt_assert_err_in((int)ipm_packet_size(&s, V5), IPM_EBAD_SUBOPT, IPM_EPROTOCOL);

    ipm_packet_t c = {.type = IPM_CONNECT};
    c.u.connect.version = V311;
    c.u.connect.client_id = ipm_str("a");
    c.u.connect.will = true;
    c.u.connect.will_qos = 3;
    c.u.connect.will_topic = ipm_str("w");
    ipmt_assert_err_in((int)ipm_packet_size(&c, V311), IPM_EBAD_QOS, IPM_EBAD_CONNECT_FLAGS);
    c.u.connect.will_qos = 0;
    c.u.connect.has_password = true;
    c.u.connect.password = ipm_str("p");
    expect_encode_error(&c, V311, IPM_EBAD_CONNECT_FLAGS);

    static const ipm_prop_t data_only[] = {IPMT_PSTR(IPM_PROP_AUTHENTICATION_DATA, "x")};
    c.u.connect.version = V5;
    c.u.connect.props = IPMT_PROPS(data_only);
    expect_encode_error(&c, V5, IPM_EPROTOCOL);

    /* No such packet type. */
    ipm_packet_t ping = {.type = 0};
    assert_true(ipm_packet_size(&ping, V5) < 0);
    ping.type = 16;
    assert_true(ipm_packet_size(&ping, V5) < 0);

    ipm_packet_t a = {.type = IPM_PUBACK};
    a.u.ack.packet_id = 1;
    a.u.ack.reason = IPM_RC_PACKET_IDENTIFIER_NOT_FOUND; /* a PUBREL/PUBCOMP code */
    expect_encode_error(&a, V5, IPM_EBAD_REASON);
}

/* A packet over the Variable Byte Integer limit cannot be written. */
static void test_encode_too_large(void **state) {
    static const uint8_t dummy[1];
    ipm_packet_t p = {.type = IPM_PUBLISH};
    p.u.publish.topic = ipm_str("a");
    /* The size is computed from the lengths alone, so the payload is never read. */
    p.u.publish.payload = ipmt_bytes(dummy, IPM_MAX_REMAINING_LENGTH);
    assert_true(ipm_packet_size(&p, V311) < 0);
    /* A string longer than 65535 bytes cannot be written either. */
    uint8_t *big = malloc(70000);
    assert_non_null(big);
    memset(big, 'a', 70000);
    p.u.publish.payload = ipm_str("");
    p.u.publish.topic = ipmt_bytes(big, 65536);
    assert_true(ipm_packet_size(&p, V311) < 0);
    p.u.publish.topic = ipmt_bytes(big, 65535);
    assert_int_equal(ipm_packet_size(&p, V311), 1 + 3 + 2 + 65535);
    free(big);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_header_flags),
        cmocka_unit_test(test_reserved_type),
        cmocka_unit_test(test_publish_qos3),
        cmocka_unit_test(test_publish_dup_qos0),
        cmocka_unit_test(test_publish_zero_packet_id),
        cmocka_unit_test(test_publish_bad_topic),
        cmocka_unit_test(test_publish_truncated),
        cmocka_unit_test(test_publish_bad_props),
        cmocka_unit_test(test_connect_flags),
        cmocka_unit_test(test_connect_protocol),
        cmocka_unit_test(test_connect_fields),
        cmocka_unit_test(test_connect_v5_props),
        cmocka_unit_test(test_connack),
        cmocka_unit_test(test_acks),
        cmocka_unit_test(test_subscribe),
        cmocka_unit_test(test_suback),
        cmocka_unit_test(test_unsubscribe),
        cmocka_unit_test(test_unsuback),
        cmocka_unit_test(test_empty_packets),
        cmocka_unit_test(test_disconnect_auth),
        cmocka_unit_test(test_encode_refuses),
        cmocka_unit_test(test_encode_too_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
