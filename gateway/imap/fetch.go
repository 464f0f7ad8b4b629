package imapgw

import (
	"slices"

	"github.com/emersion/go-imap/v2"

	"github.com/bucketmail/bucketmail/gateway/imap/wire"
	"github.com/bucketmail/bucketmail/internal/store"
)

// batchSize is how many index entries one range query loads.
const batchSize = 256

// fetchCmd answers FETCH and UID FETCH (RFC 9051 section 6.4.5).
// Everything but body sections is served from the index (invariant 5).
// Fetching a body section without PEEK sets \Seen unless the mailbox is
// read-only, and the new flags are then sent along (RFC 9051 section
// 6.4.5, BODY[]).
func (s *session) fetchCmd(cmd *wire.Command) error {
	a := cmd.Args.(*wire.Fetch)
	for _, it := range a.Items {
		if !fetchable[it.Name] {
			return &imap.Error{Type: imap.StatusResponseTypeBad, Text: "FETCH " + it.Name + " is not supported"}
		}
	}
	if a.Vanished && !s.qresync() {
		return errQResyncNotEnabled // RFC 7162 section 3.2.6
	}
	defer s.watch()()
	sel := s.lock()
	defer s.mu.Unlock()
	if a.ChangedSince != 0 || slices.ContainsFunc(a.Items, func(it wire.FetchItem) bool { return it.Name == "MODSEQ" }) {
		s.enableCondStore(sel)
	}
	if a.ChangedSince != 0 {
		return s.fetchChangedSince(sel, cmd, a)
	}
	missed, err := s.fetch(sel, sel.resolve(a.Set, cmd.UID), a.Items)
	if err == nil && missed > 0 {
		// The others are answered; these were expunged by another
		// session and their objects are gone (RFC 5530 section 3).
		return errExpungeIssued
	}
	return err
}

// fetchable are the fetch items answered.
var fetchable = map[string]bool{
	"UID": true, "FLAGS": true, "INTERNALDATE": true, "RFC822.SIZE": true,
	"ENVELOPE": true, "BODYSTRUCTURE": true, "BODY": true, "BINARY": true,
	"BINARY.SIZE": true, "MODSEQ": true, "RFC822": true, "RFC822.HEADER": true, "RFC822.TEXT": true,
	"SAVEDATE": true, "EMAILID": true, "THREADID": true, "PREVIEW": true,
}

// fetchPlan is what a FETCH asks for of each message, in the order it is
// written: UID, FLAGS, INTERNALDATE, RFC822.SIZE, ENVELOPE, BODY and
// BODYSTRUCTURE, the body sections as asked, BINARY, BINARY.SIZE.
type fetchPlan struct {
	flags, internalDate, size, envelope bool
	body, bodyStructure                 bool
	sections                            []sectionItem
	binaries                            []sectionItem
	sizes                               []sectionItem
	setsSeen                            bool
	modSeq                              bool
	// saveDate, emailID, threadID, preview: RFC 8514, RFC 8474, RFC 8970.
	saveDate, emailID, threadID, preview bool
}

// sectionItem is a body section item and the section it reads.
type sectionItem struct {
	it  wire.FetchItem
	sec *imap.FetchItemBodySection
}

func newFetchPlan(items []wire.FetchItem) *fetchPlan {
	p := &fetchPlan{}
	for _, it := range items {
		switch it.Name {
		case "FLAGS":
			p.flags = true
		case "MODSEQ":
			p.modSeq = true
		case "INTERNALDATE":
			p.internalDate = true
		case "RFC822.SIZE":
			p.size = true
		case "ENVELOPE":
			p.envelope = true
		case "BODYSTRUCTURE":
			p.bodyStructure = true
		case "BODY":
			if it.Section == nil {
				p.body = true
				continue
			}
			p.sections = append(p.sections, sectionItem{it, bodySection(it)})
			p.setsSeen = p.setsSeen || !it.Peek
		case "RFC822":
			p.sections = append(p.sections, sectionItem{it, &imap.FetchItemBodySection{}})
			p.setsSeen = true
		case "RFC822.HEADER":
			p.sections = append(p.sections, sectionItem{it, &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}})
		case "RFC822.TEXT":
			p.sections = append(p.sections, sectionItem{it, &imap.FetchItemBodySection{Specifier: imap.PartSpecifierText}})
			p.setsSeen = true
		case "BINARY":
			p.binaries = append(p.binaries, sectionItem{it, bodySection(it)})
			p.setsSeen = p.setsSeen || !it.Peek
		case "BINARY.SIZE":
			p.sizes = append(p.sizes, sectionItem{it, bodySection(it)})
		case "SAVEDATE":
			p.saveDate = true
		case "EMAILID":
			p.emailID = true
		case "THREADID":
			p.threadID = true
		case "PREVIEW":
			p.preview = true
		}
	}
	return p
}

// uidOnly says the plan asks for nothing but the UID, which the view has.
func (p *fetchPlan) uidOnly() bool {
	return !p.flags && !p.internalDate && !p.size && !p.envelope && !p.body && !p.bodyStructure &&
		len(p.sections) == 0 && len(p.binaries) == 0 && len(p.sizes) == 0 && !p.modSeq &&
		!p.saveDate && !p.emailID && !p.threadID && !p.preview
}

// bodySection is the section of a BODY[...] or BINARY[...] item.
func bodySection(it wire.FetchItem) *imap.FetchItemBodySection {
	sec := &imap.FetchItemBodySection{Peek: it.Peek}
	for _, n := range it.Section.Part {
		sec.Part = append(sec.Part, int(n))
	}
	switch it.Section.Specifier {
	case "HEADER":
		sec.Specifier = imap.PartSpecifierHeader
	case "HEADER.FIELDS":
		sec.Specifier, sec.HeaderFields = imap.PartSpecifierHeader, it.Section.Fields
	case "HEADER.FIELDS.NOT":
		sec.Specifier, sec.HeaderFieldsNot = imap.PartSpecifierHeader, it.Section.Fields
	case "TEXT":
		sec.Specifier = imap.PartSpecifierText
	case "MIME":
		sec.Specifier = imap.PartSpecifierMIME
	}
	if pa := it.Partial; pa != nil {
		sec.Partial = &imap.SectionPartial{Offset: int64(min(pa.Offset, 1<<62)), Size: int64(min(pa.Count, 1<<62))}
	}
	return sec
}

// fetch writes the FETCH responses of the messages at view positions idx.
// It skips and counts (missed) those another session expunged whose data
// is gone.
func (s *session) fetch(sel *selected, idx []int, items []wire.FetchItem) (missed int, err error) {
	p := newFetchPlan(items)
	if p.uidOnly() {
		// The view holds every UID, also of a message another session
		// expunged meanwhile: nothing to load, nothing to miss.
		for _, pos := range idx {
			f := s.conn.Writer().Fetch(uint32(pos + 1))
			f.UID(sel.msgs[pos].uid)
			f.End()
		}
		return 0, nil
	}
	markSeen := !sel.readOnly && p.setsSeen
	how := listFull
	if len(p.sections) == 0 && len(p.binaries) == 0 && len(p.sizes) == 0 {
		how = listHeads
		if p.envelope || p.body || p.bodyStructure || p.preview {
			how = listMeta
		}
	}
	gone := 0 // expunged, and their objects deleted
	missed, err = s.forEach(sel, idx, how, func(batch []*msgData) error {
		var seen map[uint32]bool
		if markSeen {
			var err error
			if seen, err = s.markSeen(sel, batch); err != nil {
				return err
			}
		}
		for _, d := range batch {
			if err := s.gone(); err != nil {
				return err
			}
			err := s.writeFetch(d, p, seen[d.m.UID])
			if err == errExpungeIssued {
				gone++ // nothing was written for it
				continue
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	return missed + gone, err
}

// markSeen adds \Seen to the messages of batch that lack it and returns the
// UIDs whose flags changed; batch entries get their new flags.
func (s *session) markSeen(sel *selected, batch []*msgData) (map[uint32]bool, error) {
	var uids []uint32
	for _, d := range batch {
		if !hasFlag(d.m.Flags, store.FlagSeen) {
			uids = append(uids, d.m.UID)
		}
	}
	if len(uids) == 0 {
		return nil, nil
	}
	changed, err := s.mailboxes().SetFlags(s.ctx, s.user.ID, sel.mb.ID, uids, store.FlagsAdd, []string{store.FlagSeen})
	if err != nil {
		return nil, s.protoErr("fetch: set seen", err, nil)
	}
	seen := make(map[uint32]bool, len(changed))
	byUID := make(map[uint32]*msgData, len(batch))
	for _, d := range batch {
		byUID[d.m.UID] = d
	}
	for _, m := range changed {
		seen[m.UID] = true
		if d := byUID[m.UID]; d != nil {
			d.m.Flags, d.m.ModSeq = m.Flags, m.ModSeq
		}
		sel.noteModSeq(m.UID, m.ModSeq)
	}
	return seen, nil
}

// writeFetch writes one FETCH response. Everything that can fail is done
// before the response starts, so a failure never leaves half a response.
func (s *session) writeFetch(d *msgData, p *fetchPlan, withFlags bool) error {
	var (
		env      *imap.Envelope
		routes   *wire.Routes
		preview  string
		bs       imap.BodyStructure
		err      error
		sections = make([][]byte, len(p.sections))
		binaries = make([][]byte, len(p.binaries))
		sizes    = make([]uint32, len(p.sizes))
	)
	if p.envelope {
		if env, routes, err = d.envelope(); err != nil {
			return s.protoErr("fetch envelope", err, nil)
		}
	}
	if p.preview {
		if preview, err = d.preview(); err != nil {
			return s.protoErr("fetch preview", err, nil)
		}
	}
	if p.body || p.bodyStructure {
		if bs, err = d.bodyStructure(); err != nil {
			return s.protoErr("fetch bodystructure", err, nil)
		}
	}
	for i, si := range p.sections {
		if sections[i], err = d.section(si.sec); err != nil {
			return s.protoErr("fetch body", err, nil)
		}
	}
	for i, si := range p.binaries {
		if binaries[i], err = d.binary(si.sec.Part, si.sec.Partial); err != nil {
			return s.protoErr("fetch binary", err, nil)
		}
	}
	for i, si := range p.sizes {
		if sizes[i], err = d.binarySectionSize(si.sec.Part); err != nil {
			return s.protoErr("fetch binary.size", err, nil)
		}
	}

	f := s.conn.Writer().Fetch(uint32(d.pos + 1))
	f.UID(d.m.UID)
	if p.flags || withFlags {
		f.Flags(d.sel.withRecent(d.m.UID, d.m.Flags))
	}
	if p.modSeq || (p.flags || withFlags) && s.condStore() {
		f.ModSeq(d.m.ModSeq) // RFC 7162 section 3.1.4.1
	}
	if p.internalDate {
		f.InternalDate(d.m.InternalDate)
	}
	if p.size {
		f.Size(d.m.Size)
	}
	if p.saveDate {
		f.SaveDate(d.m.SaveDate)
	}
	if p.emailID {
		f.ObjectID("EMAILID", d.m.EmailID)
	}
	if p.threadID {
		f.ObjectID("THREADID", "") // no threads are kept
	}
	if env != nil {
		f.EnvelopeRouted(env, routes)
	}
	if p.preview {
		f.Preview(preview)
	}
	if p.body {
		f.BodyStructure(bs, false)
	}
	if p.bodyStructure {
		f.BodyStructure(bs, true)
	}
	for i, si := range p.sections {
		f.Section(si.it, sections[i])
	}
	for i, si := range p.binaries {
		f.Section(si.it, binaries[i])
	}
	for i, si := range p.sizes {
		f.BinarySize(si.it.Section.Part, int64(sizes[i]))
	}
	f.End()
	return nil
}

// listing says what forEach loads of each message.
type listing int

const (
	listFull  listing = iota // everything, summaries included
	listHeads                // no summaries (msgData.summary loads one if asked)
	listMeta                 // heads, and the summaries whose fetchMeta is not cached
)

// forEach loads the index entries at view positions idx (ascending) and
// hands them to fn batch by batch. Entries expunged meanwhile by another
// session are skipped and counted (missed). Heads come from the head
// cache; whole entries (with summaries) from a range query per run of
// consecutive positions.
func (s *session) forEach(sel *selected, idx []int, how listing, fn func(batch []*msgData) error) (missed int, err error) {
	if how == listFull {
		return s.forEachListed(sel, idx, fn)
	}
	hs, err := s.cachedHeads(sel, false)
	if err != nil {
		return 0, s.protoErr("load messages", err, nil)
	}
	again := false
	var (
		ms    []store.Message
		batch []*msgData
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if how == listMeta {
			if err := s.loadMeta(sel, batch); err != nil {
				return err
			}
		}
		err := fn(batch)
		ms, batch = nil, nil
		return err
	}
	k := 0
	for _, pos := range idx {
		uid := sel.msgs[pos].uid
		j := findHead(hs, k, uid)
		if j < 0 && !again {
			// Newer than the cache, or expunged: ask once what changed.
			again = true
			if hs, err = s.cachedHeads(sel, true); err != nil {
				return missed, s.protoErr("load messages", err, nil)
			}
			j = findHead(hs, 0, uid)
		}
		if j < 0 {
			missed++ // expunged meanwhile
			continue
		}
		k = j + 1
		if ms == nil {
			ms = make([]store.Message, 0, min(batchSize, len(idx)))
			batch = make([]*msgData, 0, cap(ms))
		}
		ms = append(ms, hs[j])
		batch = append(batch, &msgData{s: s, sel: sel, pos: pos, m: &ms[len(ms)-1], heads: true})
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return missed, err
			}
		}
	}
	return missed, flush()
}

// cachedHeads returns the heads of the selected mailbox from the head
// cache, complete up to the view's mod-sequence and the session's own
// changes at least.
func (s *session) cachedHeads(sel *selected, again bool) ([]store.Message, error) {
	return s.srv.heads.heads(s.ctx, s.mailboxes(), sel.headKey(s.user.ID), max(sel.modSeq, sel.ownModSeq), again)
}

// forEachListed is forEach for whole entries: a range query per run of
// consecutive positions.
func (s *session) forEachListed(sel *selected, idx []int, fn func(batch []*msgData) error) (missed int, err error) {
	for _, run := range runs(idx, batchSize) {
		first, last := sel.msgs[run[0]].uid, sel.msgs[run[len(run)-1]].uid
		ms, err := s.mailboxes().Messages(s.ctx, s.user.ID, sel.mb.ID, first, last, 0)
		if err != nil {
			return missed, s.protoErr("load messages", err, nil)
		}
		batch := make([]*msgData, 0, len(ms))
		k := 0
		for _, pos := range run {
			uid := sel.msgs[pos].uid
			for k < len(ms) && ms[k].UID < uid {
				k++
			}
			if k < len(ms) && ms[k].UID == uid {
				batch = append(batch, &msgData{s: s, sel: sel, pos: pos, m: &ms[k]})
			} else {
				missed++
			}
		}
		if err := fn(batch); err != nil {
			return missed, err
		}
	}
	return missed, nil
}

// loadMeta gives each message of batch its fetchMeta from the cache, and
// loads the summaries of the others in one range query.
func (s *session) loadMeta(sel *selected, batch []*msgData) error {
	var miss []*msgData
	for _, d := range batch {
		if d.fm = s.srv.meta.get(d.m.BlobKey); d.fm == nil && d.m.Summary == nil {
			miss = append(miss, d)
		}
	}
	return s.fillSummaries(sel, miss)
}

// fillSummaries gives the messages of ds (in mailbox order, listed as
// heads) their prefix and summary, in one range query; one that is gone
// from the index was expunged by another session since the heads were
// listed.
func (s *session) fillSummaries(sel *selected, ds []*msgData) error {
	if len(ds) == 0 {
		return nil
	}
	ms, err := s.mailboxes().Messages(s.ctx, s.user.ID, sel.mb.ID, ds[0].m.UID, ds[len(ds)-1].m.UID, 0)
	if err != nil {
		return s.protoErr("load messages", err, nil)
	}
	byUID := make(map[uint32]*store.Message, len(ms))
	for i := range ms {
		byUID[ms[i].UID] = &ms[i]
	}
	for _, d := range ds {
		if m := byUID[d.m.UID]; m != nil {
			d.m.Prefix, d.m.Summary = m.Prefix, m.Summary
		} else {
			d.expunged = true
		}
		d.heads = false
	}
	return nil
}
