/*
 * codec.h - the pure MQTT 3.1 / 3.1.1 / 5.0 encoder and decoder.
 *
 * Bytes in, structs out; structs in, bytes out. No I/O, no allocation, no globals: the
 * broker, the client, the tools and the fuzzers all share this one codec.
 *
 * Decoding is zero-copy: strings, payloads and property blocks in a decoded packet point
 * into the caller's input buffer, which must outlive the packet. Variable-length parts
 * (properties, SUBSCRIBE filters) are validated completely by ipm_decode() and then walked
 * with the iterators below, so nothing needs an array sized by the peer.
 *
 * Encoding asks for the size first (ipm_packet_size), then writes into the caller's buffer
 * (ipm_encode). Both validate what they are given; a packet that would be malformed is
 * never written.
 *
 * Example: decode one packet from a receive buffer.
 *
 *     ipm_frame_t f;
 *     int rc = ipm_frame(buf, len, max_packet, &f);
 *     if (rc == IPM_ENEED_MORE) return;             // read more, call again
 *     if (rc < 0) return close_with(ipm_err_reason(rc));
 *     ipm_packet_t pkt;
 *     rc = ipm_decode(&f, buf, version, &pkt);
 *     ...
 *     consume(f.total_len);
 */
#ifndef IOTPLOT_CODEC_H
#define IOTPLOT_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotplot/mqtt_protocol.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors ----------------------------------------------------------------------- */

/*
 * Every error of the codec, the client and the transports, with its message. Errors are
 * negative ints (IPM_E<NAME>); 0 is success. ipm_err_reason() maps them to the MQTT
 * reason code a server sends for them: the only place where that mapping lives.
 */
#define IPM_ERR_MAP(X)                                                                  \
    X(NEED_MORE, "more bytes are needed")                                               \
    X(MALFORMED, "malformed packet")                                                    \
    X(BAD_VARINT, "variable byte integer longer than four bytes")                       \
    X(TRUNCATED, "a field runs past the end of the packet")                             \
    X(TRAILING, "bytes left over after the last field")                                 \
    X(BAD_TYPE, "reserved packet type")                                                 \
    X(BAD_FLAGS, "reserved fixed header flags are set")                                 \
    X(BAD_UTF8, "string is not well-formed UTF-8")                                      \
    X(BAD_QOS, "QoS 3 is not a QoS")                                                    \
    X(ZERO_PACKET_ID, "packet identifier 0")                                            \
    X(BAD_TOPIC, "invalid topic name")                                                  \
    X(BAD_FILTER, "invalid topic filter")                                               \
    X(UNKNOWN_PROPERTY, "unknown property identifier")                                  \
    X(BAD_PROPERTY, "property not allowed in this packet, or with a bad value")         \
    X(DUP_PROPERTY, "property given more than once")                                    \
    X(BAD_ALIAS, "topic alias 0")                                                       \
    X(BAD_PROTOCOL, "unknown protocol name")                                            \
    X(BAD_VERSION, "unsupported protocol version")                                      \
    X(BAD_CONNECT_FLAGS, "invalid CONNECT flags")                                       \
    X(BAD_CLIENT_ID, "client identifier not allowed")                                   \
    X(BAD_REASON, "reason code not allowed in this packet")                             \
    X(EMPTY_LIST, "SUBSCRIBE or UNSUBSCRIBE without a topic filter")                    \
    X(BAD_SUBOPT, "reserved subscription option bits set, or QoS 3")                   \
    X(PROTOCOL, "protocol error")                                                       \
    X(TOO_LARGE, "packet larger than the maximum packet size")                          \
    X(NOSPACE, "buffer too small")                                                      \
    X(INVALID, "invalid argument")                                                      \
    X(IO, "connection failed")                                                          \
    X(CLOSED, "connection closed by peer")                                              \
    X(TIMEOUT, "timed out")                                                             \
    X(REFUSED, "connection refused by the server")                                      \
    X(NOMEM, "out of memory")                                                           \
    X(FULL, "queue full")                                                               \
    X(STATE, "not allowed in this state")                                               \
    X(TLS, "TLS error")                                                                 \
    X(RESOLVE, "host name lookup failed")                                               \
    X(NOT_CONNECTED, "not connected")                                                   \
    X(QUOTA, "quota exceeded")                                                          \
    X(DENIED, "not authorized")

typedef enum {
    IPM_OK = 0,
#define IPM__ERR_ENUM(name, msg) IPM_E##name,
    IPM__ERR_FIRST = -100,
    IPM_ERR_MAP(IPM__ERR_ENUM) IPM__ERR_LAST
#undef IPM__ERR_ENUM
} ipm_err_t;

/* "IPM_EMALFORMED" style name of an error, or "IPM_OK"; never NULL. */
const char *ipm_err_name(int err);
/* Human-readable message of an error; never NULL. */
const char *ipm_strerror(int err);
/*
 * The 5.0 reason code a server puts in CONNACK or DISCONNECT for a decoding error:
 * 0x81 malformed, 0x82 protocol error, 0x84 unsupported version, 0x85 client id,
 * 0x8F/0x90 topic filter/name, 0x95 packet too large, 0x97 quota. 0x80 otherwise.
 */
uint8_t ipm_err_reason(int err);
/*
 * The 3.1 / 3.1.1 CONNACK return code (1..5) a server sends on an older connection where
 * 5.0 would send `reason` (IPM_REASON_MAP's 3.x column); 0 for success, 3 "server
 * unavailable" for a code a CONNACK cannot carry. Never fails.
 *
 *     uint8_t code = version == IPM_PROTO_V5 ? reason : ipm_reason_connack3(reason);
 */
uint8_t ipm_reason_connack3(uint8_t reason);

/* ---- basic types ------------------------------------------------------------------- */

/* Bytes owned by someone else: a string (not NUL-terminated), a payload, a block. */
typedef struct {
    const uint8_t *data;
    uint32_t len;
} ipm_bytes_t;

/* ipm_bytes_t of a C string literal or NUL-terminated string. */
ipm_bytes_t ipm_str(const char *s);

/* ---- properties (5.0) -------------------------------------------------------------- */

typedef enum {
    IPM_PT_BYTE = 1,
    IPM_PT_U16,
    IPM_PT_U32,
    IPM_PT_VARINT,
    IPM_PT_UTF8,
    IPM_PT_BINARY,
    IPM_PT_PAIR /* user property: key and value, both UTF-8 */
} ipm_prop_type_t;

/* One property. For IPM_PT_PAIR, `bin` is the key and `val` the value. */
typedef struct {
    uint8_t id;
    uint32_t num;    /* BYTE, U16, U32, VARINT */
    ipm_bytes_t bin; /* UTF8, BINARY, PAIR key */
    ipm_bytes_t val; /* PAIR value */
} ipm_prop_t;

/*
 * The properties of a packet. Encoding writes `list[0..count)` if list is set (each one
 * validated), else the `raw` block verbatim: raw must be a block decoded from a packet of
 * the same type. Decoding sets `raw` (validated) and `count`. 3.x packets have none:
 * encoding for 3.1 / 3.1.1 ignores properties.
 */
typedef struct {
    const ipm_prop_t *list;
    uint16_t count;
    ipm_bytes_t raw;
} ipm_props_t;

/* Type of property `id`, or 0 if the id is not defined by the 5.0 specification. */
ipm_prop_type_t ipm_prop_type(uint8_t id);

/* Walk a decoded (validated) property block. */
typedef struct {
    const uint8_t *p, *end;
} ipm_prop_iter_t;
void ipm_props_iter(const ipm_props_t *props, ipm_prop_iter_t *it);
/* 1 and the next property, or 0 at the end. */
int ipm_props_next(ipm_prop_iter_t *it, ipm_prop_t *out);
/* First property with this id, from `list` or `raw`; 1 if found, 0 if not. */
int ipm_props_get(const ipm_props_t *props, uint8_t id, ipm_prop_t *out);

/* ---- packets ----------------------------------------------------------------------- */

typedef struct {
    uint8_t version;      /* IPM_PROTO_V31, _V311 or _V5 */
    bool bridge;          /* 3.x: mosquitto's bridge bit, 0x80 on the protocol level */
    bool clean_start;     /* clean session (3.x) or clean start (5.0) */
    uint16_t keepalive;   /* seconds, 0 = off */
    ipm_bytes_t client_id;
    bool will;            /* a will message follows */
    uint8_t will_qos;
    bool will_retain;
    ipm_bytes_t will_topic;
    ipm_bytes_t will_payload;
    ipm_props_t will_props; /* 5.0 */
    bool has_username, has_password;
    ipm_bytes_t username, password;
    ipm_props_t props; /* 5.0 */
} ipm_connect_t;

typedef struct {
    bool session_present;
    uint8_t reason; /* 3.x return code or 5.0 reason code */
    ipm_props_t props;
} ipm_connack_t;

typedef struct {
    ipm_bytes_t topic; /* may be empty in 5.0 when a topic alias is set */
    ipm_bytes_t payload;
    uint8_t qos;
    bool retain, dup;
    uint16_t packet_id; /* QoS 1 and 2 only */
    ipm_props_t props;
} ipm_publish_t;

/* PUBACK, PUBREC, PUBREL, PUBCOMP. */
typedef struct {
    uint16_t packet_id;
    uint8_t reason; /* 5.0; 0 otherwise */
    ipm_props_t props;
} ipm_ack_t;

/* One entry of SUBSCRIBE (options: QoS and the 5.0 option bits) or UNSUBSCRIBE. */
typedef struct {
    ipm_bytes_t filter;
    uint8_t options;
} ipm_sub_t;

/*
 * SUBSCRIBE and UNSUBSCRIBE. Encoding reads `subs[0..count)`; decoding validates every
 * entry and sets `raw` and `count`: walk them with ipm_subs_next().
 */
typedef struct {
    uint16_t packet_id;
    ipm_props_t props;
    const ipm_sub_t *subs;
    uint16_t count;
    ipm_bytes_t raw;
} ipm_subscribe_t;

typedef struct {
    const uint8_t *p, *end;
    bool unsubscribe;
} ipm_sub_iter_t;
void ipm_subs_iter(const ipm_subscribe_t *s, bool unsubscribe, ipm_sub_iter_t *it);
int ipm_subs_next(ipm_sub_iter_t *it, ipm_sub_t *out);

/* SUBACK and UNSUBACK: one reason code per filter (UNSUBACK 3.x has none). */
typedef struct {
    uint16_t packet_id;
    ipm_props_t props;
    const uint8_t *reasons;
    uint16_t count;
} ipm_suback_t;

/* DISCONNECT and AUTH (5.0 reason and properties; empty for 3.x DISCONNECT). */
typedef struct {
    uint8_t reason;
    ipm_props_t props;
} ipm_reason_t;

typedef struct {
    uint8_t type; /* IPM_CONNECT .. IPM_AUTH */
    union {
        ipm_connect_t connect;
        ipm_connack_t connack;
        ipm_publish_t publish;
        ipm_ack_t ack;
        ipm_subscribe_t subscribe; /* also UNSUBSCRIBE */
        ipm_suback_t suback;       /* also UNSUBACK */
        ipm_reason_t disconnect;   /* also AUTH */
    } u;
} ipm_packet_t;

/* ---- stream framing ---------------------------------------------------------------- */

typedef struct {
    uint8_t first_byte;     /* type << 4 | flags */
    uint32_t remaining_len; /* bytes after the fixed header */
    uint32_t header_len;    /* 2..5 */
    uint32_t total_len;     /* header_len + remaining_len */
} ipm_frame_t;

/*
 * Find the next packet in `buf[0..len)`, which may hold a partial packet, several packets,
 * or the first byte only. Returns IPM_OK when a whole packet is present (its bytes are
 * buf[0..f->total_len)), IPM_ENEED_MORE when more bytes are needed (never reading past
 * len), IPM_EBAD_VARINT for a length longer than four bytes, IPM_ETOO_LARGE when the
 * packet would exceed max_packet (0 = no limit beyond the protocol's), IPM_EBAD_TYPE for
 * type 0. Reads at most the fixed header, so it is cheap to call after every read.
 */
int ipm_frame(const uint8_t *buf, size_t len, uint32_t max_packet, ipm_frame_t *f);

/*
 * Decode the packet framed by ipm_frame() at `buf`, for a session speaking `version`
 * (ignored for CONNECT, which carries its own). Every field, flag, string, property and
 * topic is validated as the specification requires of a receiver. On error the packet's
 * contents are unspecified, except that for IPM_EBAD_VERSION pkt->type is IPM_CONNECT and
 * pkt->u.connect.version holds the level the client asked for, so a server can answer
 * in kind. Returns IPM_OK or a negative IPM_E*.
 */
int ipm_decode(const ipm_frame_t *f, const uint8_t *buf, uint8_t version, ipm_packet_t *pkt);

/* ---- encoding ---------------------------------------------------------------------- */

/*
 * Bytes that `pkt` takes on the wire for `version`, including the fixed header, or a
 * negative IPM_E* if the packet is not valid (bad topic, QoS 3, property not allowed...).
 */
int64_t ipm_packet_size(const ipm_packet_t *pkt, uint8_t version);

/*
 * Write `pkt` into buf[0..cap). Returns the number of bytes written, IPM_ENOSPACE if cap
 * is smaller than ipm_packet_size(), or another negative IPM_E* if the packet is invalid.
 */
int64_t ipm_encode(const ipm_packet_t *pkt, uint8_t version, uint8_t *buf, size_t cap);

/* Size of the encoded property block (without its length prefix), or negative IPM_E*. */
int64_t ipm_props_size(const ipm_props_t *props, uint8_t packet_type);

/* ---- primitives ---------------------------------------------------------------------- */

/* Bytes a Variable Byte Integer takes (1..4), or 0 if v is over the limit. */
unsigned ipm_varint_size(uint32_t v);
/* Write v; returns bytes written (buf must have ipm_varint_size(v) bytes). */
unsigned ipm_varint_write(uint8_t *buf, uint32_t v);
/* Read a varint from buf[0..len): bytes used, 0 if more bytes are needed, or IPM_E*. */
int ipm_varint_read(const uint8_t *buf, size_t len, uint32_t *v);

/* MQTT-1.5.4 / MQTT-1.5.3: well-formed UTF-8, no U+0000, no surrogates. */
bool ipm_utf8_valid(const uint8_t *s, size_t len);

/* ---- topics ------------------------------------------------------------------------ */

/* A topic name: valid UTF-8, at least one byte, no '+' or '#'. */
bool ipm_topic_name_valid(const uint8_t *s, size_t len);
/* A topic filter: valid UTF-8, at least one byte, '+' a whole level, '#' last level. */
bool ipm_topic_filter_valid(const uint8_t *s, size_t len);
/*
 * Does `filter` match `topic`? Implements the wildcard rules and MQTT-4.7.2-1: a filter
 * starting with a wildcard does not match a topic starting with '$'. Both must be valid.
 */
bool ipm_topic_matches(const uint8_t *filter, size_t flen, const uint8_t *topic, size_t tlen);

/*
 * Split a shared subscription "$share/{group}/{filter}". Returns 1 and sets group and
 * filter if `s` is one, 0 if it is an ordinary filter, IPM_EBAD_FILTER if it starts
 * with "$share/" but the group is empty or holds '+' or '#', or the filter is missing
 * or invalid.
 */
int ipm_shared_split(const uint8_t *s, size_t len, ipm_bytes_t *group, ipm_bytes_t *filter);

#ifdef __cplusplus
}
#endif

#endif /* IOTPLOT_CODEC_H */
