// Package engine runs IMAP sessions on the wire package: the loop that
// reads a command, checks it against the connection's state, dispatches it
// and answers it. gateway/imap serves every connection through it.
//
// What it does (RFC 9051 sections 3, 5.4, 6.1 and 6.2):
//
//   - the states not authenticated, authenticated, selected and logout; a
//     command outside its states gets BAD and the session goes on;
//   - an unknown command, or one the configuration does not serve, gets
//     BAD and the session goes on; a command that does not parse gets BAD
//     with nothing of it run (wire.Reader discards the rest of it); only a
//     line or literal over the caps ends the session, with BYE;
//   - timeouts (Timeouts): before login, between commands once
//     authenticated and during IDLE, the last two never below RFC 9051
//     section 5.4's 30 minutes; a timeout or a shutdown (the context of
//     Serve) ends the session with BYE;
//   - CAPABILITY, NOOP, LOGOUT, ID (RFC 2971), ENABLE (RFC 5161; UTF8=ACCEPT
//     of RFC 6855 switches the writer to UTF-8), LOGIN, AUTHENTICATE PLAIN
//     with SASL-IR (RFC 4959), STARTTLS and IDLE (RFC 2177) itself; every
//     other command through Config.Commands;
//   - COMPRESS=DEFLATE (RFC 4978) when Config.Compress is set: after the
//     tagged OK both directions are raw DEFLATE, the server's sync-flushed
//     once per response batch; deflaters are pooled between batches, so
//     an idle compressed connection holds only its inflater (compress.go);
//     data that does not inflate ends the session with BYE;
//   - APPEND messages are checked by Config.CheckAppend before the client
//     sends them (quota, APPENDLIMIT), and refused the same way when APPEND
//     is not allowed in the state.
//
// # Moving the gateway onto it
//
// gateway/imap implemented go-imap's imapserver.Session, the library
// owning the connection, the parser and the response encoding. Steps 1 to
// 4 below are done (search.go and criteria.go compile wire.SearchKey into
// a search program of the gateway's own; MULTIAPPEND inserts its
// messages in one step of the index, each with its idempotency key), and
// of step 5 imapserver is gone, ID, LITERAL+ and UNAUTHENTICATE (with
// Conn.Unauthenticate resetting the connection's state) are answered;
// the rest of step 5 is open. The plan:
//
//  1. Serve: gateway/imap's Server.Serve accepts as today (batchconn, abuse
//     limits, TLS, liveSessions for the BYE of Shutdown) and hands each
//     connection to engine.Server.Serve instead of imapserver. The session
//     struct (session.go) becomes the Conn's Session value, made at login
//     by Config.Login (which keeps abuse.go's failed-login accounting).
//     Timeouts become flags (--imap-prelogin-timeout, --imap-idle-timeout,
//     --imap-idle-command-timeout), Config.Compress one too, and the TLS
//     handshake deadline on 993 stays in abuse.ConnConfig.
//  2. One file per command group, each a Handler taking wire's typed
//     arguments instead of go-imap's options: select.go (SELECT, EXAMINE,
//     UNSELECT, CLOSE, with CONDSTORE/QRESYNC parameters parsed), list.go
//     (LIST, LSUB, with wire.List's selection and return options),
//     mailboxes.go (CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, STATUS),
//     append.go (streams each wire.Message into putMessage; MULTIAPPEND
//     inserts all or none; quota and APPENDLIMIT move into CheckAppend so
//     the refusal comes before the continuation request), fetch.go (reads
//     wire.FetchItem and writes with wire.FetchResponse; msgdata.go's
//     section extraction takes wire.Section; BODY[2]<0> and BINARY[1]<0>
//     get their origin and literal8 from the writer; ENVELOPE goes out
//     with FetchResponse.EnvelopeRouted and Summary.IMAPRoutes, so that
//     source routes reach the client), store.go, copy.go
//     (COPY, MOVE), expunge.go, search.go (compiles wire.SearchKey into
//     its own program, criteria.go; RETURN and SAVE for ESEARCH and SEARCHRES),
//     poll.go (Config.Poll and Config.Idle: the same view comparison,
//     writing EXISTS, EXPUNGE and FETCH FLAGS with the Writer).
//  3. errors.go keeps protoErr: handlers return *imap.Error, which the
//     engine answers as it is; anything else is logged once and answered
//     NO [SERVERBUG].
//  4. Mailbox names go through wire.DecodeMailbox in every handler that
//     takes one, so an invalid modified UTF-7 name is NO [CANNOT] and an
//     8-bit name without UTF8=ACCEPT is refused; wire.EncodeMailbox writes
//     them back.
//  5. When every handler is moved and the transcripts pass against both
//     drivers, imapserver is dropped from go.mod's users (imapclient stays
//     for tests and the benchmark), and the commands the gateway does not
//     answer yet (QUOTA, UNAUTHENTICATE, ID answers, SORT/THREAD,
//     CONDSTORE/QRESYNC, the last now in the gateway's condstore.go, with
//     Config.Enable) are added as handlers (SORT and THREAD ordering is
//     in gateway/imap/sortthread); their syntax is already in
//     wire.
package engine
