"""05: wills: abnormal close, keepalive, takeover, DISCONNECT, 0x04, will delay."""
from wire import *

WILL = {"topic": "w/t", "payload": "dead", "qos": 1}


def watcher(b):
    w = b.connect("watcher")
    w.send(subscribe(1, [("w/#", 1)])).expect(suback(1, [1]))
    return w


def abnormal_close():
    with Broker() as b:
        w = watcher(b)
        c = b.connect("c", will=WILL)
        c.close()
        w.expect(publish("w/t", "dead", 1, pid=1), "will after the socket closes")


def normal_disconnect():
    with Broker() as b:
        w = watcher(b)
        b.connect("c", will=WILL).send(disconnect()).expect_closed()
        b.connect("c5", V5, will=WILL).send(disconnect(0, V5)).expect_closed()
        w.sync()
        b.connect("c6", V5, will=WILL).send(disconnect(0x04, V5)).expect_closed()
        w.expect(publish("w/t", "dead", 1, pid=1), "0x04 sends the will")


def will_retain_and_props():
    with Broker() as b:
        w5 = b.connect("w5", V5)
        w5.send(subscribe(1, [("w/#", 0)], V5)).expect(suback(1, [0], V5))
        will = {"topic": "w/r", "payload": "bye", "retain": True,
                "props": [(0x03, "text/plain"), (0x26, ("a", "b"))]}
        b.connect("c", V5, will=will).close()
        w5.expect(publish("w/r", "bye", v=V5, p=[(0x03, "text/plain"), (0x26, ("a", "b"))]))
        late = b.connect("late")
        late.send(subscribe(1, [("w/r", 0)])).expect(suback(1, [0]))
        late.expect(publish("w/r", "bye", retain=True), "retained will")


def will_delay():
    with Broker() as b:
        w = watcher(b)
        will = dict(WILL, props=[(0x18, 1)])
        c = b.connect("d", V5, clean=False, will=will, p=[(0x11, 60)])
        c.close()
        w.expect(publish("w/t", "dead", 1, pid=1), "after the delay")
        w.send(puback(1))
        c = b.client().send(connect("d2", V5, clean=False, will=dict(WILL, props=[(0x18, 3)]),
                                    p=[(0x11, 60)]))
        c.expect(our_connack(V5))
        c.close()
        c = b.client().send(connect("d2", V5, clean=False))
        c.expect(our_connack(V5, sp=True), "reconnect within the delay")
        c.send(disconnect(0, V5)).expect_closed()
        w.sync()  # no will: the client came back in time


def will_delay_longer_than_session():
    with Broker() as b:
        w = watcher(b)
        will = dict(WILL, props=[(0x18, 100)])
        b.connect("e", V5, will=will).close()  # session expiry 0: ends now, will now
        w.expect(publish("w/t", "dead", 1, pid=1))


run([("abnormal_close", abnormal_close), ("normal_disconnect", normal_disconnect),
     ("will_retain_and_props", will_retain_and_props), ("will_delay", will_delay),
     ("will_delay_longer_than_session", will_delay_longer_than_session)])
