"""Discovery against a real avahi-daemon: `iotplot broker` with `announce true` and
`iotplot serve` publish their listeners (avahi-browse sees _mqtt._tcp, _http._tcp with
path=/, and _secure-mqtt._tcp for TLS); `iotplot sub -h auto`, `pub -h auto` and
`plotserver -b auto` find the broker, over TLS too; a second and a third broker of the
same name are renamed; a daemon that goes away and comes back gets the services again;
and -h auto with TLS options looks for _secure-mqtt._tcp only.

The test re-runs itself in network and mount namespaces of its own (unshare): there the
daemon sees only the loopback interface, keeps its pid file in a private /run, and
announces nothing to the machine's network, so it runs beside other tests and daemons.
Where the namespaces, or multicast on loopback, are not available it is skipped with the
reason."""
import os
import re
import subprocess
import sys
import time

import disctest
import iptest
from disctest import run, skip
from iptest import expect_eq

INNER = "IPTEST_DISCOVER_INNER"


def enter_namespaces():
    """Run this script again inside new namespaces; returns its exit code."""
    disctest.need("unshare", "ip", "mount", "dbus-daemon", "avahi-daemon", "avahi-browse")
    cmd = ["unshare", "--mount", "--net", "--propagation", "private"]
    if os.geteuid() != 0:
        cmd.insert(1, "--map-root-user")
    probe = subprocess.run(cmd + ["true"], capture_output=True, text=True)
    if probe.returncode:
        skip(f"cannot make network and mount namespaces ({' '.join(cmd)}: "
             f"{probe.stderr.strip()})")
    return subprocess.call(cmd + [sys.executable, __file__], env=dict(os.environ, **{INNER: "1"}))


def prepare_namespace():
    steps = ((["ip", "link", "set", "lo", "up"], "bring loopback up"),
             (["ip", "link", "set", "lo", "multicast", "on"], "allow multicast on loopback"),
             (["mount", "-t", "tmpfs", "tmpfs", "/run"], "give the daemon a /run of its own"))
    for args, why in steps:
        r = subprocess.run(args, capture_output=True, text=True)
        if r.returncode:
            skip(f"cannot {why} ({' '.join(args)}: {r.stderr.strip()})")


def start_avahi(d, env, n):
    conf = os.path.join(d, "avahi.conf")
    with open(conf, "w") as f:
        f.write(disctest.AVAHI_CONF)
    a = disctest.Logged(d, f"avahi{n}", ["avahi-daemon", "--no-drop-root", "--no-chroot",
                                         "--no-rlimits", "--no-proc-title", "-f", conf], env)
    try:
        a.wait_text("Server startup complete", "avahi-daemon starting")
    except AssertionError as e:
        a.close()
        if "New relevant interface lo" not in a.text():
            skip(f"avahi-daemon finds no interface for mDNS on loopback here:\n{a.text()}")
        raise e
    return a


def unescape(label):
    """avahi-browse -p writes a label's space as \\032 and its dot as \\."""
    return re.sub(r"\\(\d{3}|.)", lambda m: chr(int(m[1])) if m[1].isdigit() else m[1], label)


def browse(service, env, want):
    """avahi-browse -rpt until a resolved line satisfies want(fields); returns it."""
    deadline = time.monotonic() + iptest.TIMEOUT
    lines = []
    while time.monotonic() < deadline:
        r = run(["avahi-browse", "-rpt", service], env)
        lines = [ln.split(";") for ln in r.stdout.splitlines() if ln.startswith("=")]
        for f in lines:
            f[3] = unescape(f[3])
        for f in lines:
            if want(f):
                return f
        time.sleep(0.2)
    raise AssertionError(f"avahi-browse {service}: no such service in {lines}")


def fields_match(name, port):
    # =;iface;proto;name;type;domain;host;address;port;txt
    return lambda f: f[3] == name and f[8] == str(port)


def resolve_host_name(d, line):
    """Let the C library resolve the daemon's host name (what nss-mdns would do), through
    an /etc/hosts of this mount namespace: TLS connects by name."""
    fqdn = line.split(" on ", 1)[1].split(":")[0]
    hosts = os.path.join(d, "hosts")
    with open(hosts, "w") as f:
        f.write(f"127.0.0.1 localhost {fqdn}\n")
    r = subprocess.run(["mount", "--bind", hosts, "/etc/hosts"], capture_output=True, text=True)
    expect_eq(r.returncode, 0, f"bind /etc/hosts: {r.stderr}")


def check_broker(d, env, a):
    port, http, tls = iptest.free_port(), iptest.free_port(), iptest.free_port()
    subprocess.run(["sh", os.path.join(os.environ["IOTPLOT_SRC"], "tests/lib/make-certs.sh"),
                    os.path.join(d, "pki")], check=True, timeout=60)
    conf = (f"listener {port} 127.0.0.1\nallow_anonymous true\nannounce true\n"
            f"announce_name disc test\nlistener {http} 127.0.0.1\nprotocol websockets\n"
            f"listener {tls} 127.0.0.1\ncertfile {d}/pki/server.pem\n"
            f"keyfile {d}/pki/server.key\n")
    b = disctest.broker(d, "broker", conf, port, env)
    b.wait_text("Announced over mDNS as 'disc test'", "the broker's announcement")
    line = [ln for ln in b.text().splitlines() if "Announced over mDNS" in ln][0]
    for part in (f"_mqtt._tcp port {port}", f"_http._tcp port {http} path=/",
                 f"_secure-mqtt._tcp port {tls}"):
        if part not in line:
            raise AssertionError(f"announcement without '{part}': {line}")
    f = browse("_mqtt._tcp", env, fields_match("disc test", port))
    expect_eq(f[7], "127.0.0.1", "the announced address")
    f = browse("_http._tcp", env, fields_match("disc test", http))
    if "path=/" not in f[9]:
        raise AssertionError(f"_http._tcp TXT: {f[9]}")

    # -h auto: a retained message published through the found broker comes back.
    r = run([iptest.binary(), "pub", "-h", "auto", "-t", "disc/t", "-m", "found", "-r", "-q", "1"],
            env)
    expect_eq((r.returncode, r.stderr), (0, ""), "pub -h auto")
    r = run([iptest.binary(), "sub", "-h", "auto", "-t", "disc/t", "-C", "1", "-W", "10"], env)
    expect_eq((r.returncode, r.stdout, r.stderr), (0, "found\n", ""), "sub -h auto")
    # With TLS options: the _secure-mqtt._tcp service, reached by its host name (the test
    # CA's certificate names localhost, so the name is not checked here).
    browse("_secure-mqtt._tcp", env, fields_match("disc test", tls))
    resolve_host_name(d, line)
    r = run([iptest.binary(), "sub", "-h", "auto", "--insecure", "-t", "disc/t", "-C", "1",
             "-W", "10", "-d"], env)
    expect_eq((r.returncode, r.stdout), (0, "found\n"), f"sub -h auto over TLS ({r.stderr})")
    if f"port {tls}" not in r.stderr:
        raise AssertionError(f"sub -h auto over TLS did not use port {tls}: {r.stderr}")

    # A second broker of the same name on the network is renamed, and announced too.
    port2 = iptest.free_port()
    b2 = disctest.broker(d, "broker2", f"listener {port2} 127.0.0.1\nallow_anonymous true\n"
                         "announce true\nannounce_name disc test\n", port2, env)
    try:
        b2.wait_text("Announced over mDNS as 'disc test #2'", "the renamed announcement")
        if "the name 'disc test' is taken" not in b2.text():
            raise AssertionError(f"the rename is not logged:\n{b2.text()}")
        browse("_mqtt._tcp", env, fields_match("disc test #2", port2))
        # A third: both names are taken, the next alternative is used.
        port3 = iptest.free_port()
        b3 = disctest.broker(d, "broker3", f"listener {port3} 127.0.0.1\nallow_anonymous true\n"
                             "announce true\nannounce_name disc test\n", port3, env)
        try:
            b3.wait_text("Announced over mDNS as 'disc test #3'", "the third name")
            browse("_mqtt._tcp", env, fields_match("disc test #3", port3))
        finally:
            b3.close()
    finally:
        b2.close()
    return b


def check_daemon_restart(d, env, a, b):
    """avahi-daemon stops: one line; it starts again: the services come back."""
    a.close()
    b.wait_text("Not announced over mDNS (avahi-daemon went away)", "the daemon gone")
    a = start_avahi(d, env, 2)
    b.wait_text("Announced over mDNS as 'disc test'", "announced again", count=2)
    port = [ln for ln in open(b.path) if "Announced" in ln][0].split("_mqtt._tcp port ")[1]
    browse("_mqtt._tcp", env, fields_match("disc test", int(port.split(",")[0])))
    expect_eq(b.text().count("Not announced over mDNS"), 1, "lines while the daemon was away")
    return a


def check_serve(d, env):
    port, http = iptest.free_port(), iptest.free_port()
    with disctest.logged(d, "serve", [iptest.binary(), "serve", "-a", "127.0.0.1", "-p", str(port),
                                      "--http-port", str(http), "-d", os.path.join(d, "plots")],
                         env) as s:
        s.wait_text("Announced over mDNS as 'iotplot on ", "serve's announcement")
        text = s.text()
        for part in (f"_mqtt._tcp port {port}", f"_http._tcp port {http} path=/",
                     f".local port {port}"):
            if part not in text:
                raise AssertionError(f"serve does not say '{part}':\n{text}")
        host = browse("_mqtt._tcp", env, lambda f: f[8] == str(port))
        if not host[3].startswith("iotplot on "):
            raise AssertionError(f"serve's service name: {host[3]}")
        # plotserver -b auto finds it too (serve is the only broker announced now).
        with disctest.logged(d, "plotserver", [iptest.binary(), "plotserver", "-b", "auto",
                                               "-d", os.path.join(d, "ps")], env) as ps:
            ps.wait_text(f"broker 127.0.0.1:{port}", "plotserver -b auto")
    with disctest.logged(d, "serve_quiet", [iptest.binary(), "serve", "-a", "127.0.0.1", "-p",
                                            str(port), "--no-http", "--no-announce", "-d",
                                            os.path.join(d, "plots")], env) as s:
        iptest.wait_port(port, proc=s.p)
        time.sleep(2)
        if "mDNS" in s.text():
            raise AssertionError(f"--no-announce announced:\n{s.text()}")


def check_tls_none(env):
    t0 = time.monotonic()
    r = run([iptest.binary(), "sub", "-h", "auto", "--insecure", "-t", "x", "-C", "1"], env)
    waited = time.monotonic() - t0
    want = "no _secure-mqtt._tcp broker announced on the local network within 5 s"
    if r.returncode == 0 or want not in r.stderr:
        raise AssertionError(f"sub -h auto with TLS: {r.returncode} {r.stderr!r}")
    if not 4 < waited < 9:
        raise AssertionError(f"sub -h auto gave up after {waited:.1f} s, not 5")


def inner():
    prepare_namespace()
    with iptest.tempdir() as d:
        with disctest.system_bus(d) as bus:
            env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus)
            a = start_avahi(d, env, 1)
            b = None
            try:
                b = check_broker(d, env, a)
                a = check_daemon_restart(d, env, a, b)
                b.close()
                b = None
                check_serve(d, env)
                check_tls_none(env)
            finally:
                if b:
                    b.close()
                a.close()
    print("ok")


if __name__ == "__main__":
    if os.environ.get(INNER):
        inner()
    else:
        sys.exit(enter_namespaces())
