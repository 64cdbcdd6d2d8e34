"""`iotplot passwd` writes files that a real mosquitto accepts, and edits them like
mosquitto_passwd does (-c, -b, -D, -U)."""
import os
import threading

import paho.mqtt.client as mqtt

import iptest

BIN = iptest.binary()


def connect_rc(port, user, password, protocol=mqtt.MQTTv311):
    """CONNACK code a real paho client gets from the broker for these credentials."""
    got = {}
    done = threading.Event()
    c = mqtt.Client(client_id=f"t-{user}", protocol=protocol)
    c.username_pw_set(user, password)

    def on_connect(client, userdata, flags, rc, properties=None):
        got["rc"] = rc
        done.set()

    c.on_connect = on_connect
    c.connect(iptest.HOST, port, keepalive=10)
    c.loop_start()
    try:
        if not done.wait(iptest.TIMEOUT):
            raise TimeoutError("no CONNACK")
    finally:
        c.disconnect()
        c.loop_stop()
    return got["rc"]


def passwd(*args, **kw):
    return iptest.run([BIN, "passwd", *args], **kw)


def mosquitto_accepts_our_file():
    with iptest.tempdir() as d:
        pw = os.path.join(d, "pw")
        iptest.expect_eq(passwd("-c", "-b", "-I", "1000", pw, "alice", "s3cret w0rd").returncode, 0, "create")
        iptest.expect_eq(passwd("-b", "-I", "1000", pw, "bob", "b0b").returncode, 0, "add")
        iptest.expect_eq(oct(os.stat(pw).st_mode & 0o777), "0o600", "mode")
        with iptest.mosquitto(f"allow_anonymous false\npassword_file {pw}\n", workdir=d) as (port, _):
            iptest.expect_eq(connect_rc(port, "alice", "s3cret w0rd"), 0, "alice right")
            iptest.expect_eq(connect_rc(port, "bob", "b0b"), 0, "bob right")
            iptest.expect_eq(connect_rc(port, "alice", "b0b"), 5, "alice wrong (3.1.1 code 5)")
            iptest.expect_eq(connect_rc(port, "nobody", "x"), 5, "unknown user")
            # mosquitto 2.0 answers 0x87 (not authorized) where 5.0 suggests 0x86.
            rc5 = int(getattr(connect_rc(port, "alice", "nope", protocol=mqtt.MQTTv5), "value", 0))
            if rc5 not in (0x86, 0x87):
                raise AssertionError(f"5.0 wrong password: got {rc5:#x}, want a refusal")


def edits_like_mosquitto_passwd():
    with iptest.tempdir() as d:
        pw = os.path.join(d, "pw")
        with open(pw, "w") as f:
            f.write("carol:plain\n")
        # -U hashes plaintext lines; a second -U must not hash the hash again.
        iptest.expect_eq(passwd("-U", "-I", "1000", pw).returncode, 0, "-U")
        iptest.expect_eq(passwd("-U", "-I", "1000", pw).returncode, 0, "-U again")
        # mosquitto_passwd itself adds a user to our file; then we delete one.
        iptest.run(["mosquitto_passwd", "-b", pw, "dave", "d4ve"], check=True)
        iptest.expect_eq(passwd("-b", "-I", "1000", pw, "erin", "3rin").returncode, 0, "add erin")
        iptest.expect_eq(passwd("-D", pw, "dave").returncode, 0, "delete dave")
        lines = open(pw).read().splitlines()
        iptest.expect_eq([l.split(":")[0] for l in lines], ["carol", "erin"], "users")
        iptest.expect_eq(passwd("-D", pw, "dave").returncode, 1, "delete missing user")
        with iptest.mosquitto(f"allow_anonymous false\npassword_file {pw}\n", workdir=d) as (port, _):
            iptest.expect_eq(connect_rc(port, "carol", "plain"), 0, "upgraded carol")
            iptest.expect_eq(connect_rc(port, "erin", "3rin"), 0, "erin")
            iptest.expect_eq(connect_rc(port, "dave", "d4ve"), 5, "deleted dave")


def bad_arguments_print_usage():
    r = passwd("-x", "f", "u")
    iptest.expect_eq(r.returncode, 2, "unknown flag exit code")
    if "usage:" not in r.stderr:
        raise AssertionError(f"no usage in {r.stderr!r}")
    iptest.expect_eq(passwd("-c", "-D", "f", "u").returncode, 2, "-c with -D")
    iptest.expect_eq(passwd("-b", "/nonexistent/dir/f", "u", "p").returncode, 1, "missing file")
    iptest.expect_eq(passwd("-c", "-b", "/tmp/x", "a:b", "p").returncode, 2, "':' in user")


results = iptest.Results()
results.check("mosquitto accepts a file from iotplot passwd", mosquitto_accepts_our_file)
results.check("-U, -D and mosquitto_passwd edits interleave", edits_like_mosquitto_passwd)
results.check("bad arguments print usage", bad_arguments_print_usage)
results.finish()
