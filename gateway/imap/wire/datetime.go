package wire

import (
	"strings"
	"time"
)

var months = [...]string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}

// date reads date = date-text / DQUOTE date-text DQUOTE, with date-text =
// date-day "-" date-month "-" date-year (RFC 9051 section 9).
func (p *Reader) date() (time.Time, error) {
	quoted := p.peek() == '"'
	if quoted {
		p.pos++
	}
	day, err := p.digits(1, 2)
	if err != nil {
		return time.Time{}, err
	}
	t, err := p.monthYear(day)
	if err != nil {
		return t, err
	}
	if quoted {
		if err := p.expect('"'); err != nil {
			return t, err
		}
	}
	return t, nil
}

// monthYear reads "-" date-month "-" date-year after the day.
func (p *Reader) monthYear(day int) (time.Time, error) {
	if err := p.expect('-'); err != nil {
		return time.Time{}, err
	}
	if p.pos+3 > len(p.line) {
		return time.Time{}, p.unexpected("month")
	}
	m := strings.ToUpper(string(p.line[p.pos : p.pos+3]))
	month := 0
	for i, name := range months {
		if name == m {
			month = i + 1
		}
	}
	if month == 0 {
		return time.Time{}, errSyntax("bad month %q", m)
	}
	p.pos += 3
	if err := p.expect('-'); err != nil {
		return time.Time{}, err
	}
	year, err := p.digits(4, 4)
	if err != nil {
		return time.Time{}, err
	}
	if day < 1 || day > 31 {
		return time.Time{}, errSyntax("bad day %d", day)
	}
	t := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if t.Day() != day {
		return time.Time{}, errSyntax("no such date")
	}
	return t, nil
}

// dateTime reads date-time = DQUOTE date-day-fixed "-" date-month "-"
// date-year SP time SP zone DQUOTE (RFC 9051 section 9).
func (p *Reader) dateTime() (time.Time, error) {
	if err := p.expect('"'); err != nil {
		return time.Time{}, err
	}
	if p.peek() == ' ' {
		p.pos++ // date-day-fixed = (SP DIGIT) / 2DIGIT
	}
	day, err := p.digits(1, 2)
	if err != nil {
		return time.Time{}, err
	}
	d, err := p.monthYear(day)
	if err != nil {
		return d, err
	}
	var hms [3]int
	for i := range hms {
		sep := byte(':')
		if i == 0 {
			sep = ' '
		}
		if err := p.expect(sep); err != nil {
			return d, err
		}
		if hms[i], err = p.digits(2, 2); err != nil {
			return d, err
		}
	}
	if hms[0] > 23 || hms[1] > 59 || hms[2] > 60 {
		return d, errSyntax("bad time")
	}
	if err := p.sp(); err != nil {
		return d, err
	}
	sign := p.peek()
	if sign != '+' && sign != '-' {
		return d, p.unexpected("zone")
	}
	p.pos++
	zone, err := p.digits(4, 4)
	if err != nil {
		return d, err
	}
	if zone%100 > 59 {
		return d, errSyntax("bad zone")
	}
	off := (zone/100*60 + zone%100) * 60
	if sign == '-' {
		off = -off
	}
	if err := p.expect('"'); err != nil {
		return d, err
	}
	loc := time.FixedZone("", off)
	return time.Date(d.Year(), d.Month(), d.Day(), hms[0], hms[1], hms[2], 0, loc), nil
}

// digits reads min to max decimal digits.
func (p *Reader) digits(min, max int) (int, error) {
	n, i := 0, 0
	for ; i < max && !p.eol() && p.line[p.pos] >= '0' && p.line[p.pos] <= '9'; i++ {
		n = n*10 + int(p.line[p.pos]-'0')
		p.pos++
	}
	if i < min {
		return 0, p.unexpected("digits")
	}
	return n, nil
}
