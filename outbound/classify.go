package outbound

import (
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-smtp"
)

// Enhanced status codes (RFC 3463) we give when the remote gave none.
const (
	codeNoAnswer      = "4.4.1" // no answer from host
	codeBadConnection = "4.4.2" // bad connection
	codeRoutingDNS    = "4.4.3" // directory server failure (DNS)
	codeExpired       = "4.4.7" // delivery time expired
	codeBadDomain     = "5.1.2" // bad destination system address
	codeNullMX        = "5.1.10"
	codeNoUTF8        = "5.6.7" // RFC 6531 section 3.5: non-ASCII address, no SMTPUTF8
	codeOtherPerm     = "5.0.0"
	codeOtherTemp     = "4.0.0"
)

// classify turns an SMTP client error into a result for rcpt. A reply
// code 5yz is permanent, 4yz and anything that is not a reply (a broken
// connection, a timeout) temporary (RFC 5321 section 4.2.1).
func classify(rcpt, mta string, err error) Result {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		r := Result{Rcpt: rcpt, Code: se.Code, Text: fmt.Sprintf("%d %s", se.Code, oneLine(se.Message)), MTA: mta}
		if se.EnhancedCode != (smtp.EnhancedCode{}) && se.EnhancedCode != smtp.NoEnhancedCode {
			e := se.EnhancedCode
			r.Enhanced = fmt.Sprintf("%d.%d.%d", e[0], e[1], e[2])
			r.Text = fmt.Sprintf("%d %s %s", se.Code, r.Enhanced, oneLine(se.Message))
		}
		switch {
		case se.Code >= 500 && se.Code < 600:
			r.Status = Permanent
			if r.Enhanced == "" || r.Enhanced[0] != '5' {
				r.Enhanced = codeOtherPerm
			}
		default:
			r.Status = Temporary
			if r.Enhanced == "" || r.Enhanced[0] != '4' {
				r.Enhanced = codeOtherTemp
			}
		}
		return r
	}
	return Result{Rcpt: rcpt, Status: Temporary, Enhanced: codeBadConnection, Text: oneLine(err.Error()), MTA: mta}
}

// oneLine folds a multi-line reply for a log or a DSN field.
func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\r", "")
	return strings.TrimSpace(strings.ReplaceAll(s, "\n", " "))
}
