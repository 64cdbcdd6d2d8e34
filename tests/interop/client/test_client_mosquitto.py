"""Our client (through `iotplot pub` / `iotplot sub`) against a real mosquitto, with
mosquitto_pub / mosquitto_sub as the other party: QoS 0/1/2 both ways in every protocol
version, retained messages, the will, unsubscribe, files and stdin lines, user names and
passwords, and bad arguments."""
import os
import signal
import subprocess
import time

import iptest
from clienttest import BIN, Proc, expect_ok, pub, sub

H = iptest.HOST


class MosquittoSub(Proc):
    """mosquitto_sub -d: its debug lines go to stdout with the messages; keep them apart."""

    def __init__(self, port, *args):
        super().__init__(["stdbuf", "-oL", "mosquitto_sub", "-h", H, "-p", str(port), "-d", *args])
        iptest.eventually(lambda: any("received SUBACK" in l for l in self.out) or self.p.poll(),
                          what="mosquitto_sub SUBACK")

    def finish(self, timeout=iptest.TIMEOUT):
        code, out, err = super().finish(timeout)
        return code, [l for l in out if not l.startswith(("Client ", "Subscribed (mid"))], err


def mosquitto_sub(port, *args):
    return MosquittoSub(port, *args)


def qos_both_ways(port):
    for v in ("mqttv31", "mqttv311", "mqttv5"):
        for q in ("0", "1", "2"):
            s = sub(port, "-t", f"q/{v}/#", "-v", "-q", q, "-V", v, "-C", "2")
            expect_ok(pub(port, "-t", f"q/{v}/ours", "-m", f"ours {q}", "-q", q, "-V", v), "pub")
            iptest.run(["mosquitto_pub", "-h", H, "-p", str(port), "-t", f"q/{v}/theirs",
                        "-m", f"theirs {q}", "-q", q], check=True)
            code, out, err = s.finish()
            iptest.expect_eq((code, out), (0, [f"q/{v}/ours ours {q}", f"q/{v}/theirs theirs {q}"]),
                             f"sub {v} qos {q}")
            m = mosquitto_sub(port, "-t", f"m/{v}", "-q", q, "-C", "1", "-V", v)
            expect_ok(pub(port, "-t", f"m/{v}", "-m", f"to mosquitto_sub {q}", "-q", q, "-V", v), "pub")
            code, out, _ = m.finish()
            iptest.expect_eq((code, out), (0, [f"to mosquitto_sub {q}"]), f"mosquitto_sub {v} qos {q}")


def retained(port):
    expect_ok(pub(port, "-t", "r/1", "-m", "kept", "-r", "-q", "1"), "pub -r")
    code, out, _ = Proc([BIN, "sub", "-h", H, "-p", str(port), "-t", "r/#", "-v", "-C", "1"]).finish()
    iptest.expect_eq((code, out), (0, ["r/1 kept"]), "retained delivered")
    code, out, err = Proc([BIN, "sub", "-h", H, "-p", str(port), "-t", "r/#", "-R", "-W", "1"]).finish()
    iptest.expect_eq((code, out), (27, []), "-R skips retained, -W times out")
    code, out, _ = Proc([BIN, "sub", "-h", H, "-p", str(port), "-t", "r/#", "--remove-retained",
                         "-C", "1"]).finish()
    iptest.expect_eq((code, out), (0, ["kept"]), "--remove-retained prints it")
    code, out, _ = Proc([BIN, "sub", "-h", H, "-p", str(port), "-t", "r/#", "-W", "1"]).finish()
    iptest.expect_eq((code, out), (27, []), "retained message removed")


def retained_only_and_exit(port):
    expect_ok(pub(port, "-t", "r2/a", "-m", "ret", "-r", "-q", "1"), "pub -r")
    s = sub(port, "-t", "r2/#", "-v", "--retained-only")
    s.wait_out(1)
    iptest.run(["mosquitto_pub", "-h", H, "-p", str(port), "-t", "r2/b", "-m", "live"], check=True)
    code, out, _ = s.finish()
    iptest.expect_eq((code, out), (0, ["r2/a ret"]), "--retained-only")
    expect_ok(pub(port, "-t", "r2/a", "-n", "-r"), "clear retained")
    # -E with a kept session (3.1.1 clean session off; 5.0 session expiry): subscribe and
    # leave; messages wait for the next visit.
    for v, keep in (("mqttv311", ["-c"]), ("mqttv5", ["-c", "-x", "60"])):
        args = ["-h", H, "-p", str(port), "-V", v, *keep, "-i", f"visitor-{v}", "-q", "1"]
        code, out, err = Proc([BIN, "sub", *args, "-t", "e/#", "-E"]).finish()
        iptest.expect_eq((code, out), (0, []), f"-E exits after SUBACK ({err})")
        iptest.run(["mosquitto_pub", "-h", H, "-p", str(port), "-t", "e/x", "-m", f"waited {v}",
                    "-q", "1"], check=True)
        code, out, _ = Proc([BIN, "sub", *args, "-t", "e/#", "-C", "1", "-v"]).finish()
        iptest.expect_eq((code, out), (0, [f"e/x waited {v}"]), f"queued for the kept session {v}")


def keepalive(port):
    # -k 1: mosquitto drops a client silent for 1.5 s; our PINGREQs keep it connected.
    s = sub(port, "-t", "ka", "-k", "1", "-C", "1")
    time.sleep(3.5)
    iptest.run(["mosquitto_pub", "-h", H, "-p", str(port), "-t", "ka", "-m", "still here"], check=True)
    code, out, err = s.finish()
    iptest.expect_eq((code, out), (0, ["still here"]), "message after idle time")
    if any("connection lost" in l for l in err):
        raise AssertionError(f"connection dropped while idle: {err}")


def will_on_abrupt_close(port):
    for v in ("mqttv311", "mqttv5"):
        watch = mosquitto_sub(port, "-t", f"will/{v}", "-C", "1", "-q", "1")
        s = sub(port, "-t", "nothing", "-V", v, "--will-topic", f"will/{v}",
                "--will-payload", "gone", "--will-qos", "1")
        s.p.send_signal(signal.SIGKILL)  # no DISCONNECT: the broker must publish the will
        s.finish()
        code, out, _ = watch.finish()
        iptest.expect_eq((code, out), (0, ["gone"]), f"will {v}")
        # A clean exit sends DISCONNECT: no will.
        watch = Proc(["mosquitto_sub", "-h", H, "-p", str(port), "-t", f"will/{v}", "-W", "1"])
        s = sub(port, "-t", "nothing", "-V", v, "--will-topic", f"will/{v}", "--will-payload", "x")
        s.p.send_signal(signal.SIGTERM)
        iptest.expect_eq(s.finish()[0], 0, "sub exits 0 on SIGTERM")
        iptest.expect_eq(watch.finish()[1], [], f"no will after DISCONNECT {v}")


def unsubscribe(port):
    # Session 1 subscribes u/a and u/b; session 2 (same id, session kept) drops u/a.
    s = sub(port, "-c", "-i", "unsub-test", "-q", "1", "-t", "u/a", "-t", "u/b")
    s.p.send_signal(signal.SIGTERM)
    s.finish()
    s = Proc([BIN, "sub", "-h", H, "-p", str(port), "-d", "-c", "-i", "unsub-test", "-q", "1",
              "-U", "u/a", "-C", "1", "-v"])
    s.wait_err("unsubscribed from 'u/a'")
    for t, m in (("u/a", "dropped"), ("u/b", "kept")):
        iptest.run(["mosquitto_pub", "-h", H, "-p", str(port), "-t", t, "-m", m, "-q", "1"], check=True)
    code, out, _ = s.finish()
    iptest.expect_eq((code, out), (0, ["u/b kept"]), "only the kept subscription delivers")


def payload_sources(port):
    # -n, -l: every stdin line at QoS 2, in order.
    m = mosquitto_sub(port, "-t", "lines", "-C", "101", "-q", "2", "-v")
    expect_ok(pub(port, "-t", "lines", "-n", "-q", "1"), "pub -n")
    lines = "".join(f"line {i}\n" for i in range(100))
    expect_ok(pub(port, "-t", "lines", "-l", "-q", "2", input=lines), "pub -l")
    code, out, _ = m.finish()
    iptest.expect_eq((code, out), (0, ["lines (null)"] + [f"lines line {i}" for i in range(100)]), "-n then -l lines")


def binary_file(port):
    with iptest.tempdir() as d:
        path = os.path.join(d, "blob")
        blob = bytes(range(256)) * 40 + os.urandom(3 << 20)  # every byte value, 3 MiB
        with open(path, "wb") as f:
            f.write(blob)
        # Retained, so the reader gets it whenever it subscribes: no race to set up.
        expect_ok(pub(port, "-t", "f", "-f", path, "-q", "2", "-r"), "pub -f")
        out = subprocess.run(["mosquitto_sub", "-h", H, "-p", str(port), "-t", "f", "-C", "1",
                              "-N"], capture_output=True, timeout=iptest.TIMEOUT).stdout
        expect_ok(pub(port, "-t", "f", "-n", "-r"), "clear retained")
        iptest.expect_eq(out == blob, True, f"file bytes ({len(out)} of {len(blob)})")


def credentials():
    with iptest.tempdir() as d:
        pw = os.path.join(d, "pw")
        iptest.run(["mosquitto_passwd", "-c", "-b", pw, "alice", "s3cret"], check=True)
        with iptest.mosquitto(f"allow_anonymous false\npassword_file {pw}\n", workdir=d) as (port, _):
            for v in ("mqttv311", "mqttv5"):
                expect_ok(pub(port, "-V", v, "-u", "alice", "-P", "s3cret", "-t", "a", "-m", "x"),
                          f"right password {v}")
                r = pub(port, "-V", v, "-u", "alice", "-P", "wrong", "-t", "a", "-m", "x")
                # mosquitto 2.0 answers 0x87 Not authorized to 5.0 clients, 0x05 to 3.1.1.
                want = "0x05" if v == "mqttv311" else "0x87"
                if r.returncode == 0 or "connection refused" not in r.stderr or want not in r.stderr:
                    raise AssertionError(f"wrong password {v}: exit {r.returncode}, {r.stderr!r}")
                if len(r.stderr.strip().splitlines()) != 1:
                    raise AssertionError(f"one line expected: {r.stderr!r}")
            r = pub(port, "-t", "a", "-m", "x")
            if r.returncode == 0 or "not authorized" not in r.stderr:
                raise AssertionError(f"anonymous: {r.returncode} {r.stderr!r}")


def refused_publish():
    # mosquitto grants any subscription but refuses publishing outside the ACL: 5.0 says
    # why in PUBACK/PUBREC, and pub reports it.
    with iptest.tempdir() as d:
        os.chmod(d, 0o755)
        acl = os.path.join(d, "acl")
        with open(acl, "w") as f:
            f.write("topic readwrite open/#\n")
        os.chmod(acl, 0o644)
        with iptest.mosquitto(f"acl_file {acl}\n", workdir=d) as (port, _):
            expect_ok(pub(port, "-V", "mqttv5", "-q", "1", "-t", "open/x", "-m", "ok"), "allowed")
            for q in ("1", "2"):
                r = pub(port, "-V", "mqttv5", "-q", q, "-t", "secret/x", "-m", "no")
                if r.returncode == 0 or "Not authorized (reason code 0x87)" not in r.stderr:
                    raise AssertionError(f"qos {q}: exit {r.returncode}, stderr {r.stderr!r}")


def bad_arguments():
    for cmd in (["pub", "-m", "x"], ["pub", "-t", "a"], ["pub", "-t", "a", "-m", "x", "-q", "3"],
                ["sub"], ["sub", "-t", "a", "-V", "mqttv4"], ["pub", "-t", "a", "-m", "x", "-Z"],
                ["pub", "-t", "a", "-m", "x", "-D", "publish", "content-type", "x", "-V",
                 "mqttv311"]):
        r = iptest.run([BIN, *cmd])
        first = r.stderr.strip().splitlines()[:1]
        if r.returncode == 0 or not first or "usage:" not in r.stderr or "usage" in first[0]:
            raise AssertionError(f"{cmd}: want a reason, then the usage; exit {r.returncode}, "
                                 f"stderr {r.stderr!r}")
    for cmd in ("pub", "sub"):
        r = iptest.run([BIN, cmd, "--help"])
        if r.returncode != 0 or "-t" not in r.stdout or "--cafile" not in r.stdout:
            raise AssertionError(f"{cmd} --help: {r.returncode} {r.stdout!r}")
    port = iptest.free_port()  # nothing listens there
    r = pub(port, "-t", "a", "-m", "x")
    if r.returncode == 0 or "cannot connect" not in r.stderr:
        raise AssertionError(f"no broker: {r.returncode} {r.stderr!r}")


def main():
    res = iptest.Results()
    with iptest.mosquitto() as (port, _):
        res.check("qos 0/1/2 both ways, 3.1 / 3.1.1 / 5.0", qos_both_ways, port)
        res.check("retained, -R, --remove-retained", retained, port)
        res.check("--retained-only, -E and a kept session", retained_only_and_exit, port)
        res.check("keepalive pings hold an idle connection", keepalive, port)
        res.check("will on abrupt close, none after DISCONNECT", will_on_abrupt_close, port)
        res.check("unsubscribe", unsubscribe, port)
        res.check("-n and -l (every line at QoS 2)", payload_sources, port)
        res.check("-f binary file", binary_file, port)
    res.check("user name and password accepted / refused", credentials)
    res.check("5.0 publish refused by the ACL", refused_publish)
    res.check("bad arguments and no broker", bad_arguments)
    res.finish()


if __name__ == "__main__":
    main()
