"""Persistence: what the broker acknowledged survives kill -9 and SIGTERM (paho 1.6.1)."""
import collections
import glob
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

import iptest
from iptest import expect_eq

sys.path.insert(0, os.path.join(os.environ["IOTPLOT_SRC"], "tests", "wire", "broker"))
import wire  # noqa: E402


RUNNING = []  # brokers started and not yet stopped: a failed check leaves none behind


def stop_all():
    while RUNNING:
        proc = RUNNING.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


class Node:
    """`iotplot broker` with `persistence true` in dir on a fixed port, restartable."""

    def __init__(self, d, extra="", location=None):
        self.dir = d
        self.port = iptest.free_port()
        self.conf = os.path.join(d, "broker.conf")
        with open(self.conf, "w") as f:
            f.write(f"listener {self.port} {iptest.HOST}\nallow_anonymous true\n"
                    f"persistence true\npersistence_location {location or d}\n"
                    # Twice paho's window: paho 1.6.1 can send one QoS 2 PUBLISH past its own
                    # window after resuming a session, which a window of the same size
                    # refuses (0x93, a disconnect) over and over.
                    "max_queued_messages 0\nmax_inflight_messages 200\n" + extra)
        self.logpath = os.path.join(d, "broker.log")
        self.proc = None

    def start(self, expect_running=True):
        self.mark = os.path.getsize(self.logpath) if os.path.exists(self.logpath) else 0
        log = open(self.logpath, "a")
        self.proc = subprocess.Popen([iptest.binary(), "broker", "-c", self.conf], stdout=log,
                                     stderr=subprocess.STDOUT)
        log.close()
        RUNNING.append(self.proc)
        if expect_running:
            iptest.eventually(lambda: self.proc.poll() is None and "broker running" in self.log(),
                              what="the broker running")
        return self

    def log(self):
        """What this run logged."""
        with open(self.logpath) as f:
            f.seek(self.mark)
            return f.read()

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def term(self):
        expect_eq(iptest.stop(self.proc, 20), 0, "exit status after SIGTERM")
        for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
            if bad in self.log():
                raise AssertionError(f"sanitizer report:\n{self.log()[-3000:]}")


def keep_pubrel_across_retries():
    """paho 1.6.1 resets its outgoing messages at each reconnection attempt, before the
    socket connects; a QoS 2 message whose PUBREL went out becomes "resend PUBREL" at the
    first reset, and the second (after an attempt refused while the broker restarts) knows
    only "waiting for PUBCOMP" and makes it a PUBLISH again. That PUBLISH carries an id the
    broker released on the PUBREL, so it is a new message and any broker routes it again
    (3.1.1 section 4.3.3: once the sender has sent PUBREL it must not resend the PUBLISH).
    The test's clients keep such a message's PUBREL across failed attempts, and count how
    often that was needed: the duplicates they would have made are the client's, not the
    broker's (qos2_kill_points checks the broker's side with a client that keeps to it)."""
    orig = mqtt.Client._messages_reconnect_reset_out
    kept = []

    def reset_out(self):
        with self._out_message_mutex:
            again = [m for m in self._out_messages.values()
                     if m.qos == 2 and m.state == mqtt.mqtt_ms_resend_pubrel]
            orig(self)
            for m in again:
                m.state = mqtt.mqtt_ms_resend_pubrel
            kept.extend(again)
    mqtt.Client._messages_reconnect_reset_out = reset_out
    return kept


PUBREL_KEPT = keep_pubrel_across_retries()


def paho(cid, port, proto=mqtt.MQTTv311, clean=False, expiry=None, on_message=None):
    """A connected paho client (loop thread running), and its CONNACK flags."""
    kw = {"clean_session": clean} if proto != mqtt.MQTTv5 else {}
    c = mqtt.Client(cid, protocol=proto, **kw)
    c.reconnect_delay_set(0.05, 0.2)
    c.max_inflight_messages_set(100)
    got = queue.Queue()
    c.on_connect = lambda cl, u, flags, rc, *a: got.put(flags)
    if on_message:
        c.on_message = on_message
    if proto == mqtt.MQTTv5:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = expiry or 0
        c.connect(iptest.HOST, port, 30, clean_start=clean, properties=props)
    else:
        c.connect(iptest.HOST, port, 30)
    c.loop_start()
    flags = got.get(timeout=iptest.TIMEOUT)
    return c, flags


def stop(c):
    c.disconnect()
    c.loop_stop()


def subscribe(c, topic, qos, **kw):
    done = threading.Event()
    c.on_subscribe = lambda *a: done.set()
    c.subscribe(topic, qos, **kw)
    if not done.wait(iptest.TIMEOUT):
        raise TimeoutError("SUBACK")


def kill_mid_stream(qos):
    """Rounds of: a persistent publisher streams QoS 1 or 2 to an offline persistent
    subscriber, the broker is killed -9 once a third is acknowledged, restarts, the
    publisher resumes by itself; then the subscriber receives every message, QoS 2 once."""
    n, rounds = 2000, 3
    PUBREL_KEPT.clear()
    with iptest.tempdir() as d:
        node = Node(d).start()
        s, _ = paho("sub", node.port)
        subscribe(s, "t/#", 2)
        stop(s)
        acked_before_kill = []
        sent = []
        for r in range(rounds):
            acked = set()
            p, _ = paho(f"pub{qos}", node.port)
            p.on_publish = lambda c, u, mid, acked=acked: acked.add(mid)
            mids = {}

            def publish_all(r=r, p=p, mids=mids, acked=acked):
                # At most 100 outstanding: paho 1.6.1 resends its whole backlog at once
                # after reconnecting, past any receive window.
                for i in range(n):
                    while i - len(acked) >= 100:
                        time.sleep(0.001)
                    payload = f"{qos}-{r}-{i}".encode()
                    mids[p.publish(f"t/{r}", payload, qos).mid] = payload
            t = threading.Thread(target=publish_all)
            t.start()
            iptest.eventually(lambda: len(acked) >= n // 3, what="a third acknowledged")
            node.kill9()
            before = set(acked)
            node.start()
            # paho reconnects to the same port and resends what was not acknowledged.
            iptest.eventually(lambda: len(acked) == n, timeout=60, what="every PUBACK/PUBCOMP")
            t.join()
            stop(p)
            acked_before_kill.append({mids[m] for m in before})
            sent.extend(mids.values())
        got = []
        done = threading.Event()

        def on_message(c, u, m):
            got.append(m.payload)
            if len(set(got)) == len(sent):
                done.set()
        s, flags = paho("sub", node.port, on_message=on_message)
        expect_eq(flags["session present"], 1, "the subscriber's session across kill -9")
        done.wait(60)
        time.sleep(1)  # duplicates, if any, arrive now
        stop(s)
        node.term()
        for r, before in enumerate(acked_before_kill):
            lost = before - set(got)
            expect_eq(len(lost), 0, f"QoS {qos} round {r}: of {len(before)} acknowledged "
                      "before kill -9, lost")
        expect_eq(len(set(sent) - set(got)), 0, f"QoS {qos}: messages lost of {len(sent)}")
        if qos == 2:
            twice = sorted(g for g, k in collections.Counter(got).items() if k > 1)
            expect_eq(len(got) - len(set(got)), 0, f"QoS 2 duplicates (the first of them: "
                      f"{[t.decode() for t in twice[:10]]}; acknowledged before each kill: "
                      f"{[len(b) for b in acked_before_kill]})")
        print(f"QoS {qos}: {[len(b) for b in acked_before_kill]} acknowledged before each "
              f"kill -9, {len(sent)} sent, {len(set(got))} received, "
              f"{len(got) - len(set(got))} duplicates; paho kept from republishing "
              f"{len(PUBREL_KEPT)} released messages")


def raw_resume(port, cid):
    """A raw 3.1.1 connection resuming cid's session (the broker must have it)."""
    c = wire.Client(port)
    c.send(wire.connect(cid, clean=False))
    expect_eq(c.read_packet(), wire.connack(sp=True), f"{cid}: CONNACK, session present")
    return c


def expect_acks(c, make, pids, what):
    """One ack per pid, in the order the packets went (MQTT-4.6.0-2)."""
    for pid in pids:
        expect_eq(c.read_packet(), make(pid), f"{what} {pid}")


def stored_rows(d, pub, sub):
    """Of a killed broker's file: the QoS 2 ids kept for pub, the payloads queued for sub."""
    db = sqlite3.connect(os.path.join(d, "iotplot.db"))
    rx = {r[0] for r in db.execute("SELECT pid FROM rx WHERE client=?", (pub,))}
    queued = [bytes(r[0]) for r in db.execute(
        "SELECT m.payload FROM dlvs d JOIN msgs m ON m.id = d.msg WHERE d.client=? "
        "ORDER BY d.seq", (sub,))]
    db.close()
    return rx, queued


def qos2_kill_points():
    """QoS 2 exactly once at chosen kill points, with a raw publisher that withholds its
    PUBRELs: (a) killed after its PUBRECs: the file holds each message queued once with its
    id, and the DUP resends after the restart are acknowledged, not routed; (b) killed with
    PUBRELs sent and their PUBCOMPs unread: the resent PUBRELs complete; (c) killed just
    after a burst is written behind one acknowledged: the file holds the ids of a first part of it and exactly the
    messages of those (one commit has both), the resends of those are recognised and the
    rest routed once; (d) a DUP resend with no restart is acknowledged too. The persistent QoS 2
    subscriber, offline throughout, then gets every message once."""
    k = 150
    with iptest.tempdir() as d:
        node = Node(d).start()
        s, _ = paho("q2sub", node.port)
        subscribe(s, "x/#", 2)
        stop(s)
        c = wire.Client(node.port)
        c.send(wire.connect("q2pub", clean=False))
        expect_eq(c.read_packet()[:2], b"\x20\x02", "CONNACK")
        sent = []

        def burst(tag, pids, dup=False):
            msgs = [(pid, f"{tag}-{pid}".encode()) for pid in pids]
            c.send(b"".join(wire.publish("x/1", m, 2, dup=dup, pid=pid) for pid, m in msgs))
            return [m for _, m in msgs]

        # (a) PUBRECs read, PUBRELs withheld, kill -9.
        sent += burst("a", range(1, k + 1))
        expect_acks(c, wire.pubrec, range(1, k + 1), "PUBREC")
        node.kill9()
        c.close()
        rx, queued = stored_rows(d, "q2pub", "q2sub")
        expect_eq(rx, set(range(1, k + 1)), "(a) the ids acknowledged by PUBREC, in the file")
        expect_eq(queued, sent, "(a) each message acknowledged, queued once in the file")
        node.start()
        c = raw_resume(node.port, "q2pub")
        burst("a", range(1, k + 1), dup=True)
        expect_acks(c, wire.pubrec, range(1, k + 1), "(a) PUBREC of a DUP resend")
        # (b) half the PUBRELs completed, the other half sent and the broker killed.
        c.send(b"".join(wire.pubrel(pid) for pid in range(1, k // 2 + 1)))
        expect_acks(c, wire.pubcomp, range(1, k // 2 + 1), "(b) PUBCOMP")
        c.send(b"".join(wire.pubrel(pid) for pid in range(k // 2 + 1, k + 1)))
        node.kill9()  # the releases read or not, committed or not
        c.close()
        node.start()
        c = raw_resume(node.port, "q2pub")
        c.send(b"".join(wire.pubrel(pid) for pid in range(k // 2 + 1, k + 1)))
        expect_acks(c, wire.pubcomp, range(k // 2 + 1, k + 1), "(b) PUBCOMP of a resent PUBREL")
        # (c) half a burst acknowledged, the other half written and the broker killed.
        pids = range(1000, 1000 + k)
        sent += burst("c", pids[:k // 2])
        expect_eq(c.read_packet(), wire.pubrec(1000), "(c) the first PUBREC")
        sent += burst("c", pids[k // 2:])
        node.kill9()
        c.close()
        rx, queued = stored_rows(d, "q2pub", "q2sub")
        if not rx or rx != set(range(1000, 1000 + len(rx))):
            raise AssertionError(f"(c) ids kept are not a prefix of the burst: {sorted(rx)}")
        expect_eq(queued, sent[:len(sent) - k + len(rx)],
                  f"(c) queued in the file beside the {len(rx)} ids kept")
        print(f"(c) {len(rx)} of {k} kept at the kill")
        node.start()
        c = raw_resume(node.port, "q2pub")
        burst("c", pids, dup=True)
        expect_acks(c, wire.pubrec, pids, "(c) PUBREC of a DUP resend")
        # (d) resent again in the same run, then released.
        burst("c", pids, dup=True)
        expect_acks(c, wire.pubrec, pids, "(d) PUBREC of a second DUP resend")
        c.send(b"".join(wire.pubrel(pid) for pid in pids))
        expect_acks(c, wire.pubcomp, pids, "(c) PUBCOMP")
        c.send(wire.disconnect())
        c.close()
        got = []
        done = threading.Event()

        def on_message(cl, u, m):
            got.append(m.payload)
            if len(got) >= len(sent):
                done.set()
        s, flags = paho("q2sub", node.port, on_message=on_message)
        expect_eq(flags["session present"], 1, "the subscriber's session")
        done.wait(30)
        time.sleep(0.5)  # a duplicate, if any, arrives now
        stop(s)
        node.term()
        expect_eq(got, sent, "every message once, in order")


def drain(cid, port, last):
    """Resume cid's session and read its queue up to the payload last: the payloads as
    integers, in the order they came."""
    got = []
    done = threading.Event()

    def on_message(c, u, m):
        got.append(int(m.payload))
        if got[-1] == last:
            done.set()
    s, flags = paho(cid, port, mqtt.MQTTv5, clean=False, expiry=600, on_message=on_message)
    expect_eq(flags["session present"], 1, f"{cid}: its session")
    if not done.wait(60):
        raise AssertionError(f"{cid}: {len(got)} messages, the last {got[-1:]}")
    time.sleep(0.3)  # anything after the last would be a duplicate or out of order
    stop(s)
    return got


def queues_on_disk():
    """Queues far past the head a session keeps in memory (64 messages, and a small
    persistence_queue_memory): the rest is parked on disk and read back in order, both
    while running and after kill -9; parked messages that expired are never delivered;
    a message parked for three sessions reaches each, and once all have it no row of it
    is left in the file."""
    n = 3000
    with iptest.tempdir() as d:
        node = Node(d, "persistence_queue_memory 65536\n").start()
        for cid in ("qa", "qb", "qc"):
            s, _ = paho(cid, node.port, mqtt.MQTTv5, clean=True, expiry=600)
            subscribe(s, "q/#", 1)
            stop(s)
        p, _ = paho("qpub", node.port, mqtt.MQTTv5, clean=True)
        short = Properties(PacketTypes.PUBLISH)
        short.MessageExpiryInterval = 1
        infos = [p.publish("q/x", str(i).encode(), 1,
                           properties=short if i % 100 == 50 else None) for i in range(n)]
        for info in infos:
            info.wait_for_publish(30)
        stop(p)
        time.sleep(1.5)  # the short-lived ones expire, parked
        want = [i for i in range(n) if i % 100 != 50]
        expect_eq(drain("qc", node.port, n - 1), want, "read back while running: in order, "
                  "none expired, none twice")
        node.kill9()
        node.start()
        expect_eq(f"{2 * n} queued or in flight" in node.log(), True,
                  f"two queues of {n} counted at start:\n{node.log()}")
        for cid in ("qa", "qb"):
            expect_eq(drain(cid, node.port, n - 1), want, f"{cid} after kill -9: in order, "
                      "none expired, none twice")
        node.term()
        db = sqlite3.connect(os.path.join(d, "iotplot.db"))
        left = [db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("dlvs", "msgs")]
        db.close()
        expect_eq(left, [0, 0], "delivery and message rows left once every queue is drained")


def suback_survives():
    """A SUBACK received means the subscription is committed: each round sends a burst of
    retained messages and, in the same write, a SUBSCRIBE of a persistent session to a new
    filter, and kills the broker -9 the moment the SUBACK arrives; after the restarts the
    session has every subscription acknowledged."""
    rounds = 4
    with iptest.tempdir() as d:
        node = Node(d, "persistence_sync full\n").start()
        for r in range(rounds):
            c = wire.Client(node.port)
            c.send(wire.connect("subkill", clean=False))
            expect_eq(c.read_packet()[:2], b"\x20\x02", "CONNACK")
            burst = b"".join(wire.publish(f"fill/{r}/{i}", b"x" * 2000, 1, True, pid=i + 1)
                             for i in range(1500))
            c.send(burst + wire.subscribe(5000, [(f"k/{r}", 1)]))
            while True:
                p = c.read_packet()
                if p[0] == 0x90:
                    break
                expect_eq(p[0], 0x40, "PUBACKs before the SUBACK")
            node.kill9()
            expect_eq(p, wire.suback(5000, [1]), f"SUBACK of round {r}")
            c.close()
            node.start()
        got = queue.Queue()
        s, flags = paho("subkill", node.port, on_message=lambda cl, u, m: got.put(m.topic))
        expect_eq(flags["session present"], 1, "the session")
        p, _ = paho("kpub", node.port, clean=True)
        for r in range(rounds):
            p.publish(f"k/{r}", b"m", 1).wait_for_publish(10)
        stop(p)
        topics = sorted(got.get(timeout=iptest.TIMEOUT) for _ in range(rounds))
        expect_eq(topics, [f"k/{r}" for r in range(rounds)], "every subscription acknowledged")
        stop(s)
        node.term()


def state_across(how):
    """Retained messages (5.0 properties, expiry), sessions with their subscriptions and
    identifiers, and session expiry, across kill -9 or SIGTERM."""
    with iptest.tempdir() as d:
        node = Node(d).start()
        a, _ = paho("keeper", node.port, mqtt.MQTTv5, clean=True, expiry=600)
        sp = Properties(PacketTypes.SUBSCRIBE)
        sp.SubscriptionIdentifier = 7
        subscribe(a, "r/#", 1, properties=sp)
        stop(a)
        b, _ = paho("brief", node.port, mqtt.MQTTv5, clean=True, expiry=2)
        subscribe(b, "r/#", 1)
        stop(b)
        p, _ = paho("pubr", node.port, mqtt.MQTTv5, clean=True)
        pp = Properties(PacketTypes.PUBLISH)
        pp.UserProperty = ("k", "v")
        pp.MessageExpiryInterval = 600
        p.publish("r/1", b"kept", 1, retain=True, properties=pp).wait_for_publish(10)
        short = Properties(PacketTypes.PUBLISH)
        short.MessageExpiryInterval = 1
        p.publish("r/gone", b"short", 1, retain=True, properties=short).wait_for_publish(10)
        p.publish("r/x", b"cleared-later", 1, retain=True).wait_for_publish(10)
        p.publish("r/x", b"", 1, retain=True).wait_for_publish(10)
        stop(p)
        if how == "kill":
            node.kill9()
        else:
            node.term()
        time.sleep(2.5)  # past "brief"'s session expiry and r/gone's message expiry
        node.start()
        msgs = queue.Queue()
        late, _ = paho("late", node.port, mqtt.MQTTv5, clean=True,
                       on_message=lambda c, u, m: msgs.put(m))
        subscribe(late, "r/#", 1)
        m = msgs.get(timeout=iptest.TIMEOUT)
        expect_eq((m.topic, m.payload, m.retain), ("r/1", b"kept", True), f"retained ({how})")
        expect_eq(m.properties.UserProperty, [("k", "v")], f"user property ({how})")
        left = m.properties.MessageExpiryInterval
        if not 590 <= left <= 600:
            raise AssertionError(f"message expiry after restart: {left}")
        time.sleep(0.5)
        expect_eq(msgs.qsize(), 0, f"nothing else retained ({how}): expired and cleared ones")
        stop(late)
        got = queue.Queue()
        a, flags = paho("keeper", node.port, mqtt.MQTTv5, clean=False, expiry=600,
                        on_message=lambda c, u, m: got.put(m))
        expect_eq(flags["session present"], 1, f"session present ({how})")
        m = got.get(timeout=iptest.TIMEOUT)
        expect_eq((m.topic, m.payload), ("r/1", b"kept"), f"queued for the session ({how})")
        expect_eq(m.properties.SubscriptionIdentifier, [7], f"subscription identifier ({how})")
        p, _ = paho("pubr", node.port, mqtt.MQTTv5, clean=True)
        p.publish("r/2", b"after", 1).wait_for_publish(10)
        stop(p)
        topics = []
        while not topics or topics[-1] != "r/2":
            topics.append(got.get(timeout=iptest.TIMEOUT).topic)
        expect_eq(topics, ["r/x", "r/x", "r/2"], f"queued in order, the expired one not ({how})")
        stop(a)
        b, flags = paho("brief", node.port, mqtt.MQTTv5, clean=False, expiry=2)
        expect_eq(flags["session present"], 0, f"an expired session stays expired ({how})")
        stop(b)
        node.term()


def bad_file(kind):
    """A damaged, truncated or foreign file is moved aside and the broker starts empty; a
    newer schema is refused naming its version."""
    with iptest.tempdir() as d:
        path = os.path.join(d, "iotplot.db")
        node = Node(d)
        if kind in ("truncated", "newer"):
            node.start()
            p, _ = paho("fill", node.port)
            for i in range(300):
                p.publish(f"fill/{i}", b"x" * 1000, 1, retain=True)
            p.publish("fill/end", b"x", 1, retain=True).wait_for_publish(20)
            stop(p)
            node.term()
            if kind == "truncated":
                size = os.path.getsize(path)
                with open(path, "r+b") as f:
                    f.truncate(size // 2)
            else:
                db = sqlite3.connect(path)
                db.execute("UPDATE schema_version SET version = 99")
                db.commit()
                db.close()
        elif kind == "garbage":
            with open(path, "wb") as f:
                f.write(b"this is not a database\n" * 100)
        elif kind == "foreign":
            db = sqlite3.connect(path)
            db.execute("CREATE TABLE notes(text)")
            db.execute("INSERT INTO notes VALUES('mine')")
            db.commit()
            db.close()
        if kind == "newer":
            node.start(expect_running=False)
            rc = node.proc.wait(10)
            if rc == 0 or "schema version 99" not in node.log():
                raise AssertionError(f"newer schema: exit {rc}, log:\n{node.log()}")
            expect_eq(os.path.exists(path), True, "a newer file is left where it is")
            return
        node.start()
        aside = glob.glob(path + ".broken-*")
        expect_eq(len(aside), 1, f"{kind}: files moved aside")
        lines = [x for x in node.log().splitlines() if "moved it to" in x]
        expect_eq(len(lines), 1, f"{kind}: log lines saying where")
        if aside[0] not in lines[0]:
            raise AssertionError(f"the log line does not name {aside[0]}: {lines[0]}")
        # The new store works: a retained message survives a restart.
        p, _ = paho("after", node.port)
        p.publish("after/1", b"ok", 1, retain=True).wait_for_publish(10)
        stop(p)
        node.kill9()
        node.start()
        msgs = queue.Queue()
        c, _ = paho("check", node.port, clean=True, on_message=lambda cl, u, m: msgs.put(m))
        subscribe(c, "after/#", 1)
        expect_eq(msgs.get(timeout=iptest.TIMEOUT).payload, b"ok", f"{kind}: new store works")
        stop(c)
        node.term()


def delayed_will(how):
    """A delayed will waiting in an offline session goes out after a kill -9 or SIGTERM,
    when its delay has run; one whose client came back within the delay does not."""
    with iptest.tempdir() as d:
        node = Node(d).start()
        got = queue.Queue()
        wills = {}
        for cid in ("gone", "back"):
            c = wire.Client(node.port)
            will = dict(topic=f"will/{cid}", payload=cid.encode(), qos=1, props=[(0x18, 3)])
            c.send(wire.connect(cid, wire.V5, clean=True, will=will, p=[(0x11, 600)]))
            expect_eq(c.read_packet()[0], 0x20, "CONNACK")
            wills[cid] = c
        for c in wills.values():
            c.sock.close()  # no DISCONNECT: the wills are to go out after 3 s
        iptest.eventually(lambda: node.log().count("closed its connection") >= 2
                          or node.log().count("disconnected") >= 2, what="both seen closing")
        time.sleep(0.3)  # the turn that records them
        if how == "kill":
            node.kill9()
        else:
            node.term()
        node.start()
        expect_eq("2 delayed wills" in node.log(), True, f"wills restored ({how})")
        w, _ = paho("watch", node.port, clean=True, on_message=lambda cl, u, m: got.put(m))
        subscribe(w, "will/#", 1)
        b, flags = paho("back", node.port, mqtt.MQTTv5, clean=False, expiry=600)
        expect_eq(flags["session present"], 1, "its session")
        m = got.get(timeout=iptest.TIMEOUT)
        expect_eq((m.topic, m.payload), ("will/gone", b"gone"), f"the delayed will ({how})")
        time.sleep(4)
        expect_eq(got.qsize(), 0, "the will of the client that came back")
        stop(b)
        stop(w)
        node.term()


def expired_while_down():
    """A session that expired while the broker was down ends at start as it would have
    running: its delayed will (60 s, longer than its 2 s session) is published, once, to a
    persistent watcher that was offline too; a session without a will just ends; neither
    is present afterwards."""
    with iptest.tempdir() as d:
        node = Node(d).start()
        w, _ = paho("watcher", node.port, mqtt.MQTTv5, clean=True, expiry=600)
        subscribe(w, "will/#", 1)
        stop(w)
        socks = []
        for cid, will in (("exp", dict(topic="will/exp", payload=b"exp", qos=1,
                                       props=[(0x18, 60)])), ("quiet", None)):
            c = wire.Client(node.port)
            c.send(wire.connect(cid, wire.V5, clean=True, will=will, p=[(0x11, 2)]))
            expect_eq(c.read_packet()[0], 0x20, "CONNACK")
            socks.append(c)
        for c in socks:
            c.sock.close()  # no DISCONNECT: the will waits for its delay or the session's end
        iptest.eventually(lambda: node.log().count("closed its connection") >= 2
                          or node.log().count("disconnected") >= 2, what="both seen closing")
        time.sleep(0.3)  # the turn that records them
        node.kill9()
        time.sleep(2.5)  # both sessions expire while the broker is down
        node.start()
        expect_eq("2 expired, 1 wills of those published" in node.log(), True,
                  f"the log of the start:\n{node.log()}")
        got = queue.Queue()
        w, flags = paho("watcher", node.port, mqtt.MQTTv5, clean=False, expiry=600,
                        on_message=lambda cl, u, m: got.put(m))
        expect_eq(flags["session present"], 1, "the watcher's session")
        m = got.get(timeout=iptest.TIMEOUT)
        expect_eq((m.topic, m.payload), ("will/exp", b"exp"), "the will of the expired session")
        stop(w)
        for cid in ("exp", "quiet"):
            c, flags = paho(cid, node.port, mqtt.MQTTv5, clean=False, expiry=2)
            expect_eq(flags["session present"], 0, f"{cid}: expired, not resumed")
            stop(c)
        node.term()
        node.start()
        w, flags = paho("watcher", node.port, mqtt.MQTTv5, clean=False, expiry=600,
                        on_message=lambda cl, u, m: got.put(m))
        time.sleep(1)
        expect_eq(got.qsize(), 0, "the will again after another restart")
        stop(w)
        node.term()


def puback_reason(c):
    """The reason code of the next packet, a PUBACK (0 when it has none)."""
    p = c.read_packet()
    expect_eq(p[0], 0x40, "a PUBACK")
    return p[4] if len(p) > 4 else 0


def full_disk():
    """On a full disk nothing is acknowledged: 5.0 gets 0x97, 3.1.1 is disconnected; one
    log line, a $SYS counter, and it recovers when space returns."""
    if os.geteuid() != 0:
        print("skipped: mounting a small tmpfs needs root")
        return
    with iptest.tempdir() as d:
        mnt = os.path.join(d, "small")
        os.mkdir(mnt)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt]).returncode:
            print("skipped: cannot mount a tmpfs here")
            return
        node = None
        try:
            node = Node(d, "sys_interval 1\n", location=mnt).start()
            c5 = wire.Client(node.port)
            c5.send(wire.connect("full5", wire.V5))
            expect_eq(c5.read_packet()[0], 0x20, "CONNACK")
            refused = 0
            for i in range(1, 400):
                c5.send(wire.publish(f"fill/{i}", b"x" * 20000, 1, True, pid=i, v=wire.V5))
                rc = puback_reason(c5)
                if rc:
                    expect_eq(rc, 0x97, "the refusal")
                    refused = i
                    break
            if not refused:
                raise AssertionError("1 MB never filled up")
            c3 = wire.Client(node.port)
            c3.send(wire.connect("full3", wire.V311))
            expect_eq(c3.read_packet()[0], 0x20, "CONNACK")
            c3.send(wire.publish("fill/3", b"y" * 20000, 1, True, pid=1))
            c3.expect_closed("a 3.1.1 publisher whose message could not be stored")
            for i in range(3):
                c5.send(wire.publish(f"more/{i}", b"x" * 20000, 1, True, pid=1000 + i,
                                     v=wire.V5))
                expect_eq(puback_reason(c5), 0x97, "still refused")
            msgs = queue.Queue()
            w, _ = paho("watch", node.port, clean=True, on_message=lambda cl, u, m: msgs.put(m))
            subscribe(w, "$SYS/broker/store/commits/failed", 0)
            iptest.eventually(lambda: int(msgs.get(timeout=5).payload) >= 5,
                              what="$SYS/broker/store/commits/failed counting")
            stop(w)
            lines = [x for x in node.log().splitlines() if "writing the persistence file" in x]
            expect_eq(len(lines), 1, "log lines about the failed commits (at most one a minute)")
            # A refused PUBREC ends its flow: the id is free for a new message.
            c5.send(wire.publish("back/2", b"r" * 20000, 2, True, pid=3000, v=wire.V5))
            p = c5.read_packet()
            expect_eq((p[0], p[4:5]), (0x50, b"\x97"), "a QoS 2 PUBLISH refused by PUBREC")
            # The same when the refusal finds no connection: this one is gone before it.
            q2 = wire.Client(node.port)
            q2.send(wire.connect("full3q2", clean=False))
            expect_eq(q2.read_packet()[:2], b"\x20\x02", "CONNACK")
            q2.send(wire.publish("back/3", b"q" * 20000, 2, True, pid=7))
            q2.close()
            time.sleep(0.5)  # its commit fails meanwhile
            subprocess.run(["mount", "-o", "remount,size=64m", mnt], check=True)
            q2 = raw_resume(node.port, "full3q2")
            q2.send(wire.publish("back/3", b"q" * 20000, 2, True, dup=True, pid=7))
            expect_eq(q2.read_packet(), wire.pubrec(7), "the resend of a refused PUBLISH")
            q2.send(wire.pubrel(7))
            expect_eq(q2.read_packet(), wire.pubcomp(7), "its PUBCOMP")
            q2.close()
            c5.send(wire.publish("back/1", b"stored", 1, True, pid=2000, v=wire.V5))
            expect_eq(puback_reason(c5), 0, "acknowledged once space is back")
            c5.send(wire.publish("back/2", b"again", 2, True, pid=3000, v=wire.V5))
            expect_eq(c5.read_packet(), wire.pubrec(3000), "a new message under the refused id")
            c5.send(wire.pubrel(3000))
            expect_eq(c5.read_packet(), wire.pubcomp(3000), "its PUBCOMP")
            c5.close()
            node.kill9()
            node.start()
            got = queue.Queue()
            r, _ = paho("check", node.port, clean=True, on_message=lambda cl, u, m: got.put(m))
            subscribe(r, "back/#", 1)
            kept = {}
            for _ in range(3):
                m = got.get(timeout=iptest.TIMEOUT)
                kept[m.topic] = m.payload
            expect_eq(kept, {"back/1": b"stored", "back/2": b"again", "back/3": b"q" * 20000},
                      "kept after recovery")
            stop(r)
            node.term()
        finally:
            if node and node.proc and node.proc.poll() is None:
                node.kill9()
            subprocess.run(["umount", mnt])


def main():
    r = iptest.Results()
    check = r.check

    def cleaned(name, fn):
        try:
            check(name, fn)
        finally:
            stop_all()
    r.check = cleaned
    r.check("kill -9 mid-stream, QoS 1: nothing acknowledged is lost", lambda: kill_mid_stream(1))
    r.check("kill -9 mid-stream, QoS 2: nothing lost, nothing twice", lambda: kill_mid_stream(2))
    r.check("QoS 2 at chosen kill points: PUBREC means stored, DUP resends not routed",
            qos2_kill_points)
    r.check("queues on disk: paged in order, expiry, rows gone when drained", queues_on_disk)
    r.check("SUBACK only once the subscription is committed: kill -9 after it",
            suback_survives)
    r.check("state across kill -9", lambda: state_across("kill"))
    r.check("state across SIGTERM", lambda: state_across("term"))
    for kind in ("garbage", "truncated", "foreign", "newer"):
        r.check(f"bad store: {kind}", lambda kind=kind: bad_file(kind))
    r.check("delayed will across kill -9", lambda: delayed_will("kill"))
    r.check("delayed will across SIGTERM", lambda: delayed_will("term"))
    r.check("a session expired while the broker was down: its will goes out at start",
            expired_while_down)
    r.check("full disk: refused, never acknowledged; recovers", full_disk)
    r.finish()


if __name__ == "__main__":
    main()
