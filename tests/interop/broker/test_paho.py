"""Interop: python3-paho-mqtt 1.6.1 against `iotplot broker`, MQTT 3.1.1 and 5.0."""
import os
import queue
import sys
import time

sys.path.insert(0, os.path.join(os.environ["IOTPLOT_SRC"], "tests", "wire", "broker"))
import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.packettypes import PacketTypes  # noqa: E402
from paho.mqtt.properties import Properties  # noqa: E402

import iptest  # noqa: E402
from iptest import expect_eq  # noqa: E402
from wire import Broker  # noqa: E402


class Peer:
    """A paho client whose messages land in a queue; every wait bounded."""

    def __init__(self, port, cid, proto=mqtt.MQTTv311, clean=True, will=None, props=None):
        self.q = queue.Queue()
        self.acks = queue.Queue()
        kw = {"clean_session": clean} if proto != mqtt.MQTTv5 else {}
        self.c = mqtt.Client(cid, protocol=proto, **kw)
        self.c.on_message = lambda c, u, m: self.q.put(m)
        self.c.on_subscribe = lambda c, u, mid, *a: self.acks.put(("sub", mid))
        self.c.on_publish = lambda c, u, mid: self.acks.put(("pub", mid))
        self.connected = queue.Queue()
        self.c.on_connect = lambda c, u, f, rc, *a: self.connected.put((f, rc))
        if will:
            self.c.will_set(*will)
        if proto == mqtt.MQTTv5:
            self.c.connect(iptest.HOST, port, 30, clean_start=clean, properties=props)
        else:
            self.c.connect(iptest.HOST, port, 30)
        self.c.loop_start()
        self.flags, self.rc = self.connected.get(timeout=iptest.TIMEOUT)

    def sub(self, topic, qos=0, **kw):
        self.c.subscribe(topic, qos, **kw)
        self.acks.get(timeout=iptest.TIMEOUT)

    def pub(self, topic, payload, qos=0, retain=False, props=None):
        info = self.c.publish(topic, payload, qos, retain, properties=props)
        info.wait_for_publish(iptest.TIMEOUT)

    def get(self):
        return self.q.get(timeout=iptest.TIMEOUT)

    def stop(self):
        self.c.disconnect()
        self.c.loop_stop()


def v311_qos_and_retain():
    with Broker() as b:
        s = Peer(b.port, "s311")
        s.sub("p/#", 2)
        p = Peer(b.port, "p311")
        for q in (0, 1, 2):
            p.pub(f"p/{q}", f"m{q}".encode(), q)
        got = sorted((m.topic, m.payload, m.qos) for m in (s.get(), s.get(), s.get()))
        expect_eq(got, [("p/0", b"m0", 0), ("p/1", b"m1", 1), ("p/2", b"m2", 2)], "QoS 0/1/2")
        p.pub("p/r", b"kept", 1, retain=True)
        s.get()
        late = Peer(b.port, "late")
        late.sub("p/r", 1)
        m = late.get()
        expect_eq((m.topic, m.payload, m.retain), ("p/r", b"kept", True), "retained")
        for x in (s, p, late):
            x.stop()


def v311_persistent_session():
    with Broker() as b:
        s = Peer(b.port, "persist", clean=False)
        s.sub("ps", 1)
        s.stop()
        p = Peer(b.port, "pp")
        for i in range(5):
            p.pub("ps", str(i).encode(), 1)
        s = Peer(b.port, "persist", clean=False)
        expect_eq(s.flags.get("session present"), 1, "session present")
        expect_eq([s.get().payload for _ in range(5)], [str(i).encode() for i in range(5)],
                  "queued in order")
        s.stop()
        p.stop()


def v311_will():
    with Broker() as b:
        w = Peer(b.port, "watch")
        w.sub("will/#", 1)
        d = Peer(b.port, "dies", will=("will/dies", b"gone", 1, False))
        d.c.loop_stop()
        d.c.socket().close()  # no DISCONNECT: abnormal
        m = w.get()
        expect_eq((m.topic, m.payload), ("will/dies", b"gone"), "will")
        w.stop()


def v5_properties():
    with Broker() as b:
        s = Peer(b.port, "s5", mqtt.MQTTv5)
        sp = Properties(PacketTypes.SUBSCRIBE)
        sp.SubscriptionIdentifier = 42
        s.sub("req/#", 1, properties=sp)
        p = Peer(b.port, "p5", mqtt.MQTTv5)
        pp = Properties(PacketTypes.PUBLISH)
        pp.ResponseTopic = "resp/1"
        pp.CorrelationData = b"\x01\x02"
        pp.UserProperty = [("k", "v")]
        pp.ContentType = "text/plain"
        pp.PayloadFormatIndicator = 1
        pp.MessageExpiryInterval = 60
        p.pub("req/a", b"ask", 1, props=pp)
        m = s.get()
        mp = m.properties
        expect_eq((mp.ResponseTopic, mp.CorrelationData, mp.UserProperty, mp.ContentType,
                   mp.PayloadFormatIndicator, mp.SubscriptionIdentifier),
                  ("resp/1", b"\x01\x02", [("k", "v")], "text/plain", 1, [42]), "properties")
        expect_eq(mp.MessageExpiryInterval in (59, 60), True, "expiry")
        s.stop()
        p.stop()


def v5_session_expiry_and_no_local():
    with Broker() as b:
        cp = Properties(PacketTypes.CONNECT)
        cp.SessionExpiryInterval = 300
        s = Peer(b.port, "exp5", mqtt.MQTTv5, clean=False, props=cp)
        s.sub("nl", options=mqtt.SubscribeOptions(qos=1, noLocal=True))
        s.pub("nl", b"self", 1)
        p = Peer(b.port, "other5", mqtt.MQTTv5)
        p.pub("nl", b"other", 1)
        expect_eq(s.get().payload, b"other", "No Local")
        s.stop()
        p.pub("nl", b"offline", 1)
        s = Peer(b.port, "exp5", mqtt.MQTTv5, clean=False, props=cp)
        expect_eq(s.flags.get("session present"), 1, "session present")
        expect_eq(s.get().payload, b"offline", "queued for the v5 session")
        s.stop()
        p.stop()


def v311_many_qos2_in_flight():
    """3.1.1 has no Receive Maximum: paho with 21 QoS 2 messages in flight (one more than
    our default window) completes every one of 1000, as against mosquitto."""
    with Broker() as b:
        s = Peer(b.port, "s2")
        s.sub("many", 2)
        p = Peer(b.port, "p2")
        p.c.max_inflight_messages_set(21)
        infos = [p.c.publish("many", str(i), 2) for i in range(1000)]
        for info in infos:
            info.wait_for_publish(iptest.TIMEOUT)
        expect_eq(sum(i.is_published() for i in infos), 1000, "QoS 2 publishes completed")
        got = [s.get().payload for _ in range(1000)]
        expect_eq(got, [str(i).encode() for i in range(1000)], "every message once, in order")
        s.stop()
        p.stop()


r = iptest.Results()
for name, fn in [("v311_many_qos2_in_flight", v311_many_qos2_in_flight),
                 ("v311_qos_and_retain", v311_qos_and_retain),
                 ("v311_persistent_session", v311_persistent_session),
                 ("v311_will", v311_will), ("v5_properties", v5_properties),
                 ("v5_session_expiry_and_no_local", v5_session_expiry_and_no_local)]:
    r.check(name, fn)
r.finish()
