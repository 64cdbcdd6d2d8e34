/* Mathtext: each construct parses to the expected tree and lays out sensibly; odd and
 * hostile input never crashes and always yields something drawable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "render/render_int.h"

/* Flatten the tree: text runs as typed, italic runs in /slashes/, scripts as ^() _(),
 * fractions as (a|b), radicals as R(), spaces as '~'. */
static void flat(const ipp__mt_t *mt, int id, char *out, size_t cap)
{
    if (id < 0)
        return;
    const ipp__mt_node_t *n = &mt->nodes[id];
    size_t o = strlen(out);
    switch (n->kind) {
    case IPP__MT_TEXT:
        snprintf(out + o, cap - o, n->style == IPP__MT_ITALIC ? "/%.*s/" : "%.*s", (int)n->len,
                 mt->text + n->off);
        break;
    case IPP__MT_SPACE:
        snprintf(out + o, cap - o, "~");
        break;
    case IPP__MT_GROUP:
        for (int c = n->a; c >= 0; c = mt->nodes[c].next)
            flat(mt, c, out, cap);
        break;
    case IPP__MT_SCRIPT:
        flat(mt, n->a, out, cap);
        if (n->b >= 0) {
            strncat(out, "^(", cap - strlen(out) - 1);
            flat(mt, n->b, out, cap);
            strncat(out, ")", cap - strlen(out) - 1);
        }
        if (n->c >= 0) {
            strncat(out, "_(", cap - strlen(out) - 1);
            flat(mt, n->c, out, cap);
            strncat(out, ")", cap - strlen(out) - 1);
        }
        break;
    case IPP__MT_FRAC:
        strncat(out, "(", cap - strlen(out) - 1);
        flat(mt, n->a, out, cap);
        strncat(out, "|", cap - strlen(out) - 1);
        flat(mt, n->b, out, cap);
        strncat(out, ")", cap - strlen(out) - 1);
        break;
    case IPP__MT_SQRT:
        strncat(out, "R(", cap - strlen(out) - 1);
        flat(mt, n->a, out, cap);
        strncat(out, ")", cap - strlen(out) - 1);
        break;
    }
}

static void fake_measure(void *ctx, const char *s, size_t len, double size,
                         ipp__mt_style_t style, double *w, double *asc, double *desc)
{
    (void)ctx;
    (void)s;
    (void)style;
    *w = 0.5 * size * (double)len;
    *asc = 0.7 * size;
    *desc = 0.2 * size;
}

static void expect(const char *in, const char *want)
{
    ipp__mt_t mt;
    char got[1024] = "";
    assert_int_equal(ipp__mt_parse(in, &mt), 0);
    flat(&mt, mt.root, got, sizeof got);
    ipp__mt_box_t box;
    assert_int_equal(ipp__mt_layout(&mt, 10, fake_measure, NULL, &box), 0);
    ipp__mt_box_free(&box);
    ipp__mt_free(&mt);
    if (strcmp(got, want) != 0)
        fail_msg("\"%s\" parsed as \"%s\", want \"%s\"", in, got, want);
}

#define MINUS "\xe2\x88\x92"

static void test_plain(void **state)
{
    (void)state;
    expect("Time [s]", "Time [s]");
    expect("", "");
    expect(NULL, "");
    expect("cost \\$5", "cost $5");
    expect("cost $5", "cost $5"); /* a lone $ is literal */
    expect("a \\ b", "a \\ b");   /* backslashes outside math stay */
    assert_false(ipp__mt_has_math("plain"));
    assert_true(ipp__mt_has_math("$x$"));
}

static void test_scripts(void **state)
{
    (void)state;
    expect("$x^2$", "/x/^(2)");
    expect("$x_i$", "/x/_(/i/)");
    expect("$x_i^2$", "/x/^(2)_(/i/)");
    expect("$e^{-t}$", "/e/^(" MINUS "/t/)"); /* unary minus: no spaces */
    expect("$x^{y^{z}}$", "/x/^(/y/^(/z/))");
    expect("$ab^2$", "/a//b/^(2)"); /* the script binds to the last letter only */
    expect("$10^{3}$", "10^(3)");
    expect("$V_{\\mathrm{out}}$", "/V/_(out)");
    expect("$^2$", "^(2)");
}

static void test_symbols(void **state)
{
    (void)state;
    expect("$\\alpha\\beta\\omega$", "/αβω/");
    expect("$\\Gamma\\Omega$", "ΓΩ");          /* capitals upright */
    expect("$\\mu$s", "/μ/s");
    expect("$a+b$", "/a/~+~/b/");               /* binary operator spacing */
    expect("$a=b$", "/a/~=~/b/");               /* relation spacing */
    expect("$2\\times3$", "2~×~3");
    expect("$a\\cdot b$", "/a/~⋅~/b/");
    expect("$\\pm1$", "±1");                   /* unary at the start */
    expect("$\\infty\\circ$", "∞∘");
    expect("$a\\,b$", "/a/~/b/");
    expect("$5\\,\\Omega$", "5~Ω");
}

static void test_functions(void **state)
{
    (void)state;
    expect("$\\cos(2\\pi t)$", "cos(2/πt/)");
    expect("$\\sin x$", "sin~/x/");
    expect("$\\exp\\log\\ln$", "exp~log~ln");
    expect("Damped exponential decay $e^{-t} \\cos(2\\pi t)$",
           "Damped exponential decay /e/^(" MINUS "/t/)cos(2/πt/)");
}

static void test_text_and_accents(void **state)
{
    (void)state;
    expect("$a \\text{if } b$", "/a/if /b/");
    expect("$\\mathrm{a b}$", "ab");
    expect("$\\bar{x}$", "/x\xcc\x84/");
    expect("$\\hat y$", "/y\xcc\x82/");
    expect("$\\vec{v}$", "/v\xe2\x83\x97/");
    expect("$\\dot{\\frac{1}{2}}$", "(1|2)"); /* too complex: accent dropped */
    expect("$\\bar$", "");
}

static void test_frac_sqrt(void **state)
{
    (void)state;
    expect("$\\frac{1}{2}$", "(1|2)");
    expect("$\\frac12$", "(1|2)");
    expect("$\\frac{a+b}{c}$", "(/a/~+~/b/|/c/)");
    expect("$\\sqrt{x}$", "R(/x/)");
    expect("$\\sqrt[3]{x}$", "R(/x/)");
    expect("$\\sqrt{\\frac{1}{2}}$", "R((1|2))");
}

static void test_unknown_and_unbalanced(void **state)
{
    (void)state;
    expect("$\\foo x$", "\\foo/x/");
    expect("${a$", "/a/");
    expect("$a}$", "/a/}");
    expect("$x^$", "/x/^()");
    expect("$\\$", "$$"); /* an escaped dollar cannot close math */
    expect("$\\frac{1}$", "(1|)");
    expect("$\\$", "$$");
    expect("$\\", "$\\");
    expect("$a$$b$", "/a//b/");
}

static void test_layout(void **state)
{
    (void)state;
    ipp__mt_t mt;
    ipp__mt_box_t box;
    assert_int_equal(ipp__mt_parse("$x^2$", &mt), 0);
    assert_int_equal(ipp__mt_layout(&mt, 10, fake_measure, NULL, &box), 0);
    assert_int_equal(box.n, 2);
    assert_true(box.items[1].size < 10);           /* smaller */
    assert_true(box.items[1].y < box.items[0].y);  /* raised */
    assert_true(box.items[1].x > box.items[0].x);  /* after the base */
    assert_true(box.ascent > 7);
    ipp__mt_box_free(&box);
    ipp__mt_free(&mt);
    assert_int_equal(ipp__mt_parse("$\\frac{1}{2}$", &mt), 0);
    assert_int_equal(ipp__mt_layout(&mt, 10, fake_measure, NULL, &box), 0);
    assert_int_equal(box.n, 3); /* numerator, denominator, bar */
    assert_true(box.items[0].y < box.items[2].y && box.items[2].y < box.items[1].y);
    assert_true(box.items[2].rule);
    ipp__mt_box_free(&box);
    ipp__mt_free(&mt);
}

static void parse_and_layout(const char *s)
{
    ipp__mt_t mt;
    ipp__mt_box_t box;
    assert_int_equal(ipp__mt_parse(s, &mt), 0);
    assert_int_equal(ipp__mt_layout(&mt, 10, fake_measure, NULL, &box), 0);
    ipp__mt_box_free(&box);
    ipp__mt_free(&mt);
}

static void test_hostile(void **state)
{
    (void)state;
    static const char *const atoms[] = {"$", "\\", "{", "}", "^", "_", "a", " ", "\\frac",
                                        "\\sqrt", "\\alpha", "\\,", "[", "]", "\xe2\x88",
                                        "\xff", "-", "\\mathrm", "\\left", "\\cos", "=", "2"};
    size_t na = sizeof atoms / sizeof atoms[0];
    uint32_t seed = 12345;
    char buf[256];
    for (int it = 0; it < 20000; it++) {
        size_t o = 0;
        int parts = 1 + (int)(seed % 40);
        for (int k = 0; k < parts; k++) {
            seed = seed * 1103515245u + 12345u;
            const char *a = atoms[(seed >> 8) % na];
            size_t l = strlen(a);
            if (o + l >= sizeof buf)
                break;
            memcpy(buf + o, a, l);
            o += l;
        }
        buf[o] = 0;
        parse_and_layout(buf);
    }
    /* deep nesting, long runs of scripts, a megabyte of input */
    size_t big = 1 << 20;
    char *s = malloc(big + 3);
    assert_non_null(s);
    const char *fill[] = {"{", "^", "_", "}", "\\frac", "\\sqrt", "x^"};
    for (size_t f = 0; f < sizeof fill / sizeof fill[0]; f++) {
        s[0] = '$';
        size_t fl = strlen(fill[f]);
        for (size_t i = 1; i + fl < big; i += fl)
            memcpy(s + i, fill[f], fl);
        s[big - 1 - (big - 2) % fl] = 0;
        parse_and_layout(s);
    }
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),     cmocka_unit_test(test_scripts),
        cmocka_unit_test(test_symbols),   cmocka_unit_test(test_functions),
        cmocka_unit_test(test_frac_sqrt), cmocka_unit_test(test_text_and_accents),
        cmocka_unit_test(test_unknown_and_unbalanced),
        cmocka_unit_test(test_layout),    cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
