/*
 * fuzz_encode.c - the encoder from the other side: input bytes fill a packet struct
 * (strings are slices of the input, so they may be any bytes), then
 *   - ipm_packet_size and ipm_encode agree, on the size or on the error;
 *   - whatever encodes must frame and decode (the codec never writes a packet it would
 *     refuse to read), to the same fields, and re-encode to identical bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ITEMS 8

typedef struct {
    const uint8_t *p, *end;
} src_t;

static uint32_t take(src_t *s, unsigned n) {
    uint32_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        v = v << 8 | (s->p < s->end ? *s->p++ : 0);
    }
    return v;
}

/* A slice of the input: its length byte, then that many bytes (fewer at the end). */
static ipm_bytes_t slice(src_t *s) {
    uint32_t want = take(s, 1);
    size_t left = (size_t)(s->end - s->p);
    ipm_bytes_t b = {s->p, want < left ? want : (uint32_t)left};
    s->p += b.len;
    return b;
}

static ipm_props_t props(src_t *s, ipm_prop_t *list) {
    ipm_props_t p = {list, (uint16_t)(take(s, 1) % (MAX_ITEMS + 1)), {NULL, 0}};
    for (uint16_t i = 0; i < p.count; i++) {
        list[i].id = (uint8_t)(take(s, 1) % 0x30);
        /* Small numbers are where the value rules are: 0, 1, 2. */
        list[i].num = take(s, 1) & 1 ? take(s, 1) % 3 : take(s, 4);
        list[i].bin = slice(s);
        list[i].val = slice(s);
    }
    return p;
}

static void build(src_t *s, ipm_packet_t *p, uint8_t version, ipm_prop_t lists[2][MAX_ITEMS],
                  ipm_sub_t *subs, uint8_t *reasons) {
    memset(p, 0, sizeof *p);
    p->type = (uint8_t)(1 + take(s, 1) % 15);
    uint8_t flags = (uint8_t)take(s, 1);
    switch (p->type) {
    case IPM_CONNECT: {
        ipm_connect_t *c = &p->u.connect;
        c->version = (uint8_t)(2 + take(s, 1) % 5);
        c->clean_start = flags & 1;
        c->will = flags & 2;
        c->will_qos = (flags >> 2) & 3;
        c->will_retain = flags & 16;
        c->has_username = flags & 32;
        c->has_password = flags & 64;
        c->keepalive = (uint16_t)take(s, 2);
        c->client_id = slice(s);
        c->will_topic = slice(s);
        c->will_payload = slice(s);
        c->username = slice(s);
        c->password = slice(s);
        c->props = props(s, lists[0]);
        c->will_props = props(s, lists[1]);
        break;
    }
    case IPM_CONNACK:
        p->u.connack.session_present = flags & 1;
        p->u.connack.reason = (uint8_t)take(s, 1);
        p->u.connack.props = props(s, lists[0]);
        break;
    case IPM_PUBLISH:
        p->u.publish.qos = flags & 3;
        p->u.publish.dup = flags & 4;
        p->u.publish.retain = flags & 8;
        p->u.publish.packet_id = (uint16_t)take(s, 2);
        p->u.publish.topic = slice(s);
        p->u.publish.payload = slice(s);
        p->u.publish.props = props(s, lists[0]);
        break;
    case IPM_PUBACK:
    case IPM_PUBREC:
    case IPM_PUBREL:
    case IPM_PUBCOMP:
        p->u.ack.packet_id = (uint16_t)take(s, 2);
        p->u.ack.reason = flags & 1 ? (uint8_t)take(s, 1) : 0;
        p->u.ack.props = props(s, lists[0]);
        break;
    case IPM_SUBSCRIBE:
    case IPM_UNSUBSCRIBE:
        p->u.subscribe.packet_id = (uint16_t)take(s, 2);
        p->u.subscribe.count = (uint16_t)(flags % (MAX_ITEMS + 1));
        for (uint16_t i = 0; i < p->u.subscribe.count; i++) {
            subs[i].filter = slice(s);
            subs[i].options = (uint8_t)take(s, 1);
        }
        p->u.subscribe.subs = subs;
        p->u.subscribe.props = props(s, lists[0]);
        break;
    case IPM_SUBACK:
    case IPM_UNSUBACK:
        p->u.suback.packet_id = (uint16_t)take(s, 2);
        p->u.suback.count = (uint16_t)(flags % (MAX_ITEMS + 1));
        for (uint16_t i = 0; i < p->u.suback.count; i++) {
            reasons[i] = (uint8_t)take(s, 1);
        }
        p->u.suback.reasons = reasons;
        p->u.suback.props = props(s, lists[0]);
        break;
    case IPM_DISCONNECT:
    case IPM_AUTH:
        p->u.disconnect.reason = flags & 1 ? (uint8_t)take(s, 1) : 0;
        p->u.disconnect.props = props(s, lists[0]);
        break;
    default:
        break;
    }
}

/* Decode `buf` (exactly one packet) and give a SUBSCRIBE its array for re-encoding. */
static void decode_exact(const uint8_t *buf, size_t len, uint8_t version, ipm_packet_t *q,
                         ipm_sub_t *subs) {
    ipm_frame_t f;
    IPFZ_CHECK(ipm_frame(buf, len, 0, &f) == IPM_OK && f.total_len == len);
    IPFZ_CHECK(ipm_decode(&f, buf, version, q) == IPM_OK);
    (void)ipfz_walk(q, buf, buf + len);
    if (q->type == IPM_SUBSCRIBE || q->type == IPM_UNSUBSCRIBE) {
        ipm_sub_iter_t it;
        uint16_t n = 0;
        ipm_subs_iter(&q->u.subscribe, q->type == IPM_UNSUBSCRIBE, &it);
        while (n < MAX_ITEMS && ipm_subs_next(&it, &subs[n])) {
            n++;
        }
        IPFZ_CHECK(n == q->u.subscribe.count);
        q->u.subscribe.subs = subs;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static ipm_prop_t lists[2][MAX_ITEMS];
    static ipm_sub_t subs[MAX_ITEMS], subs_q[MAX_ITEMS], subs_r[MAX_ITEMS];
    static uint8_t reasons[MAX_ITEMS];
    if (size < 1) {
        return 0;
    }
    /* Copy so that the slices are an exact-size heap block ASan watches. */
    uint8_t *in = malloc(size);
    IPFZ_CHECK(in != NULL);
    memcpy(in, data, size);
    src_t s = {in + 1, in + size};
    uint8_t version = ipfz_version(in[0]);
    ipm_packet_t p;
    build(&s, &p, version, lists, subs, reasons);

    int64_t n = ipm_packet_size(&p, version);
    uint8_t small[8];
    if (n < 0) {
        /* Refused: ipm_encode says the same, whatever the buffer. */
        IPFZ_CHECK(ipm_encode(&p, version, small, sizeof small) == n);
        free(in);
        return 0;
    }
    uint8_t *out = malloc((size_t)n);
    IPFZ_CHECK(out != NULL);
    IPFZ_CHECK(ipm_encode(&p, version, out, (size_t)n) == n);
    IPFZ_CHECK(ipm_encode(&p, version, out, (size_t)n - 1) == IPM_ENOSPACE);

    uint8_t v = p.type == IPM_CONNECT ? p.u.connect.version : version;
    ipm_packet_t q, r;
    decode_exact(out, (size_t)n, v, &q, subs_q);
    int64_t n2 = ipm_packet_size(&q, v);
    IPFZ_CHECK(n2 == n);
    uint8_t *out2 = malloc((size_t)n);
    IPFZ_CHECK(out2 != NULL);
    IPFZ_CHECK(ipm_encode(&q, v, out2, (size_t)n) == n);
    IPFZ_CHECK(memcmp(out, out2, (size_t)n) == 0);
    decode_exact(out2, (size_t)n, v, &r, subs_r);
    free(out2);
    free(out);
    free(in);
    return 0;
}
