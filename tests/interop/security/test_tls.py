"""TLS listeners of `iotplot broker` against real peers: mosquitto_pub/mosquitto_sub,
python3-paho-mqtt, openssl s_client and iotplot pub/sub, with certificates made at test
time; the errors a plain client and a missing file get."""
import os
import signal
import socket
import subprocess
import time

import iptest
from iptest import expect_eq
from sectest import Broker, Peer, pki, tls_opts


def tls_listener(d, cert="server", extra=""):
    """A TLS listener on a port the kernel picks (see Broker.ports)."""
    return (f"listener 0 127.0.0.1\ncertfile {d}/{cert}.pem\nkeyfile {d}/{cert}.key\n"
            f"cafile {d}/ca.pem\n{extra}")


def mosquitto_clients_over_tls():
    with pki() as d:
        with Broker(tls_listener(d)) as b:
            port = b.ports[1]
            sub = iptest.spawn(["mosquitto_sub", "-h", "localhost", "-p", str(port), "--cafile",
                                f"{d}/ca.pem", "-t", "tls/#", "-C", "1", "-W", "10", "-v"])
            time.sleep(0.5)
            r = iptest.run(["mosquitto_pub", "-h", "localhost", "-p", str(port), "--cafile",
                            f"{d}/ca.pem", "-t", "tls/a", "-m", "secret", "-q", "1"])
            expect_eq(r.returncode, 0, f"mosquitto_pub: {r.stderr}")
            out, _ = sub.communicate(timeout=15)
            expect_eq(out.strip(), "tls/a secret", "mosquitto_sub got")
            # The plain listener still works beside it.
            r = iptest.run(["mosquitto_pub", "-p", str(b.port), "-t", "x", "-m", "y"])
            expect_eq(r.returncode, 0, "plain listener")


def wrong_ca_and_name_refused():
    with pki() as d:
        extra = tls_listener(d) + tls_listener(d, cert="wrongname")
        with Broker(extra) as b:
            port, port2 = b.ports[1:3]
            r = iptest.run(["mosquitto_pub", "-h", "localhost", "-p", str(port), "--cafile",
                            f"{d}/other-ca.pem", "-t", "t", "-m", "m"])
            if r.returncode == 0:
                raise AssertionError("a server certificate from an unknown CA was accepted")
            # The certificate names wrong.example, not localhost: refused without --insecure.
            r = iptest.run(["mosquitto_pub", "-h", "localhost", "-p", str(port2), "--cafile",
                            f"{d}/ca.pem", "-t", "t", "-m", "m"])
            if r.returncode == 0:
                raise AssertionError("a certificate for another host name was accepted")
            r = iptest.run(["mosquitto_pub", "-h", "localhost", "-p", str(port2), "--cafile",
                            f"{d}/ca.pem", "--insecure", "-t", "t", "-m", "m"])
            expect_eq(r.returncode, 0, f"--insecure skips the name check: {r.stderr}")


def client_certificates_and_identity():
    with pki() as d:
        acl = os.path.join(d, "acl")
        with open(acl, "w") as f:
            f.write("user alice\ntopic readwrite alice/#\n")
        extra = tls_listener(d, extra="require_certificate true\nuse_identity_as_username true\n")
        with Broker(f"acl_file {acl}\n" + extra) as b:
            port = b.ports[1]
            alice = Peer(port, "a1", tls=tls_opts(d, "client"), host="localhost")
            expect_eq(alice.connect(), 0, "alice with her certificate")
            expect_eq(alice.sub("alice/#"), 1, "alice subscribes to her prefix")
            expect_eq(alice.sub("bob/#"), 0x80, "alice may not read bob's topics")
            alice.pub("alice/t", b"hi")
            m = alice.get(5)
            expect_eq(m and (m.topic, m.payload), ("alice/t", b"hi"), "message")
            alice.close()
            r = iptest.run(["mosquitto_pub", "-h", "localhost", "-p", str(port), "--cafile",
                            f"{d}/ca.pem", "-t", "alice/x", "-m", "m"])
            if r.returncode == 0:
                raise AssertionError("connected without the required client certificate")
            r = iptest.run(["mosquitto_pub", "-h", "localhost", "-p", str(port), "--cafile",
                            f"{d}/ca.pem", "--cert", f"{d}/other.pem", "--key", f"{d}/other.key",
                            "-t", "alice/x", "-m", "m"])
            if r.returncode == 0:
                raise AssertionError("a client certificate from another CA was accepted")
            r = iptest.run(["mosquitto_pub", "-h", "localhost", "-p", str(port), "--cafile",
                            f"{d}/ca.pem", "--cert", f"{d}/client.pem", "--key",
                            f"{d}/client.key", "-t", "alice/x", "-m", "m"])
            expect_eq(r.returncode, 0, f"mosquitto_pub with alice's certificate: {r.stderr}")


def s_client(port, *args, data=b""):
    """openssl s_client: True when the handshake succeeded."""
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-brief",
                        *args], input=data, capture_output=True, timeout=20)
    return "CONNECTION ESTABLISHED" in (r.stdout + r.stderr).decode(errors="replace")


def versions_and_ciphers():
    with pki() as d:
        extra = (tls_listener(d) + tls_listener(d, extra="tls_version tlsv1.3\n") +
                 tls_listener(d, extra="ciphers ECDHE-ECDSA-AES128-GCM-SHA256\n"))
        with Broker(extra) as b:
            p12, p13, pc = b.ports[1:4]
            expect_eq(s_client(p12, "-tls1_1"), False, "TLS 1.1 refused")
            expect_eq(s_client(p12, "-tls1_2"), True, "TLS 1.2 accepted")
            expect_eq(s_client(p12, "-tls1_3"), True, "TLS 1.3 accepted")
            expect_eq(s_client(p13, "-tls1_2"), False, "TLS 1.2 refused by tls_version tlsv1.3")
            expect_eq(s_client(p13, "-tls1_3"), True, "TLS 1.3 accepted by tls_version tlsv1.3")
            expect_eq(s_client(pc, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384"), False,
                      "a cipher outside the list")
            expect_eq(s_client(pc, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"), True,
                      "the listed cipher")


def plaintext_and_silence_refused():
    with pki() as d:
        with Broker("connect_timeout 1\n" + tls_listener(d)) as b:
            port = b.ports[1]
            s = socket.create_connection((iptest.HOST, port), timeout=10)
            s.sendall(bytes.fromhex("100c00044d5154540402003c0000"))  # a CONNECT, in clear
            s.settimeout(5)
            expect_eq(s.recv(100), b"", "plaintext on a TLS port is closed without an answer")
            s.close()
            # A client that opens TCP and never says hello is dropped after the timeout.
            s = socket.create_connection((iptest.HOST, port), timeout=10)
            s.settimeout(8)
            t0 = time.monotonic()
            expect_eq(s.recv(100), b"", "a silent TLS client is dropped")
            if time.monotonic() - t0 > 7:
                raise AssertionError("the handshake timeout did not apply")
            s.close()
            iptest.eventually(lambda: "not TLS" in b.logtext(), what="log line for plaintext")
            # Other clients were never disturbed.
            p = Peer(port, "ok", tls=tls_opts(d), host="localhost")
            expect_eq(p.connect(), 0, "a TLS client after the bad ones")
            p.close()


def sighup_reloads_certificates():
    with pki() as d:
        with Broker(tls_listener(d)) as b:
            port = b.ports[1]
            p = Peer(port, "stay", tls=tls_opts(d), host="localhost")
            expect_eq(p.connect(), 0, "connected before the reload")
            expect_eq(p.sub("k/#"), 1, "subscribed")
            # Replace the certificate with one for another name, reload: new handshakes use
            # it (so a localhost client refuses it), the connected client stays.
            for ext in ("pem", "key"):
                os.replace(f"{d}/wrongname.{ext}", f"{d}/server.{ext}")
            b.proc.send_signal(signal.SIGHUP)
            iptest.eventually(lambda: "reload" in b.logtext().lower(), what="reload logged")
            r = iptest.run(["mosquitto_pub", "-h", "localhost", "-p", str(port), "--cafile",
                            f"{d}/ca.pem", "-t", "k/1", "-m", "m"])
            if r.returncode == 0:
                raise AssertionError("the old certificate is still served after SIGHUP")
            r = iptest.run(["mosquitto_pub", "-h", "localhost", "-p", str(port), "--cafile",
                            f"{d}/ca.pem", "--insecure", "-t", "k/1", "-m", "after"])
            expect_eq(r.returncode, 0, "publish after reload")
            m = p.get(5)
            expect_eq(m and m.payload, b"after", "the old connection still receives")
            # A broken file: the reload fails, says why, and the old certificate stays.
            with open(f"{d}/server.pem", "w") as f:
                f.write("not a certificate\n")
            b.proc.send_signal(signal.SIGHUP)
            iptest.eventually(lambda: "keeping" in b.logtext().lower(), what="failed reload logged")
            r = iptest.run(["mosquitto_pub", "-h", "localhost", "-p", str(port), "--cafile",
                            f"{d}/ca.pem", "--insecure", "-t", "k/2", "-m", "still"])
            expect_eq(r.returncode, 0, "still serving after a failed reload")
            p.close()


def plain_clients_told_why():
    """iotplot pub/sub without TLS on a TLS port: the tool says the server closed before
    answering and that the port may expect TLS; the broker logs plain MQTT on it."""
    with pki() as d:
        with Broker(tls_listener(d)) as b:
            port = str(b.ports[1])
            for tool in (["pub", "-m", "x"], ["sub", "-C", "1"]):
                r = iptest.run([iptest.binary(), tool[0], "-h", "localhost", "-p", port,
                                "-t", "a"] + tool[1:])
                expect_eq(r.returncode != 0, True, f"iotplot {tool[0]} fails")
                for words in ("closed the connection before answering", "expects TLS",
                              "--cafile"):
                    if words not in r.stderr:
                        raise AssertionError(f"iotplot {tool[0]}: {words!r} not in {r.stderr!r}")
            iptest.eventually(lambda: "plain MQTT (a CONNECT) on this TLS port" in b.logtext(),
                              what="the broker's log line")
            r = iptest.run([iptest.binary(), "pub", "-h", "localhost", "-p", port, "--cafile",
                            f"{d}/ca.pem", "-t", "a", "-m", "x"])
            expect_eq((r.returncode, r.stderr), (0, ""), "with --cafile it works")


def missing_files_named():
    """A certificate or key file that cannot be read: the directive, the file and the
    line, not an OpenSSL error code."""
    with pki() as d, iptest.tempdir() as t:
        conf = os.path.join(t, "broker.conf")
        cases = [
            (f"listener 0\ncertfile {t}/x.pem\nkeyfile {d}/server.key\n",
             f"broker.conf:2: certfile {t}/x.pem: No such file or directory"),
            (f"listener 0\ncertfile {d}/server.pem\nkeyfile {t}/none.key\n",
             f"broker.conf:3: keyfile {t}/none.key: No such file or directory"),
            (f"listener 0\ncertfile {d}/server.pem\nkeyfile {d}/server.key\ncafile {t}/ca\n",
             f"broker.conf:4: cafile {t}/ca: No such file or directory"),
        ]
        for text, want in cases:
            with open(conf, "w") as f:
                f.write(text)
            r = iptest.run([iptest.binary(), "broker", "-c", conf])
            expect_eq(r.returncode != 0, True, f"exit code for {text!r}")
            if want not in r.stderr or "error:" in r.stderr:
                raise AssertionError(f"stderr {r.stderr!r}, want {want!r}")


results = iptest.Results()
results.check("mosquitto_pub/sub over TLS with --cafile", mosquitto_clients_over_tls)
results.check("unknown CA and wrong host name refused, --insecure allowed", wrong_ca_and_name_refused)
results.check("require_certificate and use_identity_as_username", client_certificates_and_identity)
results.check("tls_version and ciphers (openssl s_client)", versions_and_ciphers)
results.check("plaintext and silent clients on a TLS port", plaintext_and_silence_refused)
results.check("SIGHUP reloads certificates without dropping clients", sighup_reloads_certificates)
results.check("plain iotplot pub/sub on a TLS port are told why", plain_clients_told_why)
results.check("unreadable certfile, keyfile, cafile: directive, file and line", missing_files_named)
results.finish()
