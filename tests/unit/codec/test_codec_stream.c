/*
 * test_codec_stream.c - Variable Byte Integers, stream framing and incremental decoding,
 * maximum packet size, and round trips of many generated packets.
 *
 * Variable Byte Integer boundaries come from MQTT 5.0 section 1.5.5 (3.1.1 2.2.3, the
 * "Remaining Length" table).
 */
#include "codec_test.h"

static const uint8_t all_versions[] = {IPM_PROTO_V31, IPM_PROTO_V311, IPM_PROTO_V5};

/* ---- Variable Byte Integers ----------------------------------------------------------- */

typedef struct {
    uint32_t value;
    uint8_t len;
    uint8_t bytes[4];
} varint_case_t;

static const varint_case_t varints[] = {
    {0, 1, {0x00}},
    {1, 1, {0x01}},
    {127, 1, {0x7F}},
    {128, 2, {0x80, 0x01}},
    {300, 2, {0xAC, 0x02}},
    {16383, 2, {0xFF, 0x7F}},
    {16384, 3, {0x80, 0x80, 0x01}},
    {2097151, 3, {0xFF, 0xFF, 0x7F}},
    {2097152, 4, {0x80, 0x80, 0x80, 0x01}},
    {268435455, 4, {0xFF, 0xFF, 0xFF, 0x7F}},
};

static void test_varint_vectors(void **state) {
    for (size_t i = 0; i < IPMT_ARRAY_LEN(varints); i++) {
        const varint_case_t *c = &varints[i];
        print_message("varint %u\n", c->value);
        assert_int_equal(ipm_varint_size(c->value), c->len);
        uint8_t out[4] = {0};
        assert_int_equal(ipm_varint_write(out, c->value), c->len);
        assert_memory_equal(out, c->bytes, c->len);

        uint8_t *b = ipmt_dup(c->bytes, c->len);
        uint32_t v = 0xDEADBEEF;
        assert_int_equal(ipm_varint_read(b, c->len, &v), c->len);
        assert_int_equal(v, c->value);
        /* Every proper prefix needs more bytes. */
        for (size_t n = 0; n < c->len; n++) {
            assert_int_equal(ipm_varint_read(b, n, &v), 0);
        }
        free(b);
    }
    assert_int_equal(ipm_varint_size(268435456), 0);
    assert_int_equal(ipm_varint_size(UINT32_MAX), 0);
}

/* More than four bytes is malformed (5.0 1.5.5): known as soon as the fourth byte has
 * its continuation bit set. */
static void test_varint_too_long(void **state) {
    static const uint8_t five[] = {0xFF, 0xFF, 0xFF, 0xFF, 0x7F};
    static const uint8_t zero5[] = {0x80, 0x80, 0x80, 0x80, 0x00};
    uint32_t v;
    uint8_t *b = ipmt_dup(five, sizeof five);
    ipmt_assert_err(ipm_varint_read(b, sizeof five, &v), IPM_EBAD_VARINT);
    ipmt_assert_err(ipm_varint_read(b, 4, &v), IPM_EBAD_VARINT);
    free(b);
    b = ipmt_dup(zero5, sizeof zero5);
    ipmt_assert_err(ipm_varint_read(b, sizeof zero5, &v), IPM_EBAD_VARINT);
    free(b);
}

/* ---- framing -------------------------------------------------------------------------- */

/* Remaining lengths at each boundary: the header is 1 + varint bytes. */
static void test_frame_lengths(void **state) {
    for (size_t i = 0; i < IPMT_ARRAY_LEN(varints); i++) {
        const varint_case_t *c = &varints[i];
        uint8_t hdr[5] = {0x30};
        memcpy(hdr + 1, c->bytes, c->len);
        size_t hl = 1u + c->len;
        uint8_t *b = ipmt_dup(hdr, hl);
        ipm_frame_t f;
        int rc = ipm_frame(b, hl, 0, &f);
        if (c->value == 0) {
            ipmt_assert_err(rc, IPM_OK); /* the header is the whole packet */
        } else {
            ipmt_assert_err(rc, IPM_ENEED_MORE); /* header known, body missing */
        }
        /* The header alone is enough to refuse a packet over the limit. */
        if (c->value > 0) {
            ipmt_assert_err(ipm_frame(b, hl, (uint32_t)(hl + c->value - 1), &f), IPM_ETOO_LARGE);
        }
        for (size_t n = 0; n < hl; n++) {
            ipmt_assert_err(ipm_frame(b, n, 0, &f), IPM_ENEED_MORE);
        }
        free(b);
    }
    /* The largest packet: 1 + 4 + 268435455 bytes, framed from its header. */
    static const uint8_t big[] = {0x30, 0xFF, 0xFF, 0xFF, 0x7F};
    static const uint8_t five[] = {0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F};
    static const uint8_t five0[] = {0x30, 0x80, 0x80, 0x80, 0x80, 0x01};
    ipm_frame_t f;
    uint8_t *b = ipmt_dup(big, sizeof big);
    ipmt_assert_err(ipm_frame(b, sizeof big, 0, &f), IPM_ENEED_MORE);
    ipmt_assert_err(ipm_frame(b, sizeof big, 1000, &f), IPM_ETOO_LARGE);
    free(b);
    b = ipmt_dup(five, sizeof five);
    ipmt_assert_err(ipm_frame(b, sizeof five, 0, &f), IPM_EBAD_VARINT);
    free(b);
    b = ipmt_dup(five0, sizeof five0);
    ipmt_assert_err(ipm_frame(b, sizeof five0, 0, &f), IPM_EBAD_VARINT);
    free(b);
}

static void test_frame_fields(void **state) {
    /* 200 bytes of body: header 0x30 0xC8 0x01. */
    uint8_t pkt[203] = {0x32, 0xC8, 0x01};
    ipm_frame_t f;
    ipmt_assert_err(ipm_frame(pkt, sizeof pkt, 0, &f), IPM_OK);
    assert_int_equal(f.first_byte, 0x32);
    assert_int_equal(f.remaining_len, 200);
    assert_int_equal(f.header_len, 3);
    assert_int_equal(f.total_len, 203);
    /* Maximum packet size counts the whole packet (5.0 3.1.2.11.4). */
    ipmt_assert_err(ipm_frame(pkt, sizeof pkt, 203, &f), IPM_OK);
    ipmt_assert_err(ipm_frame(pkt, sizeof pkt, 202, &f), IPM_ETOO_LARGE);
    ipmt_assert_err(ipm_frame(pkt, 3, 202, &f), IPM_ETOO_LARGE);
    ipmt_assert_err(ipm_frame(pkt, 3, 203, &f), IPM_ENEED_MORE);
}

/* Encode `n` random packets of every type for `version` into one stream. */
static uint8_t *make_stream(uint32_t *rng, uint8_t version, size_t n, size_t *len,
                            size_t *ends) {
    uint8_t *stream = NULL;
    size_t used = 0;
    static uint8_t arena[IPMT_ARENA];
    for (size_t i = 0; i < n; i++) {
        uint8_t type = (uint8_t)(1 + ipmt_rand(rng) % (version == IPM_PROTO_V5 ? 15 : 14));
        ipm_packet_t p;
        ipmt_random_packet(rng, type, version, &p, arena);
        size_t plen;
        uint8_t *bytes = ipmt_encode_alloc(&p, version, &plen);
        stream = realloc(stream, used + plen);
        assert_non_null(stream);
        memcpy(stream + used, bytes, plen);
        used += plen;
        ends[i] = used;
        free(bytes);
    }
    *len = used;
    return stream;
}

/*
 * Every prefix of a stream frames as "need more" until the next packet is complete, from
 * an exact-size buffer (ASan catches a read past `len`), and packets come out one by one.
 */
static void test_incremental(void **state) {
    uint32_t rng = 0x1234567u;
    for (size_t vi = 0; vi < IPMT_ARRAY_LEN(all_versions); vi++) {
        uint8_t version = all_versions[vi];
        size_t ends[40];
        size_t len;
        uint8_t *stream = make_stream(&rng, version, 40, &len, ends);
        size_t start = 0;
        for (size_t k = 0; k < 40; k++) {
            size_t plen = ends[k] - start;
            for (size_t n = 0; n < plen; n++) {
                uint8_t *b = ipmt_dup(stream + start, n);
                ipm_frame_t f;
                ipmt_assert_err(ipm_frame(b, n, 0, &f), IPM_ENEED_MORE);
                free(b);
            }
            /* The whole packet, then the rest of the stream behind it. */
            ipm_frame_t f;
            uint8_t *b = ipmt_dup(stream + start, plen);
            ipmt_assert_err(ipm_frame(b, plen, 0, &f), IPM_OK);
            assert_int_equal(f.total_len, plen);
            ipm_packet_t p;
            ipmt_assert_err(ipm_decode(&f, b, version, &p), IPM_OK);
            free(b);
            ipmt_assert_err(ipm_frame(stream + start, len - start, 0, &f), IPM_OK);
            assert_int_equal(f.total_len, plen);
            ipmt_assert_err(ipm_decode(&f, stream + start, version, &p), IPM_OK);
            start = ends[k];
        }
        free(stream);
    }
}

/* A receive loop fed one byte at a time finds every packet of the stream. */
static void test_byte_by_byte(void **state) {
    uint32_t rng = 0xC0FFEEu;
    for (size_t vi = 0; vi < IPMT_ARRAY_LEN(all_versions); vi++) {
        uint8_t version = all_versions[vi];
        size_t ends[25];
        size_t len;
        uint8_t *stream = make_stream(&rng, version, 25, &len, ends);
        uint8_t *buf = malloc(len);
        assert_non_null(buf);
        size_t have = 0, found = 0, consumed = 0;
        for (size_t i = 0; i < len; i++) {
            buf[have++] = stream[i];
            ipm_frame_t f;
            int rc;
            while ((rc = ipm_frame(buf, have, 0, &f)) == IPM_OK) {
                ipm_packet_t p;
                ipmt_assert_err(ipm_decode(&f, buf, version, &p), IPM_OK);
                consumed += f.total_len;
                assert_int_equal(consumed, ends[found]);
                found++;
                memmove(buf, buf + f.total_len, have - f.total_len);
                have -= f.total_len;
            }
            ipmt_assert_err(rc, IPM_ENEED_MORE);
        }
        assert_int_equal(found, 25);
        assert_int_equal(have, 0);
        free(buf);
        free(stream);
    }
}

/* A field running past its packet is truncated even when more bytes follow in the buffer:
 * decoding is bounded by the frame, never by the buffer. */
static void test_decode_bounded_by_frame(void **state) {
    static const uint8_t two[] = {
        0x30, 0x03, 0x00, 0x05, 'a',       /* topic length 5 in a 3-byte body */
        'b', 'c', 'd', 'e', 0xC0, 0x00};   /* the next bytes of the stream */
    static const uint8_t ack[] = {0x40, 0x01, 0x00, 0x01, 0x40, 0x02, 0x00, 0x01};
    ipm_frame_t f;
    ipm_packet_t p;
    ipmt_assert_err(ipm_frame(two, sizeof two, 0, &f), IPM_OK);
    assert_int_equal(f.total_len, 5);
    ipmt_assert_err(ipm_decode(&f, two, IPM_PROTO_V311, &p), IPM_ETRUNCATED);
    ipmt_assert_err(ipm_frame(ack, sizeof ack, 0, &f), IPM_OK);
    assert_int_equal(f.total_len, 3);
    ipmt_assert_err(ipm_decode(&f, ack, IPM_PROTO_V311, &p), IPM_ETRUNCATED);
    ipmt_assert_err(ipm_decode(&f, ack, IPM_PROTO_V5, &p), IPM_ETRUNCATED);
}

/* ---- round trips -------------------------------------------------------------------------- */

static void round_trip(uint32_t *rng, uint8_t type, uint8_t version, uint8_t *arena) {
    ipm_packet_t p;
    ipmt_random_packet(rng, type, version, &p, arena);
    size_t len;
    uint8_t *bytes = ipmt_encode_alloc(&p, version, &len);
    /* Too small by one byte: refused. */
    uint8_t *small = malloc(len);
    assert_non_null(small);
    ipmt_assert_err((int)ipm_encode(&p, version, small, len - 1), IPM_ENOSPACE);
    free(small);
    ipmt_check_vector(&p, version, bytes, len, __FILE__, __LINE__);
    free(bytes);
}

static void test_round_trips(void **state) {
    static uint8_t arena[IPMT_ARENA];
    uint32_t rng = 0x9E3779B9u;
    for (size_t vi = 0; vi < IPMT_ARRAY_LEN(all_versions); vi++) {
        uint8_t version = all_versions[vi];
        uint8_t last = version == IPM_PROTO_V5 ? IPM_AUTH : IPM_DISCONNECT;
        for (uint8_t type = IPM_CONNECT; type <= last; type++) {
            for (int i = 0; i < 300; i++) {
                round_trip(&rng, type, version, arena);
            }
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varint_vectors),
        cmocka_unit_test(test_varint_too_long),
        cmocka_unit_test(test_frame_lengths),
        cmocka_unit_test(test_frame_fields),
        cmocka_unit_test(test_incremental),
        cmocka_unit_test(test_byte_by_byte),
        cmocka_unit_test(test_decode_bounded_by_frame),
        cmocka_unit_test(test_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
