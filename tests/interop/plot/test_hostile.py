"""Hostile input: logged in one line, dropped; nothing escapes the folder; server lives on."""
import os

import iptest
import plotlib

res = iptest.Results()
ATTACKS = [
    ("save_series", '["s", "../escape.pkl"]', "'.' or '..'"),
    ("save_series", '["s", "a/../../escape.pkl"]', "'.' or '..'"),
    ("save_series", None, "absolute path refused"),
    ("plot_series", '["s", {"filename": "link/escape.pdf"}]', "symbolic link"),
    ("save_series", '["s", "bad\\u0007name.csv"]', "control character"),
    ("save_series", '["s", "iotplot-series.db"]', "own store"),
    ("data", '["s", 1, 2', "invalid payload"),
    ("data", '{"s": 1}', "invalid payload"),
    ("data", '["s", "1"]', "not a number"),
    ("data", '["s", 1, 2, 3]', "has 1 columns but the row has 3"),
    ("data", '["nope", 1]', "unknown series 'nope'"),
    ("new_series", '[1, 2]', "series name"),
    ("plot_series", '["s", {"figsize": "big"}]', "figsize"),
    ("plot_series", '["s", {"filename": "x.exe"}]', ".pdf, .png or .svg"),
    ("exec_remote", '"import os; os.system(\'touch pwned\')"', "unknown command"),
    ("data", b"\xff\xfe\x00garbage", "invalid payload"),
    ("data", "[" * 100000, "invalid payload"),
]


def attack(pc, out, outside):
    pc.new_series("s", "v")
    pc.data("s", 1)
    for cmd, payload, _ in ATTACKS:
        if payload is None:
            payload = '["s", "%s"]' % os.path.join(outside, "abs.pkl")
        pc.raw(cmd, payload)
    pc.raw("data", "[" + " " * (1 << 20) + '"s", 1]')   # over the 1 MiB limit
    pc.raw("data", "[" + " " * 1000000 + '"s", 2]')    # big but allowed: stored
    pc.save_series("s", "final.csv")


def checks(out, outside, log, cwd):
    yield "still serving", lambda: plotlib.check_csv(
        plotlib.wait_file(os.path.join(out, "final.csv")), ["v"], [[1.0], [2.0]])
    for cmd, _, needle in ATTACKS:
        yield f"logged: {needle}", lambda needle=needle: plotlib.wait_log(log, needle)
    yield "huge payload logged", lambda: plotlib.wait_log(log, "over the limit")
    yield "one line names session and topic", lambda: plotlib.wait_log(
        log, "session 'h' topic 'h/data'")
    yield "nothing outside", lambda: iptest.expect_eq(
        sorted(os.listdir(outside)) + [os.path.exists(os.path.join(cwd, "pwned"))], [False],
        "files outside")


with iptest.tempdir() as d:
    out, outside = os.path.join(d, "out"), os.path.join(d, "outside")
    os.makedirs(out)
    os.makedirs(outside)
    os.symlink(outside, os.path.join(out, "link"))
    with plotlib.serve(out, logdir=d) as (p, port, log):
        with plotlib.paho_client(port) as mq:
            attack(plotlib.PythonPlotClient(mq, "h", qos=1), out, outside)
            for name, fn in checks(out, outside, log, d):
                res.check(f"serve: {name}", fn)
        res.check("serve alive", lambda: iptest.expect_eq(p.poll(), None, "exit code"))
        res.check("serve clean exit", lambda: iptest.expect_eq(iptest.stop(p), 0, "exit code"))

    # the same through mosquitto and `iotplot plotserver` (session h2, fresh folder)
    out2 = os.path.join(d, "out2")
    os.makedirs(out2)
    os.symlink(outside, os.path.join(out2, "link"))
    with iptest.mosquitto() as (port, _), plotlib.plotserver(
            port, out2, "-s", "h", "-q", "1", logdir=d) as (p, log):
        with plotlib.paho_client(port) as mq:
            pc = plotlib.PythonPlotClient(mq, "h", qos=1)
            pc.new_series("s", "v")
            pc.data("s", 1)
            for cmd, payload, _ in ATTACKS:
                pc.raw(cmd, payload or '["s", "/tmp/abs.pkl"]')
            # over 1 MiB: refused by the plot server with a log line, or, if the MQTT
            # client's receive buffer is smaller, the connection is dropped and made again
            pc.raw("data", "[" + " " * (1 << 20) + '"s", 1]')

            def huge_handled():
                text = plotlib.read(log)
                return "over the limit" in text or "plotserver: connected" in text
            res.check("plotserver: survives a huge message", lambda: iptest.eventually(
                huge_handled, what="huge message logged or connection made again"))
            pc.save_series("s", "final.csv")
            res.check("plotserver: still serving", lambda: plotlib.check_csv(
                plotlib.wait_file(os.path.join(out2, "final.csv")), ["v"], [[1.0]]))
            for cmd, _, needle in ATTACKS:
                res.check(f"plotserver logged: {needle}",
                          lambda needle=needle: plotlib.wait_log(log, needle))
        res.check("plotserver alive", lambda: iptest.expect_eq(p.poll(), None, "exit code"))
        res.check("plotserver clean exit",
                  lambda: iptest.expect_eq(iptest.stop(p), 0, "exit code"))
    res.check("nothing outside", lambda: iptest.expect_eq(os.listdir(outside), [], "files"))
res.finish()
