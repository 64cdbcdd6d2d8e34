"""13: malformed input closes that connection only, with the right 5.0 reason."""
from wire import *


def closes_only_that_one():
    with Broker() as b:
        other = b.connect("other")
        other.send(subscribe(1, [("#", 0)])).expect(suback(1, [0]))
        cases3 = [
            b"\x30\xff\xff\xff\xff\x01",                      # remaining length of 5 bytes
            b"\x80\x06\x00\x01\x00\x01a\x00",                 # SUBSCRIBE with flags 0
            b"\x36\x05\x00\x01a\x00\x01",                     # PUBLISH QoS 3
            pkt(0x30, s(b"a\xff") + b"x"),                    # topic not UTF-8
            pkt(0x30, s("a/#") + b"x"),                       # wildcard in a topic name
            b"\x00\x00",                                      # packet type 0
            pkt(0x82, b"\x00\x01"),                           # SUBSCRIBE without filters
            pkt(0x32, s("a") + b"\x00\x00"),                  # packet id 0
        ]
        for i, data in enumerate(cases3):
            b.connect(f"bad{i}").send(data).expect_closed(f"3.1.1 case {i}")
        cases5 = [
            (pkt(0x30, s(b"a\xff") + b"\x00x"), 0x81, "string is not well-formed UTF-8"),
            (pkt(0x30, s("a/+") + b"\x00x"), 0x90, "invalid topic name"),
            (pkt(0x82, b"\x00\x01\x00" + s("a/#/b") + b"\x00"), 0x8F, "invalid topic filter"),
            (pkt(0x30, s("a") + b"\x05\x11\x00\x00\x00\x01"), 0x82,
             "property not allowed in this packet, or with a bad value"),
            (pkt(0x30, s("a") + b"\x05\x01\x01\x01\x01x"), 0x82,
             "property given more than once"),
            (pkt(0x20, b"\x00\x00\x00"), 0x82, "unexpected packet"),
            (pkt(0xF0, b"\x00\x00"), 0x82, "unexpected packet"),
            # MQTT-3.3.4-6: a client may not send a Subscription Identifier.
            (pkt(0x30, s("a") + b"\x02\x0b\x01x"), 0x82, "sent a PUBLISH that is not allowed"),
        ]
        for i, (data, rc, why) in enumerate(cases5):
            c = b.connect(f"bad5-{i}", V5).send(data)
            c.expect(server_disconnect(rc, why), f"5.0 case {i}").expect_closed()
        other.sync()


def garbage_before_connect():
    with Broker() as b:
        b.client().send(b"\x10\x04\x00\x02MQ").expect_closed()
        b.client().send(b"\x10\xff\xff\xff\xff\x0f").expect_closed()
        b.client().send(pkt(0x10, s("MQTT") + b"\x04\x03\x00\x3c" + s("x"))).expect_closed()
        b.connect("ok").sync()


def not_a_connect_first():
    """A first byte that cannot begin a CONNECT ends the connection at once, long before
    connect_timeout (MQTT-3.1.0-1), even when the frame it announces never completes."""
    with Broker("connect_timeout 600\n") as b:
        for first in (b"\x30\xff\xff\xff\x7f", b"\x82", b"\x11\x10", b"GET / HTTP/1.1\r\n"):
            b.client(timeout=20).send(first).expect_closed(f"first bytes {first!r}")
        b.connect("ok").sync()


def still_writing_reads_disconnect():
    """A client still writing when the broker ends its connection reads the DISCONNECT
    and then a clean end of stream, not a reset (the broker half-closes and drains)."""
    with Broker() as b:
        for i in range(3):
            c = b.connect(f"w{i}", V5)
            bad = pkt(0x30, s(b"a\xff") + b"\x00x")  # topic not UTF-8: 0x81
            c.send(bad + PINGREQ * 200000)  # 400 kB after it, more than socket buffers
            c.expect(server_disconnect(0x81, "string is not well-formed UTF-8"))
            c.expect_eof()


def partial_packets():
    with Broker() as b:
        c = b.client()
        data = connect("slow") + subscribe(1, [("p", 0)]) + publish("p", "x" * 3000)
        for i in range(0, len(data), 7):
            c.send(data[i:i + 7])
        c.expect(connack()).expect(suback(1, [0])).expect(publish("p", "x" * 3000)).sync()


run([("closes_only_that_one", closes_only_that_one),
     ("garbage_before_connect", garbage_before_connect),
     ("not_a_connect_first", not_a_connect_first),
     ("still_writing_reads_disconnect", still_writing_reads_disconnect),
     ("partial_packets", partial_packets)])
