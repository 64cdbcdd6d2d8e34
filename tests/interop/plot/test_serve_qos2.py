"""`iotplot serve` at QoS 2, exactly once across SIGKILL and a restart, byte by byte: a
raw socket device sends a row at QoS 2 (packet id 5) and gets its PUBREC, so the row is
committed; serve is killed and started again in the same folder; the device reconnects
and sends what it had in flight as MQTT says it must: the PUBLISH again with DUP set
(its PUBREC could have been lost with the kill), then the PUBREL. The row is stored once.
Then a new row under id 5, DUP set as for a message whose first send was lost: stored
(the PUBREL's PUBCOMP came only after the plot server forgot the id). And a PUBREL the
restarted broker has never heard of (id 6, whose PUBREC the device had before the kill)
still reaches the plot server: its PUBCOMP comes (0x00 in 5.0), and a new row under
id 6 is stored. Each for 3.1.1 and 5.0 (clean session off / a session expiry), without
and with `persistence true` (serve -c). And a clean start forgets the ids kept, as do
a session that ends with its connection and one whose expiry runs out."""
import csv
import os
import signal
import sqlite3
import sys
import time

import iptest
import plotlib

sys.path.insert(0, os.path.join(os.environ["IOTPLOT_SRC"], "tests", "wire", "broker"))
import wire  # noqa: E402

V311, V5 = wire.V311, wire.V5


def connect(port, cid, v, clean=False):
    c = wire.Client(port)
    p = [(0x11, 3600)] if v == V5 else None      # Session Expiry Interval
    c.send(wire.connect(cid, v=v, clean=clean, p=p))
    pkt = c.read_packet()
    if pkt[0] != 0x20 or pkt[3] != 0:
        raise AssertionError(f"CONNACK: got {pkt.hex()}")
    return c


def exchange(c, v, pid, payload, dup=False):
    """One QoS 2 row, PUBLISH to PUBCOMP."""
    c.send(wire.publish("w/data", payload, qos=2, dup=dup, pid=pid, v=v))
    c.expect(wire.pubrec(pid, v=v), f"PUBREC {pid}")
    c.send(wire.pubrel(pid, v=v))
    c.expect(wire.pubcomp(pid, v=v), f"PUBCOMP {pid}")


def scenario(v, persist):
    with iptest.tempdir() as d:
        out, logs = os.path.join(d, "out"), os.path.join(d, "logs")
        port = iptest.free_port()
        extra = ["-s", "w"]
        if persist:
            conf = os.path.join(d, "serve.conf")
            with open(conf, "w") as f:
                f.write("allow_anonymous true\npersistence true\n"
                        f"persistence_location {d}/broker\n")
            os.makedirs(os.path.join(d, "broker"))
            extra += ["-c", conf]
        cid = f"wire-qos2-{v}"
        with plotlib.serve(out, *extra, logdir=logs, port=port) as (p, _, _log):
            c = connect(port, cid, v)
            c.send(wire.publish("w/new_series", '["s", "i"]', qos=1, pid=1, v=v))
            c.expect(wire.puback(1, v=v), "PUBACK of new_series")
            c.send(wire.publish("w/data", '["s", 1]', qos=2, pid=5, v=v))
            c.expect(wire.pubrec(5, v=v), "PUBREC 5: row 1 committed")
            c.send(wire.publish("w/data", '["s", 2]', qos=2, pid=6, v=v))
            c.expect(wire.pubrec(6, v=v), "PUBREC 6: row 2 committed")
            p.send_signal(signal.SIGKILL)
            p.wait(5)
            c.close()
        with plotlib.serve(out, *extra, logdir=logs, port=port):
            c = connect(port, cid, v)
            # In flight at the kill: PUBLISH 5 without its PUBREC (as the device must
            # assume), PUBREL 6 without its PUBCOMP.
            exchange(c, v, 5, '["s", 1]', dup=True)
            c.send(wire.pubrel(6, v=v))
            c.expect(wire.pubcomp(6, v=v), "PUBCOMP 6, 0x00: the plot server had the id")
            # New messages under the released ids, their first sends lost: stored.
            exchange(c, v, 5, '["s", 3]', dup=True)
            exchange(c, v, 6, '["s", 4]', dup=True)
            c.send(wire.publish("w/save_series", '["s", "s.csv"]', qos=1, pid=2, v=v))
            c.expect(wire.puback(2, v=v), "PUBACK of save_series")
            path = plotlib.wait_file(os.path.join(out, "s.csv"), 60)
            c.send(wire.disconnect(v=v))
            c.close()
        with open(path, newline="") as f:
            rows = [int(float(line[0])) for line in list(csv.reader(f))[1:]]
        iptest.expect_eq(sorted(rows), [1, 2, 3, 4], "rows stored, each once")


def clean_start(v):
    """A device that starts a clean session forgot its ids: so does the plot server. Id 7
    is left recorded (PUBREC, no PUBREL); after a clean start a message under id 7 whose
    first send was lost (DUP set) is a new one, and stored."""
    with iptest.tempdir() as d:
        out = os.path.join(d, "out")
        with plotlib.serve(out, "-s", "w") as (_, port, _log):
            cid = f"wire-clean-{v}"
            c = connect(port, cid, v)
            c.send(wire.publish("w/new_series", '["s", "i"]', qos=1, pid=1, v=v))
            c.expect(wire.puback(1, v=v), "PUBACK of new_series")
            c.send(wire.publish("w/data", '["s", 1]', qos=2, pid=7, v=v))
            c.expect(wire.pubrec(7, v=v), "PUBREC 7")
            c.close()
            c = connect(port, cid, v, clean=True)
            exchange(c, v, 7, '["s", 2]', dup=True)
            c.send(wire.publish("w/save_series", '["s", "s.csv"]', qos=1, pid=2, v=v))
            c.expect(wire.puback(2, v=v), "PUBACK of save_series")
            path = plotlib.wait_file(os.path.join(out, "s.csv"), 60)
            c.close()
        with open(path, newline="") as f:
            rows = [int(float(line[0])) for line in list(csv.reader(f))[1:]]
        iptest.expect_eq(sorted(rows), [1, 2], "rows stored")


def clean_session_leaves_none(v):
    """Sessions that end with their connection (clean session, no expiry) take the QoS 2
    ids the plot server kept for them along: 20 clients, each under its own id, leave 5
    messages each with PUBREC and without PUBREL and never come back; once serve has
    stopped, its store keeps no id of theirs (else a user cycling client ids could grow
    it without bound). A session that outlives its connection keeps them."""
    with iptest.tempdir() as d:
        out = os.path.join(d, "out")
        with plotlib.serve(out, "-s", "w") as (_, port, _log):
            c = connect(port, f"wire-keep-{v}", v)
            c.send(wire.publish("w/new_series", '["s", "i"]', qos=1, pid=1, v=v))
            c.expect(wire.puback(1, v=v), "PUBACK of new_series")
            c.send(wire.publish("w/data", '["s", 0]', qos=2, pid=9, v=v))
            c.expect(wire.pubrec(9, v=v), "PUBREC 9 of the kept session")
            c.close()
            for i in range(20):
                c = wire.Client(port)
                c.send(wire.connect(f"wire-gone-{v}-{i}", v=v, clean=True))
                c.read_packet()
                for pid in range(1, 6):
                    c.send(wire.publish("w/data", f'["s", {i * 10 + pid}]', qos=2, pid=pid, v=v))
                    c.expect(wire.pubrec(pid, v=v), f"PUBREC {pid} of client {i}")
                c.close()
            c = connect(port, f"wire-last-{v}", v, clean=True)
            c.send(wire.publish("w/save_series", '["s", "s.csv"]', qos=1, pid=2, v=v))
            c.expect(wire.puback(2, v=v), "PUBACK of save_series")
            plotlib.wait_file(os.path.join(out, "s.csv"), 60)
            c.send(wire.disconnect(v=v))
            c.close()
        db = sqlite3.connect(os.path.join(out, "iotplot-series.db"))
        try:
            kept = db.execute("SELECT client, id FROM qos2_clients ORDER BY client").fetchall()
        finally:
            db.close()
        iptest.expect_eq(kept, [(f"wire-keep-{v}", 9)], "QoS 2 ids kept in the store")


def stored_ids(out):
    db = sqlite3.connect(os.path.join(out, "iotplot-series.db"))
    try:
        return db.execute("SELECT client, id FROM qos2_clients ORDER BY client").fetchall()
    finally:
        db.close()


def expired_session_leaves_none():
    """A 5.0 session whose expiry runs out while serve runs takes its QoS 2 ids along: a
    client with a 1 s Session Expiry Interval leaves a message with PUBREC and without
    PUBREL and never comes back; its id leaves the store once the session has expired,
    while a session with an hour to go keeps its own."""
    with iptest.tempdir() as d:
        out = os.path.join(d, "out")
        with plotlib.serve(out, "-s", "w") as (_, port, _log):
            c = connect(port, "wire-hour", V5)
            c.send(wire.publish("w/new_series", '["s", "i"]', qos=1, pid=1, v=V5))
            c.expect(wire.puback(1, v=V5), "PUBACK of new_series")
            c.send(wire.publish("w/data", '["s", 0]', qos=2, pid=9, v=V5))
            c.expect(wire.pubrec(9, v=V5), "PUBREC 9 of the hour-long session")
            c.close()
            c = wire.Client(port)
            c.send(wire.connect("wire-second", v=V5, clean=True, p=[(0x11, 1)]))
            c.read_packet()
            c.send(wire.publish("w/data", '["s", 1]', qos=2, pid=4, v=V5))
            c.expect(wire.pubrec(4, v=V5), "PUBREC 4 of the one-second session")
            c.close()
            both = [("wire-hour", 9), ("wire-second", 4)]
            deadline = time.monotonic() + 30
            while (kept := stored_ids(out)) == both and time.monotonic() < deadline:
                time.sleep(0.1)  # the store changes when the broker's tick ends the session
        iptest.expect_eq(kept, [("wire-hour", 9)], "QoS 2 ids kept once the session expired")


res = iptest.Results()
for persist in (False, True):
    for v, name in ((V311, "3.1.1"), (V5, "5.0")):
        res.check(f"serve{' with persistence' if persist else ''}, {name}: a QoS 2 resend "
                  "and a PUBREL after SIGKILL and a restart are taken once; the released "
                  "ids carry new rows", scenario, v, persist)
for v, name in ((V311, "3.1.1"), (V5, "5.0")):
    res.check(f"serve, {name}: a clean start forgets the QoS 2 ids the plot server kept",
              clean_start, v)
    res.check(f"serve, {name}: a session that ends with its connection leaves no QoS 2 ids "
              "in the store", clean_session_leaves_none, v)
res.check("serve, 5.0: a session whose expiry runs out leaves no QoS 2 ids in the store",
          expired_session_leaves_none)
res.finish()
