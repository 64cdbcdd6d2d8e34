"""Over-wide series and rows through `iotplot serve`: refused with a log line, the process
lives on (under ASan an overflow would abort it); unknown plot options are named."""
import os

import iptest
import plotlib

res = iptest.Results()
WIDE = 1025  # one more than the 1024 columns a series may have

with iptest.tempdir() as d:
    out = os.path.join(d, "out")
    with plotlib.serve(out) as (p, port, log):
        with plotlib.paho_client(port) as mq:
            # QoS 0: a publish never waits for an acknowledgement a dead server cannot send
            pc = plotlib.PythonPlotClient(mq, "w", qos=0)
            pc.new_series("wide", *[f"c{i}" for i in range(WIDE)])
            pc.data("wide", *([1.5e308] * WIDE))
            pc.new_series("max", *[f"c{i}" for i in range(1024)])  # the limit: accepted
            pc.data("max", *range(1024))
            pc.save_series("max", "max.csv")
            pc.new_series("s", "x", "y")
            pc.data("s", 1, 2)
            pc.plot_series("s", filename="s.svg", titel="typo", colour="red", xlabel="x")
            res.check("wide series refused", lambda: plotlib.wait_log(
                log, "series 'wide' has 1025 columns, over the limit of 1024; message dropped",
                proc=p))
            res.check("wide row refused", lambda: plotlib.wait_log(
                log, "row of 1025 values for series 'wide' is over the limit of 1024 columns",
                proc=p))
            res.check("1024 columns stored", lambda: plotlib.check_csv(
                plotlib.wait_file(os.path.join(out, "max.csv")),
                [f"c{i}" for i in range(1024)], [[float(i) for i in range(1024)]]))
            res.check("unknown options named", lambda: plotlib.wait_log(
                log, "plot_series of 's': unknown option 'titel', 'colour' ignored"))
            res.check("figure drawn anyway", lambda: plotlib.check_svg(
                plotlib.wait_file(os.path.join(out, "s.svg"))))
        res.check("serve alive", lambda: iptest.expect_eq(p.poll(), None, "exit code"))
        res.check("serve clean exit", lambda: iptest.expect_eq(iptest.stop(p), 0, "exit code"))

    # `iotplot plot --options` warns the same way and still draws
    csv = os.path.join(d, "in.csv")
    with open(csv, "w") as f:
        f.write("x,y\n1,2\n2,3\n")
    r = iptest.run([iptest.binary(), "plot", csv, "-o", os.path.join(d, "o.svg"),
                    "--options", '{"titel": "typo"}'], timeout=60)
    res.check("plot: exit 0", lambda: iptest.expect_eq(r.returncode, 0, r.stderr))
    res.check("plot: warns", lambda: iptest.expect_eq(
        "unknown option 'titel' ignored" in r.stderr, True, r.stderr))
    res.check("plot: drawn", lambda: plotlib.check_svg(os.path.join(d, "o.svg")))
res.finish()
