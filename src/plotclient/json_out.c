/*
 * json_out.c - a bounded JSON writer and the shortest round-trip number format.
 *
 * Freestanding apart from snprintf and strtod, so it builds for microcontrollers; used by
 * the plot client for its payloads and by the server's exporters for .json and .csv.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotplot/plotclient.h"
#include "utf8.h"

/* Digits, sign and exponent: anything else in snprintf's output is the decimal point. */
static int num_char(char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e' || c == 'E';
}

/*
 * The C library writes the locale's decimal point, which may be ',' or even several
 * bytes; JSON and CSV need '.'. Collapse that run of bytes into one '.'.
 */
static size_t normalize_point(char *s, size_t n)
{
    size_t i = 0;
    while (i < n && num_char(s[i]))
        i++;
    if (i == n)
        return n;
    size_t j = i + 1;
    while (j < n && !num_char(s[j]))
        j++;
    s[i] = '.';
    memmove(s + i + 1, s + j, n - j + 1);
    return n - (j - i - 1);
}

size_t ipp_fmt_double(char *out, size_t cap, double v)
{
    const char *special = NULL;
    if (isnan(v))
        special = "NaN";
    else if (isinf(v))
        special = v > 0 ? "Infinity" : "-Infinity";
    if (special) {
        size_t n = strlen(special);
        memcpy(out, special, n + 1);
        return n;
    }
    /* The first precision that reads back exactly is the shortest %g form; 17 always
     * does. Parsing back with the same locale as the writing keeps the test honest. */
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(out, cap, "%.*g", prec, v);
        if (prec == 17 || strtod(out, NULL) == v)
            break;
    }
    size_t len = normalize_point(out, (size_t)n);
    /* Python prints floats with a point or an exponent, so "1" becomes "1.0": the
     * original server then sees a float, as if the device were running Python. */
    if (!strpbrk(out, ".eE") && len + 2 < cap) {
        memcpy(out + len, ".0", 3);
        len += 2;
    }
    return len;
}

void ipp_json_init(ipp_json_t *j, char *buf, size_t cap)
{
    j->buf = buf;
    j->cap = cap;
    j->len = 0;
    j->err = 0;
    if (cap)
        buf[0] = '\0';
}

void ipp_json_raw(ipp_json_t *j, const char *s, size_t n)
{
    if (j->err)
        return;
    /* keep one byte for the NUL so the buffer is always a C string too */
    if (n >= j->cap - j->len) {
        j->err = IPM_ENOSPACE;
        return;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = '\0';
}

size_t ipp__utf8_seq(const unsigned char *s, size_t avail)
{
    unsigned c = s[0];
    size_t n;
    unsigned min;
    if (avail == 0)
        return 0;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, min = 0x10000;
    else
        return 0;
    if (avail < n)
        return 0;
    unsigned cp = c & (0x3F >> (n - 1));
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

void ipp_json_str(ipp_json_t *j, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    ipp_json_raw(j, "\"", 1);
    const unsigned char *p = (const unsigned char *)s;
    while (*p && !j->err) {
        size_t run = 0;
        /* copy plain bytes in runs; stop at anything that needs escaping or checking */
        while (p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
            run++;
        if (run) {
            ipp_json_raw(j, (const char *)p, run);
            p += run;
            continue;
        }
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (*p) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            if (*p < 0x20) {
                memcpy(esc + 1, "u00", 3);
                esc[4] = hex[*p >> 4];
                esc[5] = hex[*p & 15];
                n = 6;
            } else {
                n = ipp__utf8_seq(p, 4); /* a NUL ends the string first */
                if (!n) {
                    j->err = IPM_EBAD_UTF8;
                    return;
                }
                ipp_json_raw(j, (const char *)p, n);
                p += n;
                continue;
            }
        }
        ipp_json_raw(j, esc, n);
        p++;
    }
    ipp_json_raw(j, "\"", 1);
}

void ipp_json_num(ipp_json_t *j, double v)
{
    char tmp[40];
    size_t n = ipp_fmt_double(tmp, sizeof tmp, v);
    ipp_json_raw(j, tmp, n);
}
