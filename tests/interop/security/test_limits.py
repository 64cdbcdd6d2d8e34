"""Limits against abuse on `iotplot broker`, byte-exact: topic length and levels on
PUBLISH and SUBSCRIBE, the memory ceiling (5.0 PUBACK 0x97, 3.1.1 acknowledged and
dropped), and max_connections (a dropped client's slot freed at once); the broker keeps
serving everyone else."""
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.environ["IOTPLOT_SRC"], "tests", "wire", "broker"))
import iptest  # noqa: E402
from wire import (V5, V311, Broker, connect, our_connack, puback, publish,  # noqa: E402
                  subscribe, suback)


def topic_length_and_levels():
    with Broker("max_topic_length 16\nmax_topic_levels 3\n") as b:
        c = b.connect("lim", V5)
        c.send(subscribe(1, [("a/b/c", 1), ("a/b/c/d", 1), ("x" * 17, 1)], V5))
        c.expect(suback(1, [1, 0x8F, 0x8F], V5), "filters past the limits refused one by one")
        c.send(publish("a/b/c", b"ok", 1, pid=2, v=V5))
        got = {c.read_packet(), c.read_packet()}  # the copy and the ack, in either order
        iptest.expect_eq(got, {puback(2, 0, V5), publish("a/b/c", b"ok", 1, pid=1, v=V5)},
                         "within the limits: acknowledged and delivered")
        c.send(puback(1, 0, V5))
        why = [(0x1F, "topic longer or deeper than the broker allows")]
        c.send(publish("a/b/c/d", b"deep", 1, pid=3, v=V5)).expect(puback(3, 0x90, V5, why), "too deep")
        c.send(publish("y" * 17, b"long", 1, pid=4, v=V5)).expect(puback(4, 0x90, V5, why), "too long")
        c.sync()
        old = b.connect("old", V311)
        old.send(subscribe(1, [("a/b/c/d", 0)])).expect(suback(1, [0x80]), "3.1.1 failure code")
        old.sync()


def memory_ceiling():
    with Broker("memory_limit 1000\n") as b:  # far below any process: everything refused
        c = b.connect("mem", V5)
        c.send(subscribe(1, [("m/#", 1)], V5)).expect(suback(1, [1], V5))
        why = [(0x1F, "message too large, or the broker is over its memory limit")]
        c.send(publish("m/1", b"x", 1, pid=2, v=V5)).expect(puback(2, 0x97, V5, why), "quota exceeded")
        old = b.connect("old", V311)
        old.send(publish("m/2", b"y", 1, pid=7)).expect(puback(7), "3.1.1 acknowledged")
        c.sync()  # and nothing was delivered
        old.sync()
        iptest.eventually(lambda: "memory_limit" in b.logtext(), what="a log line says why")


def retained_cap():
    with Broker("max_retained_messages 2\n") as b:
        p = b.connect("p")
        for t in ("r/1", "r/2", "r/3"):
            p.send(publish(t, b"v", retain=True))
        p.send(publish("r/1", b"new", retain=True)).sync()  # replacing still works
        s = b.connect("s")
        s.send(subscribe(1, [("r/#", 0)])).expect(suback(1, [0]))
        got = {s.read_packet(), s.read_packet()}
        iptest.expect_eq(got, {publish("r/1", b"new", retain=True), publish("r/2", b"v", retain=True)},
                         "two retained topics kept, the third not")
        s.sync()
        iptest.eventually(lambda: "max_retained_messages" in b.logtext(), what="a log line")


def max_connections():
    with Broker("max_connections 2\n") as b:
        one, two = b.connect("one"), b.connect("two")
        s = socket.create_connection((iptest.HOST, b.port), timeout=10)
        data = b""
        try:  # closed at once: the send or the read may see the reset
            s.sendall(connect("three"))
            s.settimeout(5)
            data = s.recv(100)
        except OSError:
            pass
        iptest.expect_eq(data, b"", "the third connection is closed unanswered")
        s.close()
        one.sync()
        two.sync()
        one.close()
        iptest.eventually(lambda: _connects(b), what="room again after one leaves")


def room_after_abrupt_close():
    """A client that drops its socket without DISCONNECT frees its slot at once, not after
    the grace (5 s) a closing connection gets when its peer has not closed yet."""
    with Broker("max_connections 1\n") as b:
        one = b.connect("one")
        one.close()
        iptest.eventually(lambda: _connects(b), timeout=2.5, what="room soon after a drop")


def _connects(b):
    s = socket.create_connection((iptest.HOST, b.port), timeout=10)
    try:
        s.sendall(connect("again"))
        return s.recv(4) == our_connack(V311)
    except OSError:
        return False
    finally:
        s.close()


results = iptest.Results()
results.check("max_topic_length and max_topic_levels", topic_length_and_levels)
results.check("memory_limit refuses publishes with 0x97", memory_ceiling)
results.check("max_connections", max_connections)
results.check("max_connections: a dropped client's slot is free at once",
              room_after_abrupt_close)
results.check("max_retained_messages", retained_cap)
results.finish()
