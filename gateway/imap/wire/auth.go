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

// Login is LOGIN userid password (RFC 9051 section 6.2.3).
type Login struct{ Username, Password string }

// Authenticate is AUTHENTICATE mechanism [initial-response] (RFC 9051
// section 6.2.2, SASL-IR RFC 4959). Initial is nil without an initial
// response and empty for "=".
type Authenticate struct {
	Mechanism string // upper case
	Initial   []byte
}

// Enable is ENABLE capability... (RFC 5161).
type Enable struct{ Caps []string } // upper case

// ID is ID ( field value ... ) or ID NIL (RFC 2971). Params is nil for NIL;
// a NIL value is nil.
type ID struct{ Params []IDParam }

// IDParam is one field of an ID command.
type IDParam struct {
	Key   string
	Value *string
}

// Compress is COMPRESS mechanism (RFC 4978).
type Compress struct{ Mechanism string } // upper case

func parseLogin(p *Reader, cmd *Command) error {
	var a Login
	var err error
	if err = p.sp(); err == nil {
		if a.Username, err = p.astring(); err == nil {
			if err = p.sp(); err == nil {
				a.Password, err = p.astring()
			}
		}
	}
	cmd.Args = &a
	return err
}

func parseEnable(p *Reader, cmd *Command) error {
	var a Enable
	for {
		if err := p.sp(); err != nil {
			if len(a.Caps) > 0 && p.eol() {
				break
			}
			return err
		}
		c, err := p.keyword()
		if err != nil {
			return err
		}
		a.Caps = append(a.Caps, c)
	}
	cmd.Args = &a
	return nil
}

func parseCompress(p *Reader, cmd *Command) error {
	if err := p.sp(); err != nil {
		return err
	}
	m, err := p.keyword()
	cmd.Args = &Compress{Mechanism: m}
	return err
}

func parseID(p *Reader, cmd *Command) error {
	if err := p.sp(); err != nil {
		return err
	}
	var a ID
	cmd.Args = &a
	if p.peek() != '(' {
		v, err := p.nstring()
		if err != nil {
			return err
		}
		if v != nil {
			return errSyntax("expected ( or NIL")
		}
		return nil
	}
	// id_params_list is "(" #(string SPACE nstring) ")": it may be empty.
	a.Params = []IDParam{}
	return p.list(true, func() error {
		k, err := p.str()
		if err != nil {
			return err
		}
		if err := p.sp(); err != nil {
			return err
		}
		v, err := p.nstring()
		a.Params = append(a.Params, IDParam{Key: k, Value: v})
		return err
	})
}
