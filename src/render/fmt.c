/*
 * fmt.c - matplotlib format strings and colours.
 *
 * A format string is "[colour][marker][line]" in any order, as in matplotlib's
 * _process_plot_format: each part at most once, an unknown character is an error, a
 * marker without a line style draws markers only, "C0".."C9" name cycle colours.
 */
#include <stdio.h>
#include <string.h>

#include "render/render_int.h"

/* tab10, matplotlib's default property cycle */
static const ipp__rgb_t tab10[10] = {
    {0x1f / 255.0, 0x77 / 255.0, 0xb4 / 255.0}, {0xff / 255.0, 0x7f / 255.0, 0x0e / 255.0},
    {0x2c / 255.0, 0xa0 / 255.0, 0x2c / 255.0}, {0xd6 / 255.0, 0x27 / 255.0, 0x28 / 255.0},
    {0x94 / 255.0, 0x67 / 255.0, 0xbd / 255.0}, {0x8c / 255.0, 0x56 / 255.0, 0x4b / 255.0},
    {0xe3 / 255.0, 0x77 / 255.0, 0xc2 / 255.0}, {0x7f / 255.0, 0x7f / 255.0, 0x7f / 255.0},
    {0xbc / 255.0, 0xbd / 255.0, 0x22 / 255.0}, {0x17 / 255.0, 0xbe / 255.0, 0xcf / 255.0},
};

/* matplotlib's single-letter "base colors" */
static const struct {
    char letter;
    ipp__rgb_t rgb;
} base_colors[] = {
    {'b', {0, 0, 1}},       {'g', {0, 0.5, 0}},     {'r', {1, 0, 0}},
    {'c', {0, 0.75, 0.75}}, {'m', {0.75, 0, 0.75}}, {'y', {0.75, 0.75, 0}},
    {'k', {0, 0, 0}},       {'w', {1, 1, 1}},
};

static const char markers[] = ".,ov^<>sp*hH+xDd|_";

ipp__rgb_t ipp__cycle_color(size_t i) { return tab10[i % 10]; }

bool ipp__marker_unfilled(char marker) { return marker && strchr("+x|_", marker); }

static bool base_color(char c, ipp__rgb_t *out)
{
    for (size_t i = 0; i < sizeof base_colors / sizeof base_colors[0]; i++) {
        if (base_colors[i].letter == c) {
            *out = base_colors[i].rgb;
            return true;
        }
    }
    return false;
}

static int fail(char *err, size_t errlen, const char *fmt, const char *what, char c)
{
    if (err && errlen) {
        if (c && ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f))
            snprintf(err, errlen, "illegal format string; unrecognized byte 0x%02x",
                     (unsigned char)c);
        else if (c)
            snprintf(err, errlen, "illegal format string \"%.40s\"; unrecognized character '%c'",
                     fmt, c);
        else
            snprintf(err, errlen, "illegal format string; two %s symbols", what);
    }
    return -1;
}

/* The line style starting at s, and its length in characters (0: none). */
static size_t line_style_at(const char *s, ipp__linestyle_t *ls)
{
    if (s[0] == '-' && s[1] == '-') {
        *ls = IPP__LS_DASHED;
        return 2;
    }
    if (s[0] == '-' && s[1] == '.') {
        *ls = IPP__LS_DASHDOT;
        return 2;
    }
    if (s[0] == '-') {
        *ls = IPP__LS_SOLID;
        return 1;
    }
    if (s[0] == ':') {
        *ls = IPP__LS_DOTTED;
        return 1;
    }
    return 0;
}

int ipp__parse_format(const char *fmt, ipp__style_t *out, char *err, size_t errlen)
{
    ipp__style_t st = {.has_color = false, .marker = 0, .ls = IPP__LS_SOLID};
    bool has_ls = false;
    if (!fmt)
        fmt = "";
    for (size_t i = 0; fmt[i];) {
        ipp__linestyle_t ls;
        size_t n = line_style_at(fmt + i, &ls);
        ipp__rgb_t rgb;
        char c = fmt[i];
        if (n) {
            if (has_ls)
                return fail(err, errlen, fmt, "linestyle", 0);
            has_ls = true;
            st.ls = ls;
            i += n;
        } else if (strchr(markers, c)) {
            if (st.marker)
                return fail(err, errlen, fmt, "marker", 0);
            st.marker = c;
            i++;
        } else if (base_color(c, &rgb) || (c == 'C' && fmt[i + 1] >= '0' && fmt[i + 1] <= '9')) {
            if (st.has_color)
                return fail(err, errlen, fmt, "color", 0);
            if (c == 'C') {
                rgb = tab10[fmt[i + 1] - '0'];
                i++;
            }
            st.has_color = true;
            st.color = rgb;
            i++;
        } else {
            return fail(err, errlen, fmt, NULL, c);
        }
    }
    /* matplotlib: a marker alone means "markers only" */
    if (!has_ls && st.marker)
        st.ls = IPP__LS_NONE;
    *out = st;
    return 0;
}
