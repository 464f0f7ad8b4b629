// Package wire reads IMAP client commands and writes server responses: the
// protocol layer of the IMAP gateway, below the session and the command
// handlers, written from RFC 9051 (IMAP4rev2) and RFC 3501 (IMAP4rev1).
package wire
