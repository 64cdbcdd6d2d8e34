#!/usr/bin/env python3
"""Instructions per delivery of the broker, counted by callgrind, not timed.

    bench/broker/icount.py BUILD_DIR [--scenario pairs|fanin|fanout] [--qos Q]
                           [--small N] [--large N] [--strace]

The broker runs under `valgrind --tool=callgrind` twice on the same load (ipb_loadgen -m:
a fixed number of deliveries, counted from the first); what the larger run costs beyond
the smaller one is the cost of the messages between, with the start, the connections and
the exit cancelled out. Prints instructions per delivery and leaves the larger run's
profile (callgrind.out.*) in the current folder for callgrind_annotate.

--strace runs the broker under `strace -c -f` instead and prints system calls per
delivery (same difference of two runs). --proc runs it bare and reads /proc/PID/io
(read- and write-like system calls, syscr and syscw) and /proc/PID/schedstat (CPU time
of the loop's thread, the one noisy figure) and /proc/PID/stat (that time split into user
and kernel, in clock ticks) before stopping it: neither tool slows the
broker, so its loop turns batch as they do in a real run.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import free_port, wait_port  # noqa: E402 (beside this file)


def run(a, n, d, tag):
    port = free_port()
    conf = os.path.join(d, "bench.conf")
    with open(conf, "w") as f:
        f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\nlog_dest none\n"
                "max_connections -1\n")
    broker = [os.path.join(a.build, "src", "cli", "iotplot"), "broker", "-c", conf]
    out = os.path.join(d, f"{tag}.out")
    if a.strace:
        cmd = ["strace", "-c", "-f", "-o", out] + broker
    elif a.proc:
        cmd = broker
    else:
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"] + broker
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc, seconds=30)  # under valgrind a start is slow
        lg = os.path.join(a.build, "bench", "broker", "ipb_loadgen")
        r = subprocess.run([lg, "-p", str(port), "-s", a.scenario, "-q", str(a.qos),
                            "-m", str(n)], capture_output=True, text=True, timeout=1200)
        if r.returncode:
            sys.exit(f"loadgen: {r.stderr}")
        delivered = json.loads(r.stdout)["delivered"]
        if a.proc:
            calls = {}
            for line in open(f"/proc/{proc.pid}/io"):
                k, v = line.split(":")
                if k in ("syscr", "syscw"):
                    calls[k] = int(v)
            calls["cpu_ns"] = int(open(f"/proc/{proc.pid}/schedstat").read().split()[0])
            # utime and stime, in clock ticks: how the CPU time splits, user against kernel
            st = open(f"/proc/{proc.pid}/stat").read().rsplit(")", 1)[1].split()
            tick = 1e9 / os.sysconf("SC_CLK_TCK")
            calls["user_ns"], calls["sys_ns"] = int(st[11]) * tick, int(st[12]) * tick
            return delivered, calls
    finally:
        # strace runs the broker as its child: the broker is stopped, strace then exits.
        target = proc.pid
        if a.strace:
            kids = open(f"/proc/{proc.pid}/task/{proc.pid}/children").read().split()
            target = int(kids[0]) if kids else proc.pid
        os.kill(target, 15)
        proc.wait(60)
    text = open(out).read()
    if a.strace:
        calls = {}
        for line in text.splitlines():
            f = line.split()
            if len(f) >= 5 and f[-1].isidentifier() and f[3].isdigit():
                calls[f[-1]] = int(f[3])
        return delivered, calls
    m = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
    if tag == "large":
        os.replace(out, f"callgrind.out.{a.scenario}.q{a.qos}")
    return delivered, {"Ir": int(m.group(1))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--scenario", default="pairs")
    ap.add_argument("--qos", type=int, default=1)
    ap.add_argument("--small", type=int, default=20000)
    ap.add_argument("--large", type=int, default=120000)
    ap.add_argument("--strace", action="store_true")
    ap.add_argument("--proc", action="store_true")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        n1, c1 = run(a, a.small, d, "small")
        n2, c2 = run(a, a.large, d, "large")
    dn = n2 - n1
    res = {"scenario": a.scenario, "qos": a.qos, "deliveries": dn}
    for k in sorted(set(c1) | set(c2)):
        v = (c2.get(k, 0) - c1.get(k, 0)) / dn
        if a.strace and abs(v) < 0.001:
            continue
        res[k + "_per_delivery"] = round(v, 1 if k in ("Ir", "cpu_ns", "user_ns", "sys_ns") else 3)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
