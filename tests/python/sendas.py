#!/usr/bin/env python3
"""Sending as another user with Python's smtplib: every header variant that
names someone else as author, sender or resender, or names two authors,
must be refused with 553 after DATA; the user's own variants pass.

Usage: sendas.py --submission HOST:PORT --user ADDR --password PW
                 --other ADDR --rcpt ADDR
"""

import argparse
import smtplib
import ssl
import sys


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def main():
    p = argparse.ArgumentParser()
    for f in ("submission", "user", "password", "other", "rcpt"):
        p.add_argument("--" + f, required=True)
    a = p.parse_args()
    user, other = a.user, a.other
    local, domain = user.split("@")
    refused = [
        f"From : <{other}>\r\nFrom: <{user}>\r\n",
        f"From: <{user}>\r\nFrom : <{other}>\r\n",
        f"From: <{user}>\r\nFROM: <{other}>\r\n",
        f"From: <{user}>\r\nFrom: <{local}+x@{domain}>\r\n",
        f"From: <{user}>, <{other}>\r\n",
        f"From: <{user}>\r\nSender: <{other}>\r\n",
        f"Resent-From: <{other}>\r\nFrom: <{user}>\r\n",
        f"Resent-Sender: <{other}>\r\nFrom: <{user}>\r\n",
        f"from\t:\r\n <{other}>\r\n",
        f"Fr om: <{other}>\r\nFrom: <{user}>\r\n",
        f" From: <{other}>\r\nFrom: <{user}>\r\n",
        f"From: {user} <{other}>\r\n",
        f"From: \"{user}\" <{other}>\r\n",
        f"From: =?utf-8?q?{other.replace('@', '=40')}?=\r\n",
        f"From: friends: <{user}>;\r\n",
    ]
    allowed = [
        f"From : <{user}>\r\n",
        f"FROM:\t<{user}>\r\n",
        f"From: =?utf-8?q?Alice_=C3=A9?= <{user}>\r\n",
        f"From: \"{other}\" <{user}>\r\n",
        f"From: <{user}>\r\nSender: <{local}+x@{domain}>\r\n",
        f"Resent-From: <{user}>\r\nFrom: <{user}>\r\n",
    ]
    host, _, port = a.submission.rpartition(":")
    s = smtplib.SMTP(host, int(port), timeout=30)
    s.starttls(context=tls_context())
    s.login(user, a.password)
    for i, header in enumerate(refused):
        msg = f"{header}To: <{a.rcpt}>\r\nSubject: py-sendas-refused-{i}\r\n\r\nx\r\n"
        try:
            s.sendmail(user, [a.rcpt], msg)
            fail(f"accepted: {header!r}")
        except smtplib.SMTPDataError as e:
            if e.smtp_code != 553:
                fail(f"{header!r} answered {e.smtp_code} {e.smtp_error!r}")
        s.rset()
    for i, header in enumerate(allowed):
        msg = f"{header}To: <{a.rcpt}>\r\nSubject: py-sendas-ok-{i}\r\n\r\nx\r\n"
        try:
            s.sendmail(user, [a.rcpt], msg)
        except smtplib.SMTPException as e:
            fail(f"refused: {header!r}: {e}")
    s.quit()
    print(f"sendas.py: {len(refused)} refused, {len(allowed)} accepted: ok")


if __name__ == "__main__":
    main()
