"""`iotplot pub` / `iotplot sub` as drop-ins for mosquitto_pub / mosquitto_sub 2.0: the same
command line runs through both tools against the same broker (a real mosquitto, then
`iotplot broker`) and their stdout must be the same bytes. Covers every -F field with
payloads that exercise JSON escaping, binary, empty and JSON payloads, 5.0 properties,
retained messages and QoS 2; -T, -R, -N, -U, -E, --pretty, -L, pub --repeat and -s,
-D without -V, --unix, --proxy through a SOCKS5 proxy, -A, each of the last three also
under TLS, exit codes; -S (which the mosquitto here lacks) against a DNS server of the
test's own. Times (%I %U @...) cannot match byte for byte: their shape and closeness to
now are checked instead."""
import datetime
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ["IOTPLOT_SRC"], "tests", "wire", "broker"))
import iptest  # noqa: E402
from iptest import expect_eq  # noqa: E402
from dns_srv import SrvServer  # noqa: E402
from socks5 import Socks5  # noqa: E402
from wire import Broker  # noqa: E402

H = iptest.HOST
BIN = iptest.binary()
SUB = {"mosquitto": ["mosquitto_sub"], "iotplot": [BIN, "sub"]}
PUB = {"mosquitto": ["mosquitto_pub"], "iotplot": [BIN, "pub"]}

# Every field and escape whose output does not depend on the clock.
ALL_FIELDS = ("[%t|%10t|%-10t.|%.2t|%5.2t] %l %m %q %r [%x] [%X] [%5x] [%-8X|] [%20x] "
              "[%C|%-12C|] [%D] [%E] [%F|%3F|%-3F|%03F] [%A] [%P] [%S] [%R] %% [%-p] [%-3p] "
              "[%4p] [%05l] [%-5l] [%3q] [%0r] \\t\\e\\\\\\a\\v\\r\\0 %p %j %J")
V5_PROPS = ["-D", "publish", "content-type", "text/x", "-D", "publish", "correlation-data",
            "cd1", "-D", "publish", "message-expiry-interval", "1000", "-D", "publish",
            "payload-format-indicator", "1", "-D", "publish", "user-property", "k1", "v1",
            "-D", "publish", "user-property", "k2", "v2", "-D", "publish", "response-topic",
            "rt/x"]


class Target:
    """One broker: mosquitto or ours, with a log that shows subscriptions."""

    def __init__(self, kind, port, logtext):
        self.kind, self.port, self.logtext = kind, port, logtext

    def conn(self):
        return ["-h", H, "-p", str(self.port)]

    def wait_subscribed(self, cid, topic, proc, count=1):
        """Wait until the broker has logged count (un)subscriptions of cid to topic: both
        brokers log each as "CLIENT-ID FILTER"."""
        def seen():
            if proc.poll() is not None:
                raise RuntimeError(f"sub exited {proc.returncode}: {proc.stderr.read()!r}")
            return sum(cid in line and line.endswith(f" {topic}")
                       for line in self.logtext().splitlines()) >= count
        iptest.eventually(seen, what=f"{cid} subscribed to {topic} on {self.kind}")


def publish(t, *args, stdin=None):
    r = subprocess.run(["mosquitto_pub", *t.conn(), *args], input=stdin, capture_output=True,
                       timeout=iptest.TIMEOUT)
    expect_eq(r.returncode, 0, f"mosquitto_pub {args}: {r.stderr!r}")


def run_sub(t, tool, args, actions=(), wait_topic=None, cid=None, timeout=iptest.TIMEOUT):
    """Run one tool's sub with args; when wait_topic is given, wait for its subscription
    and then run actions (callables) while it listens. Returns (code, stdout, stderr)."""
    cid = cid or f"{tool}-{os.getpid()}-{time.monotonic_ns()}"
    p = subprocess.Popen(SUB[tool] + t.conn() + ["-i", cid] + args, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        if wait_topic:  # a topic, or (topic, how many log lines of it to wait for)
            topic, count = wait_topic if isinstance(wait_topic, tuple) else (wait_topic, 1)
            t.wait_subscribed(cid, topic, p, count)
        for a in actions:
            a()
        out, err = p.communicate(timeout=timeout)
    finally:
        iptest.stop(p)
    return p.returncode, out, err


def same(t, args, actions=(), wait_topic=None, prepare=None, want_code=0, check=None):
    """Both tools' output for the same arguments; returns it after comparing."""
    got = {}
    for tool in ("mosquitto", "iotplot"):
        if prepare:
            prepare()
        code, out, err = run_sub(t, tool, args, actions, wait_topic)
        expect_eq(code, want_code, f"{tool} sub {args} exit ({err!r})")
        got[tool] = check(out) if check else out
    expect_eq(got["iotplot"], got["mosquitto"], f"sub {args} on {t.kind}")
    return got["mosquitto"]


def payloads(t, topic, qos="2"):
    """Messages whose output tests escaping and binary handling, live, all at one QoS (a
    broker may reorder deliveries of different QoS levels)."""
    def send():
        publish(t, "-t", f"{topic}/esc", "-m", 'he"l\\lo\x01\t\n/ \u00e9 end', "-q", qos,
                "-V", "mqttv5", *V5_PROPS)
        publish(t, "-t", f"{topic}/empty", "-n", "-q", qos)
        publish(t, "-t", f"{topic}/bin", "-s", "-q", qos, stdin=b"bi\x01\x00n\xff\xfe")
        publish(t, "-t", f"{topic}/json", "-q", qos,
                "-m", '{"x": [1, 2.5e3, -0.1, 1e300, "\\u00e9\\n\\/", true, null], "y": {}, '
                      '"z": [], "w": {"a": {"b": [{}]}}}')
        publish(t, "-t", f"{topic}/num", "-m", "12345678901234567890", "-q", qos)
    return send


def all_fields(t):
    no_tst = lambda o: re.sub(rb'"tst":"[^"]*"', b'"tst":""', o)  # noqa: E731
    # 3.1.1: no properties at all.
    same(t, ["-t", "f3/#", "-q", "1", "-C", "5", "-F", ALL_FIELDS], [payloads(t, "f3", "1")],
         wait_topic="f3/#", check=no_tst)
    for q in ("0", "2"):
        args = ["-t", f"f{q}/#", "-V", "mqttv5", "-q", q, "-C", "5", "-F", ALL_FIELDS,
                "-D", "subscribe", "subscription-identifier", "7"]
        out = same(t, args, [payloads(t, f"f{q}")], wait_topic=f"f{q}/#", check=no_tst)
        for want in (b"[text/x|text/x      |]", b"[k1:v1 k2:v2]", b"[cd1]", b"[rt/x]", b"[7]",
                     b'"payload":null', b"\\u0001", b"626901006eff"):
            if want not in out:
                raise AssertionError(f"{want!r} missing from {out!r}")


def json_pretty(t):
    for fmt in ("%j", "%J", "%j %J"):
        for extra in ([], ["--pretty"]):
            args = ["-t", "j/#", "-V", "mqttv5", "-q", "1", "-C", "5", "-F", fmt, *extra]
            same(t, args, [payloads(t, "j", "1")], wait_topic="j/#",
                 check=lambda o: re.sub(rb'"tst":\s*"[^"]*"', b'"tst":""', o))


def plain_and_verbose(t):
    for extra in ([], ["-v"], ["-N"], ["-v", "-N"]):
        same(t, ["-t", "p/#", "-V", "mqttv5", "-q", "2", "-C", "5", *extra],
             [payloads(t, "p")], wait_topic="p/#")


def retained(t):
    def prepare():
        publish(t, "-t", "r/1", "-m", "kept one", "-r", "-q", "1", "-V", "mqttv5", *V5_PROPS)
        publish(t, "-t", "r/2", "-m", "kept two", "-r", "-q", "2")
    # One filter per retained topic: the order of retained messages under one filter is
    # the broker's choice.
    out = same(t, ["-t", "r/1", "-t", "r/2", "-q", "2", "-V", "mqttv5", "-C", "2", "-F",
                   "%t %r %q %C %p"], prepare=prepare)
    expect_eq(out, b"r/1 1 1 text/x kept one\nr/2 1 2  kept two\n", "retained output")
    # -R: retained ones are not printed; the live one is.
    out = same(t, ["-t", "r/#", "-R", "-v", "-C", "1"], [lambda: publish(t, "-t", "r/3", "-m", "live")],
               wait_topic="r/#")
    expect_eq(out, b"r/3 live\n", "-R")
    # --retained-only stops at the first live message.
    out = same(t, ["-t", "r/1", "-t", "r/2", "-t", "r/4", "--retained-only", "-v"],
               [lambda: publish(t, "-t", "r/4", "-m", "live")], wait_topic="r/4")
    expect_eq(out, b"r/1 kept one\nr/2 kept two\n", "--retained-only")
    # --remove-retained clears what it prints (-T keeps r/2 out of it).
    out = same(t, ["-t", "r/#", "--remove-retained", "-T", "r/2", "-v", "-W", "1"],
               prepare=prepare, want_code=27)
    # Each tool also sees its own clearing message, live (retain 0, empty).
    expect_eq(out, b"r/1 kept one\nr/1 (null)\n", "--remove-retained with -T")
    out = same(t, ["-t", "r/#", "-v", "-W", "1"], want_code=27)
    expect_eq(out, b"r/2 kept two\n", "only the filtered-out one is still retained")
    publish(t, "-t", "r/2", "-n", "-r")


def retain_as_published(t):
    for extra, want in (([], b"0 live\n"), (["--retain-as-published"], b"1 live\n")):
        out = same(t, ["-t", "rap", "-V", "mqttv5", "-C", "1", "-F", "%r %p", *extra],
                   [lambda: publish(t, "-t", "rap", "-m", "live", "-r")], wait_topic="rap",
                   prepare=lambda: publish(t, "-t", "rap", "-n", "-r"))
        expect_eq(out, want, f"retain flag of a live message {extra}")
    publish(t, "-t", "rap", "-n", "-r")


def filter_out(t):
    def send():
        for topic in ("t/a", "t/skip", "t/skip/deeper", "t/b", "t/x/skip"):
            publish(t, "-t", topic, "-m", topic)
    out = same(t, ["-t", "t/#", "-T", "t/skip/#", "-T", "t/+/skip", "-v", "-C", "2"], [send],
               wait_topic="t/#")
    expect_eq(out, b"t/a t/a\nt/b t/b\n", "-T")


def unsubscribe_and_exit(t):
    for v in ("mqttv311", "mqttv5"):
        got = {}
        for tool in ("mosquitto", "iotplot"):
            cid = f"u-{tool}-{v}-{os.getpid()}"
            keep = ["-c", "-q", "1", "-V", v]
            code, out, err = run_sub(t, tool, keep + ["-t", "u/a", "-t", "u/b", "-E"], cid=cid)
            expect_eq((code, out), (0, b""), f"{tool} -E {err!r}")
            # Queued for the kept session while away; then -U drops u/a.
            publish(t, "-t", "u/b", "-m", "queued", "-q", "1")
            code, out, err = run_sub(
                t, tool, keep + ["-U", "u/a", "-t", "u/c", "-v", "-C", "2"],
                [lambda: publish(t, "-t", "u/a", "-m", "dropped", "-q", "1"),
                 lambda: publish(t, "-t", "u/b", "-m", "kept", "-q", "1")],
                wait_topic=("u/a", 2), cid=cid)  # -E's subscription, then -U's unsubscription
            got[tool] = (code, out)
            run_sub(t, tool, ["-V", v, "-t", "u/#", "-E"], cid=cid)  # end the kept session
        expect_eq(got["iotplot"], got["mosquitto"], f"-E, -c and -U {v}")
        expect_eq(got["mosquitto"], (0, b"u/b queued\nu/b kept\n"), f"-U {v}")


def url(t):
    publish(t, "-t", "l/t", "-m", "by url", "-r")
    out = same(t, ["-L", f"mqtt://{H}:{t.port}/l/t", "-v", "-C", "1"])
    expect_eq(out, b"l/t by url\n", "-L")
    publish(t, "-t", "l/t", "-n", "-r")


def pub_modes(t):
    """Both pubs, one mosquitto_sub: -m with --repeat, -s with binary stdin, -n, -f, -L,
    -l (an empty line, a CR kept) with -M and --nodelay.
    All at QoS 1: a broker may reorder deliveries of different QoS levels."""
    blob = bytes(range(256)) + b"\x00end"
    with iptest.tempdir() as d:
        path = os.path.join(d, "f")
        with open(path, "wb") as f:
            f.write(blob)
        got = {}
        for tool in ("mosquitto", "iotplot"):
            cid = f"watch-{tool}"
            p = subprocess.Popen(["mosquitto_sub", *t.conn(), "-i", cid, "-t", "m/#", "-q", "2",
                                  "-V", "mqttv5", "-C", "11", "-F", "%t %q %l %x %C"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                t.wait_subscribed(cid, "m/#", p)
                base = PUB[tool] + t.conn()
                start = time.monotonic()
                for args, stdin in ((["-t", "m/rep", "-m", "again", "--repeat", "3",
                                      "--repeat-delay", "0.2", "-q", "1"], None),
                                    (["-t", "m/s", "-s", "-q", "1"], blob),
                                    (["-t", "m/n", "-n", "-q", "1"], None),
                                    (["-t", "m/f", "-f", path, "-q", "1", "-V", "mqttv5",
                                      "--property", "publish", "content-type", "a/b"], None),
                                    (["-L", f"mqtt://{H}:{t.port}/m/l", "-m", "url", "-q", "1"],
                                     None),
                                    (["-t", "m/lines", "-l", "-q", "1", "-M", "1", "--nodelay"],
                                     b"a\n\nb\r\nlast")):
                    r = subprocess.run(base + args, input=stdin, capture_output=True,
                                       timeout=iptest.TIMEOUT)
                    expect_eq(r.returncode, 0, f"{tool} pub {args}: {r.stderr!r}")
                    if args[-1] == "1" and "--repeat" in args:
                        took = time.monotonic() - start
                        if took < 0.4:
                            raise AssertionError(f"{tool} --repeat-delay 0.2 x3 took {took:.2f}s")
                out, _ = p.communicate(timeout=iptest.TIMEOUT)
            finally:
                iptest.stop(p)
            got[tool] = out
        expect_eq(got["iotplot"], got["mosquitto"], "what each pub sent")
        lines = got["mosquitto"].split(b"\n")
        expect_eq(lines[:3], [b"m/rep 1 5 616761696e "] * 3, "--repeat 3")


def unix_socket():
    with iptest.tempdir() as d:
        os.chmod(d, 0o755)
        path = os.path.join(d, "mqtt.sock")
        with iptest.mosquitto(f"listener 0 {path}\nlog_type all\n", workdir=d) as (port, _):
            t = Target("mosquitto", port, lambda: open(os.path.join(d, "mosquitto.log")).read())
            got = {}
            for tool in ("mosquitto", "iotplot"):
                r = subprocess.run(PUB[tool] + ["--unix", path, "-t", "x/u", "-m", f"via {tool}",
                                                "-r", "-q", "1"], capture_output=True,
                                   timeout=iptest.TIMEOUT)
                expect_eq(r.returncode, 0, f"{tool} pub --unix: {r.stderr!r}")
                outs = []
                for sub in ("mosquitto", "iotplot"):
                    r = subprocess.run(SUB[sub] + ["--unix", path, "-t", "x/u", "-v", "-C", "1"],
                                       capture_output=True, timeout=iptest.TIMEOUT)
                    expect_eq(r.returncode, 0, f"{sub} sub --unix: {r.stderr!r}")
                    outs.append(r.stdout)
                expect_eq(outs[1], outs[0], f"sub --unix after {tool} pub")
                got[tool] = outs[0]
            expect_eq(got, {"mosquitto": b"x/u via mosquitto\n", "iotplot": b"x/u via iotplot\n"},
                      "--unix")
            _ = t


def certs(d):
    subprocess.run(["sh", os.path.join(os.environ["IOTPLOT_SRC"], "tests/lib/make-certs.sh"),
                    d], check=True, timeout=60)
    return os.path.join(d, "ca.pem")


def tls_listener(d, address):
    return f"listener 0 {address}\ncertfile {d}/server.pem\nkeyfile {d}/server.key\n"


def tls_proxy_bound():
    """TLS through a SOCKS5 proxy and from a chosen source address, to a TLS listener of
    `iotplot broker`: both tools, the same bytes out; a wrong CA fails the handshake, so
    TLS did run end to end over the proxied and the bound socket."""
    with iptest.tempdir() as d:
        ca = certs(d)
        with Broker(tls_listener(d, H)) as b:
            t = Target("iotplot over TLS", b.ports[1], b.logtext)
            with Socks5() as px:
                via = ["--cafile", ca, "--proxy", f"socks5h://{H}:{px.port}"]
                r = subprocess.run(PUB["iotplot"] + t.conn() + via + ["-t", "tls/a", "-m",
                                   "sealed", "-r", "-q", "1"], capture_output=True,
                                   timeout=iptest.TIMEOUT)
                expect_eq(r.returncode, 0, f"pub --proxy with TLS: {r.stderr!r}")
                out = same(t, via + ["-t", "tls/a", "-v", "-C", "1"])
                expect_eq(out, b"tls/a sealed\n", "--proxy with TLS")
                expect_eq(len(px.seen), 3, "pub and both subs went through the proxy")
                for bound in (["-A", "127.0.0.2"], []):
                    r = subprocess.run(SUB["iotplot"] + t.conn() + bound + via[:1] +
                                       [f"{d}/other-ca.pem"] + via[2:] + ["-t", "x", "-E"],
                                       capture_output=True, text=True, timeout=iptest.TIMEOUT)
                    if r.returncode != 1 or "certificate verify failed" not in r.stderr:
                        raise AssertionError(f"wrong CA {bound} over the proxy: {r.returncode} "
                                             f"{r.stderr!r}")
                r = subprocess.run(SUB["iotplot"] + t.conn() + via + ["-A", "127.0.0.3", "-i",
                                   "tls-bound-px", "-t", "x", "-E"], capture_output=True,
                                   timeout=iptest.TIMEOUT)
                expect_eq(r.returncode, 0, f"-A, --proxy and TLS together: {r.stderr!r}")
                expect_eq(len(px.seen), 6, "and those three went through it too")
            out = same(t, ["--cafile", ca, "-A", "127.0.0.2", "-t", "tls/a", "-v", "-C", "1"])
            expect_eq(out, b"tls/a sealed\n", "-A with TLS")
            bound = [line for line in b.logtext().splitlines()
                     if "New client connected from 127.0.0.2:" in line]
            expect_eq(len(bound), 2, f"both subs came from 127.0.0.2: {bound}")


def tls_unix():
    """TLS over --unix, to mosquitto's TLS unix listener (ours has no TLS on unix sockets):
    each tool publishes, both read it back; a wrong CA fails the handshake."""
    with iptest.tempdir() as d:
        os.chmod(d, 0o755)
        ca = certs(d)
        path = os.path.join(d, "tls.sock")
        with iptest.mosquitto(tls_listener(d, path), workdir=d):
            via = ["--unix", path, "--cafile", ca]
            for tool in ("mosquitto", "iotplot"):
                r = subprocess.run(PUB[tool] + via + ["-t", "x/tu", "-m", f"sealed by {tool}",
                                                      "-r", "-q", "1"], capture_output=True,
                                   timeout=iptest.TIMEOUT)
                expect_eq(r.returncode, 0, f"{tool} pub --unix with TLS: {r.stderr!r}")
                outs = [subprocess.run(SUB[sub] + via + ["-t", "x/tu", "-v", "-C", "1"],
                                       capture_output=True, timeout=iptest.TIMEOUT)
                        for sub in ("mosquitto", "iotplot")]
                expect_eq([(o.returncode, o.stdout) for o in outs],
                          [(0, f"x/tu sealed by {tool}\n".encode())] * 2,
                          f"sub --unix with TLS after {tool} pub")
            r = subprocess.run(SUB["iotplot"] + ["--unix", path, "--cafile", f"{d}/other-ca.pem",
                                                 "-t", "x", "-E"],
                               capture_output=True, text=True, timeout=iptest.TIMEOUT)
            if r.returncode != 1 or "certificate verify failed" not in r.stderr:
                raise AssertionError(f"wrong CA over --unix: {r.returncode} {r.stderr!r}")


def proxy(t):
    for user in (None, "alice"):
        with Socks5(user, "s3cret") as px:
            auth = f"{user}:s3cret@" if user else ""
            publish(t, "-t", "px/a", "-m", "through the proxy", "-r")
            out = same(t, ["--proxy", f"socks5h://{auth}{H}:{px.port}", "-t", "px/a", "-v",
                           "-C", "1"])
            expect_eq(out, b"px/a through the proxy\n", "--proxy")
            expect_eq([s[0] for s in px.seen], [user, user], "both tools went through the proxy")
            # pub through the proxy too, by host name (the proxy resolves it: socks5h).
            for tool in ("mosquitto", "iotplot"):
                r = subprocess.run(PUB[tool] + ["-h", "localhost", "-p", str(t.port), "--proxy",
                                                f"socks5h://{auth}{H}:{px.port}", "-t", "px/a",
                                                "-n", "-r"], capture_output=True,
                                   timeout=iptest.TIMEOUT)
                expect_eq(r.returncode, 0, f"{tool} pub --proxy: {r.stderr!r}")
            px.drain()  # the empty retained message has reached the broker
            expect_eq([s[1] for s in px.seen[2:]], ["localhost", "localhost"], "socks5h names")
            if user:
                bad = subprocess.run(SUB["iotplot"] + ["--proxy", f"socks5h://{user}:wrong@{H}:"
                                                       f"{px.port}", *t.conn(), "-t", "x", "-E"],
                                     capture_output=True, timeout=iptest.TIMEOUT)
                expect_eq(bad.returncode, 1, f"wrong proxy password: {bad.stderr!r}")


def property_without_v(t):
    """-D without -V: both tools switch to MQTT 5.0 by themselves, so the subscriber prints
    the user properties the publisher sent. With 3.1.1 on either side %P would be empty."""
    for tool in ("mosquitto", "iotplot"):
        def send(tool=tool):
            r = subprocess.run(PUB[tool] + t.conn() + ["-t", "dv", "-m", f"by {tool}", "-q", "1",
                                                       "-D", "publish", "user-property", "k",
                                                       "v"], capture_output=True,
                               timeout=iptest.TIMEOUT)
            expect_eq(r.returncode, 0, f"{tool} pub -D without -V: {r.stderr!r}")
        out = same(t, ["-t", "dv", "-C", "1", "-F", "%P|%p", "-D", "subscribe",
                       "user-property", "s", "1"], [send], wait_topic="dv")
        expect_eq(out, f"k:v|by {tool}\n".encode(), f"-D without -V, {tool} pub")


def random_filter(t):
    """--random-filter is random, so outputs cannot match; both must print about the same
    share. mosquitto 2.0.11 scales the percentage by 10 where 100 is needed, so "100"
    prints about one message in ten and "1000" all of them: kept, as scripts see it."""
    lines = b"".join(b"%d\n" % i for i in range(400))
    for pct, lo, hi in (("100", 12, 80), ("1000", 400, 400)):
        for tool in ("mosquitto", "iotplot"):
            code, out, err = run_sub(t, tool, ["-t", "rf", "-q", "1", "-W", "3",
                                               "--random-filter", pct],
                                     [lambda: publish(t, "-t", "rf", "-l", "-q", "1",
                                                      stdin=lines)], wait_topic="rf")
            n = len(out.splitlines())
            if code != 27 or not lo <= n <= hi:
                raise AssertionError(f"{tool} --random-filter {pct}: {n} of 400 (exit {code})")


def id_prefix(t):
    """-I: the client id is the prefix and the process id, for both tools."""
    for tool in ("mosquitto", "iotplot"):
        prefix = f"pre-{tool}-"
        r = subprocess.run(SUB[tool] + t.conn() + ["-I", prefix, "-t", "x", "-E"],
                           capture_output=True, timeout=iptest.TIMEOUT)
        expect_eq(r.returncode, 0, f"{tool} -I: {r.stderr!r}")
        iptest.eventually(lambda: re.search(rf" as {prefix}\d+ ", t.logtext()),
                          what=f"a client id {prefix}PID")


def bind_address(t):
    """-A: the broker sees the connection come from the address given (any 127/8 address
    is the loopback on Linux), for both tools, pub and sub, also towards a proxy."""
    for i, tool in enumerate(("mosquitto", "iotplot")):
        src = f"127.0.0.{2 + i}"
        cid = f"bound-{tool}-{os.getpid()}"
        r = subprocess.run(SUB[tool] + t.conn() + ["-A", src, "-i", cid, "-t", "x", "-E"],
                           capture_output=True, timeout=iptest.TIMEOUT)
        expect_eq(r.returncode, 0, f"{tool} sub -A: {r.stderr!r}")
        r = subprocess.run(PUB[tool] + t.conn() + ["-A", src, "-i", cid + "p", "-t", "x", "-n"],
                           capture_output=True, timeout=iptest.TIMEOUT)
        expect_eq(r.returncode, 0, f"{tool} pub -A: {r.stderr!r}")
        for c in (cid, cid + "p"):
            iptest.eventually(lambda: f"from {src}:" in "".join(
                line for line in t.logtext().splitlines(True) if f" as {c} " in line),
                what=f"{c} connected from {src}")
        with Socks5() as px:
            r = subprocess.run(SUB[tool] + t.conn() + ["-A", src, "--proxy",
                                                       f"socks5h://{H}:{px.port}", "-t", "x",
                                                       "-E"],
                               capture_output=True, timeout=iptest.TIMEOUT)
            expect_eq((r.returncode, len(px.seen)), (0, 1), f"{tool} -A and --proxy {r.stderr!r}")


TIME_RE = (rb"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4})\|(\d+)\.(\d{9})\|"
           rb"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\|(\d{9})\|@\|(\d+)\n$")


def times(t):
    fmt = "%I|%U|@Y-@m-@dT@H:@M:@S|@N|@@|@s"
    got = {}
    for tool in ("mosquitto", "iotplot"):
        code, out, err = run_sub(t, tool, ["-t", "tm", "-C", "1", "-F", fmt],
                                 [lambda: publish(t, "-t", "tm", "-m", "x")], wait_topic="tm")
        expect_eq(code, 0, f"{tool} times {err!r}")
        m = re.match(TIME_RE, out)
        if not m:
            raise AssertionError(f"{tool}: {out!r} is not {fmt}")
        now = time.time()
        for s in (float(m.group(2) + b"." + m.group(3)), float(m.group(11))):
            if abs(s - now) > 30:
                raise AssertionError(f"{tool}: {s} is not close to now ({now})")
        got[tool] = re.sub(rb"\d", b"0", out)
    expect_eq(got["iotplot"], got["mosquitto"], "time formats")
    # %j's "tst": the same shape in both.
    shapes = []
    for tool in ("mosquitto", "iotplot"):
        _, out, _ = run_sub(t, tool, ["-t", "tm", "-C", "1", "-F", "%j"],
                            [lambda: publish(t, "-t", "tm", "-m", "x")], wait_topic="tm")
        tst = re.search(rb'"tst":"([^"]*)"', out).group(1)
        if not re.fullmatch(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z[+-]\d{4}", tst):
            raise AssertionError(f"{tool}: tst {tst!r}")
        # Local time with its offset, written with "Z" before the offset as mosquitto does.
        when = datetime.datetime.strptime(tst.decode().replace("Z", ""), "%Y-%m-%dT%H:%M:%S.%f%z")
        if abs(when.timestamp() - time.time()) > 30:
            raise AssertionError(f"{tool}: tst {tst!r} is not close to now")
        shapes.append(re.sub(rb"\d", b"0", tst))
    expect_eq(shapes[1], shapes[0], "%j tst shape")


def errors(t):
    """Bad arguments: both exit 1 and give the same reason, after their own prefix."""
    dead = iptest.free_port()
    cases = [["-t", "x", "-F", "%Z"], ["-t", "x", "-F", "%"], ["-t", "x", "-F", "%-"],
             ["-t", "x", "-F", "@"], ["-t", "x", "-F", "\\"], ["-t", "x", "-F", "\\Z"],
             ["-t", "x", "-R", "--retained-only"], ["-L", "mqtt://localhost"],
             ["-L", "invalid://x/y"], ["-t", "x", "--proxy", "mqtt://x"],
             ["-t", "x", "--proxy", "socks5h://"], ["-t", "x", "-x", "-2"],
             ["-t", "x", "--will-payload", "p"], ["-t", "x", "--will-retain"],
             # A -V 3.x after -D: mosquitto's own sentences for connect and will properties.
             ["-t", "x", "-D", "connect", "user-property", "a", "b", "-V", "mqttv311"],
             ["-t", "x", "-D", "connect", "session-expiry-interval", "5", "-V", "31"],
             ["-t", "x", "--will-topic", "w", "-D", "will", "user-property", "a", "b", "-V",
              "311"]]
    for args in cases:
        reasons = []
        for tool in ("mosquitto", "iotplot"):
            r = subprocess.run(SUB[tool] + args, capture_output=True, text=True,
                               timeout=iptest.TIMEOUT)
            expect_eq(r.returncode, 1, f"{tool} sub {args}: {r.stderr!r}")
            first = r.stderr.strip().splitlines()[0]
            reasons.append(re.sub(r"^(Error|iotplot sub): ", "", first).rstrip("."))
        expect_eq(reasons[1].lower(), reasons[0].lower(), f"reason for {args}")
    for tool in ("mosquitto", "iotplot"):
        r = subprocess.run(SUB[tool] + ["-h", H, "-p", str(dead), "-t", "x"], capture_output=True,
                           timeout=iptest.TIMEOUT)
        expect_eq(r.returncode, 1, f"{tool} sub, no broker")
        r = subprocess.run(PUB[tool] + ["-h", H, "-p", str(dead), "-t", "x", "-m", "y"],
                           capture_output=True, timeout=iptest.TIMEOUT)
        expect_eq(r.returncode, 1, f"{tool} pub, no broker")
        r = subprocess.run(SUB[tool] + t.conn() + ["-t", "none", "-W", "1"], capture_output=True,
                           timeout=iptest.TIMEOUT)
        expect_eq(r.returncode, 27, f"{tool} sub -W timeout")
        # -W bounds the whole run even while messages keep coming: the feeder never stops,
        # so a -W that restarted on each message would never end (and time out here).
        feeder = subprocess.Popen(["sh", "-c", f"while :; do "
                                   f"mosquitto_pub -h {H} -p {t.port} -t w/x -m x; "
                                   f"sleep 0.2; done"])
        try:
            r = subprocess.run(SUB[tool] + t.conn() + ["-t", "w/x", "-W", "2"],
                               capture_output=True, timeout=iptest.TIMEOUT)
        finally:
            feeder.kill()
            feeder.wait(iptest.TIMEOUT)
        expect_eq(r.returncode, 27, f"{tool} sub -W 2 with messages coming")
        if not r.stdout:
            raise AssertionError(f"{tool} sub -W 2: no message arrived while it ran")
        r = subprocess.run(SUB[tool] + t.conn() + ["-t", "none", "-W", "1", "--quiet"],
                           capture_output=True, timeout=iptest.TIMEOUT)
        expect_eq((r.returncode, r.stdout, r.stderr), (27, b"", b""), f"{tool} sub --quiet")
        r = subprocess.run(PUB[tool] + ["-h", H, "-p", str(dead), "-t", "x", "-m", "y", "--quiet"],
                           capture_output=True, timeout=iptest.TIMEOUT)
        expect_eq((r.returncode, r.stderr), (1, b""), f"{tool} pub --quiet, no broker")


def srv_inside():
    """Run inside `unshare -mn`: a loopback of our own, a resolv.conf naming a DNS server
    this process runs, a broker the SRV record points at (after one that is down)."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    with iptest.tempdir() as d:
        conf = os.path.join(d, "resolv.conf")
        with open(conf, "w") as f:
            f.write("nameserver 127.0.0.1\noptions attempts:1 timeout:2\n")
        subprocess.run(["mount", "--bind", conf, "/etc/resolv.conf"], check=True)
        with iptest.mosquitto() as (port, _):
            dead = iptest.free_port()
            recs = {"_mqtt._tcp.example.test": [(20, 0, dead, "localhost"),
                                                (10, 5, port, "localhost")]}
            with SrvServer(recs) as dns:
                r = subprocess.run(PUB["iotplot"] + ["-S", "-h", "example.test", "-t", "srv/x",
                                                     "-m", "found", "-r"],
                                   capture_output=True, timeout=iptest.TIMEOUT)
                expect_eq(r.returncode, 0, f"pub -S: {r.stderr!r}")
                r = subprocess.run(SUB["iotplot"] + ["-S", "-h", "example.test", "-t", "srv/x",
                                                     "-v", "-C", "1"],
                                   capture_output=True, timeout=iptest.TIMEOUT)
                expect_eq((r.returncode, r.stdout), (0, b"srv/x found\n"), f"sub -S {r.stderr!r}")
                expect_eq(dns.asked.count(("_mqtt._tcp.example.test", 33)), 2, "SRV queries")
                r = subprocess.run(SUB["iotplot"] + ["-S", "-h", "nothing.test", "-t", "x", "-E"],
                                   capture_output=True, text=True, timeout=iptest.TIMEOUT)
                if r.returncode != 1 or "no SRV record for _mqtt._tcp.nothing.test" not in r.stderr:
                    raise AssertionError(f"no record: {r.returncode} {r.stderr!r}")
    print("srv inside: ok", flush=True)


def srv():
    # mosquitto_sub 2.0.11 as packaged here is built without SRV lookups ("Unknown option
    # '-S'"): there is nothing to compare with, so our tools are checked on their own. The
    # system resolver asks only the servers of /etc/resolv.conf, so the check runs in a
    # private mount and network namespace with a resolv.conf of its own.
    r = subprocess.run(["mosquitto_sub", "-S", "-t", "x", "-E"], capture_output=True, text=True,
                       timeout=iptest.TIMEOUT)
    print(f"-S has no reference here: {r.stderr.strip().splitlines()[0]!r}", flush=True)
    if subprocess.run(["unshare", "-mn", "true"], capture_output=True).returncode != 0:
        print("skip -S: cannot make a private namespace (unshare -mn needs root)", flush=True)
        return
    r = subprocess.run(["unshare", "-mn", sys.executable, __file__, "--srv-inside"],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0 or "srv inside: ok" not in r.stdout:
        raise AssertionError(f"exit {r.returncode}: {r.stdout}{r.stderr}")


def suite(res, t):
    for name, fn in (("every -F field, QoS 0 and 2", all_fields), ("%j %J --pretty", json_pretty),
                     ("plain, -v, -N", plain_and_verbose), ("retained, -R, --retained-only, "
                     "--remove-retained", retained), ("-T", filter_out),
                     ("--retain-as-published", retain_as_published),
                     ("-E, -c, -U", unsubscribe_and_exit), ("-L", url),
                     ("pub --repeat, -s, -n, -f, -L", pub_modes), ("--proxy", proxy),
                     ("-A", bind_address), ("-I", id_prefix),
                     ("-D without -V", property_without_v), ("--random-filter", random_filter),
                     ("times", times), ("errors and exit codes", errors)):
        res.check(f"{t.kind}: {name}", fn, t)


def main():
    res = iptest.Results()
    with iptest.tempdir() as d:
        os.chmod(d, 0o755)
        with iptest.mosquitto("log_type all\n", workdir=d) as (port, _):
            log = os.path.join(d, "mosquitto.log")
            suite(res, Target("mosquitto", port, lambda: open(log, errors="replace").read()))
    with Broker() as b:
        suite(res, Target("iotplot", b.port, b.logtext))
    res.check("--unix (mosquitto's unix listener)", unix_socket)
    res.check("TLS with --proxy and -A (our TLS listener)", tls_proxy_bound)
    res.check("TLS with --unix (mosquitto's TLS unix listener)", tls_unix)
    res.check("-S: SRV records from a DNS server of the test's own", srv)
    res.finish()


if __name__ == "__main__":
    if sys.argv[1:] == ["--srv-inside"]:
        srv_inside()
    else:
        main()
