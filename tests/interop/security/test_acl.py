"""ACLs of `iotplot broker` with the classroom rule `pattern readwrite %u/#`: two users,
each confined to their prefix through exact topics, '+', '#', $share, retained messages,
wills and client ids, checked with python3-paho-mqtt over 3.1.1 and 5.0."""
import os

import paho.mqtt.client as mqtt

import iptest
from iptest import expect_eq
from sectest import Broker, Peer, passwd_file  # noqa: F401

V5 = mqtt.MQTTv5


def classroom(fn):
    def run():
        with iptest.tempdir() as d:
            pw, acl = os.path.join(d, "pw"), os.path.join(d, "acl")
            passwd_file(pw, {"alice": "a", "bob": "b"})
            with open(acl, "w") as f:
                f.write("pattern read $SYS/#\npattern readwrite %u/#\n")
            with Broker(f"password_file {pw}\nacl_file {acl}\n", anonymous=False) as b:
                fn(b)
    return run


def peer(b, user, proto=mqtt.MQTTv311, will=None, cid=None):
    p = Peer(b.port, cid or f"{user}-{proto}", proto=proto, user=user, pw=user[0], will=will)
    expect_eq(p.connect(), 0, f"{user} connects")
    return p


@classroom
def own_prefix_works(b):
    a = peer(b, "alice")
    expect_eq(a.sub("alice/#"), 1, "alice/#")
    a.pub("alice/t", b"1")
    m = a.get(5)
    expect_eq(m and m.payload, b"1", "own message")
    a.close()


@classroom
def subscriptions_outside_refused(b):
    """Filters that can match nothing alice may read are refused."""
    a = peer(b, "alice")
    for f in ("bob/#", "bob/t", "bob/+/x", "$share/g/bob/#", "carol/+"):
        expect_eq(a.sub(f), 0x80, f"3.1.1 SUBACK for {f}")
    a.close()
    a5 = peer(b, "alice", V5)
    expect_eq(a5.sub("bob/#"), 0x87, "5.0 SUBACK 0x87")
    expect_eq(a5.sub("$SYS/broker/uptime"), 1, "$SYS is readable")
    a5.close()


def until(p, payload, what):
    """Every message p receives up to and including the one with `payload`."""
    got = []
    while not got or got[-1].payload != payload:
        m = p.get(iptest.TIMEOUT)
        if m is None:
            raise AssertionError(f"{what}: {payload!r} never came; got {[x.topic for x in got]}")
        got.append(m)
    return got


def wide_subscriptions_filtered(proto):
    @classroom
    def run(b):
        """'#' and '+/temp' are granted as mosquitto grants them; each delivery is checked,
        so alice receives her own messages and none of bob's. bob's messages are routed
        when he publishes them (his QoS 1 acknowledgement comes after), so alice's own
        message published afterwards arrives after anything of his would have."""
        a = peer(b, "alice", proto)
        expect_eq(a.sub("#"), 1, "# granted")
        expect_eq(a.sub("+/temp"), 1, "+/temp granted")
        expect_eq(a.sub("$share/g/#"), 1, "$share/g/# granted")
        bob = peer(b, "bob", proto)
        bob.pub("bob/temp", b"bob's temp", retain=True)
        bob.pub("bob/x", b"bob's x")
        a.pub("alice/temp", b"21")
        got = until(a, b"21", "alice's own message")
        expect_eq(sorted({m.topic for m in got}), ["alice/temp"], "only alice's topics arrive")
        # A new wide subscription brings retained messages: hers, not his.
        a.pub("alice/kept", b"kept", retain=True)
        until(a, b"kept", "her retained message live")
        expect_eq(a.sub("+/+"), 1, "+/+ granted")
        a.pub("alice/mark", b"mark")
        got = until(a, b"mark", "the mark after the retained messages")
        topics = sorted({m.topic for m in got})
        expect_eq(topics, ["alice/kept", "alice/mark"], "her retained message only, then the mark")
        a.c.publish("alice/kept", b"", 1, True)
        bob.c.publish("bob/temp", b"", 1, True)
        a.close()
        bob.close()
    return run


@classroom
def no_reading_or_writing_the_other(b):
    bob = peer(b, "bob")
    expect_eq(bob.sub("bob/#"), 1, "bob/#")
    a = peer(b, "alice")
    a.pub("bob/inbox", b"from alice")  # 3.1.1: acknowledged, not delivered
    a5 = peer(b, "alice", V5, cid="alice5")
    info = a5.pub("bob/inbox", b"from alice 5")
    expect_eq(bob.get(2), None, "bob got nothing from alice")
    s = peer(b, "bob", cid="bobsys")
    expect_eq(s.sub("$SYS/broker/fake"), 1, "bob may read $SYS")
    a.pub("$SYS/broker/fake", b"x")
    expect_eq(s.get(2), None, "clients cannot publish to $SYS")
    for p in (a, a5, bob, s):
        p.close()
    del info


@classroom
def retained_and_wills_stay_private(b):
    bob = peer(b, "bob")
    bob.pub("bob/secret", b"retained", retain=True)
    bob.close()
    # alice asks for filters that match bob's retained message: those within his prefix
    # are refused, the wider ones granted, and nothing of his arrives (retained messages
    # are sent before her next publish is handled).
    a = peer(b, "alice")
    for f in ("bob/secret", "bob/+"):
        expect_eq(a.sub(f), 0x80, f"{f} refused")
    for f in ("+/secret", "#"):
        expect_eq(a.sub(f), 1, f"{f} granted")
    a.pub("alice/mark", b"mark")
    got = until(a, b"mark", "her own message")
    expect_eq([m.topic for m in got], ["alice/mark"], "no retained message of bob's")
    expect_eq(a.sub("alice/#"), 1, "alice/#")
    # A will aimed at bob's prefix is never delivered to bob.
    bob = peer(b, "bob", cid="bob2")
    expect_eq(bob.sub("bob/#"), 1, "bob/#")
    m = bob.get(3)
    expect_eq(m and m.payload, b"retained", "bob's own retained message")
    # A will aimed at bob's prefix: alice may not write there, so she may not connect
    # with it (as mosquitto does), and bob never sees it.
    w = Peer(b.port, "alicewill", user="alice", pw="a", will=("bob/will", b"alice died", 1, False))
    expect_eq(w.connect(), 5, "a will outside her prefix is refused")
    w.close(clean=False)
    expect_eq(bob.get(2), None, "alice's will to bob's prefix")
    own = Peer(b.port, "aliceown", user="alice", pw="a", will=("alice/will", b"gone", 1, False))
    expect_eq(own.connect(), 0, "a will inside her prefix is fine")
    own.close()
    a.close()
    bob.close()


def deny_inside_own_prefix():
    """A deny rule inside what a wildcard subscription may read: live and retained
    messages on the denied topic never reach the subscriber."""
    with iptest.tempdir() as d:
        pw, acl = os.path.join(d, "pw"), os.path.join(d, "acl")
        passwd_file(pw, {"alice": "a", "admin": "x"})
        with open(acl, "w") as f:
            f.write("pattern readwrite %u/#\nuser alice\ntopic deny alice/secret\n"
                    "user admin\ntopic write #\n")
        with Broker(f"password_file {pw}\nacl_file {acl}\n", anonymous=False) as b:
            admin = Peer(b.port, "admin", user="admin", pw="x")
            expect_eq(admin.connect(), 0, "admin connects")
            admin.pub("alice/secret", b"hidden", retain=True)
            admin.pub("alice/open", b"shown", retain=True)
            a = Peer(b.port, "alice", proto=V5, user="alice", pw="a")
            expect_eq(a.connect(), 0, "alice connects")
            expect_eq(a.sub("alice/#"), 1, "alice/# is allowed")
            m = a.get(3)
            expect_eq(m and (m.topic, m.payload), ("alice/open", b"shown"), "only the open retained")
            admin.pub("alice/secret", b"live")
            admin.pub("alice/open", b"live too")
            m = a.get(3)
            expect_eq(m and (m.topic, m.payload), ("alice/open", b"live too"), "only the open live")
            expect_eq(a.get(1), None, "nothing from alice/secret")
            a.close()
            admin.close()


def away_with_a_queued_message(b, cid):
    """alice subscribes with a kept session, goes offline, and a message for her is
    published meanwhile. Returns her (disconnected) paho client and its message list."""
    import paho.mqtt.client as m
    a = m.Client(cid, clean_session=False)
    a.username_pw_set("alice", "a")
    got, subscribed = [], []
    a.on_message = lambda c, u, msg: got.append(msg.payload)
    a.on_subscribe = lambda c, u, mid, granted: subscribed.append(granted)
    a.connect(iptest.HOST, b.port, 30)
    a.loop_start()
    iptest.eventually(a.is_connected, what="alice connected")
    a.subscribe("alice/#", 1)
    iptest.eventually(lambda: subscribed, what="alice's SUBACK")
    a.disconnect()
    a.loop_stop()
    w = peer(b, "alice", cid=cid + "-writer")
    w.pub("alice/queued", b"while away")
    w.close()
    return a, got


@classroom
def offline_queue_delivered_to_owner(b):
    a, got = away_with_a_queued_message(b, "alice-dev")
    a.reconnect()
    a.loop_start()
    iptest.eventually(lambda: b"while away" in got, what="the queued message after reconnect")
    a.disconnect()
    a.loop_stop()


def refused_with_her_id(b, cid, proto, want):
    bob = Peer(b.port, cid, proto=proto, user="bob", pw="b")
    expect_eq(bob.connect(), want, f"bob with alice's client id {cid}")
    bob.close(clean=False)


@classroom
def client_ids_belong_to_their_owner(b):
    """A client id is its session's user's: bob naming alice's is refused (3.1.1 return
    code 2, 5.0 0x85), her persistent session keeps its queued message, and her live
    connection is not kicked."""
    a, got = away_with_a_queued_message(b, "alice-dev")
    refused_with_her_id(b, "alice-dev", mqtt.MQTTv311, 2)
    refused_with_her_id(b, "alice-dev", V5, 0x85)
    anon = Peer(b.port, "alice-dev")
    expect_eq(anon.connect(), 5, "anonymous: not authorized before any id check")
    anon.close(clean=False)
    a.reconnect()
    a.loop_start()
    iptest.eventually(lambda: b"while away" in got, what="her queued message, still there")
    # Online: bob's attempts leave her connection as it is.
    for proto, want in ((mqtt.MQTTv311, 2), (V5, 0x85)):
        refused_with_her_id(b, "alice-dev", proto, want)
    a.publish("alice/after", b"still connected", 1)
    iptest.eventually(lambda: b"still connected" in got, what="alice still connected")
    expect_eq(a.is_connected(), True, "alice was not kicked")
    a.disconnect()
    a.loop_stop()
    log = b.logtext()
    for word in ("alice-dev", "belongs to user alice", "user bob"):
        if word not in log:
            raise AssertionError(f"{word!r} not in the log:\n{log[-2000:]}")
    # Her own reconnection with the id works as before.
    mine = peer(b, "alice", cid="alice-dev")
    mine.close()


@classroom
def refusals_on_the_wire(b):
    """The exact acknowledgements: 5.0 PUBACK 0x87 and SUBACK 0x87, 3.1.1 PUBACK (the
    message is dropped) and SUBACK 0x80."""
    import wire
    c = b.client()
    c.send(wire.connect("a5", wire.V5, user="alice", pw="a")).expect(wire.our_connack(wire.V5))
    c.send(wire.publish("bob/x", b"no", 1, pid=5, v=wire.V5)).expect(
        wire.puback(5, 0x87, wire.V5, [(0x1F, "not authorized to publish to this topic")]))
    # A client that asks for no problem information gets the bare code.
    q = b.client()
    q.send(wire.connect("a5q", wire.V5, user="alice", pw="a", p=[(0x17, 0)]))
    q.expect(wire.our_connack(wire.V5))
    q.send(wire.publish("bob/x", b"no", 1, pid=9, v=wire.V5)).expect(wire.puback(9, 0x87, wire.V5))
    c.send(wire.subscribe(6, [("bob/#", 1), ("alice/#", 1)], wire.V5))
    c.expect(wire.suback(6, [0x87, 1], wire.V5))
    c.sync()
    o = b.client()
    o.send(wire.connect("a3", wire.V311, user="alice", pw="a")).expect(wire.our_connack(wire.V311))
    o.send(wire.publish("bob/x", b"no", 1, pid=7)).expect(wire.puback(7))
    o.send(wire.subscribe(8, [("bob/#", 1)])).expect(wire.suback(8, [0x80]))
    o.sync()
    c.sync()  # alice's 5.0 client saw nothing of what the 3.1.1 one tried


results = iptest.Results()
for name, fn in [("each user works in their own prefix", own_prefix_works),
                 ("subscriptions outside the prefix refused (0x80 / 0x87)", subscriptions_outside_refused),
                 ("no reading or writing the other's topics; no $SYS publishes", no_reading_or_writing_the_other),
                 ("retained messages and wills stay in their prefix", retained_and_wills_stay_private),
                 ("a deny rule inside an allowed wildcard holds for retained and live", deny_inside_own_prefix),
                 ("messages queued offline reach their owner", offline_queue_delivered_to_owner),
                 ("refusals byte-exact: PUBACK/SUBACK 0x87 in 5.0, 0x80 in 3.1.1", refusals_on_the_wire),
                 ("'#' and '+/temp' granted and filtered (3.1.1)", wide_subscriptions_filtered(mqtt.MQTTv311)),
                 ("'#' and '+/temp' granted and filtered (5.0)", wide_subscriptions_filtered(V5)),
                 ("a client id belongs to its owner: another user is refused", client_ids_belong_to_their_owner)]:
    results.check(name, fn)
results.finish()
