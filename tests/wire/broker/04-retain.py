"""04: retained messages: store, replace, clear, retain handling, retain as published."""
from wire import *


def store_replace_clear():
    with Broker() as b:
        pub = b.connect("pub")
        pub.send(publish("r/a", "1", retain=True)).send(publish("r/a", "2", retain=True))
        pub.send(publish("r/b", "b", 1, retain=True, pid=1)).expect(puback(1))
        s = b.connect("s1")
        s.send(subscribe(1, [("r/#", 1)])).expect(suback(1, [1]))
        got = {s.read_packet(), s.read_packet()}
        want = {publish("r/a", "2", retain=True), publish("r/b", "b", 1, retain=True, pid=1)}
        expect_eq(got, want, "latest retained of each topic, QoS min(message, sub)")
        s.send(puback(1)).sync()
        pub.send(publish("r/a", "", retain=True)).sync()
        s.expect(publish("r/a", "", retain=False), "the clearing message is forwarded")
        s2 = b.connect("s2")
        s2.send(subscribe(1, [("r/a", 0)])).expect(suback(1, [0])).sync()


def live_retain_flag():
    with Broker() as b:
        s = b.connect("s")
        s.send(subscribe(1, [("l", 0)])).expect(suback(1, [0]))
        b.connect("p").send(publish("l", "x", retain=True)).sync()
        s.expect(publish("l", "x"), "3.1.1: live delivery clears RETAIN")
        s5 = b.connect("s5", V5)
        s5.send(subscribe(1, [("l", 0x08)], V5)).expect(suback(1, [0], V5))
        s5.expect(publish("l", "x", retain=True, v=V5), "retained on subscribe")
        b.connect("p2").send(publish("l", "y", retain=True)).sync()
        s5.expect(publish("l", "y", retain=True, v=V5), "retain as published")


def retain_handling():
    with Broker() as b:
        b.connect("p").send(publish("h", "x", retain=True)).sync()
        c = b.connect("c", V5)
        c.send(subscribe(1, [("h", 0x10)], V5)).expect(suback(1, [0], V5))
        c.expect(publish("h", "x", retain=True, v=V5), "handling 1: new subscription")
        c.send(subscribe(2, [("h", 0x10)], V5)).expect(suback(2, [0], V5)).sync()
        c.send(subscribe(3, [("h", 0x00)], V5)).expect(suback(3, [0], V5))
        c.expect(publish("h", "x", retain=True, v=V5), "handling 0: always")
        c.send(subscribe(4, [("h", 0x20)], V5)).expect(suback(4, [0], V5)).sync()


def wildcard_lookups():
    with Broker("sys_interval 0\n") as b:
        p = b.connect("p")
        for t in ("w/1/x", "w/2/x", "w/2/y", "w", "$w/x"):
            p.send(publish(t, t, retain=True))
        p.sync()
        c = b.connect("c")
        c.send(subscribe(1, [("w/+/x", 0)])).expect(suback(1, [0]))
        expect_eq({c.read_packet(), c.read_packet()},
                  {publish("w/1/x", "w/1/x", retain=True), publish("w/2/x", "w/2/x", retain=True)},
                  "w/+/x")
        c.sync()
        c.send(subscribe(2, [("#", 0)])).expect(suback(2, [0]))
        got = {c.read_packet() for _ in range(4)}
        expect_eq(len(got), 4, "# sees every non-$ retained topic")
        c.sync()


def retain_unavailable():
    with Broker("retain_available false\n") as b:
        c = b.client().send(connect("r", V5)).expect(our_connack(V5, retain=0))
        c.send(publish("x", "y", retain=True, v=V5))
        c.expect(server_disconnect(0x9A, "sent a PUBLISH that is not allowed")).expect_closed()


run([("store_replace_clear", store_replace_clear), ("live_retain_flag", live_retain_flag),
     ("retain_handling", retain_handling), ("wildcard_lookups", wildcard_lookups),
     ("retain_unavailable", retain_unavailable)])
