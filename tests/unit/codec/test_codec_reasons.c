/*
 * test_codec_reasons.c - the reason code table (IPM_REASON_MAP) against the 5.0
 * specification: which packets may carry which code (Table 2-6 of section 2.4, and the
 * per-packet lists of sections 3.2.2.2 to 3.15.2.1), what the decoder accepts, and the
 * 3.x CONNACK return code of every code a CONNACK may carry.
 */
#include "codec_test.h"

/* Written from the specification, not from the header. */
typedef struct {
    uint8_t type;
    const char *name;
    const uint8_t *codes;
    size_t count;
} spec_packet_t;

static const uint8_t connack[] = {0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86,
                                  0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97,
                                  0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F};
static const uint8_t puback[] = {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99};
static const uint8_t pubrel[] = {0x00, 0x92};
static const uint8_t suback[] = {0x00, 0x01, 0x02, 0x80, 0x83, 0x87,
                                 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2};
static const uint8_t unsuback[] = {0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91};
/* Section 3.14.2.1 leaves out 0x8C, which Table 2-6 gives DISCONNECT too: a failed
 * re-authentication (4.12.1) may end with it. The table wins here. */
static const uint8_t disconnect[] = {0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89,
                                     0x8B, 0x8C, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94,
                                     0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C,
                                     0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2};
static const uint8_t auth[] = {0x00, 0x18, 0x19};

#define PKT(t, list) {t, #t, list, IPMT_ARRAY_LEN(list)}
static const spec_packet_t packets[] = {
    PKT(IPM_CONNACK, connack),   PKT(IPM_PUBACK, puback),         PKT(IPM_PUBREC, puback),
    PKT(IPM_PUBREL, pubrel),     PKT(IPM_PUBCOMP, pubrel),        PKT(IPM_SUBACK, suback),
    PKT(IPM_UNSUBACK, unsuback), PKT(IPM_DISCONNECT, disconnect), PKT(IPM_AUTH, auth),
};

static bool spec_allows(const spec_packet_t *p, unsigned code) {
    for (size_t i = 0; i < p->count; i++) {
        if (p->codes[i] == code) {
            return true;
        }
    }
    return false;
}

typedef struct {
    uint8_t code;
    const char *c_name, *spec_name;
    unsigned v3, in;
} row_t;

static const row_t rows[] = {
#define ROW(code, name, spec, v3, in) {code, #name, spec, v3, in},
    IPM_REASON_MAP(ROW)
#undef ROW
};

/* Every row is named, the constants are the rows' codes, and the codes are those of 2.4. */
static void test_rows_named(void **state) {
    assert_int_equal(IPMT_ARRAY_LEN(rows), 45); /* 43 codes, three rows for 0x00 */
    for (size_t i = 0; i < IPMT_ARRAY_LEN(rows); i++) {
        assert_true(rows[i].c_name[0] != '\0');
        assert_true(strlen(rows[i].spec_name) > 5);
        /* Rows ascend by code (0x00's three rows together). */
        if (i > 0) {
            assert_true(rows[i].code >= rows[i - 1].code);
        }
    }
#define SAME(code, name, spec, v3, in) assert_int_equal(IPM_RC_##name, code);
    IPM_REASON_MAP(SAME)
#undef SAME
    assert_int_equal(IPM_RC_NOT_AUTHORIZED, 0x87);
    assert_int_equal(IPM_RC_REAUTHENTICATE, 0x19);
    assert_int_equal(IPM_RC_WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED, 0xA2);
}

/* Each row's packet set is exactly the packets whose section lists the code. */
static void test_packet_sets(void **state) {
    for (size_t p = 0; p < IPMT_ARRAY_LEN(packets); p++) {
        /* Every code a packet may carry has a row that says so... */
        for (size_t c = 0; c < packets[p].count; c++) {
            bool found = false;
            for (size_t i = 0; i < IPMT_ARRAY_LEN(rows); i++) {
                found |= rows[i].code == packets[p].codes[c] &&
                         (rows[i].in >> packets[p].type & 1);
            }
            if (!found) {
                fail_msg("%s: code 0x%02X has no row", packets[p].name, packets[p].codes[c]);
            }
        }
        /* ...and no row gives a packet a code its section leaves out. */
        for (size_t i = 0; i < IPMT_ARRAY_LEN(rows); i++) {
            if ((rows[i].in >> packets[p].type & 1) && !spec_allows(&packets[p], rows[i].code)) {
                fail_msg("%s: row %s gives it 0x%02X", packets[p].name, rows[i].c_name,
                         rows[i].code);
            }
        }
    }
    /* Only the nine packets with reason codes appear in a set. */
    unsigned all = 0;
    for (size_t i = 0; i < IPMT_ARRAY_LEN(rows); i++) {
        all |= rows[i].in;
    }
    unsigned nine = 0;
    for (size_t p = 0; p < IPMT_ARRAY_LEN(packets); p++) {
        nine |= 1u << packets[p].type;
    }
    assert_int_equal(all, nine);
}

/* One 5.0 packet of `type` carrying `code`, decoded; IPM_OK or the error. */
static int decode_with(uint8_t type, uint8_t code) {
    uint8_t buf[8];
    size_t n = 0;
    buf[n++] = (uint8_t)(type << 4 | (type == IPM_PUBREL ? 2 : 0));
    switch (type) {
    case IPM_CONNACK: /* flags, reason, no properties */
        buf[n++] = 3, buf[n++] = 0, buf[n++] = code, buf[n++] = 0;
        break;
    case IPM_SUBACK:
    case IPM_UNSUBACK: /* packet id, no properties, one reason */
        buf[n++] = 4, buf[n++] = 0, buf[n++] = 1, buf[n++] = 0, buf[n++] = code;
        break;
    case IPM_DISCONNECT:
    case IPM_AUTH: /* reason, no properties */
        buf[n++] = 2, buf[n++] = code, buf[n++] = 0;
        break;
    default: /* PUBACK, PUBREC, PUBREL, PUBCOMP: packet id, reason */
        buf[n++] = 3, buf[n++] = 0, buf[n++] = 1, buf[n++] = code;
        break;
    }
    ipm_frame_t f;
    assert_int_equal(ipm_frame(buf, n, 0, &f), IPM_OK);
    ipm_packet_t pkt;
    return ipm_decode(&f, buf, IPM_PROTO_V5, &pkt);
}

/* The decoder accepts exactly the codes each packet's section lists, of all 256 bytes. */
static void test_decode_accepts_the_spec(void **state) {
    for (size_t p = 0; p < IPMT_ARRAY_LEN(packets); p++) {
        for (unsigned code = 0; code < 256; code++) {
            int rc = decode_with(packets[p].type, (uint8_t)code);
            int want = spec_allows(&packets[p], code) ? IPM_OK : IPM_EBAD_REASON;
            if (rc != want) {
                fail_msg("%s with 0x%02X: %s, expected %s", packets[p].name, code,
                         ipm_err_name(rc), ipm_err_name(want));
            }
        }
    }
}

/* Every code a CONNACK may carry has a 3.x return code; the named ones as 3.1.1 reads. */
static void test_connack3_total(void **state) {
    for (size_t c = 0; c < IPMT_ARRAY_LEN(connack); c++) {
        uint8_t code = connack[c];
        uint8_t v3 = ipm_reason_connack3(code);
        assert_true(v3 <= IPM_CONNACK_REFUSED_NOT_AUTHORIZED);
        assert_int_equal(v3 == IPM_CONNACK_ACCEPTED, code == IPM_RC_SUCCESS);
        for (size_t i = 0; i < IPMT_ARRAY_LEN(rows); i++) {
            if (rows[i].code == code && (rows[i].in >> IPM_CONNACK & 1)) {
                assert_int_equal(rows[i].v3, v3);
            }
        }
    }
    /* Rows a CONNACK cannot carry have no 3.x code. */
    for (size_t i = 0; i < IPMT_ARRAY_LEN(rows); i++) {
        assert_int_equal(rows[i].v3 == IPM_NO_3X, !(rows[i].in >> IPM_CONNACK & 1));
    }
    assert_int_equal(ipm_reason_connack3(IPM_RC_UNSUPPORTED_PROTOCOL_VERSION),
                     IPM_CONNACK_REFUSED_PROTOCOL_VERSION);
    assert_int_equal(ipm_reason_connack3(IPM_RC_CLIENT_IDENTIFIER_NOT_VALID),
                     IPM_CONNACK_REFUSED_IDENTIFIER_REJECTED);
    assert_int_equal(ipm_reason_connack3(IPM_RC_BAD_USER_NAME_OR_PASSWORD),
                     IPM_CONNACK_REFUSED_BAD_USERNAME_PASSWORD);
    assert_int_equal(ipm_reason_connack3(IPM_RC_NOT_AUTHORIZED),
                     IPM_CONNACK_REFUSED_NOT_AUTHORIZED);
    assert_int_equal(ipm_reason_connack3(IPM_RC_BANNED), IPM_CONNACK_REFUSED_NOT_AUTHORIZED);
    assert_int_equal(ipm_reason_connack3(IPM_RC_BAD_AUTHENTICATION_METHOD),
                     IPM_CONNACK_REFUSED_NOT_AUTHORIZED);
    assert_int_equal(ipm_reason_connack3(IPM_RC_SERVER_UNAVAILABLE),
                     IPM_CONNACK_REFUSED_SERVER_UNAVAILABLE);
    assert_int_equal(ipm_reason_connack3(IPM_RC_SERVER_BUSY),
                     IPM_CONNACK_REFUSED_SERVER_UNAVAILABLE);
    assert_int_equal(ipm_reason_connack3(IPM_RC_MALFORMED_PACKET),
                     IPM_CONNACK_REFUSED_SERVER_UNAVAILABLE);
    /* A code no CONNACK carries still refuses. */
    assert_int_equal(ipm_reason_connack3(IPM_RC_SESSION_TAKEN_OVER),
                     IPM_CONNACK_REFUSED_SERVER_UNAVAILABLE);
    assert_int_equal(ipm_reason_connack3(0x7F), IPM_CONNACK_REFUSED_SERVER_UNAVAILABLE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_named),
        cmocka_unit_test(test_packet_sets),
        cmocka_unit_test(test_decode_accepts_the_spec),
        cmocka_unit_test(test_connack3_total),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
