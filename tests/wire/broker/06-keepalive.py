"""06: keepalive: closed after 1.5x the keepalive with nothing received, will sent."""
from wire import *


def expiry_v311():
    with Broker() as b:
        w = b.connect("w")
        w.send(subscribe(1, [("ka/#", 0)])).expect(suback(1, [0]))
        c = b.connect("ka", ka=1, will={"topic": "ka/will", "payload": "x"})
        c.expect_closed("closed after 1.5 s of silence")
        w.expect(publish("ka/will", "x"), "will on keepalive expiry")


def expiry_v5():
    with Broker() as b:
        c = b.connect("ka5", V5, ka=1)
        c.expect(server_disconnect(0x8D, "has exceeded timeout, disconnecting")).expect_closed()


def pings_keep_alive():
    with Broker() as b:
        c = b.connect("alive", ka=2)
        for _ in range(6):
            time.sleep(0.5)
            c.sync()


def connect_timeout():
    with Broker() as b:
        c = b.client(timeout=30)
        c.expect_closed("no CONNECT within the 10 s connect timeout")
        b.connect("still-fine").sync()


run([("expiry_v311", expiry_v311), ("connect_timeout", connect_timeout), ("expiry_v5", expiry_v5),
     ("pings_keep_alive", pings_keep_alive)])
