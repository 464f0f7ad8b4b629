// Package imapgw serves the mailbox index over IMAP: IMAP4rev1 (RFC 3501)
// and IMAP4rev2 (RFC 9051) on the gateway's own protocol engine (package
// engine, over package wire), one handler per command group, with IDLE
// (RFC 2177), NAMESPACE (RFC 2342), UIDPLUS (RFC 4315), MULTIAPPEND (RFC
// 3502, all or none), MOVE (RFC 6851),
// SPECIAL-USE and CREATE-SPECIAL-USE (RFC 6154), ESEARCH (RFC 4731),
// SEARCHRES (RFC 5182), LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819),
// LITERAL+ (RFC 7888), UNSELECT (RFC 3691), ENABLE (RFC 5161),
// STATUS=SIZE (RFC 8438), APPENDLIMIT (RFC 7889), CHILDREN (RFC 3348),
// BINARY (RFC 3516), ID (RFC 2971), UNAUTHENTICATE (RFC 8437), SORT and
// THREAD=ORDEREDSUBJECT and THREAD=REFERENCES (RFC 5256), SORT=DISPLAY
// (RFC 5957), ESORT, CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267: PARTIAL,
// UPDATE and CANCELUPDATE, context.go) (sort.go, ordering in package
// sortthread), CONDSTORE and QRESYNC (RFC 7162, condstore.go:
// mod-sequences, FETCH CHANGEDSINCE, STORE UNCHANGEDSINCE, SEARCH MODSEQ,
// SELECT QRESYNC with VANISHED from the index's tombstones, narrowed by
// known-uids and the message sequence match data; a resync reads no
// object), OBJECTID (RFC 8474, with the EMAILID and THREADID search
// keys; THREADID is NIL), PREVIEW (RFC 8970),
// QUOTA (RFC 9208, the storage resource), WITHIN (RFC 5032: OLDER and
// YOUNGER), SAVEDATE (RFC 8514: FETCH SAVEDATE, SAVEDBEFORE, SAVEDON,
// SAVEDSINCE, SAVEDATESUPPORTED) and, when Config.Compress is set,
// COMPRESS=DEFLATE (RFC 4978).
//
// SEARCH, SORT and THREAD compile the keys the client sent into a search
// program of our own (criteria.go, searchNode): every key of RFC 9051 and
// RFC 3501 and those of the extensions above, with "$" of SEARCHRES; at
// most wire.MaxSearchKeys keys nested at most wire.DefaultDepth deep, else
// BAD. Flags, sizes, INTERNALDATE, save dates, ages and mod-sequences are
// answered from the index entry's head, header keys from its summary.
//
// APPEND, MULTIAPPEND and COPY are refused NO [OVERQUOTA] when what they
// add would take the user over its storage quota (for an APPEND, before
// the continuation request of each message, counting the command's
// earlier messages); MOVE never is: a move between the user's mailboxes
// moves each entry and its size from one mailbox to the other in one
// step of the index, so the usage (the sum of the mailboxes' sizes) does
// not change, and a user at the limit can still clear a mailbox into
// Trash.
// STARTTLS (RFC 9051 section 6.2.1) on the plain port, implicit TLS (RFC
// 8314) on the other.
//
// Listing a mailbox never reads a message body (invariant 5): FLAGS, UID,
// ENVELOPE, BODYSTRUCTURE, RFC822.SIZE, INTERNALDATE, BODY[HEADER] and the
// header SEARCH keys, SORT and THREAD are answered from the index entry
// (its Summary and per-recipient Prefix). Only body sections and BODY/TEXT searches read the
// blob store, through a small bounded cache; a partial fetch of a larger
// object reads only its range (ranged.go), and a section the summary does
// not locate is cut from the message in memory (section.go). Response
// codes come from RFC 5530 (EXPUNGEISSUED, OVERQUOTA, TOOBIG) and RFC 6154
// (USEATTR). A handler's *imap.Error is the answer as it is; any other
// error is logged once and answered NO [SERVERBUG].
//
// Every session keeps its own view of the selected mailbox (the UIDs the
// client knows, in sequence order, and the mod-sequence each was last
// reported at); Poll and IDLE compare it with the index to report new
// messages, flag changes and expunges made by any process. A SEARCH or
// SORT with RETURN (UPDATE) is kept in the view too, at most 8 per
// session: when the mailbox changed, Poll runs it again from the index
// (UPDATE of a search that would read objects, BODY or TEXT, or that
// names sequence numbers is refused NOUPDATE) and sends ADDTO and
// REMOVEFROM for how its result changed; SELECT, EXAMINE, CLOSE and
// UNSELECT end them all.
package imapgw
