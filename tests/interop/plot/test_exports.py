"""save_series through `iotplot serve` into every format, each file opened by the program
people open it with: openpyxl (.xlsx), scipy.io.loadmat and GNU Octave (.mat), node's
JSON.parse and strict python json (.json), python's csv (.csv, with and without the byte
order mark Excel needs); `iotplot plot` reads them back and names the file in errors."""
import csv
import datetime
import json
import math
import os
import re
import shutil
import time

import iptest
import plotlib

res = iptest.Results()
bin = iptest.binary()
INF = float("inf")
NAN = float("nan")
# awkward names: non-ASCII, a CSV quote, a digit first, a Matlab keyword, two that mangle
# alike, and one that takes the arrival column's name
COLUMNS = ["time", "Temperatur °C", 'a,"b"', "1st", "end", "a b", "a-b", "received"]
MAT_FIELDS = ["time", "Temperatur__C", "a__b_", "x1st", "xend", "a_b", "a_b_2", "received_2"]
ROWS = [[i * 0.1, 20 + 0.1 * i, 0.1 + 0.2 if i == 1 else -1e-300 * i, 1e300,
         NAN if i == 2 else float(i), INF if i == 3 else -2.5, -INF if i == 4 else 7.0, i]
        for i in range(8)]
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def same(got, want):
    return got == want or (isinstance(got, float) and math.isnan(got) and math.isnan(want))


def check_times(times, t0, t1):
    """Arrival times: one per row, in order, between sending the first row and the save."""
    iptest.expect_eq(len(times), len(ROWS), "arrival times")
    for a, b in zip(times, times[1:]):
        if a > b:
            raise AssertionError(f"arrival times out of order: {a} > {b}")
    for t in times:
        if not t0 - 0.001 <= t <= t1 + 0.001:
            raise AssertionError(f"arrival time {t} not within [{t0}, {t1}]")


def iso_seconds(s):
    if not ISO.match(s):
        raise AssertionError(f"{s!r} is not ISO 8601 UTC with milliseconds")
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def check_csv(path, t0, t1, bom):
    with open(path, "rb") as f:
        raw = f.read()
    iptest.expect_eq(raw.startswith(b"\xef\xbb\xbf"), bom, "starts with a byte order mark")
    lines = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    iptest.expect_eq(lines[0], COLUMNS + ["received"], "csv header")
    for line, want in zip(lines[1:], ROWS):
        got = [float(x) for x in line[:-1]]
        if not all(same(g, w) for g, w in zip(got, want)) or len(got) != len(want):
            raise AssertionError(f"csv row {line} != {want}")
    check_times([iso_seconds(line[-1]) for line in lines[1:]], t0, t1)


def check_xlsx(path, t0, t1):
    import openpyxl
    ws = openpyxl.load_workbook(path).active
    iptest.expect_eq(ws.title, "wx", "sheet name")
    rows = list(ws.iter_rows())
    iptest.expect_eq([c.value for c in rows[0]], COLUMNS + ["received"], "xlsx header")
    iptest.expect_eq(len(rows), 1 + len(ROWS), "xlsx rows")
    times = []
    for cells, want in zip(rows[1:], ROWS):
        for cell, w in zip(cells, want):
            if not math.isfinite(w):
                iptest.expect_eq(cell.value, None, "non-finite value as an empty cell")
            elif not (isinstance(cell.value, (int, float)) and
                      (cell.value == w or abs(cell.value - w) <= 1e-15 * abs(w))):
                # 16 significant digits: libxlsxwriter writes numbers with %.16G
                raise AssertionError(f"xlsx cell {cell.coordinate}: {cell.value!r} != {w!r}")
        when = cells[len(COLUMNS)]
        if not isinstance(when.value, datetime.datetime) or "yyyy" not in when.number_format:
            raise AssertionError(f"received {when.value!r} ({when.number_format}) not a date")
        times.append(when.value.replace(tzinfo=datetime.timezone.utc).timestamp())
    check_times(times, t0, t1)


def check_mat(path, t0, t1):
    import scipy.io
    m = scipy.io.loadmat(path, squeeze_me=True, struct_as_record=False)
    iptest.expect_eq(sorted(k for k in m if not k.startswith("__")), ["wx"], "variables")
    s = m["wx"]
    iptest.expect_eq(list(s._fieldnames), MAT_FIELDS + ["received"], "struct fields")
    for i, f in enumerate(MAT_FIELDS):
        got = list(getattr(s, f))
        want = [r[i] for r in ROWS]
        if len(got) != len(want) or not all(same(float(g), w) for g, w in zip(got, want)):
            raise AssertionError(f"mat field {f}: {got} != {want}")
    check_times(list(s.received), t0, t1)


def check_octave(path, t0, t1):
    """GNU Octave's load: the fields, every value to 17 digits, and the times."""
    script = ("s = load('%s'); d = s.wx; f = fieldnames(d);"
              "for i = 1:numel(f) printf('%%s', f{i}); printf(' %%.17g', d.(f{i})); "
              "printf('\\n'); end" % path)
    r = iptest.run(["octave-cli", "--no-gui", "--norc", "-q", "--eval", script], timeout=60)
    lines = [line.split(" ") for line in r.stdout.splitlines() if line]
    iptest.expect_eq([line[0] for line in lines], MAT_FIELDS + ["received"], r.stderr)
    for i, line in enumerate(lines[:-1]):
        got = [float(x) for x in line[1:]]  # Octave prints NaN, Inf and -Inf as such
        want = [r[i] for r in ROWS]
        if not all(same(g, w) for g, w in zip(got, want)):
            raise AssertionError(f"octave {line[0]}: {got} != {want}")
    check_times([float(x) for x in lines[-1][1:]], t0, t1)


def reject(name):
    raise ValueError(f"{name} is not JSON")


def check_json(path):
    with open(path) as f:
        text = f.read()
    d = json.loads(text, parse_constant=reject)  # strict: no NaN, Infinity
    iptest.expect_eq(d["series"], "wx", "json series")
    iptest.expect_eq(d["columns"], COLUMNS, "json columns")
    want = [[w if math.isfinite(w) else None for w in r] for r in ROWS]
    iptest.expect_eq(d["rows"], want, "json rows (non-finite as null)")
    r = iptest.run(["node", "-e", "const d = JSON.parse(require('fs').readFileSync("
                    "process.argv[1], 'utf8')); console.log(JSON.stringify(d.rows))", path])
    iptest.expect_eq((r.returncode, json.loads(r.stdout or "null")), (0, want), r.stderr)


def read_back(src, out):
    """`iotplot plot` reads src (arrival times too, if any) and writes out as json."""
    r = iptest.run([bin, "plot", src, "-o", out])
    iptest.expect_eq(r.returncode, 0, r.stderr)
    with open(out) as f:
        d = json.load(f)
    iptest.expect_eq(d["columns"], COLUMNS, f"{src} read back: columns")
    want = [[w if math.isfinite(w) else None for w in r] for r in ROWS]
    iptest.expect_eq(d["rows"], want, f"{src} read back: rows")


with iptest.tempdir() as d:
    out = os.path.join(d, "out")
    o = lambda *p: os.path.join(out, *p)  # noqa: E731
    with plotlib.serve(out) as (p, port, log):
        with plotlib.paho_client(port) as mq:
            pc = plotlib.PythonPlotClient(mq, "exp", qos=1)
            pc.new_series("wx", *COLUMNS)
            t0 = time.time()
            for r in ROWS:
                pc.data("wx", *r)
            for name in ("wx.xlsx", "wx.mat", "wx.csv", "wx.json", "wx.xyz", "noext"):
                pc.save_series("wx", name)
            pc.raw("save_series", json.dumps(["wx", "excel.csv", {"excel": True}]))
            pc.raw("save_series", json.dumps(["wx", "bad.csv", {"excel": "yes"}]))
            pc.new_series("empty", "a")
            for name in ("empty.csv", "empty.xlsx", "empty.mat"):
                pc.save_series("empty", name)
            pc.save_series("wx", "last.pkl")
            plotlib.wait_file(o("last.pkl"))
            t1 = time.time()
        res.check("csv: values, received in ISO 8601 UTC", check_csv, o("wx.csv"), t0, t1,
                  False)
        res.check("csv {excel: true}: a byte order mark", check_csv, o("excel.csv"), t0, t1,
                  True)
        res.check("xlsx: openpyxl reads every value and the dates", check_xlsx, o("wx.xlsx"),
                  t0, t1)
        res.check("mat: scipy.io.loadmat reads the struct exactly", check_mat, o("wx.mat"),
                  t0, t1)
        if shutil.which("octave-cli"):
            res.check("mat: GNU Octave's load reads it too", check_octave, o("wx.mat"), t0, t1)
        else:
            print("skip octave: octave-cli is not installed (scripts/deps.sh test)")
        res.check("json: strict, read by JSON.parse and json.loads", check_json, o("wx.json"))

        def empty():
            import openpyxl
            import scipy.io
            with open(o("empty.csv")) as f:
                iptest.expect_eq(f.read(), "a,received\n", "empty.csv")
            ws = openpyxl.load_workbook(o("empty.xlsx")).active
            iptest.expect_eq(list(ws.values), [("a", "received")], "empty.xlsx")
            m = scipy.io.loadmat(o("empty.mat"), struct_as_record=False)["empty"][0, 0]
            iptest.expect_eq((list(m._fieldnames), m.a.size, m.received.size),
                             (["a", "received"], 0, 0), "empty.mat")
        res.check("a series without rows: the same layout", empty)
        res.check("unknown extensions: refused, logged, not written", lambda: (
            plotlib.wait_log(log, "cannot write 'wx.xyz' of series 'wx': unknown data format "
                             "'.xyz' (use .pkl, .csv, .json, .xlsx or .mat)"),
            plotlib.wait_log(log, "cannot write 'noext' of series 'wx': unknown data format"),
            iptest.expect_eq([os.path.exists(o(n)) for n in ("wx.xyz", "noext")],
                             [False, False], "files")))
        res.check("a bad option is refused", lambda: (
            plotlib.wait_log(log, "option 'excel' is not a boolean"),
            iptest.expect_eq(os.path.exists(o("bad.csv")), False, "bad.csv")))
        res.check("serve stops cleanly", lambda: iptest.expect_eq(iptest.stop(p), 0, "exit"))

    # iotplot plot reads the files it and the server write, received column included
    for src in ("wx.csv", "excel.csv", "wx.json"):
        res.check(f"iotplot plot reads {src}", read_back, o(src), os.path.join(d, src + ".json"))

    def from_store():
        db = os.path.join(d, "db.csv")
        r = iptest.run([bin, "plot", "--db", out, "--session", "exp", "--series", "wx", "-o",
                        db, "--excel"])
        iptest.expect_eq(r.returncode, 0, r.stderr)
        check_csv(db, t0, t1, True)
    res.check("iotplot plot --db --excel: csv with arrival times and a BOM", from_store)

    def convert():
        # times read from a csv's received column go on into the workbook and MAT-file
        for ext, check in (("xlsx", check_xlsx), ("mat", check_mat)):
            dst = os.path.join(d, f"wx.{ext}")
            r = iptest.run([bin, "plot", o("wx.csv"), "--series", "wx", "-o", dst])
            iptest.expect_eq(r.returncode, 0, r.stderr)
            check(dst, t0, t1)
    res.check("iotplot plot converts csv to xlsx and mat", convert)

    def old_json():
        # files written before null: NaN and Infinity as Python's json writes them
        src = os.path.join(d, "old.json")
        with open(src, "w") as f:
            f.write('{"columns": ["a"], "rows": [[NaN], [Infinity], [-Infinity], [1.5]]}')
        r = iptest.run([bin, "plot", src, "-o", os.path.join(d, "old.csv")])
        iptest.expect_eq(r.returncode, 0, r.stderr)
        with open(os.path.join(d, "old.csv")) as f:
            iptest.expect_eq(f.read(), "a\nNaN\nInfinity\n-Infinity\n1.5\n", "old.csv")
    res.check("iotplot plot still reads NaN and Infinity in json", old_json)

    # errors name the file, for each reader
    bad = {"data.pkl": (b"\x80\x02h\x05.", "not a pickle (bad memo)"),
           "data.csv": (b"t,v\n1,2\n3,x\n", "line 3: 'x' is not a number"),
           "data.json": (b'{"columns": ["a"], ', "not JSON (error near byte "),
           "rows.json": (b'{"columns": ["a"], "rows": [["x"]]}', "row 1 is not 1 numbers")}
    for name, (body, why) in bad.items():
        path = os.path.join(d, name)
        with open(path, "wb") as f:
            f.write(body)
        r = iptest.run([bin, "plot", path, "-o", os.path.join(d, "x.json")])
        res.check(f"error names {name}", lambda r=r, path=path, why=why: (
            iptest.expect_eq(r.returncode, 1, r.stderr),
            iptest.expect_eq(r.stderr.startswith(f"iotplot plot: {path}: {why}"), True,
                             r.stderr)))
    r = iptest.run([bin, "plot", o("wx.csv"), "-o", os.path.join(d, "x.xyz")])
    res.check("iotplot plot refuses -o x.xyz", lambda: (
        iptest.expect_eq(r.returncode, 1, r.stderr),
        iptest.expect_eq("x.xyz: use .pdf, .png, .svg, .pkl, .csv, .json, .xlsx or .mat"
                         in r.stderr, True, r.stderr)))
res.finish()
