package wire

import (
	"strconv"
	"strings"
)

// NumSet is a sequence-set (RFC 9051 section 9): message sequence numbers
// or UIDs, as the command says. Saved is "$", the result of the last
// SEARCH ... RETURN (SAVE) (RFC 5182); then Ranges is empty.
type NumSet struct {
	Ranges []NumRange
	Saved  bool
}

// NumRange is n, or n:m. Star (0) stands for "*", the largest number in
// use. Start and Stop are as sent: "5:2" is the same set as "2:5".
type NumRange struct{ Start, Stop uint32 }

// Star is "*" in a NumRange.
const Star uint32 = 0

func (s NumSet) hasStar() bool {
	for _, r := range s.Ranges {
		if r.Start == Star || r.Stop == Star {
			return true
		}
	}
	return false
}

// Contains reports whether n is in the set when "*" is max.
func (s NumSet) Contains(n, max uint32) bool {
	for _, r := range s.Ranges {
		lo, hi := r.Start, r.Stop
		if lo == Star {
			lo = max
		}
		if hi == Star {
			hi = max
		}
		if lo > hi {
			lo, hi = hi, lo
		}
		if n >= lo && n <= hi {
			return true
		}
	}
	return false
}

// String is the set in the syntax of the grammar.
func (s NumSet) String() string {
	if s.Saved {
		return "$"
	}
	var b strings.Builder
	num := func(n uint32) {
		if n == Star {
			b.WriteByte('*')
		} else {
			b.WriteString(strconv.FormatUint(uint64(n), 10))
		}
	}
	for i, r := range s.Ranges {
		if i > 0 {
			b.WriteByte(',')
		}
		num(r.Start)
		if r.Stop != r.Start {
			b.WriteByte(':')
			num(r.Stop)
		}
	}
	return b.String()
}

// numSet reads a sequence-set or "$".
func (p *Reader) numSet() (NumSet, error) {
	if p.peek() == '$' {
		p.pos++
		return NumSet{Saved: true}, nil
	}
	var s NumSet
	for {
		lo, err := p.seqNumber()
		if err != nil {
			return s, err
		}
		hi := lo
		if p.peek() == ':' {
			p.pos++
			if hi, err = p.seqNumber(); err != nil {
				return s, err
			}
		}
		s.Ranges = append(s.Ranges, NumRange{lo, hi})
		if p.peek() != ',' {
			return s, nil
		}
		p.pos++
	}
}

// seqNumber reads nz-number / "*".
func (p *Reader) seqNumber() (uint32, error) {
	if p.peek() == '*' {
		p.pos++
		return Star, nil
	}
	if c := p.peek(); c < '0' || c > '9' {
		return 0, p.unexpected("sequence set")
	}
	return p.nzNumber()
}

// isSeqSetStart reports whether a search key here is a sequence set.
func (p *Reader) isSeqSetStart() bool {
	c := p.peek()
	return c == '*' || c == '$' || (c >= '0' && c <= '9')
}
