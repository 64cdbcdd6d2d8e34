/*
 * mat.c - a series as a MAT-file (level 5, what Matlab's save -v7 writes, compressed)
 * with libmatio: one struct variable named after the series, one field per column.
 *
 * A struct rather than one variable per column: `load` would otherwise drop columns
 * named `sin` or `plot` into the workspace over the functions of those names. Field and
 * variable names must be Matlab identifiers, so ipp_mat_name() turns column names into
 * ones, the same way every time, so a script that uses s.Temperatur__C keeps working.
 *
 * libmatio (and the HDF5, curl and GnuTLS it links) is loaded on the first MAT-file
 * (src/dynlib), not linked: no other command needs it.
 */
#include <stdlib.h>
#include <string.h>

#include <matio.h>

#include "dynlib/dynlib.h"
#include "plot_internal.h"

#define MATIO_FUNCS(X)                                                                 \
    X(Mat_CreateVer) X(Mat_Close) X(Mat_VarCreate) X(Mat_VarCreateStruct2)             \
    X(Mat_VarSetStructFieldByName) X(Mat_VarWrite) X(Mat_VarFree)
static struct {
    MATIO_FUNCS(IPD_FIELD)
} mio;
#define SYM(f) IPD_SYM(mio, f)
static const ipd_sym_t mio_syms[] = {MATIO_FUNCS(SYM)};
static ipd_lib_t libmatio = IPD_LIB(MATIO_SONAME, MATIO_PACKAGE, mio_syms);

/* namelengthmax: Matlab's longest identifier. */
#define MAT_NAME_MAX 63

/* Matlab's iskeyword list: none of these may name a variable or a field. */
static const char *const keywords[] = {
    "break",  "case",      "catch",      "classdef", "continue", "else",   "elseif",
    "end",    "for",       "function",   "global",   "if",       "otherwise",
    "parfor", "persistent", "return",    "spmd",     "switch",   "try",    "while",
};

static bool is_keyword(const char *s)
{
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (!strcmp(s, keywords[i]))
            return true;
    return false;
}

static bool is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool taken_by(const char *s, const char *const *taken, size_t ntaken)
{
    for (size_t i = 0; i < ntaken; i++)
        if (!strcmp(s, taken[i]))
            return true;
    return false;
}

void ipp_mat_name(const char *name, const char *const *taken, size_t ntaken, char out[64])
{
    char base[MAT_NAME_MAX + 3]; /* one more than kept, an `x` and the NUL */
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p && n < MAT_NAME_MAX + 1;
         p++) {
        if ((*p & 0xc0) == 0x80) /* a UTF-8 continuation byte: its character is done */
            continue;
        bool ok = is_letter((char)*p) || (*p >= '0' && *p <= '9') || *p == '_';
        base[n++] = ok ? (char)*p : '_';
    }
    base[n] = '\0';
    if (!is_letter(base[0]) || is_keyword(base)) {
        memmove(base + 1, base, n + 1);
        base[0] = 'x';
        n++;
    }
    if (n > MAT_NAME_MAX)
        base[n = MAT_NAME_MAX] = '\0';
    memcpy(out, base, n + 1);
    for (unsigned k = 2; taken_by(out, taken, ntaken); k++) {
        char suffix[16];
        int len = snprintf(suffix, sizeof suffix, "_%u", k);
        size_t keep = n + (size_t)len > MAT_NAME_MAX ? MAT_NAME_MAX - (size_t)len : n;
        memcpy(out, base, keep);
        memcpy(out + keep, suffix, (size_t)len + 1);
    }
}

int ipp_write_mat(const char *path, const char *series, const ipp_data_t *d, char *err,
                  size_t errlen)
{
    if (ipd_load(&libmatio, err, errlen) < 0)
        return -1;
    size_t nf = d->ncols + (d->t != NULL);
    char(*names)[64] = calloc(nf + 1, sizeof *names);
    const char **fields = calloc(nf + 1, sizeof *fields); /* NULL-terminated for matio */
    char var[64];
    mat_t *mat = NULL;
    matvar_t *st = NULL;
    int rc = -1;
    snprintf(err, errlen, "out of memory");
    if (!names || !fields)
        goto done;
    for (size_t i = 0; i < nf; i++) {
        /* `received` is named first so that a column called so gives way to it */
        size_t k = d->t ? (i + nf - 1) % nf : i;
        ipp_mat_name(k < d->ncols ? d->names[k] : IPP_RECEIVED, fields, i, names[k]);
        fields[i] = names[k];
    }
    for (size_t k = 0; k < nf; k++)
        fields[k] = names[k];
    ipp_mat_name(series[0] ? series : "data", NULL, 0, var);
    size_t one[2] = {1, 1};
    if (!(st = mio.Mat_VarCreateStruct2(var, 2, one, fields)))
        goto done;
    for (size_t k = 0; k < nf; k++) {
        size_t dims[2] = {d->nrows, 1};
        /* borrowed, not copied: matio frees the field's header, never our column */
        double *col = k < d->ncols ? d->cols[k] : d->t;
        static double none;
        matvar_t *f = mio.Mat_VarCreate(fields[k], MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dims,
                                    col ? col : &none, MAT_F_DONT_COPY_DATA);
        if (!f)
            goto done;
        mio.Mat_VarSetStructFieldByName(st, fields[k], 0, f); /* returns the one before: none */
    }
    if (!(mat = mio.Mat_CreateVer(path, NULL, MAT_FT_MAT5))) {
        snprintf(err, errlen, "mat: cannot create the file");
        goto done;
    }
    if (mio.Mat_VarWrite(mat, st, MAT_COMPRESSION_ZLIB)) {
        snprintf(err, errlen, "mat: write error");
        goto done;
    }
    rc = 0;
done:
    mio.Mat_VarFree(st);
    if (mat && mio.Mat_Close(mat) && rc == 0) {
        snprintf(err, errlen, "mat: write error");
        rc = -1;
    }
    free(fields);
    free(names);
    return rc;
}
