"""Helpers for the client's tests against real peers: `iotplot sub` as a background process
whose output is read line by line, paho clients that collect what they receive, and a
throwaway certificate authority made with the openssl command.
"""
import os
import queue
import subprocess
import threading
import time

import paho.mqtt.client as mqtt

import iptest

BIN = iptest.binary()
VERSIONS = {"mqttv31": mqtt.MQTTv31, "mqttv311": mqtt.MQTTv311, "mqttv5": mqtt.MQTTv5}


class Proc:
    """A background process whose stdout and stderr lines are collected as they come."""

    def __init__(self, args, stdin=None):
        self.args = args
        self.p = subprocess.Popen(args, stdin=stdin, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, errors="replace")
        self.out, self.err = [], []
        self._threads = [threading.Thread(target=self._read, args=(s, l), daemon=True)
                         for s, l in ((self.p.stdout, self.out), (self.p.stderr, self.err))]
        for t in self._threads:
            t.start()

    @staticmethod
    def _read(stream, lines):
        for line in stream:
            lines.append(line.rstrip("\n"))

    def _wait(self, done, what, timeout):
        """Wait for done(); fail early, with the exit code, if the process ends first. The
        message is made when it fails, so it shows the lines that had come by then."""
        def ready():
            if done():
                return True
            if self.p.poll() is not None:
                time.sleep(0.1)  # let the reader threads take the last lines
                if not done():
                    raise RuntimeError(f"{self.args[1]} exited {self.p.returncode} before "
                                       f"{what()}")
            return False
        iptest.eventually(ready, timeout, what=what)

    def wait_err(self, text, timeout=iptest.TIMEOUT):
        """Wait for a stderr line containing text; fail early if the process ends."""
        self._wait(lambda: any(text in l for l in self.err),
                   lambda: f"stderr line '{text}' (err {self.err})", timeout)

    def wait_out(self, n, timeout=iptest.TIMEOUT):
        """Wait until n stdout lines arrived; return them. Fails early if the process ends."""
        self._wait(lambda: len(self.out) >= n,
                   lambda: f"{n} lines from {self.args[1]} (have {self.out}, err {self.err})",
                   timeout)
        return list(self.out)

    def finish(self, timeout=iptest.TIMEOUT):
        """Wait for the exit; return (code, stdout lines, stderr lines)."""
        try:
            self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            iptest.stop(self.p)
            raise TimeoutError(f"{self.args} did not exit; err {self.err}")
        for t in self._threads:
            t.join(2)
        return self.p.returncode, list(self.out), list(self.err)

    def stop(self):
        iptest.stop(self.p)
        for t in self._threads:
            t.join(2)


def sub(port, *args):
    """Start `iotplot sub` and return once its subscriptions are acknowledged."""
    p = Proc([BIN, "sub", "-h", iptest.HOST, "-p", str(port), "-d", *args])
    try:
        if "-t" in args:
            p.wait_err("subscribed to")
    except Exception:
        p.stop()
        raise
    return p


def pub(port, *args, input=None, timeout=iptest.TIMEOUT):
    """Run `iotplot pub` to completion."""
    return iptest.run([BIN, "pub", "-h", iptest.HOST, "-p", str(port), *args],
                      input=input, timeout=timeout)


def expect_ok(r, what):
    if r.returncode != 0:
        raise AssertionError(f"{what}: exit {r.returncode}, stderr {r.stderr.strip()!r}")


class Paho:
    """A paho client (1.6 API) that records every message it receives."""

    def __init__(self, port, version="mqttv311", client_id="", **tls):
        self.msgs = queue.Queue()
        self.version = VERSIONS[version]
        self.connected = threading.Event()
        kw = {"protocol": self.version}
        if self.version != mqtt.MQTTv5:
            kw["clean_session"] = True
        self.c = mqtt.Client(client_id=client_id, **kw)
        self.c.on_message = lambda c, u, m: self.msgs.put(m)
        self.c.on_connect = lambda *a: self.connected.set()
        if tls:
            self.c.tls_set(**tls)
        self.c.connect(iptest.HOST, port, keepalive=30)
        self.c.loop_start()
        if not self.connected.wait(iptest.TIMEOUT):
            raise TimeoutError("paho: no CONNACK")

    def subscribe(self, topic, qos=0):
        done = threading.Event()
        self.c.on_subscribe = lambda *a: done.set()
        self.c.subscribe(topic, qos)
        if not done.wait(iptest.TIMEOUT):
            raise TimeoutError("paho: no SUBACK")

    def publish(self, topic, payload, qos=0, retain=False, properties=None):
        info = self.c.publish(topic, payload, qos, retain, properties=properties)
        info.wait_for_publish(iptest.TIMEOUT)
        if not info.is_published():
            raise TimeoutError("paho: publish not acknowledged")

    def get(self, timeout=iptest.TIMEOUT):
        try:
            return self.msgs.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError("paho: no message") from None

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


def make_pki(d):
    """A CA, a server certificate for 127.0.0.1/localhost, one for another name only, a
    client certificate, and an unrelated second CA. Returns a dict of file paths."""
    f = {k: os.path.join(d, k) for k in
         ("ca.key", "ca.pem", "other.key", "other.pem", "server.key", "server.csr", "server.pem",
          "client.key", "client.csr", "client.pem", "ext.cnf", "elsewhere.key", "elsewhere.csr",
          "elsewhere.pem", "elsewhere.cnf")}

    def ossl(*a):
        r = subprocess.run(["openssl", *a], capture_output=True, text=True, timeout=30)
        if r.returncode:
            raise RuntimeError(f"openssl {a[0]}: {r.stderr}")

    for ca, cn in (("ca", "iotplot test CA"), ("other", "some other CA")):
        ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={cn}",
             "-keyout", f[f"{ca}.key"], "-out", f[f"{ca}.pem"])
    with open(f["ext.cnf"], "w") as e:
        e.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    with open(f["elsewhere.cnf"], "w") as e:
        e.write("subjectAltName=DNS:elsewhere.example\n")
    for who, cn in (("server", "localhost"), ("client", "iotplot-client"),
                    ("elsewhere", "elsewhere.example")):
        ossl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={cn}",
             "-keyout", f[f"{who}.key"], "-out", f[f"{who}.csr"])
        ext = {"server": ["-extfile", f["ext.cnf"]],
               "elsewhere": ["-extfile", f["elsewhere.cnf"]]}.get(who, [])
        ossl("x509", "-req", "-in", f[f"{who}.csr"], "-CA", f["ca.pem"], "-CAkey", f["ca.key"],
             "-CAcreateserial", "-days", "2", "-out", f[f"{who}.pem"], *ext)
    return f
