"""Time the loading benchmark's commands, interleaved: ours, theirs, ours... so that a
busy neighbour slows both sides alike. Each run is a whole process; its wall time and its
CPU time (user + system, from wait4: all its threads) are recorded.

    load_time.py ROUNDS IOTPLOT DATA_DIR BENCH_PY PYTHON

Prints one line per input: best wall time of each side (and the slowest, for the
spread), the ratio of the best wall times, and the same for CPU time.
"""
import os
import subprocess
import sys
import time

rounds, iotplot, data, bench_py, python = (int(sys.argv[1]), *sys.argv[2:6])


def run(argv):
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if status:
        sys.exit("failed: %s" % " ".join(argv))
    return wall, ru.ru_utime + ru.ru_stime


def d(name):
    return os.path.join(data, name)


cases = [
    ("CSV, pandas.read_csv", [d("signal.csv")], ["csv", d("signal.csv")]),
    ("JSON columns, pandas.read_json", [d("signal.json")], ["json", d("signal.json")]),
    ("JSON rows, json.load", [d("rows.json")], ["rows.json", d("rows.json")]),
    ("pickle, pickle.load", [d("signal.pkl")], ["pkl", d("signal.pkl")]),
    ("store (--db), pandas.read_sql",
     ["--db", data, "--session", "bench", "--series", "signal"], ["db", data]),
]
print("%-31s %19s %19s %7s %9s %9s %7s" % ("input (best of %d)" % rounds, "iotplot wall (max)",
      "Python wall (max)", "ratio", "iotplot", "Python", "ratio"))
print("%-31s %19s %19s %7s %9s %9s %7s" % ("", "", "", "", "CPU", "CPU", "CPU"))
for label, ours, theirs in cases:
    a, b = [], []
    for _ in range(rounds):
        a.append(run([iotplot, "plot", *ours, "-o", d("ours.png")]))
        b.append(run([python, bench_py, *theirs, d("theirs.png")]))
    aw, bw = [w for w, _ in a], [w for w, _ in b]
    ac, bc = [c for _, c in a], [c for _, c in b]
    print("%-31s %8.3fs (%.3fs) %8.3fs (%.3fs) %6.1fx %8.3fs %8.3fs %6.1fx" % (
        label, min(aw), max(aw), min(bw), max(bw), min(bw) / min(aw), min(ac), min(bc),
        min(bc) / min(ac)))
    sys.stdout.flush()
