/*
 * test_ws.c - WebSocket frame decoding: RFC 6455 examples, every split point,
 * fragmentation with interleaved control frames, and each protocol error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "http/ws.h"

typedef struct {
    uint8_t data[70000];
    size_t len;
    uint8_t ctrl_ops[8];
    uint8_t ctrl_data[8][125];
    size_t ctrl_len[8];
    size_t nctrl;
} sink_t;

static void on_data(void *ctx, uint8_t *p, size_t n)
{
    sink_t *s = ctx;
    assert_true(s->len + n <= sizeof s->data);
    memcpy(s->data + s->len, p, n);
    s->len += n;
}

static void on_control(void *ctx, uint8_t op, const uint8_t *p, size_t n)
{
    sink_t *s = ctx;
    assert_true(s->nctrl < 8);
    s->ctrl_ops[s->nctrl] = op;
    memcpy(s->ctrl_data[s->nctrl], p, n);
    s->ctrl_len[s->nctrl++] = n;
}

static const ipb_ws_rx_cb_t cb = {on_data, on_control};

/* Masks payload into a client frame: fin, opcode, payload. */
static size_t client_frame(uint8_t *out, bool fin, uint8_t op, const uint8_t *p, size_t n)
{
    static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    size_t h = ipb_ws_header(out, op, n);
    out[0] = (uint8_t)((fin ? 0x80 : 0) | op);
    out[1] |= 0x80;
    memcpy(out + h, mask, 4);
    for (size_t i = 0; i < n; i++)
        out[h + 4 + i] = p[i] ^ mask[i & 3];
    return h + 4 + n;
}

static int feed_split(const uint8_t *stream, size_t len, size_t split, sink_t *s)
{
    ipb_ws_rx_t st;
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, stream, len);
    ipb_ws_rx_init(&st, true);
    memset(s, 0, sizeof *s);
    int rc = ipb_ws_rx(&st, copy, split, &cb, s);
    if (rc == 0)
        rc = ipb_ws_rx(&st, copy + split, len - split, &cb, s);
    free(copy);
    return rc;
}

static void test_rfc_masked_binary(void **state)
{
    (void)state;
    /* RFC 6455 5.7 "Hello" masked, as a binary frame. */
    const uint8_t frame[] = {0x82, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    sink_t s;
    for (size_t split = 0; split <= sizeof frame; split++) {
        assert_int_equal(feed_split(frame, sizeof frame, split, &s), 0);
        assert_int_equal(s.len, 5);
        assert_memory_equal(s.data, "Hello", 5);
    }
}

static void test_fragments_with_ping(void **state)
{
    (void)state;
    static uint8_t stream[70100], payload[66000];
    sink_t s;
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 7);
    size_t n = client_frame(stream, false, IPB_WS_BINARY, payload, 100);
    n += client_frame(stream + n, true, IPB_WS_PING, (const uint8_t *)"hi", 2);
    n += client_frame(stream + n, false, IPB_WS_CONT, payload + 100, 200);  /* 16-bit len */
    n += client_frame(stream + n, true, IPB_WS_CONT, payload + 300, 65700); /* 64-bit len */
    n += client_frame(stream + n, true, IPB_WS_BINARY, NULL, 0);
    n += client_frame(stream + n, true, IPB_WS_CLOSE, (const uint8_t *)"\x03\xe8", 2);
    static const size_t splits[] = {0, 1, 2, 5, 6, 105, 106, 113, 400, 66000};
    for (size_t k = 0; k < sizeof splits / sizeof splits[0]; k++) {
        assert_int_equal(feed_split(stream, n, splits[k], &s), 0);
        assert_int_equal(s.len, sizeof payload);
        assert_memory_equal(s.data, payload, sizeof payload);
        assert_int_equal(s.nctrl, 2);
        assert_int_equal(s.ctrl_ops[0], IPB_WS_PING);
        assert_int_equal(s.ctrl_len[0], 2);
        assert_memory_equal(s.ctrl_data[0], "hi", 2);
        assert_int_equal(s.ctrl_ops[1], IPB_WS_CLOSE);
    }
}

static void test_byte_at_a_time(void **state)
{
    (void)state;
    uint8_t stream[300];
    sink_t s;
    memset(&s, 0, sizeof s);
    size_t n = client_frame(stream, true, IPB_WS_BINARY, (const uint8_t *)"abcdefghij", 10);
    n += client_frame(stream + n, true, IPB_WS_PONG, NULL, 0);
    n += client_frame(stream + n, true, IPB_WS_BINARY, (const uint8_t *)"klm", 3);
    ipb_ws_rx_t st;
    ipb_ws_rx_init(&st, true);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ipb_ws_rx(&st, stream + i, 1, &cb, &s), 0);
    assert_int_equal(s.len, 13);
    assert_memory_equal(s.data, "abcdefghijklm", 13);
    assert_int_equal(s.nctrl, 1);
    assert_int_equal(s.ctrl_ops[0], IPB_WS_PONG);
}

static void test_protocol_errors(void **state)
{
    (void)state;
    uint8_t f[200];
    sink_t s;
    size_t n;
    /* Unmasked frame from a client. */
    const uint8_t unmasked[] = {0x82, 0x01, 'x'};
    assert_int_equal(feed_split(unmasked, sizeof unmasked, 0, &s), IPB_WS_PROTOCOL_ERROR);
    /* Text frame: MQTT is binary. */
    n = client_frame(f, true, IPB_WS_TEXT, (const uint8_t *)"x", 1);
    assert_int_equal(feed_split(f, n, 0, &s), IPB_WS_UNSUPPORTED);
    /* RSV bits. */
    n = client_frame(f, true, IPB_WS_BINARY, (const uint8_t *)"x", 1);
    f[0] |= 0x40;
    assert_int_equal(feed_split(f, n, 0, &s), IPB_WS_PROTOCOL_ERROR);
    /* Unknown opcodes 3 and 0xB. */
    n = client_frame(f, true, 0x3, (const uint8_t *)"x", 1);
    assert_int_equal(feed_split(f, n, 0, &s), IPB_WS_PROTOCOL_ERROR);
    n = client_frame(f, true, 0xB, (const uint8_t *)"x", 1);
    assert_int_equal(feed_split(f, n, 0, &s), IPB_WS_PROTOCOL_ERROR);
    /* Continuation without a start; a new message inside a fragmented one. */
    n = client_frame(f, true, IPB_WS_CONT, (const uint8_t *)"x", 1);
    assert_int_equal(feed_split(f, n, 0, &s), IPB_WS_PROTOCOL_ERROR);
    n = client_frame(f, false, IPB_WS_BINARY, (const uint8_t *)"x", 1);
    n += client_frame(f + n, true, IPB_WS_BINARY, (const uint8_t *)"y", 1);
    assert_int_equal(feed_split(f, n, 0, &s), IPB_WS_PROTOCOL_ERROR);
    /* Fragmented or long control frames. */
    n = client_frame(f, false, IPB_WS_PING, (const uint8_t *)"x", 1);
    assert_int_equal(feed_split(f, n, 0, &s), IPB_WS_PROTOCOL_ERROR);
    static uint8_t big[200];
    n = client_frame(f, true, IPB_WS_PING, big, 126);
    assert_int_equal(feed_split(f, n, 0, &s), IPB_WS_PROTOCOL_ERROR);
    /* 64-bit length with the top bit set. */
    const uint8_t huge[] = {0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4};
    assert_int_equal(feed_split(huge, sizeof huge, 0, &s), IPB_WS_PROTOCOL_ERROR);
}

static void test_nothing_after_close(void **state)
{
    (void)state;
    uint8_t f[100];
    sink_t s;
    size_t n = client_frame(f, true, IPB_WS_CLOSE, NULL, 0);
    n += client_frame(f + n, true, IPB_WS_BINARY, (const uint8_t *)"late", 4);
    assert_int_equal(feed_split(f, n, 0, &s), 0);
    assert_int_equal(s.nctrl, 1);
    assert_int_equal(s.len, 0);
}

static void test_headers(void **state)
{
    (void)state;
    uint8_t h[10];
    assert_int_equal(ipb_ws_header(h, IPB_WS_BINARY, 125), 2);
    assert_int_equal(h[0], 0x82);
    assert_int_equal(h[1], 125);
    assert_int_equal(ipb_ws_header(h, IPB_WS_BINARY, 126), 4);
    assert_int_equal(h[1], 126);
    assert_int_equal(h[2] << 8 | h[3], 126);
    assert_int_equal(ipb_ws_header(h, IPB_WS_CLOSE, 65536), 10);
    assert_int_equal(h[0], 0x88);
    assert_int_equal(h[1], 127);
    assert_int_equal(h[7], 1); /* 65536 = 0x10000 */
    assert_int_equal(h[8], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_masked_binary), cmocka_unit_test(test_fragments_with_ping),
        cmocka_unit_test(test_byte_at_a_time),    cmocka_unit_test(test_protocol_errors),
        cmocka_unit_test(test_nothing_after_close), cmocka_unit_test(test_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
