/*
 * fuzz_roundtrip.c - whatever decodes must encode again, and the encoding must decode to
 * the same packet and encode to the same bytes. The first input byte picks the version;
 * the rest is one packet. Any broken promise aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SUBS 4096

static bool bytes_eq(ipm_bytes_t a, ipm_bytes_t b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}

static bool props_eq(const ipm_props_t *a, const ipm_props_t *b) {
    return a->count == b->count && bytes_eq(a->raw, b->raw);
}

/* The encoder reads `subs`, the decoder fills `raw`: give a decoded SUBSCRIBE its array. */
static void subs_to_array(ipm_packet_t *p, ipm_sub_t *arr) {
    if (p->type != IPM_SUBSCRIBE && p->type != IPM_UNSUBSCRIBE) {
        return;
    }
    ipm_sub_iter_t it;
    uint16_t n = 0;
    ipm_subs_iter(&p->u.subscribe, p->type == IPM_UNSUBSCRIBE, &it);
    while (n < MAX_SUBS && ipm_subs_next(&it, &arr[n])) {
        n++;
    }
    IPFZ_CHECK(n == p->u.subscribe.count);
    p->u.subscribe.subs = arr;
}

/* Field by field: both packets were decoded, so properties are raw blocks. */
static bool packets_eq(const ipm_packet_t *a, const ipm_packet_t *b, uint8_t version) {
    bool v5 = version == IPM_PROTO_V5;
    if (a->type != b->type) {
        return false;
    }
    switch (a->type) {
    case IPM_CONNECT: {
        const ipm_connect_t *x = &a->u.connect, *y = &b->u.connect;
        bool will = x->will == y->will &&
                    (!x->will || (x->will_qos == y->will_qos && x->will_retain == y->will_retain &&
                                  bytes_eq(x->will_topic, y->will_topic) &&
                                  bytes_eq(x->will_payload, y->will_payload) &&
                                  props_eq(&x->will_props, &y->will_props)));
        return will && x->version == y->version && x->clean_start == y->clean_start &&
               x->keepalive == y->keepalive && bytes_eq(x->client_id, y->client_id) &&
               x->has_username == y->has_username && x->has_password == y->has_password &&
               (!x->has_username || bytes_eq(x->username, y->username)) &&
               (!x->has_password || bytes_eq(x->password, y->password)) &&
               props_eq(&x->props, &y->props);
    }
    case IPM_CONNACK:
        return a->u.connack.session_present == b->u.connack.session_present &&
               a->u.connack.reason == b->u.connack.reason &&
               (!v5 || props_eq(&a->u.connack.props, &b->u.connack.props));
    case IPM_PUBLISH: {
        const ipm_publish_t *x = &a->u.publish, *y = &b->u.publish;
        return x->qos == y->qos && x->dup == y->dup && x->retain == y->retain &&
               (x->qos == 0 || x->packet_id == y->packet_id) && bytes_eq(x->topic, y->topic) &&
               bytes_eq(x->payload, y->payload) && (!v5 || props_eq(&x->props, &y->props));
    }
    case IPM_PUBACK:
    case IPM_PUBREC:
    case IPM_PUBREL:
    case IPM_PUBCOMP:
        return a->u.ack.packet_id == b->u.ack.packet_id &&
               (!v5 || (a->u.ack.reason == b->u.ack.reason && props_eq(&a->u.ack.props, &b->u.ack.props)));
    case IPM_SUBSCRIBE:
    case IPM_UNSUBSCRIBE: {
        const ipm_subscribe_t *x = &a->u.subscribe, *y = &b->u.subscribe;
        if (x->packet_id != y->packet_id || x->count != y->count || (v5 && !props_eq(&x->props, &y->props))) {
            return false;
        }
        for (uint16_t i = 0; i < x->count; i++) {
            if (!bytes_eq(x->subs[i].filter, y->subs[i].filter) ||
                (a->type == IPM_SUBSCRIBE && x->subs[i].options != y->subs[i].options)) {
                return false;
            }
        }
        return true;
    }
    case IPM_SUBACK:
    case IPM_UNSUBACK: {
        const ipm_suback_t *x = &a->u.suback, *y = &b->u.suback;
        return x->packet_id == y->packet_id && x->count == y->count &&
               (x->count == 0 || memcmp(x->reasons, y->reasons, x->count) == 0) &&
               (!v5 || props_eq(&x->props, &y->props));
    }
    case IPM_DISCONNECT:
    case IPM_AUTH:
        return !v5 || (a->u.disconnect.reason == b->u.disconnect.reason &&
                       props_eq(&a->u.disconnect.props, &b->u.disconnect.props));
    default:
        return true;
    }
}

/* Encode `p` into a fresh exact-size buffer; abort if it does not encode. */
static uint8_t *encode(const ipm_packet_t *p, uint8_t version, size_t *len) {
    int64_t size = ipm_packet_size(p, version);
    IPFZ_CHECK(size > 0);
    uint8_t *buf = malloc((size_t)size);
    IPFZ_CHECK(buf != NULL);
    /* One byte short must be refused without writing past the buffer. */
    IPFZ_CHECK(ipm_encode(p, version, buf, (size_t)size - 1) == IPM_ENOSPACE);
    IPFZ_CHECK(ipm_encode(p, version, buf, (size_t)size) == size);
    *len = (size_t)size;
    return buf;
}

/*
 * The one input the decoder accepts but never produces: a 5.0 client accepts the 3.1.1
 * CONNACK refusal 0x01 (no property length) from an older server. It is not a 5.0 reason
 * code, so the 5.0 encoder rightly refuses it.
 */
static bool legacy_refusal(const ipm_packet_t *p, uint8_t version) {
    return version == IPM_PROTO_V5 && p->type == IPM_CONNACK &&
           p->u.connack.reason == IPM_CONNACK_REFUSED_PROTOCOL_VERSION;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static ipm_sub_t subs1[MAX_SUBS], subs2[MAX_SUBS];
    if (size < 2) {
        return 0;
    }
    uint8_t version = ipfz_version(data[0]);
    size_t len = size - 1;
    uint8_t *in = malloc(len);
    IPFZ_CHECK(in != NULL);
    memcpy(in, data + 1, len);

    ipm_frame_t f;
    ipm_packet_t p;
    if (ipm_frame(in, len, 0, &f) != IPM_OK) {
        free(in);
        return 0;
    }
    /* Bytes after the packet are not part of it: keep the frame alone, exactly sized. */
    if (f.total_len < len) {
        len = f.total_len;
        uint8_t *exact = malloc(len);
        IPFZ_CHECK(exact != NULL);
        memcpy(exact, in, len);
        free(in);
        in = exact;
    }
    if (ipm_decode(&f, in, version, &p) != IPM_OK || legacy_refusal(&p, version)) {
        free(in);
        return 0;
    }
    subs_to_array(&p, subs1);
    size_t n1;
    uint8_t *out1 = encode(&p, version, &n1);

    ipm_frame_t f2;
    ipm_packet_t q;
    IPFZ_CHECK(ipm_frame(out1, n1, 0, &f2) == IPM_OK && f2.total_len == n1);
    IPFZ_CHECK(ipm_decode(&f2, out1, version, &q) == IPM_OK);
    subs_to_array(&q, subs2);
    IPFZ_CHECK(packets_eq(&p, &q, version));

    size_t n2;
    uint8_t *out2 = encode(&q, version, &n2);
    IPFZ_CHECK(n1 == n2 && memcmp(out1, out2, n1) == 0);
    /* The encoder writes the shortest form, so it never grows what it was given. */
    IPFZ_CHECK(n1 <= f.total_len);
    free(out2);
    free(out1);
    free(in);
    return 0;
}
