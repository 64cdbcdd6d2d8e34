"""Listener and client directives, each in a configuration of its own and checked with
real clients: unix sockets (mosquitto_sub --unix), host names with socket_domain,
bind_interface, bind_address, CRLs, client id rules, QoS upgrades, keepalive limits,
message and retain limits, $SYS intervals and http_dir; and the refused ones."""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import paho.mqtt.client as mqtt

import iptest
from iptest import expect_eq
from configtest import SRC, Running, main_checks, peer, refused, write

LISTEN = "listener 0 127.0.0.1\nallow_anonymous true\n"


def unix_socket_listener():
    with iptest.tempdir() as d:
        sock = f"{d}/mqtt.sock"
        conf = write(f"{d}/b.conf", "listener 0 127.0.0.1\nlistener 0 " + sock +
                     "\nallow_anonymous true\n")
        with Running(conf) as b:
            expect_eq(f"Opening unix listen socket on {sock}." in b.text(), True, b.text())
            sub = iptest.spawn(["mosquitto_sub", "--unix", sock, "-t", "u/#", "-v", "-C", "1",
                                "-W", "10"])
            time.sleep(0.4)
            # In through TCP, out through the unix socket: one broker.
            iptest.run(["mosquitto_pub", "-h", iptest.HOST, "-p", str(b.port), "-t", "u/1",
                        "-m", "over tcp"], check=True)
            out, err = sub.communicate(timeout=15)
            expect_eq(out, "u/1 over tcp\n", err)
            r = iptest.run(["mosquitto_pub", "--unix", sock, "-t", "u/2", "-m", "x", "-q", "1"])
            expect_eq(r.returncode, 0, r.stderr)
            b.stop()
        expect_eq(os.path.exists(sock), False, "the socket file removed at exit")


def host_names_and_domains():
    with iptest.tempdir() as d:
        # SO_BINDTODEVICE needs root (or CAP_NET_RAW).
        bind_lo = "bind_interface lo\n" if os.geteuid() == 0 else ""
        conf = write(f"{d}/b.conf", "listener 0 localhost\nsocket_domain ipv4\n" + bind_lo +
                     "allow_anonymous true\n")
        with Running(conf) as b:
            expect_eq("Opening ipv4 listen socket" in b.text(), True, b.text())
            with peer(b.port, "v4") as p:
                expect_eq(p.connect()[0], 0, "over 127.0.0.1 on lo")
        try:
            with socket.socket(socket.AF_INET6) as s6:
                s6.bind(("::1", 0))
            v6 = True
        except OSError:
            v6 = False
            print("note: no ::1 here, socket_domain ipv6 is not tried")
        if v6:
            conf = write(f"{d}/c.conf", "listener 0 ::1\nsocket_domain ipv6\n"
                         "allow_anonymous true\n")
            with Running(conf) as b:
                expect_eq("Opening ipv6 listen socket" in b.text(), True, b.text())
        # The older spelling: `port` and `bind_address`.
        port = iptest.free_port()
        conf = write(f"{d}/e.conf", f"port {port}\nbind_address 127.0.0.1\n"
                     "allow_anonymous true\nset_tcp_nodelay false\n")
        with Running(conf) as b:
            expect_eq(b.port, port, "port")
            with peer(port, "old") as p:
                expect_eq(p.connect()[0], 0, "bind_address")
        conf = write(f"{d}/f.conf", "listener 0 127.0.0.1\nbind_interface nosuchif0\n")
        rc, out = refused(conf)
        expect_eq(rc != 0 and "bind_interface nosuchif0" in out, True, out)


def make_crl(d, revoke):
    """A CRL of the test CA revoking the given certificates (openssl ca's database)."""
    write(f"{d}/index.txt", "")
    write(f"{d}/crlnumber", "01\n")
    write(f"{d}/ca.cnf", f"[ca]\ndefault_ca=c\n[c]\ndatabase={d}/index.txt\n"
          f"crlnumber={d}/crlnumber\ndefault_md=sha256\ndefault_crl_days=2\n"
          f"certificate={d}/ca.pem\nprivate_key={d}/ca.key\n")
    for cert in revoke:
        subprocess.run(["openssl", "ca", "-config", f"{d}/ca.cnf", "-revoke", cert],
                       check=True, capture_output=True, timeout=30)
    crl = f"{d}/crl-{len(revoke)}.pem"
    subprocess.run(["openssl", "ca", "-config", f"{d}/ca.cnf", "-gencrl", "-out", crl],
                   check=True, capture_output=True, timeout=30)
    return crl


def crl_revokes_client():
    with iptest.tempdir() as d:
        subprocess.run(["sh", f"{SRC}/tests/lib/make-certs.sh", d], check=True, timeout=60)
        empty = make_crl(d, [])
        revoked = make_crl(d, [f"{d}/client.pem"])

        def pub(port):
            return iptest.run(["mosquitto_pub", "-h", "localhost", "-p", str(port), "--cafile",
                               f"{d}/ca.pem", "--cert", f"{d}/client.pem", "--key",
                               f"{d}/client.key", "-t", "c", "-m", "1", "-q", "1"])
        for crl, ok in ((empty, True), (revoked, False)):
            conf = write(f"{d}/b.conf", f"listener 0 127.0.0.1\ncertfile {d}/server.pem\n"
                         f"keyfile {d}/server.key\ncafile {d}/ca.pem\n"
                         f"require_certificate true\ncrlfile {crl}\nallow_anonymous true\n")
            with Running(conf) as b:
                r = pub(b.port)
                expect_eq(r.returncode == 0, ok, f"crl {os.path.basename(crl)}: {r.stderr}")
                if not ok:
                    iptest.eventually(lambda: "revoked" in b.text(), what="revoked logged")


def tls_psk():
    """A PSK-only listener: mosquitto_pub --psk with the right key gets in, a wrong key or
    an unknown identity does not; on the TLS 1.2 suites too."""
    key = "00112233445566778899aabbccddeeff"
    with iptest.tempdir() as d:
        keys = write(f"{d}/psk", f"# identity:key\ndev1:{key}\ndev2:abcdef\n")
        conf = write(f"{d}/b.conf", f"listener 0 127.0.0.1\npsk_hint iotplot\n"
                     f"psk_file {keys}\nallow_anonymous true\n")
        with Running(conf) as b:
            sub = iptest.spawn(["mosquitto_sub", "-h", iptest.HOST, "-p", str(b.port), "--psk",
                                key, "--psk-identity", "dev1", "-t", "psk/#", "-C", "1",
                                "-W", "10"])
            time.sleep(0.5)

            def pub(ident, k, *extra):
                return iptest.run(["mosquitto_pub", "-h", iptest.HOST, "-p", str(b.port),
                                   "--psk", k, "--psk-identity", ident, "-t", "psk/1", "-m",
                                   "keyed", "-q", "1", *extra])
            r = pub("dev1", key)
            expect_eq(r.returncode, 0, r.stderr)
            out, err = sub.communicate(timeout=15)
            expect_eq(out, "keyed\n", err)
            expect_eq(pub("dev2", "abcdef", "--tls-version", "tlsv1.2").returncode, 0,
                      "TLS 1.2 PSK")
            expect_eq(pub("dev1", "0011").returncode != 0, True, "a wrong key")
            expect_eq(pub("nobody", key).returncode != 0, True, "an unknown identity")
        bad = write(f"{d}/bad.conf", "listener 0 127.0.0.1\npsk_hint x\n")
        rc, out = refused(bad)
        expect_eq(rc != 0 and "psk_hint needs psk_file" in out, True, out)


def client_id_rules():
    with iptest.tempdir() as d:
        conf = write(f"{d}/b.conf", LISTEN + "clientid_prefixes secure-\n")
        with Running(conf) as b:
            with peer(b.port, "secure-1") as p:
                expect_eq(p.connect()[0], 0, "secure-1")
            with peer(b.port, "mqtt") as p:
                expect_eq(p.connect()[0], 5, "mqtt: not authorized (3.1.1)")
            with peer(b.port, "mqtt", proto=mqtt.MQTTv5) as p:
                expect_eq(p.connect()[0], 0x87, "mqtt: not authorized (5.0)")
            r = iptest.run(["mosquitto_pub", "-h", iptest.HOST, "-p", str(b.port), "-i",
                            "other", "-t", "t", "-m", "1"])
            expect_eq(r.returncode != 0, True, "mosquitto_pub -i other")
        # By hand: paho retries a refused empty id with one of its own making.
        conf = write(f"{d}/c.conf", LISTEN + "allow_zero_length_clientid false\n")
        with Running(conf) as b:
            v311 = b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00"
            v5 = b"\x10\x0d\x00\x04MQTT\x05\x02\x00\x3c\x00\x00\x00"
            for connect, want in ((v311, 2), (v5, 0x85)):
                with socket.create_connection((iptest.HOST, b.port), timeout=10) as s:
                    s.sendall(connect)
                    ack = s.recv(64)
                    expect_eq((ack[0], ack[3]), (0x20, want), f"CONNACK {ack.hex()}")
        conf = write(f"{d}/e.conf", "listener 0 127.0.0.1\nuse_username_as_clientid true\n"
                     "allow_anonymous true\nlog_dest stdout\n")
        with Running(conf) as b:
            with peer(b.port, "given", user="carol") as p:
                expect_eq(p.connect()[0], 0, "carol")
            iptest.eventually(lambda: "as carol" in b.text(), what="the user name as client id")


def upgrade_outgoing_qos():
    for upgrade, want in (("false", 0), ("true", 2)):
        with iptest.tempdir() as d:
            conf = write(f"{d}/b.conf", LISTEN + f"upgrade_outgoing_qos {upgrade}\n")
            with Running(conf) as b, peer(b.port, "s") as s:
                s.connect()
                s.sub("q/#", 2)
                iptest.run(["mosquitto_pub", "-h", iptest.HOST, "-p", str(b.port), "-t", "q/0",
                            "-m", "x", "-q", "0"], check=True)
                m = s.msgs.get(timeout=iptest.TIMEOUT)
                expect_eq(m.qos, want, f"upgrade_outgoing_qos {upgrade}")


def max_keepalive_server_keep_alive():
    with iptest.tempdir() as d:
        conf = write(f"{d}/b.conf", LISTEN + "max_keepalive 10\n")
        with Running(conf) as b:
            with peer(b.port, "k5", proto=mqtt.MQTTv5, keepalive=60) as p:
                rc, props = p.connect()
                expect_eq((rc, props.ServerKeepAlive), (0, 10), "5.0 Server Keep Alive")
            with peer(b.port, "k3", keepalive=60) as p:
                expect_eq(p.connect()[0] != 0, True, "3.1.1 above max_keepalive refused")
            with peer(b.port, "k3ok", keepalive=5) as p:
                expect_eq(p.connect()[0], 0, "3.1.1 within")


def size_and_retain_limits():
    with iptest.tempdir() as d:
        conf = write(f"{d}/b.conf", LISTEN + "message_size_limit 10\nretain_available false\n"
                     "sys_interval 1\n")
        with Running(conf) as b, peer(b.port, "s") as s:
            s.connect()
            s.sub("m/#", 1)
            s.sub("$SYS/broker/uptime", 0)
            first = s.msgs.get(timeout=iptest.TIMEOUT)
            expect_eq(first.topic, "$SYS/broker/uptime", "uptime")
            second = s.msgs.get(timeout=3)  # sys_interval 1: the next within a second or so
            expect_eq(second.topic, "$SYS/broker/uptime", "uptime again")
            s.c.unsubscribe("$SYS/broker/uptime")
            time.sleep(0.3)
            while not s.msgs.empty():
                s.msgs.get()
            for payload in ("x" * 11, "small"):
                iptest.run(["mosquitto_pub", "-h", iptest.HOST, "-p", str(b.port), "-t", "m/1",
                            "-m", payload, "-q", "1"])
            m = s.msgs.get(timeout=iptest.TIMEOUT)
            expect_eq(m.payload, b"small", "the 11-byte message is dropped")
            r = iptest.run(["mosquitto_pub", "-h", iptest.HOST, "-p", str(b.port), "-t", "m/r",
                            "-m", "r", "-r", "-q", "1"])
            time.sleep(0.3)
            got = [(m.topic, m.payload) for m in iter(lambda: None if s.msgs.empty()
                                                     else s.msgs.get(), None)]
            expect_eq(got, [], f"a retained publish (3.1.1) is not delivered ({r.stderr.strip()})")


def http_dir_served():
    with iptest.tempdir() as d:
        write(f"{d}/www/index.html", "<p>ours</p>\n")
        port = iptest.free_port()
        conf = write(f"{d}/b.conf", f"listener {port} 127.0.0.1\nprotocol websockets\n"
                     f"http_dir {d}/www\nallow_anonymous true\nwebsockets_log_level 255\n"
                     "websockets_headers_size 4096\n")
        with Running(conf, port=port):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=10) as r:
                expect_eq(r.read(), b"<p>ours</p>\n", "http_dir")


def mount_point_prefixes():
    """Clients of the mounted listener live under room1/; the plain listener sees it all."""
    with iptest.tempdir() as d:
        conf = write(f"{d}/b.conf", "listener 0 127.0.0.1\nmount_point room1/\n"
                     "listener 0 127.0.0.1\nallow_anonymous true\n")
        with Running(conf) as b:
            mounted, plain = b.ports
            pub = ["mosquitto_pub", "-h", iptest.HOST, "-q", "1"]
            iptest.run(pub + ["-p", str(plain), "-t", "room1/kept", "-m", "r", "-r"], check=True)
            for proto in (mqtt.MQTTv311, mqtt.MQTTv5):
                with peer(mounted, f"in{proto}", proto=proto) as a, \
                        peer(plain, f"out{proto}", proto=proto) as o:
                    a.connect()
                    o.connect()
                    a.sub("#", 1)
                    m = a.msgs.get(timeout=iptest.TIMEOUT)
                    expect_eq((m.topic, m.payload, m.retain), ("kept", b"r", True), "retained")
                    o.sub("room1/#", 1)
                    o.msgs.get(timeout=iptest.TIMEOUT)  # the retained one, as it is stored
                    iptest.run(pub + ["-p", str(plain), "-t", "elsewhere/t", "-m", "no"],
                               check=True)
                    iptest.run(pub + ["-p", str(plain), "-t", "room1/t", "-m", "in"],
                               check=True)
                    m = a.msgs.get(timeout=iptest.TIMEOUT)
                    expect_eq((m.topic, m.payload), ("t", b"in"), "into the mount point")
                    o.msgs.get(timeout=iptest.TIMEOUT)
                    a.c.publish("from/inside", "out", 1).wait_for_publish(iptest.TIMEOUT)
                    m = o.msgs.get(timeout=iptest.TIMEOUT)
                    expect_eq((m.topic, m.payload), ("room1/from/inside", b"out"), "out of it")
                    m = a.msgs.get(timeout=iptest.TIMEOUT)
                    expect_eq(m.topic, "from/inside", "its own message, without the prefix")
                    time.sleep(0.2)
                    expect_eq(a.msgs.empty(), True, "nothing from outside room1/")
                    a.c.unsubscribe("#")
                    time.sleep(0.2)


def check_retain_source():
    """alice retains under room/, then the ACL takes her write right away (SIGHUP): with
    check_retain_source the message is removed when bob subscribes; without, it stays."""
    for check in (True, False):
        with iptest.tempdir() as d:
            pw = f"{d}/passwd"
            for i, user in enumerate(("alice", "bob")):
                iptest.run([iptest.binary(), "passwd", "-b", "-I", "1000"] + (["-c"] if not i
                           else []) + [pw, user, "pw"], check=True)
            acl = write(f"{d}/acl", "user alice\ntopic readwrite room/#\n"
                        "user bob\ntopic read room/#\n")
            conf = write(f"{d}/b.conf", f"listener 0 127.0.0.1\npassword_file {pw}\n"
                         f"acl_file {acl}\ncheck_retain_source {str(check).lower()}\n"
                         "log_dest stdout\n")
            with Running(conf) as b:
                with peer(b.port, "a", user="alice", pw="pw") as a:
                    a.connect()
                    a.c.publish("room/r", "kept", 1, True).wait_for_publish(iptest.TIMEOUT)
                write(acl, "user alice\ntopic read room/#\nuser bob\ntopic read room/#\n")
                b.proc.send_signal(signal.SIGHUP)
                iptest.eventually(lambda: "Reloaded" in b.text(), what="the reload")
                for attempt in (1, 2):
                    with peer(b.port, f"b{attempt}", user="bob", pw="pw") as o:
                        o.connect()
                        o.sub("room/#", 1)
                        time.sleep(0.3)
                        got = [] if o.msgs.empty() else [o.msgs.get().payload]
                        expect_eq(got, [] if check else [b"kept"],
                                  f"check_retain_source {check}, subscriber {attempt}")
                if check:
                    expect_eq("room/r removed" in b.text(), True, b.text())


def max_inflight_bytes():
    """A subscriber that does not acknowledge: 60-byte messages under a 100-byte window go
    one at a time (a second would pass 100), each after the PUBACK of the one before."""
    sys.path.insert(0, os.path.join(SRC, "tests", "wire", "broker"))
    import wire
    with wire.Broker("max_inflight_bytes 100\n") as b:
        sub = b.connect("slow")
        sub.send(wire.subscribe(1, [("f/#", 1)])).expect(wire.suback(1, [1]))
        pub = b.connect("fast")
        for i in range(3):
            pub.send(wire.publish("f/x", bytes([65 + i]) * 60, qos=1, pid=i + 1))
            pub.expect(wire.puback(i + 1))
        for i in range(3):
            p = sub.read_packet()
            expect_eq(p[-60:], bytes([65 + i]) * 60, f"message {i}")
            sub.sync()  # and nothing more until the PUBACK
            sub.send(wire.puback(int.from_bytes(p[7:9], "big")))  # after "f/x"
        sub.sync()


def refused_with_reasons():
    with iptest.tempdir() as d:
        cases = [
            ("listener 0\nmax_qos 3\n", ":2: max_qos: '3' is not a number from 0 to 2"),
            ("max_qos 1\n", ":1: 'max_qos' must follow the 'listener' line"),
            ("plugin_opt_x 1\n", ":1: 'plugin_opt_x' needs plugins"),
            ("websockets_headers_size 65536\n", ":1: websockets_headers_size: '65536'"),
            ("log_dest dlt\n", ":1: log_dest must be stderr, stdout, file PATH, syslog"),
        ]
        for text, want in cases:
            conf = write(f"{d}/b.conf", text)
            rc, out = refused(conf)
            expect_eq(rc != 0 and conf + want in out, True, f"{text!r}: {out}")
        # Accepted and said so in the documentation: these change nothing observable.
        conf = write(f"{d}/ok.conf", LISTEN + "allow_duplicate_messages true\n"
                     "max_inflight_bytes 0\n")
        with Running(conf) as b, peer(b.port, "dup") as p:
            p.connect()
            p.sub("d/#", 1)
            p.sub("d/+", 1)
            iptest.run(["mosquitto_pub", "-h", iptest.HOST, "-p", str(b.port), "-t", "d/1",
                        "-m", "once", "-q", "1"], check=True)
            p.msgs.get(timeout=iptest.TIMEOUT)
            time.sleep(0.3)
            expect_eq(p.msgs.empty(), True, "one copy for overlapping subscriptions")


main_checks([
    ("listener 0 /path: a unix socket (mosquitto_sub --unix)", unix_socket_listener),
    ("host names, socket_domain, bind_interface, port + bind_address", host_names_and_domains),
    ("mount_point prefixes topics, filters and retained messages", mount_point_prefixes),
    ("crlfile revokes a client certificate (mosquitto_pub --cert)", crl_revokes_client),
    ("TLS-PSK: psk_hint and psk_file (mosquitto_pub --psk)", tls_psk),
    ("clientid_prefixes, allow_zero_length_clientid, use_username_as_clientid",
     client_id_rules),
    ("upgrade_outgoing_qos", upgrade_outgoing_qos),
    ("max_keepalive (5.0 Server Keep Alive)", max_keepalive_server_keep_alive),
    ("message_size_limit, retain_available, sys_interval", size_and_retain_limits),
    ("http_dir, websockets_log_level, websockets_headers_size", http_dir_served),
    ("check_retain_source after the ACL changes", check_retain_source),
    ("max_inflight_bytes: one 60-byte message of a 100-byte window at a time",
     max_inflight_bytes),
    ("refused with file:line and why; accepted no-ops", refused_with_reasons),
])
