"""per_listener_settings: two listeners with their own password files, ACLs, anonymous
access, client id rules and assigned id prefix; and the same lines without the flag, where
the last of each applies to both. Every observation is made against mosquitto 2.0 too, and
the two brokers must agree."""
import contextlib
import os
import queue
import subprocess
import time

import paho.mqtt.client as mqtt

import iptest
from configtest import Running, peer, write, main_checks
from iptest import expect_eq

H = iptest.HOST


def files(d):
    """alice (password file a, ACL a/#) and bob (password file b, ACL b/#)."""
    for name, user, pw in (("a", "alice", "apw"), ("b", "bob", "bpw")):
        r = iptest.run([iptest.binary(), "passwd", "-I", "1000", "-c", "-b", f"{d}/{name}.pw",
                        user, pw])
        expect_eq(r.returncode, 0, f"iotplot passwd: {r.stderr}")
        write(f"{d}/{name}.acl", f"user {user}\ntopic readwrite {name}/#\n")


def conf(d, per_listener, ports=(0, 0)):
    """With the flag, each listener its own lines. Without it, the lines under the first
    listener are broker-wide (mosquitto refuses a second password_file then)."""
    return (f"per_listener_settings {'true' if per_listener else 'false'}\n"
            f"listener {ports[0]} {H}\n"
            f"password_file {d}/a.pw\nacl_file {d}/a.acl\nallow_anonymous false\n"
            f"auto_id_prefix A-\n"
            f"listener {ports[1]} {H}\n" +
            (f"password_file {d}/b.pw\nacl_file {d}/b.acl\nallow_anonymous true\n"
             f"allow_zero_length_clientid false\n" if per_listener else ""))


def outcome(v):
    """What both brokers must agree on: accepted or refused (mosquitto's codes differ:
    5 for a wrong password where 3.1.1 has 4; a denied subscription granted anyway), what
    came back, the assigned id's prefix."""
    if isinstance(v, int):
        return "accepted" if v == 0 else "refused"
    if isinstance(v, tuple) and isinstance(v[0], list):
        return v[1]
    return (outcome(v[0]), v[1])


def login(port, user, pw, proto=mqtt.MQTTv311, cid="x"):
    with peer(port, cid, proto=proto, user=user, pw=pw) as p:
        rc, props = p.connect()
        return rc, getattr(props, "AssignedClientIdentifier", None)


def reach(port, user, pw):
    """What user may do on port: the granted codes of a/# and b/#, and the topics of its
    own messages to a/1 and b/1 that came back to it."""
    with peer(port, f"r-{user}", user=user, pw=pw) as p:
        rc, _ = p.connect()
        if rc:
            return rc
        granted = [p.sub("a/#", 1)[0], p.sub("b/#", 1)[0]]
        for t in ("a/1", "b/1"):
            p.c.publish(t, "x", 1).wait_for_publish(iptest.TIMEOUT)
        p.c.publish("end", "x", 1).wait_for_publish(iptest.TIMEOUT)
        time.sleep(0.3)  # deliveries, if any, arrive before the publish round trip ends
        got = []
        with contextlib.suppress(queue.Empty):
            while True:
                got.append(p.msgs.get(timeout=0.2).topic)
        return granted, sorted(got)


def observe(ports):
    a, b = ports
    seen = {}
    for user, pw in (("alice", "apw"), ("bob", "bpw"), (None, None)):
        for name, port in (("A", a), ("B", b)):
            seen[f"{user} on {name}"] = login(port, user, pw)[0]
    seen["alice's reach on A"] = reach(a, "alice", "apw")
    seen["bob's reach on B"] = reach(b, "bob", "bpw")
    for name, port in (("A", a), ("B", b)):
        rc, assigned = login(port, "alice", "apw", mqtt.MQTTv5, cid="")
        seen[f"empty id on {name} (5.0)"] = (rc, (assigned or "")[:2])
        rc, assigned = login(port, "bob", "bpw", mqtt.MQTTv5, cid="")
        seen[f"bob, empty id on {name} (5.0)"] = (rc, (assigned or "")[:2])
    return seen


def both(per_listener, want):
    with iptest.tempdir() as d:
        os.chmod(d, 0o755)
        files(d)
        with Running(write(f"{d}/ours.conf", conf(d, per_listener))) as b:
            ours = observe(b.ports)
        ports = (iptest.free_port(), iptest.free_port())
        text = conf(d, per_listener, ports) + ("user root\n" if os.geteuid() == 0 else "")
        write(f"{d}/m.conf", text)
        log = open(f"{d}/m.log", "w")
        proc = subprocess.Popen(["mosquitto", "-c", f"{d}/m.conf"], stdout=log,
                            stderr=log)
        try:
            for p in ports:
                iptest.wait_port(p, proc=proc)
            theirs = observe(ports)
        finally:
            iptest.stop(proc)
            log.close()
    expect_eq({k: outcome(v) for k, v in ours.items()},
              {k: outcome(v) for k, v in theirs.items()}, "iotplot broker and mosquitto")
    for k, v in want.items():
        expect_eq(ours[k], v, k)


def per_listener():
    # alice only on A, bob only on B; anonymous only on B; the ACL of each listener's file.
    both(True, {"alice on A": 0, "alice on B": 4, "bob on A": 4, "bob on B": 0,
                "None on A": 5, "None on B": 0,
                "alice's reach on A": ([1, 128], ["a/1"]),
                "bob's reach on B": ([128, 1], ["b/1"]),
                "empty id on A (5.0)": (0, "A-"), "bob, empty id on B (5.0)": (133, "")})


def global_settings():
    # Without the flag the lines under the first listener hold for the second too.
    both(False, {"alice on A": 0, "alice on B": 0, "bob on A": 4, "bob on B": 4,
                 "None on A": 5, "None on B": 5,
                 "alice's reach on A": ([1, 128], ["a/1"]),
                 "empty id on B (5.0)": (0, "A-")})


def psk_per_listener():
    """Two TLS-PSK listeners, each with its own psk_file: a device's key opens its own
    listener only; without the flag the one psk_file serves both."""
    key1, key2 = "00112233445566778899aabbccddeeff", "ffeeddccbbaa99887766554433221100"
    with iptest.tempdir() as d:
        k1 = write(f"{d}/k1", f"dev1:{key1}\n")
        k2 = write(f"{d}/k2", f"dev2:{key2}\n")

        def pub(port, ident, key):
            # Published (0) or refused (1). A refused handshake ends mosquitto_pub with 1 or
            # with 8 (its TLS error), depending on which side of it notices first.
            rc = iptest.run(["mosquitto_pub", "-h", H, "-p", str(port), "--psk", key,
                             "--psk-identity", ident, "-t", "psk", "-m", "x"]).returncode
            return 1 if rc in (1, 8) else rc
        text = (f"per_listener_settings true\nlistener 0 {H}\npsk_hint one\npsk_file {k1}\n"
                f"allow_anonymous true\nlistener 0 {H}\npsk_hint two\npsk_file {k2}\n"
                f"allow_anonymous true\n")
        with Running(write(f"{d}/own.conf", text)) as b:
            a, c = b.ports
            expect_eq([pub(a, "dev1", key1), pub(c, "dev1", key1), pub(c, "dev2", key2),
                       pub(a, "dev2", key2)], [0, 1, 0, 1], "each key on its own listener")
        text = (f"listener 0 {H}\npsk_hint one\nallow_anonymous true\npsk_file {k1}\n"
                f"listener 0 {H}\npsk_hint two\n")
        with Running(write(f"{d}/global.conf", text)) as b:
            a, c = b.ports
            expect_eq([pub(a, "dev1", key1), pub(c, "dev1", key1)], [0, 0], "one psk_file")


main_checks([("per_listener_settings true", per_listener),
             ("per_listener_settings false", global_settings),
             ("psk_file per listener", psk_per_listener)])
