/*
 * fuzz_decode.c - the stream decoder: frame and decode packet after packet, as a broker or
 * client receive loop does, for the version chosen by the first input byte (which also
 * picks a maximum packet size). The same bytes are then decoded as the body of a CONNECT,
 * the one packet every server must parse from strangers, and fed to the topic functions.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned sink;

static void decode_stream(const uint8_t *buf, size_t len, uint8_t version, uint32_t max) {
    size_t off = 0;
    while (off < len) {
        ipm_frame_t f;
        int rc = ipm_frame(buf + off, len - off, max, &f);
        if (rc != IPM_OK) {
            IPFZ_CHECK(rc < 0 && ipm_err_name(rc) && ipm_strerror(rc));
            return;
        }
        IPFZ_CHECK(f.total_len <= len - off);
        IPFZ_CHECK(f.header_len >= 2 && f.header_len <= 5);
        IPFZ_CHECK(f.header_len + f.remaining_len == f.total_len);
        IPFZ_CHECK(f.first_byte == buf[off]);
        IPFZ_CHECK(max == 0 || f.total_len <= max);
        /* Decode from an exact copy of the frame: reading into the next packet is an
         * ASan report, not a silent success. */
        uint8_t *pkt = malloc(f.total_len);
        IPFZ_CHECK(pkt != NULL);
        memcpy(pkt, buf + off, f.total_len);
        ipm_packet_t p;
        rc = ipm_decode(&f, pkt, version, &p);
        if (rc == IPM_OK) {
            IPFZ_CHECK(p.type == f.first_byte >> 4);
            sink += ipfz_walk(&p, pkt, pkt + f.total_len);
        } else {
            IPFZ_CHECK(rc < 0);
            sink += ipm_err_reason(rc);
        }
        free(pkt);
        off += f.total_len;
    }
}

/* The input as the variable header and payload of a CONNECT. */
static void decode_as_connect(const uint8_t *data, size_t size) {
    if (size > IPM_MAX_REMAINING_LENGTH) {
        return;
    }
    uint8_t *pkt = malloc(size + 5);
    if (!pkt) {
        return;
    }
    pkt[0] = IPM_CONNECT << 4;
    unsigned hl = 1 + ipm_varint_write(pkt + 1, (uint32_t)size);
    memcpy(pkt + hl, data, size);
    decode_stream(pkt, hl + size, IPM_PROTO_V5, 0);
    free(pkt);
}

static void topics(const uint8_t *data, size_t size) {
    sink += ipm_utf8_valid(data, size);
    sink += ipm_topic_name_valid(data, size);
    bool filter = ipm_topic_filter_valid(data, size);
    ipm_bytes_t g, f;
    int rc = ipm_shared_split(data, size, &g, &f);
    IPFZ_CHECK(rc == 0 || rc == 1 || rc == IPM_EBAD_FILTER);
    if (rc == 1) {
        IPFZ_CHECK(g.len > 0 && ipm_topic_filter_valid(f.data, f.len));
    }
    /* Split at the first NUL into a filter and a topic, and match them when both valid. */
    const uint8_t *nul = memchr(data, 0, size);
    if (nul) {
        size_t fl = (size_t)(nul - data);
        const uint8_t *t = nul + 1;
        size_t tl = size - fl - 1;
        if (ipm_topic_filter_valid(data, fl) && ipm_topic_name_valid(t, tl)) {
            bool m = ipm_topic_matches(data, fl, t, tl);
            /* A topic name is also a filter that matches itself, unless it is longer
             * than a filter may be: both have the same length rule. */
            if (ipm_topic_filter_valid(t, tl)) {
                IPFZ_CHECK(ipm_topic_matches(t, tl, t, tl));
            }
            /* "#" matches everything that does not start with '$' (MQTT-4.7.2-1). */
            IPFZ_CHECK(ipm_topic_matches((const uint8_t *)"#", 1, t, tl) == (t[0] != '$'));
            sink += m;
        }
    }
    sink += filter;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const uint32_t limits[] = {0, 16, 1024, 268435460u};
    if (size < 1) {
        return 0;
    }
    uint8_t version = ipfz_version(data[0]);
    uint32_t max = limits[(data[0] >> 2) & 3];
    /* A heap copy of exactly the input: a read past its end is an ASan report. */
    uint8_t *buf = malloc(size - 1 ? size - 1 : 1);
    if (!buf) {
        return 0;
    }
    memcpy(buf, data + 1, size - 1);
    decode_stream(buf, size - 1, version, max);
    decode_as_connect(buf, size - 1);
    topics(buf, size - 1);
    free(buf);
    return 0;
}
