"""`iotplot plot` re-renders and converts data files (ours and Python's) and the store."""
import collections
import json
import math
import os
import pickle

import iptest
import plotlib

res = iptest.Results()
bin = iptest.binary()
cols = ["t", "v", "w"]
rows = [[i * 0.1, math.sin(i) * 1e-3, float("nan") if i == 3 else 1.0 / (i + 1)]
        for i in range(50)]


def same(a, b):
    """Values equal, NaN matching NaN, or null (how JSON writes NaN) matching NaN."""
    return all(x == y or ((x is None or math.isnan(x)) and math.isnan(y))
               for x, y in zip(a, b))


with iptest.tempdir() as d:
    p = lambda *n: os.path.join(d, *n)  # noqa: E731
    # pickles as Python writes them, protocols 0 to 5, dict and OrderedDict
    for proto in range(0, pickle.HIGHEST_PROTOCOL + 1):
        for kind in (dict, collections.OrderedDict):
            src = p(f"py{proto}{kind.__name__}.pkl")
            with open(src, "wb") as f:
                pickle.dump(kind((c, [r[i] for r in rows]) for i, c in enumerate(cols)), f,
                            protocol=proto)
            out = src + ".json"
            r = iptest.run([bin, "plot", src, "-o", out])

            def conv(r=r, out=out):
                iptest.expect_eq(r.returncode, 0, r.stderr)
                with open(out) as f:
                    j = json.load(f)
                iptest.expect_eq(j["columns"], cols, "columns")
                for a, b in zip(j["rows"], rows):
                    if not same(a, b):
                        raise AssertionError(f"{a} != {b}")
            res.check(f"read python pickle protocol {proto} {kind.__name__}", conv)

    # our pickle, csv and json round trip through each other exactly
    r = iptest.run([bin, "plot", p("py2dict.pkl"), "-o", p("a.csv")])
    r2 = iptest.run([bin, "plot", p("a.csv"), "-o", p("b.pkl")])

    def chain():
        iptest.expect_eq((r.returncode, r2.returncode), (0, 0), r.stderr + r2.stderr)
        with open(p("b.pkl"), "rb") as f:
            back = pickle.load(f)
        iptest.expect_eq(list(back), cols, "columns")
        for i, c in enumerate(cols):
            if not same(back[c], [row[i] for row in rows]):
                raise AssertionError(f"column {c} differs")
    res.check("pkl -> csv -> pkl exact", chain)

    # figures with every option
    for out, extra in (("f.pdf", []), ("f.png", ["--figsize", "6", "4"]),
                       ("f.svg", ["--xlog", "--format", "r--", "--format", "bs"]),
                       ("h.png", ["--hist", "--no-grid", "--title", plotlib.TITLE])):
        r = iptest.run([bin, "plot", p("a.csv"), "-o", p(out), *extra])
        res.check(f"plot {out}", lambda r=r: iptest.expect_eq(r.returncode, 0, r.stderr))
    r = iptest.run([bin, "plot", p("a.csv"), "-o", p("o.png"), "--options",
                    json.dumps({"figsize": [4, 4], "format": ["g^"], "xlog": True,
                                "title": plotlib.TITLE}), "--title", "the flag wins"])
    res.check("--options", lambda: plotlib.check_png(p("o.png"), 4, 4))
    r = iptest.run([bin, "plot", p("a.csv"), "-o", p("o.png"), "--options", '{"xlog": "x"}'])
    res.check("--options refused", lambda: iptest.expect_eq(r.returncode, 2, r.stderr))
    res.check("pdf valid", lambda: plotlib.check_pdf(p("f.pdf")))
    res.check("png size", lambda: plotlib.check_png(p("f.png"), 6, 4))
    res.check("svg valid", lambda: plotlib.check_svg(p("f.svg")))

    # bad input: a clear message and exit 1, never a crash
    with open(p("evil.pkl"), "wb") as f:
        f.write(b"cos\nsystem\n(S'touch " + p("pwned").encode() + b"'\ntR.")
    for src in ("evil.pkl", "missing.csv"):
        r = iptest.run([bin, "plot", p(src), "-o", p("x.png")])
        res.check(f"refuses {src}", lambda r=r: iptest.expect_eq(
            (r.returncode, os.path.exists(p("pwned"))), (1, False), r.stderr))

    # the store: --db re-renders what a server received
    out = p("store")
    with plotlib.serve(out) as (sp, port, log):
        with plotlib.paho_client(port) as mq:
            pc = plotlib.PythonPlotClient(mq, "s1", qos=1)
            pc.new_series("n", "a", "b")
            pc.data("n", 1, 2)
            pc.new_series("n", "x")       # version 2
            pc.data("n", 5)
            pc.plot_series("n", filename="n.png", figsize=[4, 4], title="kept")
            pc.save_series("n", "sync.csv")
            plotlib.wait_file(os.path.join(out, "sync.csv"))
    for version, want in (("1", {"a": [1.0], "b": [2.0]}), ("0", {"x": [5.0]})):
        r = iptest.run([bin, "plot", "--db", out, "--session", "s1", "--series", "n",
                        "--version", version, "-o", p(f"v{version}.pkl")])

        def check(r=r, version=version, want=want):
            iptest.expect_eq(r.returncode, 0, r.stderr)
            with open(p(f"v{version}.pkl"), "rb") as f:
                iptest.expect_eq(dict(pickle.load(f)), want, "data")
        res.check(f"--db version {version}", check)
    r = iptest.run([bin, "plot", "--db", out, "--list"])
    res.check("--list shows both versions", lambda: iptest.expect_eq(
        [ln.split()[:4] for ln in r.stdout.splitlines()[1:]],
        [["s1", "n", "1", "1"], ["s1", "n", "2", "1"]], r.stdout + r.stderr))
    r = iptest.run([bin, "plot", "--db", out, "--session", "s1", "--series", "n", "-o",
                    p("db.pdf")])
    res.check("--db to pdf", lambda: plotlib.check_pdf(p("db.pdf")))
    r = iptest.run([bin, "plot", "--db", out, "--session", "s1", "--series", "n", "-o",
                    p("db.png")])
    res.check("--db reuses the device's plot options",
              lambda: plotlib.check_png(p("db.png"), 4, 4))
res.finish()
