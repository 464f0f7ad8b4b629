#!/usr/bin/env python3
"""A ManageSieve client written from RFC 5804 over a raw socket, independent
of the server's code: STARTTLS, AUTHENTICATE "PLAIN", PUTSCRIPT with a
literal, CHECKSCRIPT, SETACTIVE, LISTSCRIPTS, GETSCRIPT, DELETESCRIPT,
LOGOUT. Exits non-zero with a message on the first unexpected answer."""

import argparse
import base64
import re
import socket
import ssl
import sys


class Client:
    def __init__(self, addr):
        host, port = addr.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.f = self.sock.makefile("rb")

    def send(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def response(self):
        """Reads lines up to OK/NO/BYE (RFC 5804 section 4), literals whole."""
        lines = []
        while True:
            line = self.f.readline()
            if not line:
                raise SystemExit("connection closed; so far %r" % lines)
            line = line.rstrip(b"\r\n").decode()
            m = re.fullmatch(r"\{(\d+)\+?\}", line)
            if m:
                lines.append(self.f.read(int(m.group(1))).decode())
                continue
            if re.match(r"^(OK|NO|BYE)\b", line):
                return lines, line
            if line:
                lines.append(line)

    def cmd(self, text, want):
        self.send(text + "\r\n")
        lines, last = self.response()
        if not last.startswith(want):
            raise SystemExit("%s: got %r (%r), want %s" % (text.split("\r\n")[0], last, lines, want))
        return lines, last

    def starttls(self):
        self.cmd("STARTTLS", "OK")
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # the test server's certificate is self-signed
        self.sock = ctx.wrap_socket(self.sock)
        self.f = self.sock.makefile("rb")
        caps, last = self.response()  # RFC 5804 section 2.2: capabilities again
        return caps


def literal(s):
    b = s.encode()
    return "{%d+}\r\n%s" % (len(b), s)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--addr", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    a = p.parse_args()

    c = Client(a.addr)
    caps, last = c.response()
    if not last.startswith("OK") or '"STARTTLS"' not in caps:
        raise SystemExit("greeting without STARTTLS: %r" % caps)
    caps = c.starttls()
    if '"SASL" "PLAIN"' not in caps:
        raise SystemExit("no PLAIN after STARTTLS: %r" % caps)
    sieve = [l for l in caps if l.startswith('"SIEVE"')]
    if not sieve or "fileinto" not in sieve[0] or "vacation" not in sieve[0]:
        raise SystemExit("SIEVE capability: %r" % caps)

    token = base64.b64encode(("\0%s\0%s" % (a.user, a.password)).encode()).decode()
    c.cmd('AUTHENTICATE "PLAIN" "%s"' % token, "OK")

    script = 'require "fileinto";\r\nif header :contains "subject" "[py]" {\r\n  fileinto "Py";\r\n}\r\n'
    c.cmd('HAVESPACE "py" %d' % len(script), "OK")
    c.cmd('PUTSCRIPT "py" ' + literal(script), "OK")
    _, last = c.cmd("CHECKSCRIPT " + literal("keep;\r\nfileinto \"x\";\r\n"), "NO")
    if "line 2" not in last:
        raise SystemExit("CHECKSCRIPT error without its line: %r" % last)
    c.cmd('SETACTIVE "py"', "OK")
    lines, _ = c.cmd("LISTSCRIPTS", "OK")
    if lines != ['"py" ACTIVE']:
        raise SystemExit("LISTSCRIPTS: %r" % lines)
    lines, _ = c.cmd('GETSCRIPT "py"', "OK")
    if lines != [script]:
        raise SystemExit("GETSCRIPT: %r" % lines)
    c.cmd('DELETESCRIPT "py"', "NO (ACTIVE)")
    c.cmd('SETACTIVE ""', "OK")
    c.cmd('DELETESCRIPT "py"', "OK")
    c.cmd("LOGOUT", "OK")
    print("managesieve.py: all checks passed")


if __name__ == "__main__":
    main()
