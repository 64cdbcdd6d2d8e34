"""Acknowledgement by the application (manual ack) against a real mosquitto, MQTT 3.1.1
and 5.0, QoS 1 and 2: with a kept session, a message the application has not acknowledged
is redelivered (DUP) after a reconnect; once acknowledged it is not."""
import os

import iptest


def main():
    driver = os.path.join(os.environ["IOTPLOT_BUILD"], "tests", "interop", "client",
                          "client_ack_driver")
    res = iptest.Results()

    def run_driver(version, qos):
        with iptest.mosquitto() as (port, _):
            r = iptest.run([driver, str(port), str(version), str(qos)], timeout=60)
        print(r.stdout, end="")
        if r.returncode != 0 or "all passed" not in r.stdout:
            raise AssertionError(f"exit {r.returncode}: {r.stdout.strip().splitlines()[-1:]} {r.stderr}")

    for version, name in ((4, "3.1.1"), (5, "5.0")):
        for qos in (1, 2):
            res.check(f"manual ack, MQTT {name}, QoS {qos}", run_driver, version, qos)
    res.finish()


if __name__ == "__main__":
    main()
