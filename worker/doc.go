// Package worker is the MDA: it takes jobs from the inbound queue and
// delivers each message into the INBOX of every local recipient.
//
// A message object is read once and parsed into the summary the index keeps
// (invariant 5). Each recipient mailbox gets one index entry pointing at the
// same object (invariant 4), with its own prefix lines: Return-Path
// (RFC 5321 section 4.4) and Delivered-To. The entry is inserted with the
// idempotency key <queue id>/<user id>, so a job delivered twice (a crash,
// a lease that ran out, the reconciler) yields one message per mailbox
// (invariant 3); the job is acked only after every recipient is done.
package worker
