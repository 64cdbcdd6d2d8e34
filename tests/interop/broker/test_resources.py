"""Resources: 10,000 concurrent idle clients; a subscriber that never reads stays within
its cap and does not hold up the others. Memory is measured, never time."""
import os
import resource
import selectors
import socket
import sys

sys.path.insert(0, os.path.join(os.environ["IOTPLOT_SRC"], "tests", "wire", "broker"))
import iptest  # noqa: E402
from iptest import expect_eq  # noqa: E402
from wire import (V311, Broker, connect, connack, PINGREQ, PINGRESP, publish,  # noqa: E402
                  puback, subscribe, suback)

N_IDLE = int(os.environ.get("IPTEST_IDLE_CLIENTS", "10000"))


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def sanitized(pid):
    with open(f"/proc/{pid}/maps") as f:
        return "asan" in f.read()


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, n))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


def open_all(port, n):
    """n connections, each CONNECTed and acknowledged; pipelined through a selector."""
    sel = selectors.DefaultSelector()
    socks = []
    want = connack()
    pending = {}
    for i in range(n):
        s = socket.create_connection((iptest.HOST, port), iptest.TIMEOUT)
        s.sendall(connect(f"idle-{i}", V311, ka=600))
        s.setblocking(False)
        socks.append(s)
        pending[s] = b""
        sel.register(s, selectors.EVENT_READ)
        if len(pending) > 500:
            drain(sel, pending, want, 400)
    drain(sel, pending, want, 0)
    sel.close()
    return socks


def drain(sel, pending, want, until):
    while len(pending) > until:
        events = sel.select(iptest.TIMEOUT)
        if not events:
            raise TimeoutError(f"{len(pending)} CONNACKs missing")
        for key, _ in events:
            s = key.fileobj
            pending[s] += s.recv(16)
            if len(pending[s]) >= len(want):
                expect_eq(pending[s], want, "CONNACK")
                sel.unregister(s)
                del pending[s]


def many_idle_clients():
    n = min(N_IDLE, raise_nofile(N_IDLE + 200) - 100)
    with Broker("max_connections -1\nsys_interval 0\n") as b:
        base = rss(b.proc.pid)
        socks = open_all(b.port, n)
        full = rss(b.proc.pid)
        per = (full - base) / n
        print(f"{n} idle clients: broker RSS {base >> 10} KiB -> {full >> 10} KiB, "
              f"{per:.0f} bytes per connection", flush=True)
        if not sanitized(b.proc.pid) and per > 4096:
            raise AssertionError(f"{per:.0f} bytes per idle connection")
        for s in socks[:: max(1, n // 100)]:  # a sample must still answer
            s.setblocking(True)
            s.sendall(PINGREQ)
            expect_eq(s.recv(2), PINGRESP, "PINGRESP")
        for s in socks:
            s.close()
        c = b.connect("after")
        c.sync()


def slow_subscriber():
    cap = 1 << 20
    with Broker(f"max_outgoing_bytes {cap}\nsys_interval 0\n") as b:
        slow = socket.create_connection((iptest.HOST, b.port), iptest.TIMEOUT)
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.sendall(connect("slow") + subscribe(1, [("s/#", 0)]))
        fast = b.connect("fast")
        fast.send(subscribe(1, [("s/#", 0)])).expect(suback(1, [0]))
        pub = b.connect("pub")
        base = rss(b.proc.pid)
        payload = b"x" * 1000
        n = 20000
        got = 0
        batch = publish("s/t", payload) * 100
        want = len(publish("s/t", payload))
        for i in range(n // 100):
            pub.send(batch)
            # The fast subscriber keeps up: read what it has been sent so far.
            while got < (i + 1) * 100 - 200 and got < n:
                fast.recv_exact(want)
                got += 1
        pub.send(publish("s/end", "", 1, pid=1)).expect(puback(1))
        while got < n:
            fast.recv_exact(want)
            got += 1
        grown = rss(b.proc.pid) - base
        print(f"slow subscriber: {n} x 1000 B published, broker grew {grown >> 10} KiB "
              f"(cap {cap >> 10} KiB)", flush=True)
        if not sanitized(b.proc.pid) and grown > 8 * cap:
            raise AssertionError(f"broker grew {grown} bytes with a cap of {cap}")
        fast.expect(publish("s/end", "")).sync()
        slow.close()


r = iptest.Results()
r.check("many_idle_clients", many_idle_clients)
r.check("slow_subscriber", slow_subscriber)
r.finish()
