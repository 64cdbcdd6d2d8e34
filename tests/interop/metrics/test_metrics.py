"""`http_metrics true` on `iotplot broker` websockets listeners: GET /metrics is Prometheus
text that Debian's `promtool check metrics` accepts, a real Prometheus scraping it every
second sees the live connection count and the drops the test causes, a listener without
the directive answers 404, and where /plots/ needs a login (allow_anonymous false)
/metrics needs the same one. Messages dropped count by reason; with persistence the
store's size and a histogram of its commits grow with what the test publishes; `iotplot
serve` adds the plot server's rows stored and its commit histogram."""
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.environ["IOTPLOT_SRC"], "tests", "interop", "security"))
import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.packettypes import PacketTypes  # noqa: E402
from paho.mqtt.properties import Properties  # noqa: E402

import iptest  # noqa: E402
from iptest import expect_eq  # noqa: E402
from sectest import passwd_file  # noqa: E402

N_CLIENTS = 3
USER, PASSWORD = "ops", "scrape me"


get = iptest.http_get
basic = iptest.basic_auth


def samples(body):
    """{name: value} of the sample lines (name with its labels, as written), and
    {name: type} of the # TYPE lines."""
    values, types = {}, {}
    for line in body.decode().splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            types[name] = kind
        elif line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values, types


def family_of(sample, types):
    """The # TYPE name a sample belongs to: its name without labels, and without a
    histogram's _bucket, _sum or _count."""
    name = sample.split("{")[0]
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and types.get(name[:-len(suffix)]) == "histogram":
            return name[:-len(suffix)]
    return name


def metrics(port, auth=None):
    values, _ = samples(get(port, "/metrics", auth)[2])
    return values


def promtool(body):
    r = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                       timeout=iptest.TIMEOUT)
    expect_eq((r.returncode, r.stdout + r.stderr), (0, b""), "promtool check metrics")


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
    promtool(body)
    values, types = samples(body)
    families = {family_of(s, types) for s in values}
    for name, kind in types.items():
        if not name.startswith("iotplot_broker_"):
            raise AssertionError(f"{name} lacks the iotplot_broker_ prefix")
        if (kind == "counter") != name.endswith("_total"):
            raise AssertionError(f"{name} is a {kind}")
        if name not in families:
            raise AssertionError(f"{name} has a TYPE and no sample")
    for s in values:
        if family_of(s, types) not in types:
            raise AssertionError(f"{s} has no TYPE")
    # Without persistence there is no store to measure: no such series at all.
    for name in ("iotplot_broker_store_file_bytes", "iotplot_broker_store_commit_seconds"):
        if name in types:
            raise AssertionError(f"{name} without persistence")
    for name in ("connections", "sessions", "subscriptions", "retained_messages",
                 "messages_received_total", "messages_sent_total", "bytes_received_total",
                 "bytes_sent_total", "publish_messages_dropped_total", "login_failures_total",
                 "uptime_seconds"):
        if "iotplot_broker_" + name not in values:
            raise AssertionError(f"no iotplot_broker_{name}")
    status, _, _ = get(plain_ws, "/metrics")
    expect_eq(status, 404, "/metrics without http_metrics")


DROPPED = 'iotplot_broker_messages_dropped_total{reason="%s"}'


def paho(port, client_id, clean=True):
    done = threading.Event()
    c = mqtt.Client(client_id, protocol=mqtt.MQTTv311, clean_session=clean)
    c.on_connect = lambda cl, u, f, rc: done.set() if rc == 0 else None
    c.connect(iptest.HOST, port)
    c.loop_start()
    if not done.wait(iptest.TIMEOUT):
        raise TimeoutError(f"{client_id}: no CONNACK")
    return c


def publish(c, topic, payload, qos=1, retain=False):
    c.publish(topic, payload, qos=qos, retain=retain).wait_for_publish(iptest.TIMEOUT)


def drops(mqtt_port, mport):
    """Each reason counts what the test drops, and only that; their sum (expired aside)
    is publish_messages_dropped_total."""
    before = metrics(mport)
    c = paho(mqtt_port, "dropper")
    # An offline session with room for one queued message: two more are dropped.
    sub = paho(mqtt_port, "sleeper", clean=False)
    sub.subscribe("drops/#", qos=1)
    time.sleep(0.3)
    sub.disconnect()
    sub.loop_stop()
    try:
        publish(c, "drops/big", b"x" * 200)  # above message_size_limit 100
        for i in range(3):
            publish(c, "drops/q", b"%d" % i)
        after = metrics(mport)
    finally:
        c.disconnect()
        c.loop_stop()
    for reason, n in (("message_size_limit", 1), ("queue_full", 2), ("not_authorized", 0),
                      ("expired", 0)):
        expect_eq(after[DROPPED % reason] - before[DROPPED % reason], n, f"dropped {reason}")
    total = sum(v for k, v in after.items()
                if k.startswith("iotplot_broker_messages_dropped_total{")
                and 'reason="expired"' not in k)
    expect_eq(total, after["iotplot_broker_publish_messages_dropped_total"],
              "the reasons add up to publish_messages_dropped_total")


def expired(mqtt_port, mport):
    """A message whose expiry runs out while its session is offline is dropped as
    expired when the session is back, and is not counted in publish_messages_dropped."""
    sub = paho(mqtt_port, "late", clean=False)
    sub.subscribe("expires/#", qos=1)
    time.sleep(0.3)
    sub.disconnect()
    sub.loop_stop()
    before = metrics(mport)
    done = threading.Event()
    c = mqtt.Client("expirer", protocol=mqtt.MQTTv5)
    c.on_connect = lambda cl, u, f, rc, p=None: done.set()
    c.connect(iptest.HOST, mqtt_port)
    c.loop_start()
    try:
        if not done.wait(iptest.TIMEOUT):
            raise TimeoutError("expirer: no CONNACK")
        props = Properties(PacketTypes.PUBLISH)
        props.MessageExpiryInterval = 1
        c.publish("expires/now", b"soon stale", qos=1, properties=props).wait_for_publish(
            iptest.TIMEOUT)
    finally:
        c.disconnect()
        c.loop_stop()
    time.sleep(2.2)
    sub = paho(mqtt_port, "late", clean=False)  # its queue is pumped: the message is stale
    try:
        iptest.eventually(lambda: metrics(mport)[DROPPED % "expired"]
                          == before[DROPPED % "expired"] + 1, what="one expired drop")
    finally:
        sub.disconnect()
        sub.loop_stop()
    after = metrics(mport)
    expect_eq(after["iotplot_broker_publish_messages_dropped_total"],
              before["iotplot_broker_publish_messages_dropped_total"],
              "publish_messages_dropped_total leaves expired messages out")


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


def prometheus_sees(d, mport, checks):
    """A real Prometheus scraping mport every second; checks are (PromQL, value): each
    query must come to that value within 30 s. An action may stand in for a value: it
    runs then (after the first scrape), and the next check's value is a function of it."""
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
    try:
        iptest.wait_port(pport, timeout=30, proc=p)
        for query, want in checks:
            if callable(want):
                want = want()
            q = urllib.parse.urlencode({"query": query})

            def seen():
                status, _, body = get(pport, f"/api/v1/query?{q}")
                if status != 200:
                    return None
                result = json.loads(body)["data"]["result"]
                return result and float(result[0]["value"][1]) == want

            iptest.eventually(seen, timeout=30, interval=0.2,
                              what=f"Prometheus sees {query} = {want}")
    except Exception:
        log.seek(0)
        print(log.read()[-3000:], flush=True)
        raise
    finally:
        iptest.stop(p)
        log.close()


def prometheus(d, mqtt_port, mport):
    """The clients connected, and a drop caused while Prometheus watches."""
    clients = connect_clients(mqtt_port, N_CLIENTS)

    def drop_one():
        publish(clients[0], "drops/big", b"x" * 200)
        return metrics(mport)[DROPPED % "message_size_limit"]

    try:
        prometheus_sees(d, mport, [
            ("iotplot_broker_connections", N_CLIENTS),
            (DROPPED % "message_size_limit", lambda: drop_one())])
    finally:
        close_clients(clients)


def open_listeners():
    with iptest.tempdir() as d:
        ports = [iptest.free_port() for _ in range(3)]
        b = Broker(d, "open", "allow_anonymous true\nmessage_size_limit 100\n"
                   f"max_queued_messages 1\nlistener {ports[0]} 127.0.0.1\n"
                   f"listener {ports[1]} 127.0.0.1\nprotocol websockets\nhttp_metrics true\n"
                   f"listener {ports[2]} 127.0.0.1\nprotocol websockets\n", ports[2])
        try:
            res.check("exposition", exposition, ports[1], ports[2])
            res.check("live counts", live_count, ports[0], ports[1])
            res.check("drops by reason", drops, ports[0], ports[1])
            res.check("expired drops", expired, ports[0], ports[1])
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


def store():
    """persistence true: the file's size and the commits' histogram, valid for promtool,
    grow with what is published; a real Prometheus sees the commits counted."""
    with iptest.tempdir() as d:
        ports = [iptest.free_port() for _ in range(2)]
        b = Broker(d, "store", f"allow_anonymous true\npersistence true\n"
                   f"persistence_location {d}\nlistener {ports[0]} 127.0.0.1\n"
                   f"listener {ports[1]} 127.0.0.1\nprotocol websockets\nhttp_metrics true\n",
                   ports[1])
        count = "iotplot_broker_store_commit_seconds_count"
        inf = 'iotplot_broker_store_commit_seconds_bucket{le="+Inf"}'

        def check():
            body = get(ports[1], "/metrics")[2]
            promtool(body)
            before, types = samples(body)
            expect_eq(types.get("iotplot_broker_store_commit_seconds"), "histogram", "TYPE")
            expect_eq(types.get("iotplot_broker_store_file_bytes"), "gauge", "TYPE")
            c = paho(ports[0], "store-writer")
            try:
                for i in range(20):  # retained QoS 1: each is committed before its PUBACK
                    publish(c, f"store/{i}", b"y" * 1000, retain=True)
            finally:
                c.disconnect()
                c.loop_stop()
            after = metrics(ports[1])
            if not after[count] > before[count]:
                raise AssertionError(f"commits {before[count]} -> {after[count]}")
            expect_eq(after[inf], after[count], "the +Inf bucket holds every commit")
            if not after["iotplot_broker_store_file_bytes"] >= 20000:
                raise AssertionError(f"store bytes {after['iotplot_broker_store_file_bytes']}")
            if not after["iotplot_broker_store_commit_seconds_sum"] > 0:
                raise AssertionError("commit seconds sum is 0")
            prometheus_sees(d, ports[1], [(count, lambda: metrics(ports[1])[count])])
        try:
            res.check("store size and commits", check)
        finally:
            b.close()


def serve():
    """`iotplot serve` adds the plot server's rows stored and commit histogram."""
    with iptest.tempdir() as d:
        ports = [iptest.free_port() for _ in range(2)]
        conf = os.path.join(d, "serve.conf")
        with open(conf, "w") as f:
            f.write(f"allow_anonymous true\nannounce false\nlistener {ports[0]} 127.0.0.1\n"
                    f"listener {ports[1]} 127.0.0.1\nprotocol websockets\nhttp_metrics true\n")
        log = open(os.path.join(d, "serve.log"), "w+")
        p = subprocess.Popen([iptest.binary(), "serve", "-c", conf, "-d", os.path.join(d, "out")],
                             stdout=log, stderr=subprocess.STDOUT)
        rows = "iotplot_plot_rows_stored_total"
        commits = "iotplot_plot_commit_seconds_count"

        def check():
            iptest.wait_port(ports[1], proc=p)
            body = get(ports[1], "/metrics")[2]
            promtool(body)
            before, types = samples(body)
            expect_eq((types.get(rows), types.get("iotplot_plot_commit_seconds")),
                      ("counter", "histogram"), "the plot server's TYPEs")
            c = paho(ports[0], "device")
            try:
                publish(c, "iot49/new_series", json.dumps(["s", "x", "y"]))
                for i in range(5):
                    publish(c, "iot49/data", json.dumps(["s", i, i * i]))
            finally:
                c.disconnect()
                c.loop_stop()
            iptest.eventually(lambda: metrics(ports[1])[rows] == before[rows] + 5,
                              what="5 rows stored")
            after = metrics(ports[1])
            if not after[commits] > before[commits]:
                raise AssertionError(f"plot commits {before[commits]} -> {after[commits]}")
            promtool(get(ports[1], "/metrics")[2])
            prometheus_sees(d, ports[1], [(rows, before[rows] + 5)])
        try:
            res.check("serve: the plot server's metrics", check)
        finally:
            rc = iptest.stop(p)
            log.seek(0)
            out = log.read()
            log.close()
            if rc not in (0, -15):
                raise AssertionError(f"serve exited with {rc}:\n{out}")


res = iptest.Results()
open_listeners()
logins()
store()
serve()
res.finish()
