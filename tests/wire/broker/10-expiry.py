"""10: message expiry: forwarded, decremented while queued, expired never delivered."""
from wire import *


def forwarded_online():
    with Broker() as b:
        s = b.connect("s", V5)
        s.send(subscribe(1, [("e", 1)], V5)).expect(suback(1, [1], V5))
        b.connect("p", V5).send(publish("e", "x", v=V5, p=[(0x02, 60)])).sync()
        s.expect(publish("e", "x", v=V5, p=[(0x02, 60)]))


def expired_while_queued():
    with Broker() as b:
        s = b.client().send(connect("s", V5, clean=False, p=[(0x11, 100)]))
        s.expect(our_connack(V5)).send(subscribe(1, [("e", 1)], V5)).expect(suback(1, [1], V5))
        s.send(disconnect(0, V5)).expect_closed()
        p = b.connect("p", V5)
        p.send(publish("e", "short", 1, pid=1, v=V5, p=[(0x02, 1)])).expect(puback(1, v=V5))
        p.send(publish("e", "long", 1, pid=2, v=V5, p=[(0x02, 100)])).expect(puback(2, v=V5))
        time.sleep(2.2)
        s = b.client().send(connect("s", V5, clean=False)).expect(our_connack(V5, sp=True))
        got = s.read_packet()
        # 2.2 s went by (more on a loaded machine): the interval says what is left.
        ok = [publish("e", "long", 1, pid=1, v=V5, p=[(0x02, n)]) for n in range(80, 99)]
        if got not in ok:
            raise AssertionError(f"got {got.hex()}, want 'long' with 80 to 98 s left")
        s.send(puback(1, v=V5)).sync()


def retained_expiry():
    with Broker() as b:
        b.connect("p", V5).send(publish("re", "x", retain=True, v=V5, p=[(0x02, 1)])).sync()
        time.sleep(2.2)
        s = b.connect("s", V5)
        s.send(subscribe(1, [("re", 0)], V5)).expect(suback(1, [0], V5)).sync()


run([("forwarded_online", forwarded_online), ("expired_while_queued", expired_while_queued),
     ("retained_expiry", retained_expiry)])
