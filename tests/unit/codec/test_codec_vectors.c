/*
 * test_codec_vectors.c - byte-exact vectors of every MQTT 3.1 and 3.1.1 packet.
 *
 * Each expected byte string is written by hand from the field layouts of the MQTT 3.1
 * specification (protocol name "MQIsdp", level 3) and of MQTT 3.1.1 (OASIS standard,
 * chapter 3), with a comment per field. ipmt_check_vector() checks size, encoding,
 * framing, decoding and re-encoding of each.
 */
#include "codec_test.h"

static const uint8_t versions3x[] = {IPM_PROTO_V31, IPM_PROTO_V311};

/* ---- CONNECT (3.1.1 section 3.1, 3.1 "CONNECT") ---------------------------------- */

static void test_connect_v311_minimal(void **state) {
    ipm_packet_t p = {.type = IPM_CONNECT};
    p.u.connect.version = IPM_PROTO_V311;
    p.u.connect.clean_start = true;
    p.u.connect.keepalive = 60;
    p.u.connect.client_id = ipm_str("abc");
    IPMT_VECTOR(&p, IPM_PROTO_V311,
                0x10, 0x0F,                         /* CONNECT, remaining length 15 */
                0x00, 0x04, 'M', 'Q', 'T', 'T',     /* protocol name */
                0x04,                               /* level 4 */
                0x02,                               /* clean session */
                0x00, 0x3C,                         /* keep alive 60 */
                0x00, 0x03, 'a', 'b', 'c');         /* client id */
}

static void test_connect_v31_minimal(void **state) {
    ipm_packet_t p = {.type = IPM_CONNECT};
    p.u.connect.version = IPM_PROTO_V31;
    p.u.connect.clean_start = true;
    p.u.connect.keepalive = 60;
    p.u.connect.client_id = ipm_str("abc");
    IPMT_VECTOR(&p, IPM_PROTO_V31,
                0x10, 0x11,                                   /* remaining length 17 */
                0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p',     /* 3.1 protocol name */
                0x03,                                         /* level 3 */
                0x02, 0x00, 0x3C,                             /* clean session, 60 s */
                0x00, 0x03, 'a', 'b', 'c');
}

/* Will QoS 1 with retain, user name and a binary password; persistent session. */
static void test_connect_v311_full(void **state) {
    static const uint8_t pw[] = {0x00, 0xFF};
    ipm_packet_t p = {.type = IPM_CONNECT};
    ipm_connect_t *c = &p.u.connect;
    c->version = IPM_PROTO_V311;
    c->keepalive = 300;
    c->client_id = ipm_str("c1");
    c->will = true;
    c->will_qos = 1;
    c->will_retain = true;
    c->will_topic = ipm_str("w/t");
    c->will_payload = ipm_str("bye");
    c->has_username = c->has_password = true;
    c->username = ipm_str("user");
    c->password = ipmt_bytes(pw, sizeof pw);
    IPMT_VECTOR(&p, IPM_PROTO_V311,
                0x10, 0x22,                     /* remaining length 34 */
                0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04,
                0xEC,                           /* user, password, will retain, QoS 1, will */
                0x01, 0x2C,                     /* keep alive 300 */
                0x00, 0x02, 'c', '1',           /* client id */
                0x00, 0x03, 'w', '/', 't',      /* will topic */
                0x00, 0x03, 'b', 'y', 'e',      /* will message */
                0x00, 0x04, 'u', 's', 'e', 'r', /* user name */
                0x00, 0x02, 0x00, 0xFF);        /* password (binary) */
}

static void test_connect_v31_full(void **state) {
    ipm_packet_t p = {.type = IPM_CONNECT};
    ipm_connect_t *c = &p.u.connect;
    c->version = IPM_PROTO_V31;
    c->clean_start = true;
    c->keepalive = 10;
    c->client_id = ipm_str("id");
    c->will = true;
    c->will_qos = 2;
    c->will_topic = ipm_str("w");
    c->will_payload = ipm_str("x");
    c->has_username = c->has_password = true;
    c->username = ipm_str("u");
    c->password = ipm_str("p");
    IPMT_VECTOR(&p, IPM_PROTO_V31,
                0x10, 0x1C,                                   /* remaining length 28 */
                0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', 0x03,
                0xD6,                                         /* user, password, QoS 2, will, clean */
                0x00, 0x0A,
                0x00, 0x02, 'i', 'd',
                0x00, 0x01, 'w',
                0x00, 0x01, 'x',
                0x00, 0x01, 'u',
                0x00, 0x01, 'p');
}

/* A zero-byte client id with clean session is allowed in 3.1.1 (MQTT-3.1.3-6). */
static void test_connect_v311_empty_id_username_only(void **state) {
    ipm_packet_t p = {.type = IPM_CONNECT};
    ipm_connect_t *c = &p.u.connect;
    c->version = IPM_PROTO_V311;
    c->clean_start = true;
    c->client_id = ipm_str("");
    c->has_username = true;
    c->username = ipm_str("\xc3\xa9"); /* U+00E9 as two bytes */
    IPMT_VECTOR(&p, IPM_PROTO_V311,
                0x10, 0x10,
                0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04,
                0x82,                   /* user name, clean session */
                0x00, 0x00,             /* keep alive off */
                0x00, 0x00,             /* empty client id */
                0x00, 0x02, 0xC3, 0xA9);
}

/* Will QoS 2 without retain, empty will message. */
static void test_connect_v311_will_qos2(void **state) {
    ipm_packet_t p = {.type = IPM_CONNECT};
    ipm_connect_t *c = &p.u.connect;
    c->version = IPM_PROTO_V311;
    c->client_id = ipm_str("x");
    c->keepalive = 0xFFFF;
    c->will = true;
    c->will_qos = 2;
    c->will_topic = ipm_str("$SYS/w");
    c->will_payload = ipm_str("");
    IPMT_VECTOR(&p, IPM_PROTO_V311,
                0x10, 0x17,
                0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04,
                0x14,                   /* will QoS 2, will flag */
                0xFF, 0xFF,
                0x00, 0x01, 'x',
                0x00, 0x06, '$', 'S', 'Y', 'S', '/', 'w',
                0x00, 0x00);
}

/* ---- CONNACK ------------------------------------------------------------------------ */

static void test_connack(void **state) {
    ipm_packet_t p = {.type = IPM_CONNACK};
    for (size_t i = 0; i < IPMT_ARRAY_LEN(versions3x); i++) {
        p.u.connack.session_present = false;
        p.u.connack.reason = IPM_CONNACK_ACCEPTED;
        IPMT_VECTOR(&p, versions3x[i], 0x20, 0x02, 0x00, 0x00);
        p.u.connack.reason = IPM_CONNACK_REFUSED_IDENTIFIER_REJECTED;
        IPMT_VECTOR(&p, versions3x[i], 0x20, 0x02, 0x00, 0x02);
        p.u.connack.reason = IPM_CONNACK_REFUSED_NOT_AUTHORIZED;
        IPMT_VECTOR(&p, versions3x[i], 0x20, 0x02, 0x00, 0x05);
    }
    /* Session present exists from 3.1.1 on (section 3.2.2.2). */
    p.u.connack.session_present = true;
    p.u.connack.reason = IPM_CONNACK_ACCEPTED;
    IPMT_VECTOR(&p, IPM_PROTO_V311, 0x20, 0x02, 0x01, 0x00);
}

/* ---- PUBLISH ------------------------------------------------------------------------ */

static void test_publish(void **state) {
    for (size_t i = 0; i < IPMT_ARRAY_LEN(versions3x); i++) {
        uint8_t v = versions3x[i];
        ipm_packet_t p = {.type = IPM_PUBLISH};
        p.u.publish.topic = ipm_str("a/b");
        p.u.publish.payload = ipm_str("hi");
        /* QoS 0: no packet identifier. */
        IPMT_VECTOR(&p, v, 0x30, 0x07, 0x00, 0x03, 'a', '/', 'b', 'h', 'i');

        /* QoS 1, DUP and RETAIN: flags 1011. */
        p.u.publish.qos = 1;
        p.u.publish.dup = true;
        p.u.publish.retain = true;
        p.u.publish.packet_id = 10;
        IPMT_VECTOR(&p, v, 0x3B, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0A, 'h', 'i');

        /* QoS 2, empty payload, the largest packet id. */
        p.u.publish.qos = 2;
        p.u.publish.dup = false;
        p.u.publish.retain = false;
        p.u.publish.packet_id = 0xFFFF;
        p.u.publish.payload = ipm_str("");
        IPMT_VECTOR(&p, v, 0x34, 0x07, 0x00, 0x03, 'a', '/', 'b', 0xFF, 0xFF);

        /* A payload is bytes, not a string: NUL and 0xFF are fine. */
        static const uint8_t bin[] = {0x00, 0xFF, 0x00};
        p.u.publish.qos = 0;
        p.u.publish.retain = true;
        p.u.publish.topic = ipm_str("/");
        p.u.publish.payload = ipmt_bytes(bin, sizeof bin);
        IPMT_VECTOR(&p, v, 0x31, 0x06, 0x00, 0x01, '/', 0x00, 0xFF, 0x00);
    }
}

/* 200 bytes of payload need a two-byte remaining length: 205 = 0xCD 0x01. */
static void test_publish_two_byte_length(void **state) {
    uint8_t payload[200];
    uint8_t expect[3 + 5 + 200] = {0x30, 0xCD, 0x01, 0x00, 0x03, 'a', '/', 'b'};
    for (size_t i = 0; i < sizeof payload; i++) {
        payload[i] = (uint8_t)(i * 7);
        expect[8 + i] = payload[i];
    }
    ipm_packet_t p = {.type = IPM_PUBLISH};
    p.u.publish.topic = ipm_str("a/b");
    p.u.publish.payload = ipmt_bytes(payload, sizeof payload);
    ipmt_check_vector(&p, IPM_PROTO_V311, expect, sizeof expect, __FILE__, __LINE__);
}

/* ---- PUBACK, PUBREC, PUBREL, PUBCOMP: the packet identifier only ------------------- */

static void test_acks(void **state) {
    for (size_t i = 0; i < IPMT_ARRAY_LEN(versions3x); i++) {
        uint8_t v = versions3x[i];
        ipm_packet_t p = {.type = IPM_PUBACK};
        p.u.ack.packet_id = 1;
        IPMT_VECTOR(&p, v, 0x40, 0x02, 0x00, 0x01);
        p.type = IPM_PUBREC;
        p.u.ack.packet_id = 0x0102;
        IPMT_VECTOR(&p, v, 0x50, 0x02, 0x01, 0x02);
        /* PUBREL has fixed header flags 0010 (3.1.1 section 3.6.1). */
        p.type = IPM_PUBREL;
        p.u.ack.packet_id = 0x7FFF;
        IPMT_VECTOR(&p, v, 0x62, 0x02, 0x7F, 0xFF);
        p.type = IPM_PUBCOMP;
        p.u.ack.packet_id = 0xFFFF;
        IPMT_VECTOR(&p, v, 0x70, 0x02, 0xFF, 0xFF);
    }
}

/* ---- SUBSCRIBE / SUBACK ------------------------------------------------------------- */

static void test_subscribe(void **state) {
    static const ipm_sub_t subs[] = {
        {{(const uint8_t *)"a/b", 3}, 1},
        {{(const uint8_t *)"c/#", 3}, 2},
    };
    static const ipm_sub_t one[] = {{{(const uint8_t *)"+", 1}, 0}};
    for (size_t i = 0; i < IPMT_ARRAY_LEN(versions3x); i++) {
        uint8_t v = versions3x[i];
        ipm_packet_t p = {.type = IPM_SUBSCRIBE};
        p.u.subscribe.packet_id = 10;
        p.u.subscribe.subs = subs;
        p.u.subscribe.count = 2;
        IPMT_VECTOR(&p, v,
                    0x82, 0x0E,                          /* flags 0010, length 14 */
                    0x00, 0x0A,                          /* packet id */
                    0x00, 0x03, 'a', '/', 'b', 0x01,     /* filter, requested QoS 1 */
                    0x00, 0x03, 'c', '/', '#', 0x02);    /* filter, requested QoS 2 */
        p.u.subscribe.subs = one;
        p.u.subscribe.count = 1;
        p.u.subscribe.packet_id = 1;
        IPMT_VECTOR(&p, v, 0x82, 0x06, 0x00, 0x01, 0x00, 0x01, '+', 0x00);
    }
}

static void test_suback(void **state) {
    static const uint8_t v311[] = {0x01, 0x02, IPM_SUBACK_FAILURE};
    static const uint8_t v31[] = {0x00, 0x01};
    ipm_packet_t p = {.type = IPM_SUBACK};
    p.u.suback.packet_id = 10;
    p.u.suback.reasons = v311;
    p.u.suback.count = 3;
    IPMT_VECTOR(&p, IPM_PROTO_V311, 0x90, 0x05, 0x00, 0x0A, 0x01, 0x02, 0x80);
    /* 3.1 grants a QoS per topic and has no failure code. */
    p.u.suback.reasons = v31;
    p.u.suback.count = 2;
    IPMT_VECTOR(&p, IPM_PROTO_V31, 0x90, 0x04, 0x00, 0x0A, 0x00, 0x01);
}

/* ---- UNSUBSCRIBE / UNSUBACK --------------------------------------------------------- */

static void test_unsubscribe(void **state) {
    static const ipm_sub_t subs[] = {
        {{(const uint8_t *)"a/b", 3}, 0},
        {{(const uint8_t *)"c/#", 3}, 0},
    };
    for (size_t i = 0; i < IPMT_ARRAY_LEN(versions3x); i++) {
        ipm_packet_t p = {.type = IPM_UNSUBSCRIBE};
        p.u.subscribe.packet_id = 5;
        p.u.subscribe.subs = subs;
        p.u.subscribe.count = 2;
        IPMT_VECTOR(&p, versions3x[i],
                    0xA2, 0x0C,                    /* flags 0010, length 12 */
                    0x00, 0x05,
                    0x00, 0x03, 'a', '/', 'b',     /* no options byte after a filter */
                    0x00, 0x03, 'c', '/', '#');
    }
}

static void test_unsuback(void **state) {
    for (size_t i = 0; i < IPMT_ARRAY_LEN(versions3x); i++) {
        ipm_packet_t p = {.type = IPM_UNSUBACK};
        p.u.suback.packet_id = 5;
        IPMT_VECTOR(&p, versions3x[i], 0xB0, 0x02, 0x00, 0x05);
    }
}

/* ---- PINGREQ, PINGRESP, DISCONNECT: fixed header only -------------------------------- */

static void test_fixed_header_only(void **state) {
    for (size_t i = 0; i < IPMT_ARRAY_LEN(versions3x); i++) {
        ipm_packet_t p = {.type = IPM_PINGREQ};
        IPMT_VECTOR(&p, versions3x[i], 0xC0, 0x00);
        p.type = IPM_PINGRESP;
        IPMT_VECTOR(&p, versions3x[i], 0xD0, 0x00);
        p.type = IPM_DISCONNECT;
        IPMT_VECTOR(&p, versions3x[i], 0xE0, 0x00);
    }
}

/* AUTH does not exist before 5.0: type 15 is reserved there (3.1.1 table 2.1). */
static void test_auth_not_in_3x(void **state) {
    for (size_t i = 0; i < IPMT_ARRAY_LEN(versions3x); i++) {
        ipm_packet_t p = {.type = IPM_AUTH};
        uint8_t buf[16];
        assert_true(ipm_packet_size(&p, versions3x[i]) < 0);
        assert_true(ipm_encode(&p, versions3x[i], buf, sizeof buf) < 0);
        IPMT_EXPECT_DECODE(versions3x[i], IPM_EBAD_TYPE, 0xF0, 0x00);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_v311_minimal),
        cmocka_unit_test(test_connect_v31_minimal),
        cmocka_unit_test(test_connect_v311_full),
        cmocka_unit_test(test_connect_v31_full),
        cmocka_unit_test(test_connect_v311_empty_id_username_only),
        cmocka_unit_test(test_connect_v311_will_qos2),
        cmocka_unit_test(test_connack),
        cmocka_unit_test(test_publish),
        cmocka_unit_test(test_publish_two_byte_length),
        cmocka_unit_test(test_acks),
        cmocka_unit_test(test_subscribe),
        cmocka_unit_test(test_suback),
        cmocka_unit_test(test_unsubscribe),
        cmocka_unit_test(test_unsuback),
        cmocka_unit_test(test_fixed_header_only),
        cmocka_unit_test(test_auth_not_in_3x),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
