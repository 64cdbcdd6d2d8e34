"""The client library (through a C driver, not the CLI) against a real mosquitto speaking
MQTT 5.0: subscription options, topic aliases, QoS 2, properties, session and outbox."""
import os

import iptest


def main():
    driver = os.path.join(os.environ["IOTPLOT_BUILD"], "tests", "interop", "client", "client_lib_driver")
    res = iptest.Results()

    def run_driver():
        with iptest.mosquitto() as (port, _):
            r = iptest.run([driver, str(port)], timeout=60)
        print(r.stdout, end="")
        if r.returncode != 0 or "all passed" not in r.stdout:
            raise AssertionError(f"exit {r.returncode}: {r.stdout.strip().splitlines()[-1:]} {r.stderr}")

    res.check("library against mosquitto 5.0", run_driver)
    res.finish()


if __name__ == "__main__":
    main()
