package message

import (
	"net/mail"
	"regexp"
	"strings"
	"time"
)

// extraDateLayouts are forms seen in the wild that net/mail.ParseDate
// (RFC 5322 section 3.3 and its obsolete syntax) rejects.
var extraDateLayouts = []string{
	"2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04 -0700",
	"2 Jan 2006 15:04:05 MST",
	"2 Jan 2006 15:04:05",
	"2 Jan 06 15:04:05 -0700",
	"2 Jan 06 15:04:05",
	"2 January 2006 15:04:05 -0700",
	"Jan 2 2006 15:04:05 -0700",
	"Jan 2 15:04:05 2006",       // asctime, after the weekday is gone
	"Jan 2 15:04:05 MST 2006",   // date(1)
	"Jan 2 15:04:05 -0700 2006", // date(1) variant
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2 Jan 2006",
}

var (
	dateComment = regexp.MustCompile(`\([^()]*\)`)
	dateGMTZone = regexp.MustCompile(`(?i)\b(?:GMT|UTC|UT)([+-]\d{1,2}):?(\d{2})?$`)
	dateWeekday = regexp.MustCompile(`(?i)^[a-z]+,?\s+`)
)

// parseDate parses a Date: header leniently. It returns the zero time when
// nothing sensible can be made of it, or when the year does not fit in four
// digits (JSON and IMAP cannot carry it).
func parseDate(v string) time.Time {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}
	}
	// net/mail reads "GMT+2" as a zone named so, with the clock in GMT.
	if dateGMTZone.MatchString(v) {
		return sensibleDate(parseOddDate(v))
	}
	t, err := mail.ParseDate(v)
	if err != nil {
		t = parseOddDate(v)
	}
	return sensibleDate(t)
}

// parseOddDate tries harder on a date net/mail refused: comments, a weekday
// without comma, GMT+1 zones, dots, extra spaces, ISO 8601, asctime.
func parseOddDate(v string) time.Time {
	if len(v) > 200 {
		return time.Time{}
	}
	v = dateComment.ReplaceAllString(v, " ")
	v = strings.Join(strings.Fields(v), " ")
	if m := dateWeekday.FindString(v); m != "" && !startsWithMonth(v) {
		v = v[len(m):]
	}
	v = strings.TrimRight(v, " .,")
	if m := dateGMTZone.FindStringSubmatch(v); m != nil {
		h, mm := m[1], m[2]
		if len(h) == 2 {
			h = h[:1] + "0" + h[1:]
		}
		if mm == "" {
			mm = "00"
		}
		v = v[:len(v)-len(m[0])] + h + mm
	}
	for _, l := range extraDateLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t
		}
	}
	return time.Time{}
}

func startsWithMonth(v string) bool {
	if len(v) < 3 {
		return false
	}
	_, err := time.Parse("Jan", v[:3])
	return err == nil && (len(v) == 3 || v[3] == ' ')
}

// sensibleDate drops dates JSON (RFC 3339) cannot encode.
func sensibleDate(t time.Time) time.Time {
	if t.IsZero() || t.Year() < 1 || t.Year() > 9999 {
		return time.Time{}
	}
	if _, off := t.Zone(); off <= -24*3600 || off >= 24*3600 || off%60 != 0 {
		t = t.UTC()
	}
	return t
}
