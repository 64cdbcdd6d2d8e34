"""The Python iot-plot client's exact messages through mosquitto into `iotplot plotserver`."""
import os

import iptest
import plotlib

res = iptest.Results()
with iptest.tempdir() as d, iptest.mosquitto() as (port, _):
    out = os.path.join(d, "out")
    with plotlib.plotserver(port, out, "-s", "hopla", "-s", "other") as (p, log):
        with plotlib.paho_client(port) as mq:
            checks = plotlib.exercise_files(plotlib.PythonPlotClient(mq, "hopla"), out)
            for name, fn in checks:
                res.check(name, fn)

            # a session the server does not serve is not its business
            stranger = plotlib.PythonPlotClient(mq, "nobody")
            stranger.new_series("x", "a")
            stranger.save_series("x", "stranger.csv")
            # the second session is served separately, with QoS 1 from the client
            other = plotlib.PythonPlotClient(mq, "other", qos=1)
            other.new_series("x", "a")
            other.data("x", 1.5)
            other.save_series("x", "other.csv")
            res.check("second session", lambda: plotlib.check_csv(
                plotlib.wait_file(os.path.join(out, "other.csv")), ["a"], [[1.5]]))
            res.check("unserved session ignored", lambda: iptest.expect_eq(
                os.path.exists(os.path.join(out, "stranger.csv")), False, "stranger.csv"))
        res.check("stops on SIGTERM", lambda: iptest.expect_eq(iptest.stop(p), 0, "exit code"))

    # '+' serves every session, and -q 1 subscribes with QoS 1
    with plotlib.plotserver(port, out, "-s", "+", "-q", "1") as (p, log):
        with plotlib.paho_client(port) as mq:
            pc = plotlib.PythonPlotClient(mq, "anyone", qos=1)
            pc.new_series("y", "v")
            pc.data("y", 2)
            pc.save_series("y", "anyone.json")
            res.check("all sessions", lambda: plotlib.check_json(
                plotlib.wait_file(os.path.join(out, "anyone.json")), ["v"], [[2.0]]))


def help_lists_each_option_once():
    """--help names every option once, each with the meaning plotserver gives it."""
    r = iptest.run([iptest.binary(), "plotserver", "--help"])
    iptest.expect_eq(r.returncode, 0, r.stderr)
    opts = [o.rstrip(",") for line in r.stdout.splitlines() if line.startswith("  -")
            for o in line.split()[:2] if o.startswith("-")]
    dups = sorted({o for o in opts if opts.count(o) > 1})
    iptest.expect_eq(dups, [], "options listed twice")
    bad = [o for o in opts if len(o) > 2 and o[1] != "-"]
    iptest.expect_eq(bad, [], "long options with one dash")


res.check("--help lists each option once", help_lists_each_option_once)
res.finish()
