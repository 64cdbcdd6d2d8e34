"""A broker started from a whole configuration file, and the real clients that check what
each directive did. Everything on 127.0.0.1 or unix sockets, bounded in time."""
import contextlib
import os
import queue
import re
import subprocess
import sys

import paho.mqtt.client as mqtt

import iptest

SRC = os.environ["IOTPLOT_SRC"]
HERE = os.path.join(SRC, "tests", "interop", "config")


class Running:
    """`iotplot broker -c conf`; ports are read from its log (stdout, or `logfile`)."""

    def __init__(self, conf, logfile=None, argv_prefix=(), port=None):
        """port: a fixed port to wait for, when the log says nothing (log_type error)."""
        self.conf, self.logfile, self.prefix = conf, logfile, list(argv_prefix)
        self.fixed = port

    def __enter__(self):
        self.out = self.conf + ".out"
        self.outf = open(self.out, "w")
        self.proc = subprocess.Popen(self.prefix + [iptest.binary(), "broker", "-c", self.conf],
                                     stdout=self.outf, stderr=subprocess.STDOUT)
        self.ports = iptest.eventually(self._ready, what="the broker running")
        self.port = self.ports[0] if self.ports else None
        return self

    def text(self):
        with open(self.out) as f:
            t = f.read()
        if self.logfile and os.path.exists(self.logfile):
            with open(self.logfile) as f:
                t += f.read()
        return t

    def _ready(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"broker exited with {self.proc.returncode}:\n{self.text()}")
        if self.fixed:
            iptest.wait_port(self.fixed, proc=self.proc)
            return [self.fixed]
        t = self.text()
        if "broker running" not in t:
            return None
        return [int(x) for x in re.findall(r"listen socket on port (\d+)\.", t)] or [0]

    def stop(self):
        rc = iptest.stop(self.proc)
        self.outf.close()
        return rc

    def __exit__(self, *exc):
        self.stop()


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


def refused(conf):
    """Run a configuration that must not start: its exit code and output."""
    r = iptest.run([iptest.binary(), "broker", "-c", conf])
    return r.returncode, r.stderr + r.stdout


class Peer:
    """A paho client that records CONNACKs (code and 5.0 properties) and messages."""

    def __init__(self, port=1883, cid="", proto=mqtt.MQTTv311, user=None, pw=None, clean=True,
                 keepalive=60):
        self.msgs, self.conn, self.subs = queue.Queue(), queue.Queue(), queue.Queue()
        kw = {"protocol": proto}
        if proto != mqtt.MQTTv5:
            kw["clean_session"] = clean
        self.c = mqtt.Client(cid, **kw)
        if user is not None:
            self.c.username_pw_set(user, pw)
        self.c.on_connect = lambda c, u, f, rc, props=None: self.conn.put((rc, props))
        self.c.on_message = lambda c, u, m: self.msgs.put(m)
        self.c.on_subscribe = lambda c, u, mid, granted, *a: self.subs.put(granted)
        self.port, self.keepalive = port, keepalive

    def connect(self):
        """(code as an int, CONNACK properties or None)."""
        self.c.connect(iptest.HOST, self.port, self.keepalive)
        self.c.loop_start()
        rc, props = self.conn.get(timeout=iptest.TIMEOUT)
        return int(getattr(rc, "value", rc)), props

    def sub(self, topic, qos=0):
        self.c.subscribe(topic, qos)
        return self.subs.get(timeout=iptest.TIMEOUT)

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


@contextlib.contextmanager
def peer(*a, **kw):
    p = Peer(*a, **kw)
    try:
        yield p
    finally:
        with contextlib.suppress(Exception):
            p.close()


def fail(msg):
    raise AssertionError(msg)


def main_checks(checks):
    results = iptest.Results()
    for name, fn in checks:
        results.check(name, fn)
    results.finish()


sys.path.insert(0, HERE)
