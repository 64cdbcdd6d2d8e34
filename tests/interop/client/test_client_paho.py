"""Interop with python3-paho-mqtt (1.6) through a real mosquitto, MQTT 3.1, 3.1.1 and 5.0, both
directions at QoS 0/1/2, and 5.0 properties carried both ways (publish and will)."""
import signal

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

import iptest
from clienttest import Paho, expect_ok, pub, sub


def both_ways(port):
    for v in ("mqttv31", "mqttv311", "mqttv5"):
        p = Paho(port, v)
        try:
            p.subscribe(f"p/{v}/ours", 2)
            for q in (0, 1, 2):
                expect_ok(pub(port, "-V", v, "-q", str(q), "-t", f"p/{v}/ours", "-m", f"to paho {q}"), "pub")
                m = p.get()
                iptest.expect_eq((m.topic, m.payload, m.qos), (f"p/{v}/ours", f"to paho {q}".encode(), q),
                                 f"paho got ({v})")
                s = sub(port, "-V", v, "-q", str(q), "-t", f"p/{v}/theirs", "-C", "1", "-v")
                p.publish(f"p/{v}/theirs", f"from paho {q}", q)
                code, out, err = s.finish()
                iptest.expect_eq((code, out), (0, [f"p/{v}/theirs from paho {q}"]), f"we got ({v} q{q})")
        finally:
            p.close()


def props_to_paho(port):
    p = Paho(port, "mqttv5")
    try:
        p.subscribe("props/out", 1)
        r = pub(port, "-V", "mqttv5", "-q", "1", "-t", "props/out", "-m", "{}",
                "-D", "publish", "user-property", "unit", "celsius",
                "-D", "publish", "user-property", "unit", "kelvin",
                "-D", "publish", "content-type", "application/json",
                "-D", "publish", "response-topic", "props/reply",
                "-D", "publish", "correlation-data", "req-42",
                "-D", "publish", "message-expiry-interval", "3600",
                "-D", "publish", "payload-format-indicator", "1")
        expect_ok(r, "pub with properties")
        m = p.get()
        pr = m.properties
        iptest.expect_eq(pr.UserProperty, [("unit", "celsius"), ("unit", "kelvin")], "user properties")
        iptest.expect_eq(pr.ContentType, "application/json", "content type")
        iptest.expect_eq(pr.ResponseTopic, "props/reply", "response topic")
        iptest.expect_eq(pr.CorrelationData, b"req-42", "correlation data")
        iptest.expect_eq(0 < pr.MessageExpiryInterval <= 3600, True, "message expiry")
        iptest.expect_eq(pr.PayloadFormatIndicator, 1, "payload format")
    finally:
        p.close()


def props_from_paho(port):
    p = Paho(port, "mqttv5")
    try:
        s = sub(port, "-V", "mqttv5", "-q", "2", "-t", "props/in", "-C", "1")
        pr = Properties(PacketTypes.PUBLISH)
        pr.UserProperty = [("k", "v"), ("k2", "v2")]
        pr.ContentType = "text/plain"
        pr.ResponseTopic = "props/answer"
        pr.CorrelationData = b"corr"
        pr.MessageExpiryInterval = 300
        p.publish("props/in", "hello", 2, properties=pr)
        code, out, err = s.finish()
        iptest.expect_eq((code, out), (0, ["hello"]), "message")
        line = next((l for l in err if l.startswith("properties:")), "")
        for want in ("user-property k=v", "user-property k2=v2", "0x03=text/plain",
                     "0x08=props/answer", "0x09=corr", "0x02="):
            if want not in line:
                raise AssertionError(f"{want!r} missing from {line!r}")
    finally:
        p.close()


def will_with_props(port):
    p = Paho(port, "mqttv5")
    try:
        p.subscribe("will/v5props", 1)
        s = sub(port, "-V", "mqttv5", "-t", "nothing", "--will-topic", "will/v5props",
                "--will-payload", "bye", "-D", "will", "user-property", "why", "crash",
                "-D", "will", "content-type", "text/plain")
        s.p.send_signal(signal.SIGKILL)
        s.finish()
        m = p.get()
        iptest.expect_eq(m.payload, b"bye", "will payload")
        iptest.expect_eq(m.properties.UserProperty, [("why", "crash")], "will user property")
        iptest.expect_eq(m.properties.ContentType, "text/plain", "will content type")
    finally:
        p.close()


def main():
    res = iptest.Results()
    with iptest.mosquitto() as (port, _):
        res.check("paho 3.1, 3.1.1 and 5.0, QoS 0/1/2 both ways", both_ways, port)
        res.check("5.0 properties to paho", props_to_paho, port)
        res.check("5.0 properties from paho", props_from_paho, port)
        res.check("5.0 will properties", will_with_props, port)
    res.finish()


if __name__ == "__main__":
    main()
