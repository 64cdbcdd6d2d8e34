/*
 * dates.c - a time axis: tick steps as matplotlib's AutoDateLocator picks them, labels
 * as its ConciseDateFormatter writes them, and where a line of arrival times breaks.
 *
 * Times are seconds since the epoch. Ticks sit on calendar boundaries of the chosen
 * zone (UTC, or the local zone through localtime_r/mktime), so "every 6 hours" means
 * 00:00, 06:00, 12:00 and 18:00 of that zone, and "every 7 days" the 1st, 8th, 15th and
 * 22nd of each month, as matplotlib's interval_multiples does.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "render/render_int.h"

/* A broken-down time; sec holds whole seconds, usec the rest. */
typedef struct {
    int f[6]; /* year, month 1..12, day 1..31, hour, minute, second */
    long usec;
} civil_t;

enum { YEAR, MONTH, DAY, HOUR, MINUTE, SECOND, SUBSEC, NUNITS };

/* The candidate steps of each unit (SUBSEC: microseconds) and matplotlib's default
 * most ticks per unit. */
static const int steps_year[] = {1, 2, 4, 5, 10, 20, 40, 50, 100, 200, 400, 500,
                                 1000, 2000, 4000, 5000, 10000};
static const int steps_month[] = {1, 2, 3, 4, 6};
static const int steps_day[] = {1, 2, 4, 7, 14};
static const int steps_hour[] = {1, 2, 3, 4, 6, 12};
static const int steps_minsec[] = {1, 5, 10, 15, 30};
static const int steps_usec[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000,
                                 10000, 20000, 50000, 100000, 200000, 500000, 1000000};
static const struct {
    const int *steps;
    size_t n;
    int maxticks;
} units[NUNITS] = {
    {steps_year, sizeof steps_year / sizeof *steps_year, 11},
    {steps_month, sizeof steps_month / sizeof *steps_month, 12},
    {steps_day, sizeof steps_day / sizeof *steps_day, 11},
    {steps_hour, sizeof steps_hour / sizeof *steps_hour, 12},
    {steps_minsec, sizeof steps_minsec / sizeof *steps_minsec, 11},
    {steps_minsec, sizeof steps_minsec / sizeof *steps_minsec, 11},
    {steps_usec, sizeof steps_usec / sizeof *steps_usec, 8},
};

static const char *const month_abbr[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Days from 1970-01-01 to a proleptic Gregorian date (eras of 400 years). */
static long days_from_civil(long y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, int *y, int *m, int *d)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static civil_t to_civil(double t, bool utc)
{
    civil_t c;
    double whole = floor(t);
    c.usec = lround((t - whole) * 1e6);
    if (c.usec >= 1000000) {
        whole += 1;
        c.usec -= 1000000;
    }
    if (utc) {
        double days = floor(whole / 86400);
        long s = (long)(whole - days * 86400);
        civil_from_days((long)days, &c.f[YEAR], &c.f[MONTH], &c.f[DAY]);
        c.f[HOUR] = (int)(s / 3600);
        c.f[MINUTE] = (int)(s / 60 % 60);
        c.f[SECOND] = (int)(s % 60);
        return c;
    }
    time_t tt = (time_t)whole;
    struct tm tm;
    if (!localtime_r(&tt, &tm))
        return to_civil(t, true);
    c.f[YEAR] = tm.tm_year + 1900;
    c.f[MONTH] = tm.tm_mon + 1;
    c.f[DAY] = tm.tm_mday;
    c.f[HOUR] = tm.tm_hour;
    c.f[MINUTE] = tm.tm_min;
    c.f[SECOND] = tm.tm_sec;
    return c;
}

/* Seconds since the epoch of a broken-down time; fields past their range carry over. */
static double from_civil(const civil_t *c, bool utc)
{
    if (utc) {
        int y = c->f[YEAR], m = c->f[MONTH];
        y += (m - 1) / 12 - (m < 1);
        m = ((m - 1) % 12 + 12) % 12 + 1;
        double days = (double)days_from_civil(y, m, 1) + (c->f[DAY] - 1);
        return days * 86400 + c->f[HOUR] * 3600.0 + c->f[MINUTE] * 60.0 + c->f[SECOND] +
               c->usec * 1e-6;
    }
    struct tm tm = {.tm_year = c->f[YEAR] - 1900, .tm_mon = c->f[MONTH] - 1,
                    .tm_mday = c->f[DAY], .tm_hour = c->f[HOUR], .tm_min = c->f[MINUTE],
                    .tm_sec = c->f[SECOND], .tm_isdst = -1};
    return (double)mktime(&tm) + c->usec * 1e-6;
}

static int days_in_month(int y, int m)
{
    static const int n[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : n[m - 1];
}

ipp__date_step_t ipp__date_step(double lo, double hi, bool utc, int maxticks)
{
    civil_t a = to_civil(lo, utc), b = to_civil(hi, utc);
    /* whole calendar months between the limits, like dateutil's relativedelta */
    long months = (b.f[YEAR] - a.f[YEAR]) * 12L + (b.f[MONTH] - a.f[MONTH]);
    int cmp = 0;
    for (int k = DAY; k <= SECOND && !cmp; k++)
        cmp = (b.f[k] > a.f[k]) - (b.f[k] < a.f[k]);
    if (!cmp)
        cmp = (b.usec > a.usec) - (b.usec < a.usec);
    if (cmp < 0)
        months--;
    double span = hi - lo;
    double num[NUNITS] = {floor(months / 12.0), (double)months, floor(span / 86400),
                          floor(span / 3600), floor(span / 60), floor(span), span * 1e6};
    for (int u = 0; u < NUNITS; u++) {
        /* matplotlib's minticks: a unit needs at least 5 of itself in the span */
        if (num[u] < 5 && u < SUBSEC)
            continue;
        int most = maxticks > 1 ? maxticks : units[u].maxticks;
        int step = units[u].steps[units[u].n - 1];
        for (size_t i = 0; i < units[u].n; i++) {
            if (num[u] <= (double)units[u].steps[i] * (most - 1)) {
                step = units[u].steps[i];
                break;
            }
        }
        return (ipp__date_step_t){u, step};
    }
    return (ipp__date_step_t){SUBSEC, 1};
}

static void add_tick(ipp__axis_t *ax, double t)
{
    double eps = (ax->hi - ax->lo) * 1e-10;
    if (t >= ax->lo - eps && t <= ax->hi + eps && ax->nmajor < IPP__MAX_TICKS)
        ax->major[ax->nmajor++] = t;
}

/* The days of a month that carry ticks every `step` days. */
static size_t month_days(int step, int *days)
{
    size_t n = 0;
    if (step == 7) {
        static const int w[] = {1, 8, 15, 22};
        memcpy(days, w, sizeof w);
        return 4;
    }
    if (step == 14) { /* the 1st and 15th: a 29th would sit next to the next 1st */
        days[0] = 1;
        days[1] = 15;
        return 2;
    }
    for (int d = 1; d <= 31; d += step)
        days[n++] = d;
    return n;
}

static void place_ticks(ipp__axis_t *ax, ipp__date_step_t st, bool utc)
{
    ax->nmajor = 0;
    if (st.unit == SUBSEC) {
        double s = st.step * 1e-6;
        for (double k = ceil(ax->lo / s); k * s <= ax->hi && ax->nmajor < IPP__MAX_TICKS; k++)
            add_tick(ax, k * s);
        return;
    }
    civil_t c = to_civil(ax->lo, utc);
    c.usec = 0;
    for (int k = st.unit + 1; k <= SECOND; k++)
        c.f[k] = k == DAY ? 1 : 0;
    if (st.unit == YEAR) {
        c.f[MONTH] = 1;
        c.f[DAY] = 1;
        c.f[YEAR] = (int)floor(c.f[YEAR] / (double)st.step) * st.step;
    } else if (st.unit == MONTH) {
        c.f[MONTH] = 1; /* months 1, 1+step, ... of each year */
    } else if (st.unit != DAY) {
        c.f[st.unit] -= c.f[st.unit] % st.step;
    }
    int days[31];
    size_t ndays = month_days(st.step, days);
    for (int guard = 0; guard < 4 * IPP__MAX_TICKS + 64; guard++) {
        double t;
        if (st.unit == DAY) {
            /* one month per turn: its tick days that exist */
            for (size_t i = 0; i < ndays; i++) {
                if (days[i] > days_in_month(c.f[YEAR], c.f[MONTH]))
                    continue;
                civil_t d = c;
                d.f[DAY] = days[i];
                add_tick(ax, from_civil(&d, utc));
            }
            t = from_civil(&c, utc);
            c.f[MONTH]++;
        } else {
            t = from_civil(&c, utc);
            add_tick(ax, t);
            c.f[st.unit] += st.step;
            if (st.unit == MONTH && c.f[MONTH] > 12) {
                c.f[YEAR]++;
                c.f[MONTH] = 1;
            }
        }
        if (t > ax->hi)
            break;
        if (st.unit > DAY) /* normalise so the next day starts at 00:00 again */
            c = to_civil(from_civil(&c, utc), utc);
        else if (c.f[MONTH] > 12) {
            c.f[YEAR]++;
            c.f[MONTH] = 1;
        }
    }
}

/* strftime for the directives the concise formats use: %Y %b %d %H %M %S %f. */
static void format_time(char *dst, size_t cap, const char *fmt, const civil_t *c)
{
    size_t o = 0;
    dst[0] = 0;
    for (const char *p = fmt; *p && o + 1 < cap; p++) {
        char buf[16];
        if (*p != '%' || !p[1]) {
            dst[o++] = *p;
            dst[o] = 0;
            continue;
        }
        switch (*++p) {
        case 'Y': snprintf(buf, sizeof buf, "%d", c->f[YEAR]); break;
        case 'b': snprintf(buf, sizeof buf, "%s", month_abbr[(c->f[MONTH] + 11) % 12]); break;
        case 'd': snprintf(buf, sizeof buf, "%02d", c->f[DAY]); break;
        case 'H': snprintf(buf, sizeof buf, "%02d", c->f[HOUR]); break;
        case 'M': snprintf(buf, sizeof buf, "%02d", c->f[MINUTE]); break;
        case 'S': snprintf(buf, sizeof buf, "%02d", c->f[SECOND]); break;
        case 'f': snprintf(buf, sizeof buf, "%06ld", c->usec); break;
        default: snprintf(buf, sizeof buf, "%%%c", *p); break;
        }
        size_t n = strlen(buf);
        if (o + n >= cap)
            break;
        memcpy(dst + o, buf, n + 1);
        o += n;
    }
}

/* ConciseDateFormatter's three tables, by the level that changes between ticks:
 * year, month, day, hour, minute, second. */
static const char *const fmts[6] = {"%Y", "%b", "%d", "%H:%M", "%H:%M", "%S.%f"};
static const char *const zero_fmts[6] = {"", "%Y", "%b", "%b-%d", "%H:%M", "%H:%M"};
static const char *const offset_fmts[6] = {"", "%Y", "%Y-%b", "%Y-%b-%d", "%Y-%b-%d",
                                           "%Y-%b-%d %H:%M"};

void ipp__date_labels(ipp__axis_t *ax, bool utc)
{
    static const int zerovals[6] = {0, 1, 1, 0, 0, 0};
    civil_t c[IPP__MAX_TICKS];
    size_t n = ax->nmajor;
    for (size_t i = 0; i < n; i++)
        c[i] = to_civil(ax->major[i], utc);
    /* the finest field that differs between ticks is the level labelled */
    int level = SECOND;
    bool show_offset = true;
    for (level = SECOND; level >= YEAR; level--) {
        bool differ = false, has_one = false;
        for (size_t i = 0; i < n; i++) {
            differ |= c[i].f[level] != c[0].f[level];
            has_one |= c[i].f[level] == 1;
        }
        if (differ) {
            /* January among month ticks: its label is the year, no offset needed */
            if (level < DAY && has_one)
                show_offset = false;
            break;
        }
    }
    if (level < YEAR)
        level = SECOND;
    for (size_t i = 0; i < n; i++) {
        bool zero = level < SECOND ? c[i].f[level] == zerovals[level]
                                   : c[i].f[SECOND] == 0 && c[i].usec == 0;
        format_time(ax->labels[i], IPP__LABEL_LEN, zero ? zero_fmts[level] : fmts[level], &c[i]);
    }
    if (level == SECOND) {
        /* drop the zeros every fractional label shares ("05.000000" -> "05") */
        size_t trim = SIZE_MAX;
        for (size_t i = 0; i < n; i++) {
            const char *s = ax->labels[i];
            if (!strchr(s, '.'))
                continue;
            size_t len = strlen(s), z = 0;
            while (z < len && s[len - 1 - z] == '0')
                z++;
            trim = z < trim ? z : trim;
        }
        for (size_t i = 0; trim != SIZE_MAX && trim && i < n; i++) {
            char *s = ax->labels[i];
            if (!strchr(s, '.'))
                continue;
            size_t len = strlen(s) - trim;
            s[len] = 0;
            if (len && s[len - 1] == '.')
                s[len - 1] = 0;
        }
    }
    ax->offset_text[0] = 0;
    if (show_offset && n > 0)
        format_time(ax->offset_text, IPP__LABEL_LEN, offset_fmts[level], &c[n - 1]);
}

void ipp__date_ticks(ipp__axis_t *ax, int maxticks, bool utc)
{
    ax->nminor = 0;
    place_ticks(ax, ipp__date_step(ax->lo, ax->hi, utc, maxticks), utc);
    ipp__date_labels(ax, utc);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double ipp__time_gap(const double *t, size_t n)
{
    /* the typical spacing: the median of up to 1025 steps spread over the series */
    enum { SAMPLES = 1025 };
    double d[SAMPLES];
    size_t m = 0, stride = n > SAMPLES ? (n - 1) / SAMPLES + 1 : 1;
    for (size_t i = 1; i < n && m < SAMPLES; i += stride) {
        double s = t[i] - t[i - 1];
        if (isfinite(s) && s > 0)
            d[m++] = s;
    }
    if (m < 2)
        return 0;
    qsort(d, m, sizeof *d, cmp_double);
    return IPP__GAP_FACTOR * d[m / 2];
}
