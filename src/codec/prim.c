/*
 * prim.c - the specification's data representations: Variable Byte Integers and
 * UTF-8 Encoded Strings.
 */
#include <string.h>

#include "wire.h"

ipm_bytes_t ipm_str(const char *s)
{
    ipm_bytes_t b = {(const uint8_t *)s, s ? (uint32_t)strlen(s) : 0};
    return b;
}

unsigned ipm_varint_size(uint32_t v)
{
    if (v < 128u)
        return 1;
    if (v < 16384u)
        return 2;
    if (v < 2097152u)
        return 3;
    if (v <= IPM_MAX_REMAINING_LENGTH)
        return 4;
    return 0;
}

unsigned ipm_varint_write(uint8_t *buf, uint32_t v)
{
    ipm__wr_t w = {buf, 0, 4};
    assert(v <= IPM_MAX_REMAINING_LENGTH);
    wr_varint(&w, v);
    return (unsigned)w.len;
}

int ipm_varint_read(const uint8_t *buf, size_t len, uint32_t *v)
{
    uint32_t value = 0;
    for (size_t i = 0; i < 4; i++) {
        if (i >= len)
            return 0;
        value |= (uint32_t)(buf[i] & 0x7F) << (7 * i);
        if (!(buf[i] & 0x80)) {
            /* MQTT-1.5.5-1: the encoding must use the minimum number of bytes. */
            if (i > 0 && buf[i] == 0)
                return IPM_EBAD_VARINT;
            *v = value;
            return (int)i + 1;
        }
    }
    return IPM_EBAD_VARINT;
}

/*
 * Well-formed UTF-8 per RFC 3629 (no overlong forms, no surrogates, nothing above
 * U+10FFFF) and, for MQTT, no U+0000 (MQTT-1.5.4-1, MQTT-1.5.4-2).
 */
bool ipm_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        if (c < 0x80) {
            if (c == 0)
                return false;
            i++;
            continue;
        }
        size_t n;
        uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            if (c == 0xE0)
                lo = 0xA0; /* overlong */
            else if (c == 0xED)
                hi = 0x9F; /* surrogates U+D800..U+DFFF */
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            if (c == 0xF0)
                lo = 0x90; /* overlong */
            else if (c == 0xF4)
                hi = 0x8F; /* above U+10FFFF */
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k <= n; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
        i += n + 1;
    }
    return true;
}

int ipm__str_ok(ipm_bytes_t s)
{
    if (s.len > IPM_MAX_STRING_LEN || (s.len && !s.data))
        return IPM_EINVALID;
    return ipm_utf8_valid(s.data, s.len) ? IPM_OK : IPM_EBAD_UTF8;
}

int ipm__bin_ok(ipm_bytes_t b)
{
    return b.len > IPM_MAX_STRING_LEN || (b.len && !b.data) ? IPM_EINVALID : IPM_OK;
}
