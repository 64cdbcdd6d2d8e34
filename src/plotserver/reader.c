/*
 * reader.c - read series files back for `iotplot plot`: CSV and JSON here, pickles in
 * pickle_in.c, and the dispatch by extension.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

int ipp_read_csv(const char *buf, size_t len, ipp_data_t *d, char *err, size_t errlen)
{
    const char *p = buf, *end = buf + len;
    char field[IPP_MAX_NAME + 64];
    char *names[IPP_MAX_COLS];
    double row[IPP_MAX_COLS];
    size_t ncols = 0, cap = 0, line = 2;
    memset(d, 0, sizeof *d);
    bool eol = false, nomem = false;
    while (!eol && p < end && ncols < IPP_MAX_COLS) {
        eol = csv_next(&p, end, field, sizeof field);
        if (!(names[ncols] = strdup(field))) {
            nomem = true;
            break;
        }
        ncols++;
    }
    bool header = ncols > 0 && !nomem && (eol || p >= end);
    int rc = header ? ipp__data_init(d, (const char *const *)names, ncols) : -1;
    for (size_t i = 0; i < ncols; i++)
        free(names[i]);
    if (rc) {
        snprintf(err, errlen, "csv: %s", nomem || header ? "out of memory"
                                                         : "no header line, or too many columns");
        goto fail;
    }
    for (; p < end; line++) {
        if (*p == '\n' || *p == '\r') { /* blank line */
            p++;
            continue;
        }
        size_t c = 0;
        for (int last = 0; !last;) {
            last = csv_next(&p, end, field, sizeof field);
            char *e;
            double v = field[0] ? strtod(field, &e) : NAN; /* empty: missing value */
            if (c >= ncols || (field[0] && *e)) {
                snprintf(err, errlen, "csv line %zu: %s", line,
                         c >= ncols ? "more values than columns" : "not a number");
                goto fail;
            }
            row[c++] = v;
        }
        while (c < ncols)
            row[c++] = NAN;
        if (ipp__data_push(d, row, &cap)) {
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
 * cJSON does not read NaN and Infinity, which Python's json (and our writer) uses for
 * the non-finite values. Rewrite those tokens outside strings to text cJSON reads:
 * Infinity as 1e999 (strtod gives inf), NaN as null (read back as NaN).
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
            snprintf(err, errlen, "json: bad \"columns\"");
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
            snprintf(err, errlen, "json: row %zu is not %zu numbers", d->nrows + 1, ncols);
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
            snprintf(err, errlen, "json: expected {\"columns\", \"rows\"} or {name: [values]}");
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
            snprintf(err, errlen, "json: column '%s' holds something else than numbers",
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
    char *s = python_tokens(buf, len);
    cJSON *root = s ? cJSON_Parse(s) : NULL;
    int rc = -1;
    snprintf(err, errlen, "out of memory");
    if (!cJSON_IsObject(root)) {
        snprintf(err, errlen, "json: not a JSON object");
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
    char ext[16];
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
        rc = ipp_read_csv(buf, len, d, err, errlen);
    else if (!strcmp(ext, "json"))
        rc = ipp_read_json(buf, len, d, err, errlen);
    else if (!strcmp(ext, "pkl") || !strcmp(ext, "pickle"))
        rc = ipp_read_pickle((const uint8_t *)buf, len, d, err, errlen);
    else
        snprintf(err, errlen, "%s: unknown data format (use .csv, .json or .pkl)", path);
done:
    free(buf);
    fclose(f);
    return rc;
}
