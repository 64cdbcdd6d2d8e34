"""Bridges against a real mosquitto (Debian's, 127.0.0.1, ephemeral ports, paho 1.6.1):
ours to mosquitto out, in and both ways at QoS 0, 1 and 2, with prefixes, over 3.1, 3.1.1
and 5.0; mosquitto bridging into ours; notifications and client ids; fail-over and logins;
a remote stopped and started while a publisher goes on, a hand-made remote that never
acknowledges, the queue across a restart; two brokers bridged both ways on the same
topics; TLS (certificates, a throwaway CA made with openssl) and TLS-PSK.

BRIDGE_ONLY=<function name> runs one check alone."""
import contextlib
import os
import queue
import subprocess
import threading
import time

import paho.mqtt.client as mqtt

import iptest
from iptest import expect_eq


class Ours:
    """`iotplot broker` on an ephemeral port with `extra` lines of configuration."""

    def __init__(self, d, extra="", port=None, name="ours"):
        self.port = port or iptest.free_port()
        self.conf = os.path.join(d, f"{name}.conf")
        self.logpath = os.path.join(d, f"{name}.log")
        with open(self.conf, "w") as f:
            f.write(f"listener {self.port} {iptest.HOST}\nallow_anonymous true\n" + extra)
        self.proc = None

    def start(self):
        log = open(self.logpath, "a")
        self.proc = subprocess.Popen([iptest.binary(), "broker", "-c", self.conf, "-v"],
                                     stdout=log, stderr=subprocess.STDOUT)
        log.close()
        iptest.wait_port(self.port, proc=self.proc)
        return self

    def log(self):
        with open(self.logpath) as f:
            return f.read()

    def kill(self):
        """SIGKILL: nothing is flushed or closed on the way out."""
        self.proc.kill()
        self.proc.wait(timeout=10)
        self.proc = None

    def stop(self):
        if self.proc:
            iptest.stop(self.proc)
            self.proc = None


@contextlib.contextmanager
def ours(d, extra="", **kw):
    o = Ours(d, extra, **kw).start()
    try:
        yield o
    finally:
        o.stop()


class Sub:
    """A paho subscriber collecting (topic, payload, qos, retain)."""

    def __init__(self, port, topics, qos=2, client_id="", clean=True):
        self.q = queue.Queue()
        self.c = mqtt.Client(client_id=client_id, clean_session=clean)
        self.c.on_message = lambda c, u, m: self.q.put((m.topic, m.payload.decode(), m.qos,
                                                        bool(m.retain)))
        subscribed = threading.Event()
        self.c.on_subscribe = lambda *a: subscribed.set()
        self.c.connect(iptest.HOST, port)
        self.c.loop_start()
        self.c.subscribe([(t, qos) for t in topics])
        if not subscribed.wait(iptest.TIMEOUT):
            raise TimeoutError("no SUBACK")

    def get(self, timeout=iptest.TIMEOUT):
        return self.q.get(timeout=timeout)

    def drain(self, wait=0.5):
        time.sleep(wait)
        out = []
        while not self.q.empty():
            out.append(self.q.get())
        return out

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


def publish(port, topic, payload, qos=0, retain=False):
    r = subprocess.run(["mosquitto_pub", "-h", iptest.HOST, "-p", str(port), "-t", topic,
                        "-m", payload, "-q", str(qos)] + (["-r"] if retain else []),
                       capture_output=True, text=True, timeout=iptest.TIMEOUT)
    expect_eq(r.returncode, 0, r.stderr)


def bridged(sub_port, pub_port, topic, want_topic, qos, tries=40):
    """Publish on pub_port until a subscriber on sub_port sees it (the bridge may still be
    connecting), then check one message at the QoS asked."""
    s = Sub(sub_port, [want_topic])
    try:
        for i in range(tries):
            publish(pub_port, topic, f"probe{i}", 0)
            try:
                s.get(timeout=0.25)
                break
            except queue.Empty:
                continue
        else:
            raise TimeoutError(f"nothing crossed from {topic} to {want_topic}")
        s.drain(0.3)
        publish(pub_port, topic, f"q{qos}", qos)
        got = s.get()
        expect_eq(got[:3], (want_topic, f"q{qos}", qos), "message across the bridge")
        expect_eq(s.drain(0.3), [], "nothing more")
    finally:
        s.close()


def bridge_conf(name, port, lines, version=None):
    v = f"bridge_protocol_version {version}\n" if version else ""
    return f"connection {name}\naddress {iptest.HOST}:{port}\n{v}" + "".join(
        line + "\n" for line in lines)


def out_in_both(version):
    with iptest.tempdir() as d, iptest.mosquitto() as (mport, _):
        conf = bridge_conf("up", mport, ["topic out/# out 2", "topic in/# in 2",
                                         "topic # both 2 L/ R/"], version)
        with ours(d, conf) as o:
            for qos in (0, 1, 2):
                bridged(mport, o.port, "out/a", "out/a", qos)
                bridged(o.port, mport, "in/b", "in/b", qos)
                bridged(mport, o.port, "L/x/1", "R/x/1", qos)
                bridged(o.port, mport, "R/y/2", "L/y/2", qos)


def prefix_rules():
    """mosquitto's table: no pattern (both prefixes are the topics), one empty prefix."""
    with iptest.tempdir() as d, iptest.mosquitto() as (mport, _):
        conf = bridge_conf("up", mport, ['topic "" both 1 loc/one rem/one',
                                         'topic p/# out 1 "" R2/', 'topic q/# in 1 L2/ ""'])
        with ours(d, conf) as o:
            bridged(mport, o.port, "loc/one", "rem/one", 1)
            bridged(o.port, mport, "rem/one", "loc/one", 1)
            bridged(mport, o.port, "p/a", "R2/p/a", 1)
            bridged(o.port, mport, "q/b", "L2/q/b", 1)


def qos_capped_by_topic_line():
    """The line's QoS is the subscription's on each side: QoS 2 in, QoS 1 crossing."""
    with iptest.tempdir() as d, iptest.mosquitto() as (mport, _):
        with ours(d, bridge_conf("up", mport, ["topic c/# out 1"])) as o:
            bridged(mport, o.port, "c/a", "c/a", 1)
            s = Sub(mport, ["c/#"])
            try:
                publish(o.port, "c/a", "two", 2)
                expect_eq(s.get()[:3], ("c/a", "two", 1), "QoS of the topic line")
            finally:
                s.close()


def notifications_and_client_ids():
    with iptest.tempdir() as d, iptest.mosquitto("log_type all\n") as (mport, _):
        conf = bridge_conf("up", mport, ["topic n/# out 0", "remote_clientid edge-1"])
        with ours(d, conf) as o:
            bridged(mport, o.port, "n/a", "n/a", 0)
            topic = "$SYS/broker/connection/edge-1/state"
            for port in (o.port, mport):
                s = Sub(port, [topic])
                try:
                    expect_eq(s.get()[1:], ("1", 0 if port == mport else 1, True), f"notification on {port}")
                finally:
                    s.close()
            expect_eq("local.edge-1" in o.log(), True, "local client id local.<remote_clientid>")
        # Our broker gone, mosquitto has the bridge's will: "0", retained.
        s = Sub(mport, [topic])
        try:
            expect_eq(s.get()[1:], ("0", 1, True), "the will on the remote")
        finally:
            s.close()


def default_remote_clientid():
    with iptest.tempdir() as d, iptest.mosquitto("log_type all\n") as (mport, mproc):
        with ours(d, bridge_conf("edge", mport, ["topic n/# out 0"])) as o:
            bridged(mport, o.port, "n/a", "n/a", 0)
            host = os.uname().nodename
            topic = f"$SYS/broker/connection/{host}.edge/state"
            s = Sub(o.port, [topic])
            try:
                expect_eq(s.get()[1:], ("1", 1, True), "hostname.NAME")
            finally:
                s.close()


def mosquitto_into_ours():
    """mosquitto is the local side, its `connection` to us (3.1.1 + the bridge bit)."""
    with iptest.tempdir() as d, ours(d, "log_type all\n") as o:
        conf = bridge_conf("m2o", o.port, ["topic a/# both 2", "topic b/# in 1",
                                            "topic c/# out 1 M/ O/"])
        with iptest.mosquitto(conf) as (mport, _):
            for qos in (0, 1, 2):
                bridged(o.port, mport, "a/1", "a/1", qos)
                bridged(mport, o.port, "a/2", "a/2", qos)
            bridged(mport, o.port, "b/1", "b/1", 1)
            bridged(o.port, mport, "M/c/1", "O/c/1", 1)


def config_errors():
    with iptest.tempdir() as d:
        cases = [
            ("connection x\ntopic a/#\n", "has no address"),
            ("topic a/#\n", "must follow the 'connection' line"),
            ("connection x\naddress h\ntopic \"\" out 0 \"\" r/\n", "needs both"),
            ("connection x\naddress h\ntopic a/# out 0 L/+/ r/\n", "local prefix"),
            ("connection x\naddress h\nstart_type manual\n",
             "start_type must be automatic, lazy or once"),
            ("connection x\naddress h\nbridge_bind_address 1.2.3.4\n", "needs this bridge"),
            ("connection x\naddress h\nidle_timeout 0\n", "idle_timeout"),
            ("connection x\naddress h\nthreshold 0\n", "threshold"),
            ("connection x\naddress h\nkeepalive_interval 2\n", "keepalive_interval"),
        ]
        for text, want in cases:
            conf = os.path.join(d, "bad.conf")
            with open(conf, "w") as f:
                f.write(f"listener {iptest.free_port()} {iptest.HOST}\n" + text)
            r = subprocess.run([iptest.binary(), "broker", "-c", conf], capture_output=True,
                               text=True, timeout=iptest.TIMEOUT)
            expect_eq(r.returncode != 0, True, f"exit code for {text!r}")
            expect_eq(want in r.stderr and f"{conf}:" in r.stderr, True, r.stderr)


def exactly_once_both_ways(d, ours_port, mport):
    """One message published on each side reaches a subscriber on each side once."""
    subs = {"ours": Sub(ours_port, ["t/#"]), "mosquitto": Sub(mport, ["t/#"])}
    try:
        bridged(mport, ours_port, "t/probe", "t/probe", 1)
        bridged(ours_port, mport, "t/probe", "t/probe", 1)
        for s in subs.values():
            s.drain(0.5)
        for side, port in (("ours", ours_port), ("mosquitto", mport)):
            publish(port, f"t/from-{side}", "once", 1)
            for where, s in subs.items():
                got = s.drain(1.5)
                expect_eq(got, [(f"t/from-{side}", "once", 1, False)],
                          f"published on {side}, seen on {where}")
    finally:
        for s in subs.values():
            s.close()


def no_loop_ours_to_mosquitto(version):
    with iptest.tempdir() as d, iptest.mosquitto() as (mport, _):
        with ours(d, bridge_conf("up", mport, ["topic t/# both 1"], version)) as o:
            exactly_once_both_ways(d, o.port, mport)


def no_loop_mosquitto_to_ours(version):
    with iptest.tempdir() as d, ours(d) as o:
        with iptest.mosquitto(bridge_conf("m2o", o.port, ["topic t/# both 1"], version)) as (
                mport, _):
            exactly_once_both_ways(d, o.port, mport)


class Remote:
    """mosquitto with persistence on a fixed port, stopped and started again by the test."""

    def __init__(self, d):
        self.port = iptest.free_port()
        self.dir = d
        self.conf = os.path.join(d, "remote.conf")
        with open(self.conf, "w") as f:
            f.write(f"listener {self.port} {iptest.HOST}\nallow_anonymous true\n"
                    f"persistence true\npersistence_location {d}/\nmax_queued_messages 0\n"
                    + ("user root\n" if os.geteuid() == 0 else ""))
        self.proc = None

    def start(self):
        log = open(os.path.join(self.dir, "remote.log"), "a")
        self.proc = subprocess.Popen(["mosquitto", "-c", self.conf], stdout=log,
                                     stderr=subprocess.STDOUT)
        log.close()
        iptest.wait_port(self.port, proc=self.proc)

    def stop(self):
        if self.proc:
            iptest.stop(self.proc)
            self.proc = None


class Counter:
    """A persistent paho subscriber on the remote that reconnects by itself."""

    def __init__(self, port, topic):
        self.seen = []
        self.lock = threading.Lock()
        self.c = mqtt.Client(client_id="counter", clean_session=False)
        self.c.reconnect_delay_set(0.1, 0.5)
        self.c.on_connect = lambda c, u, f, rc: c.subscribe(topic, 1)
        self.c.on_message = self.on_message
        self.c.connect(iptest.HOST, port)
        self.c.loop_start()

    def on_message(self, c, u, m):
        with self.lock:
            self.seen.append(m.payload.decode())

    def distinct(self):
        with self.lock:
            return len(set(self.seen))

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


def queue_while_remote_down():
    """The remote stops and starts again while a paho publisher goes on at QoS 1: every
    message arrives, duplicates at most the messages in flight when it went (the window,
    max_inflight_messages 20)."""
    n = 300
    with iptest.tempdir() as d:
        r = Remote(d)
        r.start()
        conf = bridge_conf("up", r.port, ["topic q/# out 1", "restart_timeout 1"])
        with ours(d, conf) as o:
            counter = Counter(r.port, "q/#")
            try:
                bridged(r.port, o.port, "q/probe", "q/probe", 1)
                iptest.eventually(lambda: counter.distinct() >= 1, what="the probe")
                pub = mqtt.Client(client_id="publisher")
                up = threading.Event()
                pub.on_connect = lambda *a: up.set()
                pub.connect(iptest.HOST, o.port)
                pub.loop_start()
                expect_eq(up.wait(iptest.TIMEOUT), True, "publisher connected")
                for i in range(n):
                    pub.publish("q/m", f"m{i}", 1).wait_for_publish()
                    if i == n // 3:
                        r.stop()
                    if i == 2 * n // 3:
                        r.start()
                    time.sleep(0.005)
                pub.loop_stop()
                pub.disconnect()
                iptest.eventually(lambda: counter.distinct() >= n + 1, timeout=30,
                                  what=f"all {n} messages on the remote")
                time.sleep(1)
                dups = len(counter.seen) - counter.distinct()
                print(f"     {n} messages, {dups} duplicates", flush=True)
                expect_eq(dups <= 20, True, f"{dups} duplicates")
            finally:
                counter.close()
                r.stop()


def queue_survives_restart():
    """persistence true: what waits for the remote survives our broker killed with -9 (each
    message was acknowledged to mosquitto_pub, so it was committed)."""
    with iptest.tempdir() as d:
        r = Remote(d)
        r.start()
        conf = bridge_conf("up", r.port, ["topic p/# out 1", "restart_timeout 1"])
        conf = f"persistence true\npersistence_location {d}\n" + conf
        o = Ours(d, conf).start()
        counter = Counter(r.port, "p/#")
        try:
            bridged(r.port, o.port, "p/probe", "p/probe", 1)
            iptest.eventually(lambda: counter.distinct() >= 1, what="the probe")
            r.stop()
            for i in range(50):
                publish(o.port, "p/m", f"m{i}", 1)
            o.kill()
            o.start()
            r.start()
            iptest.eventually(lambda: counter.distinct() >= 51, timeout=30,
                              what="the 50 queued messages on the remote")
        finally:
            counter.close()
            o.stop()
            r.stop()


def certs(d):
    subprocess.run(["sh", os.path.join(os.environ["IOTPLOT_SRC"], "tests/lib/make-certs.sh"),
                    d], check=True, timeout=60)


def tls_remote(d, cert="server", extra=""):
    return (f"cafile {d}/ca.pem\ncertfile {d}/{cert}.pem\nkeyfile {d}/{cert}.key\n"
            + extra)


def tls_bridge(d, lines, remote_extra="", cert="server", expect=None):
    """ours -> mosquitto over TLS; mosquitto also has a plain listener for the test's
    clients. expect None: messages cross both ways; else that text in our log."""
    plain = iptest.free_port()
    remote = tls_remote(d, cert, remote_extra) + f"listener {plain} {iptest.HOST}\n"
    with iptest.mosquitto(remote) as (mport, _):
        with ours(d, bridge_conf("tls", mport, lines + ["topic t/# both 1"])) as o:
            if expect is None:
                bridged(plain, o.port, "t/out", "t/out", 1)
                bridged(o.port, plain, "t/in", "t/in", 1)
            else:
                iptest.eventually(lambda: expect in o.log(), what=f"'{expect}' in the log")
                s = Sub(plain, ["t/#"])
                try:
                    publish(o.port, "t/x", "no", 1)
                    expect_eq(s.drain(1), [], "nothing crossed")
                finally:
                    s.close()


def tls_cases():
    with iptest.tempdir() as d:
        certs(d)
        tls_bridge(d, [f"bridge_cafile {d}/ca.pem"])
        tls_bridge(d, [f"bridge_cafile {d}/ca.pem", "bridge_tls_version tlsv1.3"])
        tls_bridge(d, [f"bridge_cafile {d}/other-ca.pem"], expect="server certificate")
        tls_bridge(d, [f"bridge_cafile {d}/ca.pem"], cert="wrongname",
                   expect="server certificate")
        tls_bridge(d, [f"bridge_cafile {d}/ca.pem", "bridge_insecure true"], cert="wrongname")
        tls_bridge(d, [f"bridge_cafile {d}/ca.pem", f"bridge_certfile {d}/client.pem",
                       f"bridge_keyfile {d}/client.key"],
                   remote_extra="require_certificate true\n")
        tls_bridge(d, [f"bridge_cafile {d}/ca.pem"], remote_extra="require_certificate true\n",
                   expect="Bridge tls: connection to")


def tls_capath():
    with iptest.tempdir() as d:
        certs(d)
        os.mkdir(f"{d}/hashed")
        subprocess.run(["cp", f"{d}/ca.pem", f"{d}/hashed/ca.crt"], check=True)
        subprocess.run(["openssl", "rehash", f"{d}/hashed"], check=True, timeout=30,
                       capture_output=True)
        tls_bridge(d, [f"bridge_capath {d}/hashed"])


class FakeRemote:
    """A listening socket speaking just enough MQTT 3.1.1 by hand to see exactly what the
    bridge sends: CONNACK to each CONNECT, and every packet after it recorded."""

    def __init__(self):
        import socket
        self.srv = socket.socket()
        self.srv.bind((iptest.HOST, 0))
        self.srv.listen(4)
        self.srv.settimeout(iptest.TIMEOUT)
        self.port = self.srv.getsockname()[1]

    @staticmethod
    def read_packet(conn):
        def exact(n):
            b = b""
            while len(b) < n:
                chunk = conn.recv(n - len(b))
                if not chunk:
                    raise EOFError("closed")
                b += chunk
            return b
        first = exact(1)[0]
        mult, length = 1, 0
        while True:
            byte = exact(1)[0]
            length += (byte & 0x7F) * mult
            mult *= 128
            if not byte & 0x80:
                break
        return first, exact(length)

    def accept(self, session_present):
        conn, _ = self.srv.accept()
        conn.settimeout(iptest.TIMEOUT)
        first, body = self.read_packet(conn)
        expect_eq(first >> 4, 1, "CONNECT first")
        conn.sendall(bytes([0x20, 2, 1 if session_present else 0, 0]))
        return conn

    def next_publish(self, conn):
        """(first byte, packet id, topic, payload) of the next PUBLISH."""
        while True:
            first, body = self.read_packet(conn)
            if first >> 4 == 3:
                tlen = body[0] << 8 | body[1]
                topic = body[2:2 + tlen].decode()
                pid = body[2 + tlen] << 8 | body[3 + tlen] if first & 0x06 else 0
                payload = body[2 + tlen + (2 if first & 0x06 else 0):].decode()
                return first, pid, topic, payload


def resent_once_with_dup():
    """A QoS 1 and a QoS 2 message the remote never acknowledged go again after the
    reconnect, each once, with DUP and the same packet id; acknowledged, nothing more."""
    fake = FakeRemote()
    with iptest.tempdir() as d:
        conf = bridge_conf("up", fake.port, ["topic r/# out 2", "restart_timeout 1",
                                             "notifications false"])
        with ours(d, conf) as o:
            conn = fake.accept(False)
            time.sleep(0.5)  # the local side connects and subscribes
            publish(o.port, "r/1", "one", 1)
            publish(o.port, "r/2", "two", 2)
            got = [fake.next_publish(conn), fake.next_publish(conn)]
            expect_eq([(g[0] & 0x0F, g[2], g[3]) for g in got],
                      [(0x02, "r/1", "one"), (0x04, "r/2", "two")], "first sending, no DUP")
            conn.close()  # never acknowledged
            conn = fake.accept(True)
            again = [fake.next_publish(conn), fake.next_publish(conn)]
            expect_eq([(g[0] & 0x0F, g[1], g[2]) for g in again],
                      [(0x0A, got[0][1], "r/1"), (0x0C, got[1][1], "r/2")],
                      "resent with DUP and the same ids")
            pid1, pid2 = got[0][1], got[1][1]
            conn.sendall(bytes([0x40, 2, pid1 >> 8, pid1 & 0xFF]))  # PUBACK
            conn.sendall(bytes([0x50, 2, pid2 >> 8, pid2 & 0xFF]))  # PUBREC
            first, body = fake.read_packet(conn)
            expect_eq((first, body), (0x62, bytes([pid2 >> 8, pid2 & 0xFF])), "PUBREL")
            conn.sendall(bytes([0x70, 2, pid2 >> 8, pid2 & 0xFF]))  # PUBCOMP
            conn.settimeout(1.5)
            try:
                extra = fake.read_packet(conn)
            except OSError:
                extra = None
            expect_eq(extra, None, "nothing sent a third time")
            conn.close()


def tls_psk():
    """bridge_identity and bridge_psk against a mosquitto listener with psk_hint."""
    key = "00112233445566778899aabbccddeeff"
    with iptest.tempdir() as d:
        with open(f"{d}/psk", "w") as f:
            f.write(f"edge1:{key}\n")
        plain = iptest.free_port()
        remote = f"psk_hint hub\npsk_file {d}/psk\nlistener {plain} {iptest.HOST}\n"
        with iptest.mosquitto(remote) as (mport, _):
            lines = ["bridge_identity edge1", f"bridge_psk {key}", "topic t/# both 1"]
            with ours(d, bridge_conf("psk", mport, lines)) as o:
                bridged(plain, o.port, "t/out", "t/out", 1)
                bridged(o.port, plain, "t/in", "t/in", 1)
            wrong = ["bridge_identity edge1", "bridge_psk ffff", "topic t/# both 1"]
            with ours(d, bridge_conf("psk", mport, wrong), name="wrong") as o:
                iptest.eventually(lambda: "Bridge psk: connection to" in o.log(),
                                  what="the handshake refused")
                expect_eq("Bridge psk connected" in o.log(), False, o.log())


def failover_and_login():
    """Several addresses: the dead first one is passed over at once; remote_username and
    remote_password against a mosquitto password file (a wrong password gets nowhere)."""
    with iptest.tempdir() as d:
        subprocess.run(["mosquitto_passwd", "-c", "-b", f"{d}/pw", "edge", "s3cret"],
                       check=True, timeout=30, capture_output=True)
        remote = f"allow_anonymous false\npassword_file {d}/pw\n"
        plain = iptest.free_port()
        remote += f"listener {plain} {iptest.HOST}\nallow_anonymous true\n"
        with iptest.mosquitto("per_listener_settings true\n" + remote) as (mport, _):
            dead = iptest.free_port()
            conf = (f"connection up\naddresses {iptest.HOST}:{dead} {iptest.HOST}:{mport}\n"
                    "remote_username edge\nremote_password s3cret\ntopic f/# both 1\n")
            with ours(d, conf) as o:
                bridged(plain, o.port, "f/out", "f/out", 1)
                bridged(o.port, plain, "f/in", "f/in", 1)
                expect_eq(f"cannot connect to {iptest.HOST}:{dead}" in o.log(), True, o.log())
            conf = conf.replace("s3cret", "wrong")
            with ours(d, conf, name="wrong") as o:
                iptest.eventually(lambda: "refused the bridge (code 5)" in o.log(),
                                  what="not authorised")


def retained_on(port, topic):
    """What a new subscriber gets from the retained store, in a moment."""
    s = Sub(port, [topic])
    try:
        return s.drain(0.7)
    finally:
        s.close()


def packet_size_retain_local_id():
    """bridge_max_packet_size drops what is larger; bridge_outgoing_retain false leaves the
    remote without a retained copy (true: with one); local_clientid names the session."""
    with iptest.tempdir() as d, iptest.mosquitto() as (mport, _):
        lines = ["topic s/# out 1", "bridge_max_packet_size 100", "local_clientid edge-here",
                 "bridge_outgoing_retain false"]
        with ours(d, bridge_conf("up", mport, lines)) as o:
            bridged(mport, o.port, "s/a", "s/a", 1)
            s = Sub(mport, ["s/#"])
            try:
                publish(o.port, "s/big", "x" * 200, 1)
                publish(o.port, "s/small", "y" * 20, 1)
                expect_eq([m[:2] for m in s.drain(1)], [("s/small", "y" * 20)],
                          "the large one dropped")
            finally:
                s.close()
            publish(o.port, "s/kept", "r", 1, retain=True)
            time.sleep(0.5)
            expect_eq(retained_on(mport, "s/kept"), [], "no retained copy on the remote")
            expect_eq("as edge-here" in o.log(), True, o.log())
        with ours(d, bridge_conf("up", mport, ["topic s/# out 1"]), name="keep") as o:
            bridged(mport, o.port, "s/a", "s/a", 1)
            publish(o.port, "s/kept2", "r", 1, retain=True)
            time.sleep(0.5)
            expect_eq(retained_on(mport, "s/kept2"), [("s/kept2", "r", 1, True)],
                      "retained on the remote")


def trusted_under_acl():
    """The local side is trusted as mosquitto's: an ACL that gives anonymous clients
    nothing (and allow_anonymous false) still lets the bridge in and out."""
    with iptest.tempdir() as d, iptest.mosquitto() as (mport, _):
        with open(f"{d}/acl", "w") as f:
            f.write("user alice\ntopic readwrite a/#\n")
        subprocess.run(["mosquitto_passwd", "-c", "-b", f"{d}/pw", "alice", "pw"], check=True,
                       timeout=30, capture_output=True)
        conf = (f"allow_anonymous false\npassword_file {d}/pw\nacl_file {d}/acl\n"
                + bridge_conf("up", mport, ["topic a/# both 1"]))
        o = Ours(d, "")
        with open(o.conf, "w") as f:
            f.write(f"listener {o.port} {iptest.HOST}\n" + conf)
        o.start()
        try:
            s = Sub(mport, ["a/#"])
            c = mqtt.Client()
            c.username_pw_set("alice", "pw")
            got = queue.Queue()
            c.on_message = lambda cl, u, m: got.put((m.topic, m.payload.decode()))
            ready = threading.Event()
            c.on_subscribe = lambda *a: ready.set()
            c.connect(iptest.HOST, o.port)
            c.loop_start()
            c.subscribe("a/#", 1)
            expect_eq(ready.wait(iptest.TIMEOUT), True, "alice subscribed")
            try:
                for i in range(40):
                    c.publish("a/out", f"p{i}", 1)
                    try:
                        if s.get(timeout=0.25)[0] == "a/out":
                            break
                    except queue.Empty:
                        continue
                else:
                    raise TimeoutError("nothing went out through the bridge")
                for i in range(40):
                    publish(mport, "a/in", f"p{i}", 1)
                    try:
                        if got.get(timeout=0.25)[0] == "a/in":
                            break
                    except queue.Empty:
                        continue
                else:
                    raise TimeoutError("nothing came in through the bridge")
            finally:
                c.loop_stop()
                c.disconnect()
                s.close()
        finally:
            o.stop()


class SysWatch:
    """A paho client on the remote that keeps its $SYS client count, counts its uptime
    ticks (sys_interval 1: one a second) and collects messages of other topics."""

    def __init__(self, port, topics):
        self.lock = threading.Lock()
        self.connected = None
        self.ticks = 0
        self.q = queue.Queue()
        self.c = mqtt.Client()
        self.c.on_message = self.on_message
        subscribed = threading.Event()
        self.c.on_subscribe = lambda *a: subscribed.set()
        self.c.connect(iptest.HOST, port)
        self.c.loop_start()
        self.c.subscribe([("$SYS/broker/uptime", 0), ("$SYS/broker/clients/connected", 0)]
                         + [(t, 1) for t in topics])
        if not subscribed.wait(iptest.TIMEOUT):
            raise TimeoutError("no SUBACK")

    def on_message(self, c, u, m):
        with self.lock:
            if m.topic == "$SYS/broker/uptime":
                self.ticks += 1
            elif m.topic == "$SYS/broker/clients/connected":
                self.connected = int(m.payload)
            else:
                self.q.put((m.topic, m.payload.decode(), time.monotonic()))

    def count(self):
        with self.lock:
            return self.connected

    def still_alone(self, ticks=3):
        """Wait `ticks` $SYS intervals of the remote (more than our broker's once-a-second
        check), then say whether this watcher was its only client all along."""
        with self.lock:
            until = self.ticks + ticks
        alone = True
        deadline = time.monotonic() + iptest.TIMEOUT
        while time.monotonic() < deadline:
            with self.lock:
                alone = alone and self.connected == 1
                if self.ticks >= until:
                    return alone
            time.sleep(0.02)
        raise TimeoutError("no $SYS ticks from the remote")

    def messages(self, n, what):
        got = []
        for _ in range(n):
            try:
                got.append(self.q.get(timeout=iptest.TIMEOUT))
            except queue.Empty:
                raise TimeoutError(f"{what}: {len(got)} of {n}")
        return got

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


def lazy_threshold_idle():
    """start_type lazy, threshold 5, idle_timeout 2: no connection with 4 messages waiting
    (the remote's own $SYS count over three of its intervals); the fifth connects it and
    all five arrive in order; 2 s later with nothing to send it disconnects (the
    notification goes 0 on both sides); then the same again."""
    state = "$SYS/broker/connection/lazy-1/state"
    with iptest.tempdir() as d, iptest.mosquitto("sys_interval 1\n") as (mport, _):
        conf = bridge_conf("lz", mport, ["topic z/# out 1", "remote_clientid lazy-1",
                                         "start_type lazy", "threshold 5", "idle_timeout 2"])
        with ours(d, conf) as o:
            w = SysWatch(mport, ["z/#", state])
            local = Sub(o.port, [state])
            try:
                iptest.eventually(lambda: w.count() == 1, what="the watcher counted")
                for rnd in range(2):
                    for i in range(4):
                        publish(o.port, "z/m", f"r{rnd}m{i}", 1)
                    expect_eq(w.still_alone(), True, f"round {rnd}: not connected with 4 waiting")
                    publish(o.port, "z/m", f"r{rnd}m4", 1)
                    got = w.messages(6, f"round {rnd}: the state and five messages")
                    expect_eq([g[:2] for g in got if g[0] == state], [(state, "1")],
                              f"round {rnd}: notification on the remote")
                    expect_eq([g[1] for g in got if g[0] == "z/m"],
                              [f"r{rnd}m{i}" for i in range(5)], f"round {rnd}: all, in order")
                    last = got[-1][2]
                    expect_eq(local.get()[:2], (state, "1"), f"round {rnd}: notification here")
                    down = w.messages(1, f"round {rnd}: the will after idle_timeout")[0]
                    expect_eq(down[:2], (state, "0"), f"round {rnd}: state 0 on the remote")
                    idle = down[2] - last
                    expect_eq(1.5 <= idle <= 5, True, f"round {rnd}: closed after {idle:.2f}s")
                    expect_eq(local.get()[:2], (state, "0"), f"round {rnd}: state 0 here")
                    iptest.eventually(lambda: w.count() == 1, what="the bridge gone")
                expect_eq(o.log().count("is closed: idle for idle_timeout"), 2,
                          "the idle closes logged")
            finally:
                local.close()
                w.close()


def once_not_restarted():
    """start_type once: connected at start; after the remote restarts it stays away (the
    log says so, and the restarted remote counts no client but its watcher over three of
    its $SYS intervals, with restart_timeout 1)."""
    with iptest.tempdir() as d:
        port = iptest.free_port()
        conf = bridge_conf("on", port, ["topic o/# out 1", "start_type once",
                                        "restart_timeout 1"])
        with iptest.mosquitto("sys_interval 1\n", port=port, workdir=d) as (mport, mproc):
            with ours(d, conf) as o:
                bridged(mport, o.port, "o/a", "o/a", 1)
                iptest.stop(mproc)
                iptest.eventually(lambda: "start_type once: the connection ended" in o.log(),
                                  what="the end logged")
                rd = os.path.join(d, "again")
                os.mkdir(rd)
                with iptest.mosquitto("sys_interval 1\n", port=port, workdir=rd) as (mport2, _):
                    w = SysWatch(mport2, ["o/#"])
                    try:
                        iptest.eventually(lambda: w.count() == 1, what="the watcher counted")
                        publish(o.port, "o/b", "queued", 1)
                        expect_eq(w.still_alone(), True, "not reconnected")
                        expect_eq(w.q.empty(), True, "nothing crossed")
                    finally:
                        w.close()


def crossed_in_order(sub, publish_denied, publish_allowed, allowed, denied):
    """The denied message goes first, the allowed one after it on the same path: once the
    allowed one arrives, the denied one would have been there before it."""
    publish_denied()
    publish_allowed()
    seen = []
    while True:
        t = sub.get()[0]
        seen.append(t)
        if t == allowed:
            break
    expect_eq(denied in seen, False, f"{denied} held back: saw {seen}")


def local_login_under_acl():
    """local_username / local_password: the local side logs in (password file) and the
    ACL applies to it as that user: a/# crosses both ways, b/# (not bob's) neither way;
    a wrong local_password is refused."""
    with iptest.tempdir() as d, iptest.mosquitto() as (mport, _):
        with open(f"{d}/acl", "w") as f:
            f.write("user alice\ntopic readwrite #\n\nuser bob\ntopic readwrite a/#\n")
        for user in ("alice", "bob"):
            subprocess.run(["mosquitto_passwd", "-b"] + (["-c"] if user == "alice" else [])
                           + [f"{d}/pw", user, "pw"], check=True, timeout=30,
                           capture_output=True)
        auth = f"allow_anonymous false\npassword_file {d}/pw\nacl_file {d}/acl\n"
        conf = auth + bridge_conf("up", mport, ["topic a/# both 1", "topic b/# both 1",
                                                "local_username bob", "local_password pw"])
        o = Ours(d, "")
        with open(o.conf, "w") as f:
            f.write(f"listener {o.port} {iptest.HOST}\n" + conf)
        o.start()
        try:
            remote = Sub(mport, ["a/#", "b/#"])
            c = mqtt.Client()
            c.username_pw_set("alice", "pw")
            got = queue.Queue()
            c.on_message = lambda cl, u, m: got.put((m.topic, m.payload.decode()))
            ready = threading.Event()
            c.on_subscribe = lambda *a: ready.set()
            c.connect(iptest.HOST, o.port)
            c.loop_start()
            c.subscribe([("a/#", 1), ("b/#", 1)])
            expect_eq(ready.wait(iptest.TIMEOUT), True, "alice subscribed")
            here = Sub.__new__(Sub)
            here.q = got
            try:
                for i in range(40):
                    c.publish("a/out", f"p{i}", 1)
                    try:
                        if remote.get(timeout=0.25)[0] == "a/out":
                            break
                    except queue.Empty:
                        continue
                else:
                    raise TimeoutError("nothing went out through the bridge")
                remote.drain(0.3)
                crossed_in_order(remote, lambda: c.publish("b/out", "no", 1).wait_for_publish(),
                                 lambda: c.publish("a/out2", "yes", 1).wait_for_publish(),
                                 "a/out2", "b/out")
                crossed_in_order(here, lambda: publish(mport, "b/in", "no", 1),
                                 lambda: publish(mport, "a/in", "yes", 1), "a/in", "b/in")
            finally:
                c.loop_stop()
                c.disconnect()
                remote.close()
        finally:
            o.stop()
        bad = Ours(d, "", name="bad")
        with open(bad.conf, "w") as f:
            f.write(f"listener {bad.port} {iptest.HOST}\n" + conf.replace(
                "local_password pw", "local_password wrong"))
        bad.start()
        try:
            iptest.eventually(lambda: "refused its local side" in bad.log(),
                              what="the wrong local_password refused")
        finally:
            bad.stop()


def main():
    res = iptest.Results()
    only = os.environ.get("BRIDGE_ONLY")
    if only:
        res.check(only, globals()[only])
        res.finish()
    res.check("config: bridge lines refused with file:line and a reason", config_errors)
    res.check("ours -> mosquitto 3.1.1: out, in, both with prefixes, QoS 0/1/2",
              out_in_both, "mqttv311")
    res.check("ours -> mosquitto 5.0: out, in, both with prefixes, QoS 0/1/2",
              out_in_both, "mqttv50")
    res.check("ours -> mosquitto 3.1: out, in, both", out_in_both, "mqttv31")
    res.check("the topic line's QoS caps what crosses", qos_capped_by_topic_line)
    res.check("prefix rules: \"\" pattern, empty local or remote prefix", prefix_rules)
    res.check("notifications: retained 1 both sides, the will 0; local.<remote_clientid>",
              notifications_and_client_ids)
    res.check("remote_clientid defaults to hostname.NAME", default_remote_clientid)
    res.check("mosquitto bridging into ours (3.1.1, bridge bit)", mosquitto_into_ours)
    res.check("bridge_max_packet_size, bridge_outgoing_retain, local_clientid",
              packet_size_retain_local_id)
    res.check("the local side is trusted: no login, no ACL (allow_anonymous false, acl_file)",
              trusted_under_acl)
    res.check("local_username / local_password: a login here, under the ACL as that user",
              local_login_under_acl)
    res.check("addresses fail over in order; remote_username / remote_password",
              failover_and_login)
    res.check("start_type lazy: threshold, idle_timeout, again", lazy_threshold_idle)
    res.check("start_type once: not restarted after the remote restarts", once_not_restarted)
    res.check("remote stopped and started under a QoS 1 stream: all arrive, few twice",
              queue_while_remote_down)
    res.check("unacknowledged QoS 1 and 2: resent once with DUP and the same id",
              resent_once_with_dup)
    res.check("persistence true: the queue for the remote survives kill -9",
              queue_survives_restart)
    res.check("TLS: verified, TLS 1.3, wrong CA, wrong name, bridge_insecure, client "
              "certificate", tls_cases)
    res.check("TLS: bridge_capath", tls_capath)
    res.check("TLS-PSK: bridge_identity, bridge_psk; a wrong key refused", tls_psk)
    for v in ("mqttv311", "mqttv50"):
        res.check(f"no loop: ours -> mosquitto, t/# both ({v})", no_loop_ours_to_mosquitto, v)
        res.check(f"no loop: mosquitto -> ours, t/# both ({v})", no_loop_mosquitto_to_ours, v)
    res.finish()


main()
