"""Acknowledged means committed: `iotplot plotserver -q 1` (and -q 2) killed with SIGKILL
mid-stream, while a paho device keeps publishing rows as fast as it can, against a real
mosquitto and against `iotplot broker`. After a restart every row the device got its
acknowledgement for (paho's on_publish) is in the series that save_series writes, and at
QoS 2 none is there twice. The same for `iotplot serve`, broker and plot server in one
process, killed with the device's QoS 1 and 2 rows mid-stream: every row acknowledged
(PUBACK, PUBCOMP) before its broker died is stored."""
import collections
import contextlib
import csv
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

import iptest
import plotlib

import paho.mqtt.client as paho

RUNS = {1: 3, 2: 2}   # kills per broker at each QoS
SERVE_RUNS = {1: 5, 2: 2}
# Both brokers keep every message for the offline plot server (their default caps of
# 1000 queued messages would drop rows the device had its acknowledgement for).
UNLIMITED = "max_queued_messages 0\n"


@contextlib.contextmanager
def our_broker():
    port = iptest.free_port()
    with iptest.tempdir() as d:
        conf = os.path.join(d, "broker.conf")
        with open(conf, "w") as f:
            f.write(f"listener {port} {iptest.HOST}\nallow_anonymous true\n{UNLIMITED}")
        with open(os.path.join(d, "broker.log"), "w") as log:
            p = subprocess.Popen([iptest.binary(), "broker", "-c", conf], stdout=log,
                                 stderr=subprocess.STDOUT)
        try:
            iptest.wait_port(port, proc=p)
            yield port
        finally:
            iptest.stop(p)


@contextlib.contextmanager
def mosquitto():
    with iptest.mosquitto(UNLIMITED) as (port, _):
        yield port


class Device:
    """A paho device publishing `data` rows at `qos` as fast as it can, in a thread,
    recording which rows were acknowledged (on_publish: PUBACK, or PUBCOMP at QoS 2)."""

    def __init__(self, port, session, qos):
        self.session, self.qos = session, qos
        self.lock = threading.Lock()
        self.row_of = {}        # mid -> row
        self.early = set()      # mids acknowledged before publish() returned them
        self.acked = set()      # rows acknowledged
        self.sent = 0
        self.stop = threading.Event()
        self.c = paho.Client(client_id=f"crash-device-{os.getpid()}-{random.getrandbits(32)}",
                             clean_session=True)
        self.c.max_queued_messages_set(0)
        self.c.on_publish = self._on_publish
        self.c.connect(iptest.HOST, port)
        self.c.loop_start()
        info = self.c.publish(f"{session}/new_series", json.dumps(["s", "i"]), qos=qos)
        info.wait_for_publish(iptest.TIMEOUT)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _on_publish(self, c, u, mid):
        with self.lock:
            row = self.row_of.pop(mid, None)
            if row is None:
                self.early.add(mid)
            else:
                self.acked.add(row)

    def _run(self):
        i = 0
        while not self.stop.is_set():
            with self.lock:
                waiting = len(self.row_of)
            if waiting > 2000:     # paho queues without bound: keep it near the window
                time.sleep(0.001)
                continue
            info = self.c.publish(f"{self.session}/data", json.dumps(["s", i]), qos=self.qos)
            with self.lock:
                if info.mid in self.early:
                    self.early.discard(info.mid)
                    self.acked.add(i)
                else:
                    self.row_of[info.mid] = i
            i += 1
            self.sent = i

    def start(self):
        self.thread.start()

    def finish(self):
        """Stop publishing and wait until the broker acknowledged every row."""
        self.stop.set()
        self.thread.join(10)
        iptest.eventually(lambda: not self.row_of, 60, interval=0.1,
                          what=f"broker acknowledges every row ({len(self.row_of)} left)")

    def save(self, name):
        info = self.c.publish(f"{self.session}/save_series", json.dumps(["s", name]),
                              qos=self.qos)
        info.wait_for_publish(iptest.TIMEOUT)

    def halt(self):
        """Stop publishing; the rows acknowledged so far stay in `acked`."""
        self.stop.set()
        self.thread.join(10)

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


def one_run(broker, qos, run):
    with broker() as port, iptest.tempdir() as d:
        out = os.path.join(d, "out")
        args = ["-q", str(qos), "-s", "crash"]
        dev = None
        try:
            with plotlib.plotserver(port, out, *args) as (p, log):
                dev = Device(port, "crash", qos)
                dev.start()
                # Mid-stream: a few thousand rows acknowledged, the device still going.
                at = 2000 + random.randrange(3000)
                iptest.eventually(lambda: len(dev.acked) >= at, 60,
                                  what=f"{at} rows acknowledged (have {len(dev.acked)})")
                sent_at_kill = dev.sent
                p.send_signal(signal.SIGKILL)
                p.wait(5)
                acked_at_kill = len(dev.acked)
                time.sleep(0.3)         # the device keeps publishing to the broker
                dev.finish()
                if dev.sent <= sent_at_kill:
                    raise AssertionError("the device stopped before the kill")
            with plotlib.plotserver(port, out, *args) as (p, log):
                dev.save("s.csv")
                path = os.path.join(out, "s.csv")
                plotlib.wait_file(path, 60)
                with open(path, newline="") as f:
                    lines = list(csv.reader(f))
            got = collections.Counter(int(float(line[0])) for line in lines[1:])
            missing = sorted(dev.acked - set(got))
            twice = sorted(r for r, n in got.items() if n > 1)
            print(f"  run {run}: {acked_at_kill} acknowledged at the kill, {len(dev.acked)} "
                  f"in all; stored {sum(got.values())} ({len(twice)} twice)", flush=True)
            if missing:
                raise AssertionError(f"{len(missing)} acknowledged rows lost, "
                                     f"from {missing[0]} to {missing[-1]}")
            if qos == 2 and twice:
                raise AssertionError(f"{len(twice)} rows stored twice at QoS 2, e.g. {twice[:5]}")
        finally:
            if dev:
                dev.close()


def serve_run(qos, run):
    """`iotplot serve` killed with the device connected to it: what the device had
    acknowledged when its broker died is in the store after a restart."""
    with iptest.tempdir() as d:
        out, logs = os.path.join(d, "out"), os.path.join(d, "logs")
        port = iptest.free_port()
        dev = None
        try:
            with plotlib.serve(out, "-s", "crash", logdir=logs, port=port) as (p, _, log):
                dev = Device(port, "crash", qos)
                dev.start()
                at = 2000 + random.randrange(3000)
                iptest.eventually(lambda: len(dev.acked) >= at, 60,
                                  what=f"{at} rows acknowledged (have {len(dev.acked)})")
                with dev.lock:          # mid-stream: rows sent, not acknowledged yet
                    waiting = dev.sent - len(dev.acked)
                p.send_signal(signal.SIGKILL)
                p.wait(5)
                time.sleep(0.3)         # acknowledgements already on their way arrive
                dev.halt()
                if waiting <= 0:
                    raise AssertionError("no row was waiting for its acknowledgement")
                with dev.lock:
                    acked = set(dev.acked)
                dev.close()
                dev = None
            with plotlib.serve(out, "-s", "crash", logdir=logs, port=port):
                with plotlib.paho_client(port, f"crash-saver-{os.getpid()}") as saver:
                    saver.publish("crash/save_series", json.dumps(["s", "s.csv"]),
                                  qos=1).wait_for_publish(iptest.TIMEOUT)
                    path = os.path.join(out, "s.csv")
                    plotlib.wait_file(path, 60)
                with open(path, newline="") as f:
                    lines = list(csv.reader(f))
            got = collections.Counter(int(float(line[0])) for line in lines[1:])
            missing = sorted(acked - set(got))
            print(f"  run {run}: {len(acked)} acknowledged at the kill ({waiting} waiting); "
                  f"stored {sum(got.values())}", flush=True)
            if missing:
                raise AssertionError(f"{len(missing)} of {len(acked)} acknowledged rows lost, "
                                     f"from {missing[0]} to {missing[-1]}")
        finally:
            if dev:
                dev.close()


res = iptest.Results()
for qos, runs in SERVE_RUNS.items():
    for run in range(runs):
        res.check(f"iotplot serve, QoS {qos}, SIGKILL mid-stream #{run + 1}: every "
                  "acknowledged row stored", serve_run, qos, run + 1)
if sys.argv[1:] != ["serve"]:   # `test_crash.py serve`: only the serve runs
    for name, broker in (("mosquitto", mosquitto), ("iotplot broker", our_broker)):
        for qos, runs in RUNS.items():
            for run in range(runs):
                res.check(f"{name}, QoS {qos}, SIGKILL mid-stream #{run + 1}: every "
                          "acknowledged row stored" + (", none twice" if qos == 2 else ""),
                          one_run, broker, qos, run + 1)
res.finish()
