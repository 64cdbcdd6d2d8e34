"""08: shared subscriptions: round robin among online members, no retained, no local."""
from wire import *


def round_robin():
    with Broker() as b:
        m1 = b.connect("m1", V5)
        m1.send(subscribe(1, [("$share/g/t/#", 0)], V5)).expect(suback(1, [0], V5))
        m2 = b.connect("m2", V5)
        m2.send(subscribe(1, [("$share/g/t/#", 0)], V5)).expect(suback(1, [0], V5))
        pub = b.connect("p")
        for i in range(4):
            pub.send(publish("t/x", str(i)))
        pub.sync()
        a = [m1.read_packet(), m1.read_packet()]
        c = [m2.read_packet(), m2.read_packet()]
        expect_eq(sorted(a + c), sorted(publish("t/x", str(i), v=V5) for i in range(4)), "all")
        m1.sync()
        m2.sync()
        m2.send(disconnect(0, V5)).expect_closed()
        pub.send(publish("t/y", "a")).send(publish("t/y", "b")).sync()
        m1.expect(publish("t/y", "a", v=V5)).expect(publish("t/y", "b", v=V5), "only online")


def no_retained_and_no_local_error():
    with Broker() as b:
        b.connect("p").send(publish("sr", "x", retain=True)).sync()
        m = b.connect("m", V5)
        m.send(subscribe(1, [("$share/g/sr", 0)], V5)).expect(suback(1, [0], V5)).sync()
        m.send(unsubscribe(2, ["$share/g/sr"], V5)).expect(unsuback(2, [0], V5))
        m.send(subscribe(3, [("$share/g/sr", 0x04)], V5))
        m.expect(server_disconnect(0x82, "protocol error")).expect_closed()


def shared_and_plain():
    with Broker() as b:
        m = b.connect("m", V5)
        m.send(subscribe(1, [("$share/g/z", 0), ("z", 0)], V5)).expect(suback(1, [0, 0], V5))
        b.connect("p").send(publish("z", "1")).sync()
        m.expect(publish("z", "1", v=V5)).expect(publish("z", "1", v=V5), "once per subscription")


def offline_member_queued():
    with Broker() as b:
        m1 = b.connect("m1", clean=False)
        m1.send(subscribe(1, [("$share/g/q", 1)])).expect(suback(1, [1]))
        m1.send(disconnect()).expect_closed()
        m2 = b.connect("m2")
        m2.send(subscribe(1, [("$share/g/q", 1)])).expect(suback(1, [1]))
        pub = b.connect("p")
        pub.send(publish("q", "a", 1, pid=1)).expect(puback(1))
        pub.send(publish("q", "b", 1, pid=2)).expect(puback(2))
        m2.expect(publish("q", "a", 1, pid=1)).expect(publish("q", "b", 1, pid=2), "online first")
        m2.send(puback(1)).send(puback(2)).send(disconnect()).expect_closed()
        pub.send(publish("q", "c", 1, pid=3)).expect(puback(3))
        m1 = b.client().send(connect("m1", clean=False)).expect(connack(True))
        m1.expect(publish("q", "c", 1, pid=1), "queued for the only member, offline")


run([("round_robin", round_robin), ("offline_member_queued", offline_member_queued),
     ("no_retained_and_no_local_error", no_retained_and_no_local_error),
     ("shared_and_plain", shared_and_plain)])
