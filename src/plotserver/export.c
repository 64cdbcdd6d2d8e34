/*
 * export.c - series in memory (column-major) and the files save_series writes as text
 * or bytes: Python pickle, CSV and JSON (.xlsx in xlsx.c, .mat in mat.c; exporters.c
 * picks one by extension).
 *
 * The pickle is written opcode by opcode (protocol 2, which every Python 3 reads):
 * collections.OrderedDict() followed by SETITEMS of column name -> list of floats, the
 * object the original server pickles. Floats are BINFLOAT (8 bytes, big-endian IEEE),
 * so values come back bit for bit. CSV and JSON use the shortest round-trip text.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iotplot/plotclient.h"
#include "plot_internal.h"

int ipp__data_init(ipp_data_t *d, const char *const *names, size_t ncols)
{
    memset(d, 0, sizeof *d);
    d->names = calloc(ncols ? ncols : 1, sizeof *d->names);
    d->cols = calloc(ncols ? ncols : 1, sizeof *d->cols);
    if (!d->names || !d->cols)
        goto fail;
    d->ncols = ncols;
    for (size_t i = 0; i < ncols; i++) {
        d->names[i] = strdup(names[i]);
        if (!d->names[i])
            goto fail;
    }
    return 0;
fail:
    ipp_data_free(d);
    return -1;
}

/* Grow every column (and d->t when `timed`) to hold one more row. */
static int data_grow(ipp_data_t *d, bool timed, size_t *cap)
{
    if (d->nrows < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 256;
    for (size_t c = 0; c < d->ncols + timed; c++) {
        double **slot = c < d->ncols ? &d->cols[c] : &d->t;
        double *p = realloc(*slot, ncap * sizeof *p);
        if (!p)
            return -1;
        *slot = p;
    }
    *cap = ncap;
    return 0;
}

int ipp__data_push(ipp_data_t *d, const double *row, size_t *cap)
{
    if (data_grow(d, d->t != NULL, cap))
        return -1;
    for (size_t c = 0; c < d->ncols; c++)
        d->cols[c][d->nrows] = row[c];
    if (d->t) /* a timed series given an untimed row: its time is unknown */
        d->t[d->nrows] = NAN;
    d->nrows++;
    return 0;
}

int ipp__data_push_timed(ipp_data_t *d, const double *row, double t, size_t *cap)
{
    /* the first timed row: d->t starts at the columns' capacity (earlier rows: unknown) */
    if (!d->t && *cap) {
        if (!(d->t = malloc(*cap * sizeof *d->t)))
            return -1;
        for (size_t r = 0; r < d->nrows; r++)
            d->t[r] = NAN;
    }
    if (data_grow(d, true, cap))
        return -1;
    for (size_t c = 0; c < d->ncols; c++)
        d->cols[c][d->nrows] = row[c];
    d->t[d->nrows++] = t;
    return 0;
}

void ipp_data_free(ipp_data_t *d)
{
    for (size_t i = 0; i < d->ncols; i++) {
        if (d->names)
            free(d->names[i]);
        if (d->cols)
            free(d->cols[i]);
    }
    free(d->names);
    free(d->cols);
    free(d->t);
    memset(d, 0, sizeof *d);
}

/* ---- pickle ----------------------------------------------------------------------- */

static void put_u32le(FILE *f, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    fwrite(b, 1, 4, f);
}

static void put_binfloat(FILE *f, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    uint8_t b[9] = {'G'};
    for (int i = 0; i < 8; i++)
        b[1 + i] = (uint8_t)(u >> (56 - 8 * i));
    fwrite(b, 1, 9, f);
}

/* Python's pickler appends in batches of 1000; loaders accept any size, but batches
 * keep the unpickler's stack small. */
#define PICKLE_BATCH 1000

int ipp_write_pickle(FILE *f, const ipp_data_t *d)
{
    static const char head[] = "\x80\x02" "ccollections\nOrderedDict\n" ")R";
    fwrite(head, 1, sizeof head - 1, f);
    if (d->ncols)
        fputc('(', f); /* MARK for SETITEMS */
    for (size_t c = 0; c < d->ncols; c++) {
        size_t n = strlen(d->names[c]);
        fputc('X', f); /* BINUNICODE: names are UTF-8 already */
        put_u32le(f, (uint32_t)n);
        fwrite(d->names[c], 1, n, f);
        fputc(']', f); /* EMPTY_LIST */
        for (size_t r = 0; r < d->nrows; r += PICKLE_BATCH) {
            size_t end = r + PICKLE_BATCH < d->nrows ? r + PICKLE_BATCH : d->nrows;
            fputc('(', f);
            for (size_t i = r; i < end; i++)
                put_binfloat(f, d->cols[c][i]);
            fputc('e', f); /* APPENDS */
        }
    }
    if (d->ncols)
        fputc('u', f); /* SETITEMS */
    fputc('.', f);
    return ferror(f) ? -1 : 0;
}

/* ---- CSV -------------------------------------------------------------------------- */

/* RFC 4180: quote a field holding a comma, a quote or a line break. */
static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

size_t ipp__fmt_time(char *out, size_t cap, double t)
{
    if (!isfinite(t) || cap < IPP_TIME_LEN + 1) {
        if (cap)
            out[0] = '\0';
        return 0;
    }
    /* whole milliseconds, rounded, so that .9996 s is the next second, not ".1000" */
    double ms = floor(t * 1000.0 + 0.5);
    time_t sec = (time_t)floor(ms / 1000.0);
    int frac = (int)(ms - (double)sec * 1000.0);
    struct tm tm;
    if (!gmtime_r(&sec, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
        out[0] = '\0';
        return 0;
    }
    return (size_t)snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

int ipp_write_csv(FILE *f, const ipp_data_t *d)
{
    char num[40];
    for (size_t c = 0; c < d->ncols; c++) {
        if (c)
            fputc(',', f);
        csv_field(f, d->names[c]);
    }
    if (d->t)
        fputs(d->ncols ? "," IPP_RECEIVED : IPP_RECEIVED, f);
    fputc('\n', f);
    for (size_t r = 0; r < d->nrows; r++) {
        for (size_t c = 0; c < d->ncols; c++) {
            if (c)
                fputc(',', f);
            size_t n = ipp_fmt_double(num, sizeof num, d->cols[c][r]);
            fwrite(num, 1, n, f);
        }
        if (d->t) {
            if (d->ncols)
                fputc(',', f);
            fwrite(num, 1, ipp__fmt_time(num, sizeof num, d->t[r]), f);
        }
        fputc('\n', f);
    }
    return ferror(f) ? -1 : 0;
}

/* ---- JSON ------------------------------------------------------------------------- */

static void json_str(FILE *f, const char *s)
{
    size_t cap = strlen(s) * 6 + 3;
    char *buf = malloc(cap);
    ipp_json_t j;
    if (!buf) {
        fputs("\"\"", f);
        return;
    }
    ipp_json_init(&j, buf, cap);
    ipp_json_str(&j, s);
    if (j.err) /* not UTF-8: cannot be a JSON string */
        fputs("\"\"", f);
    else
        fwrite(buf, 1, j.len, f);
    free(buf);
}

int ipp_write_json(FILE *f, const char *series, const ipp_data_t *d)
{
    char num[40];
    fputs("{\"series\": ", f);
    json_str(f, series ? series : "");
    fputs(", \"columns\": [", f);
    for (size_t c = 0; c < d->ncols; c++) {
        if (c)
            fputs(", ", f);
        json_str(f, d->names[c]);
    }
    fputs("], \"rows\": [", f);
    for (size_t r = 0; r < d->nrows; r++) {
        fputs(r ? ",\n  [" : "\n  [", f);
        for (size_t c = 0; c < d->ncols; c++) {
            if (c)
                fputs(", ", f);
            double v = d->cols[c][r];
            if (isfinite(v)) /* strict JSON: NaN and infinities are not numbers */
                fwrite(num, 1, ipp_fmt_double(num, sizeof num, v), f);
            else
                fputs("null", f);
        }
        fputc(']', f);
    }
    fputs(d->nrows ? "\n]}\n" : "]}\n", f);
    return ferror(f) ? -1 : 0;
}
