#!/usr/bin/env python3
"""An independent client for bucketmail: the end-to-end scenario driven with
Python's standard smtplib (STARTTLS), imaplib (STARTTLS) and poplib (STLS).

The accounts must exist (tests/python_test.go creates them with the admin
commands). Exits non-zero on the first failed check.

Usage: scenario.py --smtp HOST:PORT --imap HOST:PORT --pop3 HOST:PORT
                   --alice ADDR --alice-pass PW --bob ADDR --bob-pass PW
                   --alias ADDR --catchall-domain DOMAIN --max-size BYTES
"""

import argparse
import email
import imaplib
import poplib
import smtplib
import ssl
import sys
import time
import uuid

DELIVERY_TIMEOUT = 30.0  # seconds an accepted message may take to appear


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def hostport(s):
    host, _, port = s.rpartition(":")
    return host, int(port)


def tls_context():
    # The server's certificate is self-signed.
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def message(sender, to, subject, body):
    return (
        f"From: <{sender}>\r\nTo: <{to}>\r\nSubject: {subject}\r\n"
        f"Message-ID: <{uuid.uuid4()}@scenario.py>\r\n"
        "Date: Mon, 02 Jan 2006 15:04:05 +0000\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"\r\n{body}\r\n"
    )


def smtp(addr):
    s = smtplib.SMTP(*hostport(addr), timeout=30)
    s.ehlo("scenario.example")
    check(s.has_extn("starttls"), "SMTP does not offer STARTTLS")
    s.starttls(context=tls_context())
    s.ehlo("scenario.example")
    return s


def expect_refused(s, rcpt, code, what):
    try:
        s.sendmail("py@remote.example", [rcpt], message("py@remote.example", rcpt, what, what))
    except smtplib.SMTPRecipientsRefused as e:
        got = e.recipients[rcpt][0]
        check(got == code, f"{what}: RCPT {rcpt} got {got}, want {code}")
        s.rset()
        return
    fail(f"{what}: RCPT {rcpt} was accepted, want {code}")


def test_smtp(a, run):
    s = smtp(a.smtp)
    expect_refused(s, "nobody-" + run + "@" + a.alice.split("@")[1], 550, "unknown user")
    expect_refused(s, "someone@elsewhere.example", 554, "relay")
    big = message("py@remote.example", a.alice, "big", "x" * 70 + "\r\n") * 1
    big = big + ("y" * 78 + "\r\n") * (a.max_size // 80 + 10)
    try:
        s.sendmail("py@remote.example", [a.alice], big)
        fail("an oversize message was accepted")
    except smtplib.SMTPResponseException as e:
        check(e.smtp_code == 552, f"oversize message got {e.smtp_code}, want 552")
    except smtplib.SMTPServerDisconnected:
        fail("server disconnected on an oversize message instead of answering 552")
    s.quit()

    s = smtp(a.smtp)
    local, domain = a.alice.split("@")
    sends = [
        (a.alice, f"py direct {run}"),
        (f"{local}+tag@{domain}", f"py plus {run}"),
        (a.alias, f"py alias {run}"),
        (f"whoever@{a.catchall_domain}", f"py catchall {run}"),
    ]
    for rcpt, subject in sends:
        refused = s.sendmail("py@remote.example", [rcpt], message("py@remote.example", rcpt, subject, "body of " + subject))
        check(not refused, f"{rcpt} refused: {refused}")
    s.quit()


def imap_login(a, user, password):
    m = imaplib.IMAP4(*hostport(a.imap), timeout=30)
    m.starttls(ssl_context=tls_context())
    m.login(user, password)
    return m


def subjects(m, mailbox):
    typ, _ = m.select(mailbox)
    check(typ == "OK", f"SELECT {mailbox}: {typ}")
    typ, data = m.uid("SEARCH", None, "ALL")
    check(typ == "OK", f"UID SEARCH: {typ}")
    out = {}
    for uid in data[0].split():
        typ, resp = m.uid("FETCH", uid, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        check(typ == "OK", f"UID FETCH {uid}: {typ}")
        hdr = email.message_from_bytes(resp[0][1])
        out[hdr["Subject"]] = uid
    return out


def wait_subjects(a, user, password, want):
    m = imap_login(a, user, password)
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while True:
        got = subjects(m, "INBOX")
        if all(w in got for w in want):
            return m, got
        if time.monotonic() > deadline:
            fail(f"{user} INBOX has {sorted(got)}, want {sorted(want)}")
        time.sleep(0.1)


def test_imap(a, run):
    m, got = wait_subjects(a, a.alice, a.alice_pass, [f"py direct {run}", f"py plus {run}", f"py alias {run}"])
    typ, resp = m.uid("FETCH", got[f"py direct {run}"], "(BODY.PEEK[])")
    check(typ == "OK", "FETCH BODY[]")
    raw = resp[0][1]
    check(b"Received: " in raw, "served message lacks the Received line")
    check(f"body of py direct {run}".encode() in raw, "served message lacks its body")

    draft = message(a.alice, a.bob, f"py draft {run}", "draft body").encode()
    typ, _ = m.append("Drafts", "(\\Draft)", imaplib.Time2Internaldate(time.time()), draft)
    check(typ == "OK", f"APPEND: {typ}")
    drafts = subjects(m, "Drafts")
    check(f"py draft {run}" in drafts, f"Drafts after APPEND: {drafts}")
    typ, _ = m.uid("MOVE", drafts[f"py draft {run}"], "Archive")
    check(typ == "OK", f"UID MOVE: {typ}")
    check(f"py draft {run}" not in subjects(m, "Drafts"), "draft still in Drafts after MOVE")
    archive = subjects(m, "Archive")
    check(f"py draft {run}" in archive, f"Archive after MOVE: {archive}")
    typ, _ = m.uid("STORE", archive[f"py draft {run}"], "+FLAGS.SILENT", "(\\Deleted)")
    check(typ == "OK", f"UID STORE: {typ}")
    typ, data = m.expunge()
    check(typ == "OK" and data and data[0] is not None, f"EXPUNGE: {typ} {data}")
    check(f"py draft {run}" not in subjects(m, "Archive"), "draft still in Archive after EXPUNGE")
    m.logout()

    try:
        imap_login(a, a.alice, a.alice_pass + "-wrong")
        fail("IMAP LOGIN with a wrong password succeeded")
    except imaplib.IMAP4.error:
        pass


def test_sort(a, run):
    # SORT and THREAD (RFC 5256) through imaplib's sort and thread, on
    # messages of a mailbox of their own; the orders are worked out from
    # the RFC's rules by hand.
    m = imap_login(a, a.alice, a.alice_pass)
    box = f"Sorted-{run}"
    check(m.create(box)[0] == "OK", "CREATE")
    msgs = [  # hour of the Date, subject, extra header lines
        (3, "Plans", ""),
        (1, "Re: Plans", f"References: <p1-{run}@scenario.py>\r\n"),
        (2, "Other", ""),
        (4, "Fwd: other", ""),
    ]
    for i, (hour, subject, extra) in enumerate(msgs, 1):
        raw = (
            f"From: <{a.alice}>\r\nTo: <{a.bob}>\r\nSubject: {subject}\r\n"
            f"Message-ID: <p{i}-{run}@scenario.py>\r\n{extra}"
            f"Date: Mon, 02 Jan 2006 {hour:02d}:00:00 +0000\r\n\r\nbody {i}\r\n"
        )
        typ, _ = m.append(box, None, None, raw.encode())
        check(typ == "OK", f"APPEND {i}: {typ}")
    check(m.select(box, readonly=True)[0] == "OK", "SELECT")
    for criteria, want in (("(DATE)", b"2 3 1 4"), ("(REVERSE DATE)", b"4 1 3 2"), ("(SUBJECT)", b"3 4 1 2")):
        typ, data = m.sort(criteria, "UTF-8", "ALL")
        check(typ == "OK" and data == [want], f"SORT {criteria}: {typ} {data}, want {want}")
    # REFERENCES: 2 replies to 1; 4 ("Fwd: other") joins 3 by subject.
    # ORDEREDSUBJECT: "plans" (2 first, 1h) before "other" (3 first, 2h).
    for alg, want in (("REFERENCES", b"(3 4)(1 2)"), ("ORDEREDSUBJECT", b"(2 1)(3 4)")):
        typ, data = m.thread(alg, "UTF-8", "ALL")
        check(typ == "OK" and data == [want], f"THREAD {alg}: {typ} {data}, want {want}")
    try:
        m.sort("(NOSUCHKEY)", "UTF-8", "ALL")
        fail("SORT by an unknown key succeeded")
    except imaplib.IMAP4.error:
        pass
    m.logout()


def pop3_login(a, user, password):
    p = poplib.POP3(*hostport(a.pop3), timeout=30)
    p.stls(context=tls_context())
    p.user(user)
    p.pass_(password)
    return p


def test_pop3(a, run):
    # bob gets the alias and the catch-all message.
    m, _ = wait_subjects(a, a.bob, a.bob_pass, [f"py alias {run}", f"py catchall {run}"])
    m.logout()
    p = pop3_login(a, a.bob, a.bob_pass)
    count, _ = p.stat()
    check(count >= 2, f"STAT = {count}, want >= 2")
    uidl = [line.split()[1] for line in p.uidl()[1]]
    check(len(set(uidl)) == count, f"UIDL not unique: {uidl}")
    _, lines, _ = p.retr(1)
    check(any(l.startswith(b"Subject: ") for l in lines), "RETR 1 lacks a Subject")
    p.dele(1)
    p.quit()

    p = pop3_login(a, a.bob, a.bob_pass)
    after, _ = p.stat()
    check(after == count - 1, f"STAT after DELE+QUIT = {after}, want {count - 1}")
    rest = [line.split()[1] for line in p.uidl()[1]]
    check(rest == uidl[1:], f"UIDL after DELE = {rest}, want {uidl[1:]}")
    p.quit()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name in ("smtp", "imap", "pop3", "alice", "alice-pass", "bob", "bob-pass", "alias", "catchall-domain"):
        ap.add_argument("--" + name, required=True)
    ap.add_argument("--max-size", type=int, required=True)
    a = ap.parse_args()
    run = uuid.uuid4().hex[:8]
    for step in (test_smtp, test_imap, test_sort, test_pop3):
        step(a, run)
        print("ok", step.__name__)
    print("PASS")


if __name__ == "__main__":
    main()
