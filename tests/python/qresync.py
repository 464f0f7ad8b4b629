#!/usr/bin/env python3
"""A client that resyncs with CONDSTORE and QRESYNC (RFC 7162), written with
Python's standard imaplib and raw commands: it appends messages, remembers
UIDVALIDITY and HIGHESTMODSEQ, lets a second connection flag and expunge,
then reselects with QRESYNC and checks VANISHED (EARLIER) and the changed
flags, UID FETCH (CHANGEDSINCE VANISHED) and a conditional STORE.

Usage: qresync.py --imap HOST:PORT --user ADDR --password PW
Exits non-zero on the first failed check.
"""

import argparse
import imaplib
import re
import time

from imapcheck import check, fail, login


def raw(m, name, *args):
    """Runs a command imaplib has no method for; returns (typ, data) and
    leaves the untagged responses in m.untagged_responses."""
    m.untagged_responses.clear()
    typ, data = m._simple_command(name, *args)
    return typ, data


def untagged(m, name):
    return [x.decode() if isinstance(x, bytes) else x for x in m.untagged_responses.get(name, [])]


def number(m, code):
    vals = untagged(m, code)
    check(vals, f"no {code} response")
    return int(vals[0])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--imap", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    a = p.parse_args()

    box = "QResync%d" % int(time.time() * 1000)
    m = login(a)
    typ, data = m.capability()
    check(typ == "OK" and b"QRESYNC" in data[0].split() and b"CONDSTORE" in data[0].split(),
          f"CONDSTORE and QRESYNC not advertised after login: {data}")
    m.create(box)
    for i in range(1, 7):
        msg = (f"From: <{a.user}>\r\nTo: <{a.user}>\r\nSubject: resync {i}\r\n"
               "Date: Mon, 02 Jan 2006 15:04:05 +0000\r\n\r\nbody\r\n")
        typ, _ = m.append(box, None, None, msg.encode())
        check(typ == "OK", f"APPEND {i}: {typ}")
    m.untagged_responses.clear()
    typ, data = m.enable("QRESYNC")
    check(typ == "OK" and untagged(m, "ENABLED") == ["QRESYNC"], f"ENABLE QRESYNC: {typ} {untagged(m, 'ENABLED')}")
    typ, _ = raw(m, "SELECT", box)
    check(typ == "OK", f"SELECT: {typ}")
    uidvalidity = number(m, "UIDVALIDITY")
    highest = number(m, "HIGHESTMODSEQ")
    m.state = "SELECTED"
    m.logout()

    # Another connection flags 2 and 4 and expunges 3 and 5.
    o = login(a)
    typ, _ = o.select(box)
    check(typ == "OK", f"SELECT (second connection): {typ}")
    o.uid("STORE", "2,4", "+FLAGS", "(\\Flagged)")
    o.uid("STORE", "3,5", "+FLAGS", "(\\Deleted)")
    typ, _ = o.expunge()
    check(typ == "OK", f"EXPUNGE: {typ}")

    m = login(a)
    m.enable("QRESYNC")
    typ, data = raw(m, "SELECT", box, f"(QRESYNC ({uidvalidity} {highest} 1:6))")
    check(typ == "OK", f"SELECT QRESYNC: {typ} {data}")
    m.state = "SELECTED"
    vanished = untagged(m, "VANISHED")
    check(vanished == ["(EARLIER) 3,5"], f"VANISHED after QRESYNC: {vanished}")
    fetches = untagged(m, "FETCH")
    changed = {}
    for f in fetches:
        g = re.search(r"UID (\d+) FLAGS \(([^)]*)\) MODSEQ \((\d+)\)", f)
        check(g, f"FETCH without UID FLAGS MODSEQ: {f}")
        changed[int(g.group(1))] = (g.group(2), int(g.group(3)))
    check(sorted(changed) == [2, 4], f"changed messages: {changed}")
    check(all(fl == "\\Flagged" for fl, _ in changed.values()), f"flags: {changed}")
    now = number(m, "HIGHESTMODSEQ")
    check(now > highest, f"HIGHESTMODSEQ {now} not above {highest}")

    # The same from UID FETCH (CHANGEDSINCE VANISHED).
    m.untagged_responses.clear()
    typ, data = m.uid("FETCH", "1:*", "(FLAGS) (CHANGEDSINCE %d VANISHED)" % highest)
    check(typ == "OK", f"UID FETCH VANISHED: {typ}")
    check(untagged(m, "VANISHED") == ["(EARLIER) 3,5"], f"UID FETCH VANISHED: {untagged(m, 'VANISHED')}")

    # A conditional STORE: message 2 changed after `highest`.
    typ, data = raw(m, "UID", "STORE", "2", "(UNCHANGEDSINCE %d) +FLAGS" % highest, "(\\Seen)")
    check(typ == "OK" and b"[MODIFIED 2]" in data[-1], f"conditional STORE: {typ} {data}")

    # A mod-sequence of 2^63 is BAD; so is a QRESYNC before ENABLE.
    try:
        m.uid("FETCH", "1:*", "(FLAGS) (CHANGEDSINCE 9223372036854775808)")
        fail("CHANGEDSINCE 2^63 accepted")
    except imaplib.IMAP4.error:
        pass
    m.logout()
    n = login(a)
    try:
        raw(n, "SELECT", box, f"(QRESYNC ({uidvalidity} {highest}))")
        fail("QRESYNC without ENABLE accepted")
    except imaplib.IMAP4.error:
        pass
    n.logout()
    o.logout()
    print("ok")


if __name__ == "__main__":
    main()
