/*
 * text.c - measure and draw labels with pango, through the mathtext layout.
 *
 * Sizes are absolute in cairo user units (points), so the same label has the same
 * geometry in PDF, SVG and PNG whatever the PNG resolution. Metrics are hinting-free
 * for the same reason. Extents are of the ink, with the ascent and descent of "lp"
 * as a floor, like matplotlib's text boxes, so rows of tick labels line up.
 */
#include <math.h>
#include <string.h>

#include "render/render_int.h"

static const char radical[] = "√";

int ipp__text_init(ipp__text_t *tx, cairo_t *cr)
{
    memset(tx, 0, sizeof *tx);
    tx->cr = cr;
    cairo_font_options_t *fo = cairo_font_options_create();
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_SLIGHT);
    cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
    cairo_set_font_options(cr, fo);
    cairo_font_options_destroy(fo);
    /* the thread's default font map: pango keeps one per thread, so concurrent
     * renders never share one */
    tx->layout = pango_cairo_create_layout(cr);
    tx->font = pango_font_description_from_string(IPP__FONT_FAMILY);
    if (!tx->layout || !tx->font) {
        ipp__text_free(tx);
        return -1;
    }
    PangoContext *pc = pango_layout_get_context(tx->layout);
    pango_context_set_round_glyph_positions(pc, FALSE);
    return 0;
}

void ipp__text_free(ipp__text_t *tx)
{
    if (tx->layout)
        g_object_unref(tx->layout);
    if (tx->font)
        pango_font_description_free(tx->font);
    memset(tx, 0, sizeof *tx);
}

static void set_run(ipp__text_t *tx, const char *s, size_t len, double size,
                    ipp__mt_style_t style)
{
    pango_font_description_set_absolute_size(tx->font, size * PANGO_SCALE);
    pango_font_description_set_style(tx->font, style == IPP__MT_ITALIC ? PANGO_STYLE_OBLIQUE
                                                                       : PANGO_STYLE_NORMAL);
    pango_layout_set_font_description(tx->layout, tx->font);
    pango_layout_set_text(tx->layout, s, (int)len);
}

static void measure_cb(void *ctx, const char *s, size_t len, double size, ipp__mt_style_t style,
                       double *w, double *asc, double *desc)
{
    ipp__text_t *tx = ctx;
    PangoRectangle ink, logical;
    set_run(tx, s, len, size, style);
    pango_layout_get_extents(tx->layout, &ink, &logical);
    double base = pango_layout_get_baseline(tx->layout);
    *w = (double)logical.width / PANGO_SCALE;
    if (ink.height <= 0) {
        *asc = *desc = 0;
        return;
    }
    *asc = (base - ink.y) / PANGO_SCALE;
    *desc = (ink.y + ink.height - base) / PANGO_SCALE;
}

/* Lay out any label: plain text becomes one roman run. */
static int layout_label(ipp__text_t *tx, const char *s, double size, ipp__mt_t *mt,
                        ipp__mt_box_t *box)
{
    if (ipp__mt_parse(s, mt) != 0)
        return -1;
    if (ipp__mt_layout(mt, size, measure_cb, tx, box) != 0) {
        ipp__mt_free(mt);
        return -1;
    }
    double w, lasc, ldesc;
    measure_cb(tx, "lp", 2, size, IPP__MT_ROMAN, &w, &lasc, &ldesc);
    box->ascent = fmax(box->ascent, lasc);
    box->descent = fmax(box->descent, ldesc);
    return 0;
}

ipp__extent_t ipp__text_measure(ipp__text_t *tx, const char *s, double size)
{
    ipp__extent_t e = {0, 0, 0};
    if (!s || !*s)
        return e;
    ipp__mt_t mt;
    ipp__mt_box_t box;
    if (layout_label(tx, s, size, &mt, &box) != 0)
        return e;
    e.w = box.width;
    e.asc = box.ascent;
    e.desc = box.descent;
    ipp__mt_box_free(&box);
    ipp__mt_free(&mt);
    return e;
}

static void draw_items(ipp__text_t *tx, const ipp__mt_t *mt, const ipp__mt_box_t *box)
{
    cairo_t *cr = tx->cr;
    for (size_t i = 0; i < box->n; i++) {
        const ipp__mt_item_t *it = &box->items[i];
        if (it->rule) {
            cairo_rectangle(cr, it->x, it->y - it->size / 2, it->w, it->size);
            cairo_fill(cr);
            continue;
        }
        if (it->len == 0)
            set_run(tx, radical, sizeof radical - 1, it->size, IPP__MT_ROMAN);
        else
            set_run(tx, mt->text + it->off, it->len, it->size, it->style);
        PangoLayoutLine *line = pango_layout_get_line_readonly(tx->layout, 0);
        if (!line)
            continue;
        cairo_move_to(cr, it->x, it->y);
        pango_cairo_show_layout_line(cr, line);
    }
}

void ipp__text_draw(ipp__text_t *tx, const char *s, double size, double x, double y, double ha,
                    double va, double angle)
{
    if (!s || !*s)
        return;
    ipp__mt_t mt;
    ipp__mt_box_t box;
    if (layout_label(tx, s, size, &mt, &box) != 0)
        return;
    double h = box.ascent + box.descent;
    cairo_save(tx->cr);
    cairo_translate(tx->cr, x, y);
    cairo_rotate(tx->cr, -angle);
    cairo_translate(tx->cr, -ha * box.width, box.ascent - va * h);
    cairo_new_path(tx->cr);
    draw_items(tx, &mt, &box);
    cairo_restore(tx->cr);
    ipp__mt_box_free(&box);
    ipp__mt_free(&mt);
}
