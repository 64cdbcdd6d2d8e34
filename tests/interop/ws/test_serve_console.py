"""`iotplot serve` with its web console: the page and MQTT over WebSockets on the
console port, and the plot server's files under /plots/ once a device has sent the
classic example."""
import os
import re
import socket
import subprocess

import iptest
from iptest import expect_eq


def get(port, path):
    with socket.create_connection((iptest.HOST, port), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head.decode(errors="replace"), body


def console_and_plots():
    with iptest.tempdir() as d:
        out = os.path.join(d, "plots")
        log = open(os.path.join(d, "serve.log"), "w+")
        p = subprocess.Popen([iptest.binary(), "serve", "-p", "0", "--http-port", "0", "-d", out,
                              "-q"], stdout=log, stderr=subprocess.STDOUT)
        try:
            def ports():
                log.seek(0)
                text = log.read()
                m, h = re.search(r"broker on \S+?:(\d+)", text), re.search(r"console at http://\S+?:(\d+)/", text)
                return (int(m.group(1)), int(h.group(1))) if m and h else None
            mqtt_port, http_port = iptest.eventually(ports, what="serve printed its ports")
            head, body = get(http_port, "/")
            if not head.startswith("HTTP/1.1 200") or b"<html" not in body.lower():
                raise AssertionError(f"console page: {head}")
            r = iptest.run([iptest.binary(), "demo", "--device", "-p", str(mqtt_port), "-s", "demo"],
                           timeout=60)
            expect_eq(r.returncode, 0, f"demo device: {r.stderr}")
            def png():
                head, body = get(http_port, "/plots/example.png")
                return head.startswith("HTTP/1.1 200") and body.startswith(b"\x89PNG") and head
            head = iptest.eventually(png, timeout=30, what="the device's plot under /plots/")
            if "image/png" not in head:
                raise AssertionError(head)
            head, _ = get(http_port, "/plots/../serve.log")
            if head.startswith("HTTP/1.1 200"):
                raise AssertionError("served a file outside the plots folder")
        finally:
            expect_eq(iptest.stop(p), 0, "serve exit code")
            log.close()


results = iptest.Results()
results.check("serve: console page, demo device, its plot under /plots/", console_and_plots)
results.finish()
