"""Acknowledged means committed: `iotplot plotserver -q 1` (and -q 2) killed with SIGKILL
mid-stream, while a paho device keeps publishing rows as fast as it can, against a real
mosquitto and against `iotplot broker`. After a restart every row the device got its
acknowledgement for (paho's on_publish) is in the series that save_series writes, and at
QoS 2 none is there twice. The same for `iotplot serve`, broker and plot server in one
process, killed twice per run with the device's QoS 1 and 2 rows in flight and started
again on the same port and folder, without and with `persistence true`: the device (3.1.1
without clean session, or 5.0 with a session expiry) reconnects by itself and sends again
what was in flight, so every row is stored, and at QoS 2 none twice."""
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
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

RUNS = {1: 3, 2: 2}   # kills per broker at each QoS
# serve: runs at each QoS (alternately 3.1.1 and 5.0), without and with persistence,
# SERVE_KILLS kills in each
SERVE_RUNS = {1: 2, 2: 3}
SERVE_KILLS = 2
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
            self._publish(i)
            i += 1

    def _publish(self, i):
        """Row i published; its acknowledgement may come before publish() returns."""
        info = self.c.publish(f"{self.session}/data", json.dumps(["s", i]), qos=self.qos)
        with self.lock:
            if info.mid in self.early:
                self.early.discard(info.mid)
                self.acked.add(i)
            else:
                self.row_of[info.mid] = i
            self.sent = i + 1

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


class Paho161(paho.Client):
    """paho-mqtt 1.6.1 with one bug of its reconnect fixed. Each attempt resets the
    messages in flight before it connects: a message waiting for its PUBCOMP becomes one
    that resends its PUBREL; but if that attempt fails (the broker is still starting), the
    next one resets it again, and from that state it becomes a new PUBLISH with DUP 0, of
    a message whose PUBREC the client already had (MQTT-4.3.3 forbids sending it again).
    No broker or receiver can tell that from a new message. Here it stays one that
    resends its PUBREL."""

    def _messages_reconnect_reset_out(self):
        with self._out_message_mutex:
            for m in self._out_messages.values():
                if m.qos == 2 and m.state == paho.mqtt_ms_resend_pubrel:
                    m.state = paho.mqtt_ms_wait_for_pubcomp
        super()._messages_reconnect_reset_out()


class ResendingDevice(Device):
    """A device whose session outlives its connection (3.1.1 clean_session=False, or
    5.0 with a session expiry), publishing rows 0, 1, ... at `qos` as fast as it can until
    told where to stop. When its broker dies paho reconnects by itself and sends again
    what it had in flight: a PUBLISH without its PUBACK / PUBREC (DUP set), a PUBREL
    without its PUBCOMP. At most WINDOW rows wait for their acknowledgement: paho's own
    window, since on a reconnect paho 1.6 sends everything it holds at once, past that
    window and past the broker's Receive Maximum (which disconnects a 5.0 client)."""

    WINDOW = 20

    def __init__(self, port, session, qos, v5):
        self.session, self.qos = session, qos
        self.lock = threading.Lock()
        self.row_of, self.early, self.acked = {}, set(), set()
        self.sent = 0
        self.limit = None       # rows to publish in all, once set
        self.stop = threading.Event()
        cid = f"crash-resend-{os.getpid()}-{random.getrandbits(32)}"
        if v5:
            self.c = Paho161(client_id=cid, protocol=paho.MQTTv5)
        else:
            self.c = Paho161(client_id=cid, clean_session=False)
        self.c.max_queued_messages_set(0)
        self.c.reconnect_delay_set(min_delay=0.05, max_delay=0.5)
        self.c.on_publish = self._on_publish
        if v5:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = 3600
            self.c.connect(iptest.HOST, port, clean_start=False, properties=props)
        else:
            self.c.connect(iptest.HOST, port)
        self.c.loop_start()
        info = self.c.publish(f"{session}/new_series", json.dumps(["s", "i"]), qos=qos)
        info.wait_for_publish(iptest.TIMEOUT)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        i = 0
        while self.limit is None or i < self.limit:
            with self.lock:
                waiting = len(self.row_of)
            if waiting >= self.WINDOW:
                time.sleep(0.0005)
                continue
            self._publish(i)
            i += 1

    def finish(self, more):
        """Publish `more` rows after those sent so far, then wait until the broker
        acknowledged every row."""
        with self.lock:
            self.limit = self.sent + more
        self.thread.join(60)
        if self.thread.is_alive():
            raise AssertionError("the device did not get its rows out")
        iptest.eventually(lambda: len(self.acked) == self.limit, 60, interval=0.1,
                          what=f"every row acknowledged ({len(self.acked)} of {self.limit})")


def serve_run(qos, v5, persist, run):
    """`iotplot serve` killed (SIGKILL) twice with the device's rows in flight and started
    again on the same port and folder; the device reconnects by itself, sends again what
    was in flight and goes on. Every row is stored; at QoS 2 none twice (at QoS 1 a row
    whose PUBACK the kill swallowed is stored twice: counted, not a failure)."""
    with iptest.tempdir() as d, contextlib.ExitStack() as serves:
        out, logs = os.path.join(d, "out"), os.path.join(d, "logs")
        port = iptest.free_port()
        extra = ["-s", "crash"]
        if persist:
            conf = os.path.join(d, "serve.conf")
            os.makedirs(os.path.join(d, "broker"))
            with open(conf, "w") as f:
                f.write(f"allow_anonymous true\npersistence true\n"
                        f"persistence_location {d}/broker\n")
            extra += ["-c", conf]
        p = serves.enter_context(plotlib.serve(out, *extra, logdir=logs, port=port))[0]
        dev = ResendingDevice(port, "crash", qos, v5)
        try:
            dev.start()
            waiting = []
            for _ in range(SERVE_KILLS):
                at = len(dev.acked) + 500 + random.randrange(1000)
                # mid-stream: rows sent, not acknowledged yet
                iptest.eventually(lambda: len(dev.acked) >= at and dev.sent > len(dev.acked),
                                  60, interval=0.001,
                                  what=f"{at} rows acknowledged (have {len(dev.acked)}), "
                                  "more waiting")
                p.send_signal(signal.SIGKILL)
                with dev.lock:
                    waiting.append(dev.sent - len(dev.acked))
                p.wait(5)
                p = serves.enter_context(plotlib.serve(out, *extra, logdir=logs, port=port))[0]
            dev.finish(500)
            dev.save("s.csv")
            path = plotlib.wait_file(os.path.join(out, "s.csv"), 60)
            with open(path, newline="") as f:
                lines = list(csv.reader(f))
        finally:
            dev.close()
    got = collections.Counter(int(float(line[0])) for line in lines[1:])
    missing = sorted(set(range(dev.limit)) - set(got))
    twice = sorted(r for r, n in got.items() if n > 1)
    print(f"  run {run}: {dev.limit} rows, {waiting} waiting at the kills; stored "
          f"{sum(got.values())}, {len(twice)} twice", flush=True)
    if missing:
        raise AssertionError(f"{len(missing)} of {dev.limit} rows lost, "
                             f"from {missing[0]} to {missing[-1]}")
    if qos == 2 and twice:
        raise AssertionError(f"{len(twice)} rows stored twice at QoS 2, e.g. {twice[:5]}")


res = iptest.Results()
for persist in (False, True):
    for qos, runs in SERVE_RUNS.items():
        for run in range(runs):
            v5 = run % 2 == 1
            res.check(f"iotplot serve{' with persistence' if persist else ''}, QoS {qos}, "
                      f"{'5.0' if v5 else '3.1.1'}: {SERVE_KILLS} SIGKILLs mid-stream, the "
                      "device reconnects and resends: every row stored"
                      + (", none twice" if qos == 2 else ""), serve_run, qos, v5, persist,
                      run + 1)
if sys.argv[1:] != ["serve"]:   # `test_crash.py serve`: only the serve runs
    for name, broker in (("mosquitto", mosquitto), ("iotplot broker", our_broker)):
        for qos, runs in RUNS.items():
            for run in range(runs):
                res.check(f"{name}, QoS {qos}, SIGKILL mid-stream #{run + 1}: every "
                          "acknowledged row stored" + (", none twice" if qos == 2 else ""),
                          one_run, broker, qos, run + 1)
res.finish()
