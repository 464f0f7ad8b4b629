#!/usr/bin/env python3
"""A client that appends several messages in one command, MULTIAPPEND (RFC
3502), written with Python's standard imaplib for the session and raw
commands on its socket for the APPENDs imaplib cannot send (one literal per
command): synchronizing literals, LITERAL+ ones (RFC 7888), a command that
fails on its second message (a bad date-time, a literal over APPENDLIMIT)
and stores none of its messages, APPENDUID (RFC 4315) naming every UID,
and the flags and dates of each message as it was sent.

Usage: multiappend.py --imap HOST:PORT --user ADDR --password PW
Exits non-zero on the first failed check.
"""

import argparse
import re
import time

from imapcheck import check, fail, login


def line(m):
    b = m.readline()
    check(b, "connection closed")
    return b.decode("utf-8", "replace").rstrip("\r\n")


def until_tagged(m, tag):
    """Reads responses up to the tagged one; returns it."""
    while True:
        ln = line(m)
        if ln.startswith(tag + " "):
            return ln


def message(subject):
    return (f"From: <a@example.org>\r\nSubject: {subject}\r\n"
            "Date: Mon, 02 Jan 2006 15:04:05 +0000\r\n\r\nbody\r\n").encode()


def multiappend(m, tag, box, parts, sync=True):
    """Sends APPEND box with parts, each (options, data), waiting for each
    continuation request of a synchronizing literal; returns the tagged
    response, early if the server answers instead of a continuation."""
    head = f"{tag} APPEND {box}".encode()
    for opts, data in parts:
        lit = b"{%d}" % len(data) if sync else b"{%d+}" % len(data)
        m.send(head + (b" " + opts if opts else b"") + b" " + lit + b"\r\n")
        if sync:
            ln = line(m)
            if not ln.startswith("+"):
                check(ln.startswith(tag + " "), f"want a continuation or {tag}'s answer: {ln}")
                return ln
        head = data
    m.send(head + b"\r\n")
    return until_tagged(m, tag)


def count(m, box):
    typ, data = m.status(box, "(MESSAGES UIDNEXT)")
    check(typ == "OK", f"STATUS {box}: {typ}")
    g = re.search(rb"MESSAGES (\d+) UIDNEXT (\d+)", data[0])
    return int(g.group(1)), int(g.group(2))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--imap", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    a = p.parse_args()

    box = "Multi%d" % int(time.time() * 1000)
    m = login(a)
    typ, data = m.capability()
    caps = data[0].split()
    check(typ == "OK" and b"MULTIAPPEND" in caps, f"MULTIAPPEND not advertised after login: {data}")
    limit = [int(c.split(b"=")[1]) for c in caps if c.startswith(b"APPENDLIMIT=")]
    check(limit, f"no APPENDLIMIT: {data}")
    m.create(box)

    # Three messages, synchronizing literals, flags and a date on two.
    ok = multiappend(m, "X1", box, [
        (b"(\\Seen)", message("one")),
        (b'(\\Flagged $Label1) "08-Dec-2026 10:00:00 +0000"', message("two")),
        (b"", message("three")),
    ])
    g = re.match(r"X1 OK \[APPENDUID (\d+) (\d+):(\d+)\]", ok)
    check(g, f"MULTIAPPEND: {ok}")
    first, last = int(g.group(2)), int(g.group(3))
    check(last - first == 2, f"APPENDUID names {first}:{last}, want three UIDs")
    check(count(m, box) == (3, last + 1), f"after MULTIAPPEND: {count(m, box)}")

    # A bad date-time before the second message: BAD, nothing stored.
    bad = multiappend(m, "X2", box, [(b"", message("four")), (b'"8-Dec-2026"', message("five"))])
    check(bad.startswith("X2 BAD"), f"bad date-time: {bad}")
    check(count(m, box) == (3, last + 1), f"after a MULTIAPPEND with a bad date: {count(m, box)}")

    # The second literal over APPENDLIMIT: refused before it is sent.
    m.send(b"X3 APPEND " + box.encode() + b" {%d}\r\n" % len(message("six")))
    check(line(m).startswith("+"), "no continuation for the first message")
    m.send(message("six") + b" {%d}\r\n" % (limit[0] + 1))
    big = until_tagged(m, "X3")
    check(big.startswith("X3 NO [TOOBIG]"), f"over APPENDLIMIT: {big}")
    check(count(m, box) == (3, last + 1), f"after a MULTIAPPEND over APPENDLIMIT: {count(m, box)}")

    # LITERAL+: sent without waiting.
    ok = multiappend(m, "X4", box, [(b"", message("seven")), (b"(\\Draft)", message("eight"))], sync=False)
    g = re.match(r"X4 OK \[APPENDUID \d+ (\d+):(\d+)\]", ok)
    check(g and int(g.group(1)) == last + 1 and int(g.group(2)) == last + 2, f"LITERAL+ MULTIAPPEND: {ok}")

    # What was stored is what was sent, message by message.
    typ, _ = m.select(box, readonly=True)
    check(typ == "OK", f"EXAMINE: {typ}")
    typ, data = m.uid("FETCH", "1:*", "(FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    check(typ == "OK", f"FETCH: {typ}")
    got = []
    for d in data:
        if isinstance(d, tuple):
            meta, body = d[0].decode(), d[1].decode()
            subj = body.strip().split(": ", 1)[1]
            flags = re.search(r"FLAGS \(([^)]*)\)", meta).group(1)
            date = re.search(r'INTERNALDATE "([^"]*)"', meta).group(1)
            got.append((subj, flags, date))
    want = ["one", "two", "three", "seven", "eight"]
    check([s for s, _, _ in got] == want, f"subjects {got}, want {want}")
    check(got[0][1] == "\\Seen", f"flags of one: {got[0]}")
    check(sorted(got[1][1].split()) == ["$Label1", "\\Flagged"], f"flags of two: {got[1]}")
    check(got[1][2] == "08-Dec-2026 10:00:00 +0000", f"date of two: {got[1]}")
    check(got[4][1] == "\\Draft", f"flags of eight: {got[4]}")
    typ, _ = m.noop()
    check(typ == "OK", "NOOP after the MULTIAPPENDs")
    m.logout()
    print("ok")


if __name__ == "__main__":
    main()
