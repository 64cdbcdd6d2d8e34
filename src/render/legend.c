/*
 * legend.c - the legend box: size, "best" placement and drawing.
 *
 * Geometry is matplotlib's, in units of the 10 pt font: border pad 0.4, row spacing
 * 0.5, handles 2.0 long, 0.8 between handle and text, 0.5 from the axes; a white
 * frame at 80% opacity with a light grey rounded edge. "best" tries the same
 * positions in the same order as matplotlib and keeps the first that covers the
 * fewest data points and lines.
 */
#include <math.h>

#include "render/render_int.h"

#define FS IPP__FONT_SIZE
#define BORDER_PAD (0.4 * FS)
#define LABEL_SPACING (0.5 * FS)
#define HANDLE_LEN (2.0 * FS)
#define HANDLE_H (0.7 * FS)
#define HANDLE_PAD (0.8 * FS)
#define AXES_PAD (0.5 * FS)

static double row_height(ipp__text_t *tx, const char *label)
{
    ipp__extent_t e = ipp__text_measure(tx, label, FS);
    return fmax(e.asc + e.desc, HANDLE_H);
}

void ipp__legend_measure(ipp__legend_t *lg, ipp__text_t *tx)
{
    double tw = 0, h = 0;
    for (size_t i = 0; i < lg->n; i++) {
        ipp__extent_t e = ipp__text_measure(tx, lg->lines[i].label, FS);
        tw = fmax(tw, e.w);
        h += row_height(tx, lg->lines[i].label) + (i ? LABEL_SPACING : 0);
    }
    lg->w = 2 * BORDER_PAD + HANDLE_LEN + HANDLE_PAD + tw;
    lg->h = 2 * BORDER_PAD + h;
}

static bool inside(const ipp__rect_t *r, ipp__pt_t p)
{
    return p.x >= r->x0 && p.x <= r->x1 && p.y >= r->y0 && p.y <= r->y1;
}

/* Whether segment a-b crosses rectangle r (Liang-Barsky clipping). */
static bool crosses(const ipp__rect_t *r, ipp__pt_t a, ipp__pt_t b)
{
    double t0 = 0, t1 = 1, dx = b.x - a.x, dy = b.y - a.y;
    double p[4] = {-dx, dx, -dy, dy};
    double q[4] = {a.x - r->x0, r->x1 - a.x, a.y - r->y0, r->y1 - a.y};
    for (int i = 0; i < 4; i++) {
        if (p[i] == 0) {
            if (q[i] < 0)
                return false;
            continue;
        }
        double t = q[i] / p[i];
        if (p[i] < 0)
            t0 = fmax(t0, t);
        else
            t1 = fmin(t1, t);
        if (t0 > t1)
            return false;
    }
    return true;
}

static size_t badness(const ipp__rect_t *box, const ipp__path_t *paths, size_t npaths)
{
    size_t bad = 0;
    for (size_t k = 0; k < npaths; k++) {
        const ipp__path_t *p = &paths[k];
        bool crossed = false;
        for (size_t i = 0; i < p->n; i++) {
            if (isnan(p->pts[i].x))
                continue;
            bad += inside(box, p->pts[i]);
            if (!crossed && i > 0 && !isnan(p->pts[i - 1].x))
                crossed = crosses(box, p->pts[i - 1], p->pts[i]);
        }
        bad += crossed;
    }
    return bad;
}

void ipp__legend_place(ipp__legend_t *lg, const ipp__rect_t *ax, const ipp__path_t *paths,
                       size_t npaths)
{
    double l = ax->x0 + AXES_PAD, r = ax->x1 - AXES_PAD - lg->w;
    double t = ax->y0 + AXES_PAD, b = ax->y1 - AXES_PAD - lg->h;
    double cx = (ax->x0 + ax->x1 - lg->w) / 2, cy = (ax->y0 + ax->y1 - lg->h) / 2;
    /* matplotlib's order: upper right, upper left, lower left, lower right, right,
     * center left, center right, lower center, upper center, center */
    const double cand[10][2] = {{r, t}, {l, t}, {l, b}, {r, b}, {r, cy},
                                {l, cy}, {r, cy}, {cx, b}, {cx, t}, {cx, cy}};
    size_t best = SIZE_MAX;
    for (int i = 0; i < 10; i++) {
        ipp__rect_t box = {cand[i][0], cand[i][1], cand[i][0] + lg->w, cand[i][1] + lg->h};
        size_t bad = badness(&box, paths, npaths);
        if (bad < best) {
            best = bad;
            lg->x = box.x0;
            lg->y = box.y0;
        }
        if (bad == 0)
            break;
    }
}

static void rounded_rect(cairo_t *cr, double x, double y, double w, double h, double r)
{
    cairo_new_path(cr);
    cairo_arc(cr, x + w - r, y + r, r, -M_PI / 2, 0);
    cairo_arc(cr, x + w - r, y + h - r, r, 0, M_PI / 2);
    cairo_arc(cr, x + r, y + h - r, r, M_PI / 2, M_PI);
    cairo_arc(cr, x + r, y + r, r, M_PI, 3 * M_PI / 2);
    cairo_close_path(cr);
}

static void draw_handle(cairo_t *cr, const ipp__legend_t *lg, const ipp__line_t *ln, double x,
                        double yc, const ipp__page_t *pg)
{
    const ipp__rgb_t c = ln->style.color;
    cairo_set_source_rgb(cr, c.r, c.g, c.b);
    if (lg->patches) {
        cairo_rectangle(cr, x, yc - HANDLE_H / 2, HANDLE_LEN, HANDLE_H);
        cairo_fill(cr);
        return;
    }
    if (ln->style.ls != IPP__LS_NONE) {
        double y = ipp__snap_w(pg, yc, IPP__LINE_WIDTH);
        ipp__set_line_style(cr, ln->style.ls, IPP__LINE_WIDTH);
        cairo_move_to(cr, x, y);
        cairo_line_to(cr, x + HANDLE_LEN, y);
        cairo_stroke(cr);
    }
    if (ln->style.marker)
        ipp__draw_marker(cr, ln->style.marker, x + HANDLE_LEN / 2, yc, IPP__MARKER_SIZE);
}

void ipp__legend_draw(ipp__legend_t *lg, ipp__text_t *tx, const ipp__page_t *pg)
{
    cairo_t *cr = tx->cr;
    cairo_save(cr);
    rounded_rect(cr, lg->x, lg->y, lg->w, lg->h, 0.2 * FS);
    cairo_set_source_rgba(cr, 1, 1, 1, 0.8);
    cairo_fill_preserve(cr);
    cairo_set_source_rgba(cr, 0.8, 0.8, 0.8, 0.8);
    cairo_set_line_width(cr, 1.0);
    cairo_set_dash(cr, NULL, 0, 0);
    cairo_stroke(cr);
    double y = lg->y + BORDER_PAD;
    for (size_t i = 0; i < lg->n; i++) {
        double rh = row_height(tx, lg->lines[i].label), yc = y + rh / 2;
        draw_handle(cr, lg, &lg->lines[i], lg->x + BORDER_PAD, yc, pg);
        cairo_set_source_rgb(cr, 0, 0, 0);
        ipp__text_draw(tx, lg->lines[i].label, FS, lg->x + BORDER_PAD + HANDLE_LEN + HANDLE_PAD,
                       yc, 0, 0.5, 0);
        y += rh + LABEL_SPACING;
    }
    cairo_restore(cr);
}
