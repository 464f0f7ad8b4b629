package edge

import "github.com/emersion/go-smtp"

// Reply codes (RFC 5321 section 4.2.3) with their enhanced status codes
// (RFC 3463). Replies are *smtp.SMTPError values returned unwrapped, because
// go-smtp only recognises a bare *smtp.SMTPError.
const (
	c250OK                = 250 // RFC 5321 4.2.2: requested action completed
	c451LocalError        = 451 // RFC 5321 4.2.2: local error in processing
	c452TooManyRecipients = 452 // RFC 5321 4.5.3.1.10
	c452NoStorage         = 452 // RFC 5321 4.2.2: insufficient system storage
	c454TempAuthFailure   = 454 // RFC 4954 6: temporary authentication failure
	c530AuthRequired      = 530 // RFC 4954 6: authentication required
	c535AuthFailed        = 535 // RFC 4954 6: authentication credentials invalid
	c550MailboxUnavail    = 550 // RFC 5321 4.2.2: mailbox unavailable
	c552TooBig            = 552 // RFC 5321 4.2.2 and RFC 1870 6.1: exceeded storage allocation
	c553BadMailbox        = 553 // RFC 5321 4.2.2: mailbox name not allowed
	c554Failed            = 554 // RFC 5321 4.2.2: transaction failed
)

// Enhanced status codes (RFC 3463 section 3, RFC 5248).
var (
	e200Other           = smtp.EnhancedCode{2, 0, 0}
	e215DestValid       = smtp.EnhancedCode{2, 1, 5} // destination address valid
	e511BadDestMailbox  = smtp.EnhancedCode{5, 1, 1} // bad destination mailbox address
	e513BadDestSyntax   = smtp.EnhancedCode{5, 1, 3} // bad destination mailbox address syntax
	e430SystemIncapable = smtp.EnhancedCode{4, 3, 0} // other or undefined mail system status
	e453TooManyRcpts    = smtp.EnhancedCode{4, 5, 3} // too many recipients
	e422MailboxFull     = smtp.EnhancedCode{4, 2, 2} // mailbox full (RFC 3463 section 3.3)
	e534TooBig          = smtp.EnhancedCode{5, 3, 4} // message too big for system
	e517BadSenderSyntax = smtp.EnhancedCode{5, 1, 7} // bad sender's mailbox address syntax
	e560Media           = smtp.EnhancedCode{5, 6, 0} // other or undefined media error
	e570Security        = smtp.EnhancedCode{5, 7, 0} // other security status
	e571Denied          = smtp.EnhancedCode{5, 7, 1} // delivery not authorized
	e578AuthInvalid     = smtp.EnhancedCode{5, 7, 8} // authentication credentials invalid
	e470TempSecurity    = smtp.EnhancedCode{4, 7, 0} // temporary security failure
)

func reply(code int, ec smtp.EnhancedCode, msg string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: ec, Message: msg}
}

// Replies the edge gives. They are never wrapped.
var (
	errTempFailure       = reply(c451LocalError, e430SystemIncapable, "Temporary failure, please try again later")
	errUnknownUser       = reply(c550MailboxUnavail, e511BadDestMailbox, "No such user here")
	errBadRecipient      = reply(c553BadMailbox, e513BadDestSyntax, "Bad recipient address syntax")
	errRelayDenied       = reply(c554Failed, e571Denied, "Relaying denied")
	errTooManyRecipients = reply(c452TooManyRecipients, e453TooManyRcpts, "Too many recipients")
	errMailboxFull       = reply(c452NoStorage, e422MailboxFull, "Mailbox full, try again later")
	errTooBig            = reply(c552TooBig, e534TooBig, "Message exceeds the maximum size")
	errAuthRequired      = reply(c530AuthRequired, e570Security, "Authentication required")
	errAuthFailed        = reply(c535AuthFailed, e578AuthInvalid, "Authentication credentials invalid")
	errAuthTemp          = reply(c454TempAuthFailure, e470TempSecurity, "Temporary authentication failure")
	errSenderNotOwned    = reply(c553BadMailbox, e571Denied, "Sender address not owned by the authenticated user")
	// RFC 5321 section 4.5.3.1.6 limits lines to 1000 octets; go-smtp
	// tolerates twice that and then ends the connection.
	errLineTooLong = reply(c554Failed, e560Media, "Message has a line too long")
)
