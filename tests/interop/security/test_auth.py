"""Password files, anonymous access and the failed-login limit of `iotplot broker`,
against python3-paho-mqtt, with files written by Debian's mosquitto_passwd and by ours."""
import os
import signal

import paho.mqtt.client as mqtt

import iptest
from iptest import expect_eq
from sectest import Broker, Peer, passwd_file

V5 = mqtt.MQTTv5


def login(port, user, pw, proto=mqtt.MQTTv311, bind=""):
    p = Peer(port, f"c-{user}-{proto}", proto=proto, user=user, pw=pw, bind=bind)
    rc = p.connect()
    p.close()
    return rc


def mosquitto_passwd_file_accepted():
    with iptest.tempdir() as d:
        pw = os.path.join(d, "pw")
        passwd_file(pw, {"alice": "al1ce", "bob": "b0b pass"}, tool="mosquitto")
        with Broker(f"password_file {pw}\n", anonymous=False) as b:
            expect_eq(login(b.port, "alice", "al1ce"), 0, "alice")
            expect_eq(login(b.port, "bob", "b0b pass", V5), 0, "bob over 5.0")
            expect_eq(login(b.port, "alice", "wrong"), 4, "3.1.1: bad user name or password")
            expect_eq(login(b.port, "alice", "wrong", V5), 0x86, "5.0: bad user name or password")
            expect_eq(login(b.port, "nobody", "x", V5), 0x86, "5.0: unknown user")
            expect_eq(login(b.port, None, None), 5, "3.1.1: anonymous not authorized")
            expect_eq(login(b.port, None, None, V5), 0x87, "5.0: anonymous not authorized")
            log = b.logtext()
            if "127.0.0.1" not in log or "alice" not in log:
                raise AssertionError(f"refusals not logged with address and user:\n{log[-2000:]}")


def our_file_and_anonymous_listeners():
    with iptest.tempdir() as d:
        pw = os.path.join(d, "pw")
        passwd_file(pw, {"carol": "c4rol"})
        extra = (f"per_listener_settings true\npassword_file {pw}\n"
                 f"listener 0 127.0.0.1\nallow_anonymous true\n")
        with Broker(extra, anonymous=False) as b:
            port2 = b.ports[1]
            expect_eq(login(b.port, "carol", "c4rol"), 0, "carol with our file")
            expect_eq(login(b.port, None, None), 5, "listener 1 refuses anonymous")
            expect_eq(login(port2, None, None), 0, "listener 2 allows anonymous")


def failed_logins_limited_per_address():
    with iptest.tempdir() as d:
        pw = os.path.join(d, "pw")
        passwd_file(pw, {"dave": "d4ve"})
        with Broker(f"password_file {pw}\nmax_login_failures 3\nlogin_failure_window 60\n",
                    anonymous=False) as b:
            for _ in range(3):
                expect_eq(login(b.port, "dave", "guess", V5), 0x86, "failed login")
            expect_eq(login(b.port, "dave", "d4ve", V5), 0x8A, "banned address, right password")
            # Another loopback address is not affected.
            expect_eq(login(b.port, "dave", "d4ve", V5, bind="127.0.0.2"), 0, "other address")


def sighup_reloads_passwords():
    with iptest.tempdir() as d:
        pw = os.path.join(d, "pw")
        passwd_file(pw, {"erin": "old"})
        with Broker(f"password_file {pw}\n", anonymous=False) as b:
            stay = Peer(b.port, "stay", user="erin", pw="old")
            expect_eq(stay.connect(), 0, "before reload")
            expect_eq(stay.sub("erin/#"), 1, "subscribed")
            passwd_file(pw, {"erin": "new"})
            b.proc.send_signal(signal.SIGHUP)
            iptest.eventually(lambda: login(b.port, "erin", "new") == 0, what="new password")
            expect_eq(login(b.port, "erin", "old"), 4, "old password refused after reload")
            with open(pw, "w") as f:
                f.write("erin:not-a-hash\n")
            b.proc.send_signal(signal.SIGHUP)
            iptest.eventually(lambda: "keeping" in b.logtext().lower(), what="failed reload logged")
            expect_eq(login(b.port, "erin", "new"), 0, "the last good file stays in force")
            stay.pub("erin/x", b"still here")
            m = stay.get(5)
            expect_eq(m and m.payload, b"still here", "connected client kept through reloads")
            stay.close()


results = iptest.Results()
results.check("mosquitto_passwd file: right, wrong and anonymous logins", mosquitto_passwd_file_accepted)
results.check("our passwd file; per-listener allow_anonymous", our_file_and_anonymous_listeners)
results.check("failed logins limited per source address", failed_logins_limited_per_address)
results.check("SIGHUP reloads the password file", sighup_reloads_passwords)
results.finish()
