"""03: QoS 0/1/2 flows in both directions, packet identifiers per session."""
from wire import *


def qos1_in_out():
    with Broker() as b:
        sub = b.connect("sub")
        sub.send(subscribe(1, [("q1", 1)])).expect(suback(1, [1]))
        pub = b.connect("pub")
        pub.send(publish("q1", "a", 1, pid=10)).expect(puback(10))
        pub.send(publish("q1", "b", 1, pid=11)).expect(puback(11))
        sub.expect(publish("q1", "a", 1, pid=1)).expect(publish("q1", "b", 1, pid=2))
        sub.send(puback(1)).send(puback(2)).sync()
        pub.send(publish("q1", "c", 1, pid=12)).expect(puback(12))
        sub.expect(publish("q1", "c", 1, pid=3), "ids keep counting per session")


def qos1_out_acks():
    # A window of one: each PUBACK, however it arrives, lets the next message go.
    with Broker("max_inflight_messages 1\n") as b:
        sub = b.connect("sub")
        sub.send(subscribe(1, [("w", 1)])).expect(suback(1, [1]))
        pub = b.connect("pub")
        for i, m in enumerate(["a", "b", "c"]):
            pub.send(publish("w", m, 1, pid=20 + i)).expect(puback(20 + i))
        sub.expect(publish("w", "a", 1, pid=1)).sync()
        ack = puback(1)
        sub.send(ack[:2])
        time.sleep(0.2)
        sub.send(ack[2:]).expect(publish("w", "b", 1, pid=2), "a PUBACK split over two reads")
        sub.send(puback(2) + puback(2)).expect(publish("w", "c", 1, pid=3), "a second PUBACK")
        sub.send(puback(3)).sync()
        s5 = b.client().send(connect("s5", V5)).expect(our_connack(V5, rm=1), "CONNACK")
        s5.send(subscribe(1, [("v", 1)], V5)).expect(suback(1, [1], V5))
        pub.send(publish("v", "x", 1, pid=30)).expect(puback(30))
        pub.send(publish("v", "y", 1, pid=31)).expect(puback(31))
        s5.expect(publish("v", "x", 1, pid=1, v=V5))
        s5.send(puback(1, 0x10, V5)).expect(publish("v", "y", 1, pid=2, v=V5),
                                            "5.0: a PUBACK with a reason")
        sub.send(b"\x40\x02\x00\x00").expect_closed("PUBACK with packet id 0")


def qos2_in_exactly_once():
    with Broker() as b:
        sub = b.connect("sub")
        sub.send(subscribe(1, [("q2", 0)])).expect(suback(1, [0]))
        pub = b.connect("pub")
        pub.send(publish("q2", "once", 2, pid=5)).expect(pubrec(5))
        pub.send(publish("q2", "once", 2, dup=True, pid=5)).expect(pubrec(5), "PUBREC again")
        pub.send(pubrel(5)).expect(pubcomp(5))
        pub.send(pubrel(5)).expect(pubcomp(5), "3.1.1: PUBCOMP for an unknown id too")
        sub.expect(publish("q2", "once"), "delivered once").sync()
        p5 = b.connect("pub5", V5)
        p5.send(pubrel(9, v=V5)).expect(
            pubcomp(9, 0x92, V5, [(0x1F, "no such packet identifier")]), "5.0: id not found")


def qos2_out():
    with Broker() as b:
        sub = b.connect("sub")
        sub.send(subscribe(1, [("q2", 2)])).expect(suback(1, [2]))
        pub = b.connect("pub")
        pub.send(publish("q2", "x", 2, pid=1)).expect(pubrec(1))
        sub.expect(publish("q2", "x", 2, pid=1))
        sub.send(pubrec(1)).expect(pubrel(1))
        sub.send(pubcomp(1)).sync()
        pub.send(pubrel(1)).expect(pubcomp(1))


def qos2_out_v5_refused():
    with Broker() as b:
        sub = b.connect("sub", V5)
        sub.send(subscribe(1, [("r", 2)], V5)).expect(suback(1, [2], V5))
        pub = b.connect("pub", V5)
        pub.send(publish("r", "1", 2, pid=1, v=V5)).expect(pubrec(1, v=V5))
        sub.expect(publish("r", "1", 2, pid=1, v=V5))
        sub.send(pubrec(1, 0x80, V5)).sync()  # refused: no PUBREL follows
        sub.send(pubrec(77, 0, V5)).expect(pubrel(77, 0x92, V5), "unknown id")


def qos_downgrade_on_ack_state():
    with Broker() as b:
        sub = b.connect("sub")
        sub.send(subscribe(1, [("d", 1)])).expect(suback(1, [1]))
        pub = b.connect("pub")
        pub.send(publish("d", "m", 2, pid=3)).expect(pubrec(3))
        sub.expect(publish("d", "m", 1, pid=1), "QoS 2 to a QoS 1 subscription")
        # A PUBREC for a QoS 1 message is answered like one for an unknown id.
        sub.send(pubrec(1)).expect(pubrel(1)).sync()
        sub.send(puback(1)).sync()



def qos_state_across_sweeps():
    # A session's QoS 1/2 state lives apart from it and is freed by the broker's sweep (4
    # a second) once it has stayed empty: what is pending must survive the sweeps, and
    # what comes after a free must work as before.
    with Broker("max_inflight_messages 1\n") as b:
        sub = b.connect("sub")
        sub.send(subscribe(1, [("s", 1)])).expect(suback(1, [1]))
        pub = b.connect("pub")
        pub.send(publish("s", "in", 2, pid=7)).expect(pubrec(7))
        sub.expect(publish("s", "in", 1, pid=1), "delivered at once")
        pub.send(publish("s", "a", 1, pid=8)).expect(puback(8))
        pub.send(publish("s", "b", 1, pid=9)).expect(puback(9)).sync()
        time.sleep(1.2)  # several sweeps, with an id received, one in flight, two queued
        pub.send(publish("s", "in", 2, dup=True, pid=7)).expect(pubrec(7), "id kept")
        pub.send(pubrel(7)).expect(pubcomp(7))
        sub.send(puback(1)).expect(publish("s", "a", 1, pid=2), "queue kept")
        sub.send(puback(2)).expect(publish("s", "b", 1, pid=3), "in its order")
        sub.send(puback(3)).sync()
        time.sleep(1.2)  # empty for several sweeps: freed
        pub.send(publish("s", "c", 1, pid=10)).expect(puback(10))
        sub.expect(publish("s", "c", 1, pid=1), "ids start again once none is in flight")
        sub.send(puback(1)).sync()
        pub.send(pubrel(7)).expect(pubcomp(7), "3.1.1: PUBCOMP for an id released before")
        pub.send(publish("s", "in", 2, pid=7)).expect(pubrec(7), "the id is new again")
        pub.send(pubrel(7)).expect(pubcomp(7))
        sub.expect(publish("s", "in", 1, pid=2), "delivered as a new message").sync()


run([("qos1_in_out", qos1_in_out), ("qos1_out_acks", qos1_out_acks),
     ("qos2_in_exactly_once", qos2_in_exactly_once),
     ("qos2_out", qos2_out), ("qos2_out_v5_refused", qos2_out_v5_refused),
     ("qos_downgrade_on_ack_state", qos_downgrade_on_ack_state),
     ("qos_state_across_sweeps", qos_state_across_sweeps)])
