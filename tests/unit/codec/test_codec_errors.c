/*
 * test_codec_errors.c - error names, messages, and the one mapping from errors to the
 * 5.0 reason codes a server sends (5.0 section 2.4 and the "Malformed Packet" / "Protocol
 * Error" wording of each rule).
 */
#include "codec_test.h"

/* Names and messages come from the same list as the enum, so they can never drift. */
static void test_names_and_messages(void **state) {
    int count = 0;
#define CHECK(name, msg)                                                                    \
    assert_string_equal(ipm_err_name(IPM_E##name), "IPM_E" #name);                          \
    assert_string_equal(ipm_strerror(IPM_E##name), msg);                                    \
    assert_true(IPM_E##name < 0);                                                           \
    count++;
    IPM_ERR_MAP(CHECK)
#undef CHECK
    assert_true(count > 20);
    assert_string_equal(ipm_err_name(IPM_OK), "IPM_OK");
    assert_non_null(ipm_strerror(IPM_OK));
    /* Unknown values still give a string. */
    assert_non_null(ipm_err_name(12345));
    assert_non_null(ipm_err_name(-12345));
    assert_non_null(ipm_strerror(-12345));
    assert_non_null(ipm_err_name(IPM__ERR_LAST));
}

/* Every error is distinct. */
static void test_distinct(void **state) {
    static const int all[] = {
#define ALL(name, msg) IPM_E##name,
        IPM_ERR_MAP(ALL)
#undef ALL
    };
    for (size_t i = 0; i < IPMT_ARRAY_LEN(all); i++) {
        for (size_t j = i + 1; j < IPMT_ARRAY_LEN(all); j++) {
            assert_int_not_equal(all[i], all[j]);
        }
    }
}

static void test_reason_codes(void **state) {
    /* The ones codec.h names. */
    assert_int_equal(ipm_err_reason(IPM_EMALFORMED), IPM_RC_MALFORMED_PACKET);
    assert_int_equal(ipm_err_reason(IPM_EPROTOCOL), IPM_RC_PROTOCOL_ERROR);
    assert_int_equal(ipm_err_reason(IPM_EBAD_VERSION), IPM_RC_UNSUPPORTED_PROTOCOL_VERSION);
    assert_int_equal(ipm_err_reason(IPM_EBAD_CLIENT_ID), IPM_RC_CLIENT_IDENTIFIER_NOT_VALID);
    assert_int_equal(ipm_err_reason(IPM_EBAD_FILTER), IPM_RC_TOPIC_FILTER_INVALID);
    assert_int_equal(ipm_err_reason(IPM_EBAD_TOPIC), IPM_RC_TOPIC_NAME_INVALID);
    assert_int_equal(ipm_err_reason(IPM_ETOO_LARGE), IPM_RC_PACKET_TOO_LARGE);
    assert_int_equal(ipm_err_reason(IPM_EQUOTA), IPM_RC_QUOTA_EXCEEDED);
    /* The specification calls these "Malformed Packet": a varint over four bytes (1.5.5),
     * lengths past the end or left over (4.13), reserved types and flags (2.1.2, 2.1.3),
     * ill-formed UTF-8 (1.5.4), QoS 3 (3.3.1.2), reserved CONNECT flag (3.1.2.3). */
    static const int malformed[] = {
        IPM_EBAD_VARINT, IPM_ETRUNCATED, IPM_ETRAILING, IPM_EBAD_TYPE, IPM_EBAD_FLAGS,
        IPM_EBAD_UTF8, IPM_EBAD_QOS, IPM_EBAD_CONNECT_FLAGS,
    };
    for (size_t i = 0; i < IPMT_ARRAY_LEN(malformed); i++) {
        print_message("%s\n", ipm_err_name(malformed[i]));
        assert_int_equal(ipm_err_reason(malformed[i]), IPM_RC_MALFORMED_PACKET);
    }
    /* "It is a Protocol Error to include X more than once" (3.1.2.11 and following). */
    assert_int_equal(ipm_err_reason(IPM_EDUP_PROPERTY), IPM_RC_PROTOCOL_ERROR);
    /* "A SUBSCRIBE packet with no Payload is a Protocol Error" (3.8.3, and 3.10.3). */
    assert_int_equal(ipm_err_reason(IPM_EEMPTY_LIST), IPM_RC_PROTOCOL_ERROR);
    /* A topic alias of 0 is answered with 0x94 Topic Alias invalid (3.3.2.3.4). */
    assert_int_equal(ipm_err_reason(IPM_EBAD_ALIAS), IPM_RC_TOPIC_ALIAS_INVALID);
    /* Not decoding errors: unspecified error. */
    static const int other[] = {IPM_EIO, IPM_ENOMEM, IPM_ETIMEOUT, IPM_ECLOSED, IPM_ENOSPACE};
    for (size_t i = 0; i < IPMT_ARRAY_LEN(other); i++) {
        print_message("%s\n", ipm_err_name(other[i]));
        assert_int_equal(ipm_err_reason(other[i]), IPM_RC_UNSPECIFIED_ERROR);
    }
    /* Every error maps to a 5.0 error reason (0x80 and up). */
#define GE80(name, msg) assert_true(ipm_err_reason(IPM_E##name) >= 0x80);
    IPM_ERR_MAP(GE80)
#undef GE80
}

/* ipm_str covers a C string without its terminator. */
static void test_str(void **state) {
    ipm_bytes_t b = ipm_str("abc");
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "abc", 3);
    b = ipm_str("");
    assert_int_equal(b.len, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_messages),
        cmocka_unit_test(test_distinct),
        cmocka_unit_test(test_reason_codes),
        cmocka_unit_test(test_str),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
