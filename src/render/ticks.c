/*
 * ticks.c - view limits, tick positions and tick labels.
 *
 * Follows matplotlib's defaults so that a figure reads the same as one from pyplot:
 * autoscale with 5% margins, MaxNLocator with steps 1, 2, 2.5, 5, 10 for linear axes,
 * decades (labelled 10^n) with minor ticks 2..9 for log axes, and ScalarFormatter's
 * offset and scientific notation for very large, tiny or offset numbers.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/render_int.h"

double ipp__map(const ipp__map_t *m, double v)
{
    if (!isfinite(v))
        return NAN;
    if (m->log) {
        if (v <= 0)
            return NAN;
        double l0 = log10(m->lo), l1 = log10(m->hi);
        return m->p0 + (log10(v) - l0) * (m->p1 - m->p0) / (l1 - l0);
    }
    return m->p0 + (v - m->lo) * (m->p1 - m->p0) / (m->hi - m->lo);
}

/* mtransforms.nonsingular with expander 0.05 */
static void nonsingular(double *lo, double *hi)
{
    double a = *lo, b = *hi;
    double big = fmax(fabs(a), fabs(b));
    if (b - a <= big * 1e-15 || big < 1e-300) {
        if (b == 0 && a == 0) {
            a = -0.05;
            b = 0.05;
        } else {
            a -= 0.05 * fabs(a);
            b += 0.05 * fabs(b);
        }
    }
    *lo = a;
    *hi = b;
}

void ipp__axis_limits(ipp__axis_t *ax, double dmin, double dmax, bool has_sticky,
                      double sticky)
{
    bool empty = !(dmin <= dmax) || !isfinite(dmin) || !isfinite(dmax);
    if (ax->log) {
        if (empty || dmin <= 0) {
            dmin = 1;
            dmax = 10;
        } else if (dmin == dmax) {
            /* LogLocator.nonsingular: one decade either side */
            dmin = pow(10, floor(log10(dmin) - 1e-12));
            dmax = pow(10, ceil(log10(dmax) + 1e-12));
        }
        double l0 = log10(dmin), l1 = log10(dmax), d = (l1 - l0) * IPP__MARGIN;
        ax->lo = pow(10, l0 - d);
        ax->hi = pow(10, l1 + d);
        if (has_sticky && sticky > 0 && dmin >= sticky && ax->lo < sticky)
            ax->lo = sticky;
        return;
    }
    if (empty)
        dmin = dmax = 0;
    nonsingular(&dmin, &dmax);
    double d = (dmax - dmin) * IPP__MARGIN;
    ax->lo = dmin - d;
    ax->hi = dmax + d;
    /* a sticky edge (0 under histogram bars) stops the margin, like matplotlib */
    if (has_sticky && dmin >= sticky && ax->lo < sticky)
        ax->lo = sticky;
    if (!(ax->hi > ax->lo) || !isfinite(ax->lo) || !isfinite(ax->hi)) {
        ax->lo = -0.055;
        ax->hi = 0.055;
    }
}

/* matplotlib's _Edge_integer: floor/ceil to a multiple of step with a tolerance that
 * grows with the offset, so 0.3 counts as a multiple of 0.1. */
static bool closeto(double ms, double edge, double step, double offset)
{
    double tol = 1e-10;
    if (offset > 0) {
        double digits = log10(offset / step);
        tol = fmin(0.4999, fmax(1e-10, pow(10, digits - 12)));
    }
    return fabs(ms - edge) < tol;
}

static double edge_le(double x, double step, double offset)
{
    double d = floor(x / step), m = x - d * step;
    return closeto(m / step, 1, step, offset) ? d + 1 : d;
}

static double edge_ge(double x, double step, double offset)
{
    double d = floor(x / step), m = x - d * step;
    return closeto(m / step, 0, step, offset) ? d : d + 1;
}

size_t ipp__nice_ticks(double vmin, double vmax, int nbins, double *ticks, size_t cap)
{
    static const double staircase[] = {0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 20};
    if (nbins < 1)
        nbins = 1;
    if (!(vmax > vmin) || !isfinite(vmin) || !isfinite(vmax) || cap == 0)
        return 0;
    /* scale_range: a power of ten for the step, an offset when the numbers are far
     * from zero compared with their range */
    double dv = vmax - vmin, meanv = (vmax + vmin) / 2, offset = 0;
    if (fabs(meanv) / dv >= 100)
        offset = copysign(pow(10, floor(log10(fabs(meanv)))), meanv);
    double scale = pow(10, floor(log10(dv / nbins)));
    double lo = vmin - offset, hi = vmax - offset, raw = (hi - lo) / nbins;
    size_t nsteps = sizeof staircase / sizeof staircase[0], istep = nsteps - 1;
    for (size_t i = 0; i < nsteps; i++) {
        if (staircase[i] * scale >= raw) {
            istep = i;
            break;
        }
    }
    size_t n = 0;
    for (size_t k = istep + 1; k-- > 0;) {
        double step = staircase[k] * scale;
        double best = floor(lo / step) * step;
        double low = edge_le(lo - best, step, offset), high = edge_ge(hi - best, step, offset);
        size_t inside = 0;
        n = 0;
        for (double i = low; i <= high && n < cap; i++) {
            double t = i * step + best;
            ticks[n++] = t;
            inside += (t <= hi && t >= lo);
        }
        if (inside >= 2)
            break;
    }
    for (size_t i = 0; i < n; i++)
        ticks[i] += offset;
    return n;
}

/* Write v with ASCII '-' replaced by the typographic minus sign U+2212, as matplotlib. */
static void put_minus(char *dst, size_t cap, const char *src)
{
    size_t o = 0;
    for (const char *p = src; *p && o + 4 < cap; p++) {
        if (*p == '-') {
            memcpy(dst + o, "\xe2\x88\x92", 3);
            o += 3;
        } else {
            dst[o++] = *p;
        }
    }
    dst[o] = 0;
}

/* ScalarFormatter.format_data: "1e6", "2.5e-3" (shortest significand). */
static void format_data(char *dst, size_t cap, double v)
{
    char buf[48], sig[32];
    snprintf(buf, sizeof buf, "%1.10e", v);
    char *e = strchr(buf, 'e');
    if (!e) {
        put_minus(dst, cap, buf);
        return;
    }
    size_t sl = (size_t)(e - buf);
    if (sl >= sizeof sig)
        sl = sizeof sig - 1;
    memcpy(sig, buf, sl);
    sig[sl] = 0;
    if (strchr(sig, '.')) {
        while (sl > 0 && sig[sl - 1] == '0')
            sig[--sl] = 0;
        if (sl > 0 && sig[sl - 1] == '.')
            sig[--sl] = 0;
    }
    int ex = atoi(e + 1);
    if (ex == 0)
        snprintf(buf, sizeof buf, "%s", sig); /* matplotlib: "1", not "1e0" */
    else
        snprintf(buf, sizeof buf, "%se%d", sig, ex);
    put_minus(dst, cap, buf);
}

/* ScalarFormatter._compute_offset: an offset when the visible ticks share at least
 * four leading digits, e.g. 1000000.1 .. 1000000.5 -> "+1e6". */
static double compute_offset(const double *locs, size_t n)
{
    if (n == 0)
        return 0;
    double lmin = locs[0], lmax = locs[n - 1];
    if (lmin == lmax || (lmin <= 0 && lmax >= 0))
        return 0;
    double amin = fmin(fabs(lmin), fabs(lmax)), amax = fmax(fabs(lmin), fabs(lmax));
    double sign = copysign(1, lmin);
    double oom_max = ceil(log10(amax)), oom = oom_max;
    for (int guard = 0; guard < 700; guard++, oom--) {
        if (floor(amin / pow(10, oom)) != floor(amax / pow(10, oom)))
            break;
    }
    oom += 1;
    if ((amax - amin) / pow(10, oom) <= 1e-2) {
        oom = oom_max;
        for (int guard = 0; guard < 700; guard++, oom--) {
            if (amax - amin >= pow(10, oom))
                break;
        }
        oom += 1;
    }
    double q = floor(amax / pow(10, oom));
    return q >= 1000 ? sign * q * pow(10, oom) : 0;
}

/* ScalarFormatter._set_format: the fewest decimals that still tell the ticks apart. */
static int label_decimals(const double *locs, size_t n, double offset, double scale)
{
    double mn = INFINITY, mx = -INFINITY, amax = 0;
    for (size_t i = 0; i < n; i++) {
        double v = (locs[i] - offset) / scale;
        mn = fmin(mn, v);
        mx = fmax(mx, v);
        amax = fmax(amax, fabs(v));
    }
    double range = mx - mn;
    if (!(range > 0))
        range = amax > 0 ? amax : 1;
    int room = (int)floor(log10(range));
    int sig = 3 - room > 0 ? 3 - room : 0;
    double thresh = 1e-3 * pow(10, room);
    for (; sig >= 0; sig--) {
        double p = pow(10, sig), worst = 0;
        for (size_t i = 0; i < n; i++) {
            double v = (locs[i] - offset) / scale;
            worst = fmax(worst, fabs(v - round(v * p) / p));
        }
        if (!(worst < thresh))
            break;
    }
    sig += 1;
    return sig > 15 ? 15 : sig;
}

static void linear_labels(ipp__axis_t *ax, const double *raw, size_t nraw)
{
    double offset = compute_offset(ax->major, ax->nmajor);
    int oom = 0;
    if (offset != 0) {
        oom = (int)floor(log10(ax->hi - ax->lo));
    } else {
        double val = 0;
        for (size_t i = 0; i < ax->nmajor; i++)
            val = fmax(val, fabs(ax->major[i]));
        oom = val > 0 ? (int)floor(log10(val)) : 0;
    }
    if (oom > -5 && oom < 6)
        oom = 0;
    if (offset != 0 && oom > -5 && oom < 6)
        oom = 0;
    double scale = pow(10, oom);
    int dec = label_decimals(raw, nraw, offset, scale);
    for (size_t i = 0; i < ax->nmajor; i++) {
        double v = (ax->major[i] - offset) / scale;
        char buf[IPP__LABEL_LEN];
        if (fabs(v) < 1e-8)
            v = 0;
        snprintf(buf, sizeof buf, "%.*f", dec, v);
        put_minus(ax->labels[i], IPP__LABEL_LEN, buf);
    }
    ax->offset_text[0] = 0;
    char sci[16] = "", off[IPP__LABEL_LEN - 16] = ""; /* "1e−300" fits in 16 */
    if (oom)
        format_data(sci, sizeof sci, scale);
    if (offset != 0) {
        char tmp[IPP__LABEL_LEN - 18];
        format_data(tmp, sizeof tmp, offset);
        snprintf(off, sizeof off, "%s%s", offset > 0 ? "+" : "", tmp);
    }
    snprintf(ax->offset_text, IPP__LABEL_LEN, "%s%s", sci, off);
}

static void linear_ticks(ipp__axis_t *ax, int nbins)
{
    double raw[IPP__MAX_TICKS];
    size_t nraw = ipp__nice_ticks(ax->lo, ax->hi, nbins, raw, IPP__MAX_TICKS);
    double eps = (ax->hi - ax->lo) * 1e-10;
    ax->nmajor = 0;
    for (size_t i = 0; i < nraw; i++) {
        if (raw[i] >= ax->lo - eps && raw[i] <= ax->hi + eps)
            ax->major[ax->nmajor++] = raw[i];
    }
    linear_labels(ax, raw, nraw);
}

static void log_ticks(ipp__axis_t *ax, int nbins)
{
    /* LogLocator: numticks from the tick space (2..9), a stride of whole decades,
     * counted from one stride below the lowest decade as matplotlib does */
    double l0 = log10(ax->lo), l1 = log10(ax->hi);
    double d0 = floor(l0 + 1e-9), d1 = ceil(l1 - 1e-9);
    double numdec = floor(l1 + 1e-9) - ceil(l0 - 1e-9);
    int numticks = nbins < 2 ? 2 : nbins > 9 ? 9 : nbins;
    double stride = fmax(1, ceil(numdec / (numticks - 1)));
    ax->nmajor = 0;
    ax->nminor = 0;
    ax->offset_text[0] = 0;
    for (double d = d0 - stride; d <= d1 + 1e-9; d += stride) {
        double v = pow(10, d);
        if (v >= ax->lo * (1 - 1e-9) && v <= ax->hi * (1 + 1e-9) &&
            ax->nmajor < IPP__MAX_TICKS) {
            ax->major[ax->nmajor] = v;
            snprintf(ax->labels[ax->nmajor], IPP__LABEL_LEN, "$10^{%d}$",
                     (int)d);
            ax->nmajor++;
        }
        for (int s = 2; s <= 9 && stride == 1; s++) {
            double m = s * v;
            if (m >= ax->lo && m <= ax->hi && ax->nminor < IPP__MAX_MINOR)
                ax->minor[ax->nminor++] = m;
        }
        /* decades left unlabelled get a minor tick each, as in matplotlib */
        for (double e = d + 1; stride > 1 && stride <= 16 && e < d + stride; e++) {
            double m = pow(10, e);
            if (m >= ax->lo && m <= ax->hi && ax->nminor < IPP__MAX_MINOR)
                ax->minor[ax->nminor++] = m;
        }
    }
}

/* No decade in view: like matplotlib's LogFormatterSciNotation, label the minor
 * ticks "s×10^n", all of them within 0.4 decade, else those with s in 1, 2, 3, 4, 6. */
static void label_minor(ipp__axis_t *ax)
{
    double numdec = log10(ax->hi / ax->lo);
    size_t keep = 0;
    for (size_t i = 0; i < ax->nminor; i++) {
        double m = ax->minor[i];
        int e = (int)floor(log10(m) + 1e-9);
        int sub = (int)lround(m / pow(10, e));
        bool show = numdec <= 0.4 || sub == 1 || sub == 2 || sub == 3 || sub == 4 || sub == 6;
        if (show && ax->nmajor < IPP__MAX_TICKS) {
            ax->major[ax->nmajor] = m;
            snprintf(ax->labels[ax->nmajor], IPP__LABEL_LEN, "$%d\\times10^{%d}$", sub, e);
            ax->nmajor++;
        } else {
            ax->minor[keep++] = m;
        }
    }
    ax->nminor = keep;
}

void ipp__axis_ticks(ipp__axis_t *ax, int nbins)
{
    if (nbins > 9)
        nbins = 9;
    if (nbins < 1)
        nbins = 1;
    if (ax->time) {
        ipp__date_ticks(ax, 0, ax->utc);
        return;
    }
    if (ax->log) {
        log_ticks(ax, nbins);
        if (ax->nmajor == 0)
            label_minor(ax);
        return;
    }
    linear_ticks(ax, nbins);
}
