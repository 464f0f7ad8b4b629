package wire

import (
	"errors"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Errors of DecodeMailbox. Answer them NO [CANNOT] (RFC 5530).
var (
	ErrMailboxUTF7  = errors.New("imap wire: mailbox name is not valid modified UTF-7")
	ErrMailbox8Bit  = errors.New("imap wire: 8-bit mailbox name without UTF8=ACCEPT")
	ErrMailboxUTF8  = errors.New("imap wire: mailbox name is not valid UTF-8")
	ErrMailboxCtrl  = errors.New("imap wire: control character in mailbox name")
	errMailboxEmpty = errors.New("imap wire: empty mailbox name")
)

// modified base64 of RFC 3501 section 5.1.3: "," for "/", no padding.
const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,"

var b64Index = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(b64); i++ {
		t[b64[i]] = int8(i)
	}
	return t
}()

// DecodeMailbox turns a mailbox name as a client sent it into UTF-8.
// Without utf8 (IMAP4rev1 without ENABLE UTF8=ACCEPT) the name must be
// 7-bit modified UTF-7 (RFC 3501 section 5.1.3), decoded strictly: an
// unterminated or badly padded shift, an encoded printable character or
// two adjacent shifts are errors, so that one mailbox has one name. With
// utf8 (RFC 6855 section 3, RFC 9051 section 5.1) the name must be UTF-8
// and "&" is a plain character. INBOX is case-insensitive (RFC 9051
// section 5.1) and comes back as "INBOX".
func DecodeMailbox(name string, utf8Mode bool) (string, error) {
	if name == "" {
		return "", errMailboxEmpty
	}
	for i := 0; i < len(name); i++ {
		if isCTL(name[i]) {
			return "", ErrMailboxCtrl
		}
	}
	if strings.EqualFold(name, "INBOX") {
		return "INBOX", nil
	}
	if utf8Mode {
		if !utf8.ValidString(name) {
			return "", ErrMailboxUTF8
		}
		return name, nil
	}
	var b strings.Builder
	for i := 0; i < len(name); {
		c := name[i]
		if c >= 0x80 {
			return "", ErrMailbox8Bit
		}
		if c != '&' {
			b.WriteByte(c)
			i++
			continue
		}
		end := strings.IndexByte(name[i+1:], '-')
		if end < 0 {
			return "", ErrMailboxUTF7
		}
		enc := name[i+1 : i+1+end]
		i += end + 2
		if enc == "" {
			b.WriteByte('&')
			continue
		}
		if i < len(name) && name[i] == '&' && i+1 < len(name) && name[i+1] != '-' {
			return "", ErrMailboxUTF7 // two shifts in a row should be one
		}
		if err := decodeShift(&b, enc); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

// decodeShift decodes the modified base64 between "&" and "-".
func decodeShift(b *strings.Builder, enc string) error {
	var units []uint16
	var acc uint32
	bits := 0
	for i := 0; i < len(enc); i++ {
		v := b64Index[enc[i]]
		if v < 0 {
			return ErrMailboxUTF7
		}
		acc = acc<<6 | uint32(v)
		bits += 6
		if bits >= 16 {
			bits -= 16
			units = append(units, uint16(acc>>bits))
			acc &= 1<<bits - 1
		}
	}
	// What is left must be padding: fewer than 6 bits, all zero.
	if bits >= 6 || acc != 0 || len(units) == 0 {
		return ErrMailboxUTF7
	}
	for i := 0; i < len(units); i++ {
		u := units[i]
		switch {
		case utf16.IsSurrogate(rune(u)):
			if u >= 0xdc00 || i+1 >= len(units) {
				return ErrMailboxUTF7
			}
			r := utf16.DecodeRune(rune(u), rune(units[i+1]))
			if r == utf8.RuneError {
				return ErrMailboxUTF7
			}
			b.WriteRune(r)
			i++
		case u >= 0x20 && u <= 0x7e:
			return ErrMailboxUTF7 // must be sent as itself
		case u < 0x20 || u == 0x7f:
			return ErrMailboxCtrl
		default:
			b.WriteRune(rune(u))
		}
	}
	return nil
}

// EncodeMailbox is the name a client is sent: modified UTF-7 without
// utf8, the UTF-8 name itself with it.
func EncodeMailbox(name string, utf8Mode bool) string {
	if utf8Mode {
		return name
	}
	var b strings.Builder
	for i := 0; i < len(name); {
		c := name[i]
		if c >= 0x20 && c <= 0x7e {
			if c == '&' {
				b.WriteString("&-")
			} else {
				b.WriteByte(c)
			}
			i++
			continue
		}
		j := i
		for j < len(name) && (name[j] < 0x20 || name[j] > 0x7e) {
			_, n := utf8.DecodeRuneInString(name[j:])
			j += n
		}
		b.WriteByte('&')
		encodeShift(&b, name[i:j])
		b.WriteByte('-')
		i = j
	}
	return b.String()
}

func encodeShift(b *strings.Builder, s string) {
	var acc uint32
	bits := 0
	for _, r := range s {
		for _, u := range utf16.AppendRune(nil, r) {
			acc = acc<<16 | uint32(u)
			bits += 16
			for bits >= 6 {
				bits -= 6
				b.WriteByte(b64[acc>>bits&63])
			}
		}
	}
	if bits > 0 {
		b.WriteByte(b64[acc<<(6-bits)&63])
	}
}
