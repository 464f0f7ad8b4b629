#!/usr/bin/env python3
"""A client that keeps a search up to date (RFC 5267 CONTEXT=SEARCH and
CONTEXT=SORT), written with Python's standard imaplib: one connection holds
UID SEARCH and UID SORT with RETURN (UPDATE) while a second one stores
flags, appends and expunges; the first checks the ADDTO and REMOVEFROM it
is sent against what the second did, then PARTIAL and CANCELUPDATE.

Usage: context.py --imap HOST:PORT --user ADDR --password PW
Exits non-zero on the first failed check.
"""

import argparse
import imaplib
import re
import time

from imapcheck import check, fail, login

imaplib.Commands["CANCELUPDATE"] = ("SELECTED",)
imaplib.Commands["SORT"] = ("SELECTED",)


def esearch(m):
    """Takes the ESEARCH responses received so far, as text."""
    typ, data = m.response("ESEARCH")
    m.untagged_responses.pop("ESEARCH", None)
    return [d.decode() for d in data if d]


def tag_of(line):
    return re.match(r'\(TAG "([^"]+)"\)', line).group(1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--imap", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    a = p.parse_args()

    m = login(a)
    typ, data = m.capability()
    caps = data[0].split()
    check(b"CONTEXT=SEARCH" in caps and b"CONTEXT=SORT" in caps, f"CONTEXT not advertised: {data}")

    box = "Context%d" % int(time.time() * 1000)
    check(m.create(box)[0] == "OK", "CREATE")
    for subject in ("cherry", "apple", "banana"):
        msg = f"From: <{a.user}>\r\nSubject: {subject}\r\n\r\nbody\r\n"
        check(m.append(box, None, None, msg.encode())[0] == "OK", f"APPEND {subject}")
    check(m.select(box)[0] == "OK", "SELECT")

    # PARTIAL: the second and third by subject, past the end nothing.
    m.untagged_responses.clear()
    typ, _ = m.uid("SORT", "RETURN", "(PARTIAL 2:3)", "(SUBJECT)", "UTF-8", "ALL")
    got = esearch(m)
    check(typ == "OK" and len(got) == 1 and got[0].endswith("UID PARTIAL (2:3 3,1)"), f"SORT PARTIAL 2:3: {got}")
    typ, _ = m.uid("SEARCH", "RETURN", "(PARTIAL 4:9)", "ALL")
    got = esearch(m)
    check(typ == "OK" and got[0].endswith("PARTIAL (4:9 NIL)"), f"SEARCH PARTIAL 4:9: {got}")

    typ, _ = m.uid("SEARCH", "RETURN", "(ALL UPDATE)", "UNSEEN")
    got = esearch(m)
    check(typ == "OK" and got[0].endswith("UID ALL 1:3"), f"SEARCH UPDATE: {got}")
    search_tag = tag_of(got[0])
    typ, _ = m.uid("SORT", "RETURN", "(ALL UPDATE)", "(SUBJECT)", "UTF-8", "UNSEEN")
    got = esearch(m)
    check(typ == "OK" and got[0].endswith("UID ALL 2:3,1"), f"SORT UPDATE: {got}")
    sort_tag = tag_of(got[0])

    other = login(a)
    check(other.select(box)[0] == "OK", "second SELECT")
    other.store("3", "+FLAGS", "(\\Seen)")
    other.append(box, None, None, f"From: <{a.user}>\r\nSubject: aardvark\r\n\r\nx\r\n".encode())
    m.noop()
    got = esearch(m)
    want = [f'(TAG "{search_tag}") UID REMOVEFROM (0 3) ADDTO (0 4)',
            f'(TAG "{sort_tag}") UID REMOVEFROM (2 3)',
            f'(TAG "{sort_tag}") UID ADDTO (1 4)']
    check(got == want, f"after STORE and APPEND: {got}, want {want}")

    other.store("1", "+FLAGS", "(\\Deleted)")
    other.expunge()
    m.noop()
    got = esearch(m)
    want = [f'(TAG "{search_tag}") UID REMOVEFROM (0 1)',
            f'(TAG "{sort_tag}") UID REMOVEFROM (3 1)']
    check(got == want, f"after EXPUNGE: {got}, want {want}")

    typ, data = m._simple_command("CANCELUPDATE", f'"{search_tag}"')
    check(typ == "OK", f"CANCELUPDATE: {typ} {data}")
    other.uid("STORE", "2", "+FLAGS", "(\\Seen)")  # apple
    m.noop()
    got = esearch(m)
    want = [f'(TAG "{sort_tag}") UID REMOVEFROM (2 2)']
    check(got == want, f"after CANCELUPDATE: {got}, want {want}")

    other.logout()
    m.close()
    m.delete(box)
    m.logout()
    print("ok")


if __name__ == "__main__":
    main()
