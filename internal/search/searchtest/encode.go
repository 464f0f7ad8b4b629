package searchtest

import (
	"bytes"
	"encoding/base64"
	"mime/quotedprintable"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func qp(s string) string {
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}
