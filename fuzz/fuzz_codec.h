/*
 * fuzz_codec.h - helpers shared by the codec fuzz targets: read every byte a decoded
 * packet points at (so ASan sees any pointer outside the input), and compare packets.
 * A broken invariant calls abort(), which libFuzzer reports as a crash with its input.
 */
#ifndef IOTPLOT_FUZZ_CODEC_H
#define IOTPLOT_FUZZ_CODEC_H

#include <stdlib.h>
#include <string.h>

#include "iotplot/codec.h"

/* The session version chosen by an input's first byte. */
static inline uint8_t ipfz_version(uint8_t b) {
    static const uint8_t v[] = {IPM_PROTO_V31, IPM_PROTO_V311, IPM_PROTO_V5};
    return v[b % 3];
}

#define IPFZ_CHECK(cond)                                                                    \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

/* `b` lies inside [lo, hi): decoded packets point into their input and nowhere else. */
static inline unsigned ipfz_touch(ipm_bytes_t b, const uint8_t *lo, const uint8_t *hi) {
    if (b.len == 0) {
        return 0;
    }
    IPFZ_CHECK(b.data >= lo && b.data + b.len <= hi);
    unsigned sum = 0;
    for (uint32_t i = 0; i < b.len; i++) {
        sum += b.data[i];
    }
    return sum;
}

static inline unsigned ipfz_walk_props(const ipm_props_t *props, const uint8_t *lo,
                                       const uint8_t *hi) {
    unsigned sum = ipfz_touch(props->raw, lo, hi);
    ipm_prop_iter_t it;
    ipm_prop_t p;
    uint32_t n = 0;
    ipm_props_iter(props, &it);
    while (ipm_props_next(&it, &p)) {
        IPFZ_CHECK(ipm_prop_type(p.id) != 0);
        sum += ipfz_touch(p.bin, lo, hi) + ipfz_touch(p.val, lo, hi) + p.num;
        n++;
    }
    IPFZ_CHECK(n == props->count);
    return sum;
}

/* Visit everything a successfully decoded packet refers to. */
static inline unsigned ipfz_walk(const ipm_packet_t *p, const uint8_t *lo, const uint8_t *hi) {
    unsigned sum = 0;
    switch (p->type) {
    case IPM_CONNECT: {
        const ipm_connect_t *c = &p->u.connect;
        sum += ipfz_touch(c->client_id, lo, hi) + ipfz_walk_props(&c->props, lo, hi);
        if (c->will) {
            IPFZ_CHECK(c->will_qos <= 2);
            sum += ipfz_touch(c->will_topic, lo, hi) + ipfz_touch(c->will_payload, lo, hi);
            sum += ipfz_walk_props(&c->will_props, lo, hi);
        }
        if (c->has_username) {
            sum += ipfz_touch(c->username, lo, hi);
        }
        if (c->has_password) {
            sum += ipfz_touch(c->password, lo, hi);
        }
        break;
    }
    case IPM_CONNACK:
        sum += ipfz_walk_props(&p->u.connack.props, lo, hi);
        break;
    case IPM_PUBLISH:
        IPFZ_CHECK(p->u.publish.qos <= 2);
        IPFZ_CHECK(p->u.publish.qos == 0 || p->u.publish.packet_id != 0);
        sum += ipfz_touch(p->u.publish.topic, lo, hi) + ipfz_touch(p->u.publish.payload, lo, hi);
        sum += ipfz_walk_props(&p->u.publish.props, lo, hi);
        break;
    case IPM_PUBACK:
    case IPM_PUBREC:
    case IPM_PUBREL:
    case IPM_PUBCOMP:
        sum += ipfz_walk_props(&p->u.ack.props, lo, hi);
        break;
    case IPM_SUBSCRIBE:
    case IPM_UNSUBSCRIBE: {
        ipm_sub_iter_t it;
        ipm_sub_t s;
        uint32_t n = 0;
        ipm_subs_iter(&p->u.subscribe, p->type == IPM_UNSUBSCRIBE, &it);
        while (ipm_subs_next(&it, &s)) {
            IPFZ_CHECK(ipm_topic_filter_valid(s.filter.data, s.filter.len));
            sum += ipfz_touch(s.filter, lo, hi) + s.options;
            n++;
        }
        IPFZ_CHECK(n == p->u.subscribe.count && n > 0);
        sum += ipfz_walk_props(&p->u.subscribe.props, lo, hi);
        break;
    }
    case IPM_SUBACK:
    case IPM_UNSUBACK: {
        ipm_bytes_t r = {p->u.suback.reasons, p->u.suback.count};
        sum += ipfz_touch(r, lo, hi) + ipfz_walk_props(&p->u.suback.props, lo, hi);
        break;
    }
    case IPM_DISCONNECT:
    case IPM_AUTH:
        sum += ipfz_walk_props(&p->u.disconnect.props, lo, hi);
        break;
    case IPM_PINGREQ:
    case IPM_PINGRESP:
        break;
    default:
        abort(); /* decode succeeded with a type it does not know */
    }
    return sum;
}

#endif /* IOTPLOT_FUZZ_CODEC_H */
