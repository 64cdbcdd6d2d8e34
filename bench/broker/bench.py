#!/usr/bin/env python3
"""Run the broker benchmark: iotplot broker and mosquitto alternately on the same load.

    bench/broker/bench.py BUILD_DIR [--seconds S] [--idle N] [--rounds R] [--persistence]
                          [--only NAME[,NAME]] [--flashmq PATH] [--idle-only]
                          [--payload BYTES]

For every scenario, each broker is started fresh with the same configuration, the C load
generator (ipb_loadgen) runs against it, and the broker is stopped; the two run in
alternation, R rounds, and the best round of each is kept. Prints a table with the ratio
iotplot / mosquitto (for latency and memory, lower is better).

--persistence runs QoS 1 fan-in (100 publishers -> 1 subscriber) instead: in memory, then
with `persistence true` to a persistent subscriber online, and to one offline (publishers
paced by their PUBACKs: messages stored and acknowledged per second). Each run starts
with an empty store in its own folder.

latency-flood: the latency stream measured by one load generator while a second one,
started a second earlier under `nice -n 10`, floods the same broker with 100 pairs at full
speed (closed loop, as the pairs scenario) at the same QoS. Prints p50/p99/p99.9/max of the
stream and the messages per second the flood delivered meanwhile: a broker cannot look
good by starving the flood. The flooder is niced so that on two cores the broker and the
sleeping prober are not starved by the load generator itself; every broker gets the same.

--only runs just the named scenarios (fanin, pairs, fanout, latency, latency-flood, idle).
FlashMQ runs beside mosquitto when --flashmq PATH or IOTPLOT_BENCH_FLASHMQ names its binary
(skipped otherwise); it is not asked for the persistence runs.

--payload BYTES: the messages' payload size (64 unless told; the issue's other size is
1024); the idle scenario sends none.

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


def start_broker(name, broker_cmd, d, extra):
    port = free_port()
    store = os.path.join(d, "store")  # every run starts with an empty persistence folder
    if os.path.isdir(store):
        for f in os.listdir(store):
            os.remove(os.path.join(store, f))
    conf = os.path.join(d, "bench.conf")
    with open(conf, "w") as f:
        if name == "flashmq":
            # Its per-client queue (512 QoS messages) is above every window used here.
            f.write(f"allow_anonymous true\nlog_file {d}/flashmq.log\n"
                    f"listen {{\n protocol mqtt\n port {port}\n inet_protocol ip4\n"
                    " inet4_bind_address 127.0.0.1\n}\n")
        else:
            f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\nlog_dest none\n"
                    "max_connections -1\n" + extra)
    flag = "--config-file" if name == "flashmq" else "-c"
    proc = subprocess.Popen(broker_cmd + [flag, conf], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_port(port, proc)
    return proc, port


def loadgen_json(out, args):
    if out.returncode:
        sys.exit(f"loadgen {args}: {out.stderr}")
    return json.loads(out.stdout)


def run_one(name, broker_cmd, loadgen, args, d, extra=""):
    proc, port = start_broker(name, broker_cmd, d, extra)
    try:
        base = [loadgen, "-p", str(port), "--pid", str(proc.pid)]
        if args[1] != "latency-flood":
            return loadgen_json(subprocess.run(base + args, capture_output=True, text=True,
                                               timeout=300), args)
        q, secs = args[args.index("-q") + 1], float(args[args.index("-t") + 1])
        size = args[args.index("-b") + 1] if "-b" in args else "64"
        flood_args = ["-s", "pairs", "-q", q, "-t", str(secs + 1.5), "-b", size]
        flood = subprocess.Popen(["nice", "-n", "10"] + base + flood_args,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(1.0)  # its 100 pairs connected and flooding before the stream starts
            probe = loadgen_json(subprocess.run(base + ["-s", "latency", "-q", q, "-t",
                                                        str(secs), "-b", size],
                                                capture_output=True, text=True, timeout=300),
                                 args)
            out, err = flood.communicate(timeout=300)
        finally:
            if flood.poll() is None:
                flood.kill()
                flood.wait()
        probe["flood_per_s"] = loadgen_json(subprocess.CompletedProcess(
            flood.args, flood.returncode, out, err), flood_args)["delivered_per_s"]
        return probe
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
    ap.add_argument("--only", default="",
                    help="comma-separated scenarios: fanin,pairs,fanout,latency,latency-flood,idle")
    ap.add_argument("--flashmq", default=os.environ.get("IOTPLOT_BENCH_FLASHMQ", ""),
                    help="FlashMQ's binary, to run beside mosquitto (or IOTPLOT_BENCH_FLASHMQ)")
    ap.add_argument("--idle-only", action="store_true", help="only the idle scenario (--only idle)")
    ap.add_argument("--payload", default="64", help="bytes of each message's payload")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard != resource.RLIM_INFINITY and hard < int(a.idle) + 64:
        print(f"RLIMIT_NOFILE hard limit {hard} is below the {a.idle} idle connections asked",
              file=sys.stderr)
    brokers = {"iotplot": [os.path.join(a.build, "src", "cli", "iotplot"), "broker"],
               "mosquitto": ["mosquitto"]}
    if a.flashmq and not a.persistence:
        brokers["flashmq"] = [a.flashmq]
    elif not a.persistence:
        print("FlashMQ skipped: no --flashmq PATH or IOTPLOT_BENCH_FLASHMQ", file=sys.stderr)
    loadgen = os.path.join(a.build, "bench", "broker", "ipb_loadgen")
    runs = []
    for s in ("fanin", "pairs", "fanout"):
        for q in ("0", "1"):
            runs.append((f"{s} QoS {q} (msg/s)", ["-s", s, "-q", q, "-t", a.seconds],
                         "delivered_per_s", max))
    for q in ("0", "1"):
        runs.append((f"latency QoS {q}", ["-s", "latency", "-q", q, "-t", a.seconds], None, None))
    for q in ("0", "1"):
        runs.append((f"latency-flood QoS {q}", ["-s", "latency-flood", "-q", q, "-t", a.seconds],
                     None, None))
    runs.append(("idle", ["-s", "idle", "-n", a.idle], None, None))
    runs = [(n, args if args[1] == "idle" else args + ["-b", a.payload], k, b)
            for n, args, k, b in runs]
    if a.idle_only:
        a.only = "idle"
    if a.only:
        only = a.only.split(",")
        runs = [r for r in runs if r[1][1] in only]
    if a.persistence:
        fanin = ["-s", "fanin", "-q", "1", "-t", a.seconds, "-b", a.payload]
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
                    res[b].append(run_one(b, cmd, loadgen, args, d, extra))
            if key:
                v = {b: best(r[key] for r in res[b]) for b in brokers}
                rows.append((name, v))
            elif args[1] == "latency":
                for k in ("p50_us", "p99_us", "p999_us"):
                    v = {b: min(r[k] for r in res[b]) for b in brokers}
                    rows.append((f"{name} {k[:-3]} (us)", v))
            elif args[1] == "latency-flood":
                # The round with the best p99.9 of each, all its figures from that round.
                pick = {b: min(res[b], key=lambda r: r["p999_us"]) for b in brokers}
                for k in ("p50_us", "p99_us", "p999_us", "max_us"):
                    rows.append((f"{name} {k[:-3]} (us)", {b: pick[b][k] for b in brokers}))
                rows.append((f"{name}: the flood meanwhile (msg/s)",
                             {b: pick[b]["flood_per_s"] for b in brokers}))
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
                    rows.append((f"idle {reached:,}: {label}", v))
            print(f"  done: {name}", file=sys.stderr, flush=True)
    peers = [b for b in brokers if b != "iotplot"]
    print("| scenario | iotplot | " + " | ".join(peers) + " | " +
          " | ".join(f"ratio to {p}" for p in peers) + " |")
    print("|---|---:|" + "---:|" * (2 * len(peers)))
    for name, v in rows:
        ours = v["iotplot"]
        ratios = [f"{ours / v[p]:.2f}" if v[p] else "inf" for p in peers]
        print(f"| {name} | {ours:,.1f} | " + " | ".join(f"{v[p]:,.1f}" for p in peers) +
              " | " + " | ".join(ratios) + " |")
    for n in notes:
        print(f"\n{n}")


if __name__ == "__main__":
    main()
