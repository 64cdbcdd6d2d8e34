"""11: receive maximum both ways; the inflight window; order kept."""
from wire import *


def client_receive_maximum():
    with Broker() as b:
        s = b.client().send(connect("s", V5, p=[(0x21, 2)])).expect(our_connack(V5))
        s.send(subscribe(1, [("f", 1)], V5)).expect(suback(1, [1], V5))
        p = b.connect("p")
        for i in range(4):
            p.send(publish("f", str(i), 1, pid=i + 1)).expect(puback(i + 1))
        s.expect(publish("f", "0", 1, pid=1, v=V5)).expect(publish("f", "1", 1, pid=2, v=V5))
        s.sync()  # the window is full
        s.send(puback(1, v=V5)).expect(publish("f", "2", 1, pid=3, v=V5))
        s.send(puback(2, v=V5)).expect(publish("f", "3", 1, pid=4, v=V5))
        s.send(puback(3, v=V5)).send(puback(4, v=V5)).sync()


def our_receive_maximum():
    with Broker("max_inflight_messages 2\n") as b:
        c = b.client().send(connect("c", V5)).expect(our_connack(V5, rm=2))
        c.send(publish("x", "1", 2, pid=1, v=V5)).expect(pubrec(1, v=V5))
        c.send(publish("x", "2", 2, pid=2, v=V5)).expect(pubrec(2, v=V5))
        c.send(publish("x", "3", 2, pid=3, v=V5))
        c.expect(server_disconnect(0x93, "sent a PUBLISH that is not allowed")).expect_closed()


def window_v311():
    with Broker("max_inflight_messages 1\n") as b:
        s = b.connect("s")
        s.send(subscribe(1, [("w", 2)])).expect(suback(1, [2]))
        p = b.connect("p")
        p.send(publish("w", "a", 1, pid=1)).expect(puback(1))
        p.send(publish("w", "b", 2, pid=2)).expect(pubrec(2))
        s.expect(publish("w", "a", 1, pid=1)).sync()
        s.send(puback(1)).expect(publish("w", "b", 2, pid=2))
        s.send(pubrec(2)).expect(pubrel(2)).send(pubcomp(2)).sync()


def qos2_unreleased_v311():
    """3.1.1 has no Receive Maximum: a client may leave many QoS 2 messages unreleased."""
    n = 300
    with Broker("max_inflight_messages 20\n") as b:
        s = b.connect("s")
        s.send(subscribe(1, [("q", 0)])).expect(suback(1, [0]))
        p = b.connect("p")
        for i in range(1, n + 1):
            p.send(publish("q", str(i), 2, pid=i))
        for i in range(1, n + 1):
            p.expect(pubrec(i), f"PUBREC {i}")
        for i in range(1, n + 1):
            p.send(pubrel(i))
        for i in range(1, n + 1):
            p.expect(pubcomp(i), f"PUBCOMP {i}")
        for i in range(1, n + 1):
            s.expect(publish("q", str(i)), f"message {i}")
        p.sync()
        s.sync()


run([("client_receive_maximum", client_receive_maximum),
     ("our_receive_maximum", our_receive_maximum), ("window_v311", window_v311),
     ("qos2_unreleased_v311", qos2_unreleased_v311)])
