// Package imapgw serves the mailbox index over IMAP: IMAP4rev1 (RFC 3501)
// and IMAP4rev2 (RFC 9051) on top of go-imap's imapserver, with IDLE
// (RFC 2177), NAMESPACE (RFC 2342), UIDPLUS (RFC 4315), MOVE (RFC 6851),
// SPECIAL-USE and CREATE-SPECIAL-USE (RFC 6154), ESEARCH (RFC 4731),
// SEARCHRES (RFC 5182), LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819),
// LITERAL+ (RFC 7888), UNSELECT (RFC 3691), ENABLE (RFC 5161),
// STATUS=SIZE (RFC 8438), APPENDLIMIT (RFC 7889), CHILDREN (RFC 3348) and
// BINARY (RFC 3516). STARTTLS (RFC 9051 section 6.2.1) on the plain port,
// implicit TLS (RFC 8314) on the other.
//
// Listing a mailbox never reads a message body (invariant 5): FLAGS, UID,
// ENVELOPE, BODYSTRUCTURE, RFC822.SIZE, INTERNALDATE, BODY[HEADER] and the
// header SEARCH keys are answered from the index entry (its Summary and
// per-recipient Prefix). Only body sections and BODY/TEXT searches read the
// blob store, through a small bounded cache; a partial fetch of a larger
// object reads only its range (ranged.go). Response codes beyond go-imap's
// come from RFC 5530 (EXPUNGEISSUED) and RFC 6154 (USEATTR).
//
// Every session keeps its own view of the selected mailbox (the UIDs the
// client knows, in sequence order, and the mod-sequence each was last
// reported at); Poll and IDLE compare it with the index to report new
// messages, flag changes and expunges made by any process.
package imapgw
