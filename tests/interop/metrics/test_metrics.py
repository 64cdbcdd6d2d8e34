"""`http_metrics true` on `iotplot broker` websockets listeners: GET /metrics is Prometheus
text that Debian's `promtool check metrics` accepts, a real Prometheus scraping it every
second sees the live connection count, a listener without the directive answers 404,
and where /plots/ needs a login (allow_anonymous false) /metrics needs the same one."""
import base64
import http.client
import json
import os
import subprocess
import sys
import threading
import urllib.parse

sys.path.insert(0, os.path.join(os.environ["IOTPLOT_SRC"], "tests", "interop", "security"))
import paho.mqtt.client as mqtt  # noqa: E402

import iptest  # noqa: E402
from iptest import expect_eq  # noqa: E402
from sectest import passwd_file  # noqa: E402

N_CLIENTS = 3
USER, PASSWORD = "ops", "scrape me"


def get(port, path, headers=None):
    """(status, headers dict, body) of one GET, with http.client."""
    c = http.client.HTTPConnection(iptest.HOST, port, timeout=10)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def basic(user, pw):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()}


def samples(body):
    """{name: value} of the sample lines, and {name: type} of the # TYPE lines."""
    values, types = {}, {}
    for line in body.decode().splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            types[name] = kind
        elif line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values, types


class Broker:
    """`iotplot broker -c` with a config written from text; stopped by close()."""

    def __init__(self, d, name, text, wait_port):
        conf = os.path.join(d, f"{name}.conf")
        with open(conf, "w") as f:
            f.write(text)
        self.log = open(os.path.join(d, f"{name}.log"), "w+")
        self.p = subprocess.Popen([iptest.binary(), "broker", "-c", conf], stdout=self.log,
                                  stderr=subprocess.STDOUT)
        iptest.wait_port(wait_port, proc=self.p)

    def close(self):
        rc = iptest.stop(self.p)
        self.log.seek(0)
        out = self.log.read()
        self.log.close()
        if rc not in (0, -15):
            raise AssertionError(f"broker exited with {rc}:\n{out}")


def connect_clients(port, n):
    """n paho clients, each returned once its CONNACK has arrived."""
    clients = []
    for i in range(n):
        done = threading.Event()
        c = mqtt.Client(f"metrics-{i}", protocol=mqtt.MQTTv311)
        c.on_connect = lambda cl, u, f, rc, done=done: done.set() if rc == 0 else None
        c.connect(iptest.HOST, port)
        c.loop_start()
        clients.append(c)
        if not done.wait(iptest.TIMEOUT):
            raise TimeoutError(f"client {i} got no CONNACK")
    return clients


def close_clients(clients):
    for c in clients:
        c.disconnect()
        c.loop_stop()


def exposition(mport, plain_ws):
    status, headers, body = get(mport, "/metrics")
    expect_eq(status, 200, "GET /metrics")
    expect_eq(headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8",
              "Content-Type")
    r = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                       timeout=iptest.TIMEOUT)
    expect_eq((r.returncode, r.stdout + r.stderr), (0, b""), "promtool check metrics")
    values, types = samples(body)
    for name, kind in types.items():
        if not name.startswith("iotplot_broker_"):
            raise AssertionError(f"{name} lacks the iotplot_broker_ prefix")
        if (kind == "counter") != name.endswith("_total"):
            raise AssertionError(f"{name} is a {kind}")
        if name not in values:
            raise AssertionError(f"{name} has a TYPE and no sample")
    for name in ("connections", "sessions", "subscriptions", "retained_messages",
                 "messages_received_total", "messages_sent_total", "bytes_received_total",
                 "bytes_sent_total", "publish_messages_dropped_total", "login_failures_total",
                 "uptime_seconds"):
        if "iotplot_broker_" + name not in values:
            raise AssertionError(f"no iotplot_broker_{name}")
    status, _, _ = get(plain_ws, "/metrics")
    expect_eq(status, 404, "/metrics without http_metrics")


def live_count(mqtt_port, mport):
    clients = connect_clients(mqtt_port, N_CLIENTS)
    try:
        values, _ = samples(get(mport, "/metrics")[2])
        expect_eq(values["iotplot_broker_connections"], N_CLIENTS, "connections")
        sub = threading.Event()
        clients[0].on_subscribe = lambda *a: sub.set()
        clients[0].subscribe("metrics/#", qos=1)
        if not sub.wait(iptest.TIMEOUT):
            raise TimeoutError("no SUBACK")
        values, _ = samples(get(mport, "/metrics")[2])
        expect_eq(values["iotplot_broker_subscriptions"], 1, "subscriptions")
    finally:
        close_clients(clients)


def prometheus(d, mqtt_port, mport):
    """A real Prometheus scraping every second sees the clients connected."""
    pport = iptest.free_port()
    conf = os.path.join(d, "prometheus.yml")
    with open(conf, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                "scrape_configs:\n  - job_name: iotplot\n    static_configs:\n"
                f"      - targets: ['{iptest.HOST}:{mport}']\n")
    log = open(os.path.join(d, "prometheus.log"), "w+")
    p = subprocess.Popen(["prometheus", f"--config.file={conf}",
                          f"--storage.tsdb.path={os.path.join(d, 'tsdb')}",
                          f"--web.listen-address={iptest.HOST}:{pport}"],
                         stdout=log, stderr=subprocess.STDOUT, cwd=d)
    clients = []
    try:
        iptest.wait_port(pport, timeout=30, proc=p)
        clients = connect_clients(mqtt_port, N_CLIENTS)
        q = urllib.parse.urlencode({"query": "iotplot_broker_connections"})

        def seen():
            status, _, body = get(pport, f"/api/v1/query?{q}")
            if status != 200:
                return None
            result = json.loads(body)["data"]["result"]
            return result and float(result[0]["value"][1]) == N_CLIENTS

        iptest.eventually(seen, timeout=30, interval=0.2,
                          what=f"Prometheus sees {N_CLIENTS} connections")
    except Exception:
        log.seek(0)
        print(log.read()[-3000:], flush=True)
        raise
    finally:
        close_clients(clients)
        iptest.stop(p)
        log.close()


def open_listeners():
    with iptest.tempdir() as d:
        ports = [iptest.free_port() for _ in range(3)]
        b = Broker(d, "open", f"allow_anonymous true\nlistener {ports[0]} 127.0.0.1\n"
                   f"listener {ports[1]} 127.0.0.1\nprotocol websockets\nhttp_metrics true\n"
                   f"listener {ports[2]} 127.0.0.1\nprotocol websockets\n", ports[2])
        try:
            res.check("exposition", exposition, ports[1], ports[2])
            res.check("live counts", live_count, ports[0], ports[1])
            res.check("prometheus", prometheus, d, ports[0], ports[1])
        finally:
            b.close()


def logins():
    with iptest.tempdir() as d:
        pw = os.path.join(d, "passwd")
        passwd_file(pw, {USER: PASSWORD})
        ports = [iptest.free_port() for _ in range(2)]
        b = Broker(d, "login", f"allow_anonymous false\npassword_file {pw}\n"
                   f"listener {ports[0]} 127.0.0.1\n"
                   f"listener {ports[1]} 127.0.0.1\nprotocol websockets\nhttp_metrics true\n",
                   ports[1])
        try:
            def check():
                expect_eq(get(ports[1], "/metrics")[0], 401, "no credentials")
                expect_eq(get(ports[1], "/metrics", basic(USER, "wrong"))[0], 401,
                          "a wrong password")
                status, _, body = get(ports[1], "/metrics", basic(USER, PASSWORD))
                expect_eq(status, 200, "the right password")
                # a request without credentials tries no login; the wrong password does
                expect_eq(samples(body)[0]["iotplot_broker_login_failures_total"], 1,
                          "login failures after one wrong HTTP password")
                refused = threading.Event()
                c = mqtt.Client("wrong-password", protocol=mqtt.MQTTv311)
                c.username_pw_set(USER, "wrong")
                c.on_connect = lambda cl, u, f, rc: refused.set() if rc else None
                c.connect(iptest.HOST, ports[0])
                c.loop_start()
                try:
                    if not refused.wait(iptest.TIMEOUT):
                        raise TimeoutError("no refusing CONNACK")
                finally:
                    c.loop_stop()
                values = samples(get(ports[1], "/metrics", basic(USER, PASSWORD))[2])[0]
                expect_eq(values["iotplot_broker_login_failures_total"], 2,
                          "login failures after a wrong MQTT password too")
            res.check("login", check)
        finally:
            b.close()


res = iptest.Results()
open_listeners()
logins()
res.finish()
