"""Interop: mosquitto_pub / mosquitto_sub and iotplot pub / sub against `iotplot broker`,
every pairing, MQTT 3.1, 3.1.1 and 5.0, QoS 0/1/2, retained, large payloads, stdin lines."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ["IOTPLOT_SRC"], "tests", "wire", "broker"))
import iptest  # noqa: E402
from iptest import eventually, expect_eq  # noqa: E402
from wire import Broker  # noqa: E402

PUB = {"mosquitto": ["mosquitto_pub"], "iotplot": [iptest.binary(), "pub"]}
SUB = {"mosquitto": ["mosquitto_sub"], "iotplot": [iptest.binary(), "sub"]}


def subscribed(b, cid, topic):
    eventually(lambda: f"{cid} " in b.logtext() and f" {topic}\n" in b.logtext(),
               what=f"{cid} subscribed to {topic}")


def pairing(pub, sub, version):
    with Broker() as b:
        cid = f"sub-{pub}-{sub}-{version}"
        s = iptest.spawn(SUB[sub] + ["-p", str(b.port), "-i", cid, "-t", "t/#", "-v", "-q", "2",
                                     "-C", "3", "-V", version])
        try:
            subscribed(b, cid, "t/#")
            for q in range(3):
                r = iptest.run(PUB[pub] + ["-p", str(b.port), "-t", f"t/{q}", "-m", f"q{q}",
                                           "-q", str(q), "-V", version])
                expect_eq(r.returncode, 0, f"publish at QoS {q}: {r.stderr}")
            out, err = s.communicate(timeout=iptest.TIMEOUT)
        finally:
            iptest.stop(s)
        expect_eq(sorted(out.split("\n")[:3]), ["t/0 q0", "t/1 q1", "t/2 q2"], err)


def retained_and_large(pub, sub, size):
    with Broker() as b, iptest.tempdir() as d:
        big = os.path.join(d, "big.bin")
        data = (bytes(range(256)) * (size // 256 + 1))[:size]
        with open(big, "wb") as f:
            f.write(data)
        r = iptest.run(PUB[pub] + ["-p", str(b.port), "-t", "big", "-f", big, "-q", "1", "-r"])
        expect_eq(r.returncode, 0, r.stderr)
        got = subprocess.run(SUB[sub] + ["-p", str(b.port), "-t", "big", "-C", "1", "-N"],
                             capture_output=True, timeout=iptest.TIMEOUT).stdout
        expect_eq(len(got), len(data), "retained payload length")
        expect_eq(got == data, True, "retained payload bytes")


def lines(pub, sub):
    with Broker() as b:
        cid = f"lines-{pub}-{sub}"
        s = iptest.spawn(SUB[sub] + ["-p", str(b.port), "-i", cid, "-t", "l", "-q", "1",
                                     "-C", "100"])
        try:
            subscribed(b, cid, "l")
            text = "".join(f"line {i}\n" for i in range(100))
            r = iptest.run(PUB[pub] + ["-p", str(b.port), "-t", "l", "-l", "-q", "1"], input=text)
            expect_eq(r.returncode, 0, r.stderr)
            out, err = s.communicate(timeout=iptest.TIMEOUT)
        finally:
            iptest.stop(s)
        expect_eq(out, text, "100 lines in order at QoS 1")


def v5_properties(pub, sub):
    with Broker() as b:
        cid = f"props-{pub}-{sub}"
        s = iptest.spawn(SUB[sub] + ["-p", str(b.port), "-i", cid, "-t", "pr", "-V", "mqttv5",
                                     "-C", "1", "-v"])
        try:
            subscribed(b, cid, "pr")
            r = iptest.run(PUB[pub] + ["-p", str(b.port), "-t", "pr", "-m", "x", "-V", "mqttv5",
                                       "-D", "publish", "user-property", "k", "v",
                                       "-D", "publish", "content-type", "text/plain"])
            expect_eq(r.returncode, 0, r.stderr)
            out, err = s.communicate(timeout=iptest.TIMEOUT)
        finally:
            iptest.stop(s)
        expect_eq(out.strip(), "pr x", err)


r = iptest.Results()
tools = ("mosquitto", "iotplot")
for pub in tools:
    for sub in tools:
        for version in ("mqttv31", "mqttv311", "mqttv5"):
            r.check(f"{pub}->{sub} {version}", pairing, pub, sub, version)
        # iotplot pub/sub keep fixed buffers of their own: large payloads go between
        # mosquitto's tools, small ones between every pair.
        size = 1 << 20 if pub == sub == "mosquitto" else 200
        r.check(f"{pub}->{sub} retained {size} bytes", retained_and_large, pub, sub, size)
        r.check(f"{pub}->{sub} lines", lines, pub, sub)
        r.check(f"{pub}->{sub} v5 properties", v5_properties, pub, sub)
r.finish()
