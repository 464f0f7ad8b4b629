#!/usr/bin/env python3
"""A client that searches by save date (RFC 8514 SAVEDATE), by age (RFC 5032
WITHIN) and by mod-sequence (RFC 7162 SEARCH MODSEQ), written with Python's
standard imaplib: it appends one message with an old internal date and one
without, then checks SAVEDSINCE, SAVEDBEFORE, YOUNGER, OLDER, FETCH
SAVEDATE and MODSEQ against what it knows of them.

Usage: searchext.py --imap HOST:PORT --user ADDR --password PW
Exits non-zero on the first failed check.
"""

import argparse
import datetime
import imaplib
import re
import time

from imapcheck import check, fail, login


def search(m, *criteria, uid=False):
    """Returns the numbers found and the MODSEQ of "(MODSEQ n)", or None."""
    if uid:
        typ, data = m.uid("SEARCH", *criteria)
    else:
        typ, data = m.search(None, *criteria)
    check(typ == "OK", f"SEARCH {criteria}: {typ} {data}")
    text = b" ".join(d for d in data if d).decode()
    mod = re.search(r"\(MODSEQ (\d+)\)", text)
    nums = [int(n) for n in re.sub(r"\(MODSEQ \d+\)", "", text).split()]
    return nums, int(mod.group(1)) if mod else None


def imap_date(d):
    return d.strftime("%d-%b-%Y")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--imap", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    a = p.parse_args()

    m = login(a)
    typ, data = m.capability()
    caps = data[0].split()
    check(typ == "OK" and b"WITHIN" in caps and b"SAVEDATE" in caps and b"CONDSTORE" in caps,
          f"WITHIN, SAVEDATE and CONDSTORE not advertised after login: {data}")

    box = "Search%d" % int(time.time() * 1000)
    check(m.create(box)[0] == "OK", "CREATE")
    old = datetime.datetime(2020, 1, 1, 10, 0, 0, tzinfo=datetime.timezone.utc)
    for i, when in ((1, old), (2, None)):
        msg = (f"From: <{a.user}>\r\nTo: <{a.user}>\r\nSubject: search {i}\r\n"
               "Date: Mon, 02 Jan 2006 15:04:05 +0000\r\n\r\nbody\r\n")
        date = imaplib.Time2Internaldate(when) if when else None
        typ, _ = m.append(box, None, date, msg.encode())
        check(typ == "OK", f"APPEND {i}: {typ}")
    typ, _ = m.select(box)
    check(typ == "OK", f"SELECT: {typ}")

    # RFC 8514: both were saved today, the first has an old internal date.
    yesterday = imap_date(datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1))
    nums, _ = search(m, "SAVEDSINCE", yesterday)
    check(nums == [1, 2], f"SAVEDSINCE {yesterday}: {nums}")
    nums, _ = search(m, "SAVEDSINCE", yesterday, "BEFORE", "1-Jan-2021")
    check(nums == [1], f"SAVEDSINCE {yesterday} BEFORE 1-Jan-2021: {nums}")
    nums, _ = search(m, "SAVEDBEFORE", yesterday)
    check(nums == [], f"SAVEDBEFORE {yesterday}: {nums}")
    nums, _ = search(m, "SAVEDATESUPPORTED")
    check(nums == [1, 2], f"SAVEDATESUPPORTED: {nums}")
    typ, data = m.fetch("1", "(SAVEDATE)")
    text = b" ".join(d if isinstance(d, bytes) else b"".join(d) for d in data).decode()
    check(typ == "OK" and re.search(r'SAVEDATE "\d\d-\w\w\w-\d{4} ', text), f"FETCH SAVEDATE: {text}")

    # RFC 5032: only the second is younger than an hour.
    nums, _ = search(m, "YOUNGER", "3600")
    check(nums == [2], f"YOUNGER 3600: {nums}")
    nums, _ = search(m, "OLDER", "3600")
    check(nums == [1], f"OLDER 3600: {nums}")
    try:
        typ, data = m.search(None, "YOUNGER", "0")
        fail(f"YOUNGER 0 (not an interval) answered {typ} {data}")
    except imaplib.IMAP4.error:
        pass  # BAD, and the session goes on

    # RFC 7162 section 3.1.5: a flag change raises the message's
    # mod-sequence; SEARCH MODSEQ finds it and says the highest found.
    m.untagged_responses.clear()
    typ, data = m.store("2", "+FLAGS", "(\\Flagged)")
    check(typ == "OK", f"STORE: {typ}")
    nums, mod = search(m, "MODSEQ", "1")
    check(nums == [1, 2] and mod, f"SEARCH MODSEQ 1: {nums} {mod}")
    typ, data = m.fetch("2", "(MODSEQ)")
    got = re.search(rb"MODSEQ \((\d+)\)", b" ".join(d for d in data if isinstance(d, bytes)))
    check(typ == "OK" and got, f"FETCH MODSEQ: {data}")
    flagged = int(got.group(1))
    check(mod == flagged, f"SEARCH MODSEQ 1 says {mod}, the highest is {flagged}")
    nums, mod = search(m, "MODSEQ", str(flagged), uid=True)
    check(nums == [2] and mod == flagged, f"UID SEARCH MODSEQ {flagged}: {nums} {mod}")
    nums, mod = search(m, "MODSEQ", str(flagged + 1))
    check(nums == [] and mod is None, f"SEARCH MODSEQ {flagged + 1}: {nums} {mod}")
    nums, mod = search(m, "SAVEDSINCE", yesterday, "YOUNGER", "3600", "MODSEQ", "1")
    check(nums == [2] and mod == flagged, f"SAVEDSINCE YOUNGER MODSEQ: {nums} {mod}")

    m.close()
    m.delete(box)
    m.logout()
    print("ok")


if __name__ == "__main__":
    main()
