"""MQTT over WebSockets and the console's HTTP on `iotplot broker` listeners with
`protocol websockets`: MQTT.js over ws:// and wss://, and raw frames and requests that
must be handled exactly (fragmented, several packets per frame, a packet split across
frames, ping, close, unmasked, text, oversized control frames, bad upgrades, paths)."""
import base64
import os
import socket
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ["IOTPLOT_SRC"], "tests", "wire", "broker"))
sys.path.insert(0, os.path.join(os.environ["IOTPLOT_SRC"], "tests", "interop", "security"))
import iptest  # noqa: E402
from iptest import expect_eq  # noqa: E402
from sectest import pki  # noqa: E402
from wire import V5, V311, Broker, connect, our_connack, publish, subscribe, suback  # noqa: E402

SRC = os.environ["IOTPLOT_SRC"]
MODULES = os.path.join(SRC, "tests", "node", "node_modules")
KEY = base64.b64encode(b"0123456789abcdef").decode()


def ws_listener(extra=""):
    """A WebSocket listener on a port the kernel picks (see Broker.ports)."""
    return f"listener 0 127.0.0.1\nprotocol websockets\n{extra}"


def http(port, request):
    """Send raw request bytes; return the whole response (the server closes after it)."""
    with socket.create_connection((iptest.HOST, port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk


def upgrade_request(path="/mqtt", proto="mqtt", version="13", extra=""):
    return (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\n"
            f"Sec-WebSocket-Version: {version}\r\n"
            + (f"Sec-WebSocket-Protocol: {proto}\r\n" if proto else "") + extra + "\r\n").encode()


def frame(payload, op=2, fin=True, mask=True):
    head = bytes([(0x80 if fin else 0) | op])
    n = len(payload)
    m = 0x80 if mask else 0
    if n < 126:
        head += bytes([m | n])
    elif n < 65536:
        head += bytes([m | 126]) + struct.pack(">H", n)
    else:
        head += bytes([m | 127]) + struct.pack(">Q", n)
    if not mask:
        return head + payload
    key = b"\x11\x22\x33\x44"
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class WsClient:
    """A raw WebSocket client: upgrade, then frames; reads server frames (unmasked)."""

    def __init__(self, port, proto="mqtt"):
        self.s = socket.create_connection((iptest.HOST, port), timeout=10)
        self.s.sendall(upgrade_request(proto=proto))
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.s.recv(1)
            if not chunk:
                raise AssertionError(f"closed during upgrade: {head!r}")
            head += chunk
        self.head = head.decode()
        self.buf = b""
        self.controls = []  # control frames met while reading MQTT bytes
        self.stream = b""   # MQTT bytes received but not asked for yet

    def send(self, data):
        self.s.sendall(data)

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise AssertionError("connection closed")
            self.buf += chunk

    def frame(self):
        self._need(2)
        b0, b1 = self.buf[0], self.buf[1]
        if b1 & 0x80:
            raise AssertionError("the server masked a frame")
        n, off = b1 & 0x7F, 2
        if n == 126:
            self._need(4)
            n, off = struct.unpack(">H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, off = struct.unpack(">Q", self.buf[2:10])[0], 10
        self._need(off + n)
        payload, self.buf = self.buf[off:off + n], self.buf[off + n:]
        return b0 & 0x0F, payload

    def mqtt_bytes(self, n):
        """n bytes of MQTT, however the server framed them."""
        while len(self.stream) < n:
            op, p = self.frame()
            if op >= 8:  # a control frame may come between data frames
                self.controls.append((op, p))
                continue
            expect_eq(op in (0, 2), True, f"binary frame (got opcode {op})")
            self.stream += p
        got, self.stream = self.stream[:n], self.stream[n:]
        return got

    def control(self):
        """The next control frame, met earlier or read now."""
        return self.controls.pop(0) if self.controls else self.frame()

    def closed(self):
        self.s.settimeout(5)
        try:
            while True:
                if not self.s.recv(65536):
                    return True
        except OSError:
            return True

    def close(self):
        self.s.close()


def mqttjs_over_ws_and_wss():
    with pki() as d:
        extra = ws_listener() + ws_listener(f"certfile {d}/server.pem\nkeyfile {d}/server.key\n")
        with Broker(extra) as b:
            p1, p2 = b.ports[1:3]
            env = dict(os.environ, NODE_PATH=MODULES)
            script = os.path.join(os.path.dirname(__file__), "mqttjs_ws.js")
            for args in ([f"ws://127.0.0.1:{p1}/mqtt"], [f"wss://localhost:{p2}/", f"{d}/ca.pem"]):
                r = subprocess.run(["node", script, *args], env=env, capture_output=True,
                                   text=True, timeout=60)
                print(r.stdout, end="")
                if r.returncode:
                    raise AssertionError(f"MQTT.js {args[0]}: {r.stdout[-400:]} {r.stderr[-400:]}")


def frames_carry_the_stream():
    with Broker(ws_listener()) as b:
        port = b.ports[1]
        c = WsClient(port)
        if "101 Switching Protocols" not in c.head or "Sec-WebSocket-Protocol: mqtt" not in c.head:
            raise AssertionError(f"bad upgrade answer: {c.head!r}")
        accept = base64.b64encode(__import__("hashlib").sha1(
            (KEY + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        if f"Sec-WebSocket-Accept: {accept}" not in c.head:
            raise AssertionError("wrong Sec-WebSocket-Accept")
        # CONNECT split across two frames, the second a continuation.
        cn = connect("ws1", V311)
        c.send(frame(cn[:5], fin=False) + frame(cn[5:], op=0))
        want = our_connack(V311)
        expect_eq(c.mqtt_bytes(len(want)), want, "CONNACK")
        # SUBSCRIBE and a PUBLISH in one frame, with a ping in between frames.
        sub = subscribe(1, [("w/#", 0)])
        c.send(frame(sub + publish("w/a", b"payload")))
        c.send(frame(b"hi", op=9))
        expect_eq(c.mqtt_bytes(len(suback(1, [0]))), suback(1, [0]), "SUBACK")
        got = c.mqtt_bytes(len(publish("w/a", b"payload")))
        expect_eq(got, publish("w/a", b"payload"), "PUBLISH back")
        expect_eq(c.control(), (10, b"hi"), "PONG echoes the ping")
        # Close handshake: the server echoes the code, then closes.
        c.send(frame(struct.pack(">H", 1000), op=8))
        op, p = c.control()
        expect_eq((op, p), (8, struct.pack(">H", 1000)), "close echoed")
        expect_eq(c.closed(), True, "closed after the close handshake")


def protocol_errors_close_cleanly():
    with Broker(ws_listener()) as b:
        port = b.ports[1]
        for name, data, code in [("unmasked", frame(connect("x"), mask=False), 1002),
                                 ("text", frame(b"hello", op=1), 1003),
                                 ("long ping", frame(b"x" * 126, op=9), 1002),
                                 ("reserved bits", bytes([0xC2]) + frame(b"ab")[1:], 1002)]:
            c = WsClient(port)
            c.send(data)
            op, p = c.frame()
            expect_eq((op, struct.unpack(">H", p[:2])[0]), (8, code), f"{name}: close code")
            expect_eq(c.closed(), True, f"{name}: closed")
        # A malformed MQTT packet inside good frames: that connection only is closed.
        good = WsClient(port)
        good.send(frame(connect("good", V5)))
        good.mqtt_bytes(len(our_connack(V5)))
        bad = WsClient(port)
        bad.send(frame(b"\x10\xff\xff\xff\xff\x7f"))
        expect_eq(bad.closed(), True, "malformed MQTT over ws")
        good.send(frame(b"\xc0\x00"))  # PINGREQ
        expect_eq(good.mqtt_bytes(2), b"\xd0\x00", "the other client is unharmed")
        good.close()


def bad_upgrades_refused():
    with Broker(ws_listener()) as b:
        port = b.ports[1]
        cases = [
            (upgrade_request(version="8"), b"426"),
            (upgrade_request(proto="chat"), b"400"),
            (upgrade_request().replace(b"Sec-WebSocket-Key: " + KEY.encode(), b"Sec-WebSocket-Key: x"), b"400"),
            (b"POST /mqtt HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", b"405"),
            (b"GET / HTTP/1.1\r\n" + b"X: " + b"a" * 9000 + b"\r\n\r\n", b"431"),
            (b"GARBAGE\r\n\r\n", b"400"),
        ]
        for req, status in cases:
            resp = http(port, req)
            if not resp.startswith(b"HTTP/1.1 " + status):
                raise AssertionError(f"{req[:40]!r}: got {resp[:60]!r}, want {status!r}")
        # mqttv3.1 is accepted as the subprotocol too.
        c = WsClient(port, proto="mqttv3.1")
        if "Sec-WebSocket-Protocol: mqttv3.1" not in c.head:
            raise AssertionError(c.head)
        c.close()


def static_files_served_safely():
    with iptest.tempdir() as d:
        www, plots = os.path.join(d, "www"), os.path.join(d, "plots")
        os.makedirs(www)
        os.makedirs(plots)
        with open(os.path.join(www, "index.html"), "w") as f:
            f.write("<h1>own page</h1>")
        os.symlink("/etc", os.path.join(www, "etc"))
        os.makedirs(os.path.join(plots, "s1"))
        with open(os.path.join(plots, "s1", "fig.svg"), "w") as f:
            f.write("<svg/>")
        with Broker(f"plots_dir {plots}\n" + ws_listener(f"http_dir {www}\n") +
                    ws_listener()) as b:
            port, port2 = b.ports[1:3]
            r = http(port, b"GET /plots/s1/fig.svg HTTP/1.1\r\nHost: x\r\n\r\n")
            if not r.startswith(b"HTTP/1.1 200") or b"image/svg+xml" not in r or not r.endswith(b"<svg/>"):
                raise AssertionError(f"plot file: {r[:200]!r}")
            if b"sandbox" not in r:
                raise AssertionError("a plot file may run scripts")
            r = http(port, b"GET /plots/../www/index.html HTTP/1.1\r\nHost: x\r\n\r\n")
            if r.startswith(b"HTTP/1.1 200"):
                raise AssertionError("climbed out of the plots folder")
            r = http(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            if not r.startswith(b"HTTP/1.1 200") or b"text/html" not in r or not r.endswith(b"<h1>own page</h1>"):
                raise AssertionError(r[:300])
            for path in (b"/../etc/passwd", b"/%2e%2e/etc/passwd", b"/etc/passwd", b"/nothing"):
                r = http(port, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
                if r.startswith(b"HTTP/1.1 200") or b"root:" in r:
                    raise AssertionError(f"{path!r} was served: {r[:200]!r}")
            # A file larger than the socket takes at once, to a reader that starts late:
            # the answer must arrive whole although the broker closes right after it.
            big = bytes(range(256)) * (24 * 4096)  # 24 MiB
            with open(os.path.join(www, "big.bin"), "wb") as f:
                f.write(big)
            with socket.create_connection((iptest.HOST, port), timeout=30) as s:
                s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
                import time
                time.sleep(1)
                data = b""
                while chunk := s.recv(1 << 20):
                    data += chunk
            expect_eq(data.endswith(big) and len(data) - len(big) < 400, True,
                      f"the whole 24 MiB body ({len(data)} bytes received)")
            r = http(port, b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
            if not r.startswith(b"HTTP/1.1 200") or r.endswith(b"</h1>"):
                raise AssertionError(f"HEAD: {r!r}")
            # Without http_dir: the built-in console.
            r = http(port2, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            if not r.startswith(b"HTTP/1.1 200") or b"<html" not in r.lower():
                raise AssertionError(f"built-in console: {r[:200]!r}")
            if b"Content-Security-Policy: default-src 'self'" not in r:
                raise AssertionError("the console is served without its CSP")
            r = http(port2, b"GET /vendor/mqtt.esm.js HTTP/1.1\r\nHost: x\r\n\r\n")
            if not r.startswith(b"HTTP/1.1 200") or b"text/javascript" not in r:
                raise AssertionError(f"console script: {r[:200]!r}")


if not os.path.isdir(os.path.join(MODULES, "mqtt")):
    sys.exit("MQTT.js is missing: run scripts/deps.sh test (npm ci in tests/node)")
results = iptest.Results()
results.check("MQTT.js over ws:// and wss://", mqttjs_over_ws_and_wss)
results.check("fragments, packets split and joined across frames, ping, close", frames_carry_the_stream)
results.check("protocol errors close that connection with the right code", protocol_errors_close_cleanly)
results.check("bad upgrade requests get 400/405/426/431", bad_upgrades_refused)
results.check("http_dir, the built-in console, HEAD and traversal attempts", static_files_served_safely)
results.finish()
