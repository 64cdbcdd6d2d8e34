"""The Python iot-plot client's exact messages into `iotplot serve` (our broker, in-process)."""
import os
import subprocess

import iptest
import plotlib

res = iptest.Results()
with iptest.tempdir() as d:
    out = os.path.join(d, "out")
    with plotlib.serve(out) as (p, port, log):
        with plotlib.paho_client(port) as mq:
            for name, fn in plotlib.exercise_files(plotlib.PythonPlotClient(mq), out):
                res.check(name, fn)
        res.check("prints the files", lambda: plotlib.wait_log(log, "example.pdf"))
        res.check("stops on SIGTERM", lambda: iptest.expect_eq(iptest.stop(p), 0, "exit"))

    # the demo: device -> our broker -> plot server -> PDF and PNG
    r = iptest.run([iptest.binary(), "demo", "-d", os.path.join(d, "demo")], timeout=60)
    res.check("demo exits 0", lambda: iptest.expect_eq(r.returncode, 0, r.stderr))
    files = [line for line in r.stdout.splitlines() if line.startswith("/")]
    res.check("demo prints its files", lambda: iptest.expect_eq(
        sorted(os.path.basename(f) for f in files),
        ["example.pdf", "example.png", "sinusoid.pkl"], "files"))
    res.check("demo pdf", lambda: plotlib.check_pdf(os.path.join(d, "demo", "example.pdf")))
    res.check("demo png", lambda: plotlib.check_png(os.path.join(d, "demo", "example.png")))
    res.check("demo pickle", lambda: plotlib.check_pickle(
        os.path.join(d, "demo", "sinusoid.pkl"), plotlib.COLUMNS, plotlib.sinusoid_rows()))
res.finish()
