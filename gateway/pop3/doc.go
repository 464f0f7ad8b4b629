// Package pop3 is bucketmail's POP3 server: RFC 1939 (POP3), RFC 2449
// (CAPA and extended response codes), RFC 2595 (STLS), RFC 5034 (SASL AUTH,
// PLAIN only) and RFC 3206 (the SYS and AUTH response codes), over the
// mailbox index (store.Mailboxes) and the blob store. The maildrop is the
// user's INBOX.
//
// Choices worth knowing:
//   - The message list is a snapshot taken at login (RFC 1939 section 4):
//     messages delivered during the session appear in the next one.
//   - STAT, LIST and UIDL are answered from the index alone; only RETR and
//     TOP read the blob store, streaming Prefix + object with dot-stuffing
//     and bare LF turned into CRLF (invariant 5). Sizes are
//     store.Message.Size (prefix + object as stored), so a message stored
//     with bare LF line ends is a little longer on the wire than LIST says,
//     which RFC 1939 section 11 allows.
//   - UIDL is "<UIDVALIDITY>.<UID>" of INBOX: printable, at most 21 octets,
//     stable across sessions and processes (RFC 1939 section 7).
//   - Nothing changes in the index before the UPDATE state (QUIT in the
//     TRANSACTION state). Then messages retrieved with RETR get \Seen (as
//     Dovecot does), and messages marked with DELE get \Deleted and are
//     expunged; objects whose last reference went are deleted. A dropped
//     connection changes nothing. RSET undoes both kinds of marks.
//   - The exclusive maildrop lock RFC 1939 asks for is an in-process lock
//     map, answered with [IN-USE] (RFC 2449 section 8.1.1). Two gateway
//     processes can still open the same maildrop at once; locking across
//     processes comes with the cloud drivers. The index stays consistent
//     either way, since each store call is atomic.
//   - USER/PASS and AUTH PLAIN are refused before TLS unless
//     Config.AllowInsecureAuth (RFC 2595 section 2.1); CAPA then omits them.
package pop3
