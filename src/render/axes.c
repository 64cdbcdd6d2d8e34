/*
 * axes.c - the axes box and everything around it: spines, ticks, tick labels,
 * grid, axis labels, offset text and title.
 *
 * Layout is matplotlib's: the axes sit where a default subplot sits in a figure of
 * the requested size, and the page is then cropped to the content plus 0.1 in, like
 * savefig(bbox_inches="tight"), so a figure has the proportions, tick density and
 * size of the one pyplot would save. Tick counts follow MaxNLocator's "auto": one tick per three font
 * sizes of width, per two of height, at most nine intervals, and fewer when labels
 * would still touch.
 */
#include <math.h>
#include <string.h>

#include "render/render_int.h"

#define FS IPP__FONT_SIZE
#define TICK_ROOM (IPP__TICK_MAJOR + IPP__TICK_PAD)
#define MIN_GAP (0.4 * FS) /* smallest space between neighbouring tick labels */

double ipp__snap(const ipp__page_t *pg, double v)
{
    return pg->raster ? (floor(v / pg->px) + 0.5) * pg->px : v;
}

double ipp__snap_w(const ipp__page_t *pg, double v, double width)
{
    if (!pg->raster)
        return v;
    long n = lround(width / pg->px);
    return n % 2 ? (floor(v / pg->px) + 0.5) * pg->px : round(v / pg->px) * pg->px;
}

void ipp__axes_map(const ipp__axes_t *ax, ipp__map_t *mx, ipp__map_t *my)
{
    *mx = (ipp__map_t){ax->x.log, ax->x.lo, ax->x.hi, ax->box.x0, ax->box.x1};
    *my = (ipp__map_t){ax->y.log, ax->y.lo, ax->y.hi, ax->box.y1, ax->box.y0};
}

/* Whether the labels of `a` (placed along a length `len` from p0 to p1) collide. */
static bool labels_collide(const ipp__axis_t *a, ipp__text_t *tx, double p0, double p1,
                           bool horizontal)
{
    ipp__map_t m = {a->log, a->lo, a->hi, p0, p1};
    double prev_end = -INFINITY;
    for (size_t i = 0; i < a->nmajor; i++) {
        ipp__extent_t e = ipp__text_measure(tx, a->labels[i], FS);
        double c = ipp__map(&m, a->major[i]), half = horizontal ? e.w / 2 : (e.asc + e.desc) / 2;
        if (!horizontal)
            c = -c; /* page y grows downwards: walk upwards */
        double lo = c - half;
        if (lo < prev_end + MIN_GAP)
            return true;
        prev_end = c + half;
    }
    return false;
}

/* Ticks for one axis: the locator's count for this length, fewer if labels touch. */
static void choose_ticks(ipp__axis_t *a, ipp__text_t *tx, double len, bool horizontal)
{
    /* dates: matplotlib's most ticks first, fewer while the labels touch */
    for (int most = 0; a->time;) {
        ipp__date_ticks(a, most, a->utc);
        if (!labels_collide(a, tx, 0, horizontal ? len : -len, horizontal))
            return;
        most = most ? most - 1 : (int)a->nmajor - 1;
        if (most < 3)
            break;
    }
    int nb = (int)floor(len / (FS * (horizontal ? 3 : 2)));
    nb = nb < 1 ? 1 : nb > 9 ? 9 : nb;
    for (; !a->time; nb--) {
        ipp__axis_ticks(a, nb);
        if (!labels_collide(a, tx, 0, horizontal ? len : -len, horizontal))
            return;
        if (nb <= 1)
            break;
    }
    /* still touching (long labels on a short axis): label every other tick only */
    while (a->nmajor > 2 && labels_collide(a, tx, 0, horizontal ? len : -len, horizontal)) {
        size_t n = 0;
        for (size_t i = 0; i < a->nmajor; i++) {
            if (i % 2 == 0) {
                a->major[n] = a->major[i];
                memmove(a->labels[n], a->labels[i], IPP__LABEL_LEN);
                n++;
            } else if (a->nminor < IPP__MAX_MINOR) {
                a->minor[a->nminor++] = a->major[i];
            }
        }
        a->nmajor = n;
    }
}

typedef struct {
    double ytick_w, xtick_h;     /* widest y label, tallest x label */
    double over_l, over_r;       /* x labels sticking out left/right of the axes */
    double over_t, over_b;       /* y labels sticking out above/below */
} tick_room_t;

static tick_room_t measure_ticks(const ipp__axes_t *ax, ipp__text_t *tx)
{
    tick_room_t r = {0, 0, 0, 0, 0, 0};
    ipp__map_t mx, my;
    ipp__axes_map(ax, &mx, &my);
    for (size_t i = 0; i < ax->x.nmajor; i++) {
        ipp__extent_t e = ipp__text_measure(tx, ax->x.labels[i], FS);
        double c = ipp__map(&mx, ax->x.major[i]);
        r.xtick_h = fmax(r.xtick_h, e.asc + e.desc);
        r.over_l = fmax(r.over_l, ax->box.x0 - (c - e.w / 2));
        r.over_r = fmax(r.over_r, c + e.w / 2 - ax->box.x1);
    }
    for (size_t i = 0; i < ax->y.nmajor; i++) {
        ipp__extent_t e = ipp__text_measure(tx, ax->y.labels[i], FS);
        double c = ipp__map(&my, ax->y.major[i]), h = e.asc + e.desc;
        r.ytick_w = fmax(r.ytick_w, e.w);
        r.over_t = fmax(r.over_t, ax->box.y0 - (c - h / 2));
        r.over_b = fmax(r.over_b, c + h / 2 - ax->box.y1);
    }
    return r;
}

static double text_h(ipp__text_t *tx, const char *s, double size)
{
    if (!s || !*s)
        return 0;
    ipp__extent_t e = ipp__text_measure(tx, s, size);
    return e.asc + e.desc;
}

/* Baseline row of the title: above the axes, or above the y offset text ("1e6")
 * when the two would overlap (matplotlib moves the title up the same way). */
static double title_bottom(const ipp__axes_t *ax, ipp__text_t *tx)
{
    const ipp__rect_t *b = &ax->box;
    const char *t = ax->fig->title, *o = ax->y.offset_text;
    if (!o[0] || !t || !*t)
        return b->y0 - IPP__TITLE_PAD;
    ipp__extent_t te = ipp__text_measure(tx, t, IPP__TITLE_SIZE), oe = ipp__text_measure(tx, o, FS);
    if (b->x0 + oe.w + 0.5 * FS < (b->x0 + b->x1 - te.w) / 2)
        return b->y0 - IPP__TITLE_PAD;
    return b->y0 - IPP__LABEL_PAD - oe.asc - oe.desc - IPP__LABEL_PAD;
}

void ipp__axes_layout(ipp__axes_t *ax, ipp__text_t *tx, ipp__page_t *pg)
{
    const ipp_figure_t *f = ax->fig;
    const double pad = IPP__FIG_PAD, W = pg->page_w, H = pg->page_h;
    /* matplotlib's default subplot: left 0.125, right 0.9, bottom 0.11, top 0.88 */
    ax->box = (ipp__rect_t){0.125 * W, (1 - 0.88) * H, 0.9 * W, (1 - 0.11) * H};
    choose_ticks(&ax->x, tx, ax->box.x1 - ax->box.x0, true);
    choose_ticks(&ax->y, tx, ax->box.y1 - ax->box.y0, false);
    tick_room_t r = measure_ticks(ax, tx);
    double xl = text_h(tx, f->xlabel, FS), yl = text_h(tx, f->ylabel, FS);
    double ti = text_h(tx, f->title, IPP__TITLE_SIZE);
    double xo = text_h(tx, ax->x.offset_text, FS), yo = text_h(tx, ax->y.offset_text, FS);
    double lw = f->xlabel && *f->xlabel ? ipp__text_measure(tx, f->xlabel, FS).w : 0;
    double tw = f->title && *f->title ? ipp__text_measure(tx, f->title, IPP__TITLE_SIZE).w : 0;
    double yw = f->ylabel && *f->ylabel ? ipp__text_measure(tx, f->ylabel, FS).w : 0;
    const ipp__rect_t *b = &ax->box;
    double cx = (b->x0 + b->x1) / 2, cy = (b->y0 + b->y1) / 2;
    /* the content's bounding box: axes, tick labels, labels, offsets, title */
    double left = b->x0 - r.over_l, right = b->x1 + r.over_r;
    double top = b->y0 - r.over_t, bottom = b->y1 + r.over_b;
    left = fmin(left, b->x0 - TICK_ROOM - r.ytick_w - (yl > 0 ? IPP__LABEL_PAD + yl : 0));
    left = fmin(left, fmin(cx - lw / 2, cx - tw / 2));
    right = fmax(right, fmax(cx + lw / 2, cx + tw / 2));
    bottom = fmax(bottom, b->y1 + TICK_ROOM + r.xtick_h +
                              (xl > 0 || xo > 0 ? IPP__LABEL_PAD + fmax(xl, xo) : 0));
    top = fmin(top, b->y0 - (yo > 0 ? IPP__LABEL_PAD + yo : 0));
    if (ti > 0)
        top = fmin(top, title_bottom(ax, tx) - ti);
    top = fmin(top, cy - yw / 2);
    bottom = fmax(bottom, cy + yw / 2);
    /* crop to it plus the padding; PNG pages are whole pixels */
    double pw = right - left + 2 * pad, ph = bottom - top + 2 * pad;
    if (pg->raster) {
        pw = fmax(1, round(pw / pg->px)) * pg->px;
        ph = fmax(1, round(ph / pg->px)) * pg->px;
    }
    double dx = pad - left, dy = pad - top;
    ax->box = (ipp__rect_t){b->x0 + dx, b->y0 + dy, b->x1 + dx, b->y1 + dy};
    pg->page_w = pw;
    pg->page_h = ph;
}

void ipp__axes_draw_grid(const ipp__axes_t *ax, cairo_t *cr, const ipp__page_t *pg)
{
    ipp__map_t mx, my;
    ipp__axes_map(ax, &mx, &my);
    cairo_save(cr);
    cairo_set_source_rgb(cr, 0xb0 / 255.0, 0xb0 / 255.0, 0xb0 / 255.0);
    cairo_set_line_width(cr, IPP__GRID_WIDTH);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
    cairo_set_dash(cr, NULL, 0, 0);
    cairo_new_path(cr);
    for (size_t i = 0; i < ax->x.nmajor; i++) {
        double x = ipp__snap(pg, ipp__map(&mx, ax->x.major[i]));
        cairo_move_to(cr, x, ax->box.y0);
        cairo_line_to(cr, x, ax->box.y1);
    }
    for (size_t i = 0; i < ax->y.nmajor; i++) {
        double y = ipp__snap(pg, ipp__map(&my, ax->y.major[i]));
        cairo_move_to(cr, ax->box.x0, y);
        cairo_line_to(cr, ax->box.x1, y);
    }
    cairo_stroke(cr);
    cairo_restore(cr);
}

/* Tick marks of one axis, outward from the spine at `edge`. */
static void draw_tick_marks(cairo_t *cr, const ipp__page_t *pg, const ipp__map_t *m,
                            const double *v, size_t n, double edge, double len, double width,
                            bool horizontal)
{
    cairo_set_line_width(cr, width);
    cairo_new_path(cr);
    for (size_t i = 0; i < n; i++) {
        double p = ipp__snap(pg, ipp__map(m, v[i]));
        if (isnan(p))
            continue;
        if (horizontal) {
            cairo_move_to(cr, p, edge);
            cairo_line_to(cr, p, edge + len);
        } else {
            cairo_move_to(cr, edge, p);
            cairo_line_to(cr, edge - len, p);
        }
    }
    cairo_stroke(cr);
}

static void draw_ticks(const ipp__axes_t *ax, cairo_t *cr, const ipp__page_t *pg,
                       ipp__text_t *tx, tick_room_t *r)
{
    ipp__map_t mx, my;
    ipp__axes_map(ax, &mx, &my);
    const ipp__rect_t *b = &ax->box;
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
    draw_tick_marks(cr, pg, &mx, ax->x.major, ax->x.nmajor, b->y1, IPP__TICK_MAJOR,
                    IPP__SPINE_WIDTH, true);
    draw_tick_marks(cr, pg, &mx, ax->x.minor, ax->x.nminor, b->y1, IPP__TICK_MINOR,
                    IPP__TICK_MINOR_WIDTH, true);
    draw_tick_marks(cr, pg, &my, ax->y.major, ax->y.nmajor, b->x0, IPP__TICK_MAJOR,
                    IPP__SPINE_WIDTH, false);
    draw_tick_marks(cr, pg, &my, ax->y.minor, ax->y.nminor, b->x0, IPP__TICK_MINOR,
                    IPP__TICK_MINOR_WIDTH, false);
    *r = measure_ticks(ax, tx);
    for (size_t i = 0; i < ax->x.nmajor; i++)
        ipp__text_draw(tx, ax->x.labels[i], FS, ipp__map(&mx, ax->x.major[i]), b->y1 + TICK_ROOM,
                       0.5, 0, 0);
    for (size_t i = 0; i < ax->y.nmajor; i++)
        ipp__text_draw(tx, ax->y.labels[i], FS, b->x0 - TICK_ROOM, ipp__map(&my, ax->y.major[i]),
                       1, 0.5, 0);
}

void ipp__axes_draw_frame(const ipp__axes_t *ax, ipp__text_t *tx, const ipp__page_t *pg)
{
    cairo_t *cr = tx->cr;
    const ipp_figure_t *f = ax->fig;
    const ipp__rect_t *b = &ax->box;
    cairo_save(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_dash(cr, NULL, 0, 0);
    cairo_set_line_width(cr, IPP__SPINE_WIDTH);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_MITER);
    double x0 = ipp__snap(pg, b->x0), x1 = ipp__snap(pg, b->x1);
    double y0 = ipp__snap(pg, b->y0), y1 = ipp__snap(pg, b->y1);
    cairo_rectangle(cr, x0, y0, x1 - x0, y1 - y0);
    cairo_stroke(cr);
    tick_room_t r;
    draw_ticks(ax, cr, pg, tx, &r);
    double below = b->y1 + TICK_ROOM + r.xtick_h + IPP__LABEL_PAD;
    ipp__text_draw(tx, f->xlabel, FS, (b->x0 + b->x1) / 2, below, 0.5, 0, 0);
    ipp__text_draw(tx, ax->x.offset_text, FS, b->x1, below, 1, 0, 0);
    ipp__text_draw(tx, f->ylabel, FS, b->x0 - TICK_ROOM - r.ytick_w - IPP__LABEL_PAD,
                   (b->y0 + b->y1) / 2, 0.5, 1, M_PI / 2);
    ipp__text_draw(tx, ax->y.offset_text, FS, b->x0, b->y0 - IPP__LABEL_PAD, 0, 1, 0);
    ipp__text_draw(tx, f->title, IPP__TITLE_SIZE, (b->x0 + b->x1) / 2, title_bottom(ax, tx), 0.5,
                   1, 0);
    cairo_restore(cr);
}
