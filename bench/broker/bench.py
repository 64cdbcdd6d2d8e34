#!/usr/bin/env python3
"""Run the broker benchmark: iotplot broker and mosquitto alternately on the same load.

    bench/broker/bench.py BUILD_DIR [--seconds S] [--idle N] [--rounds R] [--persistence]
                          [--idle-only]

For every scenario, each broker is started fresh with the same configuration, the C load
generator (ipb_loadgen) runs against it, and the broker is stopped; the two run in
alternation, R rounds, and the best round of each is kept. Prints a table with the ratio
iotplot / mosquitto (for latency and memory, lower is better).

--persistence runs QoS 1 fan-in (100 publishers -> 1 subscriber) instead: in memory, then
with `persistence true` to a persistent subscriber online, and to one offline (publishers
paced by their PUBACKs: messages stored and acknowledged per second). Each run starts
with an empty store in its own folder.

--idle N connects N idle clients (--idle-only: that scenario alone). Each process needs a
descriptor per connection: this script raises its RLIMIT_NOFILE soft limit to the hard
one, the brokers inherit it (ours raises its own too, mosquitto does not), and the load
generator connects as many as the limits allow; the table says how many it reached and,
below it, which limit stopped it.
"""
import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, seconds=5):
    """Until the broker proc listens on port (or exits: then this run ends)."""
    for _ in range(int(seconds * 100)):
        if proc.poll() is not None:
            sys.exit(f"broker exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.01)
    sys.exit("broker did not listen")


def run_one(broker_cmd, loadgen, args, d, extra=""):
    port = free_port()
    store = os.path.join(d, "store")  # every run starts with an empty persistence folder
    if os.path.isdir(store):
        for f in os.listdir(store):
            os.remove(os.path.join(store, f))
    conf = os.path.join(d, "bench.conf")
    with open(conf, "w") as f:
        f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\nlog_dest none\n"
                "max_connections -1\n" + extra)
    proc = subprocess.Popen(broker_cmd + ["-c", conf], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc)
        out = subprocess.run([loadgen, "-p", str(port), "--pid", str(proc.pid)] + args,
                             capture_output=True, text=True, timeout=300)
        if out.returncode:
            sys.exit(f"loadgen {args}: {out.stderr}")
        return json.loads(out.stdout)
    finally:
        proc.terminate()
        proc.wait(10)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--seconds", default="3")
    ap.add_argument("--idle", default="10000")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--persistence", action="store_true",
                    help="QoS 1 fan-in in memory and with persistence, online and offline")
    ap.add_argument("--nodelay", action="store_true",
                    help="give mosquitto set_tcp_nodelay true (its default leaves Nagle on)")
    ap.add_argument("--idle-only", action="store_true", help="only the idle scenario")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard != resource.RLIM_INFINITY and hard < int(a.idle) + 64:
        print(f"RLIMIT_NOFILE hard limit {hard} is below the {a.idle} idle connections asked",
              file=sys.stderr)
    brokers = {"iotplot": [os.path.join(a.build, "src", "cli", "iotplot"), "broker"],
               "mosquitto": ["mosquitto"]}
    loadgen = os.path.join(a.build, "bench", "broker", "ipb_loadgen")
    runs = []
    for s in ("fanin", "pairs", "fanout"):
        for q in ("0", "1"):
            runs.append((f"{s} QoS {q} (msg/s)", ["-s", s, "-q", q, "-t", a.seconds],
                         "delivered_per_s", max))
    for q in ("0", "1"):
        runs.append((f"latency QoS {q}", ["-s", "latency", "-q", q, "-t", a.seconds], None, None))
    runs.append(("idle", ["-s", "idle", "-n", a.idle], None, None))
    if a.idle_only:
        runs = runs[-1:]
    if a.persistence:
        fanin = ["-s", "fanin", "-q", "1", "-t", a.seconds]
        runs = [("fanin QoS 1 in memory (msg/s)", fanin, "delivered_per_s", max),
                ("fanin QoS 1 persistent, subscriber online (msg/s)",
                 fanin + ["--persistent", "1"], "delivered_per_s", max),
                ("fanin QoS 1 persistent, subscriber offline (stored+acked/s)",
                 fanin + ["--offline", "1"], "delivered_per_s", max)]
    rows = []
    notes = []
    with tempfile.TemporaryDirectory() as d:
        for name, args, key, best in runs:
            res = {b: [] for b in brokers}
            for _ in range(a.rounds):
                for b, cmd in brokers.items():
                    extra = "set_tcp_nodelay true\n" if b == "mosquitto" and a.nodelay else ""
                    # An offline session queues everything: no cap, for both brokers.
                    extra += "max_queued_messages 0\n" if "--offline" in args else \
                             "max_queued_messages 10000\n"
                    if "--persistent" in args or "--offline" in args:
                        store = os.path.join(d, "store")
                        os.makedirs(store, exist_ok=True)
                        extra += f"persistence true\npersistence_location {store}/\n"
                    res[b].append(run_one(cmd, loadgen, args, d, extra))
            if key:
                v = {b: best(r[key] for r in res[b]) for b in brokers}
                rows.append((name, v["iotplot"], v["mosquitto"]))
            elif args[1] == "latency":
                for k in ("p50_us", "p99_us", "p999_us"):
                    v = {b: min(r[k] for r in res[b]) for b in brokers}
                    rows.append((f"{name} {k[:-3]} (us)", v["iotplot"], v["mosquitto"]))
            else:
                reached = min(r["connections"] for b in brokers for r in res[b])
                for b in brokers:
                    r = res[b][0]
                    got = ", ".join(f"{x['connections']:,}" for x in res[b])
                    notes.append(f"idle, {b}: {r['asked']:,} asked, {got} connected "
                                 f"(from {r['source_addresses']} source addresses), limit: "
                                 f"{r['limit']}")
                for k, label in (("connects_per_s", "connects/s"),
                                 ("bytes_per_conn", "RSS bytes per idle connection"),
                                 ("rss_full_kib", "RSS with all connected (KiB)"),
                                 ("rss_after_kib", "RSS after they left (KiB)")):
                    pick = max if k == "connects_per_s" else min
                    v = {b: pick(r[k] for r in res[b]) for b in brokers}
                    rows.append((f"idle {reached:,}: {label}", v["iotplot"], v["mosquitto"]))
            print(f"  done: {name}", file=sys.stderr, flush=True)
    print(f"| scenario | iotplot | mosquitto | ratio |")
    print(f"|---|---:|---:|---:|")
    for name, ours, theirs in rows:
        ratio = ours / theirs if theirs else float("inf")
        print(f"| {name} | {ours:,.1f} | {theirs:,.1f} | {ratio:.2f} |")
    for n in notes:
        print(f"\n{n}")


if __name__ == "__main__":
    main()
