package sieve

import (
	"strings"
)

// recipientFields are where the user's address must appear for a
// vacation reply (RFC 5230 section 4.5).
var recipientFields = []string{"to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc"}

// listFields mark mail from a list (RFC 2369, RFC 2919).
var listFields = []string{"list-id", "list-help", "list-unsubscribe", "list-subscribe", "list-post", "list-owner", "list-archive"}

// ShouldReply reports whether v may answer msg, whose recipient owns the
// addresses own. It never answers the null sender, the user's own
// addresses, automatic or list mail, nor mail that does not name the
// user as a recipient (RFC 5230 sections 4.5 and 5, RFC 3834 section 2).
// It does not know about earlier replies: the caller remembers Handle.
func (v *VacationReply) ShouldReply(msg *Message, own []string) bool {
	sender := strings.ToLower(msg.From)
	if sender == "" || automaticSender(sender) {
		return false
	}
	mine := map[string]bool{}
	for _, a := range append(append([]string{}, own...), v.Addresses...) {
		mine[strings.ToLower(a)] = true
	}
	if mine[sender] {
		return false
	}
	if as := msg.values("auto-submitted", false); len(as) > 0 && !strings.EqualFold(firstToken(as[0]), "no") {
		return false
	}
	for _, p := range msg.values("precedence", false) {
		switch strings.ToLower(strings.TrimSpace(p)) {
		case "bulk", "list", "junk":
			return false
		}
	}
	for _, f := range listFields {
		if len(msg.values(f, false)) > 0 {
			return false
		}
	}
	for _, f := range recipientFields {
		for _, a := range msg.addresses(f) {
			if mine[strings.ToLower(a)] {
				return true
			}
		}
	}
	return false
}

// automaticSender reports whether addr belongs to software rather than
// a person (RFC 5230 section 4.5 lists these local parts).
func automaticSender(addr string) bool {
	local, _ := addressPart(addr, "localpart")
	switch {
	case local == "mailer-daemon", local == "listserv", local == "majordomo",
		strings.HasPrefix(local, "owner-"), strings.HasSuffix(local, "-request"):
		return true
	}
	return false
}

func firstToken(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " \t;("); i >= 0 {
		s = s[:i]
	}
	return s
}
