"""A tiny DNS server over UDP that answers SRV queries from a table and NXDOMAIN to the
rest, for tests of clients' SRV lookups (mosquitto's -S). The system resolver only asks
the servers in /etc/resolv.conf on port 53, so tests run it inside a private mount and
network namespace (unshare -mn) with a resolv.conf of their own bind-mounted over it.
"""
import socket
import struct
import threading


def _name(labels):
    out = b""
    for label in labels.strip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


class SrvServer:
    """records: {"_mqtt._tcp.example.test": [(priority, weight, port, target), ...]}."""

    def __init__(self, records, host="127.0.0.1", port=53):
        self.records = {k.lower().strip("."): v for k, v in records.items()}
        self.asked = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.sock.close()

    def _serve(self):
        while True:
            try:
                q, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            reply = self._answer(q)
            if reply:
                self.sock.sendto(reply, peer)

    def _answer(self, q):
        if len(q) < 12:
            return None
        qid, _, qd = struct.unpack("!HHH", q[:6])
        i, labels = 12, []
        while i < len(q) and q[i]:
            labels.append(q[i + 1:i + 1 + q[i]].decode(errors="replace"))
            i += 1 + q[i]
        if qd != 1 or i + 5 > len(q):
            return None
        qtype = struct.unpack("!H", q[i + 1:i + 3])[0]
        question = q[12:i + 5]
        name = ".".join(labels).lower()
        self.asked.append((name, qtype))
        recs = self.records.get(name) if qtype == 33 else None
        if recs is None:
            # NXDOMAIN (or no data for other types of a known name).
            rcode = 0 if name in self.records else 3
            return struct.pack("!HHHHHH", qid, 0x8180 | rcode, 1, 0, 0, 0) + question
        answers = b""
        for prio, weight, port, target in recs:
            rdata = struct.pack("!HHH", prio, weight, port) + _name(target)
            answers += b"\xc0\x0c" + struct.pack("!HHIH", 33, 1, 60, len(rdata)) + rdata
        return struct.pack("!HHHHHH", qid, 0x8180, 1, len(recs), 0, 0) + question + answers
