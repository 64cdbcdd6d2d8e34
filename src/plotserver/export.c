/*
 * export.c - series in memory (column-major) and the files save_series writes:
 * Python pickle, CSV and JSON.
 *
 * The pickle is written opcode by opcode (protocol 2, which every Python 3 reads):
 * collections.OrderedDict() followed by SETITEMS of column name -> list of floats, the
 * object the original server pickles. Floats are BINFLOAT (8 bytes, big-endian IEEE),
 * so values come back bit for bit. CSV and JSON use the shortest round-trip text.
 */
#include <stdlib.h>
#include <string.h>

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

int ipp__data_push(ipp_data_t *d, const double *row, size_t *cap)
{
    if (d->nrows == *cap) {
        size_t ncap = *cap ? *cap * 2 : 256;
        for (size_t c = 0; c < d->ncols; c++) {
            double *p = realloc(d->cols[c], ncap * sizeof *p);
            if (!p)
                return -1;
            d->cols[c] = p;
        }
        *cap = ncap;
    }
    for (size_t c = 0; c < d->ncols; c++)
        d->cols[c][d->nrows] = row[c];
    d->nrows++;
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

int ipp_write_csv(FILE *f, const ipp_data_t *d)
{
    char num[40];
    for (size_t c = 0; c < d->ncols; c++) {
        if (c)
            fputc(',', f);
        csv_field(f, d->names[c]);
    }
    fputc('\n', f);
    for (size_t r = 0; r < d->nrows; r++) {
        for (size_t c = 0; c < d->ncols; c++) {
            if (c)
                fputc(',', f);
            size_t n = ipp_fmt_double(num, sizeof num, d->cols[c][r]);
            fwrite(num, 1, n, f);
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
            size_t n = ipp_fmt_double(num, sizeof num, d->cols[c][r]);
            fwrite(num, 1, n, f);
        }
        fputc(']', f);
    }
    fputs(d->nrows ? "\n]}\n" : "]}\n", f);
    return ferror(f) ? -1 : 0;
}
