"""Byte-exact wire tests of `iotplot broker`: packet builders and a raw socket client.

The builders write MQTT bytes by hand from the specification so that a test states
exactly what goes on the wire; they are deliberately independent of the codec under test.
Every wait is bounded; the broker is stopped (and must exit cleanly) when a test ends.
"""
import contextlib
import os
import re
import socket
import struct
import subprocess
import time

import iptest
from iptest import eventually, expect_eq  # noqa: F401 (for the tests)

V31, V311, V5 = 3, 4, 5

# Property id -> type, as section 2.2.2.2 of MQTT 5.0 defines them.
_PTYPE = {
    0x01: "b", 0x02: "i", 0x03: "s", 0x08: "s", 0x09: "d", 0x0B: "v", 0x11: "i", 0x12: "s",
    0x13: "h", 0x15: "s", 0x16: "d", 0x17: "b", 0x18: "i", 0x19: "b", 0x1A: "s", 0x1C: "s",
    0x1F: "s", 0x21: "h", 0x22: "h", 0x23: "h", 0x24: "b", 0x25: "b", 0x26: "p", 0x27: "i",
    0x28: "b", 0x29: "b", 0x2A: "b",
}


def vbi(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def s(x):
    if isinstance(x, str):
        x = x.encode()
    return struct.pack(">H", len(x)) + x


def props(plist):
    """plist: list of (id, value); user property value is (key, value)."""
    if plist is None:
        return b""
    body = bytearray()
    for pid, val in plist:
        body += vbi(pid)
        t = _PTYPE[pid]
        if t == "b":
            body.append(val)
        elif t == "h":
            body += struct.pack(">H", val)
        elif t == "i":
            body += struct.pack(">I", val)
        elif t == "v":
            body += vbi(val)
        elif t in "sd":
            body += s(val)
        elif t == "p":
            body += s(val[0]) + s(val[1])
    return vbi(len(body)) + bytes(body)


def pkt(first, body):
    return bytes([first]) + vbi(len(body)) + body


def connect(cid="", v=V311, clean=True, ka=60, will=None, user=None, pw=None, p=None):
    """will: dict(topic, payload, qos=0, retain=False, props=None)."""
    name = b"MQIsdp" if v == V31 else b"MQTT"
    flags = (0x02 if clean else 0)
    if will:
        flags |= 0x04 | (will.get("qos", 0) << 3) | (0x20 if will.get("retain") else 0)
    if user is not None:
        flags |= 0x80
    if pw is not None:
        flags |= 0x40
    body = s(name) + bytes([v, flags]) + struct.pack(">H", ka)
    if v == V5:
        body += props(p or [])
    body += s(cid)
    if will:
        if v == V5:
            body += props(will.get("props") or [])
        body += s(will["topic"]) + s(will["payload"])
    if user is not None:
        body += s(user)
    if pw is not None:
        body += s(pw)
    return pkt(0x10, body)


def connack(sp=False, rc=0, v=V311, p=None):
    body = bytes([1 if sp else 0, rc])
    if v == V5:
        body += props(p or [])
    return pkt(0x20, body)


DEFAULT_MAX_PACKET = 16 << 20  # the broker's max_packet_size unless configured


def our_connack(v=V311, sp=False, assigned=None, ka=None, maxpkt=DEFAULT_MAX_PACKET, rm=20,
                alias=10, retain=1, maxqos=None):
    """The CONNACK our broker sends on success, with its 5.0 properties in its order."""
    if v != V5:
        return connack(sp, 0, v)
    p = [(0x21, rm), (0x22, alias), (0x25, retain)]
    if maxqos is not None:
        p.append((0x24, maxqos))
    if maxpkt:
        p.append((0x27, maxpkt))
    p += [(0x28, 1), (0x29, 1), (0x2A, 1)]
    if assigned:
        p.append((0x12, assigned))
    if ka is not None:
        p.append((0x13, ka))
    return connack(sp, 0, V5, p)


def publish(topic, payload=b"", qos=0, retain=False, dup=False, pid=None, v=V311, p=None):
    if isinstance(payload, str):
        payload = payload.encode()
    first = 0x30 | (0x08 if dup else 0) | (qos << 1) | (1 if retain else 0)
    body = s(topic)
    if qos:
        body += struct.pack(">H", pid)
    if v == V5:
        body += props(p or [])
    return pkt(first, body + payload)


def _ack(first, pid, rc, v, p):
    body = struct.pack(">H", pid)
    if v == V5 and (rc or p):
        body += bytes([rc])
        if p:
            body += props(p)
    return pkt(first, body)


def puback(pid, rc=0, v=V311, p=None):
    return _ack(0x40, pid, rc, v, p)


def pubrec(pid, rc=0, v=V311, p=None):
    return _ack(0x50, pid, rc, v, p)


def pubrel(pid, rc=0, v=V311, p=None):
    return _ack(0x62, pid, rc, v, p)


def pubcomp(pid, rc=0, v=V311, p=None):
    return _ack(0x70, pid, rc, v, p)


def subscribe(pid, subs, v=V311, p=None):
    """subs: list of (filter, options byte)."""
    body = struct.pack(">H", pid)
    if v == V5:
        body += props(p or [])
    for f, o in subs:
        body += s(f) + bytes([o])
    return pkt(0x82, body)


def suback(pid, codes, v=V311, p=None):
    body = struct.pack(">H", pid)
    if v == V5:
        body += props(p or [])
    return pkt(0x90, body + bytes(codes))


def unsubscribe(pid, filters, v=V311, p=None):
    body = struct.pack(">H", pid)
    if v == V5:
        body += props(p or [])
    for f in filters:
        body += s(f)
    return pkt(0xA2, body)


def unsuback(pid, codes=(), v=V311, p=None):
    body = struct.pack(">H", pid)
    if v == V5:
        body += props(p or []) + bytes(codes)
    return pkt(0xB0, body)


def disconnect(rc=None, v=V311, p=None):
    if v != V5 or (rc is None and not p):
        return b"\xe0\x00"
    body = bytes([rc or 0])
    if p:
        body += props(p)
    return pkt(0xE0, body)


def server_disconnect(rc, reason=None):
    """A DISCONNECT from our broker: reason string on errors."""
    return disconnect(rc, V5, [(0x1F, reason)] if reason else None)


PINGREQ = b"\xc0\x00"
PINGRESP = b"\xd0\x00"


class Client:
    """A raw MQTT connection: send bytes, expect exact bytes back."""

    def __init__(self, port, timeout=iptest.TIMEOUT):
        self.sock = socket.create_connection((iptest.HOST, port), timeout)
        self.sock.settimeout(timeout)
        self.timeout = timeout

    def send(self, data):
        self.sock.sendall(data)
        return self

    def recv_exact(self, n):
        buf = b""
        deadline = time.monotonic() + self.timeout
        while len(buf) < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"got {buf.hex()} of {n} bytes")
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError(f"closed after {buf.hex()!r}, wanted {n} bytes")
            buf += chunk
        return buf

    def expect(self, want, what="packet"):
        got = self.recv_exact(len(want))
        if got != want:
            # Read what else is there, to print the whole story.
            self.sock.settimeout(0.2)
            with contextlib.suppress(OSError):
                got += self.sock.recv(4096)
            self.sock.settimeout(self.timeout)
            raise AssertionError(f"{what}: got {got.hex()}, want {want.hex()}")
        return self

    def read_packet(self):
        first = self.recv_exact(1)
        mult, n = 1, 0
        hdr = first
        while True:
            b = self.recv_exact(1)
            hdr += b
            n += (b[0] & 0x7F) * mult
            mult *= 128
            if not b[0] & 0x80:
                break
        return hdr + self.recv_exact(n)

    def expect_closed(self, what="connection"):
        """The broker closes the connection (EOF or reset) within the timeout."""
        try:
            data = self.sock.recv(4096)
        except ConnectionResetError:
            return self
        if data:
            raise AssertionError(f"{what}: expected close, got {data.hex()}")
        return self

    def expect_eof(self, what="connection"):
        """The broker ends the stream cleanly: EOF, not a reset, and nothing more."""
        data = self.sock.recv(4096)
        if data:
            raise AssertionError(f"{what}: expected the end of the stream, got {data.hex()}")
        return self

    def sync(self):
        """PINGREQ must be answered by PINGRESP with nothing before it."""
        self.send(PINGREQ)
        return self.expect(PINGRESP, "nothing else pending, then PINGRESP")

    def close(self):
        with contextlib.suppress(OSError):
            self.sock.close()


class Broker:
    """`iotplot broker` on a free port with extra config lines; must exit cleanly."""

    def __init__(self, extra="", anonymous=True):
        self.extra = extra
        self.anonymous = anonymous
        self.clients = []

    def __enter__(self):
        self.stack = contextlib.ExitStack()
        d = self.stack.enter_context(iptest.tempdir())
        self.dir = d
        conf = os.path.join(d, "broker.conf")
        with open(conf, "w") as f:
            # Port 0 everywhere: the kernel picks, so tests running side by side (and their
            # thousands of client sockets) can never take a port from under the broker.
            f.write("listener 0 127.0.0.1\n")
            if self.anonymous:
                f.write("allow_anonymous true\n")
            f.write("log_type all\n")
            f.write(self.extra)
        self.logpath = os.path.join(d, "broker.log")
        self.log = open(self.logpath, "w")
        self.proc = subprocess.Popen([iptest.binary(), "broker", "-c", conf], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.ports = iptest.eventually(self._listening, what="the broker's listeners")
        self.port = self.ports[0]
        return self

    def _listening(self):
        """The ports of every listener, in configuration order, once the broker runs
        (read from its log: stdout, or the file `log_dest file` names)."""
        if self.proc.poll() is not None:
            raise RuntimeError(f"broker exited with {self.proc.returncode}:\n{self.logtext()}")
        m = re.search(r"^log_dest file (\S+)", self.extra, re.M)
        text = self.logtext()
        if m and os.path.exists(m.group(1)):
            with open(m.group(1)) as f:
                text += f.read()
        if "broker running" not in text:
            return None
        return [int(line.rsplit(" ", 1)[1].rstrip(".")) for line in text.splitlines()
                if "listen socket on port" in line]

    def client(self, timeout=iptest.TIMEOUT):
        c = Client(self.port, timeout)
        self.clients.append(c)
        return c

    def connect(self, cid, v=V311, clean=True, ka=60, **kw):
        """A client connected and acknowledged with our usual CONNACK."""
        c = self.client()
        c.send(connect(cid, v, clean, ka, **kw))
        c.expect(our_connack(v), "CONNACK")
        return c

    def wait_log(self, text):
        """Wait until the broker has logged text (e.g. that it saw a socket close)."""
        return eventually(lambda: text in self.logtext(), what=f"log line {text!r}")

    def logtext(self):
        self.log.flush()
        with open(self.logpath) as f:
            return f.read()

    def __exit__(self, *exc):
        for c in self.clients:
            c.close()
        rc = iptest.stop(self.proc)
        self.log.close()
        text = open(self.logpath).read()
        self.stack.close()
        if exc[0] is None:
            if rc != 0:
                raise AssertionError(f"broker exited with {rc}:\n{text[-3000:]}")
            for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
                if bad in text:
                    raise AssertionError(f"sanitizer report:\n{text[-3000:]}")
        return False


def run(checks):
    """Run named checks, each a function taking a fresh Broker-less context."""
    r = iptest.Results()
    for name, fn in checks:
        r.check(name, fn)
    r.finish()
