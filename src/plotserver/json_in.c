/*
 * json_in.c - the plot server's parser for payloads: one JSON array of scalars.
 *
 * `data` messages are the hot path (100k a second), so they are parsed here in one pass
 * without building a tree. The parser also accepts NaN, Infinity and -Infinity, which
 * Python's json.dumps writes and cJSON refuses. Nested values (the options object of
 * plot_series) are only delimited here and handed to cJSON.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json_scan.h"
#include "numparse.h"
#include "plot_internal.h"
#include "plotclient/utf8.h"

typedef struct {
    const char *p, *end;
    char *out, *out_end;
    const char *why;
} parser_t;

static void skip_ws(parser_t *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int fail(parser_t *ps, const char *why)
{
    if (!ps->why)
        ps->why = why;
    return -1;
}

static int hex4(parser_t *ps, unsigned *v)
{
    if (ps->end - ps->p < 4)
        return fail(ps, "bad \\u escape");
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = *ps->p++;
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return fail(ps, "bad \\u escape");
        *v = *v << 4 | d;
    }
    return 0;
}

static int put(parser_t *ps, const char *b, size_t n)
{
    if ((size_t)(ps->out_end - ps->out) < n + 1)
        return fail(ps, "strings too long");
    memcpy(ps->out, b, n);
    ps->out += n;
    return 0;
}

/* A \uXXXX escape (with its surrogate pair) as UTF-8; U+0000 is refused. */
static int unicode_escape(parser_t *ps)
{
    unsigned cp;
    if (hex4(ps, &cp))
        return -1;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        unsigned lo;
        if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u')
            return fail(ps, "lone surrogate in string");
        ps->p += 2;
        if (hex4(ps, &lo) || lo < 0xDC00 || lo > 0xDFFF)
            return fail(ps, "lone surrogate in string");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        return fail(ps, "lone surrogate in string");
    }
    if (cp == 0)
        return fail(ps, "NUL character in string");
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    } else {
        u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    }
    return put(ps, u, n);
}

/* A string starting at the opening quote, decoded into the string buffer. */
static int string(parser_t *ps, ipp_jval_t *v)
{
    ps->p++;
    char *start = ps->out;
    for (;;) {
        if (ps->p >= ps->end)
            return fail(ps, "unterminated string");
        unsigned char c = (unsigned char)*ps->p;
        if (c == '"')
            break;
        if (c < 0x20)
            return fail(ps, "control character in string");
        if (c != '\\') {
            /* plain bytes in a run; text must be UTF-8, since it may become a file name */
            const char *run = ps->p;
            while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\' &&
                   (unsigned char)*ps->p >= 0x20) {
                size_t n = ipp__utf8_seq((const unsigned char *)ps->p,
                                         (size_t)(ps->end - ps->p));
                if (!n)
                    return fail(ps, "string is not UTF-8");
                ps->p += n;
            }
            if (put(ps, run, (size_t)(ps->p - run)))
                return -1;
            continue;
        }
        if (++ps->p >= ps->end)
            return fail(ps, "unterminated string");
        char e = *ps->p++, r;
        switch (e) {
        case '"': r = '"'; break;
        case '\\': r = '\\'; break;
        case '/': r = '/'; break;
        case 'b': r = '\b'; break;
        case 'f': r = '\f'; break;
        case 'n': r = '\n'; break;
        case 'r': r = '\r'; break;
        case 't': r = '\t'; break;
        case 'u':
            if (unicode_escape(ps))
                return -1;
            continue;
        default: return fail(ps, "bad escape in string");
        }
        if (put(ps, &r, 1))
            return -1;
    }
    ps->p++;
    *ps->out++ = '\0';
    v->type = IPP_JV_STR;
    v->str = start;
    v->len = (size_t)(ps->out - start - 1);
    return 0;
}

static bool word(parser_t *ps, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, w, n))
        return false;
    ps->p += n;
    return true;
}

/* A number in JSON's grammar (checked here: the parser would take more). */
static int number(parser_t *ps, ipp_jval_t *v)
{
    const char *s = ps->p, *q = s;
    if (q < ps->end && *q == '-')
        q++;
    if (word(&(parser_t){.p = q, .end = ps->end}, "Infinity")) {
        ps->p = q + 8;
        v->type = IPP_JV_NUM;
        v->num = *s == '-' ? -HUGE_VAL : HUGE_VAL;
        return 0;
    }
    const char *digits = q;
    while (q < ps->end && *q >= '0' && *q <= '9')
        q++;
    if (q == digits || (*digits == '0' && q - digits > 1))
        return fail(ps, "bad number");
    if (q < ps->end && *q == '.') {
        const char *f = ++q;
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
        if (q == f)
            return fail(ps, "bad number");
    }
    if (q < ps->end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < ps->end && (*q == '+' || *q == '-'))
            q++;
        const char *x = q;
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
        if (q == x)
            return fail(ps, "bad number");
    }
    if (q - s >= 64)
        return fail(ps, "number too long");
    v->type = IPP_JV_NUM;
    ipp__parse_double(s, q, &v->num); /* not strtod: "1.5" is 1 under a German locale */
    ps->p = q;
    return 0;
}

/* Delimit a nested array or object: brackets balanced outside strings; cJSON checks
 * the rest. */
static int nested(parser_t *ps, ipp_jval_t *v)
{
    const char *s = ps->p;
    int depth = 0;
    bool in_str = false;
    for (; ps->p < ps->end; ps->p++) {
        char c = *ps->p;
        if (in_str) {
            if (c == '\\')
                ps->p++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"')
            in_str = true;
        else if (c == '[' || c == '{')
            depth++;
        else if ((c == ']' || c == '}') && --depth == 0) {
            ps->p++;
            v->type = IPP_JV_NESTED;
            v->str = s;
            v->len = (size_t)(ps->p - s);
            return 0;
        }
        if (depth > 64)
            return fail(ps, "nested too deep");
    }
    return fail(ps, "unterminated array or object");
}

static int value(parser_t *ps, ipp_jval_t *v)
{
    if (ps->p >= ps->end)
        return fail(ps, "unexpected end");
    memset(v, 0, sizeof *v);
    char c = *ps->p;
    if (c == '"')
        return string(ps, v);
    if (c == '[' || c == '{')
        return nested(ps, v);
    if (word(ps, "null")) {
        v->type = IPP_JV_NULL;
        return 0;
    }
    if (word(ps, "true") || word(ps, "false")) {
        v->type = IPP_JV_BOOL;
        v->b = ps->p[-1] == 'e' && ps->p[-2] == 'u';
        return 0;
    }
    if (word(ps, "NaN")) {
        v->type = IPP_JV_NUM;
        v->num = NAN;
        return 0;
    }
    if (c == '-' || (c >= '0' && c <= '9') || c == 'I')
        return number(ps, v);
    return fail(ps, "not JSON");
}

int ipp_json_array(const char *s, size_t n, ipp_jval_t *vals, size_t maxvals, char *strbuf,
                   size_t strcap, const char **why)
{
    parser_t ps = {.p = s, .end = s + n, .out = strbuf, .out_end = strbuf + strcap};
    int count = 0;
    skip_ws(&ps);
    if (ps.p >= ps.end || *ps.p != '[') {
        fail(&ps, "not a JSON array");
        goto bad;
    }
    ps.p++;
    skip_ws(&ps);
    bool empty = ps.p < ps.end && *ps.p == ']';
    if (empty)
        ps.p++;
    while (!empty) {
        if ((size_t)count >= maxvals) {
            fail(&ps, "too many items");
            goto bad;
        }
        skip_ws(&ps);
        if (value(&ps, &vals[count]))
            goto bad;
        count++;
        skip_ws(&ps);
        if (ps.p < ps.end && *ps.p == ',') {
            ps.p++;
            continue;
        }
        if (ps.p < ps.end && *ps.p == ']') {
            ps.p++;
            break;
        }
        fail(&ps, "expected ',' or ']'");
        goto bad;
    }
    skip_ws(&ps);
    if (ps.p == ps.end)
        return count;
    fail(&ps, "text after the array");
bad:
    *why = ps.why ? ps.why : "invalid JSON";
    return -1;
}

const char *ipp__json_string(const char *s, const char *end, char *out, size_t cap,
                             const char **why)
{
    parser_t ps = {.p = s, .end = end, .out = out, .out_end = out + cap};
    ipp_jval_t v;
    if (s >= end || *s != '"') {
        *why = "expected a string";
        return NULL;
    }
    if (string(&ps, &v)) {
        *why = ps.why;
        return NULL;
    }
    return ps.p;
}
