// Package edge is bucketmail's SMTP edge: the MX listener (port 25) and the
// message submission listeners (587 with STARTTLS, 465 with implicit TLS).
//
// The edge checks recipients against the directory at RCPT time, streams DATA
// once into the blob store with a Received: line prepended, enqueues a
// delivery job and only then answers 250 (invariant 1). It keeps no state
// between transactions and does not parse the message, except the header
// block of a submitted one, whose From: must belong to the user.
//
// RFCs: 5321 (SMTP), 1870 (SIZE), 6152 (8BITMIME), 2920 (PIPELINING),
// 3207 (STARTTLS), 2034 and 3463 (enhanced status codes), 6531 (SMTPUTF8),
// 6409 (message submission), 8314 (implicit TLS for submission),
// 4954 (AUTH), 4616 (SASL PLAIN), draft-murchison-sasl-login (SASL LOGIN),
// 3848 (ESMTPS/ESMTPA in Received).
package edge
