package tlsconf

import "crypto/tls"

// cipherSuites are the TLS 1.2 suites offered: ECDHE key exchange (forward
// secrecy) with AEAD ciphers only, ECDSA before RSA, AES-GCM before
// ChaCha20-Poly1305 (RFC 9325 section 4.2). The TLS 1.3 suites are fixed by
// crypto/tls and all AEAD.
var cipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// curves are the key exchange groups: X25519 and P-256 (RFC 8446 section
// 9.1 makes both the ones every implementation has). Go also adds its
// post-quantum hybrid to TLS 1.3 handshakes only when listed, so it is.
var curves = []tls.CurveID{tls.X25519MLKEM768, tls.X25519, tls.CurveP256}

// applyPolicy sets the protocol policy on c: TLS 1.2 minimum (RFC 8996),
// modern suites and curves only.
func applyPolicy(c *tls.Config) {
	c.MinVersion = tls.VersionTLS12
	c.CipherSuites = cipherSuites
	c.CurvePreferences = curves
}
