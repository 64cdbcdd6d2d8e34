"""09: topic aliases from clients: set, use, replace, invalid values."""
from wire import *

ERR = "sent a PUBLISH that is not allowed"


def set_and_use():
    with Broker() as b:
        s = b.connect("s", V5)
        s.send(subscribe(1, [("ta/#", 0)], V5)).expect(suback(1, [0], V5))
        p = b.connect("p", V5)
        p.send(publish("ta/1", "a", v=V5, p=[(0x23, 1)]))
        p.send(publish("", "b", v=V5, p=[(0x23, 1)]))
        p.send(publish("ta/2", "c", v=V5, p=[(0x23, 1)]))
        p.send(publish("", "d", v=V5, p=[(0x23, 1)])).sync()
        for t, m in (("ta/1", "a"), ("ta/1", "b"), ("ta/2", "c"), ("ta/2", "d")):
            s.expect(publish(t, m, v=V5), f"{m} on {t}, alias not forwarded")


def invalid():
    with Broker() as b:
        c = b.connect("big", V5).send(publish("x", "a", v=V5, p=[(0x23, 11)]))
        c.expect(server_disconnect(0x94, ERR), "over our maximum (10)").expect_closed()
        c = b.connect("unset", V5).send(publish("", "a", v=V5, p=[(0x23, 2)]))
        c.expect(server_disconnect(0x82, ERR), "alias never set").expect_closed()
        c = b.connect("zero", V5).send(publish("x", "a", v=V5, p=[(0x23, 0)]))
        c.expect(server_disconnect(0x94, "topic alias 0")).expect_closed()
    with Broker("max_topic_alias 0\n") as b:
        c = b.client().send(connect("none", V5)).expect(our_connack(V5, alias=0))
        c.send(publish("x", "a", v=V5, p=[(0x23, 1)]))
        c.expect(server_disconnect(0x94, ERR)).expect_closed()


def assigned_by_us():
    with Broker() as b:
        s = b.client().send(connect("s", V5, p=[(0x22, 2)])).expect(our_connack(V5))
        s.send(subscribe(1, [("o/#", 1)], V5)).expect(suback(1, [1], V5))
        p = b.connect("p")
        for t in ("o/1", "o/1", "o/2", "o/3", "o/2"):
            p.send(publish(t, "m"))
        p.sync()
        s.expect(publish("o/1", "m", v=V5, p=[(0x23, 1)]), "first use: topic and alias")
        s.expect(publish("", "m", v=V5, p=[(0x23, 1)]), "then the alias alone")
        s.expect(publish("o/2", "m", v=V5, p=[(0x23, 2)]))
        s.expect(publish("o/3", "m", v=V5), "no alias left: the topic")
        s.expect(publish("", "m", v=V5, p=[(0x23, 2)]))
        other = b.connect("o5", V5)
        other.send(subscribe(1, [("o/#", 0)], V5)).expect(suback(1, [0], V5))
        p.send(publish("o/1", "n")).sync()
        s.expect(publish("", "n", v=V5, p=[(0x23, 1)]))
        other.expect(publish("o/1", "n", v=V5), "a client without a maximum gets none")


run([("set_and_use", set_and_use), ("invalid", invalid), ("assigned_by_us", assigned_by_us)])
