"""15: max_qos, a listener's highest QoS: told to 5.0 clients in CONNACK, subscriptions
granted at most it, a PUBLISH or will above it refused; the other listener is not capped.
The paho checks run against mosquitto 2.0 too, so both brokers behave alike."""
import queue
import shutil

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes  # noqa: F401 (paho's reason names)

from wire import *

# First listener capped at QoS 1, the second (as every listener by default) at 2.
TWO = "max_qos 1\nlistener 0 127.0.0.1\n"


def on(b, i, cid, v=V311, **kw):
    c = Client(b.ports[i])
    b.clients.append(c)
    c.send(connect(cid, v, **kw))
    return c


def connack_says_it():
    with Broker(TWO) as b:
        on(b, 0, "c5", V5).expect(our_connack(V5, maxqos=1), "Maximum QoS 1")
        on(b, 1, "d5", V5).expect(our_connack(V5), "no Maximum QoS: 2")
        on(b, 0, "c3").expect(our_connack(), "3.1.1 is not told")
    with Broker("max_qos 0\n") as b:
        on(b, 0, "z5", V5).expect(our_connack(V5, maxqos=0), "Maximum QoS 0")


def subscriptions_granted_at_most():
    with Broker(TWO) as b:
        s = on(b, 0, "s").expect(our_connack())
        s.send(subscribe(1, [("t/#", 2), ("u", 0)])).expect(suback(1, [1, 0]))
        s5 = on(b, 0, "s5", V5).expect(our_connack(V5, maxqos=1))
        s5.send(subscribe(1, [("t/#", 2)], V5)).expect(suback(1, [1], V5))
        wide = on(b, 1, "w").expect(our_connack())
        wide.send(subscribe(1, [("t/#", 2)])).expect(suback(1, [2]))
        p = on(b, 1, "p").expect(our_connack())
        p.send(publish("t/r", "kept", 2, retain=True, pid=1)).expect(pubrec(1))
        p.send(pubrel(1)).expect(pubcomp(1))
        s.expect(publish("t/r", "kept", 1, pid=1), "a QoS 2 message delivered at 1")
        s5.expect(publish("t/r", "kept", 1, pid=1, v=V5))
        wide.expect(publish("t/r", "kept", 2, pid=1), "uncapped listener: 2")
        # A retained message too reaches a new subscriber at the cap.
        late = on(b, 0, "late").expect(our_connack())
        late.send(subscribe(1, [("t/r", 2)])).expect(suback(1, [1]))
        late.expect(publish("t/r", "kept", 1, retain=True, pid=1))


def publish_above_refused():
    with Broker(TWO) as b:
        c5 = on(b, 0, "c5", V5).expect(our_connack(V5, maxqos=1))
        c5.send(publish("t", "ok", 1, pid=1, v=V5)).expect(puback(1, v=V5))
        c5.send(publish("t", "no", 2, pid=2, v=V5))
        c5.expect(server_disconnect(0x9B, "sent a PUBLISH that is not allowed"))
        c5.expect_closed()
        c3 = on(b, 0, "c3").expect(our_connack())
        c3.send(publish("t", "no", 2, pid=1)).expect_closed("3.1.1: closed")
        ok = on(b, 1, "ok").expect(our_connack())
        ok.send(publish("t", "fine", 2, pid=1)).expect(pubrec(1), "the other listener")
    with Broker("max_qos 0\n") as b:
        c = on(b, 0, "q1", V5).expect(our_connack(V5, maxqos=0))
        c.send(publish("t", "no", 1, pid=1, v=V5))
        c.expect(server_disconnect(0x9B, "sent a PUBLISH that is not allowed"))


def will_above_refused():
    with Broker(TWO) as b:
        w = {"topic": "w", "payload": "bye", "qos": 2}
        on(b, 0, "w5", V5, will=w).expect(
            connack(rc=0x9B, v=V5, p=[(0x1F, "will QoS above max_qos")]))
        on(b, 0, "w3", will=w).expect(connack(rc=3), "3.1.1: refused (server unavailable)")
        on(b, 1, "w1", V5, will=w).expect(our_connack(V5), "the other listener")
        on(b, 0, "w0", V5, will=dict(w, qos=1)).expect(our_connack(V5, maxqos=1))


def paho_session(port, proto):
    """What a paho client sees on a max_qos 1 listener: (CONNACK's Maximum QoS, granted
    QoS, QoS a QoS 2 message arrives at, whether a QoS 2 PUBLISH disconnected it)."""
    q = queue.Queue()
    c = mqtt.Client("paho%d" % proto, protocol=proto)
    c.on_connect = lambda c, u, f, rc, p=None: q.put(getattr(p, "MaximumQoS", None))
    c.on_subscribe = lambda c, u, mid, g, p=None: q.put(
        [x.value if hasattr(x, "value") else x for x in g])
    c.on_message = lambda c, u, m: q.put(m.qos)
    c.on_disconnect = lambda c, u, rc, p=None: q.put("disconnected")
    c.connect(iptest.HOST, port, 30)
    c.loop_start()
    try:
        got = [q.get(timeout=iptest.TIMEOUT)]
        c.subscribe("pq/#", 2)
        got.append(q.get(timeout=iptest.TIMEOUT))
        c.publish("pq/1", "a", 1)
        got.append(q.get(timeout=iptest.TIMEOUT))
        c.publish("pq/2", "b", 2)
        got.append(q.get(timeout=iptest.TIMEOUT))
    finally:
        c.loop_stop()
    return got


WANT = {mqtt.MQTTv311: [None, [1], 1, "disconnected"],
        mqtt.MQTTv5: [1, [1], 1, "disconnected"]}


def paho_ours():
    for proto, want in WANT.items():
        with Broker("max_qos 1\n") as b:
            expect_eq(paho_session(b.port, proto), want, f"paho, protocol {proto}")


def paho_mosquitto():
    if not shutil.which("mosquitto"):
        raise AssertionError("mosquitto is needed as the reference (scripts/deps.sh)")
    for proto, want in WANT.items():
        with iptest.mosquitto("max_qos 1\n") as (port, _):
            expect_eq(paho_session(port, proto), want, f"mosquitto, protocol {proto}")


run([("connack_says_it", connack_says_it),
     ("subscriptions_granted_at_most", subscriptions_granted_at_most),
     ("publish_above_refused", publish_above_refused),
     ("will_above_refused", will_above_refused),
     ("paho_ours", paho_ours), ("paho_mosquitto", paho_mosquitto)])
