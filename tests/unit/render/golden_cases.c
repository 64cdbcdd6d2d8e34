/* Deterministic data for the golden figures: no random numbers from libc, so the
 * pictures are the same on every machine. */
#include "golden_cases.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static int alloc_cols(golden_case_t *c, size_t ncols, size_t nrows)
{
    c->fig.ncols = ncols;
    c->fig.nrows = nrows;
    c->fig.cols = c->cols;
    c->fig.names = c->names;
    c->fig.grid = true;
    for (size_t k = 0; k < ncols; k++) {
        c->data[k] = malloc((nrows ? nrows : 1) * sizeof(double));
        if (!c->data[k])
            return -1;
        c->cols[k] = c->data[k];
    }
    return 0;
}

/* A portable normal-ish deviate: sum of 12 LCG uniforms minus 6. */
static double gauss(unsigned *s)
{
    double sum = 0;
    for (int i = 0; i < 12; i++) {
        *s = *s * 1664525u + 1013904223u;
        sum += (*s >> 8) / 16777216.0;
    }
    return sum - 6;
}

static int sinusoid(golden_case_t *c)
{
    static const char *const names[] = {"time", "cos", "sin", "sin*cos"};
    if (alloc_cols(c, 4, 200))
        return -1;
    for (size_t i = 0; i < 200; i++) {
        double t = 0.025 * (double)i;
        c->data[0][i] = t;
        c->data[1][i] = exp(-t) * cos(2 * M_PI * t);
        c->data[2][i] = exp(-t) * sin(2 * M_PI * t);
        c->data[3][i] = c->data[1][i] * c->data[2][i];
    }
    memcpy(c->names, names, sizeof names);
    c->fig.title = "Damped exponential decay $e^{-t} \\cos(2\\pi t)$";
    c->fig.xlabel = "Time [s]";
    c->fig.ylabel = "Voltage [mV]";
    return 0;
}

static int markers(golden_case_t *c)
{
    static const char *const names[] = {"x", "r--", "bs", "g^", "k:o", "m-.D", "c*"};
    static const char *const fmts[] = {"r--", "bs", "g^", "k:o", "m-.D", "c*"};
    if (alloc_cols(c, 7, 11))
        return -1;
    for (size_t i = 0; i < 11; i++) {
        c->data[0][i] = (double)i;
        for (size_t k = 1; k < 7; k++)
            c->data[k][i] = (double)k + 0.8 * sin((double)i * 0.6 + (double)k);
    }
    memcpy(c->names, names, sizeof names);
    c->fig.formats = fmts;
    c->fig.nformats = 6;
    c->fig.title = "Format strings";
    return 0;
}

static int hist(golden_case_t *c)
{
    static const char *const names[] = {"a", "b", "c"};
    unsigned s = 42;
    if (alloc_cols(c, 3, 500))
        return -1;
    for (size_t i = 0; i < 500; i++) {
        c->data[0][i] = gauss(&s);
        c->data[1][i] = 1 + 0.7 * gauss(&s);
        c->data[2][i] = -1 + 1.5 * gauss(&s);
    }
    memcpy(c->names, names, sizeof names);
    c->fig.hist = true;
    c->fig.title = "Histogram";
    return 0;
}

static int logs(golden_case_t *c, bool xl, bool yl)
{
    static const char *const names[] = {"f", "x^2", "sqrt x"};
    if (alloc_cols(c, 3, 100))
        return -1;
    for (size_t i = 0; i < 100; i++) {
        double x = xl ? pow(10, -1 + 5.0 * (double)i / 99) : 0.5 + (double)i;
        c->data[0][i] = x;
        c->data[1][i] = yl ? x * x : log10(x) + 2;
        c->data[2][i] = yl ? sqrt(x) : 0.5 * log10(x) + 1;
    }
    memcpy(c->names, names, sizeof names);
    c->fig.xlog = xl;
    c->fig.ylog = yl;
    c->fig.xlabel = "x";
    c->fig.ylabel = "f(x)";
    return 0;
}

static int math(golden_case_t *c)
{
    if (sinusoid(c))
        return -1;
    c->fig.title = "$\\alpha^2 + \\beta_{i,j} = \\frac{1}{2}\\sqrt{x} \\cdot 10^{-3}\\,\\Omega$";
    c->fig.xlabel = "Time $t$ [$\\mu$s], $\\omega = 2\\pi f$";
    c->fig.ylabel = "$\\Delta T$ [$^\\circ$C] $\\pm\\infty$";
    return 0;
}

static int one_column(golden_case_t *c)
{
    static const char *const names[] = {"temperature"};
    if (alloc_cols(c, 1, 50))
        return -1;
    for (size_t i = 0; i < 50; i++)
        c->data[0][i] = 20 + 3 * sin((double)i / 8) + 0.02 * (double)i * (double)i;
    memcpy(c->names, names, sizeof names);
    c->fig.ylabel = "Temperature [$^\\circ$C]";
    c->fig.xlabel = "sample";
    return 0;
}

static int ten_columns(golden_case_t *c)
{
    static const char *const names[] = {"x",  "c0", "c1", "c2", "c3", "c4",
                                        "c5", "c6", "c7", "c8", "c9"};
    if (alloc_cols(c, 11, 60))
        return -1;
    for (size_t i = 0; i < 60; i++) {
        c->data[0][i] = (double)i / 10;
        for (size_t k = 1; k < 11; k++)
            c->data[k][i] = (double)k * 0.4 + sin((double)i / 10 + (double)k * 0.5);
    }
    memcpy(c->names, names, sizeof names);
    c->fig.title = "Ten lines";
    return 0;
}

static int empty(golden_case_t *c)
{
    static const char *const names[] = {"t", "v"};
    if (alloc_cols(c, 2, 0))
        return -1;
    memcpy(c->names, names, sizeof names);
    c->fig.title = "No data yet";
    return 0;
}

static int nans(golden_case_t *c)
{
    if (sinusoid(c))
        return -1;
    for (size_t i = 40; i < 55; i++)
        c->data[1][i] = NAN;
    c->data[2][100] = INFINITY;
    c->data[2][101] = -INFINITY;
    c->data[3][150] = NAN;
    c->data[0][170] = NAN;
    c->fig.title = "Gaps at NaN and infinity";
    return 0;
}

static int constant(golden_case_t *c)
{
    static const char *const names[] = {"t", "level"};
    if (alloc_cols(c, 2, 30))
        return -1;
    for (size_t i = 0; i < 30; i++) {
        c->data[0][i] = (double)i;
        c->data[1][i] = 5;
    }
    memcpy(c->names, names, sizeof names);
    c->fig.title = "Constant";
    return 0;
}

static int big(golden_case_t *c, size_t n)
{
    static const char *const names[] = {"signal"};
    if (alloc_cols(c, 1, n))
        return -1;
    unsigned s = 7;
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / (double)n;
        s = s * 1664525u + 1013904223u;
        c->data[0][i] = sin(12 * t) * (1 + t) + 0.3 * ((s >> 8) / 16777216.0 - 0.5);
    }
    memcpy(c->names, names, sizeof names);
    c->fig.title = "Ten million points";
    c->fig.xlabel = "sample";
    return 0;
}

static int offsets(golden_case_t *c)
{
    static const char *const names[] = {"t", "tiny"};
    if (alloc_cols(c, 2, 40))
        return -1;
    for (size_t i = 0; i < 40; i++) {
        c->data[0][i] = 1e6 + 0.01 * (double)i;
        c->data[1][i] = 3e-7 * sin((double)i / 5);
    }
    memcpy(c->names, names, sizeof names);
    c->fig.title = "Offset and scientific notation";
    return 0;
}

/* Arrival times in UTC from 2026-12-01 00:00:00 + start, every `step` seconds; rows
 * from `gap_row` on arrive `gap` seconds later (a device that was offline). */
#define DEC01 1796083200.0

static int timed(golden_case_t *c, size_t nrows, double start, double step, size_t gap_row,
                 double gap)
{
    static const char *const names[] = {"temperature", "humidity"};
    if (alloc_cols(c, 2, nrows) || !(c->time = malloc(nrows * sizeof(double))))
        return -1;
    for (size_t i = 0; i < nrows; i++) {
        double u = (double)i / (double)nrows;
        c->time[i] = DEC01 + start + step * (double)i + (i >= gap_row ? gap : 0);
        c->data[0][i] = 21 + 2 * sin(2 * M_PI * 1.5 * u) + 0.3 * sin(40 * u);
        c->data[1][i] = 45 + 5 * cos(2 * M_PI * u);
    }
    memcpy(c->names, names, sizeof names);
    c->fig.time = c->time;
    c->fig.utc = true;
    return 0;
}

size_t golden_case_count(void) { return 18; }

int golden_case_make(size_t i, golden_case_t *c)
{
    memset(c, 0, sizeof *c);
    static const char *const stems[] = {"lines",  "markers", "hist",       "logx",
                                        "logy",   "loglog",  "mathtext",   "one_column",
                                        "ten_columns", "empty", "nans",    "constant",
                                        "points_10m",  "offsets", "no_grid",
                                        "time_minute", "time_day", "time_month"};
    if (i >= golden_case_count())
        return -1;
    c->name = stems[i];
    switch (i) {
    case 0: return sinusoid(c);
    case 1: return markers(c);
    case 2: return hist(c);
    case 3: return logs(c, true, false);
    case 4: return logs(c, false, true);
    case 5: return logs(c, true, true);
    case 6: return math(c);
    case 7: return one_column(c);
    case 8: return ten_columns(c);
    case 9: return empty(c);
    case 10: return nans(c);
    case 11: return constant(c);
    case 12: return big(c, 10000000);
    case 13: return offsets(c);
    case 14: {
        int rc = sinusoid(c);
        c->fig.grid = false;
        c->fig.width_in = 4;
        c->fig.height_in = 4;
        c->fig.title = NULL;
        return rc;
    }
    case 15: /* a minute, one row a second, from 12:29:30 */
        c->fig.title = "One minute";
        return timed(c, 61, 12 * 3600.0 + 29 * 60 + 30, 1, SIZE_MAX, 0);
    case 16: /* a day, every 5 minutes, offline from 14:00 to 17:00 */
        c->fig.title = "One day, offline for 3 h";
        return timed(c, 253, 0, 300, 168, 3 * 3600.0);
    case 17: /* a month, hourly */
        c->fig.title = "One month";
        return timed(c, 30 * 24, 0, 3600, SIZE_MAX, 0);
    }
    return -1;
}

void golden_case_free(golden_case_t *c)
{
    for (size_t k = 0; k < GOLDEN_MAXCOLS; k++)
        free(c->data[k]);
    free(c->time);
    memset(c, 0, sizeof *c);
}
