"""The course examples run: hello against mosquitto, plot_sinusoid against iotplot serve."""
import os
import subprocess

import iptest
import plotlib

res = iptest.Results()
ex = os.path.join(os.environ["IOTPLOT_BUILD"], "examples")
with iptest.tempdir() as d:
    with iptest.mosquitto() as (port, _):
        r = iptest.run([os.path.join(ex, "example_hello"), iptest.HOST, str(port), "2"],
                       timeout=20)
        res.check("hello exits 0", lambda: iptest.expect_eq(r.returncode, 0, r.stderr))
        res.check("hello hears itself", lambda: iptest.expect_eq(
            r.stdout.count("received hello/world: hello"), 2, r.stdout))
    out = os.path.join(d, "out")
    with plotlib.serve(out) as (p, port, log):
        r = iptest.run([os.path.join(ex, "example_plot_sinusoid"), iptest.HOST, str(port)],
                       timeout=30)
        res.check("plot_sinusoid exits 0", lambda: iptest.expect_eq(r.returncode, 0, r.stderr))
        res.check("example.pdf", lambda: plotlib.check_pdf(
            plotlib.wait_file(os.path.join(out, "example.pdf"))))
        res.check("sinusoid.pkl", lambda: plotlib.check_pickle(
            plotlib.wait_file(os.path.join(out, "sinusoid.pkl")), plotlib.COLUMNS,
            plotlib.sinusoid_rows()))
res.finish()
