"""TLS against a real mosquitto with certificates made at test time by openssl: a trusted
CA works, an unrelated CA or a certificate for another host name is refused (unless
--insecure), a listener that requires client
certificates accepts ours and refuses a client without one, and TLS to a plain port fails
cleanly."""

import iptest
from clienttest import BIN, expect_ok, make_pki, pub, sub

H = iptest.HOST


def config(pki, port2, port3):
    common = f"cafile {pki['ca.pem']}\ncertfile {pki['server.pem']}\nkeyfile {pki['server.key']}\n"
    return (common + f"listener {port2} {H}\n" + common + "require_certificate true\n" +
            f"listener {port3} {H}\ncafile {pki['ca.pem']}\ncertfile {pki['elsewhere.pem']}\n"
            f"keyfile {pki['elsewhere.key']}\n")


def expect_fail(r, words, what):
    if r.returncode == 0 or not all(w in r.stderr for w in words):
        raise AssertionError(f"{what}: exit {r.returncode}, stderr {r.stderr!r}")
    if len(r.stderr.strip().splitlines()) != 1:
        raise AssertionError(f"{what}: one line expected, got {r.stderr!r}")


def trusted_ca(port, pki):
    for v in ("mqttv311", "mqttv5"):
        s = sub(port, "--cafile", pki["ca.pem"], "-V", v, "-t", "tls/#", "-q", "1", "-C", "1", "-v")
        expect_ok(pub(port, "--cafile", pki["ca.pem"], "-V", v, "-t", "tls/x", "-m", "secret",
                      "-q", "2"), "pub over TLS")
        code, out, _ = s.finish()
        iptest.expect_eq((code, out), (0, ["tls/x secret"]), f"message over TLS {v}")
    # The certificate names localhost as well as 127.0.0.1.
    r = iptest.run([BIN, "pub", "-h", "localhost", "-p", str(port), "--cafile", pki["ca.pem"],
                    "-t", "tls/y", "-m", "by name"])
    expect_ok(r, "host name localhost")


def wrong_ca(port, pki):
    r = pub(port, "--cafile", pki["other.pem"], "-t", "tls/x", "-m", "x")
    expect_fail(r, ["certificate verify failed"], "unrelated CA")
    expect_ok(pub(port, "--cafile", pki["other.pem"], "--insecure", "-t", "tls/x", "-m", "x"),
              "--insecure skips the check")
    # Verified by default: the system's CAs do not know the test CA.
    r = pub(port, "--tls-use-os-certs", "-t", "tls/x", "-m", "x")
    expect_fail(r, ["certificate verify failed"], "system CA store")
    r = pub(port, "--cafile", "/nonexistent/ca.pem", "-t", "tls/x", "-m", "x")
    expect_fail(r, ["ca.pem"], "missing CA file")


def wrong_name(port3, pki):
    # Signed by the trusted CA, but for another name: the host name check refuses it.
    for host in (H, "localhost"):
        r = iptest.run([BIN, "pub", "-h", host, "-p", str(port3), "--cafile", pki["ca.pem"],
                        "-t", "t", "-m", "x"])
        expect_fail(r, ["certificate verify failed"], f"name mismatch ({host})")


def client_cert(port2, pki):
    expect_ok(pub(port2, "--cafile", pki["ca.pem"], "--cert", pki["client.pem"],
                  "--key", pki["client.key"], "-t", "tls/c", "-m", "with cert", "-q", "1"),
              "client certificate accepted")
    r = pub(port2, "--cafile", pki["ca.pem"], "-t", "tls/c", "-m", "no cert")
    if r.returncode == 0:
        raise AssertionError("a client without certificate was let in")
    r = pub(port2, "--cafile", pki["ca.pem"], "--cert", pki["client.pem"], "-t", "t", "-m", "x")
    if r.returncode == 0 or "--cert and --key" not in r.stderr:
        raise AssertionError(f"cert without key: {r.returncode} {r.stderr!r}")


def tls_to_plain_port():
    with iptest.mosquitto() as (plain, _):
        r = pub(plain, "--cafile", "/etc/ssl/certs/ca-certificates.crt", "-t", "t", "-m", "x")
        if r.returncode == 0 or "cannot connect" not in r.stderr:
            raise AssertionError(f"TLS to a plain port: {r.returncode} {r.stderr!r}")


def main():
    res = iptest.Results()
    with iptest.tempdir() as d:
        pki = make_pki(d)
        port2, port3 = iptest.free_port(), iptest.free_port()
        with iptest.mosquitto(config(pki, port2, port3), workdir=d) as (port, proc):
            iptest.wait_port(port2, proc=proc)
            iptest.wait_port(port3, proc=proc)
            res.check("trusted CA, 3.1.1 and 5.0, by address and by name", trusted_ca, port, pki)
            res.check("unrelated CA refused, --insecure accepted", wrong_ca, port, pki)
            res.check("client certificate", client_cert, port2, pki)
            res.check("server certificate for another name refused", wrong_name, port3, pki)
    res.check("TLS to a plain TCP port", tls_to_plain_port)
    res.finish()


if __name__ == "__main__":
    main()
