"""Shared pieces of the security tests: a test PKI, password files, and paho clients
that report what the broker answered. Everything on 127.0.0.1, bounded in time."""
import contextlib
import os
import queue
import ssl
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ["IOTPLOT_SRC"], "tests", "wire", "broker"))
import paho.mqtt.client as mqtt  # noqa: E402

import iptest  # noqa: E402
from wire import Broker  # noqa: E402,F401

SRC = os.environ["IOTPLOT_SRC"]


@contextlib.contextmanager
def pki():
    """A fresh CA, server, client and wrong-name certificates (tests/lib/make-certs.sh)."""
    with iptest.tempdir() as d:
        subprocess.run(["sh", os.path.join(SRC, "tests/lib/make-certs.sh"), d], check=True,
                       timeout=60)
        yield d


def passwd_file(path, users, tool="iotplot"):
    """users: {name: password}, written by our passwd or by mosquitto_passwd."""
    first = True
    for user, pw in users.items():
        if tool == "iotplot":
            args = [iptest.binary(), "passwd", "-b", "-I", "1000"] + (["-c"] if first else [])
        else:
            args = ["mosquitto_passwd", "-b"] + (["-c"] if first else [])
        iptest.run(args + [path, user, pw], check=True)
        first = False


class Peer:
    """A paho client; connect() returns the CONNACK code (an int, 5.0 codes as numbers)."""

    def __init__(self, port, cid, proto=mqtt.MQTTv311, user=None, pw=None, tls=None,
                 will=None, bind="", host=iptest.HOST):
        self.msgs = queue.Queue()
        self.subacks = queue.Queue()
        self.pubacks = queue.Queue()
        self.conn = queue.Queue()
        self.proto = proto
        self.c = mqtt.Client(cid, protocol=proto)
        if user is not None:
            self.c.username_pw_set(user, pw)
        if tls:
            self.c.tls_set(**tls)
        if will:
            self.c.will_set(*will)
        self.c.on_message = lambda c, u, m: self.msgs.put(m)
        self.c.on_connect = lambda c, u, f, rc, *a: self.conn.put(rc)
        self.c.on_subscribe = lambda c, u, mid, granted, *a: self.subacks.put(granted)
        self.c.on_publish = lambda c, u, mid: self.pubacks.put(mid)
        self.port, self.bind, self.host = port, bind, host

    def connect(self):
        self.c.connect(self.host, self.port, 30, bind_address=self.bind)
        self.c.loop_start()
        rc = self.conn.get(timeout=iptest.TIMEOUT)
        return int(getattr(rc, "value", rc))

    def sub(self, topic, qos=1):
        self.c.subscribe(topic, qos)
        granted = self.subacks.get(timeout=iptest.TIMEOUT)
        g = granted[0]
        return int(getattr(g, "value", g))

    def pub(self, topic, payload, qos=1, retain=False):
        info = self.c.publish(topic, payload, qos, retain)
        if qos:
            info.wait_for_publish(iptest.TIMEOUT)
        return info

    def get(self, timeout=2.0):
        """The next message, or None after timeout (used to show something did NOT come)."""
        try:
            return self.msgs.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self, clean=True):
        if clean:
            self.c.disconnect()
        else:
            self.c.socket().close() if self.c.socket() else None
        self.c.loop_stop()


def tls_opts(d, cert=None, verify=True):
    o = {"ca_certs": os.path.join(d, "ca.pem"), "cert_reqs": ssl.CERT_REQUIRED}
    if cert:
        o["certfile"] = os.path.join(d, f"{cert}.pem")
        o["keyfile"] = os.path.join(d, f"{cert}.key")
    return o


def round_trips_while(client, guess, args_list, what, seconds=4, bound=0.100,
                      median_bound=None):
    """Run guess(*args, stop, counts) on one thread per args while client (a logged-in
    wire.Client) measures PINGREQ -> PINGRESP; prints the figures and fails when the
    guessers hardly ran, the p99 round trip is over bound seconds, or the median is over
    median_bound (when given)."""
    stop, counts = threading.Event(), []
    threads = [threading.Thread(target=guess, args=(*a, stop, counts)) for a in args_list]
    for t in threads:
        t.start()
    rtts = []
    try:
        time.sleep(0.3)  # every guesser is hashing by now
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            t0 = time.monotonic()
            client.sync()
            rtts.append(time.monotonic() - t0)
            time.sleep(0.01)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    rtts.sort()
    p99 = rtts[int(len(rtts) * 0.99) - 1]
    print(f"{sum(counts)} {what} in {seconds} s by {len(threads)} clients; PINGREQ->PINGRESP "
          f"over {len(rtts)} pings: median {statistics.median(rtts) * 1000:.1f} ms, "
          f"p99 {p99 * 1000:.1f} ms, max {rtts[-1] * 1000:.1f} ms")
    if sum(counts) < len(threads):
        raise AssertionError(f"the guessers hardly ran: {counts}")
    if p99 > bound:
        raise AssertionError(f"p99 round trip {p99 * 1000:.1f} ms while hashing ({what})")
    median = statistics.median(rtts)
    if median_bound is not None and median > median_bound:
        raise AssertionError(f"median round trip {median * 1000:.1f} ms over "
                             f"{median_bound * 1000:.1f} ms ({what})")
