// Package domainkeys keeps the DKIM signing keys of the local domains in the
// blob store and signs outbound mail with them (RFC 6376, RFC 8463).
//
// A key lives under dkim/<domain>/<selector> as a PKCS #8 PEM block, with
// its algorithm and creation time as object metadata. A domain may have
// several keys: Sign signs with every one of them, so an Ed25519 and an RSA
// key can be active at once (dual signing, RFC 8463 section 4), and a new
// selector can be published before the old one is deleted (key rotation).
//
// Private keys are secrets: nothing in this package logs them, and errors
// never contain key material.
package domainkeys
