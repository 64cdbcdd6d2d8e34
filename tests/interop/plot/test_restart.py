"""Rows survive the plot server being killed and restarted."""
import os
import signal
import sqlite3

import iptest
import plotlib

res = iptest.Results()


def stored(out, session):
    """Rows of a session committed to the store (read with Python's sqlite3)."""
    db = os.path.join(out, "iotplot-series.db")
    if not os.path.exists(db):
        return 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
        return c.execute("SELECT COUNT(*) FROM rows JOIN series ON rows.series = series.id"
                         " WHERE series.session = ?", (session,)).fetchone()[0]


with iptest.tempdir() as d, iptest.mosquitto() as (port, _):
    out = os.path.join(d, "out")
    rows = [[float(i), i * 0.5] for i in range(300)]
    # QoS 2: the plot server keeps its session, and what it had committed but not yet
    # acknowledged when killed comes back from the broker; QoS 2 applies it once (at QoS
    # 1 those rows would be stored twice: at least once; test_crash.py covers both).
    with plotlib.plotserver(port, out, "-q", "2") as (p, log):
        with plotlib.paho_client(port) as mq:
            pc = plotlib.PythonPlotClient(mq, qos=2)
            pc.new_series("r", "i", "half")
            for r in rows[:200]:
                pc.data("r", *r)
        iptest.eventually(lambda: stored(out, "iot49") == 200, what="200 rows stored")
        p.send_signal(signal.SIGKILL)   # no chance to clean up
        p.wait(5)
    # the original's "-session NAME" spelling
    with plotlib.plotserver(port, out, "-q", "2", "-session", "iot49") as (p, log):
        with plotlib.paho_client(port) as mq:
            pc = plotlib.PythonPlotClient(mq, qos=2)
            for r in rows[200:]:
                pc.data("r", *r)
            pc.save_series("r", "r.csv")
            pc.plot_series("r", filename="r.png")
            res.check("every row after SIGKILL and restart", lambda: plotlib.check_csv(
                plotlib.wait_file(os.path.join(out, "r.csv")), ["i", "half"], rows))
            res.check("plot after restart", lambda: plotlib.check_png(
                plotlib.wait_file(os.path.join(out, "r.png"))))

    # a kept session (-c, fixed -i): rows sent while the server is down arrive when it is back
    keep = ["-q", "1", "-c", "-i", "plotserver-kept", "-s", "k"]
    with plotlib.plotserver(port, out, *keep) as (p, log):
        with plotlib.paho_client(port) as mq:
            pc = plotlib.PythonPlotClient(mq, "k", qos=1)
            pc.new_series("d", "i")
            pc.data("d", 0)
            iptest.eventually(lambda: stored(out, "k") == 1, what="first row stored")
    with plotlib.paho_client(port) as mq:          # server down: the broker keeps these
        pc = plotlib.PythonPlotClient(mq, "k", qos=1)
        for i in range(1, 100):
            pc.data("d", i)
    with plotlib.plotserver(port, out, *keep) as (p, log):
        with plotlib.paho_client(port) as mq:
            plotlib.PythonPlotClient(mq, "k", qos=1).save_series("d", "d.csv")
            res.check("rows sent while the server was down", lambda: plotlib.check_csv(
                plotlib.wait_file(os.path.join(out, "d.csv")), ["i"],
                [[float(i)] for i in range(100)]))

    # SIGTERM while rows are queued: they are stored before the process exits
    with plotlib.serve(out) as (p, sport, log):
        with plotlib.paho_client(sport) as mq:
            pc = plotlib.PythonPlotClient(mq, "t", qos=1)
            pc.new_series("q", "i")
            for i in range(2000):
                pc.data("q", i)
        before = stored(out, "t")
        res.check("SIGTERM exits 0", lambda: iptest.expect_eq(iptest.stop(p), 0, "exit"))
        res.check("SIGTERM stores every queued row",
                  lambda: iptest.expect_eq(stored(out, "t"), 2000, f"rows ({before} before)"))
res.finish()
