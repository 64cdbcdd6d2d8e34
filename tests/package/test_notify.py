"""systemd readiness of `iotplot broker` and `iotplot serve` (src/cli/service.c).

A Type=notify unit starts clients of the broker once READY=1 arrives, so READY=1 must
come only after the port accepts connections. The test plays systemd: a datagram socket
named in NOTIFY_SOCKET, WATCHDOG_USEC for the keep-alives, SIGHUP for a reload and
SIGTERM for the stop.
"""
import os
import signal
import socket
import time

import iptest

WATCHDOG_USEC = 300000  # pings expected every 150 ms


class Notify:
    """The notification socket systemd would give the service."""

    def __init__(self, d):
        self.path = os.path.join(d, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)

    def close(self):
        self.sock.close()

    def next(self, timeout=iptest.TIMEOUT):
        """The next message, as a dict of its KEY=VALUE lines."""
        self.sock.settimeout(timeout)
        data = self.sock.recv(4096).decode()
        return dict(line.split("=", 1) for line in data.split("\n") if line)

    def wait_for(self, key, timeout=iptest.TIMEOUT):
        """Messages until one has key; returns (that message, the ones before it)."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            m = self.next(max(0.01, deadline - time.monotonic()))
            if key in m:
                return m, seen
            seen.append(m)


def accepts(port):
    try:
        with socket.create_connection((iptest.HOST, port), 1):
            return True
    except OSError:
        return False


def check_lifecycle(args, port, reload=True):
    with iptest.tempdir() as d:
        n = Notify(d)
        env = dict(os.environ, NOTIFY_SOCKET=n.path, WATCHDOG_USEC=str(WATCHDOG_USEC))
        proc = iptest.spawn(args, env=env, cwd=d)
        try:
            m, before = n.wait_for("READY")
            # Checked at once: a READY=1 sent before listen() finds nothing on the port.
            if not accepts(port):
                raise AssertionError(f"READY=1 arrived before 127.0.0.1:{port} accepted")
            iptest.expect_eq(m.get("READY"), "1", "READY")
            iptest.expect_eq(before, [], "messages before READY=1")
            t0 = time.monotonic()
            n.wait_for("WATCHDOG")
            n.wait_for("WATCHDOG")
            if time.monotonic() - t0 > 10 * WATCHDOG_USEC / 1e6:
                raise AssertionError("watchdog pings are far slower than half WATCHDOG_USEC")
            if reload:
                proc.send_signal(signal.SIGHUP)
                m, _ = n.wait_for("RELOADING")
                if "MONOTONIC_USEC" not in m:
                    raise AssertionError(f"RELOADING=1 without MONOTONIC_USEC: {m}")
                n.wait_for("READY")
                if not accepts(port):
                    raise AssertionError("the port does not accept after the reload")
            proc.send_signal(signal.SIGTERM)
            n.wait_for("STOPPING")
            iptest.expect_eq(proc.wait(iptest.TIMEOUT), 0, "exit status")
        finally:
            iptest.stop(proc)
            n.close()


def check_broker():
    port = iptest.free_port()
    check_lifecycle([iptest.binary(), "broker", "-p", str(port)], port)


def check_serve():
    port = iptest.free_port()
    # serve does not handle SIGHUP (it would end the process), so no reload here.
    check_lifecycle([iptest.binary(), "serve", "-p", str(port), "--no-http", "-q", "-d",
                     "plots"], port, reload=False)


def check_without_systemd():
    """No NOTIFY_SOCKET: the broker runs and stops as it always did."""
    port = iptest.free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC")}
    proc = iptest.spawn([iptest.binary(), "broker", "-p", str(port)], env=env)
    try:
        iptest.wait_port(port, proc=proc)
        proc.send_signal(signal.SIGTERM)
        iptest.expect_eq(proc.wait(iptest.TIMEOUT), 0, "exit status")
    finally:
        iptest.stop(proc)


r = iptest.Results()
r.check("broker: READY after listen, WATCHDOG, RELOADING/READY on SIGHUP, STOPPING",
        check_broker)
r.check("serve: READY after listen, WATCHDOG, STOPPING", check_serve)
r.check("broker without NOTIFY_SOCKET", check_without_systemd)
r.finish()
