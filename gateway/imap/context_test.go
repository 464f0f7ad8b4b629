package imapgw

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/bucketmail/bucketmail/gateway/imap/wire"
)

// TestSortSteps: applying the steps of a SORT update to the old result,
// in turn and at the positions they name, gives the new result, for
// random results that keep the order of the messages both hold.
func TestSortSteps(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		n := r.IntN(12)
		order := r.Perm(n + 8) // the sort order of every message there is
		var old, now []uint32
		for _, u := range order {
			if r.IntN(2) == 0 {
				old = append(old, uint32(u+1))
			}
			if r.IntN(2) == 0 {
				now = append(now, uint32(u+1))
			}
		}
		list := slices.Clone(old)
		for _, st := range sortSteps(old, now) {
			if st.add {
				if st.pos < 1 || st.pos > len(list)+1 {
					t.Fatalf("old %v now %v: ADDTO at %d of %v", old, now, st.pos, list)
				}
				list = slices.Insert(list, st.pos-1, st.uids...)
				continue
			}
			if st.pos < 1 || st.pos > len(list) || list[st.pos-1] != st.uids[0] {
				t.Fatalf("old %v now %v: REMOVEFROM (%d %v) of %v", old, now, st.pos, st.uids, list)
			}
			list = slices.Delete(list, st.pos-1, st.pos)
		}
		if !slices.Equal(list, now) {
			t.Fatalf("old %v now %v: steps give %v", old, now, list)
		}
	}
}

// TestPartialRange: positions past the end of the result give what there
// is, or nothing (RFC 5267 section 4.4).
func TestPartialRange(t *testing.T) {
	res := []uint32{10, 20, 30, 40}
	for _, tt := range []struct {
		lo, hi uint32
		want   []uint32
	}{
		{1, 2, []uint32{10, 20}},
		{2, 100, []uint32{20, 30, 40}},
		{4, 4, []uint32{40}},
		{5, 9, nil},
	} {
		if got := partialRange(res, wire.NumRange{Start: tt.lo, Stop: tt.hi}); !slices.Equal(got, tt.want) {
			t.Errorf("%d:%d = %v, want %v", tt.lo, tt.hi, got, tt.want)
		}
	}
}
