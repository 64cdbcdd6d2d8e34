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


run([("qos1_in_out", qos1_in_out), ("qos2_in_exactly_once", qos2_in_exactly_once),
     ("qos2_out", qos2_out), ("qos2_out_v5_refused", qos2_out_v5_refused),
     ("qos_downgrade_on_ack_state", qos_downgrade_on_ack_state)])
