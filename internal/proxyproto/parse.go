// Package proxyproto reads the PROXY protocol header (versions 1 and 2,
// https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt) that a TCP
// load balancer such as a Linode NodeBalancer puts in front of a
// connection, so that servers see the client's address instead of the
// balancer's. Only connections from trusted networks are read this way
// (see NewListener); a header from anyone else is not trusted.
package proxyproto

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// ErrInvalid is returned for a header that breaks the specification.
var ErrInvalid = errors.New("proxyproto: invalid header")

// Header is a parsed PROXY header.
type Header struct {
	Version int // 1 or 2
	// Local is true for a v2 LOCAL command and a v1 "UNKNOWN" protocol:
	// the connection is the balancer's own (a health check) and carries no
	// client address, so Source and Dest are nil.
	Local        bool
	Source, Dest *net.TCPAddr
}

// v1 constants (specification section 2.1).
const (
	v1Prefix = "PROXY "
	v1MaxLen = 107 // the longest v1 line, CRLF included
)

// v2 constants (specification section 2.2).
var v2Signature = []byte("\r\n\r\n\x00\r\nQUIT\n")

const (
	v2HeaderLen = 16
	cmdLocal    = 0x0
	cmdProxy    = 0x1
	famUnspec   = 0x00
	famTCP4     = 0x11
	famTCP6     = 0x21
	lenTCP4     = 12 // two IPv4 addresses and two ports
	lenTCP6     = 36 // two IPv6 addresses and two ports
)

// Parse reads one PROXY header, v1 or v2, from r and nothing more: the
// client's data that follows stays in r.
func Parse(r *bufio.Reader) (*Header, error) {
	sig, err := r.Peek(len(v1Prefix))
	if err != nil {
		return nil, truncated(err)
	}
	if string(sig) == v1Prefix {
		return parseV1(r)
	}
	sig, err = r.Peek(len(v2Signature))
	if err != nil {
		return nil, truncated(err)
	}
	if !bytes.Equal(sig, v2Signature) {
		return nil, fmt.Errorf("%w: no PROXY signature", ErrInvalid)
	}
	return parseV2(r)
}

// truncated turns the EOF of a short header into ErrUnexpectedEOF.
func truncated(err error) error {
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("proxyproto: truncated header: %w", io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("proxyproto: reading header: %w", err)
}

// parseV1 reads "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n" or
// "PROXY UNKNOWN ...\r\n", at most 107 bytes.
func parseV1(r *bufio.Reader) (*Header, error) {
	line := make([]byte, 0, v1MaxLen)
	for {
		b, err := r.ReadByte()
		if err != nil {
			return nil, truncated(err)
		}
		line = append(line, b)
		if b == '\n' {
			break
		}
		if len(line) >= v1MaxLen {
			return nil, fmt.Errorf("%w: v1 line longer than %d bytes", ErrInvalid, v1MaxLen)
		}
	}
	s, ok := strings.CutSuffix(string(line), "\r\n")
	if !ok {
		return nil, fmt.Errorf("%w: v1 line not ended by CRLF", ErrInvalid)
	}
	f := strings.Split(s, " ")
	if len(f) >= 2 && f[1] == "UNKNOWN" {
		// Section 2.1: the receiver must ignore anything after UNKNOWN.
		return &Header{Version: 1, Local: true}, nil
	}
	if len(f) != 6 || (f[1] != "TCP4" && f[1] != "TCP6") {
		return nil, fmt.Errorf("%w: v1 line malformed", ErrInvalid)
	}
	v4 := f[1] == "TCP4"
	src, err1 := v1Addr(f[2], f[4], v4)
	dst, err2 := v1Addr(f[3], f[5], v4)
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	return &Header{Version: 1, Source: src, Dest: dst}, nil
}

func v1Addr(ip, port string, v4 bool) (*net.TCPAddr, error) {
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Zone() != "" || a.Is4() != v4 {
		return nil, fmt.Errorf("%w: v1 address %q", ErrInvalid, ip)
	}
	// Decimal digits only, no sign, no leading zero (section 2.1).
	if port == "" || (len(port) > 1 && port[0] == '0') || strings.TrimLeft(port, "0123456789") != "" {
		return nil, fmt.Errorf("%w: v1 port %q", ErrInvalid, port)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("%w: v1 port %q", ErrInvalid, port)
	}
	return net.TCPAddrFromAddrPort(netip.AddrPortFrom(a, uint16(p))), nil
}

// parseV2 reads the 16-byte v2 header, the addresses and any TLVs (which
// are skipped: nothing here needs them).
func parseV2(r *bufio.Reader) (*Header, error) {
	var hdr [v2HeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, truncated(err)
	}
	verCmd, fam := hdr[12], hdr[13]
	n := int(binary.BigEndian.Uint16(hdr[14:16]))
	if verCmd>>4 != 2 {
		return nil, fmt.Errorf("%w: v2 version %d", ErrInvalid, verCmd>>4)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return nil, truncated(err)
	}
	h := &Header{Version: 2}
	switch verCmd & 0xf {
	case cmdLocal:
		// Section 2.2: the receiver must accept a LOCAL header and use the
		// real connection endpoints, whatever the family says.
		h.Local = true
		return h, nil
	case cmdProxy:
	default:
		return nil, fmt.Errorf("%w: v2 command %d", ErrInvalid, verCmd&0xf)
	}
	switch fam {
	case famUnspec:
		// Unknown protocol: use the real endpoints, as for LOCAL.
		h.Local = true
		return h, nil
	case famTCP4:
		if n < lenTCP4 {
			return nil, fmt.Errorf("%w: v2 TCP4 length %d", ErrInvalid, n)
		}
		h.Source = v2Addr(payload[0:4], payload[8:10])
		h.Dest = v2Addr(payload[4:8], payload[10:12])
	case famTCP6:
		if n < lenTCP6 {
			return nil, fmt.Errorf("%w: v2 TCP6 length %d", ErrInvalid, n)
		}
		h.Source = v2Addr(payload[0:16], payload[32:34])
		h.Dest = v2Addr(payload[16:32], payload[34:36])
	default:
		// UDP and UNIX sockets make no sense in front of a TCP server.
		return nil, fmt.Errorf("%w: v2 family 0x%02x", ErrInvalid, fam)
	}
	return h, nil
}

func v2Addr(ip, port []byte) *net.TCPAddr {
	a, _ := netip.AddrFromSlice(ip) // 4 or 16 bytes: cannot fail
	return net.TCPAddrFromAddrPort(netip.AddrPortFrom(a.Unmap(), binary.BigEndian.Uint16(port)))
}
