"""A small SOCKS5 proxy (RFC 1928, CONNECT only) with optional user name and password
(RFC 1929), for tests of clients' --proxy options. It is a real peer: it reads the
greeting, the request, connects to what the client asked for and relays bytes both ways.
It records the targets and user names it saw, so a test can tell traffic went through it.
"""
import contextlib
import socket
import struct
import threading

import iptest


class Socks5:
    def __init__(self, user=None, password=None):
        self.user, self.password = user, password
        self.seen = []  # (user or None, host, port) per CONNECT
        self.refused = 0
        self.sock = socket.socket()
        self.sock.bind((iptest.HOST, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self._stop = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._relays = []  # one thread per client connection, done when both ends closed

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()

    def _accept(self):
        while not self._stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(c,), daemon=True)
            self._relays.append(t)
            t.start()

    def drain(self):
        """Wait until every connection so far has been relayed to its end: a client that
        exited may have left bytes here that the server has not had yet (a retained
        message deleted through the proxy must be deleted before the next test step)."""
        for t in list(self._relays):
            t.join(iptest.TIMEOUT)
            if t.is_alive():
                raise TimeoutError("a connection through the proxy did not end")

    @staticmethod
    def _exact(c, n):
        b = b""
        while len(b) < n:
            part = c.recv(n - len(b))
            if not part:
                raise ConnectionError("client closed")
            b += part
        return b

    def _serve(self, c):
        with contextlib.closing(c):
            c.settimeout(iptest.TIMEOUT)
            try:
                ver, n = self._exact(c, 2)
                methods = self._exact(c, n)
                want = 2 if self.user is not None else 0
                if ver != 5 or want not in methods:
                    c.sendall(b"\x05\xff")
                    self.refused += 1
                    return
                c.sendall(bytes([5, want]))
                user = None
                if want == 2:
                    _, ul = self._exact(c, 2)
                    user = self._exact(c, ul).decode()
                    (pl,) = self._exact(c, 1)
                    pw = self._exact(c, pl).decode()
                    ok = (user, pw) == (self.user, self.password)
                    c.sendall(b"\x01\x00" if ok else b"\x01\x01")
                    if not ok:
                        self.refused += 1
                        return
                ver, cmd, _, atyp = self._exact(c, 4)
                if atyp == 1:
                    host = socket.inet_ntoa(self._exact(c, 4))
                elif atyp == 4:
                    host = socket.inet_ntop(socket.AF_INET6, self._exact(c, 16))
                else:
                    (hl,) = self._exact(c, 1)
                    host = self._exact(c, hl).decode()
                (port,) = struct.unpack("!H", self._exact(c, 2))
                if ver != 5 or cmd != 1:
                    c.sendall(b"\x05\x07\x00\x01" + bytes(6))
                    return
                try:
                    up = socket.create_connection((host, port), iptest.TIMEOUT)
                except OSError:
                    c.sendall(b"\x05\x05\x00\x01" + bytes(6))
                    return
                self.seen.append((user, host, port))
                a, p = up.getsockname()[:2]
                c.sendall(b"\x05\x00\x00\x01" + socket.inet_aton(a) + struct.pack("!H", p))
            except (OSError, ConnectionError, ValueError):
                return
            with contextlib.closing(up):
                c.settimeout(None)
                up.settimeout(None)
                t = threading.Thread(target=self._pipe, args=(up, c), daemon=True)
                t.start()
                self._pipe(c, up)
                t.join(iptest.TIMEOUT)

    @staticmethod
    def _pipe(src, dst):
        try:
            while True:
                b = src.recv(65536)
                if not b:
                    break
                dst.sendall(b)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)
