package sqlite

import (
	"bytes"
	"database/sql/driver"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/klauspost/compress/s2"
	"modernc.org/sqlite"
)

// drv opens the store's connections: modernc's driver with the SQL
// functions of the search index registered on it alone (not on the
// driver the package registers for every program in the process).
var drv = newDriver()

func newDriver() *sqlite.Driver {
	d := new(sqlite.Driver)
	for name, f := range map[string]*sqlite.FunctionImpl{
		// text_contains(text, pattern): whether text (TEXT or BLOB)
		// holds pattern.
		"text_contains": {NArgs: 2, Deterministic: true, VolatileArgs: true, Scalar: textContains},
		// staged_contains(body, pattern): whether a staged body
		// (packText) holds pattern.
		"staged_contains": {NArgs: 2, Deterministic: true, VolatileArgs: true, Scalar: stagedContains},
		// staged_body(body): the text of a staged body.
		"staged_body": {NArgs: 1, Deterministic: true, VolatileArgs: true, Scalar: stagedBody},
		// staged_pack(text): text as a staged body.
		"staged_pack": {NArgs: 1, Deterministic: true, VolatileArgs: true, Scalar: stagedPack},
	} {
		if err := d.RegisterFunction(name, f); err != nil {
			panic(err) // only a name registered twice, above
		}
	}
	return d
}

// The staged texts (search_packed, search.go) are what a search scans
// while they wait: their bodies are kept packed with S2 (some 4 µs to
// pack the 4.3 KB of text of a benchmark message, 2 µs to unpack, 46% of
// the size), so that a scan of the backlog reads half the pages, and
// they are matched by these functions in Go: SQLite's instr compares
// byte by byte, which in the pure-Go SQLite cost 25–70 µs per text of
// the benchmark corpus, where unpacking and bytes.Contains take a few
// (benchmarks.md). Packing saves the delivery nothing measurable: the
// row of a staged text is a page of WAL either way.

// packText appends the staged form of text to dst.
func packText(dst []byte, text string) []byte {
	// s2 only reads its source: a view of the string saves a copy.
	src := unsafe.Slice(unsafe.StringData(text), len(text))
	n := s2.MaxEncodedLen(len(text))
	if n < 0 {
		// Over S2's limit (4 GiB): not a text the store is given.
		panic("sqlite: search text too long")
	}
	dst = slices.Grow(dst, n)
	z := s2.Encode(dst[len(dst):len(dst)+n], src)
	return dst[:len(dst)+len(z)]
}

// unpackText returns the text of staged body z, decoded into dst's room
// when it fits.
func unpackText(dst, z []byte) ([]byte, error) {
	n, err := s2.DecodedLen(z)
	if err != nil {
		return nil, fmt.Errorf("sqlite: staged text: %w", err)
	}
	dst = slices.Grow(dst[:0], n)
	out, err := s2.Decode(dst[:n], z)
	if err != nil {
		return nil, fmt.Errorf("sqlite: staged text: %w", err)
	}
	return out, nil
}

// textBufs holds the buffers the functions unpack into.
var textBufs = sync.Pool{New: func() any { return new([]byte) }}

func textContains(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	pattern, ok := args[1].(string)
	if !ok {
		return nil, nil
	}
	switch t := args[0].(type) {
	case string:
		return strings.Contains(t, pattern), nil
	case []byte:
		return bytes.Contains(t, unsafe.Slice(unsafe.StringData(pattern), len(pattern))), nil
	}
	return nil, nil
}

func stagedContains(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	z, ok1 := args[0].([]byte)
	pattern, ok2 := args[1].(string)
	if !ok1 || !ok2 {
		return nil, nil
	}
	buf := textBufs.Get().(*[]byte)
	defer textBufs.Put(buf)
	text, err := unpackText(*buf, z)
	if err != nil {
		return nil, err
	}
	*buf = text
	return bytes.Contains(text, unsafe.Slice(unsafe.StringData(pattern), len(pattern))), nil
}

func stagedBody(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	z, ok := args[0].([]byte)
	if !ok {
		return nil, nil
	}
	text, err := unpackText(nil, z)
	if err != nil {
		return nil, err
	}
	return unsafe.String(unsafe.SliceData(text), len(text)), nil
}

func stagedPack(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	t, ok := args[0].(string)
	if !ok {
		return nil, nil
	}
	return packText(nil, t), nil
}
