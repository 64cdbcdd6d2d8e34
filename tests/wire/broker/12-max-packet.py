"""12: maximum packet size both ways, message_size_limit."""
from wire import *


def ours():
    with Broker("max_packet_size 100\n") as b:
        c = b.client().send(connect("c", V5)).expect(our_connack(V5, maxpkt=100))
        c.send(publish("t", "x" * 200, v=V5))
        c.expect(server_disconnect(0x95, "packet larger than the maximum packet size"))
        c.expect_closed()
        b.connect("d").send(publish("t", "x" * 200)).expect_closed()


def theirs():
    with Broker() as b:
        small = b.client().send(connect("small", V5, p=[(0x27, 30)])).expect(our_connack(V5))
        small.send(subscribe(1, [("m", 0)], V5)).expect(suback(1, [0], V5))
        big = b.connect("big", V5)
        big.send(subscribe(1, [("m", 0)], V5)).expect(suback(1, [0], V5))
        p = b.connect("p")
        p.send(publish("m", "y" * 40)).send(publish("m", "z")).sync()
        big.expect(publish("m", "y" * 40, v=V5)).expect(publish("m", "z", v=V5))
        small.expect(publish("m", "z", v=V5), "too large for it: dropped for it alone")


def message_size_limit():
    with Broker("message_size_limit 5\n") as b:
        s = b.connect("s")
        s.send(subscribe(1, [("l", 1)])).expect(suback(1, [1]))
        p5 = b.connect("p5", V5)
        p5.send(publish("l", "123456", 1, pid=1, v=V5)).expect(puback(
            1, 0x97, V5, [(0x1F, "message too large, or the broker is over its memory limit")]))
        p = b.connect("p")
        p.send(publish("l", "123456", 1, pid=1)).expect(puback(1))
        p.send(publish("l", "12345", 1, pid=2)).expect(puback(2))
        s.expect(publish("l", "12345", 1, pid=1), "only the one within the limit")


run([("ours", ours), ("theirs", theirs), ("message_size_limit", message_size_limit)])
