"""`iotplot serve -c` in a classroom: `allow_anonymous false`, a password file and
`pattern readwrite %u/#`. Students alice and bob publish with paho; each one's files land
in a folder of their name and nobody else's message writes there; /plots/ needs the same
login as MQTT (HTTP Basic, plain and over TLS) and serves each user only their folder;
the series store is never served, with or without logins; a FIFO is a quick 404 while
the loop goes on serving others."""
import os
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ["IOTPLOT_SRC"], "tests", "interop", "security"))
import paho.mqtt.client as mqtt  # noqa: E402

import iptest  # noqa: E402
from iptest import expect_eq  # noqa: E402
from sectest import passwd_file, pki, round_trips_while  # noqa: E402
import wire  # noqa: E402 (on the path sectest sets)

USERS = {"alice": "alice pw", "bob": "b0b"}
STORE = ("iotplot-series.db", "iotplot-series.db-wal", "iotplot-series.db-shm")


basic = iptest.basic_auth


get = iptest.http_get


class Student:
    """A paho client logged in as one user; publishes wait for PUBACK."""

    def __init__(self, port, user, proto):
        self.c = mqtt.Client(f"{user}-{proto}", protocol=proto)
        self.c.username_pw_set(user, USERS[user])
        self.got = []
        self.c.on_message = lambda c, u, m: self.got.append((m.topic, m.payload))
        self.c.connect(iptest.HOST, port)
        self.c.loop_start()
        iptest.eventually(self.c.is_connected, what=f"{user} connected")

    def pub(self, topic, payload):
        info = self.c.publish(topic, payload, qos=1)
        info.wait_for_publish(iptest.TIMEOUT)
        return info

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


def classroom_config(d, ports, certs=None):
    pw = os.path.join(d, "passwd")
    passwd_file(pw, USERS)
    acl = os.path.join(d, "acl")
    with open(acl, "w") as f:
        f.write("pattern readwrite %u/#\n")
    tls = f"listener {ports[2]} 127.0.0.1\nprotocol websockets\ncertfile {certs}/server.pem\n" \
          f"keyfile {certs}/server.key\n" if certs else ""
    conf = os.path.join(d, "broker.conf")
    with open(conf, "w") as f:
        f.write(f"allow_anonymous false\npassword_file {pw}\nacl_file {acl}\n"
                f"listener {ports[0]} 127.0.0.1\n"
                f"listener {ports[1]} 127.0.0.1\nprotocol websockets\n{tls}")
    return conf


def serve(d, out, conf=None):
    log = open(os.path.join(d, "serve.log"), "w+")
    args = [iptest.binary(), "serve", "-d", out]
    args += ["-c", conf] if conf else ["-p", str(iptest.free_port()), "--http-port", str(iptest.free_port())]
    p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    return p, log


def save(student, session, series, filename):
    student.pub(f"{session}/new_series", f'["{series}", "x", "y"]')
    student.pub(f"{session}/data", f'["{series}", 1, 2]')
    student.pub(f"{session}/save_series", f'["{series}", "{filename}"]')


def wait_file(path, what):
    return iptest.eventually(lambda: os.path.isfile(path), timeout=20, what=what)


def store_never_served(port, headers=None, tls=None):
    """Every spelling of the store and the temporary folder is refused."""
    paths = [f"/plots/{n}" for n in STORE] + [
        "/plots/%69otplot-series.db", "/plots/iotplot%2Dseries.db-wal", "/plots//iotplot-series.db",
        "/plots/./iotplot-series.db", "/plots/alice/../iotplot-series.db", "/plots/iotplot-series.db?x=1",
        "/plots/iotplot-series.db%00", "/plots/.iotplot-tmp/", "/plots/alice/link-to-store",
        "/plots/alice/link-to-wal", "/%70lots/iotplot-series.db", "/plots/IOTPLOT-SERIES.DB",
    ]
    for path in paths:
        status, _, body = get(port, path, headers, tls)
        if status == 200 or b"SQLite format" in body:
            raise AssertionError(f"{path} served the store ({status})")


def classroom():
    with pki() as certs, iptest.tempdir() as d:
        ports = [iptest.free_port() for _ in range(3)]
        out = os.path.join(d, "plots")
        p, log = serve(d, out, classroom_config(d, ports, certs))
        students = []
        try:
            iptest.wait_port(ports[1], proc=p)
            alice = Student(ports[0], "alice", mqtt.MQTTv311)
            bob = Student(ports[0], "bob", mqtt.MQTTv5)
            students = [alice, bob]
            save(alice, "alice", "s", "secret.pkl")
            wait_file(os.path.join(out, "alice", "secret.pkl"), "alice's file in DIR/alice")
            with open(os.path.join(out, "alice", "secret.pkl"), "rb") as f:
                alices = f.read()
            # bob saves under the same name, under alice's folder name and at the top
            save(bob, "bob", "s", "secret.pkl")
            save(bob, "bob", "t", "alice/secret.pkl")
            save(bob, "bob", "u", "index.json")  # a top-level name
            wait_file(os.path.join(out, "bob", "secret.pkl"), "bob's file in DIR/bob")
            wait_file(os.path.join(out, "bob", "alice", "secret.pkl"), "bob's alice/ in DIR/bob")
            wait_file(os.path.join(out, "bob", "index.json"), "bob's index.json in DIR/bob")
            with open(os.path.join(out, "alice", "secret.pkl"), "rb") as f:
                expect_eq(f.read(), alices, "alice's file after bob's saves")
            if os.path.exists(os.path.join(out, "index.json")) or os.path.exists(os.path.join(out, "secret.pkl")):
                raise AssertionError("a file landed outside the users' folders")
            # bob may not even publish into alice's session (the ACL)
            info = bob.pub("alice/save_series", '["s", "x.pkl"]')
            time.sleep(0.3)
            if os.path.exists(os.path.join(out, "alice", "x.pkl")):
                raise AssertionError(f"bob wrote into alice's folder ({info.rc})")

            # HTTP: the same logins, each user their own folder only
            for tls in (None, ssl._create_unverified_context()):
                port = ports[2] if tls else ports[1]
                status, head, _ = get(port, "/plots/alice/secret.pkl", tls=tls)
                expect_eq(status, 401, "no credentials")
                expect_eq(head.get("www-authenticate", "").startswith('Basic realm="iotplot"'), True,
                          f"WWW-Authenticate {head}")
                expect_eq(get(port, "/plots/alice/secret.pkl", basic("alice", "wrong"), tls)[0], 401, "wrong password")
                expect_eq(get(port, "/plots/alice/secret.pkl", basic("carol", "x"), tls)[0], 401, "unknown user")
                status, _, body = get(port, "/plots/alice/secret.pkl", basic("alice", USERS["alice"]), tls)
                expect_eq((status, body), (200, alices), "alice reads her file")
                expect_eq(get(port, "/plots/bob/secret.pkl", basic("alice", USERS["alice"]), tls)[0], 404,
                          "alice reads bob's file")
                expect_eq(get(port, "/plots/bob/alice/secret.pkl", basic("alice", USERS["alice"]), tls)[0], 404,
                          "alice reads bob's alice/ file")
                expect_eq(get(port, "/plots/bob/secret.pkl", basic("bob", USERS["bob"]), tls)[0], 200,
                          "bob reads his file")
                expect_eq(get(port, "/plots/alice/secret.pkl", basic("bob", USERS["bob"]), tls)[0], 404,
                          "bob reads alice's file")
                # the console itself needs no login, and says that /plots/ does
                status, head, _ = get(port, "/", tls=tls)
                expect_eq((status, head.get("x-iotplot-plots")), (200, "private"), "console page")

            # the store: links to it planted in alice's folder, every spelling, any login
            os.symlink(os.path.join(out, "iotplot-series.db"), os.path.join(out, "alice", "link-to-store"))
            os.symlink("../iotplot-series.db-wal", os.path.join(out, "alice", "link-to-wal"))
            for h in (None, basic("alice", USERS["alice"]), basic("bob", USERS["bob"])):
                store_never_served(ports[1], h)

            # a FIFO: 404 at once, and the loop keeps serving another client
            os.mkfifo(os.path.join(out, "alice", "pipe.pkl"))
            t0 = time.monotonic()
            status = get(ports[1], "/plots/alice/pipe.pkl", basic("alice", USERS["alice"]), timeout=5)[0]
            expect_eq(status, 404, "FIFO")
            if time.monotonic() - t0 > 2:
                raise AssertionError(f"FIFO answered after {time.monotonic() - t0:.1f}s")
            bob.c.subscribe("bob/echo", 1)
            time.sleep(0.2)
            t0 = time.monotonic()
            bob.pub("bob/echo", "ping")
            iptest.eventually(lambda: ("bob/echo", b"ping") in bob.got, timeout=5, what="bob's round trip")
            rtt = time.monotonic() - t0
            if rtt > 1:
                raise AssertionError(f"round trip after the FIFO took {rtt:.2f}s")
            # and once more with the FIFO opened by nobody: still served, still quick
            expect_eq(get(ports[1], "/plots/alice/pipe.pkl", basic("alice", USERS["alice"]), timeout=5)[0], 404,
                      "FIFO again")
        finally:
            for s in students:
                s.close()
            expect_eq(iptest.stop(p), 0, "serve exit code")
            log.close()


def open_serve():
    """Without logins everything stays as it was: files at the top, /plots/ for anyone;
    but the store is never served here either."""
    with iptest.tempdir() as d:
        out = os.path.join(d, "plots")
        p, log = serve(d, out)
        try:
            def ports():
                log.seek(0)
                text = log.read()
                import re
                m, h = re.search(r"broker on \S+?:(\d+)", text), re.search(r"console at http://\S+?:(\d+)/", text)
                return (int(m.group(1)), int(h.group(1))) if m and h else None
            mqtt_port, http_port = iptest.eventually(ports, what="serve printed its ports")
            c = mqtt.Client("anon")
            c.connect(iptest.HOST, mqtt_port)
            c.loop_start()
            try:
                for t, m in (("new_series", '["s", "x"]'), ("data", '["s", 1]'), ("save_series", '["s", "open.pkl"]')):
                    c.publish(f"anon/{t}", m, qos=1).wait_for_publish(iptest.TIMEOUT)
            finally:
                c.disconnect()
                c.loop_stop()
            wait_file(os.path.join(out, "open.pkl"), "the file at the top of DIR")
            status, head, _ = get(http_port, "/plots/open.pkl")
            expect_eq((status, head.get("x-iotplot-plots")), (200, None), "open.pkl without a login")
            wait_file(os.path.join(out, "iotplot-series.db"), "the store")
            os.mkdir(os.path.join(out, "alice"))
            os.symlink(os.path.join(out, "iotplot-series.db"), os.path.join(out, "alice", "link-to-store"))
            os.symlink("../iotplot-series.db-wal", os.path.join(out, "alice", "link-to-wal"))
            store_never_served(http_port)
            os.mkfifo(os.path.join(out, "fifo"))
            expect_eq(get(http_port, "/plots/fifo", timeout=5)[0], 404, "FIFO without logins")
            expect_eq(get(http_port, "/plots/open.pkl")[0], 200, "served after the FIFO")
        finally:
            expect_eq(iptest.stop(p), 0, "serve exit code")
            log.close()


def _http_guess(port, user, stop, counts):
    """Wrong /plots/ passwords in a loop, each answered (401) before the next."""
    n = 0
    while not stop.is_set():
        status, _, _ = get(port, f"/plots/{user}/x.csv", basic(user, f"wrong{n}"), timeout=30)
        expect_eq(status, 401, f"{user}'s wrong password {n}")
        n += 1
    counts.append(n)


def http_logins_off_the_loop():
    """Eight HTTP clients guess /plots/ passwords hashed with 210,000 PBKDF2 iterations;
    alice, logged in over MQTT, measures PINGREQ -> PINGRESP meanwhile: an HTTP login,
    like a CONNECT, never makes the loop wait for its hash."""
    with iptest.tempdir() as d:
        pw = os.path.join(d, "passwd")
        iptest.run([iptest.binary(), "passwd", "-b", "-c", pw, "alice", "a"], check=True,
                   timeout=60)  # the default: 210,000 iterations
        for i in range(8):
            iptest.run([iptest.binary(), "passwd", "-b", pw, f"g{i}", "secret"], check=True,
                       timeout=60)
        ports = [iptest.free_port() for _ in range(2)]
        conf = os.path.join(d, "broker.conf")
        with open(conf, "w") as f:
            f.write(f"allow_anonymous false\npassword_file {pw}\nmax_login_failures 0\n"
                    f"max_address_failures 0\nlistener {ports[0]} 127.0.0.1\n"
                    f"listener {ports[1]} 127.0.0.1\nprotocol websockets\n")
        p, log = serve(d, os.path.join(d, "plots"), conf)
        try:
            iptest.wait_port(ports[1], proc=p)
            alice = wire.Client(ports[0], timeout=30)
            alice.send(wire.connect("alice", user="alice", pw="a")).expect(wire.our_connack())
            round_trips_while(alice, _http_guess, [(ports[1], f"g{i}") for i in range(8)],
                              "wrong HTTP logins")
            # the right password still works, after its hash
            status, _, _ = get(ports[1], "/plots/alice/none.csv", basic("alice", "a"))
            expect_eq(status, 404, "alice logged in over HTTP: her missing file")
            alice.close()
        finally:
            iptest.stop(p)
            log.close()


results = iptest.Results()
results.check("serve -c classroom: own folders, HTTP logins, store and FIFO", classroom)
results.check("serve without logins: as before, the store never served", open_serve)
results.check("HTTP logins hash off the loop: PINGREQ p99 under 100 ms", http_logins_off_the_loop)
results.finish()
