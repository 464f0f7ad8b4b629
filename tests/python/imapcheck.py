"""What the IMAP client scripts here share: a failed check ends the script
with a message on stderr and a non-zero status, and login opens an
imaplib session upgraded with STARTTLS (the test server's certificate is
self-signed) from the --imap, --user and --password arguments."""

import imaplib
import ssl
import sys


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def login(a):
    host, _, port = a.imap.rpartition(":")
    m = imaplib.IMAP4(host, int(port), timeout=30)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # self-signed
    m.starttls(ssl_context=ctx)
    m.login(a.user, a.password)
    return m
