"""Our C plot client's messages, captured with mosquitto_sub, mean what the protocol says."""
import json
import math
import os
import subprocess

import iptest
import plotlib

res = iptest.Results()
with iptest.tempdir() as d, iptest.mosquitto() as (port, _):
    for qos in (0, 1):
        cap = os.path.join(d, f"capture-{qos}.txt")
        with open(cap, "w") as f:
            sub = subprocess.Popen(["mosquitto_sub", "-h", iptest.HOST, "-p", str(port),
                                    "-q", "1", "-t", "cap/#", "-F", "%q %t %p"],
                                   stdout=f, stderr=subprocess.STDOUT)
        try:
            # the subscription is in place once a probe comes back
            iptest.eventually(lambda: iptest.run(
                ["mosquitto_pub", "-h", iptest.HOST, "-p", str(port), "-t", "cap/probe",
                 "-m", "x"]) and "cap/probe" in plotlib.read(cap), what="mosquitto_sub ready")
            r = iptest.run([iptest.binary(), "demo", "--device", "-b", iptest.HOST, "-p",
                            str(port), "-s", "cap", "-q", str(qos)], timeout=30)
            res.check(f"device qos {qos} exits 0",
                      lambda: iptest.expect_eq(r.returncode, 0, r.stderr))
            iptest.eventually(lambda: plotlib.read(cap).count("cap/plot_series") == 2,
                              what="all messages captured")
        finally:
            iptest.stop(sub)
        lines = [ln.split(" ", 2) for ln in plotlib.read(cap).splitlines()
                 if " cap/probe " not in ln]
        msgs = [(int(q), t, json.loads(p)) for q, t, p in lines]
        rows = plotlib.sinusoid_rows()

        def meaning():
            iptest.expect_eq(len(msgs), 1 + 200 + 1 + 2, "message count")
            iptest.expect_eq({q for q, _, _ in msgs}, {qos}, "QoS of every message")
            iptest.expect_eq(msgs[0][1:], ("cap/new_series", ["sinusoid"] + plotlib.COLUMNS),
                             "new_series")
            for (q, t, p), want in zip(msgs[1:201], rows):
                iptest.expect_eq((t, p[0], len(p)), ("cap/data", "sinusoid", 5), "data")
                iptest.expect_eq(p[1], want[0], "time exact")
                for g, w in zip(p[2:], want[1:]):
                    if not math.isclose(g, w, rel_tol=1e-15, abs_tol=1e-300):
                        raise AssertionError(f"data: got {g!r}, want {w!r}")
            iptest.expect_eq(msgs[201][1:], ("cap/save_series", ["sinusoid", None]), "save")
            for ext, (q, t, p) in zip(("pdf", "png"), msgs[202:]):
                iptest.expect_eq((t, p), ("cap/plot_series", ["sinusoid", {
                    "filename": f"example.{ext}", "title": plotlib.TITLE,
                    "xlabel": "Time [s]", "ylabel": "Voltage [mV]"}]), "plot_series")
        res.check(f"messages qos {qos} as the protocol says", meaning)

        def bytes_as_python():
            """Numbers in their shortest form: the same text Python's json.dumps writes."""
            raw = [p for _, t, p in lines if t in ("cap/new_series", "cap/data",
                                                   "cap/save_series")]
            want = [json.dumps(["sinusoid"] + plotlib.COLUMNS)]
            want += [json.dumps(["sinusoid"] + r) for r in rows]
            want += [json.dumps(["sinusoid", None])]
            for i, (g, w) in enumerate(zip(raw, want)):
                iptest.expect_eq(g, w, f"message {i}")
        res.check(f"payloads qos {qos} byte for byte as Python's", bytes_as_python)
res.finish()
