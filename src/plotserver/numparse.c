/*
 * numparse.c - decimal text to double, correctly rounded, without the locale.
 *
 * The digits are read once into a 64-bit significand w (the first 19 significant digits)
 * and a power of ten q. Then:
 * - w <= 2^53 and 0 <= q <= 22: w and 10^q are both exact doubles, so one IEEE multiply
 *   is the correctly rounded result (Clinger's fast path; its divide for q < 0 is slower
 *   than the method below, so the common path leaves it to parse_careful());
 * - otherwise the Eisel-Lemire method: w times a 128-bit approximation of 5^q
 *   (numparse_pow5.h) gives the leading bits of the exact product, and those bits
 *   decide the rounding except in cases it detects;
 * - when it cannot decide, or more than 19 digits were given and w and w + 1 round
 *   differently, strtod() under a C locale set for this thread only (uselocale), which
 *   is exact but about five times slower (80 ns a number against 16 on the 1M-row CSV
 *   of bench/render/load.sh).
 */
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "numparse.h"
#include "numparse_pow5.h"

/* Most significant digits that always fit in w: 10^19 - 1 < 2^64. */
#define MAX_DIGITS 19

static bool digit(char c)
{
    return (unsigned char)(c - '0') < 10;
}

/* Case-insensitive match of the lowercase word w at s[0..end). */
static bool word(const char *s, const char *end, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(end - s) < n)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((s[i] | 0x20) != w[i])
            return false;
    return true;
}

/* floor(log2(10^q)) for |q| < 1700 (217706 / 2^16 is log2(10) to 6 digits). */
static int log2_pow10(int q)
{
    return (int)(((int64_t)q * 217706) >> 16);
}

/*
 * w * 10^q (w != 0) as the bits of a double; false when the method cannot decide.
 * The product of w (normalized so its top bit is set) and the 128-bit 5^q has its
 * leading 64 bits in hi: 1 + 52 + 2 bits are kept, the rest decide the rounding.
 */
static bool eisel_lemire(uint64_t w, int q, uint64_t *bits)
{
    if (q < IPP_POW5_QMIN) { /* under 10^-323 / 2 even with 19 digits */
        *bits = 0;
        return true;
    }
    if (q > IPP_POW5_QMAX) {
        *bits = 0x7ffull << 52;
        return true;
    }
    int lz = __builtin_clzll(w);
    w <<= lz;
    const uint64_t *p5 = ipp_pow5[q - IPP_POW5_QMIN];
    unsigned __int128 first = (unsigned __int128)w * p5[0];
    uint64_t hi = (uint64_t)(first >> 64), lo = (uint64_t)first;
    if ((hi & 0x1ff) == 0x1ff) {
        /* the dropped bits are all ones: the low half of 5^q may carry into them */
        uint64_t more = (uint64_t)(((unsigned __int128)w * p5[1]) >> 64);
        lo += more;
        hi += lo < more;
        /* still all ones: the truncation of 5^q could be hiding a carry. 5^q is exact
         * in 128 bits for 0 <= q <= 55, and the rounded-up reciprocals are close enough
         * for -27 <= q < 0. */
        if ((hi & 0x1ff) == 0x1ff && lo == UINT64_MAX && (q < -27 || q > 55))
            return false;
    }
    int upper = (int)(hi >> 63);
    int shift = upper + 64 - 52 - 3;
    uint64_t m = hi >> shift;
    int e = log2_pow10(q) + 63 + upper - lz + 1023; /* biased exponent */
    if (e <= 0) { /* subnormal, or zero */
        if (1 - e >= 64) {
            *bits = 0;
            return true;
        }
        m >>= 1 - e;
        m += m & 1;
        m >>= 1;
        /* rounding up may have made it the smallest normal number */
        *bits = m < (1ull << 52) ? m : 1ull << 52;
        return true;
    }
    /* a tie (nothing but zeros dropped, only possible where 5^q is exact: w * 10^q a
     * 54-bit integer, 10^-4 ... 10^23) rounds to even instead of up */
    if (lo <= 1 && q >= -4 && q <= 23 && (m & 3) == 1 && m << shift == hi)
        m &= ~1ull;
    m += m & 1;
    m >>= 1;
    if (m >= 2ull << 52) { /* rounded up to the next power of two */
        m = 1ull << 52;
        e++;
    }
    if (e >= 0x7ff) {
        *bits = 0x7ffull << 52;
        return true;
    }
    *bits = (uint64_t)e << 52 | (m & ((1ull << 52) - 1));
    return true;
}

static locale_t c_locale;
static pthread_once_t c_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void)
{
    c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

/* s[0..n) (a number already checked by the caller) by strtod() in the C locale. */
static double slow_path(const char *s, size_t n)
{
    char small[128], *buf = n < sizeof small ? small : malloc(n + 1);
    pthread_once(&c_once, make_c_locale);
    if (!buf || !c_locale) { /* out of memory: the nearest we can still say */
        if (buf != small)
            free(buf);
        return NAN;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    locale_t old = uselocale(c_locale);
    double v = strtod(buf, NULL);
    uselocale(old);
    if (buf != small)
        free(buf);
    return v;
}

static const double exact_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* nan, inf or infinity after the sign at p; s if none. */
static const char *special(const char *s, const char *p, const char *end, bool neg,
                           double *out)
{
    if (word(p, end, "nan")) {
        *out = neg ? -NAN : NAN;
        return p + 3;
    }
    if (word(p, end, "inf")) {
        *out = neg ? -INFINITY : INFINITY;
        return p + (word(p, end, "infinity") ? 8 : 3);
    }
    return s;
}

/* An exponent after the digits ("e-12"), added to *q; p is left after it, or where it
 * was when what follows is not one. */
static const char *exponent(const char *p, const char *end, int64_t *q)
{
    if (p >= end || (*p | 0x20) != 'e')
        return p;
    const char *e = p + 1;
    bool eneg = false;
    if (e < end && (*e == '-' || *e == '+'))
        eneg = *e++ == '-';
    if (e >= end || !digit(*e))
        return p; /* "1e" is the number 1 followed by 'e', as for strtod() */
    int64_t x = 0;
    for (; e < end && digit(*e); e++)
        if (x < 100000) /* far past any double either way */
            x = x * 10 + (*e - '0');
    *q += eneg ? -x : x;
    return e;
}

/* The general case, digit by digit: a significand of more than 19 digits keeps its
 * first 19 significant ones (and remembers that it dropped some). */
static const char *parse_careful(const char *s, const char *end, double *out)
{
    const char *p = s;
    bool neg = false;
    if (p < end && (*p == '-' || *p == '+'))
        neg = *p++ == '-';
    uint64_t w = 0;
    int64_t q = 0;
    int nd = 0;          /* significant digits in w */
    bool dropped = false; /* digits after the first 19 significant ones */
    const char *start = p;
    for (; p < end && digit(*p); p++) {
        if (nd < MAX_DIGITS) {
            w = w * 10 + (uint64_t)(*p - '0');
            nd += w != 0;
        } else {
            q++;
            dropped = true;
        }
    }
    size_t ndigits = (size_t)(p - start);
    if (p < end && *p == '.') {
        const char *frac = ++p;
        for (; p < end && digit(*p); p++) {
            if (nd < MAX_DIGITS) {
                w = w * 10 + (uint64_t)(*p - '0');
                nd += w != 0;
                q--;
            } else {
                dropped = true;
            }
        }
        ndigits += (size_t)(p - frac);
    }
    if (ndigits == 0)
        return special(s, start, end, neg, out);
    p = exponent(p, end, &q);
    double v;
    uint64_t bits, bits1;
    if (w == 0) {
        v = 0.0;
    } else if (!dropped && q >= -22 && q <= 22 && w <= 1ull << 53) {
        v = q < 0 ? (double)w / exact_pow10[-q] : (double)w * exact_pow10[q];
    } else if (q < -400 || q > 400) { /* w < 10^19: far below the smallest or past the largest */
        v = q < 0 ? 0.0 : INFINITY;
    } else if (eisel_lemire(w, (int)q, &bits) &&
               (!dropped || (w + 1 != 0 && eisel_lemire(w + 1, (int)q, &bits1) &&
                             bits1 == bits))) {
        /* with digits dropped the value lies in [w, w + 1) * 10^q: decided when both
         * ends round to the same double */
        memcpy(&v, &bits, sizeof v);
    } else {
        v = slow_path(s, (size_t)(p - s));
        neg = false; /* strtod() read the sign */
    }
    *out = neg ? -v : v;
    return p;
}

/* Eight ASCII digits at p (little-endian load), and their value. The bytes are digits
 * when adding 6 carries none of them out of 0x30-0x39 (SWAR: all lanes at once). */
static uint64_t load8(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static bool eight_digits(uint64_t v)
{
    return (((v & 0xf0f0f0f0f0f0f0f0u) |
             (((v + 0x0606060606060606u) & 0xf0f0f0f0f0f0f0f0u) >> 4)) ==
            0x3333333333333333u);
}

/* Pairs first (byte i becomes 10 d_i + d_i+1), then the four pairs weighted 10^6, 10^4,
 * 100 and 1 by two multiplies whose upper halves add up to the value. */
static uint64_t eight_value(uint64_t v)
{
    v -= 0x3030303030303030u;
    v = v * 10 + (v >> 8);
    return ((v & 0x000000ff000000ffu) * (100 + (1000000ull << 32)) +
            ((v >> 16) & 0x000000ff000000ffu) * (1 + (10000ull << 32))) >>
           32;
}

/* Digits at *pp into *w (wrapping past 19 of them: the caller checks the count).
 * Inlined: as a call its pointer arguments kept w and p in memory, a third of the time. */
static inline __attribute__((always_inline)) size_t run_of_digits(const char **pp,
                                                                  const char *end, uint64_t *w)
{
    const char *p = *pp, *start = p;
    uint64_t v = *w;
    while (end - p >= 8 && eight_digits(load8(p))) {
        v = v * 100000000 + eight_value(load8(p));
        p += 8;
    }
    for (; p < end && digit(*p); p++)
        v = v * 10 + (uint64_t)(*p - '0');
    *w = v;
    *pp = p;
    return (size_t)(p - start);
}

const char *ipp__parse_double(const char *s, const char *end, double *out)
{
    /* the common case in one pass: at most 19 digits, read eight at a time */
    const char *p = s;
    bool neg = false;
    if (p < end && (*p == '-' || *p == '+'))
        neg = *p++ == '-';
    const char *start = p;
    uint64_t w = 0;
    size_t nint = run_of_digits(&p, end, &w), nfrac = 0;
    if (p < end && *p == '.') {
        p++;
        nfrac = run_of_digits(&p, end, &w);
    }
    if (nint + nfrac == 0)
        return special(s, start, end, neg, out);
    if (nint + nfrac > MAX_DIGITS) {
        /* leading zeros do not count; past 19 significant digits w has wrapped */
        size_t zeros = 0;
        for (const char *z = start; z < p && (*z == '0' || *z == '.'); z++)
            zeros += *z == '0';
        if (nint + nfrac - zeros > MAX_DIGITS)
            return parse_careful(s, end, out);
    }
    int64_t q = -(int64_t)nfrac;
    p = exponent(p, end, &q);
    double v;
    uint64_t bits;
    if (w == 0)
        v = 0.0;
    else if (q >= 0 && q <= 22 && w <= 1ull << 53) /* a division is slower than the */
        v = (double)w * exact_pow10[q];             /* method below: multiplies only */
    else if (q < -400 || q > 400)
        v = q < 0 ? 0.0 : INFINITY;
    else if (eisel_lemire(w, (int)q, &bits))
        memcpy(&v, &bits, sizeof v);
    else
        return parse_careful(s, end, out);
    *out = neg ? -v : v;
    return p;
}
