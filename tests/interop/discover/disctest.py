"""Fixtures of the discovery tests: a private D-Bus system bus and avahi-daemon, and our
broker with its log, each stopped when the test ends."""
import contextlib
import os
import shutil
import subprocess
import time

import iptest

SKIP = 77  # ctest SKIP_RETURN_CODE

BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={sock}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""

# Loopback only, IPv4, nothing of the machine itself published: only what a test adds.
AVAHI_CONF = """[server]
use-ipv4=yes
use-ipv6=no
allow-interfaces=lo
enable-dbus=yes
ratelimit-interval-usec=0
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
publish-addresses=yes
"""


def skip(why):
    print(f"SKIP: {why}", flush=True)
    raise SystemExit(SKIP)


def need(*tools):
    for t in tools:
        if not shutil.which(t):
            skip(f"{t} is not installed (scripts/deps.sh test installs it)")


def wait_for(path_or_pred, what, timeout=iptest.TIMEOUT, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what}: the process exited with {proc.returncode}")
        ok = path_or_pred() if callable(path_or_pred) else os.path.exists(path_or_pred)
        if ok:
            return ok
        time.sleep(0.05)
    raise TimeoutError(f"{what} after {timeout}s")


class Logged:
    """A process with stdout and stderr in one file; text() reads it so far."""

    def __init__(self, d, name, args, env=None):
        self.path = os.path.join(d, f"{name}.log")
        self.f = open(self.path, "w")
        self.p = subprocess.Popen(args, stdout=self.f, stderr=subprocess.STDOUT, env=env,
                                  stdin=subprocess.DEVNULL)

    def text(self):
        with open(self.path) as f:
            return f.read()

    def wait_text(self, s, what, count=1, timeout=iptest.TIMEOUT):
        try:
            wait_for(lambda: self.text().count(s) >= count, what, timeout, self.p)
        except (TimeoutError, AssertionError) as e:
            raise AssertionError(f"{e}; log:\n{self.text()}") from None

    def close(self):
        rc = iptest.stop(self.p)
        self.f.close()
        return rc


@contextlib.contextmanager
def logged(d, name, args, env=None):
    p = Logged(d, name, args, env)
    try:
        yield p
    finally:
        p.close()


@contextlib.contextmanager
def system_bus(d):
    """A dbus-daemon of our own; yields its address (for DBUS_SYSTEM_BUS_ADDRESS)."""
    sock = os.path.join(d, "bus")
    conf = os.path.join(d, "bus.conf")
    with open(conf, "w") as f:
        f.write(BUS_CONF.format(sock=sock))
    with logged(d, "dbus", ["dbus-daemon", "--config-file=" + conf, "--nofork"]) as p:
        wait_for(sock, "the D-Bus socket", proc=p.p)
        yield "unix:path=" + sock


def broker(d, name, conf_text, port, env=None):
    """`iotplot broker -c` started and listening on port (a Logged)."""
    conf = os.path.join(d, f"{name}.conf")
    with open(conf, "w") as f:
        f.write(conf_text)
    b = Logged(d, name, [iptest.binary(), "broker", "-c", conf], env)
    try:
        iptest.wait_port(port, proc=b.p)
    except Exception:
        b.close()
        raise AssertionError(f"broker {name} did not start:\n{b.text()}")
    return b


def run(args, env=None, timeout=iptest.TIMEOUT + 10):
    """Run to completion; CompletedProcess with text output."""
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env,
                          stdin=subprocess.DEVNULL)
