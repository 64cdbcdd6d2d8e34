"""The plot store's HTTP API (GET /api/series, /api/rows) of `iotplot serve`, read with
http.client: in a classroom (`allow_anonymous false`, a password file, `pattern readwrite
%u/#`) it needs the MQTT login (401 without), alice sees her sessions only and bob's
series is a 404 to her; hostile parameters and paths are refused (400, 404, 431); rows
are strict JSON (NaN and infinities as null) paged with since/limit, every answer under
the size limit; and the reads run off the loop: an MQTT client's PINGREQ round trip
stays short while several clients read a large series. Without logins everyone reads
everything, as /plots/."""
import base64
import http.client
import json
import socket
import os
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.environ["IOTPLOT_SRC"], "tests", "interop", "security"))
import paho.mqtt.client as mqtt  # noqa: E402

import iptest  # noqa: E402
from iptest import expect_eq  # noqa: E402
from sectest import passwd_file, round_trips_while  # noqa: E402
import wire  # noqa: E402 (on the path sectest sets)

USERS = {"alice": "alice pw", "bob": "b0b"}
MAX_BODY = 4 << 20  # IPB_HTTP_API_MAX_BODY


def basic(user):
    return iptest.basic_auth(user, USERS[user])


def get(port, path, headers=None, timeout=20):
    return iptest.http_get(port, path, headers, timeout=timeout)


def strict(body):
    """JSON as RFC 8259 has it: NaN, Infinity and -Infinity are refused."""
    def refuse(name):
        raise ValueError(f"not strict JSON: {name}")
    return json.loads(body, parse_constant=refuse)


def api(port, path, user=None, want=200):
    status, head, body = get(port, path, basic(user) if user else None)
    expect_eq(status, want, f"GET {path} as {user}: {body[:200]!r}")
    if want != 200:
        return None
    expect_eq(head.get("content-type"), "application/json", f"{path} content type")
    expect_eq(int(head.get("content-length")), len(body), f"{path} length")
    if len(body) > MAX_BODY:
        raise AssertionError(f"{path}: {len(body)} bytes, over the limit")
    return strict(body)


def rows_path(session, name, **kw):
    q = {"session": session, "name": name, **{k: str(v) for k, v in kw.items()}}
    return "/api/rows?" + urllib.parse.urlencode(q)


class Student:
    """A paho client logged in as one user; pub() waits for the PUBACK."""

    def __init__(self, port, user):
        self.c = mqtt.Client(f"{user}-api", protocol=mqtt.MQTTv311)
        if user:
            self.c.username_pw_set(user, USERS[user])
        self.c.connect(iptest.HOST, port)
        self.c.loop_start()
        iptest.eventually(self.c.is_connected, what=f"{user} connected")

    def pub(self, topic, payload, wait=True):
        info = self.c.publish(topic, payload, qos=1)
        if wait:
            info.wait_for_publish(iptest.TIMEOUT)
        return info

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


def serve(d, conf=None, ports=None):
    out = os.path.join(d, "plots")
    log = open(os.path.join(d, "serve.log"), "w+")
    args = [iptest.binary(), "serve", "-d", out]
    args += ["-c", conf] if conf else ["-a", iptest.HOST, "-p", str(ports[0]), "--http-port", str(ports[1])]
    return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT), log


def classroom_config(d, ports):
    pw = os.path.join(d, "passwd")
    passwd_file(pw, USERS)
    acl = os.path.join(d, "acl")
    with open(acl, "w") as f:
        f.write("pattern readwrite %u/#\n")
    conf = os.path.join(d, "broker.conf")
    with open(conf, "w") as f:
        f.write(f"allow_anonymous false\npassword_file {pw}\nacl_file {acl}\n"
                f"listener {ports[0]} 127.0.0.1\nlistener {ports[1]} 127.0.0.1\n"
                "protocol websockets\n")
    return conf


def refusals(port):
    """Hostile paths and parameters, as alice: refused before any read."""
    long = "a" * 600
    cases = [
        ("/api/rows?session=alice/../bob&name=sin", 400),
        ("/api/rows?session=alice/%2e%2e/bob&name=sin", 400),
        ("/api/rows?session=..&name=sin", 400),
        ("/api/rows?session=alice//x&name=sin", 400),
        ("/api/rows?session=alice&name=..", 400),
        ("/api/rows?session=alice&name=%2e%2e", 400),
        ("/api/rows?session=alice%00&name=sin", 400),
        ("/api/rows?session=alice&name=si%00n", 400),
        ("/api/rows?session=alice&name=s%0an", 400),
        ("/api/rows?session=alice&name=sin%", 400),
        ("/api/rows?session=alice&name=sin%zz", 400),
        (f"/api/rows?session=alice/{long}&name=sin", 400),
        (f"/api/rows?session=alice&name={'n' * 300}", 400),
        ("/api/rows?session=alice&name=sin&since=-1", 400),
        ("/api/rows?session=alice&name=sin&since=1e3", 400),
        ("/api/rows?session=alice&name=sin&limit=9999999999999999999", 400),
        ("/api/rows?session=alice/lab", 400),
        ("/api/rows?name=sin", 400),
        ("/api/%2e%2e/plots/alice/x.pkl", 400),
        ("/api/../plots/alice/x.pkl", 400),
        ("/api/series%00", 400),
        ("/api/nope", 404),
        ("/api/series/x", 404),
        ("/api/" + "x" * 9000, 431),
    ]
    for path, want in cases:
        status, _, body = get(port, path, basic("alice"))
        expect_eq(status, want, f"{path[:80]}: {body[:100]!r}")


def classroom():
    with iptest.tempdir() as d:
        ports = [iptest.free_port() for _ in range(2)]
        p, log = serve(d, classroom_config(d, ports))
        students = []
        try:
            iptest.wait_port(ports[1], proc=p)
            alice, bob = Student(ports[0], "alice"), Student(ports[0], "bob")
            students = [alice, bob]
            alice.pub("alice/new_series", '["sin", "t", "y"]')
            for i in range(5):
                alice.pub("alice/data", f'["sin", {i}, {i * 0.5}]')
            alice.pub("alice/data", '["sin", 5, NaN]')
            alice.pub("alice/data", '["sin", 6, Infinity]')
            alice.pub("alice/data", '["sin", 7, null]')
            alice.pub("alice/plot_series", '["sin", {"title": "A \\"sine\\"", "xlabel": "t [s]", '
                                                '"ylabel": "y", "format": ["r-"]}]')
            alice.pub("alice/new_series", '["top", "v"]')
            alice.pub("alice/plot_series", '["top", {"x": "received", "utc": true}]')
            bob.pub("bob/new_series", '["bobs", "x", "y"]')
            bob.pub("bob/data", '["bobs", 1, 2]')

            # a login, as for /plots/
            for path in ("/api/series", rows_path("alice", "sin")):
                status, head, _ = get(ports[1], path)
                expect_eq(status, 401, f"{path} without credentials")
                expect_eq(head.get("www-authenticate", "").startswith('Basic realm="iotplot"'), True,
                          "WWW-Authenticate")
                wrong = {"Authorization": "Basic " + base64.b64encode(b"alice:nope").decode()}
                expect_eq(get(ports[1], path, wrong)[0], 401, f"{path} with a wrong password")

            def alices_list():
                got = api(ports[1], "/api/series", "alice")
                rows = {(s["session"], s["name"]): s["rows"] for s in got["series"]}
                return got if rows.get(("alice", "sin")) == 8 else None
            listing = iptest.eventually(alices_list, timeout=20, what="alice's 8 rows listed")
            expect_eq(sorted((s["session"], s["name"]) for s in listing["series"]),
                      [("alice", "sin"), ("alice", "top")], "alice sees only her series")
            expect_eq(listing["truncated"], False, "truncated")
            sin = next(s for s in listing["series"] if s["name"] == "sin")
            expect_eq((sin["columns"], sin["version"], sin["title"], sin["xlabel"], sin["ylabel"]),
                      (["t", "y"], 1, 'A "sine"', "t [s]", "y"), "sin's entry")
            # created: when the server applied new_series; last: when the last row arrived
            # (rows are stamped on arrival, and may be applied in the same batch)
            if not (abs(sin["last"] - sin["created"]) < 60 and sin["last"] > 1.7e9):
                raise AssertionError(f"times of the entry: {sin}")
            top = next(s for s in listing["series"] if s["name"] == "top")
            expect_eq((top["rows"], top["last"]), (0, None), "a series without rows")
            expect_eq((top.get("x"), top.get("utc"), "x" in sin, "utc" in sin),
                      ("received", True, False, False), "x and utc of plot_series, when set")

            got = api(ports[1], rows_path("alice", "sin"), "alice")
            expect_eq(got["rows"], [[0.0, 0.0], [1.0, 0.5], [2.0, 1.0], [3.0, 1.5], [4.0, 2.0],
                                    [5.0, None], [6.0, None], [7.0, None]], "rows, non-finite as null")
            expect_eq((got["columns"], got["total"], got["next"], got["more"], len(got["received"])),
                      (["t", "y"], 8, 8, False, 8), "rows' head")
            if got["received"] != sorted(got["received"]) or abs(got["received"][-1] - sin["last"]) > 1e-6:
                raise AssertionError(f"arrival times {got['received']} against last {sin['last']}")
            page = api(ports[1], rows_path("alice", "sin", since=2, limit=3), "alice")
            expect_eq((page["rows"], page["since"], page["next"], page["more"]),
                      ([[2.0, 1.0], [3.0, 1.5], [4.0, 2.0]], 2, 5, True), "a page")
            expect_eq(api(ports[1], rows_path("alice", "sin", since=100), "alice")["rows"], [],
                      "past the end")

            # each user their own: bob's series, listed or read, does not exist for alice
            api(ports[1], rows_path("bob/x", "bobs"), "alice", want=404)
            api(ports[1], rows_path("bob/x", "bobs"), "alice", want=404)
            api(ports[1], rows_path("alice", "none"), "alice", want=404)
            api(ports[1], rows_path("alicex", "sin"), "alice", want=404)
            bobs = api(ports[1], "/api/series", "bob")
            expect_eq([(s["session"], s["name"]) for s in bobs["series"]], [("bob", "bobs")],
                      "bob sees only his series")
            api(ports[1], rows_path("alice", "sin"), "bob", want=404)
            expect_eq(api(ports[1], rows_path("bob", "bobs"), "bob")["rows"], [[1.0, 2.0]], "bob's row")
            refusals(ports[1])
            # HEAD: the head only
            c = http.client.HTTPConnection(iptest.HOST, ports[1], timeout=10)
            c.request("HEAD", "/api/series", headers=basic("alice"))
            r = c.getresponse()
            expect_eq((r.status, r.read()), (200, b""), "HEAD /api/series")
            c.close()
            waiting = large(ports, alice)
            for w in waiting:
                w.sendall(("GET " + rows_path("alice", "wide", limit=100000) + " HTTP/1.1\r\nAuthorization: "
                           + basic("alice")["Authorization"] + "\r\n\r\n").encode())
        finally:
            for s in students:
                s.close()
            expect_eq(iptest.stop(p), 0, "serve exit code")
            log.close()


def large(ports, alice):
    """A series larger than one answer: paged by size, every row read back once; reads
    of it by four clients at a time leave the loop free."""
    ncols, nrows = 300, 1200
    alice.pub("alice/new_series", json.dumps(["wide"] + [f"c{i}" for i in range(ncols)]))
    last = None
    for r in range(nrows):
        last = alice.pub("alice/data", json.dumps(["wide"] + [r + c / 1000 for c in range(ncols)]),
                         wait=False)
    last.wait_for_publish(iptest.TIMEOUT)
    path = rows_path("alice", "wide", limit=100000)
    iptest.eventually(lambda: api(ports[1], path, "alice")["total"] == nrows, timeout=30,
                      what="every wide row stored")
    seen, since, pages = [], 0, 0
    while True:
        got = api(ports[1], rows_path("alice", "wide", since=since, limit=100000), "alice")
        seen += got["rows"]
        pages += 1
        if not got["more"]:
            break
        if got["next"] <= since:
            raise AssertionError(f"no progress at {since}")
        since = got["next"]
    if pages < 2:
        raise AssertionError(f"{nrows} rows of {ncols} columns came in {pages} answer(s)")
    expect_eq(len(seen), nrows, "rows read back over the pages")
    for r in (0, nrows // 2, nrows - 1):
        expect_eq(seen[r], [r + c / 1000 for c in range(ncols)], f"row {r}")
    print(f"{nrows} rows x {ncols} columns in {pages} answers of at most {MAX_BODY} bytes")

    pinger = wire.Client(ports[0], timeout=30)
    pinger.send(wire.connect("pinger", user="bob", pw=USERS["bob"])).expect(wire.our_connack())

    t0 = time.monotonic()
    api(ports[1], path, "alice")
    one = time.monotonic() - t0
    print(f"one read of {MAX_BODY} bytes: {one * 1000:.0f} ms")

    def reader(stop, counts):
        n = 0
        while not stop.is_set():
            status, _, body = get(ports[1], path, basic("alice"), timeout=30)
            if status not in (200, 503):  # 503: four reads are already running
                raise AssertionError(f"read {n}: {status}")
            n += status == 200
        counts.append(n)
    # Two readers on a machine of two cores: the pings compete for the CPU but never
    # wait for a whole read. Reads on the loop, back to back from two readers, would keep
    # it busy nearly all the time, so a ping's median wait would be about half a read;
    # off the loop it is a few ms even on a loaded machine, where a p99 is mostly noise.
    round_trips_while(pinger, reader, [() for _ in range(2)], "large API reads",
                      bound=max(0.25, one), median_bound=one / 4)
    pinger.close()

    # Clients that go away while their read runs: the socket closes, the read finishes
    # on its own and is dropped; the broker goes on answering.
    head = (f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {basic('alice')['Authorization']}"
            "\r\n\r\n").encode()
    for _ in range(20):
        s = socket.create_connection((iptest.HOST, ports[1]), timeout=5)
        s.sendall(head)
        s.close()
    def answered():
        status, _, body = get(ports[1], rows_path("alice", "sin"), basic("alice"))
        return status == 200 and strict(body)["total"] == 8
    iptest.eventually(answered, timeout=20, what="answered once the dropped reads are done")
    # And some left waiting when the server stops (the caller stops it): it waits for them.
    return [socket.create_connection((iptest.HOST, ports[1]), timeout=5) for _ in range(3)]


def open_serve():
    """Without logins (allow_anonymous true, no -c) every session is everyone's."""
    with iptest.tempdir() as d:
        ports = [iptest.free_port() for _ in range(2)]
        p, log = serve(d, ports=ports)
        try:
            iptest.wait_port(ports[1], proc=p)
            anon = Student(ports[0], None)
            anon.pub("lab/new_series", '["s", "x"]')
            anon.pub("lab/data", '["s", 1.5]')
            anon.close()
            iptest.eventually(lambda: api(ports[1], rows_path("lab", "s"))["rows"] == [[1.5]],
                              timeout=20, what="the row without a login")
            status, head, body = get(ports[1], "/api/series")
            expect_eq((status, head.get("x-iotplot-plots")), (200, None), "the list without a login")
            expect_eq([s["name"] for s in strict(body)["series"]], ["s"], "listed")
            refusals_open = get(ports[1], "/api/rows?session=lab/..&name=s")[0]
            expect_eq(refusals_open, 400, "'..' without logins")
        finally:
            expect_eq(iptest.stop(p), 0, "serve exit code")
            log.close()


results = iptest.Results()
results.check("store API in a classroom: logins, own series only, strict JSON, paging, "
              "hostile input, off the loop", classroom)
results.check("store API without logins", open_serve)
results.finish()
