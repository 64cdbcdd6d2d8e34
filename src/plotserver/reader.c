/*
 * reader.c - read series files back for `iotplot plot`: CSV and JSON here, pickles in
 * pickle_in.c, and the dispatch by extension. The readers' reasons say what is wrong
 * ("line 3: not a number"); ipp_read_file() names the file in front of them.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "plot_internal.h"

/* Largest data file read into memory. */
#define MAX_FILE ((size_t)2 << 30)

/* ---- CSV ---------------------------------------------------------------------------- */

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
    char field[IPP_MAX_NAME + 64];
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

/* One data line into row (and *t if timed); 0, or -1 with the reason in err. */
static int csv_row(const char **p, const char *end, size_t ncols, bool timed, double *row,
                   double *t, char *err, size_t errlen)
{
    char field[IPP_MAX_NAME + 64];
    size_t c = 0, nvals = ncols - timed;
    *t = NAN;
    for (int last = 0; !last; c++) {
        last = csv_next(p, end, field, sizeof field);
        char *e = field;
        if (c >= ncols) {
            snprintf(err, errlen, "more values than columns");
            return -1;
        }
        if (timed && c == nvals) {
            if (field[0] && ipp__parse_time(field, strlen(field), t)) {
                snprintf(err, errlen, "'%s' is not an ISO 8601 time", field);
                return -1;
            }
            continue;
        }
        row[c] = field[0] ? strtod(field, &e) : NAN; /* empty: missing value */
        if (*e) {
            snprintf(err, errlen, "'%s' is not a number", field);
            return -1;
        }
    }
    for (; c < nvals; c++)
        row[c] = NAN;
    return 0;
}

int ipp_read_csv(const char *buf, size_t len, ipp_data_t *d, char *err, size_t errlen)
{
    const char *p = buf, *end = buf + len;
    char field[IPP_MAX_NAME + 64], why[IPP_MAX_NAME + 128];
    char *names[IPP_MAX_COLS + 1]; /* and `received` */
    double row[IPP_MAX_COLS], t;
    size_t ncols = 0, cap = 0, line = 2;
    memset(d, 0, sizeof *d);
    bool eol = false, nomem = false;
    if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3)) /* the byte order mark Excel wants */
        p += 3;
    while (!eol && p < end && ncols < IPP_MAX_COLS + 1) {
        eol = csv_next(&p, end, field, sizeof field);
        if (!(names[ncols] = strdup(field))) {
            nomem = true;
            break;
        }
        ncols++;
    }
    bool timed = !nomem && csv_timed(p, end, ncols, ncols ? names[ncols - 1] : "");
    bool header = ncols > timed && ncols - timed <= IPP_MAX_COLS && !nomem && (eol || p >= end);
    int rc = header ? ipp__data_init(d, (const char *const *)names, ncols - timed) : -1;
    for (size_t i = 0; i < ncols; i++)
        free(names[i]);
    if (rc) {
        snprintf(err, errlen, "%s", nomem || header ? "out of memory"
                                                    : "no header line, or too many columns");
        goto fail;
    }
    for (; p < end; line++) {
        if (*p == '\n' || *p == '\r') { /* blank line */
            p++;
            continue;
        }
        if (csv_row(&p, end, ncols, timed, row, &t, why, sizeof why)) {
            snprintf(err, errlen, "line %zu: %s", line, why);
            goto fail;
        }
        if (timed ? ipp__data_push_timed(d, row, t, &cap) : ipp__data_push(d, row, &cap)) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
    return 0;
fail:
    ipp_data_free(d);
    return -1;
}

/* ---- JSON --------------------------------------------------------------------------- */

/*
 * cJSON does not read NaN and Infinity, which Python's json (and our writer, before it
 * wrote null) uses for the non-finite values. Rewrite those tokens outside strings to
 * text cJSON reads: Infinity as 1e999 (strtod gives inf), NaN as null (read back as NaN).
 */
static char *python_tokens(const char *buf, size_t len)
{
    char *s = malloc(len + len / 3 + 2); /* "NaN" -> "null" grows by a third at most */
    if (!s)
        return NULL;
    size_t o = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        if (in_str) {
            if (buf[i] == '\\' && i + 1 < len)
                s[o++] = buf[i++];
            else if (buf[i] == '"')
                in_str = false;
        } else if (buf[i] == '"') {
            in_str = true;
        } else if (len - i >= 8 && !memcmp(buf + i, "Infinity", 8)) {
            memcpy(s + o, "1e999", 5);
            o += 5;
            i += 7;
            continue;
        } else if (len - i >= 3 && !memcmp(buf + i, "NaN", 3)) {
            memcpy(s + o, "null", 4);
            o += 4;
            i += 2;
            continue;
        }
        s[o++] = buf[i];
    }
    s[o] = '\0';
    return s;
}

static double jnum(const cJSON *v, bool *ok)
{
    if (cJSON_IsNumber(v))
        return v->valuedouble;
    if (!cJSON_IsNull(v))
        *ok = false;
    return NAN;
}

/* {"columns": [...], "rows": [[...], ...]} (what we write). */
static int json_rows(const cJSON *cols, const cJSON *rows, ipp_data_t *d, char *err,
                     size_t errlen)
{
    const char *names[IPP_MAX_COLS] = {0};
    double row[IPP_MAX_COLS];
    size_t ncols = 0, cap = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cols)
    {
        if (!cJSON_IsString(it) || ncols == IPP_MAX_COLS) {
            snprintf(err, errlen, "\"columns\" is not a list of strings");
            return -1;
        }
        names[ncols++] = it->valuestring;
    }
    if (ipp__data_init(d, names, ncols))
        return -1;
    cJSON_ArrayForEach(it, rows)
    {
        bool ok = cJSON_IsArray(it) && (size_t)cJSON_GetArraySize(it) == ncols;
        size_t c = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, it)
        {
            if (c < ncols)
                row[c++] = jnum(v, &ok);
        }
        if (!ok || ipp__data_push(d, row, &cap)) {
            snprintf(err, errlen, "row %zu is not %zu numbers", d->nrows + 1, ncols);
            return -1;
        }
    }
    return 0;
}

/* {"col": [...], ...}: column-wise, as a Python user might json.dump the dict. */
static int json_columns(const cJSON *root, ipp_data_t *d, char *err, size_t errlen)
{
    const char *names[IPP_MAX_COLS] = {0};
    size_t ncols = 0, nrows = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, root)
    {
        if (!cJSON_IsArray(it) || ncols == IPP_MAX_COLS) {
            snprintf(err, errlen, "expected {\"columns\", \"rows\"} or {name: [values]}");
            return -1;
        }
        names[ncols++] = it->string;
        size_t n = (size_t)cJSON_GetArraySize(it);
        nrows = n > nrows ? n : nrows;
    }
    if (ipp__data_init(d, names, ncols))
        return -1;
    size_t c = 0;
    cJSON_ArrayForEach(it, root)
    {
        bool ok = true;
        size_t r = 0;
        if (!(d->cols[c] = malloc((nrows ? nrows : 1) * sizeof(double))))
            return -1;
        const cJSON *v;
        cJSON_ArrayForEach(v, it) d->cols[c][r++] = jnum(v, &ok);
        while (r < nrows)
            d->cols[c][r++] = NAN;
        if (!ok) {
            snprintf(err, errlen, "column '%s' holds something else than numbers",
                     names[c]);
            return -1;
        }
        c++;
    }
    d->nrows = nrows;
    return 0;
}

int ipp_read_json(const char *buf, size_t len, ipp_data_t *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3)) { /* RFC 8259 lets a reader skip it */
        buf += 3;
        len -= 3;
    }
    char *s = python_tokens(buf, len);
    cJSON *root = s ? cJSON_Parse(s) : NULL;
    int rc = -1;
    snprintf(err, errlen, "out of memory");
    if (s && !root) {
        snprintf(err, errlen, "not JSON (error near byte %td)", cJSON_GetErrorPtr() - s);
        goto done;
    }
    if (!cJSON_IsObject(root)) {
        snprintf(err, errlen, "not a JSON object");
        goto done;
    }
    const cJSON *cols = cJSON_GetObjectItemCaseSensitive(root, "columns");
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(root, "rows");
    if (cJSON_IsArray(cols) && cJSON_IsArray(rows))
        rc = json_rows(cols, rows, d, err, errlen);
    else
        rc = json_columns(root, d, err, errlen);
done:
    cJSON_Delete(root);
    free(s);
    if (rc)
        ipp_data_free(d);
    return rc;
}

/* ---- by extension ------------------------------------------------------------------- */

int ipp_read_file(const char *path, ipp_data_t *d, char *err, size_t errlen)
{
    char ext[16], why[300];
    int rc = -1;
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    memset(d, 0, sizeof *d);
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            char *nb = cap <= MAX_FILE ? realloc(buf, cap + 1) : NULL;
            if (!nb) {
                snprintf(err, errlen, "%s: too large or out of memory", path);
                goto done;
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto done;
    }
    buf[len] = '\0';
    ipp_path_ext(path, ext, sizeof ext);
    if (!strcmp(ext, "csv"))
        rc = ipp_read_csv(buf, len, d, why, sizeof why);
    else if (!strcmp(ext, "json"))
        rc = ipp_read_json(buf, len, d, why, sizeof why);
    else if (!strcmp(ext, "pkl") || !strcmp(ext, "pickle"))
        rc = ipp_read_pickle((const uint8_t *)buf, len, d, why, sizeof why);
    else
        snprintf(why, sizeof why, "unknown data format (use .csv, .json or .pkl)");
    if (rc)
        snprintf(err, errlen, "%s: %s", path, why);
done:
    free(buf);
    fclose(f);
    return rc;
}
