"""`announce true` without avahi-daemon: the broker starts, logs one line saying why
nothing is announced (no D-Bus system bus at all; a bus without the daemon) and keeps
serving, quiet while it waits; `-h auto` then fails at once with the reason."""
import os
import time

import disctest
import iptest
from iptest import expect_eq

ABSENT = "Not announced over mDNS"


def check(d, name, env, why):
    port = iptest.free_port()
    conf = f"listener {port} 127.0.0.1\nallow_anonymous true\nannounce true\n"
    b = disctest.broker(d, name, conf, port, env)
    try:
        b.wait_text(ABSENT, f"{name}: the line saying nothing is announced")
        # Retries of the daemon stay quiet: still one line after the first retry (5 s).
        time.sleep(5.5)
        r = iptest.run([iptest.binary(), "pub", "-h", iptest.HOST, "-p", str(port), "-t", "t",
                        "-m", "x"])
        expect_eq(r.returncode, 0, f"{name}: a client publishes ({r.stderr})")
        text = b.text()
        expect_eq(text.count(ABSENT), 1, f"{name}: lines saying so:\n{text}")
        if why not in text:
            raise AssertionError(f"{name}: the line does not say '{why}':\n{text}")
        if "rror" in text:
            raise AssertionError(f"{name}: an error was logged:\n{text}")
    finally:
        expect_eq(b.close() in (0, -15), True, f"{name}: the broker's exit")
    # -h auto has nothing to browse with either, and says so without waiting.
    t0 = time.monotonic()
    r = disctest.run([iptest.binary(), "sub", "-h", "auto", "-t", "t", "-C", "1"], env)
    if r.returncode == 0 or "no avahi-daemon is running" not in r.stderr:
        raise AssertionError(f"{name}: sub -h auto: {r.returncode} {r.stderr!r}")
    if time.monotonic() - t0 > 3:
        raise AssertionError(f"{name}: sub -h auto waited for a daemon that is not there")


def main():
    with iptest.tempdir() as d:
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS="unix:path=" + os.path.join(d, "none"))
        check(d, "nobus", env, "no D-Bus system bus")
        if not disctest.shutil.which("dbus-daemon"):
            print("dbus-daemon is not installed: the case of a bus without avahi-daemon is "
                  "not run")
            return
        with disctest.system_bus(d) as bus:
            env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus)
            check(d, "bus", env, "no avahi-daemon is running")
    print("ok")


if __name__ == "__main__":
    main()
