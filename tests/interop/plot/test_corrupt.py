"""A damaged store: `iotplot plot --db` writes everything still readable and names what it
could not read; `iotplot serve` moves the file aside, keeps what is readable and serves on.
The damage is real: one page holding rows of one series in a store the server wrote."""
import glob
import os
import random
import shutil
import struct

import iptest
import plotlib

res = iptest.Results()
NSERIES, NROWS, VICTIM, PAGE = 20, 800, 7, 4096


def marker(k):
    return struct.pack("<d", k + 0.25)


def damage(path):
    """Overwrite the third page that holds rows of the victim and of no other series."""
    with open(path, "rb") as f:
        data = bytearray(f.read())
    found = []
    for p in range(1, len(data) // PAGE):
        page = data[p * PAGE:(p + 1) * PAGE]
        if marker(VICTIM) in page and not any(
                marker(k) in page for k in range(1, NSERIES + 1) if k != VICTIM):
            found.append(p)
    p = found[2]
    rnd = random.Random(7)
    data[p * PAGE + 8:(p + 1) * PAGE] = bytes(rnd.randrange(256) for _ in range(PAGE - 8))
    with open(path, "wb") as f:
        f.write(data)


def rows_of(path):
    with open(path) as f:
        return len(f.read().splitlines()) - 1


with iptest.tempdir() as d:
    out = os.path.join(d, "out")
    db = os.path.join(out, "iotplot-series.db")
    with plotlib.serve(out) as (p, port, log):
        with plotlib.paho_client(port) as mq:
            pc = plotlib.PythonPlotClient(mq, "c", qos=1)
            for k in range(1, NSERIES + 1):
                pc.new_series(f"n{k}", "m", "i")
                for i in range(NROWS):
                    pc.data(f"n{k}", k + 0.25, i)
            pc.save_series(f"n{NSERIES}", "last.csv")
            plotlib.wait_file(os.path.join(out, "last.csv"))
        res.check("store written", lambda: iptest.expect_eq(iptest.stop(p), 0, "exit code"))
    damage(db)
    copy = os.path.join(d, "copy")
    os.makedirs(copy)
    shutil.copy(db, os.path.join(copy, "iotplot-series.db"))

    # iotplot plot --db on the damaged file itself
    exp = os.path.join(d, "exp")
    r = iptest.run([iptest.binary(), "plot", "--db", copy, "--all", "-o", exp], timeout=60)
    res.check("--all: exit 1 (not everything readable)",
              lambda: iptest.expect_eq(r.returncode, 1, r.stderr))
    res.check("--all: names the damaged series", lambda: iptest.expect_eq(
        f"{exp}/c/n{VICTIM}.csv" in r.stderr and "could not be read" in r.stderr, True,
        r.stderr))
    res.check("--all: every other series whole", lambda: iptest.expect_eq(
        [rows_of(f"{exp}/c/n{k}.csv") for k in range(1, NSERIES + 1) if k != VICTIM],
        [NROWS] * (NSERIES - 1), "rows"))
    res.check("--all: the damaged one in part", lambda: iptest.expect_eq(
        0 < rows_of(f"{exp}/c/n{VICTIM}.csv") < NROWS, True, "rows"))
    r1 = iptest.run([iptest.binary(), "plot", "--db", copy, "--session", "c", "--series", "n1",
                     "-o", os.path.join(d, "n1.csv")], timeout=60)
    res.check("--series n1: whole", lambda: iptest.expect_eq(
        (r1.returncode, rows_of(os.path.join(d, "n1.csv"))), (0, NROWS), r1.stderr))
    r7 = iptest.run([iptest.binary(), "plot", "--db", copy, "--session", "c", "--series",
                     f"n{VICTIM}", "-o", os.path.join(d, "n7.csv")], timeout=60)
    res.check("--series n7: what is readable, and says so", lambda: iptest.expect_eq(
        (r7.returncode, "the store is damaged" in r7.stderr), (0, True), r7.stderr))

    # the server on the damaged store: moved aside, the readable rows kept, serving on
    with plotlib.serve(out) as (p, port, log):
        res.check("serve: says where the file went", lambda: plotlib.wait_log(
            log, "moved to " + db + ".corrupt-"))
        res.check("serve: names the damaged series", lambda: plotlib.wait_log(
            log, f"series 'n{VICTIM}' of session 'c' (version 1) is damaged"))
        with plotlib.paho_client(port) as mq:
            pc = plotlib.PythonPlotClient(mq, "c", qos=1)
            pc.data("n1", 1.25, NROWS)
            pc.save_series("n1", "n1.csv")
            res.check("serve: the rest served whole", lambda: iptest.expect_eq(
                rows_of(plotlib.wait_file(os.path.join(out, "n1.csv"))), NROWS + 1, "rows"))
        res.check("serve: clean exit", lambda: iptest.expect_eq(iptest.stop(p), 0, "exit"))
    res.check("the damaged file kept", lambda: iptest.expect_eq(
        len(glob.glob(db + ".corrupt-*Z")), 1, "files"))

    # a foreign file (a PNG) in its place: moved aside, a new store
    png = os.path.join(d, "png")
    os.makedirs(png)
    with open(os.path.join(png, "iotplot-series.db"), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    with plotlib.serve(png) as (p, port, log):
        res.check("png: not a plot store", lambda: plotlib.wait_log(log, "not a plot store"))
        res.check("png: serving", lambda: iptest.expect_eq(p.poll(), None, "exit"))
res.finish()
