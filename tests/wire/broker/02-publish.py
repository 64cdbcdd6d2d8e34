"""02: PUBLISH/SUBSCRIBE: wildcards, $ topics, overlapping subscriptions, no local,
subscription identifiers, unsubscribe results, properties forwarded unchanged."""
from wire import *


def wildcards():
    with Broker() as b:
        sub = b.connect("sub")
        sub.send(subscribe(1, [("a/+/c", 0), ("x/#", 0)])).expect(suback(1, [0, 0]))
        pub = b.connect("pub")
        for t in ("a/b/c", "a/b/d", "a/b/c/d", "x", "x/y/z", "a//c"):
            pub.send(publish(t, t))
        pub.sync()
        for t in ("a/b/c", "x", "x/y/z", "a//c"):
            sub.expect(publish(t, t), t)
        sub.sync()


def dollar_topics():
    with Broker("sys_interval 0\n") as b:
        sub = b.connect("sub")
        sub.send(subscribe(1, [("#", 0), ("+/x", 0)])).expect(suback(1, [0, 0]))
        sys = b.connect("sys")
        sys.send(subscribe(1, [("$inner/#", 0)])).expect(suback(1, [0]))
        pub = b.connect("pub")
        # '$' topics belong to the server: a client's publish there reaches nobody.
        pub.send(publish("$inner/x", "d")).send(publish("y/x", "n")).sync()
        sys.sync()
        sub.expect(publish("y/x", "n"), "once, although two filters match").sync()


def overlapping_v311_max_qos():
    with Broker() as b:
        sub = b.connect("sub")
        sub.send(subscribe(1, [("o/#", 0), ("o/+", 1), ("o/t", 2)])).expect(suback(1, [0, 1, 2]))
        pub = b.connect("pub")
        pub.send(publish("o/t", "m", 1, pid=3)).expect(puback(3))
        sub.expect(publish("o/t", "m", 1, pid=1), "one copy at the highest QoS")
        sub.send(puback(1)).sync()


def subscription_ids_v5():
    with Broker() as b:
        sub = b.connect("sub", V5)
        sub.send(subscribe(1, [("s/#", 0)], V5, [(0x0B, 5)])).expect(suback(1, [0], V5))
        sub.send(subscribe(2, [("s/+", 0)], V5, [(0x0B, 300)])).expect(suback(2, [0], V5))
        sub.send(subscribe(3, [("s/x", 0)], V5)).expect(suback(3, [0], V5))
        pub = b.connect("pub", V5)
        pub.send(publish("s/x", "m", v=V5)).sync()
        got = sub.read_packet()
        want_a = publish("s/x", "m", v=V5, p=[(0x0B, 300), (0x0B, 5)])
        want_b = publish("s/x", "m", v=V5, p=[(0x0B, 5), (0x0B, 300)])
        if got not in (want_a, want_b):
            raise AssertionError(f"got {got.hex()}, want both identifiers in one message")
        sub.sync()


def no_local():
    with Broker() as b:
        c = b.connect("nl", V5)
        c.send(subscribe(1, [("nl/a", 0x04), ("nl/b", 0)], V5)).expect(suback(1, [0, 0], V5))
        c.send(publish("nl/a", "1", v=V5)).send(publish("nl/b", "2", v=V5))
        c.expect(publish("nl/b", "2", v=V5), "own message only where No Local is off").sync()


def unsubscribe_results():
    with Broker() as b:
        c = b.connect("u5", V5)
        c.send(subscribe(1, [("u/1", 0)], V5)).expect(suback(1, [0], V5))
        c.send(unsubscribe(2, ["u/1", "u/2"], V5)).expect(unsuback(2, [0x00, 0x11], V5))
        c3 = b.connect("u3")
        c3.send(subscribe(1, [("u/1", 0)])).expect(suback(1, [0]))
        c3.send(unsubscribe(2, ["u/1", "u/2"])).expect(unsuback(2))
        b.connect("pub").send(publish("u/1", "x")).sync()
        c.sync()
        c3.sync()


def properties_forwarded():
    with Broker() as b:
        sub = b.connect("sub", V5)
        sub.send(subscribe(1, [("p/#", 0)], V5)).expect(suback(1, [0], V5))
        p = [(0x01, 1), (0x03, "text/plain"), (0x08, "p/reply"), (0x09, b"\x01\x02"),
             (0x26, ("k", "v")), (0x26, ("k", "w"))]
        b.connect("pub", V5).send(publish("p/1", "hi", v=V5, p=p)).sync()
        sub.expect(publish("p/1", "hi", v=V5, p=p), "properties unchanged, in order")
        old = b.connect("old")
        old.send(subscribe(1, [("p/#", 0)])).expect(suback(1, [0]))
        b.connect("pub2", V5).send(publish("p/2", "x", v=V5, p=p)).sync()
        old.expect(publish("p/2", "x"), "3.1.1 subscriber gets no properties")


def qos_downgrade_and_upgrade():
    with Broker() as b:
        s0 = b.connect("s0")
        s0.send(subscribe(1, [("q", 0)])).expect(suback(1, [0]))
        s2 = b.connect("s2")
        s2.send(subscribe(1, [("q", 2)])).expect(suback(1, [2]))
        pub = b.connect("pub")
        pub.send(publish("q", "a", 1, pid=1)).expect(puback(1))
        s0.expect(publish("q", "a"), "QoS 1 to a QoS 0 subscription goes at 0")
        s2.expect(publish("q", "a", 1, pid=1), "QoS 1 stays 1 on a QoS 2 subscription")


run([("wildcards", wildcards), ("dollar_topics", dollar_topics),
     ("overlapping_v311_max_qos", overlapping_v311_max_qos),
     ("subscription_ids_v5", subscription_ids_v5), ("no_local", no_local),
     ("unsubscribe_results", unsubscribe_results),
     ("properties_forwarded", properties_forwarded),
     ("qos_downgrade_and_upgrade", qos_downgrade_and_upgrade)])
