"""A tiny raw-socket fake server that answers with malformed or hostile packets. The
client (through `iotplot sub` and `iotplot pub`) must fail with a clear one-line error,
in bounded time, and never crash or hang."""
import socket
import threading

import iptest
from clienttest import BIN

CONNACK_OK = bytes([0x20, 0x02, 0x00, 0x00])
CONNACK_OK_V5 = bytes([0x20, 0x03, 0x00, 0x00, 0x00])


def read_packet(conn):
    """One whole MQTT packet from the client (the test's own minimal framing)."""
    def exact(n):
        buf = b""
        while len(buf) < n:
            chunk = conn.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf
    first = exact(1)
    length, mult = 0, 1
    for _ in range(4):
        b = exact(1)[0]
        length += (b & 0x7F) * mult
        mult *= 128
        if not b & 0x80:
            break
    exact(length)
    return first[0] >> 4


class FakeServer:
    """Serves every connection with the same script: ('recv',) waits for a packet,
    ('send', bytes) writes, ('close',) hangs up; after the script it just reads."""

    def __init__(self, script):
        self.script = script
        self.sock = socket.socket()
        self.sock.bind((iptest.HOST, 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.done.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self.session, args=(conn,), daemon=True).start()

    def session(self, conn):
        conn.settimeout(iptest.TIMEOUT * 2)
        try:
            with conn:
                for step in self.script:
                    if step[0] == "recv":
                        read_packet(conn)
                    elif step[0] == "send":
                        conn.sendall(step[1])
                    elif step[0] == "close":
                        return
                while conn.recv(4096):
                    pass
        except (OSError, EOFError):
            pass

    def close(self):
        self.done.set()
        self.thread.join(2)
        self.sock.close()


AFTER_SUB = [("recv",), ("send", CONNACK_OK), ("recv",), ("send", bytes([0x90, 0x03, 0, 1, 0]))]

CASES = [
    # name, script, command extra args, words expected in the error line
    ("close before CONNACK", [("recv",), ("close",)], [], ["closed"]),
    ("reserved packet type 0", [("recv",), ("send", bytes([0x00, 0x00]))], [], ["reserved packet type"]),
    ("CONNACK too short", [("recv",), ("send", bytes([0x20, 0x01, 0x00]))], [], ["past the end"]),
    ("CONNACK with reserved flags", [("recv",), ("send", bytes([0x21, 0x02, 0, 0]))], [], ["flags"]),
    ("five-byte length", [("recv",), ("send", bytes([0x20, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]))], [],
     ["variable byte integer"]),
    ("SUBACK before CONNACK", [("recv",), ("send", bytes([0x90, 0x03, 0, 1, 0]))], [], ["protocol"]),
    ("half a CONNACK then close", [("recv",), ("send", bytes([0x20, 0x02, 0x00])), ("close",)], [],
     ["closed"]),
    ("CONNACK twice", [("recv",), ("send", CONNACK_OK), ("recv",), ("send", CONNACK_OK)], [],
     ["protocol"]),
    ("bad return code", [("recv",), ("send", bytes([0x20, 0x02, 0x00, 0x09]))], [], ["reason code"]),
    ("5.0 CONNACK with unknown property", [("recv",), ("send", bytes([0x20, 0x05, 0, 0, 2, 0x7F, 0]))],
     ["-V", "mqttv5"], ["property"]),
    ("PUBLISH topic not UTF-8", AFTER_SUB + [("send", bytes([0x30, 0x05, 0x00, 0x02, 0xC0, 0xAF, 0x78]))],
     [], ["UTF-8"]),
    ("PUBLISH QoS 3", AFTER_SUB + [("send", bytes([0x36, 0x05, 0x00, 0x01, 0x78, 0x00, 0x01]))], [],
     ["QoS"]),
    ("PUBLISH QoS 1 packet id 0", AFTER_SUB + [("send", bytes([0x32, 0x05, 0x00, 0x01, 0x78, 0x00, 0x00]))],
     [], ["packet identifier"]),
    ("PUBLISH larger than the receive buffer", AFTER_SUB + [("send", bytes([0x30, 0xFF, 0xFF, 0xFF, 0x7F]))],
     [], ["larger"]),
    ("PUBLISH length past its topic", AFTER_SUB + [("send", bytes([0x30, 0x03, 0x00, 0x09, 0x78]))], [],
     ["past the end"]),
    ("5.0 topic alias never set", AFTER_SUB[:1] + [("send", CONNACK_OK_V5), ("recv",),
                                                   ("send", bytes([0x90, 0x04, 0, 1, 0, 0])),
                                                   ("send", bytes([0x30, 0x06, 0, 0, 3, 0x23, 0, 5]))],
     ["-V", "mqttv5"], ["protocol"]),
]


def case(script, extra, words):
    srv = FakeServer(script)
    try:
        r = iptest.run([BIN, "sub", "-h", iptest.HOST, "-p", str(srv.port), "-t", "x", "-k", "5",
                        *extra], timeout=30)
    finally:
        srv.close()
    err = r.stderr.strip()
    if r.returncode in (0, -11, -6) or r.returncode < 0:
        raise AssertionError(f"exit {r.returncode}, stderr {err!r}")
    if len(err.splitlines()) != 1 or not all(w.lower() in err.lower() for w in words):
        raise AssertionError(f"want one line with {words}, got {err!r}")


def silent_server():
    """A server that accepts and never answers: the connect times out."""
    srv = FakeServer([("recv",)])
    try:
        r = iptest.run([BIN, "pub", "-h", iptest.HOST, "-p", str(srv.port), "-t", "x", "-m", "y"],
                       timeout=40)
    finally:
        srv.close()
    if r.returncode == 0 or "timed out" not in r.stderr:
        raise AssertionError(f"exit {r.returncode}, stderr {r.stderr!r}")


def pub_never_acked():
    """A PUBACK and a PUBREC for ids never sent are ignored (the PUBREC answered); when the
    server then hangs up, the publisher reports it."""
    srv = FakeServer([("recv",), ("send", CONNACK_OK), ("recv",),
                      ("send", bytes([0x40, 0x02, 0x12, 0x34])),
                      ("send", bytes([0x50, 0x02, 0x43, 0x21])), ("recv",), ("close",)])
    try:
        r = iptest.run([BIN, "pub", "-h", iptest.HOST, "-p", str(srv.port), "-t", "x", "-m", "y",
                        "-q", "1"], timeout=30)
    finally:
        srv.close()
    if r.returncode == 0 or "closed" not in r.stderr:
        raise AssertionError(f"exit {r.returncode}, stderr {r.stderr!r}")


def main():
    res = iptest.Results()
    for name, script, extra, words in CASES:
        res.check(name, case, script, extra, words)
    res.check("silent server: connect timeout", silent_server)
    res.check("stray acknowledgements, then close", pub_never_acked)
    res.finish()


if __name__ == "__main__":
    main()
