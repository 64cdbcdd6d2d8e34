/*
 * json_file.c - read JSON series files back: {"columns": [names], "rows": [[numbers],
 * ...]} (what save_series writes; other members such as "series" are ignored) or
 * {name: [numbers], ...} (a Python user's json.dump of a dict of lists).
 *
 * One pass over the text without building a tree: numbers are parsed where they lie
 * (ipp__parse_double) straight into growing columns, so a million rows take tens of
 * milliseconds where a cJSON tree took half a second and ten times the file's size.
 * null is a missing value (NaN); NaN, Infinity and -Infinity, which Python's json
 * writes, are numbers.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json_scan.h"
#include "numparse.h"
#include "plot_internal.h"

/* Deepest nesting skipped in members we ignore. */
#define MAX_DEPTH 64
/* Longest member name, decoded. */
#define KEY_MAX (4 * IPP_MAX_NAME)

typedef struct {
    double *v;
    size_t n, cap;
} column_t;

typedef struct {
    const char *p, *end, *start;
    const char *syntax; /* the JSON itself is malformed (why) */
    char why[KEY_MAX + 96]; /* the first column that is not numbers */
    /* {name: [numbers]} members, in order; names[i] owned */
    column_t cols[IPP_MAX_COLS];
    char *names[IPP_MAX_COLS];
    size_t ncols;
    bool not_column; /* a member that is not an array of numbers */
    /* "columns" and "rows" */
    char *header[IPP_MAX_COLS];
    size_t nheader;
    bool has_header, has_rows;
    bool bad_header;
    column_t rows[IPP_MAX_COLS];
    size_t width, nrows, bad_row; /* bad_row: the first, counted from 1 */
} reader_t;

static void ws(reader_t *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
        r->p++;
}

static int bad(reader_t *r, const char *why)
{
    if (!r->syntax)
        r->syntax = why;
    return -1;
}

static bool at(reader_t *r, char c)
{
    ws(r);
    return r->p < r->end && *r->p == c;
}

static int expect(reader_t *r, char c)
{
    if (!at(r, c))
        return bad(r, "unexpected character");
    r->p++;
    return 0;
}

static int push(column_t *c, double v)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        double *p = realloc(c->v, cap * sizeof *p);
        if (!p)
            return -1;
        c->v = p;
        c->cap = cap;
    }
    c->v[c->n++] = v;
    return 0;
}

/* Past any value (checked only as far as needed to find its end). */
static int skip(reader_t *r, int depth)
{
    ws(r);
    if (r->p >= r->end)
        return bad(r, "unexpected end");
    char c = *r->p;
    if (c == '"') {
        const char *q = r->p + 1;
        while (q < r->end && *q != '"')
            q += *q == '\\' ? 2 : 1;
        if (q >= r->end)
            return bad(r, "unterminated string");
        r->p = q + 1;
        return 0;
    }
    if (c == '[' || c == '{') {
        char close = c == '[' ? ']' : '}';
        if (depth >= MAX_DEPTH)
            return bad(r, "nested too deep");
        r->p++;
        if (at(r, close)) {
            r->p++;
            return 0;
        }
        for (;;) {
            if (c == '{' && (skip(r, depth + 1) || expect(r, ':')))
                return -1;
            if (skip(r, depth + 1))
                return -1;
            if (at(r, ',')) {
                r->p++;
                continue;
            }
            return expect(r, close);
        }
    }
    const char *q = r->p; /* a number or a literal */
    while (q < r->end && *q != ',' && *q != ']' && *q != '}' && *q != ' ' && *q != '\n' &&
           *q != '\r' && *q != '\t')
        q++;
    if (q == r->p)
        return bad(r, "unexpected character");
    r->p = q;
    return 0;
}

/* A number or null (NaN) at r->p: 1 and *v, 0 if it is another value (not consumed),
 * -1 if it is not JSON. */
static int number(reader_t *r, double *v)
{
    ws(r);
    const char *q = ipp__parse_double(r->p, r->end, v);
    if (q == r->p) {
        if (r->end - r->p >= 4 && !memcmp(r->p, "null", 4)) {
            q = r->p + 4;
            *v = NAN;
        } else {
            return r->p < r->end && (*r->p == '"' || *r->p == '[' || *r->p == '{' ||
                                     *r->p == 't' || *r->p == 'f')
                       ? 0
                       : bad(r, "bad number");
        }
    }
    if (q < r->end && *q != ',' && *q != ']' && *q != '}' && *q != ' ' && *q != '\n' &&
        *q != '\r' && *q != '\t')
        return bad(r, "bad number");
    r->p = q;
    return 1;
}

/* [numbers] into c; 1 if it held something else (skipped), 0, or -1. */
static int numbers(reader_t *r, column_t *c)
{
    if (expect(r, '['))
        return -1;
    if (at(r, ']')) {
        r->p++;
        return 0;
    }
    for (;;) {
        double v;
        int k = number(r, &v);
        if (k < 0)
            return -1;
        if (k == 0) { /* the rest of the array, whatever it is */
            for (;;) {
                if (skip(r, 1))
                    return -1;
                if (!at(r, ','))
                    return expect(r, ']') ? -1 : 1;
                r->p++;
            }
        }
        if (push(c, v))
            return bad(r, "out of memory");
        if (at(r, ',')) {
            r->p++;
            continue;
        }
        return expect(r, ']');
    }
}

/* One row [numbers] into r->rows: 0, 1 if it is something else or not as wide as the
 * first row (the rest of it skipped), -1. */
static int row(reader_t *r)
{
    if (!at(r, '['))
        return skip(r, 1) ? -1 : 1;
    r->p++;
    size_t c = 0;
    if (at(r, ']')) {
        r->p++;
    } else {
        for (;;) {
            double v;
            int k = c == IPP_MAX_COLS || (r->nrows && c == r->width) ? 0 : number(r, &v);
            if (k < 0)
                return -1;
            if (k == 0) { /* too wide, or not a number: skip from here */
                for (;;) {
                    if (skip(r, 2))
                        return -1;
                    if (!at(r, ','))
                        return expect(r, ']') ? -1 : 1;
                    r->p++;
                }
            }
            if (push(&r->rows[c++], v))
                return bad(r, "out of memory");
            if (at(r, ',')) {
                r->p++;
                continue;
            }
            if (expect(r, ']'))
                return -1;
            break;
        }
    }
    if (!r->nrows)
        r->width = c;
    return c == r->width ? 0 : 1;
}

/* "rows": [[numbers], ...]; after a bad row the rest are only skipped. */
static int rows(reader_t *r)
{
    if (expect(r, '['))
        return -1;
    r->has_rows = true;
    if (at(r, ']')) {
        r->p++;
        return 0;
    }
    for (;;) {
        int k = r->bad_row ? skip(r, 1) : row(r);
        if (k < 0)
            return -1;
        if (k == 1)
            r->bad_row = r->nrows + 1;
        else if (!r->bad_row)
            r->nrows++;
        if (at(r, ',')) {
            r->p++;
            continue;
        }
        return expect(r, ']');
    }
}

/* "columns": [names] into r->header; 1 if it is not a list of strings. */
static int header(reader_t *r)
{
    char name[KEY_MAX];
    const char *why;
    if (expect(r, '['))
        return -1;
    r->has_header = true;
    if (at(r, ']')) {
        r->p++;
        return 0;
    }
    for (;;) {
        if (!at(r, '"') || r->nheader == IPP_MAX_COLS) {
            r->bad_header = true;
            for (;;) { /* the rest of the list */
                if (skip(r, 1))
                    return -1;
                if (!at(r, ','))
                    return expect(r, ']') ? -1 : 1;
                r->p++;
            }
        }
        const char *q = ipp__json_string(r->p, r->end, name, sizeof name, &why);
        if (!q)
            return bad(r, why);
        r->p = q;
        if (!(r->header[r->nheader++] = strdup(name)))
            return bad(r, "out of memory");
        if (at(r, ',')) {
            r->p++;
            continue;
        }
        return expect(r, ']');
    }
}

/* One member "key": value. */
static int member(reader_t *r)
{
    char key[KEY_MAX];
    const char *why;
    ws(r);
    const char *q = ipp__json_string(r->p, r->end, key, sizeof key, &why);
    if (!q)
        return bad(r, why);
    r->p = q;
    if (expect(r, ':'))
        return -1;
    if (!at(r, '[')) { /* "series": "name" and the like: not a column */
        r->not_column = true;
        return skip(r, 0);
    }
    if (!strcmp(key, "rows") && !r->has_rows) {
        r->not_column = true;
        return rows(r);
    }
    if (!strcmp(key, "columns") && !r->has_header) {
        const char *was = r->p;
        r->p++;
        bool strings = at(r, '"');
        r->p = was;
        if (strings) {
            r->not_column = true;
            return header(r) < 0 ? -1 : 0;
        }
    }
    if (r->ncols == IPP_MAX_COLS) {
        r->not_column = true;
        return skip(r, 0);
    }
    column_t *c = &r->cols[r->ncols];
    if (!(r->names[r->ncols] = strdup(key)))
        return bad(r, "out of memory");
    r->ncols++;
    int k = numbers(r, c);
    if (k == 1) {
        r->not_column = true;
        if (!r->why[0])
            snprintf(r->why, sizeof r->why,
                     "column '%s' holds something else than numbers", key);
    }
    return k < 0 ? -1 : 0;
}

/* n columns of which the longest is nrows, as d (the columns handed over, padded with
 * NaN: columns of unequal length are not refused). */
static int to_data(column_t *cols, char *const *names, size_t n, ipp_data_t *d)
{
    size_t nrows = 0;
    for (size_t c = 0; c < n; c++)
        nrows = cols[c].n > nrows ? cols[c].n : nrows;
    if (ipp__data_init(d, (const char *const *)names, n))
        return -1;
    for (size_t c = 0; c < n; c++) {
        double *v = cols[c].v;
        if (cols[c].cap < nrows || !v) {
            v = realloc(v, (nrows ? nrows : 1) * sizeof *v);
            if (!v)
                return -1;
        }
        for (size_t i = cols[c].n; i < nrows; i++)
            v[i] = NAN;
        d->cols[c] = v;
        cols[c] = (column_t){0};
    }
    d->nrows = nrows;
    return 0;
}

static int parse(reader_t *r, ipp_data_t *d, char *err, size_t errlen)
{
    if (!at(r, '{')) {
        if (r->p < r->end && (*r->p == '[' || *r->p == '"'))
            snprintf(err, errlen, "not a JSON object");
        else
            bad(r, "not JSON");
        return -1;
    }
    r->p++;
    if (at(r, '}'))
        r->p++;
    else
        for (;;) {
            if (member(r))
                return -1;
            if (at(r, ',')) {
                r->p++;
                continue;
            }
            if (expect(r, '}'))
                return -1;
            break;
        }
    ws(r);
    if (r->p != r->end)
        return bad(r, "text after the object");
    if (r->has_header && r->has_rows) {
        if (r->bad_header)
            snprintf(err, errlen, "\"columns\" is not a list of strings");
        else if (r->bad_row || (r->nrows && r->width != r->nheader))
            snprintf(err, errlen, "row %zu is not %zu numbers", r->bad_row ? r->bad_row : 1,
                     r->nheader);
        else /* without rows the header alone says what the columns are */
            return to_data(r->rows, r->header, r->nheader, d) ? bad(r, "out of memory") : 0;
        return -1;
    }
    if (r->not_column) {
        snprintf(err, errlen, "%s", r->why[0] ? r->why
                                              : "expected {\"columns\", \"rows\"} or "
                                                "{name: [values]}");
        return -1;
    }
    return to_data(r->cols, r->names, r->ncols, d) ? bad(r, "out of memory") : 0;
}

int ipp_read_json(const char *buf, size_t len, ipp_data_t *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3)) { /* RFC 8259 lets a reader skip it */
        buf += 3;
        len -= 3;
    }
    reader_t *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    r->p = r->start = buf;
    r->end = buf + len;
    err[0] = '\0';
    int rc = parse(r, d, err, errlen);
    if (rc && r->syntax && !strcmp(r->syntax, "out of memory"))
        snprintf(err, errlen, "out of memory");
    else if (rc && r->syntax)
        snprintf(err, errlen, "not JSON (error near byte %td: %s)", r->p - r->start,
                 r->syntax);
    for (size_t i = 0; i < IPP_MAX_COLS; i++) {
        free(r->cols[i].v);
        free(r->rows[i].v);
        free(r->names[i]);
        free(r->header[i]);
    }
    free(r);
    if (rc)
        ipp_data_free(d);
    return rc;
}
