// Package wire reads IMAP client commands and writes server responses: the
// protocol layer of the IMAP gateway, below the session and the command
// handlers, written from RFC 9051 (IMAP4rev2) and RFC 3501 (IMAP4rev1).
//
// # Reader
//
// Reader.ReadCommand turns the bytes of one command into a Command: its tag,
// its name (with the UID prefix as a flag) and its arguments as a typed
// value per command (see Command). The grammar is RFC 9051 section 9 and
// RFC 3501 section 9, with the extensions' ABNF:
//
//   - literals (RFC 9051 section 4.3): synchronizing {n}, LITERAL+ {n+} and
//     LITERAL- {n-} (RFC 7888), literal8 ~{n} in APPEND (RFC 3516 section
//     4.4). Before the data of a literal is read the Literal callback may
//     refuse it; an accepted synchronizing literal gets its continuation
//     request through the Continue callback. APPEND messages are streamed
//     to the caller (Append.Message, Reader.NextMessage), never held;
//     argument literals are read into memory within the caps.
//   - caps (Limits): line length, argument literal size, APPEND message
//     size, bytes held per command, nesting depth of lists and search keys;
//     each is checked before the memory it guards is allocated.
//   - a command that does not parse is read to its end, the rest of its
//     non-synchronizing literals included, and returned as an *Error with
//     its tag (KindSyntax: answer BAD); nothing after the error is taken as
//     a command, and the next ReadCommand reads the next command. An
//     unknown command is KindUnknown (answer BAD, go on); a line or a
//     non-synchronizing literal over the caps is KindFatal (answer BYE and
//     close: its end cannot be found without reading it).
//   - strings: atoms, quoted strings with their escapes, literals, astrings,
//     nstrings; NUL is refused everywhere but in literal8. Mailbox names are
//     returned as sent; DecodeMailbox decodes modified UTF-7 (RFC 3501
//     section 5.1.3) strictly, refuses 8-bit names unless the client enabled
//     UTF8=ACCEPT (RFC 6855) or speaks IMAP4rev2, where "&" is plain.
//
// Commands and what is parsed of them:
//
//   - any state: CAPABILITY, NOOP, LOGOUT, ID (RFC 2971), ENABLE (RFC 5161)
//   - not authenticated: STARTTLS, LOGIN, AUTHENTICATE with an initial
//     response (SASL-IR, RFC 4959; the exchange's lines are read with
//     ReadLine and DecodeSASL)
//   - authenticated: SELECT and EXAMINE with CONDSTORE and QRESYNC
//     (uidvalidity modseq known-uids (seq-set uid-set)) (RFC 7162 section
//     3.2.5), CREATE with USE (RFC 6154), DELETE, RENAME, SUBSCRIBE,
//     UNSUBSCRIBE, LIST with selection options, several patterns and
//     return options including STATUS (RFC 5258, RFC 5819), LSUB, STATUS,
//     APPEND with flags, date-time and MULTIAPPEND (RFC 3502), NAMESPACE,
//     IDLE (RFC 2177; DONE is read with ReadLine), COMPRESS (RFC 4978),
//     GETQUOTAROOT, GETQUOTA and SETQUOTA (RFC 9208), UNAUTHENTICATE
//     (RFC 8437)
//   - selected: CHECK, CLOSE, UNSELECT, EXPUNGE, UID EXPUNGE, COPY, MOVE
//     (RFC 6851), FETCH with the macros ALL, FAST and FULL, every fetch-att
//     of RFC 9051 including BODY[section]<o.n>, BODY.PEEK, BINARY[part]<o.n>,
//     BINARY.PEEK and BINARY.SIZE (RFC 3516), MODSEQ, PREVIEW (RFC 8970),
//     EMAILID and THREADID (RFC 8474), SAVEDATE (RFC 8514), and the
//     modifiers CHANGEDSINCE and VANISHED (RFC 7162); STORE with
//     UNCHANGEDSINCE; SEARCH with RETURN (RFC 4731, SAVE of RFC 5182,
//     CONTEXT, PARTIAL and UPDATE of RFC 5267), CHARSET, every key of RFC 9051 and RFC 3501 (NEW, OLD, RECENT), nesting,
//     OR and NOT, sequence sets including "$", MODSEQ with an entry name
//     (RFC 7162), OLDER and YOUNGER (RFC 5032), SAVEDBEFORE, SAVEDON,
//     SAVEDSINCE and SAVEDATESUPPORTED (RFC 8514), EMAILID and THREADID;
//     SORT with RETURN (RFC 5256, RFC 5267), CANCELUPDATE (RFC 5267) and
//     THREAD (RFC 5256); each of COPY, MOVE, FETCH, STORE, SEARCH, SORT,
//     THREAD and EXPUNGE with UID.
//
// The reader does not check the state a command is allowed in, nor
// whether an extension is enabled; that is the session's. Not parsed yet:
// the commands of ACL (RFC 4314), METADATA (RFC 5464) and NOTIFY (RFC
// 5465), which are unknown commands (BAD, and the session goes on); APPEND
// with CATENATE (RFC 4469), the negative PARTIAL ranges (RFC 9394) and
// the search key FUZZY (RFC 6203), which are syntax errors. LITERAL-'s
// 4,096-byte cap on non-synchronizing literals (RFC 7888 section 5) is
// Limits.NonSync, off by default (LITERAL+).
//
// # Writer
//
// Writer writes responses (RFC 9051 section 7): status responses with
// response codes, untagged data, continuation requests, and the values of
// the grammar: atoms, numbers, quoted strings or literals as the content
// needs, literal8 for binary data with NUL (RFC 3516 section 4.3), NIL,
// nstrings, lists, mailbox names (modified UTF-7 unless UTF8 is set),
// ENVELOPE and BODYSTRUCTURE from go-imap's imap types (RFC 9051 section
// 7.5.2), LIST and LSUB, ESEARCH (RFC 4731), VANISHED (RFC 7162) and
// FETCH items (FetchResponse), with the origin of a partial
// section: BODY[2]<0>, BINARY[1]<0> (RFC 3516 section 4.2; RFC 9051 lost it
// from its grammar, erratum 7246). Source routes of addresses are not kept
// by imap.Address and are written as NIL.
//
// The Writer holds what it is given until Flush (or until 16 KiB are held),
// so that a command's responses leave together; under it the gateway's
// connection (internal/batchconn) gathers them further until the session
// reads again.
package wire
