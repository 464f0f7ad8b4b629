package sieve

import (
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
)

// dateParts are the date parts of RFC 5260 section 4.2.
var dateParts = map[string]func(t time.Time) string{
	"year":  func(t time.Time) string { return fmt.Sprintf("%04d", t.Year()) },
	"month": func(t time.Time) string { return fmt.Sprintf("%02d", int(t.Month())) },
	"day":   func(t time.Time) string { return fmt.Sprintf("%02d", t.Day()) },
	"date":  func(t time.Time) string { return t.Format("2006-01-02") },
	"julian": func(t time.Time) string {
		// Modified Julian Day: days since 1858-11-17.
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		return strconv.FormatInt(int64(d.Sub(time.Date(1858, 11, 17, 0, 0, 0, 0, time.UTC))/(24*time.Hour)), 10)
	},
	"hour":    func(t time.Time) string { return fmt.Sprintf("%02d", t.Hour()) },
	"minute":  func(t time.Time) string { return fmt.Sprintf("%02d", t.Minute()) },
	"second":  func(t time.Time) string { return fmt.Sprintf("%02d", t.Second()) },
	"time":    func(t time.Time) string { return t.Format("15:04:05") },
	"iso8601": func(t time.Time) string { return t.Format(time.RFC3339) },
	"std11":   func(t time.Time) string { return t.Format("Mon, 02 Jan 2006 15:04:05 -0700") },
	"zone":    func(t time.Time) string { return t.Format("-0700") },
	"weekday": func(t time.Time) string { return strconv.Itoa(int(t.Weekday())) },
}

// parseZone reads a "+hhmm" or "-hhmm" zone (RFC 5260 section 4.1).
func parseZone(z string) (*time.Location, bool) {
	if len(z) != 5 || (z[0] != '+' && z[0] != '-') {
		return nil, false
	}
	h, err1 := strconv.Atoi(z[1:3])
	m, err2 := strconv.Atoi(z[3:5])
	if err1 != nil || err2 != nil || h > 23 || m > 59 {
		return nil, false
	}
	off := h*3600 + m*60
	if z[0] == '-' {
		off = -off
	}
	return time.FixedZone(z, off), true
}

// dateValues returns the date part of the date or currentdate test: of
// the first field with a date that parses (a field that does not parse
// does not match, RFC 5260 section 4), or of the current time. Without
// :zone or :originalzone the time is shown in UTC, the zone this server
// keeps.
func (r *runner) dateValues(t *Test) []string {
	cl := t.call
	var at time.Time
	partArg := 0
	if t.Name == "currentdate" {
		at = r.msg.Now
		if at.IsZero() {
			at = time.Now()
		}
	} else {
		partArg = 1
		for _, v := range pick(r.msg.values(r.expand(cl.pos[0].Strs[0]), false), cl) {
			if i := strings.LastIndexByte(v, ';'); i >= 0 {
				v = v[i+1:] // Received: the date follows the last ";" (RFC 5322 section 3.6.7)
			}
			if d, err := mail.ParseDate(strings.TrimSpace(v)); err == nil {
				at = d
				break
			}
		}
		if at.IsZero() {
			return nil
		}
	}
	switch {
	case cl.has("zone"):
		loc, ok := parseZone(r.expand(cl.str("zone", "")))
		if !ok {
			return nil
		}
		at = at.In(loc)
	case !cl.has("originalzone"):
		at = at.UTC()
	}
	part, ok := dateParts[strings.ToLower(r.expand(cl.pos[partArg].Strs[0]))]
	if !ok {
		return nil
	}
	return []string{part(at)}
}
