package wire

import (
	"encoding/base64"
	"errors"
)

func parseAuthenticate(p *Reader, cmd *Command) error {
	var a Authenticate
	cmd.Args = &a
	var err error
	if err = p.sp(); err != nil {
		return err
	}
	if a.Mechanism, err = p.keyword(); err != nil || p.eol() {
		return err
	}
	if err = p.sp(); err != nil {
		return err
	}
	// initial-resp = base64 / "=" (RFC 4959 section 7).
	if p.peek() == '=' && p.pos+1 == len(p.line) {
		p.pos++
		a.Initial = []byte{}
		return nil
	}
	a.Initial, err = p.base64()
	return err
}

// base64 reads the rest of the line as base64 (RFC 9051 section 9).
func (p *Reader) base64() ([]byte, error) {
	if p.eol() {
		return nil, p.unexpected("base64")
	}
	b, err := DecodeSASL(string(p.line[p.pos:]))
	if err != nil {
		return nil, errSyntax("bad base64")
	}
	p.pos = len(p.line)
	return b, nil
}

// ErrSASLCancel is a client's "*" in a SASL exchange (RFC 9051 section 6.2.2).
var ErrSASLCancel = errors.New("imap wire: authentication cancelled")

// DecodeSASL decodes a client's SASL response line (the line read by
// ReadLine during AUTHENTICATE): base64, "" for an empty response, or "*"
// for ErrSASLCancel.
func DecodeSASL(line string) ([]byte, error) {
	if line == "*" {
		return nil, ErrSASLCancel
	}
	if line == "" {
		return []byte{}, nil
	}
	b, err := base64.StdEncoding.Strict().DecodeString(line)
	if err != nil {
		return nil, errors.New("imap wire: bad base64")
	}
	return b, nil
}
