"""07: sessions: offline queueing, caps, redelivery with DUP in order, expiry."""
from wire import *


def offline_queue_and_redelivery():
    with Broker() as b:
        c = b.connect("s", clean=False)
        c.send(subscribe(1, [("q/#", 2)])).expect(suback(1, [2]))
        pub = b.connect("p")
        pub.send(publish("q/1", "a", 1, pid=1)).expect(puback(1))
        c.expect(publish("q/1", "a", 1, pid=1))  # not acknowledged
        c.close()
        b.wait_log("Client s closed its connection")
        pub.send(publish("q/2", "b", 2, pid=2)).expect(pubrec(2)).send(pubrel(2)).expect(pubcomp(2))
        pub.send(publish("q/3", "c", 0)).sync()  # QoS 0 is not queued by default
        c = b.client().send(connect("s", clean=False)).expect(connack(True))
        c.expect(publish("q/1", "a", 1, dup=True, pid=1), "unacknowledged again with DUP")
        c.expect(publish("q/2", "b", 2, pid=2), "queued while offline, in order")
        c.send(puback(1)).send(pubrec(2)).expect(pubrel(2)).send(pubcomp(2)).sync()


def pubrel_resent():
    with Broker() as b:
        c = b.connect("s", clean=False)
        c.send(subscribe(1, [("r", 2)])).expect(suback(1, [2]))
        b.connect("p").send(publish("r", "x", 2, pid=1)).expect(pubrec(1))
        c.expect(publish("r", "x", 2, pid=1)).send(pubrec(1)).expect(pubrel(1))
        c.close()
        c = b.client().send(connect("s", clean=False)).expect(connack(True))
        c.expect(pubrel(1), "PUBREL again, not the message").send(pubcomp(1)).sync()


def queue_cap_and_qos0():
    with Broker("max_queued_messages 2\nqueue_qos0_messages true\n") as b:
        c = b.connect("s", clean=False)
        c.send(subscribe(1, [("c", 1)])).expect(suback(1, [1]))
        c.send(disconnect()).expect_closed()
        pub = b.connect("p")
        pub.send(publish("c", "0")).send(publish("c", "1", 1, pid=1)).expect(puback(1))
        pub.send(publish("c", "2", 1, pid=2)).expect(puback(2))
        c = b.client().send(connect("s", clean=False)).expect(connack(True))
        c.expect(publish("c", "0"), "QoS 0 queued (queue_qos0_messages)")
        c.expect(publish("c", "1", 1, pid=1), "the newest is dropped past the cap")
        c.send(puback(1)).sync()


def clean_start_discards():
    with Broker() as b:
        c = b.connect("s", clean=False)
        c.send(subscribe(1, [("d", 1)])).expect(suback(1, [1]))
        c.send(disconnect()).expect_closed()
        b.connect("s", clean=True).send(disconnect()).expect_closed()
        b.connect("p").send(publish("d", "x", 1, pid=1)).expect(puback(1))
        c = b.client().send(connect("s", clean=False)).expect(connack(False)).sync()


def session_expiry_v5():
    with Broker() as b:
        c = b.client().send(connect("e", V5, clean=False, p=[(0x11, 1)]))
        c.expect(our_connack(V5)).send(subscribe(1, [("e", 1)], V5)).expect(suback(1, [1], V5))
        c.send(disconnect(0, V5)).expect_closed()
        time.sleep(2.5)
        c = b.client().send(connect("e", V5, clean=False)).expect(our_connack(V5, sp=False))
        c.send(disconnect(0, V5, [(0x11, 10)]))
        c.expect(server_disconnect(0x82, "session expiry set on DISCONNECT")).expect_closed()
        c = b.client().send(connect("n", V5, clean=False, p=[(0x11, 0xFFFFFFFF)]))
        c.expect(our_connack(V5)).send(disconnect(0, V5)).expect_closed()
        b.client().send(connect("n", V5, clean=False)).expect(our_connack(V5, sp=True))


def queue_bytes_cap():
    with Broker("max_queued_bytes 10\n") as b:
        c = b.connect("s", clean=False)
        c.send(subscribe(1, [("qb", 1)])).expect(suback(1, [1]))
        c.send(disconnect()).expect_closed()
        pub = b.connect("p")
        for i in range(3):
            pub.send(publish("qb", f"m{i}xx", 1, pid=i + 1)).expect(puback(i + 1))
        c = b.client().send(connect("s", clean=False)).expect(connack(True))
        c.expect(publish("qb", "m0xx", 1, pid=1)).expect(publish("qb", "m1xx", 1, pid=2))
        c.send(puback(1)).send(puback(2)).sync()  # the third (12 bytes > 10) was dropped


run([("offline_queue_and_redelivery", offline_queue_and_redelivery),
     ("queue_bytes_cap", queue_bytes_cap),
     ("pubrel_resent", pubrel_resent), ("queue_cap_and_qos0", queue_cap_and_qos0),
     ("clean_start_discards", clean_start_discards), ("session_expiry_v5", session_expiry_v5)])
