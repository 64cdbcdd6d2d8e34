"""Helpers of the plot tests: the Python iot-plot client's messages, our servers, checks."""
import contextlib
import json
import math
import os
import pickle
import re
import signal
import struct
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
import iptest  # noqa: E402

import paho.mqtt.client as paho  # noqa: E402

HOST = iptest.HOST

# Processes started by these tests render figures: ignore fontconfig's process-lifetime
# cache under LeakSanitizer (see lsan.supp), nothing else.
_supp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lsan.supp")
os.environ["LSAN_OPTIONS"] = ":".join(
    x for x in (os.environ.get("LSAN_OPTIONS"), f"suppressions={_supp}") if x)
COLUMNS = ["time", "cos", "sin", "sin*cos"]
TITLE = r"Damped exponential decay $e^{-t} \cos(2\pi t)$"


class PythonPlotClient:
    """Publishes exactly what iot_plot/plotclient.py publishes: json.dumps of the args."""

    def __init__(self, mqtt, session="iot49", qos=0):
        self.mqtt, self.session, self.qos = mqtt, session, qos

    def _publish(self, cmd, args):
        info = self.mqtt.publish(f"{self.session}/{cmd}", json.dumps(args), qos=self.qos)
        info.wait_for_publish()

    def new_series(self, *args):
        self._publish("new_series", args)

    def data(self, *args):
        self._publish("data", args)

    def save_series(self, series, filename=None):
        self._publish("save_series", [series, filename])

    def plot_series(self, series, **kwargs):
        self._publish("plot_series", [series, kwargs])

    def raw(self, cmd, payload):
        info = self.mqtt.publish(f"{self.session}/{cmd}", payload, qos=self.qos)
        info.wait_for_publish()


def sinusoid_rows():
    """The rows of the classic example, computed as the Python example computes them."""
    rows = []
    for t in range(200):
        t *= 0.025
        rows.append([t, math.cos(2 * math.pi * t) * math.exp(-t),
                     math.sin(2 * math.pi * t) * math.exp(-t),
                     math.sin(2 * math.pi * t) * math.cos(2 * math.pi * t) * math.exp(-t)])
    return rows


@contextlib.contextmanager
def paho_client(port, client_id="python-plotclient"):
    c = paho.Client(client_id=client_id, clean_session=True)
    c.connect(HOST, port)
    c.loop_start()
    try:
        yield c
    finally:
        c.disconnect()
        c.loop_stop()


def wait_log(path, needle, timeout=iptest.TIMEOUT, proc=None):
    """Wait until the file at path contains needle; fail early if proc exits."""
    def seen():
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}: {read(path)}")
        return needle in read(path)
    iptest.eventually(seen, timeout, what=f"'{needle}' in {path}")


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


@contextlib.contextmanager
def plotserver(port, outdir, *extra, logdir=None):
    """`iotplot plotserver` against 127.0.0.1:port; yields (process, log path)."""
    logdir = logdir or outdir
    os.makedirs(logdir, exist_ok=True)
    log = os.path.join(logdir, f"plotserver-{time.monotonic_ns()}.log")
    with open(log, "w") as lf:
        p = subprocess.Popen([iptest.binary(), "plotserver", "-b", HOST, "-p", str(port),
                              "-d", outdir, *extra], stdout=lf, stderr=subprocess.STDOUT)
    try:
        wait_log(log, "plotserver: broker", proc=p)
        yield p, log
    finally:
        iptest.stop(p)


@contextlib.contextmanager
def serve(outdir, *extra, logdir=None, port=None):
    """`iotplot serve` on port (default a free one); yields (process, port, log path)."""
    logdir = logdir or outdir
    os.makedirs(logdir, exist_ok=True)
    port = port or iptest.free_port()
    log = os.path.join(logdir, f"serve-{time.monotonic_ns()}.log")
    with open(log, "w") as lf:
        p = subprocess.Popen([iptest.binary(), "serve", "-a", HOST, "-p", str(port),
                              "--http-port", "0", "-d", outdir, "-q", *extra], stdout=lf, stderr=subprocess.STDOUT)
    try:
        iptest.wait_port(port, proc=p)
        yield p, port, log
    finally:
        iptest.stop(p)


def wait_file(path, timeout=iptest.TIMEOUT):
    iptest.eventually(lambda: os.path.exists(path), timeout, what=f"{path} written")
    return path


def check_pickle(path, columns, rows):
    with open(path, "rb") as f:
        d = pickle.load(f)
    iptest.expect_eq(list(d.keys()), columns, "pickle columns")
    for i, c in enumerate(columns):
        got = d[c]
        want = [r[i] for r in rows]
        iptest.expect_eq(len(got), len(want), f"pickle rows of {c}")
        for g, w in zip(got, want):
            if not (g == w or (math.isnan(g) and math.isnan(w))):
                raise AssertionError(f"pickle {c}: got {g!r}, want {w!r}")
            iptest.expect_eq(type(g), float, "pickle value type")


ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def check_csv(path, columns, rows):
    """A CSV the server wrote: the columns, then `received`, each row's arrival time."""
    import csv
    with open(path, newline="") as f:
        lines = list(csv.reader(f))
    iptest.expect_eq(lines[0], columns + ["received"], "csv header")
    got = [[float(x) for x in line[:-1]] for line in lines[1:]]
    iptest.expect_eq(got, rows, "csv rows")
    for line in lines[1:]:
        if not ISO_UTC.match(line[-1]):
            raise AssertionError(f"csv received {line[-1]!r} is not ISO 8601 UTC")


def check_json(path, columns, rows):
    with open(path) as f:
        d = json.load(f)
    iptest.expect_eq(d["columns"], columns, "json columns")
    iptest.expect_eq(d["rows"], rows, "json rows")


def check_pdf(path):
    r = iptest.run(["pdfinfo", path])
    if r.returncode != 0 or not re.search(r"^Pages:\s+1$", r.stdout, re.M):
        raise AssertionError(f"pdfinfo {path}: {r.returncode} {r.stdout} {r.stderr}")


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise AssertionError(f"{path} is not a PNG")
    return struct.unpack(">II", head[16:24])


def check_png(path, w_in=5, h_in=3, dpi=100):
    """The figure is cropped to its content, so its size is near figsize x dpi."""
    w, h = png_size(path)
    for got, want in ((w, w_in * dpi), (h, h_in * dpi)):
        if not 0.7 * want <= got <= 1.3 * want:
            raise AssertionError(f"{path}: {w}x{h} px, figsize {w_in}x{h_in} in at {dpi} dpi")


def check_svg(path):
    root = ET.parse(path).getroot()
    if not root.tag.endswith("svg"):
        raise AssertionError(f"{path}: root element {root.tag}")


def send_example(pc, rows=None):
    """The classic example, as the Python PlotClient's sample_plot() sends it."""
    rows = rows or sinusoid_rows()
    pc.new_series("sinusoid", *COLUMNS)
    for r in rows:
        pc.data("sinusoid", *r)
    pc.save_series("sinusoid")
    pc.plot_series("sinusoid", filename="example.pdf", xlabel="Time [s]",
                   ylabel="Voltage [mV]", title=TITLE)
    return rows


def exercise_files(pc, outdir):
    """Every save format and plot option; returns the checks to run once files exist."""
    rows = send_example(pc)
    pc.save_series("sinusoid", "data/s.csv")
    pc.save_series("sinusoid", "data/s.json")
    pc.plot_series("sinusoid", filename="plots/big.png", figsize=[6, 4],
                   format=["r--", "bs", "g^"], grid=False, title=TITLE)
    pc.plot_series("sinusoid", filename="plots/log.svg", xlog=True, ylog=True)
    pc.plot_series("sinusoid", filename="plots/hist.png", hist=True)
    o = lambda *p: os.path.join(outdir, *p)  # noqa: E731
    return [
        ("pickle exact", lambda: check_pickle(wait_file(o("sinusoid.pkl")), COLUMNS, rows)),
        ("csv exact", lambda: check_csv(wait_file(o("data", "s.csv")), COLUMNS, rows)),
        ("json exact", lambda: check_json(wait_file(o("data", "s.json")), COLUMNS, rows)),
        ("pdf", lambda: check_pdf(wait_file(o("example.pdf")))),
        ("png figsize", lambda: check_png(wait_file(o("plots", "big.png")), 6, 4)),
        ("svg xml", lambda: check_svg(wait_file(o("plots", "log.svg")))),
        ("hist png", lambda: check_png(wait_file(o("plots", "hist.png")))),
    ]
