package imapgw

import (
	"cmp"
	"slices"
	"strings"

	"github.com/bucketmail/bucketmail/internal/message"
	"github.com/bucketmail/bucketmail/internal/search"
	"github.com/bucketmail/bucketmail/internal/store"
)

// textKey is one BODY (head false) or TEXT (head true) string.
type textKey struct {
	pattern string
	head    bool
}

// textAnswer is what the text index says about a textKey in the selected
// mailbox: UIDs that match, and UIDs it cannot answer for (read and
// checked). Every other UID does not match.
type textAnswer struct {
	hits, unknown []uint32
}

// textAnswers asks the text index about every BODY and TEXT string of c,
// at every level; nil without an index, and then every message is read.
func (s *session) textAnswers(sel *selected, c *searchNode) (map[textKey]textAnswer, error) {
	idx := s.srv.textIndex()
	if idx == nil {
		return nil, nil
	}
	keys := map[textKey]bool{}
	c.walk(func(k *searchNode) bool {
		if k.op == opBody || k.op == opText {
			keys[textKey{k.value, k.op == opText}] = true
		}
		return false
	})
	if len(keys) == 0 {
		return nil, nil
	}
	out := make(map[textKey]textAnswer, len(keys))
	for k := range keys {
		if k.pattern == "" {
			continue // matches every message, without asking
		}
		hits, unknown, err := s.searchText(idx, sel, k)
		if err != nil {
			return nil, err
		}
		s.srv.met.SearchUnindexed.Add(float64(len(unknown)))
		out[k] = textAnswer{hits: hits, unknown: unknown}
	}
	return out, nil
}

// searchText asks idx about one string; an index that can take the
// session's cached heads gets them, and the UIDs of the view the heads
// lack (newer than the cache) are read.
func (s *session) searchText(idx store.TextIndex, sel *selected, k textKey) (hits, unknown []uint32, err error) {
	hx, ok := idx.(store.HeadTextIndex)
	if !ok {
		return idx.SearchText(s.ctx, s.user.ID, sel.mb.ID, k.pattern, k.head)
	}
	heads, err := s.cachedHeads(sel, false)
	if err != nil {
		return nil, nil, err
	}
	if hits, unknown, err = hx.SearchHeads(s.ctx, s.user.ID, heads, k.pattern, k.head); err != nil {
		return nil, nil, err
	}
	for _, m := range sel.msgs {
		if _, found := slices.BinarySearchFunc(heads, m.uid, func(h store.Message, uid uint32) int { return cmp.Compare(h.UID, uid) }); !found {
			unknown = append(unknown, m.uid)
		}
	}
	slices.Sort(unknown)
	return hits, unknown, nil
}

// matchText checks BODY (head false) or TEXT: from the index's answers
// where it has them, else from the text of the message, which reads it.
func (s *session) matchText(d *msgData, pattern string, head bool, answers map[textKey]textAnswer) (bool, error) {
	if pattern == "" {
		return true, nil
	}
	if a, ok := answers[textKey{pattern, head}]; ok {
		if _, hit := slices.BinarySearch(a.hits, d.m.UID); hit {
			return true, nil
		}
		if _, unknown := slices.BinarySearch(a.unknown, d.m.UID); !unknown {
			return false, nil
		}
	}
	text, err := d.text()
	if err != nil {
		return false, err
	}
	return textContains(text, pattern, head), nil
}

// textContains is the search both the index and a read answer: pattern,
// folded, in the body text, or with head in the header text too.
func textContains(t *message.Text, pattern string, head bool) bool {
	p := strings.ToLower(pattern)
	return strings.Contains(t.Body, p) || (head && strings.Contains(t.Head, p))
}

// text reads the message and extracts its whole text once: the prefix
// lines' and the object's, as the index has them.
func (d *msgData) text() (*message.Text, error) {
	if d.txt != nil {
		return d.txt, nil
	}
	raw, err := d.body()
	if err != nil {
		return nil, err
	}
	t := search.ScanText(d.m.Prefix, raw[len(d.m.Prefix):])
	d.txt = &t
	return d.txt, nil
}

// textIndex is the index that answers BODY and TEXT: the configured one,
// else the store if it keeps text; nil if there is none.
func (srv *Server) textIndex() store.TextIndex {
	if srv.cfg.TextIndex != nil {
		return srv.cfg.TextIndex
	}
	if ti, ok := srv.cfg.Store.(store.TextIndex); ok {
		return ti
	}
	return nil
}
