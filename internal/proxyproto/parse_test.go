package proxyproto

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
)

// v2 builds a v2 header: command, family, address payload, TLVs.
func v2(cmd, fam byte, addrs []byte, tlvs ...[]byte) []byte {
	payload := append([]byte(nil), addrs...)
	for _, t := range tlvs {
		payload = append(payload, t...)
	}
	b := append([]byte(nil), v2Signature...)
	b = append(b, 0x20|cmd, fam)
	b = binary.BigEndian.AppendUint16(b, uint16(len(payload)))
	return append(b, payload...)
}

func tcp4(src, dst string, sp, dp uint16) []byte {
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	b := append(s[:], d[:]...)
	b = binary.BigEndian.AppendUint16(b, sp)
	return binary.BigEndian.AppendUint16(b, dp)
}

func tcp6(src, dst string, sp, dp uint16) []byte {
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	b := append(s[:], d[:]...)
	b = binary.BigEndian.AppendUint16(b, sp)
	return binary.BigEndian.AppendUint16(b, dp)
}

// tlv is a type-length-value entry (section 2.2.7).
func tlv(typ byte, v string) []byte {
	b := []byte{typ}
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}

func TestParse(t *testing.T) {
	const rest = "EHLO client\r\n"
	tests := []struct {
		name     string
		in       []byte
		src, dst string // "" for a LOCAL result
		version  int
		err      error // nil: success
	}{
		{"v1 tcp4", []byte("PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\n"), "192.0.2.1:56324", "198.51.100.2:25", 1, nil},
		{"v1 tcp6", []byte("PROXY TCP6 2001:db8::1 2001:db8::2 65535 587\r\n"), "[2001:db8::1]:65535", "[2001:db8::2]:587", 1, nil},
		{"v1 unknown", []byte("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"), "", "", 1, nil},
		{"v1 unknown bare", []byte("PROXY UNKNOWN\r\n"), "", "", 1, nil},
		{"v1 family mismatch", []byte("PROXY TCP4 2001:db8::1 192.0.2.1 1 2\r\n"), "", "", 0, ErrInvalid},
		{"v1 bad port", []byte("PROXY TCP4 192.0.2.1 192.0.2.2 65536 25\r\n"), "", "", 0, ErrInvalid},
		{"v1 signed port", []byte("PROXY TCP4 192.0.2.1 192.0.2.2 +1 25\r\n"), "", "", 0, ErrInvalid},
		{"v1 leading zero", []byte("PROXY TCP4 192.0.2.1 192.0.2.2 025 25\r\n"), "", "", 0, ErrInvalid},
		{"v1 no CR", []byte("PROXY TCP4 192.0.2.1 192.0.2.2 1 25\n"), "", "", 0, ErrInvalid},
		{"v1 too few fields", []byte("PROXY TCP4 192.0.2.1 192.0.2.2 1\r\n"), "", "", 0, ErrInvalid},
		{"v1 double space", []byte("PROXY TCP4  192.0.2.1 192.0.2.2 1 2\r\n"), "", "", 0, ErrInvalid},
		{"v1 udp", []byte("PROXY UDP4 192.0.2.1 192.0.2.2 1 2\r\n"), "", "", 0, ErrInvalid},
		{"v1 too long", []byte("PROXY UNKNOWN " + strings.Repeat("x", 200) + "\r\n"), "", "", 0, ErrInvalid},
		{"v1 truncated", []byte("PROXY TCP4 192.0.2.1 19"), "", "", 0, io.ErrUnexpectedEOF},
		{"v2 tcp4", v2(cmdProxy, famTCP4, tcp4("203.0.113.7", "10.0.0.1", 40000, 25)), "203.0.113.7:40000", "10.0.0.1:25", 2, nil},
		{"v2 tcp6", v2(cmdProxy, famTCP6, tcp6("2001:db8::7", "2001:db8::1", 1, 993)), "[2001:db8::7]:1", "[2001:db8::1]:993", 2, nil},
		{"v2 tcp4 with TLVs", v2(cmdProxy, famTCP4, tcp4("203.0.113.8", "10.0.0.1", 2, 465),
			tlv(0x01, "smtp"), tlv(0x04, ""), tlv(0x20, strings.Repeat("t", 300))), "203.0.113.8:2", "10.0.0.1:465", 2, nil},
		{"v2 local", v2(cmdLocal, famUnspec, nil), "", "", 2, nil},
		{"v2 local with addresses", v2(cmdLocal, famTCP4, tcp4("203.0.113.9", "10.0.0.1", 3, 25)), "", "", 2, nil},
		{"v2 unspec", v2(cmdProxy, famUnspec, nil), "", "", 2, nil},
		{"v2 udp", v2(cmdProxy, 0x12, tcp4("203.0.113.7", "10.0.0.1", 1, 2)), "", "", 0, ErrInvalid},
		{"v2 unix", v2(cmdProxy, 0x31, make([]byte, 216)), "", "", 0, ErrInvalid},
		{"v2 bad command", v2(0x2, famTCP4, tcp4("203.0.113.7", "10.0.0.1", 1, 2)), "", "", 0, ErrInvalid},
		{"v2 bad version", append(append([]byte(nil), v2Signature...), 0x11, famTCP4, 0, 0), "", "", 0, ErrInvalid},
		{"v2 short address block", v2(cmdProxy, famTCP6, tcp4("203.0.113.7", "10.0.0.1", 1, 2)), "", "", 0, ErrInvalid},
		{"v2 truncated header", v2(cmdProxy, famTCP4, nil)[:14], "", "", 0, io.ErrUnexpectedEOF},
		{"v2 truncated payload", v2(cmdProxy, famTCP4, tcp4("203.0.113.7", "10.0.0.1", 1, 2))[:20], "", "", 0, io.ErrUnexpectedEOF},
		{"wrong signature", []byte("\r\n\r\n\x00\r\nQUIZ\n\x21\x11\x00\x0c" + string(tcp4("203.0.113.7", "10.0.0.1", 1, 2))), "", "", 0, ErrInvalid},
		{"smtp command", []byte("EHLO attacker.example\r\n"), "", "", 0, ErrInvalid},
		{"lower-case proxy", []byte("proxy TCP4 192.0.2.1 192.0.2.2 1 2\r\n"), "", "", 0, ErrInvalid},
		{"empty", nil, "", "", 0, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bufio.NewReader(bytes.NewReader(append(append([]byte(nil), tt.in...), rest...)))
			if tt.err == io.ErrUnexpectedEOF {
				r = bufio.NewReader(bytes.NewReader(tt.in)) // nothing after a truncated header
			}
			h, err := Parse(r)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Parse = %+v, %v; want %v", h, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if h.Version != tt.version {
				t.Errorf("Version = %d, want %d", h.Version, tt.version)
			}
			if tt.src == "" {
				if !h.Local || h.Source != nil || h.Dest != nil {
					t.Errorf("got %+v, want a LOCAL header", h)
				}
			} else if h.Local || h.Source.String() != tt.src || h.Dest.String() != tt.dst {
				t.Errorf("got %v -> %v (local %v), want %s -> %s", h.Source, h.Dest, h.Local, tt.src, tt.dst)
			}
			// The client's data after the header is left for the protocol.
			after, _ := io.ReadAll(r)
			if string(after) != rest {
				t.Errorf("after the header: %q, want %q", after, rest)
			}
		})
	}
}

func TestParseCIDRs(t *testing.T) {
	got, err := ParseCIDRs(" 10.0.0.0/8, 192.0.2.7,2001:db8::/32 ,,::ffff:127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32", "127.0.0.1/32"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("[%d] = %v, want %s", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "example.com", "10.0.0.1/x"} {
		if _, err := ParseCIDRs(bad); err == nil {
			t.Errorf("ParseCIDRs(%q) accepted", bad)
		}
	}
	if p, err := ParseCIDRs(""); err != nil || p != nil {
		t.Errorf("ParseCIDRs(\"\") = %v, %v", p, err)
	}
}

// FuzzParse checks that no input panics, that a v1 header never consumes
// more than 107 bytes and that a successful parse is self-consistent. (A v2
// TCP6 header may carry an IPv4-mapped source, which is unmapped: families
// may then differ.)
func FuzzParse(f *testing.F) {
	f.Add([]byte("PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\nEHLO x\r\n"))
	f.Add([]byte("PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n"))
	f.Add([]byte("PROXY UNKNOWN\r\n"))
	f.Add(v2(cmdProxy, famTCP4, tcp4("203.0.113.7", "10.0.0.1", 40000, 25)))
	f.Add(v2(cmdProxy, famTCP6, tcp6("2001:db8::7", "2001:db8::1", 1, 993), tlv(1, "h2")))
	f.Add(v2(cmdLocal, famUnspec, nil))
	f.Add(v2(cmdProxy, famTCP4, nil))
	f.Add([]byte("EHLO x\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		src := bytes.NewReader(data)
		br := bufio.NewReader(src)
		h, err := Parse(br)
		if err != nil {
			return
		}
		consumed := len(data) - src.Len() - br.Buffered()
		if h.Version == 1 && consumed > v1MaxLen {
			t.Fatalf("v1 header of %d bytes accepted", consumed)
		}
		if h.Local != (h.Source == nil) || (h.Source == nil) != (h.Dest == nil) {
			t.Fatalf("inconsistent header %+v", h)
		}
		if h.Version == 1 && h.Source != nil && h.Source.AddrPort().Addr().Is4() != h.Dest.AddrPort().Addr().Is4() {
			t.Fatalf("mixed families %v -> %v", h.Source, h.Dest)
		}
	})
}
