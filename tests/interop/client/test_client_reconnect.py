"""Reconnect: mosquitto (with persistence, so sessions survive) is frozen, killed and
restarted under a running `iotplot pub -l` and `iotplot sub`. Messages the publisher had
sent but not had acknowledged are re-sent after the reconnect, lines written while the
broker is away wait in the outbox and drain in order, the subscriber's session and a
clean subscriber's subscriptions come back, and nothing is lost."""
import contextlib
import os
import signal
import subprocess
import time

import iptest
from clienttest import BIN, Proc, sub

H = iptest.HOST


def broker(d, port):
    # autosave every second: a SIGKILL then loses at most the last second of sessions.
    conf = f"persistence true\npersistence_location {d}/\nautosave_interval 1\n"
    return iptest.mosquitto(conf, port=port, workdir=d)


def saved_after(db, t):
    """Wait for two autosaves that began after t, so that the database holds every session
    that existed at t: a kill before that restarts mosquitto without them, and a subscriber
    whose session was lost misses what is published before it has subscribed again."""
    def mtime():
        try:
            return os.stat(db).st_mtime
        except FileNotFoundError:
            return 0
    iptest.eventually(lambda: mtime() > t, 30, what=f"an autosave of {db}")
    first = mtime()
    iptest.eventually(lambda: mtime() > first, 30, what=f"a second autosave of {db}")


def first_seen(lines):
    seen, order = set(), []
    for l in lines:
        if l not in seen:
            seen.add(l)
            order.append(l)
    return order


def write_lines(p, lines):
    p.p.stdin.write("".join(l + "\n" for l in lines))
    p.p.stdin.flush()


def kill_restart(v, qos, persistent_args):
    with iptest.tempdir() as d:
        os.chmod(d, 0o777)  # mosquitto may drop root privileges and must write its database
        port = iptest.free_port()
        with contextlib.ExitStack() as stack:
            _, proc = stack.enter_context(broker(d, port))
            s = sub(port, "-V", v, "-q", qos, "-c", "-i", f"rsub-{v}", *persistent_args,
                    "-t", "r/#", "-k", "5")
            stack.callback(s.stop)
            clean = sub(port, "-V", v, "-q", "1", "-t", "r/#", "-k", "5")
            stack.callback(clean.stop)
            p = Proc([BIN, "pub", "-h", H, "-p", str(port), "-d", "-V", v, "-q", qos, "-c",
                      "-i", f"rpub-{v}", *persistent_args, "-t", "r/x", "-l", "-k", "5"],
                     stdin=subprocess.PIPE)
            stack.callback(p.stop)
            want = [f"m{i}" for i in range(30)]
            write_lines(p, want[:10])
            s.wait_out(10)
            saved_after(os.path.join(d, "mosquitto.db"), time.time())
            # Frozen broker: the next lines are sent but never acknowledged.
            proc.send_signal(signal.SIGSTOP)
            write_lines(p, want[10:20])
            time.sleep(0.5)
            proc.kill()
            proc.wait(iptest.TIMEOUT)
            p.wait_err("connection lost")
            # Broker away: these wait in the outbox.
            write_lines(p, want[20:])
            time.sleep(0.3)
            stack.enter_context(broker(d, port))
            s.wait_out(30, timeout=30)
            iptest.eventually(lambda: len(first_seen(s.out)) >= 30, 30, what="all 30 messages")
            iptest.expect_eq(first_seen(s.out), want, "messages in order, none lost")
            p.p.stdin.close()
            code, _, err = p.finish(30)
            iptest.expect_eq(code, 0, f"pub exit ({err})")
            if sum("connected" in l for l in err) < 2:
                raise AssertionError(f"pub did not reconnect: {err}")
            # The clean subscriber resubscribed by itself after the restart.
            clean.wait_err("resubscribed")
            iptest.run([BIN, "pub", "-h", H, "-p", str(port), "-t", "r/marker", "-m", "after",
                        "-q", "1"], check=True)
            iptest.eventually(lambda: "after" in clean.out, what=f"clean sub got marker {clean.out[-3:]}")


def main():
    res = iptest.Results()
    res.check("3.1.1 QoS 1: kill and restart mid-stream", kill_restart, "mqttv311", "1", [])
    res.check("5.0 QoS 2: kill and restart mid-stream", kill_restart, "mqttv5", "2", ["-x", "600"])
    res.finish()


if __name__ == "__main__":
    main()
