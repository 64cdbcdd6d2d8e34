"""Interop: MQTT.js (npm `mqtt`, run with node) against `iotplot broker`, 3.1.1 and 5.0."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ["IOTPLOT_SRC"], "tests", "wire", "broker"))
import iptest  # noqa: E402
from wire import Broker  # noqa: E402

src = os.environ["IOTPLOT_SRC"]
modules = os.path.join(src, "tests", "node", "node_modules")
if not os.path.isdir(os.path.join(modules, "mqtt")):
    sys.exit("MQTT.js is missing: run scripts/deps.sh test (npm ci in tests/node)")


def mqttjs():
    with Broker() as b:
        env = dict(os.environ, NODE_PATH=modules)
        r = subprocess.run(["node", os.path.join(os.path.dirname(__file__), "mqttjs.js"),
                            str(b.port)], env=env, capture_output=True, text=True, timeout=60)
        print(r.stdout, end="")
        if r.returncode != 0:
            raise AssertionError(f"node exited {r.returncode}: {r.stdout[-500:]} {r.stderr[-500:]}")


r = iptest.Results()
r.check("mqttjs", mqttjs)
r.finish()
