/*
 * test_codec_vectors_v5.c - byte-exact vectors of every MQTT 5.0 packet.
 *
 * Written by hand from the field layouts of MQTT 5.0 (OASIS standard, chapter 3) and the
 * property encodings of section 2.2.2: one-byte, two-byte and four-byte integers, Variable
 * Byte Integers, UTF-8 strings, binary data and string pairs, with repeated user
 * properties. Where a field may be omitted (the reason code and property length of the
 * acknowledgements, DISCONNECT and AUTH), the encoder is expected to write the shortest
 * form the specification allows, and the longer forms must still decode.
 */
#include "codec_test.h"

#define V5 IPM_PROTO_V5

/* ---- CONNECT (section 3.1) ---------------------------------------------------------- */

static void test_connect_minimal(void **state) {
    ipm_packet_t p = {.type = IPM_CONNECT};
    p.u.connect.version = V5;
    p.u.connect.clean_start = true;
    p.u.connect.keepalive = 60;
    p.u.connect.client_id = ipm_str("abc");
    IPMT_VECTOR(&p, V5,
                0x10, 0x10,
                0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, /* protocol name, level 5 */
                0x02, 0x00, 0x3C,                     /* clean start, keep alive 60 */
                0x00,                                 /* no properties */
                0x00, 0x03, 'a', 'b', 'c');
}

/* Every CONNECT property, will properties of every will type, user name and password. */
static void test_connect_full(void **state) {
    static const ipm_prop_t props[] = {
        IPMT_PNUM(IPM_PROP_SESSION_EXPIRY_INTERVAL, 3600),
        IPMT_PNUM(IPM_PROP_RECEIVE_MAXIMUM, 20),
        IPMT_PNUM(IPM_PROP_MAXIMUM_PACKET_SIZE, 65536),
        IPMT_PNUM(IPM_PROP_TOPIC_ALIAS_MAXIMUM, 10),
        IPMT_PNUM(IPM_PROP_REQUEST_RESPONSE_INFORMATION, 1),
        IPMT_PNUM(IPM_PROP_REQUEST_PROBLEM_INFORMATION, 0),
        IPMT_PPAIR("a", "b"),
        IPMT_PPAIR("a", "c"), /* the same key again: user properties repeat */
        IPMT_PSTR(IPM_PROP_AUTHENTICATION_METHOD, "SCRAM"),
        IPMT_PSTR(IPM_PROP_AUTHENTICATION_DATA, "\x01\x02\x03"),
    };
    static const ipm_prop_t will_props[] = {
        IPMT_PNUM(IPM_PROP_WILL_DELAY_INTERVAL, 5),
        IPMT_PNUM(IPM_PROP_PAYLOAD_FORMAT_INDICATOR, 1),
        IPMT_PNUM(IPM_PROP_MESSAGE_EXPIRY_INTERVAL, 30),
        IPMT_PSTR(IPM_PROP_CONTENT_TYPE, "text/plain"),
        IPMT_PSTR(IPM_PROP_RESPONSE_TOPIC, "r/t"),
        IPMT_PSTR(IPM_PROP_CORRELATION_DATA, "xy"),
        IPMT_PPAIR("k", "v"),
    };
    ipm_packet_t p = {.type = IPM_CONNECT};
    ipm_connect_t *c = &p.u.connect;
    c->version = V5;
    c->clean_start = true;
    c->keepalive = 30;
    c->client_id = ipm_str("cid");
    c->props = IPMT_PROPS(props);
    c->will = true;
    c->will_qos = 2;
    c->will_retain = true;
    c->will_props = IPMT_PROPS(will_props);
    c->will_topic = ipm_str("w/t");
    c->will_payload = ipm_str("bye");
    c->has_username = c->has_password = true;
    c->username = ipm_str("u");
    c->password = ipmt_bytes("p\0w", 3);
    IPMT_VECTOR(&p, V5,
                0x10, 0x7E,                             /* remaining length 126 */
                0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05,
                0xF6,                                   /* user, password, will retain, QoS 2, will, clean */
                0x00, 0x1E,                             /* keep alive 30 */
                0x30,                                   /* property length 48 */
                0x11, 0x00, 0x00, 0x0E, 0x10,           /* session expiry 3600 */
                0x21, 0x00, 0x14,                       /* receive maximum 20 */
                0x27, 0x00, 0x01, 0x00, 0x00,           /* maximum packet size 65536 */
                0x22, 0x00, 0x0A,                       /* topic alias maximum 10 */
                0x19, 0x01,                             /* request response information */
                0x17, 0x00,                             /* request problem information 0 */
                0x26, 0x00, 0x01, 'a', 0x00, 0x01, 'b', /* user property a=b */
                0x26, 0x00, 0x01, 'a', 0x00, 0x01, 'c', /* user property a=c */
                0x15, 0x00, 0x05, 'S', 'C', 'R', 'A', 'M',
                0x16, 0x00, 0x03, 0x01, 0x02, 0x03,     /* authentication data */
                0x00, 0x03, 'c', 'i', 'd',              /* client id */
                0x2B,                                   /* will property length 43 */
                0x18, 0x00, 0x00, 0x00, 0x05,           /* will delay 5 */
                0x01, 0x01,                             /* payload is UTF-8 */
                0x02, 0x00, 0x00, 0x00, 0x1E,           /* message expiry 30 */
                0x03, 0x00, 0x0A, 't', 'e', 'x', 't', '/', 'p', 'l', 'a', 'i', 'n',
                0x08, 0x00, 0x03, 'r', '/', 't',        /* response topic */
                0x09, 0x00, 0x02, 'x', 'y',             /* correlation data */
                0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v',
                0x00, 0x03, 'w', '/', 't',              /* will topic */
                0x00, 0x03, 'b', 'y', 'e',              /* will payload */
                0x00, 0x01, 'u',                        /* user name */
                0x00, 0x03, 'p', 0x00, 'w');            /* password: binary, NUL allowed */
}

/* 5.0 allows a password without a user name (section 3.1.2.9). */
static void test_connect_password_only(void **state) {
    ipm_packet_t p = {.type = IPM_CONNECT};
    ipm_connect_t *c = &p.u.connect;
    c->version = V5;
    c->clean_start = true;
    c->keepalive = 10;
    c->client_id = ipm_str("a");
    c->has_password = true;
    c->password = ipm_str("pw");
    IPMT_VECTOR(&p, V5,
                0x10, 0x12,
                0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05,
                0x42, 0x00, 0x0A, 0x00,
                0x00, 0x01, 'a',
                0x00, 0x02, 'p', 'w');
}

/* ---- CONNACK (section 3.2) ---------------------------------------------------------- */

static void test_connack(void **state) {
    ipm_packet_t p = {.type = IPM_CONNACK};
    IPMT_VECTOR(&p, V5, 0x20, 0x03, 0x00, 0x00, 0x00);
    p.u.connack.session_present = true;
    IPMT_VECTOR(&p, V5, 0x20, 0x03, 0x01, 0x00, 0x00);
    p.u.connack.session_present = false;
    p.u.connack.reason = IPM_RC_NOT_AUTHORIZED;
    IPMT_VECTOR(&p, V5, 0x20, 0x03, 0x00, 0x87, 0x00);
}

static void test_connack_full(void **state) {
    static const ipm_prop_t props[] = {
        IPMT_PNUM(IPM_PROP_SESSION_EXPIRY_INTERVAL, 120),
        IPMT_PNUM(IPM_PROP_RECEIVE_MAXIMUM, 10),
        IPMT_PNUM(IPM_PROP_MAXIMUM_QOS, 1),
        IPMT_PNUM(IPM_PROP_RETAIN_AVAILABLE, 0),
        IPMT_PNUM(IPM_PROP_MAXIMUM_PACKET_SIZE, 4096),
        IPMT_PSTR(IPM_PROP_ASSIGNED_CLIENT_IDENTIFIER, "auto"),
        IPMT_PNUM(IPM_PROP_TOPIC_ALIAS_MAXIMUM, 5),
        IPMT_PSTR(IPM_PROP_REASON_STRING, "ok"),
        IPMT_PNUM(IPM_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE, 1),
        IPMT_PNUM(IPM_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE, 0),
        IPMT_PNUM(IPM_PROP_SHARED_SUBSCRIPTION_AVAILABLE, 1),
        IPMT_PNUM(IPM_PROP_SERVER_KEEP_ALIVE, 60),
        IPMT_PSTR(IPM_PROP_RESPONSE_INFORMATION, "r"),
        IPMT_PSTR(IPM_PROP_SERVER_REFERENCE, "s"),
        IPMT_PSTR(IPM_PROP_AUTHENTICATION_METHOD, "m"),
        IPMT_PSTR(IPM_PROP_AUTHENTICATION_DATA, "d"),
        IPMT_PPAIR("x", ""), /* an empty value is a valid string */
    };
    ipm_packet_t p = {.type = IPM_CONNACK};
    p.u.connack.session_present = true;
    p.u.connack.props = IPMT_PROPS(props);
    IPMT_VECTOR(&p, V5,
                0x20, 0x42,                       /* remaining length 66 */
                0x01, 0x00,                       /* session present, success */
                0x3F,                             /* property length 63 */
                0x11, 0x00, 0x00, 0x00, 0x78,
                0x21, 0x00, 0x0A,
                0x24, 0x01,
                0x25, 0x00,
                0x27, 0x00, 0x00, 0x10, 0x00,
                0x12, 0x00, 0x04, 'a', 'u', 't', 'o',
                0x22, 0x00, 0x05,
                0x1F, 0x00, 0x02, 'o', 'k',
                0x28, 0x01,
                0x29, 0x00,
                0x2A, 0x01,
                0x13, 0x00, 0x3C,
                0x1A, 0x00, 0x01, 'r',
                0x1C, 0x00, 0x01, 's',
                0x15, 0x00, 0x01, 'm',
                0x16, 0x00, 0x01, 'd',
                0x26, 0x00, 0x01, 'x', 0x00, 0x00);
}

/* ---- PUBLISH (section 3.3) ---------------------------------------------------------- */

static void test_publish_qos0(void **state) {
    ipm_packet_t p = {.type = IPM_PUBLISH};
    p.u.publish.topic = ipm_str("a/b");
    p.u.publish.payload = ipm_str("hi");
    IPMT_VECTOR(&p, V5, 0x30, 0x08, 0x00, 0x03, 'a', '/', 'b', 0x00, 'h', 'i');
}

static void test_publish_props(void **state) {
    static const ipm_prop_t props[] = {
        IPMT_PNUM(IPM_PROP_PAYLOAD_FORMAT_INDICATOR, 1),
        IPMT_PNUM(IPM_PROP_MESSAGE_EXPIRY_INTERVAL, 60),
        IPMT_PNUM(IPM_PROP_TOPIC_ALIAS, 7),
        IPMT_PSTR(IPM_PROP_RESPONSE_TOPIC, "r/1"),
        IPMT_PSTR(IPM_PROP_CORRELATION_DATA, "\xDE\xAD\xBE\xEF"),
        IPMT_PPAIR("k", "v1"),
        IPMT_PPAIR("k", "v2"),
        IPMT_PNUM(IPM_PROP_SUBSCRIPTION_IDENTIFIER, 128), /* two-byte varint */
        IPMT_PNUM(IPM_PROP_SUBSCRIPTION_IDENTIFIER, 5),   /* may repeat in PUBLISH */
        IPMT_PSTR(IPM_PROP_CONTENT_TYPE, "json"),
    };
    ipm_packet_t p = {.type = IPM_PUBLISH};
    p.u.publish.topic = ipm_str("t");
    p.u.publish.qos = 1;
    p.u.publish.packet_id = 1;
    p.u.publish.payload = ipm_str("{}");
    p.u.publish.props = IPMT_PROPS(props);
    IPMT_VECTOR(&p, V5,
                0x32, 0x3B,                        /* QoS 1, remaining length 59 */
                0x00, 0x01, 't',
                0x00, 0x01,                        /* packet id */
                0x33,                              /* property length 51 */
                0x01, 0x01,
                0x02, 0x00, 0x00, 0x00, 0x3C,
                0x23, 0x00, 0x07,
                0x08, 0x00, 0x03, 'r', '/', '1',
                0x09, 0x00, 0x04, 0xDE, 0xAD, 0xBE, 0xEF,
                0x26, 0x00, 0x01, 'k', 0x00, 0x02, 'v', '1',
                0x26, 0x00, 0x01, 'k', 0x00, 0x02, 'v', '2',
                0x0B, 0x80, 0x01,
                0x0B, 0x05,
                0x03, 0x00, 0x04, 'j', 's', 'o', 'n',
                '{', '}');
}

/* An empty topic is allowed with a topic alias (section 3.3.2.3.4). */
static void test_publish_alias_empty_topic(void **state) {
    static const ipm_prop_t props[] = {IPMT_PNUM(IPM_PROP_TOPIC_ALIAS, 1)};
    ipm_packet_t p = {.type = IPM_PUBLISH};
    p.u.publish.topic = ipm_str("");
    p.u.publish.payload = ipm_str("x");
    p.u.publish.props = IPMT_PROPS(props);
    IPMT_VECTOR(&p, V5, 0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01, 'x');
}

/* Subscription identifiers at the Variable Byte Integer boundaries (section 1.5.5). */
static void test_publish_subscription_id_sizes(void **state) {
    static const ipm_prop_t p16383[] = {IPMT_PNUM(IPM_PROP_SUBSCRIPTION_IDENTIFIER, 16383)};
    static const ipm_prop_t p16384[] = {IPMT_PNUM(IPM_PROP_SUBSCRIPTION_IDENTIFIER, 16384)};
    static const ipm_prop_t pmax[] = {IPMT_PNUM(IPM_PROP_SUBSCRIPTION_IDENTIFIER, 268435455)};
    ipm_packet_t p = {.type = IPM_PUBLISH};
    p.u.publish.topic = ipm_str("t");
    p.u.publish.payload = ipm_str("");
    p.u.publish.props = IPMT_PROPS(p16383);
    IPMT_VECTOR(&p, V5, 0x30, 0x07, 0x00, 0x01, 't', 0x03, 0x0B, 0xFF, 0x7F);
    p.u.publish.props = IPMT_PROPS(p16384);
    IPMT_VECTOR(&p, V5, 0x30, 0x08, 0x00, 0x01, 't', 0x04, 0x0B, 0x80, 0x80, 0x01);
    p.u.publish.props = IPMT_PROPS(pmax);
    IPMT_VECTOR(&p, V5, 0x30, 0x09, 0x00, 0x01, 't', 0x05, 0x0B, 0xFF, 0xFF, 0xFF, 0x7F);
}

/* ---- PUBACK, PUBREC, PUBREL, PUBCOMP (sections 3.4 to 3.7) ------------------------- */

static void test_acks_short(void **state) {
    /* Reason 0 and no properties: the packet identifier only (3.4.2.1). */
    ipm_packet_t p = {.type = IPM_PUBACK};
    p.u.ack.packet_id = 1;
    IPMT_VECTOR(&p, V5, 0x40, 0x02, 0x00, 0x01);
    p.type = IPM_PUBREC;
    IPMT_VECTOR(&p, V5, 0x50, 0x02, 0x00, 0x01);
    p.type = IPM_PUBREL;
    IPMT_VECTOR(&p, V5, 0x62, 0x02, 0x00, 0x01);
    p.type = IPM_PUBCOMP;
    IPMT_VECTOR(&p, V5, 0x70, 0x02, 0x00, 0x01);

    /* The same packets with an explicit reason, with and without an empty property block. */
    p.type = IPM_PUBACK;
    IPMT_DECODES_TO(&p, V5, 0x40, 0x03, 0x00, 0x01, 0x00);
    IPMT_DECODES_TO(&p, V5, 0x40, 0x04, 0x00, 0x01, 0x00, 0x00);
    p.type = IPM_PUBREL;
    IPMT_DECODES_TO(&p, V5, 0x62, 0x04, 0x00, 0x01, 0x00, 0x00);
}

/* A reason code without properties: remaining length 3, no property length (3.4.2.2.1). */
static void test_acks_reason_only(void **state) {
    ipm_packet_t p = {.type = IPM_PUBACK};
    p.u.ack.packet_id = 1;
    p.u.ack.reason = IPM_RC_NO_MATCHING_SUBSCRIBERS;
    IPMT_VECTOR(&p, V5, 0x40, 0x03, 0x00, 0x01, 0x10);
    p.type = IPM_PUBREC;
    p.u.ack.packet_id = 2;
    p.u.ack.reason = IPM_RC_UNSPECIFIED_ERROR;
    IPMT_VECTOR(&p, V5, 0x50, 0x03, 0x00, 0x02, 0x80);
    p.type = IPM_PUBREL;
    p.u.ack.packet_id = 3;
    p.u.ack.reason = IPM_RC_PACKET_IDENTIFIER_NOT_FOUND;
    IPMT_VECTOR(&p, V5, 0x62, 0x03, 0x00, 0x03, 0x92);
    IPMT_DECODES_TO(&p, V5, 0x62, 0x04, 0x00, 0x03, 0x92, 0x00);
    p.type = IPM_PUBCOMP;
    p.u.ack.packet_id = 4;
    IPMT_VECTOR(&p, V5, 0x70, 0x03, 0x00, 0x04, 0x92);
}

static void test_acks_props(void **state) {
    static const ipm_prop_t props[] = {
        IPMT_PSTR(IPM_PROP_REASON_STRING, "quota"),
        IPMT_PPAIR("a", "b"),
    };
    static const ipm_prop_t user[] = {IPMT_PPAIR("a", "b")};
    ipm_packet_t p = {.type = IPM_PUBACK};
    p.u.ack.packet_id = 7;
    p.u.ack.reason = IPM_RC_QUOTA_EXCEEDED;
    p.u.ack.props = IPMT_PROPS(props);
    IPMT_VECTOR(&p, V5,
                0x40, 0x13,                       /* remaining length 19 */
                0x00, 0x07, 0x97,                 /* packet id, quota exceeded */
                0x0F,                             /* property length 15 */
                0x1F, 0x00, 0x05, 'q', 'u', 'o', 't', 'a',
                0x26, 0x00, 0x01, 'a', 0x00, 0x01, 'b');
    p.type = IPM_PUBREC;
    IPMT_VECTOR(&p, V5, 0x50, 0x13, 0x00, 0x07, 0x97, 0x0F,
                0x1F, 0x00, 0x05, 'q', 'u', 'o', 't', 'a',
                0x26, 0x00, 0x01, 'a', 0x00, 0x01, 'b');
    /* Reason 0 with properties: the reason byte must be written. */
    p.type = IPM_PUBCOMP;
    p.u.ack.packet_id = 9;
    p.u.ack.reason = 0;
    p.u.ack.props = IPMT_PROPS(user);
    IPMT_VECTOR(&p, V5, 0x70, 0x0B, 0x00, 0x09, 0x00, 0x07,
                0x26, 0x00, 0x01, 'a', 0x00, 0x01, 'b');
    p.type = IPM_PUBREL;
    IPMT_VECTOR(&p, V5, 0x62, 0x0B, 0x00, 0x09, 0x00, 0x07,
                0x26, 0x00, 0x01, 'a', 0x00, 0x01, 'b');
}

/* ---- SUBSCRIBE / SUBACK (sections 3.8, 3.9) ------------------------------------------ */

static void test_subscribe(void **state) {
    static const ipm_prop_t props[] = {
        IPMT_PNUM(IPM_PROP_SUBSCRIPTION_IDENTIFIER, 300),
        IPMT_PPAIR("a", "b"),
    };
    static const ipm_sub_t subs[] = {
        /* QoS 1, no local, retain as published, retain handling 2 */
        {{(const uint8_t *)"a/+", 3}, 0x2D},
        {{(const uint8_t *)"$share/g/x", 10}, 0x02},
        {{(const uint8_t *)"#", 1}, 0x10}, /* retain handling 1 */
    };
    ipm_packet_t p = {.type = IPM_SUBSCRIBE};
    p.u.subscribe.packet_id = 1;
    p.u.subscribe.props = IPMT_PROPS(props);
    p.u.subscribe.subs = subs;
    p.u.subscribe.count = 3;
    IPMT_VECTOR(&p, V5,
                0x82, 0x24,                       /* remaining length 36 */
                0x00, 0x01,
                0x0A,                             /* property length 10 */
                0x0B, 0xAC, 0x02,                 /* subscription identifier 300 */
                0x26, 0x00, 0x01, 'a', 0x00, 0x01, 'b',
                0x00, 0x03, 'a', '/', '+', 0x2D,
                0x00, 0x0A, '$', 's', 'h', 'a', 'r', 'e', '/', 'g', '/', 'x', 0x02,
                0x00, 0x01, '#', 0x10);

    static const ipm_sub_t one[] = {{{(const uint8_t *)"a", 1}, 0x00}};
    ipm_packet_t q = {.type = IPM_SUBSCRIBE};
    q.u.subscribe.packet_id = 0x1234;
    q.u.subscribe.subs = one;
    q.u.subscribe.count = 1;
    IPMT_VECTOR(&q, V5, 0x82, 0x07, 0x12, 0x34, 0x00, 0x00, 0x01, 'a', 0x00);
}

static void test_suback(void **state) {
    static const uint8_t codes[] = {IPM_RC_GRANTED_QOS_0, IPM_RC_GRANTED_QOS_1,
                                    IPM_RC_GRANTED_QOS_2, IPM_RC_TOPIC_FILTER_INVALID,
                                    IPM_RC_WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED};
    static const ipm_prop_t props[] = {IPMT_PSTR(IPM_PROP_REASON_STRING, "r")};
    ipm_packet_t p = {.type = IPM_SUBACK};
    p.u.suback.packet_id = 10;
    p.u.suback.props = IPMT_PROPS(props);
    p.u.suback.reasons = codes;
    p.u.suback.count = 5;
    IPMT_VECTOR(&p, V5,
                0x90, 0x0C,
                0x00, 0x0A,
                0x04, 0x1F, 0x00, 0x01, 'r',
                0x00, 0x01, 0x02, 0x8F, 0xA2);
    p.u.suback.props = (ipm_props_t){NULL, 0, {NULL, 0}};
    p.u.suback.count = 1;
    IPMT_VECTOR(&p, V5, 0x90, 0x04, 0x00, 0x0A, 0x00, 0x00);
}

/* ---- UNSUBSCRIBE / UNSUBACK (sections 3.10, 3.11) ----------------------------------- */

static void test_unsubscribe(void **state) {
    static const ipm_prop_t props[] = {IPMT_PPAIR("a", "b")};
    static const ipm_sub_t subs[] = {{{(const uint8_t *)"a/b", 3}, 0}};
    ipm_packet_t p = {.type = IPM_UNSUBSCRIBE};
    p.u.subscribe.packet_id = 5;
    p.u.subscribe.subs = subs;
    p.u.subscribe.count = 1;
    IPMT_VECTOR(&p, V5, 0xA2, 0x08, 0x00, 0x05, 0x00, 0x00, 0x03, 'a', '/', 'b');
    p.u.subscribe.props = IPMT_PROPS(props);
    IPMT_VECTOR(&p, V5,
                0xA2, 0x0F,
                0x00, 0x05,
                0x07, 0x26, 0x00, 0x01, 'a', 0x00, 0x01, 'b',
                0x00, 0x03, 'a', '/', 'b');
}

static void test_unsuback(void **state) {
    static const uint8_t one[] = {IPM_RC_NO_SUBSCRIPTION_EXISTED};
    static const uint8_t many[] = {0x87, 0x8F, 0x91, 0x80, 0x83};
    static const ipm_prop_t props[] = {IPMT_PSTR(IPM_PROP_REASON_STRING, "x")};
    ipm_packet_t p = {.type = IPM_UNSUBACK};
    p.u.suback.packet_id = 5;
    p.u.suback.reasons = one;
    p.u.suback.count = 1;
    IPMT_VECTOR(&p, V5, 0xB0, 0x04, 0x00, 0x05, 0x00, 0x11);
    p.u.suback.reasons = many;
    p.u.suback.count = 5;
    p.u.suback.props = IPMT_PROPS(props);
    IPMT_VECTOR(&p, V5,
                0xB0, 0x0C,
                0x00, 0x05,
                0x04, 0x1F, 0x00, 0x01, 'x',
                0x87, 0x8F, 0x91, 0x80, 0x83);
}

/* ---- PINGREQ, PINGRESP (sections 3.12, 3.13) ----------------------------------------- */

static void test_ping(void **state) {
    ipm_packet_t p = {.type = IPM_PINGREQ};
    IPMT_VECTOR(&p, V5, 0xC0, 0x00);
    p.type = IPM_PINGRESP;
    IPMT_VECTOR(&p, V5, 0xD0, 0x00);
}

/* ---- DISCONNECT (section 3.14) -------------------------------------------------------- */

static void test_disconnect(void **state) {
    static const ipm_prop_t with_will[] = {
        IPMT_PNUM(IPM_PROP_SESSION_EXPIRY_INTERVAL, 10),
        IPMT_PPAIR("a", "b"),
    };
    static const ipm_prop_t moved[] = {
        IPMT_PSTR(IPM_PROP_SERVER_REFERENCE, "h:1"),
        IPMT_PSTR(IPM_PROP_REASON_STRING, "bye"),
    };
    static const ipm_prop_t user[] = {IPMT_PPAIR("a", "b")};
    ipm_packet_t p = {.type = IPM_DISCONNECT};
    /* Normal disconnection without properties: remaining length 0 (3.14.2.1). */
    IPMT_VECTOR(&p, V5, 0xE0, 0x00);
    IPMT_DECODES_TO(&p, V5, 0xE0, 0x01, 0x00);
    IPMT_DECODES_TO(&p, V5, 0xE0, 0x02, 0x00, 0x00);
    /* A reason without properties: remaining length 1, no property length. */
    p.u.disconnect.reason = IPM_RC_DISCONNECT_WITH_WILL_MESSAGE;
    IPMT_VECTOR(&p, V5, 0xE0, 0x01, 0x04);
    p.u.disconnect.props = IPMT_PROPS(with_will);
    IPMT_VECTOR(&p, V5,
                0xE0, 0x0E,
                0x04, 0x0C,
                0x11, 0x00, 0x00, 0x00, 0x0A,
                0x26, 0x00, 0x01, 'a', 0x00, 0x01, 'b');
    p.u.disconnect.reason = IPM_RC_USE_ANOTHER_SERVER;
    p.u.disconnect.props = IPMT_PROPS(moved);
    IPMT_VECTOR(&p, V5,
                0xE0, 0x0E,
                0x9C, 0x0C,
                0x1C, 0x00, 0x03, 'h', ':', '1',
                0x1F, 0x00, 0x03, 'b', 'y', 'e');
    p.u.disconnect.reason = 0;
    p.u.disconnect.props = IPMT_PROPS(user);
    IPMT_VECTOR(&p, V5, 0xE0, 0x09, 0x00, 0x07, 0x26, 0x00, 0x01, 'a', 0x00, 0x01, 'b');
}

/* ---- AUTH (section 3.15) ---------------------------------------------------------------- */

static void test_auth(void **state) {
    static const ipm_prop_t cont[] = {
        IPMT_PSTR(IPM_PROP_AUTHENTICATION_METHOD, "SCRAM"),
        IPMT_PSTR(IPM_PROP_AUTHENTICATION_DATA, "\x01\x02"),
    };
    static const ipm_prop_t reauth[] = {
        IPMT_PSTR(IPM_PROP_AUTHENTICATION_METHOD, "SCRAM"),
        IPMT_PSTR(IPM_PROP_REASON_STRING, "re"),
        IPMT_PPAIR("a", "b"),
    };
    static const ipm_prop_t success[] = {IPMT_PSTR(IPM_PROP_AUTHENTICATION_METHOD, "SCRAM")};
    ipm_packet_t p = {.type = IPM_AUTH};
    /* Success without properties: remaining length 0 (3.15.2.1). */
    IPMT_VECTOR(&p, V5, 0xF0, 0x00);
    IPMT_DECODES_TO(&p, V5, 0xF0, 0x02, 0x00, 0x00);
    p.u.disconnect.reason = IPM_RC_CONTINUE_AUTHENTICATION;
    p.u.disconnect.props = IPMT_PROPS(cont);
    IPMT_VECTOR(&p, V5,
                0xF0, 0x0F,
                0x18, 0x0D,
                0x15, 0x00, 0x05, 'S', 'C', 'R', 'A', 'M',
                0x16, 0x00, 0x02, 0x01, 0x02);
    p.u.disconnect.reason = IPM_RC_REAUTHENTICATE;
    p.u.disconnect.props = IPMT_PROPS(reauth);
    IPMT_VECTOR(&p, V5,
                0xF0, 0x16,
                0x19, 0x14,
                0x15, 0x00, 0x05, 'S', 'C', 'R', 'A', 'M',
                0x1F, 0x00, 0x02, 'r', 'e',
                0x26, 0x00, 0x01, 'a', 0x00, 0x01, 'b');
    p.u.disconnect.reason = IPM_RC_SUCCESS;
    p.u.disconnect.props = IPMT_PROPS(success);
    IPMT_VECTOR(&p, V5, 0xF0, 0x0A, 0x00, 0x08, 0x15, 0x00, 0x05, 'S', 'C', 'R', 'A', 'M');
}

/* Properties given as an already-encoded block are written verbatim. */
static void test_raw_props_block(void **state) {
    static const uint8_t block[] = {0x1F, 0x00, 0x02, 'o', 'k'};
    ipm_packet_t p = {.type = IPM_PUBACK};
    p.u.ack.packet_id = 3;
    p.u.ack.reason = IPM_RC_UNSPECIFIED_ERROR;
    p.u.ack.props.raw = ipmt_bytes(block, sizeof block);
    p.u.ack.props.count = 1;
    IPMT_VECTOR(&p, V5, 0x40, 0x09, 0x00, 0x03, 0x80, 0x05, 0x1F, 0x00, 0x02, 'o', 'k');
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_minimal),
        cmocka_unit_test(test_connect_full),
        cmocka_unit_test(test_connect_password_only),
        cmocka_unit_test(test_connack),
        cmocka_unit_test(test_connack_full),
        cmocka_unit_test(test_publish_qos0),
        cmocka_unit_test(test_publish_props),
        cmocka_unit_test(test_publish_alias_empty_topic),
        cmocka_unit_test(test_publish_subscription_id_sizes),
        cmocka_unit_test(test_acks_short),
        cmocka_unit_test(test_acks_reason_only),
        cmocka_unit_test(test_acks_props),
        cmocka_unit_test(test_subscribe),
        cmocka_unit_test(test_suback),
        cmocka_unit_test(test_unsubscribe),
        cmocka_unit_test(test_unsuback),
        cmocka_unit_test(test_ping),
        cmocka_unit_test(test_disconnect),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_raw_props_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
