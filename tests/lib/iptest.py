"""Shared fixtures for iotplot's tests against real peers.

Everything listens on 127.0.0.1 with ephemeral ports, every wait is bounded, and every
process a test starts is stopped when the test ends, pass or fail.
"""
import base64
import contextlib
import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HOST = "127.0.0.1"
TIMEOUT = float(os.environ.get("IPTEST_TIMEOUT", "10"))


def binary():
    """Path of the iotplot binary under test (IOTPLOT_BIN, set by CTest)."""
    path = os.environ.get("IOTPLOT_BIN")
    if not path or not os.access(path, os.X_OK):
        sys.exit("IOTPLOT_BIN must name the iotplot binary")
    return path


_given = set()


def free_port():
    """An ephemeral TCP port on 127.0.0.1 that nothing listens on right now, and that
    this process has not handed out before (two calls in a row may otherwise get the
    same one back from the kernel)."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
        if port not in _given:
            _given.add(port)
            return port
    raise RuntimeError("no fresh ephemeral port")


def wait_port(port, timeout=TIMEOUT, proc=None):
    """Wait until something accepts on port; fail early if proc exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), 0.2):
            return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listens on {HOST}:{port} after {timeout}s")


@contextlib.contextmanager
def tempdir():
    d = tempfile.mkdtemp(prefix="iptest-")
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def stop(proc, timeout=5):
    """Terminate proc, kill it if it does not go, and return its exit code."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
    return proc.returncode


@contextlib.contextmanager
def mosquitto(extra_config="", port=None, workdir=None):
    """A real mosquitto broker on 127.0.0.1:<port>; yields (port, process).

    extra_config is appended to a config that has one listener and allows anonymous
    clients unless the extra config says otherwise.
    """
    port = port or free_port()
    with contextlib.ExitStack() as stack:
        d = workdir or stack.enter_context(tempdir())
        conf = os.path.join(d, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write(f"listener {port} {HOST}\n")
            if "allow_anonymous" not in extra_config:
                f.write("allow_anonymous true\n")
            if os.geteuid() == 0 and "\nuser " not in "\n" + extra_config:
                # Started as root, mosquitto drops to user "mosquitto", which cannot read
                # the test's private files (password files are 0600, temp dirs 0700).
                f.write("user root\n")
            f.write(extra_config)
        log = open(os.path.join(d, "mosquitto.log"), "w")
        stack.callback(log.close)
        proc = subprocess.Popen(["mosquitto", "-c", conf], stdout=log, stderr=subprocess.STDOUT)
        stack.callback(stop, proc)
        wait_port(port, proc=proc)
        yield port, proc


def run(args, timeout=TIMEOUT, input=None, check=False):
    """Run a command to completion within timeout; returns CompletedProcess (text)."""
    return subprocess.run(args, input=input, capture_output=True, text=True,
                          timeout=timeout, check=check)


def spawn(args, **kw):
    """Start a command in the background with its output captured (text)."""
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def eventually(pred, timeout=TIMEOUT, interval=0.02, what="condition"):
    """Poll pred() until it is truthy; return its value or raise after timeout. what may be
    a function, called at the timeout, so the message shows the state then."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what() if callable(what) else what} not met after {timeout}s")
        time.sleep(interval)


def expect_eq(got, want, what=""):
    """Assert with both operands printed."""
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


class Results:
    """Collects named checks and prints the closing 'N passed, N failed' line."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, fn, *args):
        try:
            fn(*args)
        except Exception as e:  # a failed check must not hide the next one
            self.failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
        else:
            self.passed += 1
            print(f"ok   {name}", flush=True)

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        sys.exit(1 if self.failed or not self.passed else 0)


def basic_auth(user, pw):
    """The HTTP Basic header of user:pw."""
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()}


def http_get(port, path, headers=None, tls=None, timeout=10):
    """(status, headers dict with lower-case names, body) of one GET with http.client; the
    path goes out exactly as given (hostile paths are not normalised); tls: an SSLContext."""
    if tls:
        c = http.client.HTTPSConnection(HOST, port, timeout=timeout, context=tls)
    else:
        c = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        c.putrequest("GET", path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            c.putheader(k, v)
        c.endheaders()
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()
