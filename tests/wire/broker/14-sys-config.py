"""14: $SYS topics, configuration file errors, include_dir, log_dest, clean shutdown."""
import os
import subprocess

from wire import *


def sys_topics():
    with Broker("sys_interval 1\n") as b:
        c = b.connect("s")
        c.send(subscribe(1, [("$SYS/broker/clients/connected", 0),
                             ("$SYS/broker/version", 0)])).expect(suback(1, [0, 0]))
        got = {c.read_packet(), c.read_packet()}
        want = {publish("$SYS/broker/clients/connected", n, retain=True) for n in "01"}
        want.add(publish("$SYS/broker/version", "iotplot version 0.1.0", retain=True))
        expect_eq(got <= want, True, f"retained $SYS values {got}")
        # Within sys_interval the live update says one client is connected.
        while c.read_packet() != publish("$SYS/broker/clients/connected", "1"):
            pass
        c.send(subscribe(2, [("$SYS/broker/load/messages/received/+", 0)]))
        c.expect(suback(2, [0]))
        names = {c.read_packet()[4:4 + 40] for _ in range(3)}
        expect_eq(len(names), 3, "1min, 5min, 15min")
        # The byte loads too, which the console's Status cards show.
        c.send(subscribe(3, [("$SYS/broker/load/bytes/+/1min", 0)]))
        c.expect(suback(3, [0]))
        topics = set()
        while len(topics) < 2:
            p = c.read_packet()
            tlen = p[2] << 8 | p[3]
            if p[4:4 + tlen].startswith(b"$SYS/broker/load/bytes/"):  # others come too
                topics.add(p[4:4 + tlen])
        expect_eq(topics, {b"$SYS/broker/load/bytes/received/1min",
                           b"$SYS/broker/load/bytes/sent/1min"}, "byte loads")
        n = b.connect("n")
        n.send(publish("$SYS/broker/version", "fake", retain=True)).sync()
        c.sync()  # clients cannot publish under $SYS


def bad_configs():
    with iptest.tempdir() as d:
        cases = [
            ("bogus_directive 1\n", "broker.conf:1: unknown directive 'bogus_directive'"),
            ("listener 1883\ncertfile /x.pem\n",
             "broker.conf:2: certfile /x.pem: No such file or directory"),
            (f"listener 1883\ncertfile {d}/broker.conf\n",
             "listener 1883: a TLS listener needs certfile and keyfile"),
            ("certfile /x.pem\n", "broker.conf:1: 'certfile' must follow the 'listener' line"),
            ("listener 1883\ntls_version tlsv1\n", "broker.conf:2: tls_version must be"),
            ("connection b1\naddress h\nstart_type manual\n",
             "broker.conf:3: start_type must be automatic, lazy or once"),
            ("\n# comment\nmax_inflight_messages lots\n",
             "broker.conf:3: max_inflight_messages: 'lots' is not a number"),
            ("allow_anonymous maybe\n", "broker.conf:1: allow_anonymous must be true or false"),
            ("password_file /nonexistent/p\n", "/nonexistent/p: No such file or directory"),
            ("listener 1883\nprotocol smoke\n", "protocol must be mqtt or websockets"),
            ("connection b1\n", "bridge 'b1' has no address"),
            ("persistent_client_expiration 3x\n", "is not a duration"),
        ]
        for text, want in cases:
            conf = os.path.join(d, "broker.conf")
            with open(conf, "w") as f:
                f.write(text)
            r = iptest.run([iptest.binary(), "broker", "-c", conf])
            expect_eq(r.returncode != 0, True, f"exit code for {text!r}")
            if want not in r.stderr:
                raise AssertionError(f"{text!r}: stderr {r.stderr!r} lacks {want!r}")


def include_dir_and_log_file():
    with iptest.tempdir() as d:
        inc = os.path.join(d, "conf.d")
        os.mkdir(inc)
        with open(os.path.join(inc, "b.conf"), "w") as f:
            f.write("nonsense here\n")
        with open(os.path.join(inc, "a.conf"), "w") as f:
            f.write("max_keepalive 10\n")
        conf = os.path.join(d, "broker.conf")
        with open(conf, "w") as f:
            f.write(f"include_dir {inc}\n")
        r = iptest.run([iptest.binary(), "broker", "-c", conf])
        expect_eq("b.conf:1: unknown directive 'nonsense'" in r.stderr, True, r.stderr)
    with iptest.tempdir() as d:
        log = os.path.join(d, "broker.log")
        with Broker(f"log_dest file {log}\n") as b:
            b.connect("x").sync()
        with open(log) as f:
            expect_eq("New client connected" in f.read(), True, "the log went to the file")


def shutdown_disconnects_v5():
    with Broker() as b:
        c = b.connect("bye", V5)
        c.sync()
        b.proc.terminate()
        c.expect(disconnect(0x8B, V5), "server shutting down").expect_closed()
        expect_eq(b.proc.wait(10), 0, "exit code")


run([("sys_topics", sys_topics), ("bad_configs", bad_configs),
     ("include_dir_and_log_file", include_dir_and_log_file),
     ("shutdown_disconnects_v5", shutdown_disconnects_v5)])
