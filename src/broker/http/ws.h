/*
 * ws.h - WebSocket framing (RFC 6455) for MQTT over WebSockets, pure and streaming.
 *
 * MQTT rides in binary frames only (MQTT-6.0.0-1), and a frame boundary means nothing to
 * it: packets may be split across frames and frames may hold several packets. So the
 * decoder never reassembles messages: it unmasks payload bytes in place and hands them
 * on as they arrive, whatever the frame size, keeping only a frame header (14 bytes) and
 * a control frame (125 bytes) of state.
 */
#ifndef IPB_WS_H
#define IPB_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    IPB_WS_CONT = 0x0,
    IPB_WS_TEXT = 0x1,
    IPB_WS_BINARY = 0x2,
    IPB_WS_CLOSE = 0x8,
    IPB_WS_PING = 0x9,
    IPB_WS_PONG = 0xA,
};

/* Close status codes (RFC 6455 7.4.1). */
enum {
    IPB_WS_NORMAL = 1000,
    IPB_WS_GOING_AWAY = 1001,
    IPB_WS_PROTOCOL_ERROR = 1002,
    IPB_WS_UNSUPPORTED = 1003, /* text frames: MQTT is binary */
    IPB_WS_TOO_BIG = 1009,
};

typedef struct {
    /* Payload bytes of binary frames, unmasked, in order. */
    void (*data)(void *ctx, uint8_t *p, size_t n);
    /* A whole control frame: PING, PONG or CLOSE, with its (unmasked) payload. */
    void (*control)(void *ctx, uint8_t opcode, const uint8_t *p, size_t n);
} ipb_ws_rx_cb_t;

typedef struct {
    uint8_t hdr[14];
    uint8_t hdr_len;
    bool in_frame;      /* header parsed, payload under way */
    bool in_message;    /* a fragmented binary message awaits continuation frames */
    uint8_t opcode;     /* of the current frame */
    uint8_t mask[4];
    uint8_t mask_pos;
    uint64_t remaining; /* payload bytes of the current frame still to come */
    uint8_t ctrl[125];
    uint8_t ctrl_len;
    bool require_mask; /* true on a server: clients must mask (RFC 6455 5.1) */
    bool closed;       /* a CLOSE was received: nothing after it is read */
} ipb_ws_rx_t;

/* A decoder for frames from a client (masked) or from a server (require_mask false). */
void ipb_ws_rx_init(ipb_ws_rx_t *st, bool require_mask);

/*
 * Feed bytes received. Calls cb->data / cb->control as frames go by. Returns 0, or the
 * close status to send when the peer broke the protocol (1002: reserved bits, unknown
 * opcode, unmasked frame, fragmented or oversized control frame, continuation without a
 * start, a 64-bit length with the top bit set; 1003: a text frame). buf is modified.
 */
int ipb_ws_rx(ipb_ws_rx_t *st, uint8_t *buf, size_t len, const ipb_ws_rx_cb_t *cb, void *ctx);

/*
 * Header of an unmasked frame with FIN set (what a server sends) into out; returns its
 * length (2, 4 or 10).
 */
size_t ipb_ws_header(uint8_t out[10], uint8_t opcode, uint64_t payload_len);

#endif
