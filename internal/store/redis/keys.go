package redis

import (
	"strings"
)

// Key layout. Every key of one user, one queue or the directory carries the
// same hash tag, so that every script runs on one Cluster slot.
//
// Directory, hash tag {dir}:
//
//	{dir}:domains            set of local domains
//	{dir}:users              hash address → user id
//	{dir}:user:<id>          hash address, hash (password), created (unix ns)
//	{dir}:aliases            set of alias sources (local@domain, @domain)
//	{dir}:alias:<source>     set of targets
//	{dir}:domain:<domain>    set of the domain's user addresses and alias
//	                         sources (DeleteDomain answers ErrInUse from it)
//
// Mailboxes of user <id>, hash tag {u:<id>} (P below):
//
//	P:meta                   hash uidvalidity (last handed out), changes (counter)
//	P:mailboxes              hash name → mailbox id (16 hex digits, random)
//	P:mb:<mbid>              hash name, special, sub, uv, next, hms, n, unseen, size,
//	                         del (messages with \Deleted), kw (keywords in use,
//	                         space-separated), rec (the highest UID claimed as
//	                         \Recent), xf (the tombstone floor: expunges up to
//	                         this modseq are forgotten), and for a mailbox made
//	                         by renaming INBOX or by an import eb, es (the UIDs
//	                         below es derive their EMAILID from eb, not mbid).
//	                         A mailbox from before del, kw, rec and xf gets
//	                         them when a script first needs them (prelude.lua)
//	P:mb:<mbid>:u            sorted set of UIDs (score = member = UID)
//	P:mb:<mbid>:m            sorted set of UIDs, score = modseq: what changed since
//	                         a mod-sequence, without reading every head
//	P:mb:<mbid>:h            hash UID → head "modseq\nsize\nblobkey\nflags\ndate\nsave"
//	                         or "...\nsave\nemailid" (flags space-separated; date:
//	                         internal date in unix ns, kept as text by scripts;
//	                         save: the save date in seconds after the date's
//	                         second; emailid only where not derived, that is in
//	                         copies: store.EmailIDOf(mbid, UID) otherwise; a
//	                         head that ends at the date was saved at its date:
//	                         heads from before save dates, and deliveries
//	                         within the second of their receipt; read and
//	                         changed by scripts)
//	P:mb:<mbid>:b            hash UID → body: uvarint len(prefix), prefix,
//	                         varint internal date (unix ns), summary
//	                         (opaque to scripts: copied verbatim)
//	P:mb:<mbid>:x            string of tombstones, 12 bytes each: UID (4) and the
//	                         modseq of its expunge (8), big-endian, in expunge
//	                         order; the last store.MaxTombstones
//	P:idem                   hash idempotency key → "<mbid>:<uid>"
//	P:subs                   set of the subscribed names that are not mailboxes
//	                         (a mailbox's subscription is its 'sub' field): what
//	                         outlived a DeleteMailbox; absent for most users
//	P:changes                pub/sub channel; each change publishes P:meta changes
//	P:import:<token>:<i>     a mailbox staged by ImportUser (as P:mb:<mbid>, no uv),
//	P:import:<token>:<i>:u   with its :u, :m, :h and :b keys, the idempotency keys
//	P:import:<token>:idem    (as P:idem) and P:import:<token>:subs (as P:subs); they
//	                         expire after an hour unless
//	                         import.lua renames them into place
//
// Blob reference counts, one key per object (global, not per user):
//
//	{b:<blobkey>}            integer: index entries referring to the object
//
// Queue <name>, hash tag {q:<name>} (Q below):
//
//	Q:stream                 stream of ready and claimed jobs (field id), group "bucketmail"
//	Q:delayed                sorted set job id, score = due time (unix ms, Redis clock)
//	Q:leases                 sorted set of claimed job ids, score = lease end (unix ms)
//	Q:dead                   stream of buried jobs (field id), oldest first
//	Q:job:<id>               hash p (envelope JSON), a (attempts), e (last error),
//	                         nb (not before, unix ns), s (r ready, c claimed, d dead),
//	                         x (stream entry id while in Q:stream), c (consumer),
//	                         st (the consumer's state, store.Job.State)
//	Q:done                   sorted set of acked job ids, score = ack time (unix ms,
//	                         Redis clock); each Ack and Claim prunes those older
//	                         than store.DoneRetention (JobKnown)
//	Q:done:<id>              string: the state of an acked job, if it had one;
//	                         expires with the done retention (PX)
//
// Ledger (store.Ledger), hash tag {ledger}:
//
//	{ledger}:lease:<name>    string: the holder; expires with the lease (PX)
//	{ledger}:checkpoints     hash name → value
//	{ledger}:gc              sorted set of blob keys to delete, score = due time
//	                         (unix ms, rounded up)

// dirKey is the routing key of directory scripts.
const dirKey = "{dir}:domains"

// userPrefix returns the key prefix of userID's data.
func userPrefix(userID string) string { return "{u:" + userID + "}" }

// userMeta is the routing key of userID's scripts.
func userMeta(userID string) string { return userPrefix(userID) + ":meta" }

// changesChannel is the pub/sub channel of userID's changes.
func changesChannel(userID string) string { return userPrefix(userID) + ":changes" }

// queuePrefix returns the key prefix of a queue.
func queuePrefix(queue string) string { return "{q:" + queue + "}" }

// refKey is the reference count of a blob.
func refKey(blobKey string) string { return "{b:" + blobKey + "}" }

// validUserID reports whether id can be part of a key without breaking its
// hash tag (user IDs are ours, hex; this guards against other callers).
func validUserID(id string) bool {
	return id != "" && !strings.ContainsAny(id, "{}\r\n")
}

// validName reports whether a queue name keeps its hash tag intact.
func validName(s string) bool { return validUserID(s) }

// validMailboxID reports whether id has the form of our mailbox IDs, so
// that a client-supplied ID can only name a key of the mailbox kind.
func validMailboxID(id string) bool {
	if len(id) != 16 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
