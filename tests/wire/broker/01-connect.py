"""01: CONNECT: versions, client identifiers, refusals, first packet, takeover."""
from wire import *


def v311_and_v31():
    with Broker() as b:
        b.connect("c311", V311).sync()
        b.connect("c31", V31).sync()
        b.connect("c5", V5).sync()


def unsupported_version():
    with Broker() as b:
        c = b.client()
        body = s("MQTT") + bytes([6, 2]) + b"\x00\x3c" + s("x")
        c.send(pkt(0x10, body)).expect(b"\x20\x02\x00\x01").expect_closed()


def empty_client_id():
    with Broker() as b:
        b.client().send(connect("", V311, clean=False)).expect(b"\x20\x02\x00\x02").expect_closed()
        b.client().send(connect("", V31)).expect(b"\x20\x02\x00\x02").expect_closed()
        b.connect("", V311, clean=True).sync()
        c = b.client().send(connect("", V5))
        p = c.read_packet()
        expect_eq(p[:2], b"\x20" + bytes([len(p) - 2]), "CONNACK header")
        i = p.index(b"\x12\x00")
        n = p[i + 2]
        cid = p[i + 3:i + 3 + n].decode()
        expect_eq(cid.startswith("auto-"), True, "assigned id " + cid)
        expect_eq(p, our_connack(V5, assigned=cid), "CONNACK with assigned id")
        c.sync()


def first_packet_must_be_connect():
    with Broker() as b:
        b.client().send(PINGREQ).expect_closed()
        b.client().send(subscribe(1, [("a", 0)])).expect_closed()


def second_connect():
    with Broker() as b:
        b.connect("two", V311).send(connect("two", V311)).expect_closed()
        c = b.connect("two5", V5).send(connect("two5", V5))
        c.expect(server_disconnect(0x82, "unexpected packet")).expect_closed()


def takeover_v5_with_will():
    with Broker() as b:
        watcher = b.connect("watcher")
        watcher.send(subscribe(1, [("will/#", 0)])).expect(suback(1, [0]))
        old = b.connect("dup", V5, will={"topic": "will/dup", "payload": "gone"})
        new = b.client().send(connect("dup", V5))
        new.expect(our_connack(V5))
        old.expect(disconnect(0x8E, V5)).expect_closed()
        watcher.expect(publish("will/dup", "gone"), "will on takeover with clean start")
        new.sync()


def takeover_keeps_session():
    with Broker() as b:
        old = b.connect("keep", V311, clean=False)
        old.send(subscribe(1, [("k/1", 1)])).expect(suback(1, [1]))
        new = b.client().send(connect("keep", V311, clean=False))
        new.expect(connack(True, 0), "session present after takeover")
        old.expect_closed()
        pub = b.connect("p")
        pub.send(publish("k/1", "x", 1, pid=7)).expect(puback(7))
        new.expect(publish("k/1", "x", 1, pid=1))


def refusals():
    with Broker(anonymous=False) as b:
        b.client().send(connect("a", V311)).expect(b"\x20\x02\x00\x05").expect_closed()
        # 5.0 refusals say why in a Reason String.
        b.client().send(connect("a", V5)).expect(
            connack(False, 0x87, V5, [(0x1F, "not authorized")])).expect_closed()
    with Broker() as b:
        c = b.client().send(connect("a", V5, p=[(0x15, "SCRAM-SHA-1")]))
        c.expect(connack(False, 0x8C, V5, [(0x1F, "unsupported authentication method")]))
        c.expect_closed()


def session_present():
    with Broker() as b:
        c = b.client().send(connect("sp", V311, clean=False)).expect(connack(False))
        c.send(disconnect()).expect_closed()
        c = b.client().send(connect("sp", V311, clean=False))
        c.expect(connack(True), "session present")
        c.send(disconnect()).expect_closed()
        c = b.client().send(connect("sp", V311, clean=True)).expect(connack(False))
        c5 = b.client().send(connect("sp5", V5, clean=False, p=[(0x11, 60)]))
        c5.expect(our_connack(V5)).send(disconnect(0, V5)).expect_closed()
        c5 = b.client().send(connect("sp5", V5, clean=False))
        c5.expect(our_connack(V5, sp=True), "v5 session present")
        c5.send(disconnect(0, V5)).expect_closed()
        # Expiry 0 on the last connection: the session ended with it.
        b.client().send(connect("sp5", V5, clean=False)).expect(our_connack(V5, sp=False))


def server_keepalive():
    with Broker("max_keepalive 30\n") as b:
        c = b.client().send(connect("ka", V5, ka=100))
        c.expect(our_connack(V5, ka=30))
        c = b.client().send(connect("ka0", V5, ka=0))
        c.expect(our_connack(V5, ka=30))
        # 3.x cannot be told a lower keepalive: refused, as mosquitto does.
        b.client().send(connect("ka3", V311, ka=100)).expect(connack(False, 2)).expect_closed()
        b.client().send(connect("ka4", V311, ka=0)).expect(connack(False, 2)).expect_closed()
        b.connect("ka5", V311, ka=30).sync()


def log_lines():
    with Broker() as b:
        b.connect("logme", V5, ka=42).send(disconnect(0, V5)).expect_closed()
        text = iptest.eventually(lambda: "logme disconnected" in b.logtext() and b.logtext(),
                                 what="disconnect log line")
        expect_eq("as logme (p5, c1, k42)" in text, True, "connect log line")


run([("v311_and_v31", v311_and_v31), ("unsupported_version", unsupported_version),
     ("empty_client_id", empty_client_id),
     ("first_packet_must_be_connect", first_packet_must_be_connect),
     ("second_connect", second_connect), ("takeover_v5_with_will", takeover_v5_with_will),
     ("takeover_keeps_session", takeover_keeps_session), ("refusals", refusals),
     ("session_present", session_present), ("server_keepalive", server_keepalive),
     ("log_lines", log_lines)])
