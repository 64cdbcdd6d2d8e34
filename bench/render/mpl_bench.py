"""matplotlib (Agg) side of the renderer benchmark: the same figures as bench_render.

    mpl_bench.py sinusoid OUT [REPS]
    mpl_bench.py points N OUT [REPS]

Prints "render_s <best seconds per figure>" after one warm-up when REPS > 0; with
REPS = 0 it renders once (whole-process timing is done by the caller).
"""
import sys
import time

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def sinusoid_figure(out):
    t = np.arange(200) * 0.025
    c = np.exp(-t) * np.cos(2 * np.pi * t)
    s = np.exp(-t) * np.sin(2 * np.pi * t)
    fig = plt.figure(figsize=(5, 3))
    for y, name in ((c, "cos"), (s, "sin"), (s * c, "sin*cos")):
        plt.plot(t, y, label=name)
    plt.xlabel("Time [s]")
    plt.ylabel("Voltage [mV]")
    plt.title(r"Damped exponential decay $e^{-t} \cos(2\pi t)$")
    plt.grid(True)
    plt.legend()
    fig.savefig(out, bbox_inches="tight")
    plt.close(fig)


def points_data(n):
    # the same signal as bench_render (noise from numpy, not the same numbers)
    t = np.arange(n) / n
    rng = np.random.default_rng(7)
    return np.sin(12 * t) * (1 + t) + 0.3 * (rng.random(n) - 0.5)


def points_figure(y, out):
    fig = plt.figure(figsize=(5, 3))
    plt.plot(y, label="signal")
    plt.title("Points")
    plt.grid(True)
    fig.savefig(out, dpi=100, bbox_inches="tight")
    plt.close(fig)


def timed(fn, reps):
    fn()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    if reps > 0:
        print("render_s %.6f" % best)


def main():
    if sys.argv[1] == "sinusoid":
        out, reps = sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0
        timed(lambda: sinusoid_figure(out), reps)
    else:
        n, out = int(sys.argv[2]), sys.argv[3]
        reps = int(sys.argv[4]) if len(sys.argv) > 4 else 0
        t0 = time.perf_counter()
        y = points_data(n)
        print("data_s %.6f" % (time.perf_counter() - t0))
        timed(lambda: points_figure(y, out), reps)


if __name__ == "__main__":
    main()
