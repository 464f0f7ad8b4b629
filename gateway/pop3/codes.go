package pop3

// Status indicators (RFC 1939 section 3).
const (
	statusOK  = "+OK"
	statusErr = "-ERR"
	// continuation starts a SASL challenge line (RFC 5034 section 4).
	continuation = "+ "
)

// Extended response codes, sent in brackets after -ERR.
const (
	// codeInUse: the maildrop is locked by another session (RFC 2449 section 8.1.1).
	codeInUse = "[IN-USE]"
	// codeAuth: the credentials are wrong or not acceptable now (RFC 3206 section 5).
	codeAuth = "[AUTH]"
	// codeSysTemp: a temporary failure on the server (RFC 3206 section 4).
	codeSysTemp = "[SYS/TEMP]"
	// codeSysPerm: a permanent failure on the server (RFC 3206 section 4).
	codeSysPerm = "[SYS/PERM]"
)

// Limits.
const (
	// maxCommandLine is the longest command line, CRLF included (RFC 2449 section 4).
	maxCommandLine = 255
	// maxSASLLine bounds a SASL response line; RFC 5034 section 4 lets it
	// exceed the command limit.
	maxSASLLine = 4096
	// maxBadCommands is how many unknown, malformed or misplaced commands a
	// session may send before it is closed.
	maxBadCommands = 10
	// maxAuthFailures is how many failed logins a session may make.
	maxAuthFailures = 3
)
