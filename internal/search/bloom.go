package search

// bloomBits is the size of a document's trigram filter: 1 KiB, about a
// quarter full for the 4 KB of text of a usual message.
const bloomBits = 8192

// bloom is a Bloom filter (one hash) of the byte trigrams of a text. A
// substring of the text has all its trigrams in it, so a pattern with one
// trigram missing is not in the text; one with all present may be.
type bloom [bloomBits / 64]uint64

func trigramHash(a, b, c byte) uint32 {
	h := (uint32(a)<<16 | uint32(b)<<8 | uint32(c)) * 2654435761
	return h >> (32 - 13) // 13 bits: bloomBits
}

// add puts the trigrams of s into f.
func (f *bloom) add(s string) {
	for i := 0; i+2 < len(s); i++ {
		h := trigramHash(s[i], s[i+1], s[i+2])
		f[h/64] |= 1 << (h % 64)
	}
}

// mayContain reports whether every trigram of p is in f (true for p
// shorter than a trigram).
func (f *bloom) mayContain(p string) bool {
	for i := 0; i+2 < len(p); i++ {
		h := trigramHash(p[i], p[i+1], p[i+2])
		if f[h/64]&(1<<(h%64)) == 0 {
			return false
		}
	}
	return true
}
