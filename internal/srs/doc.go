// Package srs rewrites the envelope sender of forwarded mail with the
// Sender Rewriting Scheme, so that SPF (RFC 7208) of the forwarded copy is
// checked against the forwarding domain, whose SPF allows our outbound
// hosts, and so that a bounce of the copy can be sent back to the original
// sender.
//
// An original sender user@domain becomes, at the forwarding domain fwd,
//
//	SRS0=HHHHHH=TT=domain=user@fwd
//
// where TT is the day of the rewrite (two base32 characters, days since
// the Unix epoch modulo 1024) and HHHHHH the first characters of the
// base64 HMAC-SHA256 of "TT domain user" (lower-cased) under a secret
// key. A sender already rewritten by another forwarder
// (SRS0=...@other) becomes SRS1=HHHHHH=other==...@fwd; an SRS1 sender
// keeps its first forwarder. Only addresses carrying a valid hash and, for
// SRS0, a timestamp younger than MaxAge are reversed: anybody else's mail
// to an SRS address is refused, so the scheme is not an open relay.
//
// The secret keys live in the blob store under srs/ (see Keyring) and are
// rotated with a grace period: addresses made with the previous key keep
// working until they would have expired anyway.
package srs
