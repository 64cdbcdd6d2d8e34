/*
 * ws.c - streaming WebSocket frame decoding and frame headers (see ws.h).
 */
#include "ws.h"

#include <string.h>

void ipb_ws_rx_init(ipb_ws_rx_t *st, bool require_mask)
{
    memset(st, 0, sizeof *st);
    st->require_mask = require_mask;
}

/* Bytes the header takes, known once its first two bytes are in. */
static size_t header_size(const uint8_t *h)
{
    size_t n = 2 + ((h[1] & 0x80) ? 4 : 0);
    uint8_t len7 = h[1] & 0x7F;
    return n + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
}

/* Validate a complete header and start its frame; 0 or a close status. */
static int start_frame(ipb_ws_rx_t *st)
{
    const uint8_t *h = st->hdr;
    bool fin = h[0] & 0x80, masked = h[1] & 0x80;
    uint8_t op = h[0] & 0x0F, len7 = h[1] & 0x7F;
    uint64_t len = len7;
    if (h[0] & 0x70)
        return IPB_WS_PROTOCOL_ERROR; /* RSV1-3 without a negotiated extension */
    if (masked != st->require_mask)
        return IPB_WS_PROTOCOL_ERROR;
    size_t at = 2;
    if (len7 == 126) {
        len = (uint64_t)h[2] << 8 | h[3];
        at = 4;
    } else if (len7 == 127) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | h[2 + i];
        if (len >> 63)
            return IPB_WS_PROTOCOL_ERROR;
        at = 10;
    }
    if (masked)
        memcpy(st->mask, h + at, 4);
    if (op >= 0x8) {
        if (op != IPB_WS_CLOSE && op != IPB_WS_PING && op != IPB_WS_PONG)
            return IPB_WS_PROTOCOL_ERROR;
        if (!fin || len > 125)
            return IPB_WS_PROTOCOL_ERROR; /* RFC 6455 5.5 */
    } else if (op == IPB_WS_TEXT) {
        return IPB_WS_UNSUPPORTED;
    } else if (op == IPB_WS_BINARY) {
        if (st->in_message)
            return IPB_WS_PROTOCOL_ERROR; /* a new message inside a fragmented one */
        st->in_message = !fin;
    } else if (op == IPB_WS_CONT) {
        if (!st->in_message)
            return IPB_WS_PROTOCOL_ERROR;
        st->in_message = !fin;
    } else {
        return IPB_WS_PROTOCOL_ERROR;
    }
    st->opcode = op;
    st->remaining = len;
    st->mask_pos = 0;
    st->ctrl_len = 0;
    st->in_frame = true;
    return 0;
}

static void unmask(ipb_ws_rx_t *st, uint8_t *p, size_t n)
{
    if (!st->require_mask)
        return;
    for (size_t i = 0; i < n; i++)
        p[i] ^= st->mask[(st->mask_pos + i) & 3];
    st->mask_pos = (uint8_t)((st->mask_pos + n) & 3);
}

/* Take payload bytes of the current frame from buf; returns how many were used. */
static size_t take_payload(ipb_ws_rx_t *st, uint8_t *buf, size_t len, const ipb_ws_rx_cb_t *cb,
                           void *ctx)
{
    size_t n = st->remaining < len ? (size_t)st->remaining : len;
    unmask(st, buf, n);
    if (st->opcode >= 0x8) {
        memcpy(st->ctrl + st->ctrl_len, buf, n); /* at most 125 in all, checked */
        st->ctrl_len = (uint8_t)(st->ctrl_len + n);
    } else if (n) {
        cb->data(ctx, buf, n);
    }
    st->remaining -= n;
    if (st->remaining == 0) {
        st->in_frame = false;
        st->hdr_len = 0;
        if (st->opcode >= 0x8) {
            if (st->opcode == IPB_WS_CLOSE)
                st->closed = true;
            cb->control(ctx, st->opcode, st->ctrl, st->ctrl_len);
        }
    }
    return n;
}

int ipb_ws_rx(ipb_ws_rx_t *st, uint8_t *buf, size_t len, const ipb_ws_rx_cb_t *cb, void *ctx)
{
    size_t i = 0;
    while (i < len && !st->closed) {
        if (st->in_frame) {
            i += take_payload(st, buf + i, len - i, cb, ctx);
            continue;
        }
        /* Gather the header: two bytes say how long it is. */
        size_t want = st->hdr_len < 2 ? 2 : header_size(st->hdr);
        while (st->hdr_len < want && i < len) {
            st->hdr[st->hdr_len++] = buf[i++];
            if (st->hdr_len == 2)
                want = header_size(st->hdr);
        }
        if (st->hdr_len < want)
            break;
        int rc = start_frame(st);
        if (rc)
            return rc;
        if (st->remaining == 0)
            take_payload(st, buf + i, 0, cb, ctx); /* empty frame: finish it now */
    }
    return 0;
}

size_t ipb_ws_header(uint8_t out[10], uint8_t opcode, uint64_t len)
{
    out[0] = (uint8_t)(0x80 | (opcode & 0x0F));
    if (len < 126) {
        out[1] = (uint8_t)len;
        return 2;
    }
    if (len <= 0xFFFF) {
        out[1] = 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; i++)
        out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    return 10;
}
