/*
 * reader.c - read series files back for `iotplot plot`: JSON here, CSV in csv_in.c,
 * pickles in pickle_in.c, and the dispatch by extension (the file mapped, not copied). The readers' reasons say what is wrong
 * ("line 3: not a number"); ipp_read_file() names the file in front of them.
 */
#define _GNU_SOURCE /* MAP_POPULATE */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "plot_internal.h"

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

/* Largest data file read. */
#define MAX_FILE ((size_t)2 << 30)

/* The whole of fd (a pipe, a terminal...: what cannot be mapped) into *buf. */
static int read_all(int fd, char **buf, size_t *len)
{
    size_t cap = 0;
    *buf = NULL;
    *len = 0;
    for (;;) {
        if (*len == cap) {
            cap = cap ? cap * 2 : 65536;
            char *nb = cap <= MAX_FILE ? realloc(*buf, cap) : NULL;
            if (!nb) {
                errno = EFBIG;
                return -1;
            }
            *buf = nb;
        }
        ssize_t n = read(fd, *buf + *len, cap - *len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        *len += (size_t)n;
    }
}

int ipp_read_file(const char *path, ipp_data_t *d, char *err, size_t errlen)
{
    char ext[16], why[300];
    int rc = -1;
    char *buf = NULL;
    void *map = MAP_FAILED;
    size_t len = 0;
    struct stat sb;
    memset(d, 0, sizeof *d);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto done;
    }
    /* a regular file is mapped, not copied: the readers parse it in place, and its pages
     * come from the page cache without a copy (populated in one go, not fault by fault) */
    if (S_ISREG(sb.st_mode) && sb.st_size > 0 && (uint64_t)sb.st_size <= MAX_FILE) {
        len = (size_t)sb.st_size;
        map = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    }
    if (map != MAP_FAILED) {
        buf = map;
    } else if (S_ISREG(sb.st_mode) && (uint64_t)sb.st_size > MAX_FILE) {
        snprintf(err, errlen, "%s: too large", path);
        goto done;
    } else if (read_all(fd, &buf, &len)) {
        snprintf(err, errlen, "%s: %s", path,
                 errno == EFBIG ? "too large or out of memory" : strerror(errno));
        goto done;
    }
    ipp_path_ext(path, ext, sizeof ext);
    if (!strcmp(ext, "csv"))
        rc = ipp_read_csv(buf ? buf : "", len, d, why, sizeof why);
    else if (!strcmp(ext, "json"))
        rc = ipp_read_json(buf ? buf : "", len, d, why, sizeof why);
    else if (!strcmp(ext, "pkl") || !strcmp(ext, "pickle"))
        rc = ipp_read_pickle((const uint8_t *)(buf ? buf : ""), len, d, why, sizeof why);
    else
        snprintf(why, sizeof why, "unknown data format (use .csv, .json or .pkl)");
    if (rc)
        snprintf(err, errlen, "%s: %s", path, why);
done:
    if (map != MAP_FAILED)
        munmap(map, len);
    else
        free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}
