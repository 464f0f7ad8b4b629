package message

import (
	"encoding/json"

	"github.com/emersion/go-imap/v2"
)

// dump renders a body structure for failure messages.
func dump(bs imap.BodyStructure) string {
	b, _ := json.MarshalIndent(bs, "", " ")
	return string(b)
}
