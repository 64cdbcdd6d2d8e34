"""16: fairness between connections: one client's long pipelined burst does not keep
another client's packets waiting until the whole burst is handled. The broker is stopped
(SIGSTOP) while the flooder's burst fills the socket buffers, so when it runs again the
whole burst is there to be read at once (a unix socket: the kernel queues all of it at
the reader, where loopback TCP would hand it over window by window). A subscriber of the
flood sends PINGREQ after the burst, while the broker is still stopped; its PINGRESP comes
on the same stream as the burst's messages, so where it comes says how much of the burst
the broker handled before it read the subscriber: not all of it (the broker reads a share
of each readable socket per loop turn). Nothing of the burst is lost or reordered."""
import os
import signal
import socket
import threading

from wire import *

PAYLOAD = 64
BURST = 3 << 19  # bytes of pipelined PUBLISH packets written in one go


class UnixClient(Client):
    def __init__(self, path, timeout=iptest.TIMEOUT):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.timeout = timeout


def on_unix(b, path, cid):
    c = UnixClient(path)
    b.clients.append(c)
    return c.send(connect(cid)).expect(our_connack())


def burst_packets():
    pkts = []
    total = 0
    i = 0
    while total < BURST:
        p = publish("flood", f"{i:08d}".encode().ljust(PAYLOAD, b"x"))
        pkts.append(p)
        total += len(p)
        i += 1
    return pkts


def ping_answered_mid_burst():
    with iptest.tempdir() as d, Broker(f"listener 0 {d}/mqtt.sock\n") as b:
        dev = on_unix(b, f"{d}/mqtt.sock", "device")
        dev.send(subscribe(1, [("flood", 0)])).expect(suback(1, [0]))
        fl = on_unix(b, f"{d}/mqtt.sock", "flooder")
        fl.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        pkts = burst_packets()
        data = b"".join(pkts)
        os.kill(b.proc.pid, signal.SIGSTOP)
        try:
            # As much of the burst as the kernel holds while the broker does not read.
            fl.sock.setblocking(False)
            sent = 0
            while sent < len(data):
                try:
                    sent += fl.sock.send(data[sent:])
                except BlockingIOError:
                    break
            fl.sock.setblocking(True)
            fl.sock.settimeout(fl.timeout)
            dev.send(PINGREQ)
        finally:
            os.kill(b.proc.pid, signal.SIGCONT)
        if sent < len(data) // 2:
            raise AssertionError(f"the kernel held {sent} bytes of the {len(data)}-byte burst")
        # The rest (if any) follows while the broker works; one stream, so order holds.
        rest = threading.Thread(target=fl.sock.sendall, args=(data[sent:],), daemon=True)
        rest.start()
        got, pong_at = 0, None
        while got < len(pkts):
            p = dev.read_packet()
            if p == PINGRESP:
                pong_at = got
                continue
            if p != pkts[got]:
                raise AssertionError(f"message {got} of the burst: got {p[:20].hex()}...")
            got += 1
        rest.join(iptest.TIMEOUT)
        if pong_at is None:
            dev.expect(PINGRESP, "PINGRESP after the burst")
            raise AssertionError("PINGRESP came only after the burst's last message")
        print(f"PINGRESP after {pong_at} of {len(pkts)} messages of the burst", flush=True)
        fl.sync()
        dev.sync()


run([("ping_answered_mid_burst", ping_answered_mid_burst)])
