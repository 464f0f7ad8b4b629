package wire

import (
	"errors"
	"fmt"
)

// Kind says how a command that could not be read is answered.
type Kind int

const (
	// KindSyntax: the command does not follow the grammar. Answer BAD with
	// the tag (RFC 9051 section 7.1.5) and read the next command.
	KindSyntax Kind = iota
	// KindUnknown: the command name is not one the reader knows. Answer
	// BAD and read the next command.
	KindUnknown
	// KindRefused: the literal callback refused a literal; Err is what it
	// returned. Answer NO (or what Err says) and read the next command.
	KindRefused
	// KindFatal: the connection cannot be read further (a line or a
	// non-synchronizing literal over the cap). Answer BYE and close.
	KindFatal
)

// Error is a command the reader could not turn into a Command. The rest
// of the command, literals included, has been read and discarded unless
// Kind is KindFatal, so the next ReadCommand starts at the next command.
type Error struct {
	Tag     string // "" when the line had no tag: answer untagged
	Command string // upper case, "" if it was not reached
	Kind    Kind
	Code    string // a response code for the answer, e.g. "TOOBIG", or ""
	Msg     string
	Err     error // for KindRefused: the callback's error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return "imap wire: " + e.Msg + ": " + e.Err.Error()
	}
	return "imap wire: " + e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// ErrLineTooLong and ErrLiteralTooBig are the fatal errors' causes, for
// errors.Is.
var (
	ErrLineTooLong   = errors.New("imap wire: line too long")
	ErrLiteralTooBig = errors.New("imap wire: literal too big")
)

// syntaxError is what the parse functions return; ReadCommand turns it
// into an *Error with the tag.
type syntaxError struct {
	code string
	msg  string
}

func (e *syntaxError) Error() string { return e.msg }

func errSyntax(format string, args ...any) error {
	return &syntaxError{msg: fmt.Sprintf(format, args...)}
}

// fatalError ends the connection.
type fatalError struct {
	code string
	err  error
}

func (e *fatalError) Error() string { return e.err.Error() }

// refusedError carries the literal callback's refusal.
type refusedError struct{ err error }

func (e *refusedError) Error() string { return e.err.Error() }
