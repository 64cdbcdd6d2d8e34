/*
 * bench_render - time ipp_render on the benchmark figures.
 *
 *   bench_render sinusoid OUT [REPS]   the classic iot-plot example (200 rows, 4 columns);
 *                                      REPS > 0: warm renders, prints seconds per render
 *   bench_render points N OUT [REPS]   one column of N points against the row index
 *
 * Prints "render_s <seconds per render>" (the best of REPS after one warm-up render)
 * and "data_s <seconds to make the data>". With REPS = 0 the figure is rendered once,
 * cold, for whole-process timing.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "render/render.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int timed(const ipp_figure_t *f, const char *out, int reps)
{
    char err[256];
    if (ipp_render(f, out, err, sizeof err) != 0) {
        fprintf(stderr, "bench_render: %s\n", err);
        return 1;
    }
    double best = INFINITY;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        if (ipp_render(f, out, err, sizeof err) != 0) {
            fprintf(stderr, "bench_render: %s\n", err);
            return 1;
        }
        double dt = now() - t0;
        best = dt < best ? dt : best;
    }
    if (reps > 0)
        printf("render_s %.6f\n", best);
    return 0;
}

static int sinusoid(const char *out, int reps)
{
    enum { N = 200 };
    static double c[4][N];
    for (int i = 0; i < N; i++) {
        double t = 0.025 * i;
        c[0][i] = t;
        c[1][i] = exp(-t) * cos(2 * M_PI * t);
        c[2][i] = exp(-t) * sin(2 * M_PI * t);
        c[3][i] = c[1][i] * c[2][i];
    }
    const double *cols[4] = {c[0], c[1], c[2], c[3]};
    const char *names[4] = {"time", "cos", "sin", "sin*cos"};
    ipp_figure_t f = {.title = "Damped exponential decay $e^{-t} \\cos(2\\pi t)$",
                      .xlabel = "Time [s]", .ylabel = "Voltage [mV]", .grid = true, .ncols = 4,
                      .names = names, .nrows = N, .cols = cols};
    return timed(&f, out, reps);
}

static int points(size_t n, const char *out, int reps)
{
    double t0 = now();
    double *y = malloc((n ? n : 1) * sizeof *y);
    if (!y)
        return 1;
    unsigned s = 7;
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / (double)n;
        s = s * 1664525u + 1013904223u;
        y[i] = sin(12 * t) * (1 + t) + 0.3 * ((s >> 8) / 16777216.0 - 0.5);
    }
    printf("data_s %.6f\n", now() - t0);
    const double *cols[1] = {y};
    const char *names[1] = {"signal"};
    ipp_figure_t f = {.title = "Points", .grid = true, .ncols = 1, .names = names, .nrows = n,
                      .cols = cols};
    int rc = timed(&f, out, reps);
    free(y);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "sinusoid") == 0)
        return sinusoid(argv[2], argc > 3 ? atoi(argv[3]) : 0);
    if (argc >= 4 && strcmp(argv[1], "points") == 0)
        return points(strtoull(argv[2], NULL, 10), argv[3], argc > 4 ? atoi(argv[4]) : 0);
    fprintf(stderr, "usage: bench_render sinusoid OUT [REPS] | points N OUT [REPS]\n");
    return 2;
}
