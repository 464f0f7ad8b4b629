package sieve

import "time"

// ActionKind is what one action does with the message.
type ActionKind int

const (
	// Keep files the message into INBOX (explicit or implicit keep).
	Keep ActionKind = iota
	// FileInto files the message into Mailbox.
	FileInto
	// Redirect sends the message on to Address.
	Redirect
	// Reject refuses the message with a DSN carrying Reason (RFC 5429).
	Reject
	// Vacation answers the sender (RFC 5230), see Action.Vacation.
	Vacation
)

// Action is one thing the script asks for. Discard is no action: a
// message nothing keeps, files or redirects is dropped.
type Action struct {
	Kind     ActionKind
	Mailbox  string   // Keep: "INBOX"; FileInto: the target
	Create   bool     // FileInto :create (RFC 5490)
	Flags    []string // IMAP flags to set (RFC 5232); Keep and FileInto
	Address  string   // Redirect
	Copy     bool     // :copy (RFC 3894): does not cancel the implicit keep
	Reason   string   // Reject
	Extended bool     // Reject came from ereject
	Implicit bool     // Keep: no action cancelled the implicit keep
	Vacation *VacationReply
}

// VacationReply is the reply a vacation action asks for (RFC 5230).
// Whether to send it is for ShouldReply and the caller's memory of
// earlier replies under Handle.
type VacationReply struct {
	Period    time.Duration // :days or :seconds, clamped by Limits.MaxDays
	Subject   string
	From      string
	Addresses []string
	MIME      bool
	Handle    string
	Reason    string
}

// Result is the outcome of one run: the actions in the order the script
// gave them, the implicit keep last when it was not cancelled.
type Result struct {
	Actions []Action
}
