"""The configurations a mosquitto user already has: Debian's stock mosquitto.conf with its
conf.d, the README's classroom file, and the directives of the process and its log
(pid_file, user, include_dir, log_dest, log_type, log_timestamp*, connection_messages),
each checked by its effect with real clients."""
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import iptest
from iptest import expect_eq
from configtest import HERE, SRC, Running, fail, main_checks, peer, refused, write

LISTEN = "listener 0 127.0.0.1\nallow_anonymous true\n"


def pubsub_works(port, topic="t/x"):
    sub = iptest.spawn(["mosquitto_sub", "-h", iptest.HOST, "-p", str(port), "-t", topic,
                        "-C", "1", "-W", "10"])
    time.sleep(0.4)
    iptest.run(["mosquitto_pub", "-h", iptest.HOST, "-p", str(port), "-t", topic, "-m", "hi"],
               check=True)
    out, err = sub.communicate(timeout=15)
    expect_eq(out, "hi\n", f"mosquitto_sub: {err}")


def debian_paths(d, text):
    """Debian's absolute paths, moved under d."""
    for old, new in [("/run/mosquitto/", f"{d}/run/"), ("/var/lib/mosquitto/", f"{d}/lib/"),
                     ("/var/log/mosquitto/", f"{d}/log/"), ("/etc/mosquitto/", f"{d}/etc/")]:
        text = text.replace(old, new)
    return text


def debian_stock_file():
    """Debian's file as installed, its conf.d README beside a local .conf with a listener:
    it starts as it is, persistence included (our store is iotplot.db, so a mosquitto.db
    left in the same folder is never touched)."""
    with iptest.tempdir() as d:
        for sub in ("run", "lib", "log"):
            os.makedirs(f"{d}/{sub}")
        shutil.copytree(f"{HERE}/debian/conf.d", f"{d}/etc/conf.d")
        write(f"{d}/etc/conf.d/local.conf", LISTEN)
        with open(f"{HERE}/debian/mosquitto.conf") as f:
            stock = debian_paths(d, f.read())
        expect_eq("persistence true" in stock, True, "the stock file keeps persistence")
        conf = write(f"{d}/etc/mosquitto.conf", stock)
        logfile = f"{d}/log/mosquitto.log"
        with Running(conf, logfile=logfile) as b:
            with open(f"{d}/run/mosquitto.pid") as f:
                expect_eq(int(f.read()), b.proc.pid, "pid_file")
            pubsub_works(b.port)
            expect_eq("broker running" in open(logfile).read(), True, "log_dest file")
            expect_eq(os.path.exists(f"{d}/lib/iotplot.db"), True,
                      "the store in persistence_location")
            b.stop()
        expect_eq(os.path.exists(f"{d}/run/mosquitto.pid"), False, "pid file removed at exit")


def classroom_file():
    """The README's example as written: its paths and ports moved, nothing else."""
    with open(os.path.join(SRC, "README.md")) as f:
        readme = f.read()
    m = re.search(r"classroom broker.*?```\n(.*?)```", readme, re.S)
    text = m.group(1)
    with iptest.tempdir() as d:
        subprocess.run(["sh", f"{SRC}/tests/lib/make-certs.sh", d], check=True, timeout=60)
        text = text.replace("/etc/iotplot/", f"{d}/")
        text = re.sub(r"^listener \d+$", "listener 0 127.0.0.1", text, flags=re.M)
        expect_eq(text.count("listener 0 127.0.0.1"), 3, "three listeners")
        iptest.run([iptest.binary(), "passwd", "-c", "-b", "-I", "1000", f"{d}/passwd", "alice",
                    "pw"], check=True)
        write(f"{d}/acl", "pattern readwrite %u/#\n")
        conf = write(f"{d}/class.conf", text)
        with Running(conf) as b:
            expect_eq(len(b.ports), 3, "ports")
            expect_eq("warning" in b.text(), False, f"warnings: {b.text()}")
            with peer(b.ports[0], "a1", user="alice", pw="pw") as a:
                expect_eq(a.connect()[0], 0, "alice")
                expect_eq(a.sub("alice/#", 1), (1,), "own topics")
                expect_eq(a.sub("bob/#", 1), (128,), "another user's")
            with peer(b.ports[0], "anon") as n:
                expect_eq(n.connect()[0], 5, "anonymous refused")


def inline_comment_warned():
    with iptest.tempdir() as d:
        conf = write(f"{d}/b.conf", LISTEN + "max_keepalive 60 # one minute\n")
        with Running(conf) as b:
            want = f"{conf}:3: warning: 'max_keepalive' has ' #' in its value"
            expect_eq(want in b.text(), True, b.text())


def include_dir_sorted():
    """Only *.conf, in name order: the later auto_id_prefix wins; others are not read."""
    with iptest.tempdir() as d:
        write(f"{d}/conf.d/20-second.conf", "auto_id_prefix second-\n")
        write(f"{d}/conf.d/10-first.conf", "auto_id_prefix first-\n")
        write(f"{d}/conf.d/30-off.conf.disabled", "bogus_directive 1\n")
        write(f"{d}/conf.d/README", "bogus_directive 1\n")
        conf = write(f"{d}/b.conf", LISTEN + f"include_dir {d}/conf.d\n")
        import paho.mqtt.client as mqtt
        with Running(conf) as b, peer(b.port, "", proto=mqtt.MQTTv5) as p:
            rc, props = p.connect()
            expect_eq(rc, 0, "connack")
            expect_eq(props.AssignedClientIdentifier.startswith("second-"), True,
                      props.AssignedClientIdentifier)


def user_drops_privileges():
    if os.geteuid() != 0:
        print("skip: user needs the test to run as root")
        return
    with iptest.tempdir() as d:
        os.chmod(d, 0o755)
        conf = write(f"{d}/b.conf", LISTEN + "user nobody\n")
        os.chmod(conf, 0o644)
        with Running(conf) as b:
            with open(f"/proc/{b.proc.pid}/status") as f:
                status = f.read()
            uid = re.search(r"^Uid:\s+(.*)$", status, re.M).group(1).split()
            gid = re.search(r"^Gid:\s+(.*)$", status, re.M).group(1).split()
            expect_eq(uid, ["65534"] * 4, "Uid (real, effective, saved, fs)")
            expect_eq(gid, ["65534"] * 4, "Gid")
            pubsub_works(b.port)
        with open(write(f"{d}/bad.conf", LISTEN + "user no-such-user-here\n")) as _:
            pass
        rc, out = refused(f"{d}/bad.conf")
        expect_eq(rc != 0 and "user 'no-such-user-here' does not exist" in out, True, out)


def log_dest_several_and_topic():
    """stdout and a file and $SYS/broker/log at once; connection lines reach the topic."""
    with iptest.tempdir() as d:
        log = f"{d}/b.log"
        conf = write(f"{d}/b.conf", LISTEN + f"log_dest stdout\nlog_dest file {log}\n"
                     "log_dest topic\nlog_type all\n")
        with Running(conf) as b:
            sub = iptest.spawn(["mosquitto_sub", "-h", iptest.HOST, "-p", str(b.port), "-v",
                                "-t", "$SYS/broker/log/N", "-C", "1", "-W", "10"])
            time.sleep(0.4)
            with peer(b.port, "watched") as p:
                p.connect()
            out, err = sub.communicate(timeout=15)
            expect_eq(bool(re.match(r"\$SYS/broker/log/N \d+: New client connected from .* as "
                                    r"watched", out)), True, out + err)
            expect_eq("New client connected" in open(log).read(), True, "file")
            with open(b.out) as f:
                expect_eq("New client connected" in f.read(), True, "stdout")


def log_file_reopened_on_sighup():
    with iptest.tempdir() as d:
        log = f"{d}/b.log"
        conf = write(f"{d}/b.conf", LISTEN + f"log_dest file {log}\n")
        with Running(conf, logfile=log) as b:
            os.rename(log, log + ".1")  # what logrotate does
            b.proc.send_signal(signal.SIGHUP)
            iptest.eventually(lambda: os.path.exists(log), what="a new log file")
            iptest.eventually(lambda: "Reloaded" in open(log).read(), what="the reload logged")
            expect_eq("broker running" in open(log + ".1").read(), True, "old lines kept")


def timestamps_and_connection_messages():
    with iptest.tempdir() as d:
        conf = write(f"{d}/b.conf", LISTEN + "log_dest stdout\nconnection_messages false\n"
                     "log_timestamp_format %Y-%m-%dT%H:%M:%S\n")
        with Running(conf) as b:
            with peer(b.port, "quiet") as p:
                p.connect()
            time.sleep(0.3)
            text = b.text()
            expect_eq("New client" in text, False, "connection_messages false")
            first = text.splitlines()[0]
            expect_eq(bool(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d: ", first)), True, first)
        conf = write(f"{d}/c.conf", LISTEN + "log_dest stdout\nlog_timestamp false\n")
        with Running(conf) as b:
            expect_eq(b.text().splitlines()[0].startswith("Opening ipv4"), True, b.text())


def log_type_filters():
    with iptest.tempdir() as d:
        conf = write(f"{d}/b.conf", LISTEN + "log_dest stdout\nlog_type subscribe\n"
                     "log_type notice\n")
        with Running(conf) as b:
            with peer(b.port, "subber") as p:
                p.connect()
                p.sub("a/b", 1)
            iptest.eventually(lambda: "subber 1 a/b" in b.text(), what="the subscribe line")
        port = iptest.free_port()
        conf = write(f"{d}/c.conf", f"listener {port} 127.0.0.1\nallow_anonymous true\n"
                     "log_dest stdout\nlog_type error\n")
        with Running(conf, port=port) as b:
            with peer(b.port, "subber") as p:
                p.connect()
                p.sub("a/b", 1)
            time.sleep(0.3)
            expect_eq(b.text(), "", "only errors")


def log_dest_syslog():
    """glibc's syslog() writes to /dev/log: in a mount namespace of its own, the broker's
    /dev is a folder holding this test's datagram socket, so the machine's is untouched."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        print("skip: a private /dev/log needs root and unshare")
        return
    with iptest.tempdir() as d:
        os.makedirs(f"{d}/dev")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(f"{d}/dev/log")
        s.settimeout(iptest.TIMEOUT)
        conf = write(f"{d}/b.conf", LISTEN + "log_dest syslog\nlog_dest stdout\nlog_facility 3\n")
        probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
        if probe.returncode != 0:
            print(f"skip: unshare -m refused here ({probe.stderr.decode().strip()})")
            return
        prefix = ["unshare", "-m", "sh", "-c", f'mount --bind "{d}/dev" /dev && exec "$@"', "sh"]
        with Running(conf, argv_prefix=prefix):
            seen = []
            while not any(b"broker running" in x for x in seen):
                seen.append(s.recv(4096))
        line = next(x for x in seen if b"broker running" in x)
        # <PRI> = facility local3 (19) * 8 + notice (5)
        expect_eq(line.startswith(b"<157>"), True, line)
        expect_eq(b"iotplot[" in line, True, line)


def bridges_refused():
    with iptest.tempdir() as d:
        conf = write(f"{d}/b.conf", LISTEN + "connection upstream\naddress 10.0.0.1:1883\n"
                     "bridge_bind_address 10.0.0.2\n")
        rc, out = refused(conf)
        expect_eq(rc != 0, True, "exit code")
        expect_eq(f"{conf}:5: 'bridge_bind_address' needs this bridge option" in out, True, out)


main_checks([
    ("Debian's stock mosquitto.conf and conf.d", debian_stock_file),
    ("the README's classroom file", classroom_file),
    ("' #' in a value is warned about with file:line", inline_comment_warned),
    ("include_dir: *.conf in name order", include_dir_sorted),
    ("user nobody after binding (/proc/PID/status)", user_drops_privileges),
    ("log_dest stdout + file + topic ($SYS/broker/log/N)", log_dest_several_and_topic),
    ("log file reopened on SIGHUP", log_file_reopened_on_sighup),
    ("log_timestamp(_format), connection_messages false", timestamps_and_connection_messages),
    ("log_type", log_type_filters),
    ("log_dest syslog (private /dev/log)", log_dest_syslog),
    ("bridge directives not offered refused with file:line", bridges_refused),
])
