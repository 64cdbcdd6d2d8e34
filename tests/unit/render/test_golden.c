/* Golden images: every case in golden_cases.c rendered to PNG and compared with
 * tests/golden/<name>.png within a small per-pixel budget (font antialiasing may
 * differ between cairo/freetype versions). IOTPLOT_UPDATE_GOLDEN=1 rewrites the
 * references. Also: PDF passes pdfinfo, SVG parses as XML, PNG sizes follow the
 * documented crop rule, errors are reported, and renders on many threads agree. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cairo.h>
#include <cmocka.h>

#include "golden_cases.h"

#define CHANNEL_TOLERANCE 64   /* a pixel differs when a channel moves more than this */
#define PIXEL_BUDGET 0.004     /* share of differing pixels allowed */

static char out_dir[1024];

static const char *out_path(char *buf, size_t cap, const char *name, const char *ext)
{
    snprintf(buf, cap, "%s/%s.%s", out_dir, name, ext);
    return buf;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    char buf[65536];
    size_t n;
    int rc = in && out ? 0 : -1;
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
        rc = fwrite(buf, 1, n, out) == n ? 0 : -1;
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        rc = -1;
    return rc;
}

/* Differing pixels between two PNGs, or -1 when the sizes differ or one is unreadable. */
static long png_diff(const char *a, const char *b, int *w, int *h)
{
    cairo_surface_t *sa = cairo_image_surface_create_from_png(a);
    cairo_surface_t *sb = cairo_image_surface_create_from_png(b);
    long bad = -1;
    if (cairo_surface_status(sa) == CAIRO_STATUS_SUCCESS &&
        cairo_surface_status(sb) == CAIRO_STATUS_SUCCESS &&
        cairo_image_surface_get_width(sa) == cairo_image_surface_get_width(sb) &&
        cairo_image_surface_get_height(sa) == cairo_image_surface_get_height(sb)) {
        *w = cairo_image_surface_get_width(sa);
        *h = cairo_image_surface_get_height(sa);
        const unsigned char *pa = cairo_image_surface_get_data(sa);
        const unsigned char *pb = cairo_image_surface_get_data(sb);
        int sta = cairo_image_surface_get_stride(sa), stb = cairo_image_surface_get_stride(sb);
        bad = 0;
        for (int y = 0; y < *h; y++) {
            for (int x = 0; x < *w; x++) {
                const unsigned char *qa = pa + y * sta + 4 * x, *qb = pb + y * stb + 4 * x;
                for (int k = 0; k < 3; k++) {
                    if (abs(qa[k] - qb[k]) > CHANNEL_TOLERANCE) {
                        bad++;
                        break;
                    }
                }
            }
        }
    }
    cairo_surface_destroy(sa);
    cairo_surface_destroy(sb);
    return bad;
}

static void test_golden_images(void **state)
{
    (void)state;
    const char *src = getenv("IOTPLOT_SRC");
    const char *upd = getenv("IOTPLOT_UPDATE_GOLDEN");
    bool update = upd && strcmp(upd, "1") == 0;
    assert_non_null(src);
    int failures = 0;
    for (size_t i = 0; i < golden_case_count(); i++) {
        golden_case_t c;
        assert_int_equal(golden_case_make(i, &c), 0);
        char got[1200], ref[1200], err[256];
        out_path(got, sizeof got, c.name, "png");
        snprintf(ref, sizeof ref, "%s/tests/golden/%s.png", src, c.name);
        double t0 = now();
        int rc = ipp_render(&c.fig, got, err, sizeof err);
        double dt = now() - t0;
        if (rc != 0)
            fail_msg("%s: %s", c.name, err);
        if (update) {
            assert_int_equal(copy_file(got, ref), 0);
            printf("updated %s (%.3f s)\n", ref, dt);
        } else {
            int w = 0, h = 0;
            long bad = png_diff(got, ref, &w, &h);
            long budget = (long)(PIXEL_BUDGET * w * h);
            printf("%-12s %.3f s  %ld differing pixels (budget %ld)\n", c.name, dt, bad, budget);
            if (bad < 0 || bad > budget) {
                printf("MISMATCH %s: compare %s with %s (IOTPLOT_UPDATE_GOLDEN=1 to accept)\n",
                       c.name, got, ref);
                failures++;
            }
        }
        golden_case_free(&c);
    }
    assert_int_equal(failures, 0);
}

static int run(const char *cmd)
{
    int rc = system(cmd);
    return rc == -1 ? -1 : (rc >> 8) & 0xff;
}

static void test_vector_outputs(void **state)
{
    (void)state;
    golden_case_t c;
    assert_int_equal(golden_case_make(0, &c), 0);
    char pdf[1200], svg[1200], cmd[3000], err[256];
    assert_int_equal(ipp_render(&c.fig, out_path(pdf, sizeof pdf, "lines", "pdf"), err, sizeof err), 0);
    assert_int_equal(ipp_render(&c.fig, out_path(svg, sizeof svg, "lines", "SVG"), err, sizeof err), 0);
    if (run("command -v pdfinfo >/dev/null 2>&1") == 0) {
        snprintf(cmd, sizeof cmd, "pdfinfo '%s' >/dev/null", pdf);
        assert_int_equal(run(cmd), 0);
    } else {
        printf("pdfinfo missing: PDF structure not checked\n");
    }
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import sys, xml.etree.ElementTree as E; "
             "r = E.parse(sys.argv[1]).getroot(); sys.exit(0 if r.tag.endswith(\"svg\") else 1)' '%s'",
             svg);
    assert_int_equal(run(cmd), 0);
    golden_case_free(&c);
    /* 10 million points stay a small PDF: decimation works for vectors too */
    assert_int_equal(golden_case_make(12, &c), 0);
    assert_int_equal(ipp_render(&c.fig, out_path(pdf, sizeof pdf, "points_10m", "pdf"), err, sizeof err), 0);
    struct stat st;
    assert_int_equal(stat(pdf, &st), 0);
    printf("10M points: PDF of %lld bytes\n", (long long)st.st_size);
    assert_true(st.st_size < 400000);
    golden_case_free(&c);
}

static void png_size(const char *path, int *w, int *h)
{
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    *w = cairo_image_surface_get_width(s);
    *h = cairo_image_surface_get_height(s);
    cairo_surface_destroy(s);
}

static void test_png_dimensions(void **state)
{
    (void)state;
    golden_case_t c;
    char path[1200], err[256];
    int w, h, w2, h2;
    assert_int_equal(golden_case_make(0, &c), 0);
    assert_int_equal(ipp_render(&c.fig, out_path(path, sizeof path, "dim100", "png"), err, sizeof err), 0);
    png_size(path, &w, &h);
    /* matplotlib 3.6 saves this figure (5 x 3 in, dpi 100, bbox_inches="tight") as
     * 479 x 319: the crop rule is the same, fonts differ by a pixel at most */
    printf("5x3 in at 100 dpi: %d x %d\n", w, h);
    assert_true(abs(w - 479) <= 4 && abs(h - 319) <= 4);
    c.fig.dpi = 200;
    assert_int_equal(ipp_render(&c.fig, out_path(path, sizeof path, "dim200", "png"), err, sizeof err), 0);
    png_size(path, &w2, &h2);
    assert_true(abs(w2 - 2 * w) <= 2 && abs(h2 - 2 * h) <= 2);
    c.fig.dpi = 100;
    c.fig.width_in = 8;
    c.fig.height_in = 2;
    assert_int_equal(ipp_render(&c.fig, out_path(path, sizeof path, "dim82", "png"), err, sizeof err), 0);
    png_size(path, &w, &h);
    assert_true(w > 700 && w < 840 && h > 180 && h < 260);
    golden_case_free(&c);
}

static void test_errors(void **state)
{
    (void)state;
    golden_case_t c;
    char path[1200], err[256];
    assert_int_equal(golden_case_make(1, &c), 0);
    assert_int_equal(ipp_render(&c.fig, out_path(path, sizeof path, "x", "gif"), err, sizeof err), -1);
    assert_non_null(strstr(err, "format"));
    static const char *const bad[] = {"r--", "qq"};
    c.fig.formats = bad;
    c.fig.nformats = 2;
    assert_int_equal(ipp_render(&c.fig, out_path(path, sizeof path, "badfmt", "png"), err, sizeof err), -1);
    assert_non_null(strstr(err, "unrecognized character 'q'"));
    FILE *fp = fopen(path, "rb");
    assert_null(fp); /* nothing left behind */
    c.fig.nformats = 1;
    assert_int_equal(ipp_render(&c.fig, "/nonexistent-dir/x.png", err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot open"));
    c.fig.width_in = 1e9;
    assert_int_equal(ipp_render(&c.fig, out_path(path, sizeof path, "huge", "png"), err, sizeof err), -1);
    c.fig.width_in = NAN;
    assert_int_equal(ipp_render(&c.fig, out_path(path, sizeof path, "nan", "png"), err, sizeof err), -1);
    c.fig.width_in = 0;
    c.fig.dpi = -5;
    assert_int_equal(ipp_render(&c.fig, out_path(path, sizeof path, "dpi", "png"), err, sizeof err), -1);
    c.fig.dpi = 0;
    c.fig.ncols = 0;
    assert_int_equal(ipp_render(&c.fig, out_path(path, sizeof path, "nocol", "png"), err, sizeof err), -1);
    assert_int_equal(ipp_render(NULL, path, err, sizeof err), -1);
    assert_int_equal(ipp_render(&c.fig, NULL, NULL, 0), -1);
    golden_case_free(&c);
}

/* Odd but legal figures all render: no names, NULL formats, one row, all NaN,
 * negative data on log axes, a megabyte title, hist of nothing, every marker. */
static void test_odd_inputs(void **state)
{
    (void)state;
    char path[1200], err[256];
    static const double one[] = {1}, nan3[] = {NAN, NAN, NAN}, neg[] = {-1, 0, 2, -5};
    static const double x4[] = {-2, -1, 1, 2};
    const double *c1[] = {one}, *cn[] = {nan3, nan3}, *cneg[] = {x4, neg};
    const char *fmts[] = {NULL, "", "o"};
    ipp_figure_t f = {.ncols = 1, .nrows = 1, .cols = c1, .grid = true};
    out_path(path, sizeof path, "odd", "png");
    assert_int_equal(ipp_render(&f, path, err, sizeof err), 0); /* no names at all */
    f = (ipp_figure_t){.ncols = 2, .nrows = 3, .cols = cn, .formats = fmts, .nformats = 3};
    assert_int_equal(ipp_render(&f, path, err, sizeof err), 0);
    f.hist = true;
    assert_int_equal(ipp_render(&f, path, err, sizeof err), 0);
    f = (ipp_figure_t){.ncols = 2, .nrows = 4, .cols = cneg, .xlog = true, .ylog = true};
    assert_int_equal(ipp_render(&f, path, err, sizeof err), 0);
    f.hist = true;
    assert_int_equal(ipp_render(&f, out_path(path, sizeof path, "odd", "svg"), err, sizeof err), 0);
    f = (ipp_figure_t){.ncols = 1, .nrows = 0, .hist = true};
    assert_int_equal(ipp_render(&f, path, err, sizeof err), 0);
    size_t big = 1 << 20;
    char *title = malloc(big + 1);
    assert_non_null(title);
    for (size_t i = 0; i < big; i++)
        title[i] = "a$^{}\\x_ "[i % 9];
    title[big] = 0;
    f = (ipp_figure_t){.ncols = 1, .nrows = 1, .cols = c1, .title = title, .xlabel = title + 7};
    assert_int_equal(ipp_render(&f, out_path(path, sizeof path, "odd", "pdf"), err, sizeof err), 0);
    free(title);
    const char *markers[] = {".", ",", "o", "v", "^", "<", ">", "s", "p", "*",
                             "h", "H", "+", "x", "D", "d", "|", "_"};
    static const double xs[] = {0, 1, 2}, ys[] = {1, 0, 1};
    const double *cm[] = {xs, ys, ys, ys, ys, ys, ys, ys, ys, ys, ys, ys, ys, ys, ys, ys, ys, ys, ys};
    f = (ipp_figure_t){.ncols = 19, .nrows = 3, .cols = cm, .formats = markers, .nformats = 18};
    assert_int_equal(ipp_render(&f, out_path(path, sizeof path, "odd", "png"), err, sizeof err), 0);
}

typedef struct {
    int id;
    int rc;
} worker_t;

static void *worker(void *arg)
{
    worker_t *wk = arg;
    golden_case_t c;
    char path[1200], err[256];
    wk->rc = golden_case_make((size_t)(wk->id % 3 == 0 ? 6 : 0), &c);
    snprintf(path, sizeof path, "%s/thread%d.%s", out_dir, wk->id, wk->id % 2 ? "png" : "pdf");
    for (int k = 0; k < 3 && wk->rc == 0; k++)
        wk->rc = ipp_render(&c.fig, path, err, sizeof err);
    golden_case_free(&c);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    pthread_t th[6];
    worker_t wk[6];
    for (int i = 0; i < 6; i++) {
        wk[i] = (worker_t){i, -1};
        assert_int_equal(pthread_create(&th[i], NULL, worker, &wk[i]), 0);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(wk[i].rc, 0);
    }
    /* a PNG made on a thread is the one made alone */
    char ref[1200], got[1200];
    int w, h;
    snprintf(got, sizeof got, "%s/thread1.png", out_dir);
    out_path(ref, sizeof ref, "lines", "png");
    assert_int_equal(png_diff(got, ref, &w, &h), 0);
}

int main(void)
{
    const char *o = getenv("IOTPLOT_GOLDEN_OUT");
    snprintf(out_dir, sizeof out_dir, "%s", o ? o : "golden-out");
    mkdir(out_dir, 0755);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_images), cmocka_unit_test(test_vector_outputs),
        cmocka_unit_test(test_png_dimensions), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_odd_inputs),   cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
