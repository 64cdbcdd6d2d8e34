#!/usr/bin/env python3
"""Offline queues on disk: many queued QoS 1 messages over offline persistent sessions.

    bench/broker/queues.py BUILD_DIR [--sessions N] [--per M] [--size B]

With `persistence true`: N persistent 3.1.1 sessions (clean session 0) subscribe to
q/<i> at QoS 1 and leave; one publisher sends M messages of B bytes to each (1,000 x
1,000 x 64 by default), paced by its PUBACKs, so every one is committed. Then the
broker's memory is read from /proc (VmRSS now, VmHWM its peak), it is killed -9 and
started again on the same store: the time from exec to the first CONNACK is measured.
Last, all N sessions resume at once and drain their queues; each message is checked to
arrive once and in order. Prints one line per figure; exits 1 if a check fails.
"""
import argparse
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mstr(b):
    return struct.pack("!H", len(b)) + b


def packet(first, body):
    n, rl = len(body), bytearray()
    while True:
        n, d = n >> 7, n & 0x7F
        rl.append(d | (0x80 if n else 0))
        if not n:
            return bytes([first]) + bytes(rl) + body


def connect(cid, clean):
    return packet(0x10, mstr(b"MQTT") + bytes([4, 0x02 if clean else 0]) + struct.pack("!H", 60)
                  + mstr(cid.encode()))


def packets(buf):
    """Complete packets at the front of buf: (first byte, body) each, and the bytes used."""
    out, i, n = [], 0, len(buf)
    while i + 2 <= n:
        mult, rl, j = 1, 0, i + 1
        while j < n:
            d = buf[j]
            rl += (d & 0x7F) * mult
            mult <<= 7
            j += 1
            if not d & 0x80:
                break
        else:
            break
        if j + rl > n:
            break
        out.append((buf[i], bytes(buf[j:j + rl])))
        i = j + rl
    return out, i


def read_packet(sock):
    buf = b""
    while True:
        got, used = packets(buf)
        if got:
            return got[0]
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("closed")
        buf += data


def session(port, cid, clean=False):
    s = socket.create_connection(("127.0.0.1", port), 10)
    s.sendall(connect(cid, clean))
    first, body = read_packet(s)
    if first != 0x20 or body[1] != 0:
        raise RuntimeError(f"{cid}: CONNACK {first:#x} {body!r}")
    return s, body[0] & 1


def rss(pid):
    """VmRSS and VmHWM of pid, in MB."""
    v = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, rest = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                v[k] = int(rest.split()[0]) / 1024
    return v["VmRSS"], v["VmHWM"]


def start(binary, conf):
    return subprocess.Popen([binary, "broker", "-c", conf], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def first_connack(port, proc, limit=30.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if proc.poll() is not None:
            sys.exit(f"broker exited with {proc.returncode}")
        try:
            s, _ = session(port, "probe", clean=True)
            s.close()
            return
        except (ConnectionError, OSError):
            time.sleep(0.002)
    sys.exit("no CONNACK")


def payload(i, k, size):
    return f"{i:06d}:{k:08d}:".encode().ljust(size, b".")


def publish_all(port, n, per, size, window=1000):
    s, _ = session(port, "qpub", clean=True)
    topics = [mstr(f"q/{i}".encode()) for i in range(n)]
    total, sent, acked, rest = n * per, 0, 0, 0
    t0 = time.monotonic()
    while acked < total:
        out = []
        while sent - acked < window and sent < total:
            i, k = sent % n, sent // n
            pid = sent % 65535 + 1
            out.append(packet(0x32, topics[i] + struct.pack("!H", pid) + payload(i, k, size)))
            sent += 1
        if out:
            s.sendall(b"".join(out))
        data = s.recv(1 << 20)
        if not data:
            sys.exit("the publisher was disconnected")
        rest += len(data)
        acked += rest // 4  # nothing but PUBACKs comes to the publisher
        rest %= 4
    s.close()
    return total / (time.monotonic() - t0)


def drain(port, n, per, size, limit=600.0):
    """Every session resumes at once; returns (seconds, problems)."""
    sel = selectors.DefaultSelector()
    state = {}
    problems = []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), 30)
        s.sendall(connect(f"q{i:04d}", False))
        s.setblocking(False)
        state[s] = {"i": i, "next": 0, "buf": b"", "connack": False}
        sel.register(s, selectors.EVENT_READ)
    t0 = time.monotonic()
    done = 0
    while done < n and time.monotonic() - t0 < limit:
        for key, _ in sel.select(1.0):
            s, st = key.fileobj, state[key.fileobj]
            try:
                data = s.recv(1 << 18)
            except BlockingIOError:
                continue
            if not data:
                problems.append(f"session {st['i']} closed")
                sel.unregister(s)
                done += 1
                continue
            got, used = packets(st["buf"] + data)
            st["buf"] = (st["buf"] + data)[used:]
            acks = []
            for first, body in got:
                if first == 0x20:
                    if not body[0] & 1:
                        problems.append(f"session {st['i']}: no session present")
                    st["connack"] = True
                    continue
                if first >> 4 != 3:
                    continue
                tl = struct.unpack_from("!H", body)[0]
                pid = body[2 + tl:4 + tl]
                want = payload(st["i"], st["next"], size)
                if body[4 + tl:] != want:
                    problems.append(f"session {st['i']}: {body[4 + tl:20 + tl]!r} for "
                                    f"{want[:16]!r}")
                else:
                    st["next"] += 1
                acks.append(b"\x40\x02" + pid)
            if acks:
                s.sendall(b"".join(acks))
            if st["next"] == per and not st.get("done"):
                st["done"] = True
                done += 1
    secs = time.monotonic() - t0
    for s, st in state.items():
        if st["next"] != per:
            problems.append(f"session {st['i']}: {st['next']} of {per}")
        s.close()
    return secs, problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--per", type=int, default=1000)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--keep", help="a folder to keep the store in (it must be empty)")
    a = ap.parse_args()
    binary = os.path.join(a.build, "src", "cli", "iotplot")
    with tempfile.TemporaryDirectory() as tmp:
        d = a.keep or tmp
        port = free_port()
        conf = os.path.join(d, "bench.conf")
        with open(conf, "w") as f:
            f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\nlog_dest none\n"
                    f"max_connections -1\npersistence true\npersistence_location {d}\n"
                    f"max_queued_messages {a.per}\n")
        proc = start(binary, conf)
        try:
            first_connack(port, proc)
            for i in range(a.sessions):
                s, _ = session(port, f"q{i:04d}")
                s.sendall(packet(0x82, struct.pack("!H", 1) + mstr(f"q/{i}".encode()) +
                                 b"\x01"))
                first, _ = read_packet(s)
                s.close()
            rate = publish_all(port, a.sessions, a.per, a.size)
            time.sleep(1)
            now, peak = rss(proc.pid)
            total = a.sessions * a.per
            print(f"queued: {total} messages of {a.size} bytes over {a.sessions} offline "
                  f"sessions, stored and acknowledged at {rate:,.0f}/s")
            print(f"broker memory with them queued: VmRSS {now:.1f} MB, peak VmHWM "
                  f"{peak:.1f} MB")
            db = os.path.join(d, "iotplot.db")
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            size = sum(os.path.getsize(db + x) for x in ("", "-wal") if os.path.exists(db + x))
            print(f"store after kill -9: {size / 1e6:.0f} MB (database and WAL)")
            t0 = time.monotonic()
            proc = start(binary, conf)
            first_connack(port, proc)
            print(f"restart: exec to first CONNACK {time.monotonic() - t0:.3f} s")
            now, peak = rss(proc.pid)
            print(f"after restart: VmRSS {now:.1f} MB")
            if a.keep:
                print(f"store kept in {d}; the broker on port {port} is stopped")
                return 0
            secs, problems = drain(port, a.sessions, a.per, a.size)
            now, peak = rss(proc.pid)
            print(f"drain: {total} messages to {a.sessions} sessions resuming at once in "
                  f"{secs:.1f} s ({total / secs:,.0f}/s); VmRSS after {now:.1f} MB, peak "
                  f"VmHWM {peak:.1f} MB")
            for p in problems[:20]:
                print("PROBLEM", p)
            print("every message arrived once, in order" if not problems else
                  f"{len(problems)} problems")
            return 1 if problems else 0
        finally:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    sys.exit(main())
