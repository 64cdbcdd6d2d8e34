/*
 * wire.h - bounds-checked readers and a counting writer shared by the codec's files.
 *
 * Reads of untrusted bytes return an error; the writer is only ever given our own data
 * after its size has been checked, so it cannot overflow (and asserts that).
 */
#ifndef IPM_CODEC_WIRE_H
#define IPM_CODEC_WIRE_H

#include <assert.h>
#include <string.h>

#include "iotplot/codec.h"

typedef struct {
    const uint8_t *p, *end;
} ipm__rd_t;

static inline size_t rd_left(const ipm__rd_t *r) { return (size_t)(r->end - r->p); }

static inline int rd_u8(ipm__rd_t *r, uint8_t *v)
{
    if (r->p >= r->end)
        return IPM_ETRUNCATED;
    *v = *r->p++;
    return IPM_OK;
}

static inline int rd_u16(ipm__rd_t *r, uint16_t *v)
{
    if (rd_left(r) < 2)
        return IPM_ETRUNCATED;
    *v = (uint16_t)(r->p[0] << 8 | r->p[1]);
    r->p += 2;
    return IPM_OK;
}

static inline int rd_u32(ipm__rd_t *r, uint32_t *v)
{
    if (rd_left(r) < 4)
        return IPM_ETRUNCATED;
    *v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
    r->p += 4;
    return IPM_OK;
}

static inline int rd_varint(ipm__rd_t *r, uint32_t *v)
{
    int n = ipm_varint_read(r->p, rd_left(r), v);
    if (n == 0)
        return IPM_ETRUNCATED;
    if (n < 0)
        return n;
    r->p += n;
    return IPM_OK;
}

/* Two-byte length then that many bytes (Binary Data). */
static inline int rd_bin(ipm__rd_t *r, ipm_bytes_t *b)
{
    uint16_t n;
    int rc = rd_u16(r, &n);
    if (rc)
        return rc;
    if (rd_left(r) < n)
        return IPM_ETRUNCATED;
    b->data = r->p;
    b->len = n;
    r->p += n;
    return IPM_OK;
}

/* A UTF-8 Encoded String: Binary Data that must be well-formed UTF-8. */
static inline int rd_str(ipm__rd_t *r, ipm_bytes_t *b)
{
    int rc = rd_bin(r, b);
    if (rc)
        return rc;
    return ipm_utf8_valid(b->data, b->len) ? IPM_OK : IPM_EBAD_UTF8;
}

/* Writer: with p == NULL it only counts, so one layout function both sizes and writes. */
typedef struct {
    uint8_t *p;
    size_t len, cap;
} ipm__wr_t;

static inline void wr_u8(ipm__wr_t *w, uint8_t v)
{
    if (w->p) {
        assert(w->len < w->cap);
        w->p[w->len] = v;
    }
    w->len++;
}

static inline void wr_u16(ipm__wr_t *w, uint16_t v)
{
    wr_u8(w, (uint8_t)(v >> 8));
    wr_u8(w, (uint8_t)v);
}

static inline void wr_u32(ipm__wr_t *w, uint32_t v)
{
    wr_u16(w, (uint16_t)(v >> 16));
    wr_u16(w, (uint16_t)v);
}

static inline void wr_varint(ipm__wr_t *w, uint32_t v)
{
    do {
        uint8_t b = v & 0x7F;
        v >>= 7;
        wr_u8(w, v ? (uint8_t)(b | 0x80) : b);
    } while (v);
}

static inline void wr_raw(ipm__wr_t *w, const uint8_t *d, size_t n)
{
    if (w->p && n) {
        assert(w->len + n <= w->cap);
        memcpy(w->p + w->len, d, n);
    }
    w->len += n;
}

static inline void wr_bin(ipm__wr_t *w, ipm_bytes_t b)
{
    wr_u16(w, (uint16_t)b.len);
    wr_raw(w, b.data, b.len);
}

/* Internal entry points between the codec's files. */
int ipm__props_decode(ipm__rd_t *r, uint8_t packet_type, ipm_props_t *out);
bool ipm__auth_props_ok(const ipm_props_t *props);
int ipm__props_put(ipm__wr_t *w, const ipm_props_t *props, uint8_t packet_type);
int ipm__str_ok(ipm_bytes_t s);
int ipm__bin_ok(ipm_bytes_t b);
bool ipm__reason_ok(uint8_t packet_type, uint8_t reason);

/* Packet "type" used for the allowed-in mask of will properties. */
#define IPM__WILL 0

#endif
