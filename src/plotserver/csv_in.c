/*
 * csv_in.c - read CSV series files back (what save_series writes, and what a
 * spreadsheet or pandas exports): a header line of names, then rows of numbers, with an
 * optional last column `received` of ISO 8601 arrival times.
 *
 * Written for a million rows in a few tens of milliseconds: one pass over the bytes in
 * place (the input may be a read-only mapping), numbers parsed where they lie by
 * ipp__parse_double(), values stored straight into the columns, no allocation per line.
 * Quoted fields take a slower path that unquotes them into a buffer first.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "numparse.h"
#include "plot_internal.h"

/* Longest quoted field kept (a name, or a number someone quoted). */
#define FIELD_MAX (IPP_MAX_NAME + 64)

/* One RFC 4180 field at *p into out (unquoted); *p moves past it and its separator.
 * Returns 1 if the field ended its line, 0 if a comma followed. */
static int csv_next(const char **p, const char *end, char *out, size_t cap)
{
    const char *s = *p;
    size_t n = 0;
    bool quoted = s < end && *s == '"';
    if (quoted)
        s++;
    while (s < end) {
        char c = *s;
        if (quoted && c == '"') {
            if (s + 1 < end && s[1] == '"') {
                s++;
            } else {
                quoted = false;
                s++;
                continue;
            }
        } else if (!quoted && (c == ',' || c == '\n' || c == '\r')) {
            break;
        }
        if (n + 1 < cap)
            out[n++] = c;
        s++;
    }
    out[n] = '\0';
    int eol = 1;
    if (s < end && *s == ',') {
        s++;
        eol = 0;
    } else {
        if (s < end && *s == '\r')
            s++;
        if (s < end && *s == '\n')
            s++;
    }
    *p = s;
    return eol;
}

/* Digits s[0..n) as a number; -1 if one is not a digit. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (timegm() is not
 * POSIX 2008). Years are counted from March so the leap day ends a year. */
static long days_since_epoch(long y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;                                     /* 0..399 */
    long doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  /* 0..365 */
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;             /* 0..146096 */
    return era * 146097 + doe - 719468;
}

int ipp__parse_time(const char *s, size_t n, double *t)
{
    /* YYYY-MM-DDThh:mm:ss, then [.fraction], then Z or +hh:mm / -hh:mm */
    if (n < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
        s[13] != ':' || s[16] != ':')
        return -1;
    struct tm tm = {.tm_year = digits(s, 4) - 1900, .tm_mon = digits(s + 5, 2) - 1,
                    .tm_mday = digits(s + 8, 2), .tm_hour = digits(s + 11, 2),
                    .tm_min = digits(s + 14, 2), .tm_sec = digits(s + 17, 2)};
    if (tm.tm_year < -1900 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
        tm.tm_mday > 31 || tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 ||
        tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60)
        return -1;
    size_t i = 19;
    double frac = 0, scale = 0.1;
    if (i < n && s[i] == '.') {
        size_t start = ++i;
        for (; i < n && s[i] >= '0' && s[i] <= '9' && i - start < 9; i++, scale /= 10)
            frac += (s[i] - '0') * scale;
        if (i == start)
            return -1;
    }
    int offset = 0;
    if (i + 1 == n && s[i] == 'Z') {
        i++;
    } else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        int h = digits(s + i + 1, 2), m = digits(s + i + 4, 2);
        if (h < 0 || h > 23 || m < 0 || m > 59)
            return -1;
        offset = (s[i] == '-' ? -1 : 1) * (h * 3600 + m * 60);
        i += 6;
    }
    if (i != n)
        return -1;
    long days = days_since_epoch(tm.tm_year + 1900L, tm.tm_mon + 1, tm.tm_mday);
    *t = (double)days * 86400.0 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec - offset +
         frac;
    return 0;
}

/* Whether the header ends in `received` holding times (what we write), judged by the
 * first data line; a user's numeric column of that name stays a column. */
static bool csv_timed(const char *p, const char *end, size_t ncols, const char *last)
{
    char field[FIELD_MAX];
    double t;
    if (ncols < 1 || strcmp(last, IPP_RECEIVED))
        return false;
    while (p < end && (*p == '\n' || *p == '\r'))
        p++;
    if (p >= end)
        return true; /* no rows: the header is all there is to go by */
    size_t c = 0;
    for (int eol = 0; !eol; c++)
        eol = csv_next(&p, end, field, sizeof field);
    return c == ncols && ipp__parse_time(field, strlen(field), &t) == 0;
}

typedef struct {
    ipp_data_t *d;
    size_t nfields; /* per line: the columns, and `received` when timed */
    bool timed;
    size_t cap;     /* rows the columns have room for */
    bool quoted;    /* a quoted field was seen (it may hold a line break) */
    char why[FIELD_MAX + 64];
} csv_t;

/* Room for `need` rows in every column (and d->t). */
static int reserve(csv_t *cs, size_t need)
{
    ipp_data_t *d = cs->d;
    if (need <= cs->cap)
        return 0;
    size_t cap = cs->cap + cs->cap / 2 > need ? cs->cap + cs->cap / 2 : need;
    for (size_t c = 0; c < d->ncols + cs->timed; c++) {
        double **slot = c < d->ncols ? &d->cols[c] : &d->t;
        double *p = realloc(*slot, cap * sizeof *p);
        if (!p)
            return -1;
        *slot = p;
    }
    cs->cap = cap;
    return 0;
}

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool ends_field(const char *p, const char *end)
{
    return p == end || *p == ',' || *p == '\n' || *p == '\r';
}

/* Field c (text s[0..n), unquoted) of the current row into its column or the time. */
static int store(csv_t *cs, size_t c, const char *s, size_t n)
{
    size_t r = cs->d->nrows;
    if (cs->timed && c == cs->nfields - 1) {
        double t = NAN;
        if (n && ipp__parse_time(s, n, &t)) {
            snprintf(cs->why, sizeof cs->why, "'%.*s' is not an ISO 8601 time",
                     (int)(n < FIELD_MAX ? n : FIELD_MAX), s);
            return -1;
        }
        cs->d->t[r] = t;
        return 0;
    }
    const char *e = s + n, *b = s;
    while (b < e && blank(*b))
        b++;
    double v = NAN; /* empty: a missing value */
    const char *q = b < e ? ipp__parse_double(b, e, &v) : b;
    while (q < e && blank(*q))
        q++;
    if (q != e || (q == b && b != e)) {
        snprintf(cs->why, sizeof cs->why, "'%.*s' is not a number",
                 (int)(n < FIELD_MAX ? n : FIELD_MAX), s);
        return -1;
    }
    cs->d->cols[c][r] = v;
    return 0;
}

/* One data line at *p: its fields into row d->nrows (room reserved). 0 or -1. */
static int csv_row(csv_t *cs, const char **pp, const char *end)
{
    const char *p = *pp;
    char field[FIELD_MAX];
    size_t c = 0;
    for (;;) {
        if (c >= cs->nfields) {
            snprintf(cs->why, sizeof cs->why, "more values than columns");
            return -1;
        }
        int eol;
        if (p < end && *p == '"') { /* quoted: unquote first */
            cs->quoted = true;
            eol = csv_next(&p, end, field, sizeof field);
            if (store(cs, c, field, strlen(field)))
                return -1;
        } else {
            const char *s = p, *q = p;
            double v;
            /* the common case: a number alone in its field, parsed where it lies */
            if (!(cs->timed && c == cs->nfields - 1) &&
                (q = ipp__parse_double(p, end, &v)) != p && ends_field(q, end)) {
                cs->d->cols[c][cs->d->nrows] = v;
                p = q;
            } else {
                while (!ends_field(p, end))
                    p++;
                if (store(cs, c, s, (size_t)(p - s)))
                    return -1;
            }
            eol = p == end || *p != ',';
            if (!eol)
                p++;
            else if (p < end && *p++ == '\r' && p < end && *p == '\n')
                p++;
        }
        c++;
        if (eol)
            break;
    }
    for (; c < cs->nfields; c++)
        store(cs, c, "", 0);
    *pp = p;
    return 0;
}

/* The header line: names into d. Returns the byte after it, or NULL with err. */
static const char *csv_header(const char *p, const char *end, csv_t *cs, char *err,
                              size_t errlen)
{
    char field[FIELD_MAX];
    char *names[IPP_MAX_COLS + 1]; /* and `received` */
    size_t n = 0;
    bool eol = false, nomem = false;
    while (!eol && p < end && n < IPP_MAX_COLS + 1) {
        eol = csv_next(&p, end, field, sizeof field);
        if (!(names[n] = strdup(field))) {
            nomem = true;
            break;
        }
        n++;
    }
    cs->timed = !nomem && csv_timed(p, end, n, n ? names[n - 1] : "");
    bool header = n > cs->timed && n - cs->timed <= IPP_MAX_COLS && !nomem && (eol || p >= end);
    int rc = header ? ipp__data_init(cs->d, (const char *const *)names, n - cs->timed) : -1;
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    if (rc) {
        snprintf(err, errlen, "%s", nomem || header ? "out of memory"
                                                    : "no header line, or too many columns");
        return NULL;
    }
    cs->nfields = n;
    return p;
}

/* The data lines p[0..end) appended to cs->d; line is the number of the first. 0, or -1
 * with err. */
static int csv_lines(csv_t *cs, const char *p, const char *end, size_t line, char *err,
                     size_t errlen)
{
    ipp_data_t *d = cs->d;
    for (; p < end; line++) {
        if (*p == '\n' || *p == '\r') { /* blank line */
            p++;
            continue;
        }
        if (d->nrows == cs->cap && reserve(cs, cs->cap + 1)) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if (csv_row(cs, &p, end)) {
            snprintf(err, errlen, "line %zu: %s", line, cs->why);
            return -1;
        }
        d->nrows++;
    }
    return 0;
}

/* Rows the data p[0..end) probably holds, judged by its first line; a line with every
 * field is at least one byte a field (the commas). */
static size_t guess_rows(const csv_t *cs, const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t first = nl ? (size_t)(nl - p + 1) : (size_t)(end - p) + 1;
    size_t guess = (size_t)(end - p) / (first > cs->nfields ? first : cs->nfields);
    return guess + guess / 16 + 16;
}

/* Data at least this large is parsed in two halves on two threads. */
#define SPLIT_MIN ((size_t)4 << 20)

typedef struct {
    csv_t cs;
    ipp_data_t d;
    const char *p, *end;
    int rc;
    char err[64];
} half_t;

static void *second_half(void *arg)
{
    half_t *h = arg;
    h->cs.d = &h->d;
    h->rc = reserve(&h->cs, guess_rows(&h->cs, h->p, h->end)) ||
            csv_lines(&h->cs, h->p, h->end, 0, h->err, sizeof h->err);
    return NULL;
}

/*
 * The data in two halves at once, split at a line break near the middle: 1 if that
 * cannot be trusted or did not work out (a quoted field, which may hold a line break;
 * an error, whose line number only a whole pass knows; no thread), and then cs->d is
 * as it was; 0 when done.
 */
static int csv_split(csv_t *cs, const char *p, const char *end)
{
    const char *mid = memchr(p + (end - p) / 2, '\n', (size_t)(end - p) / 2);
    if (!mid)
        return 1;
    mid++;
    half_t *h = calloc(1, sizeof *h);
    if (!h || ipp__data_init(&h->d, (const char *const *)cs->d->names, cs->d->ncols)) {
        free(h);
        return 1;
    }
    h->cs = (csv_t){.nfields = cs->nfields, .timed = cs->timed};
    h->p = mid;
    h->end = end;
    pthread_t th;
    char err[64];
    int rc = 1;
    if (pthread_create(&th, NULL, second_half, h) == 0) {
        bool ok = csv_lines(cs, p, mid, 0, err, sizeof err) == 0;
        pthread_join(th, NULL);
        ok = ok && h->rc == 0 && !cs->quoted && !h->cs.quoted &&
             reserve(cs, cs->d->nrows + h->d.nrows) == 0;
        ipp_data_t *d = cs->d;
        for (size_t c = 0; ok && c < d->ncols + cs->timed; c++) {
            double *to = c < d->ncols ? d->cols[c] : d->t;
            const double *from = c < d->ncols ? h->d.cols[c] : h->d.t;
            memcpy(to + d->nrows, from, h->d.nrows * sizeof *to);
        }
        if (ok) {
            d->nrows += h->d.nrows;
            rc = 0;
        } else {
            d->nrows = 0;
            cs->quoted = false;
        }
    }
    ipp_data_free(&h->d);
    free(h);
    return rc;
}

int ipp_read_csv(const char *buf, size_t len, ipp_data_t *d, char *err, size_t errlen)
{
    const char *p = buf, *end = buf + len;
    csv_t cs = {.d = d};
    memset(d, 0, sizeof *d);
    if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3)) /* the byte order mark Excel wants */
        p += 3;
    const char *data = csv_header(p, end, &cs, err, errlen);
    if (!data)
        goto fail;
    /* the header is line 1 however many line breaks its quoted names hold */
    if (reserve(&cs, guess_rows(&cs, data, end))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if ((size_t)(end - data) >= SPLIT_MIN && csv_split(&cs, data, end) == 0)
        return 0;
    if (csv_lines(&cs, data, end, 2, err, errlen))
        goto fail;
    return 0;
fail:
    ipp_data_free(d);
    return -1;
}
