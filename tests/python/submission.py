#!/usr/bin/env python3
"""Submission checks with Python's smtplib: which mechanism smtplib picks,
AUTH LOGIN explicitly (with and without an initial response), AUTH refused
before STARTTLS, and sender ownership (MAIL FROM and From:).

Usage: submission.py --submission HOST:PORT --user ADDR --password PW
                     --other ADDR --rcpt ADDR
"""

import argparse
import smtplib
import ssl
import sys
import uuid


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def message(sender, to, subject):
    return (
        f"From: <{sender}>\r\nTo: <{to}>\r\nSubject: {subject}\r\n"
        f"Message-ID: <{uuid.uuid4()}@submission.py>\r\n\r\n{subject}\r\n"
    )


def connect(addr, tls=True):
    host, _, port = addr.rpartition(":")
    s = smtplib.SMTP(host, int(port), timeout=30)
    s.ehlo("submission.example")
    if tls:
        s.starttls(context=tls_context())
        s.ehlo("submission.example")
    return s


def main():
    p = argparse.ArgumentParser()
    for f in ("submission", "user", "password", "other", "rcpt"):
        p.add_argument("--" + f, required=True)
    a = p.parse_args()

    # Before STARTTLS: no AUTH offered, and AUTH is refused.
    s = connect(a.submission, tls=False)
    check(not s.has_extn("auth"), "AUTH advertised before STARTTLS")
    code, _ = s.docmd("AUTH", "LOGIN")
    check(code >= 500, f"AUTH LOGIN before STARTTLS answered {code}")
    s.close()

    # smtplib.login prefers CRAM-MD5, PLAIN, LOGIN: here it picks PLAIN.
    s = connect(a.submission)
    mechs = s.esmtp_features["auth"].split()
    check("PLAIN" in mechs and "LOGIN" in mechs, f"AUTH offers {mechs}")
    s.set_debuglevel(0)
    s.login(a.user, a.password)
    s.sendmail(a.user, [a.rcpt], message(a.user, a.rcpt, "py-plain"))
    s.quit()

    # LOGIN explicitly, with the initial response and without it.
    for ir in (True, False):
        s = connect(a.submission)
        s.user, s.password = a.user, a.password
        code, _ = s.auth("LOGIN", s.auth_login, initial_response_ok=ir)
        check(code == 235, f"AUTH LOGIN (initial response {ir}) answered {code}")
        s.sendmail(a.user, [a.rcpt], message(a.user, a.rcpt, f"py-login-{ir}"))
        s.quit()

    # A wrong password with LOGIN.
    s = connect(a.submission)
    s.user, s.password = a.user, a.password + "-wrong"
    try:
        s.auth("LOGIN", s.auth_login)
        fail("AUTH LOGIN with a wrong password accepted")
    except smtplib.SMTPAuthenticationError as e:
        check(e.smtp_code == 535, f"wrong password answered {e.smtp_code}")
    s.close()

    # Sending as someone else: MAIL FROM, then the From: header.
    s = connect(a.submission)
    s.login(a.user, a.password)
    try:
        s.sendmail(a.other, [a.rcpt], message(a.other, a.rcpt, "py-spoof-envelope"))
        fail("MAIL FROM another user accepted")
    except smtplib.SMTPSenderRefused as e:
        check(e.smtp_code == 553, f"MAIL FROM another user answered {e.smtp_code}")
    s.rset()
    try:
        s.sendmail(a.user, [a.rcpt], message(a.other, a.rcpt, "py-spoof-header"))
        fail("From: another user accepted")
    except smtplib.SMTPDataError as e:
        check(e.smtp_code == 553, f"From: another user answered {e.smtp_code}")
    s.quit()
    print("submission.py: ok")


if __name__ == "__main__":
    main()
