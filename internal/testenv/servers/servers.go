// Package servers starts the real servers the cloud drivers are tested
// against: redis-server and an S3 server (versitygw with its posix backend),
// each on a random loopback port with its data in a temporary directory,
// stopped by PID when the test ends.
//
// A server that cannot start fails the test with a message saying how to
// install it; nothing is ever skipped, so a green run means the drivers were
// really exercised.
//
// It imports no driver, so the drivers' own in-package tests can use it;
// every other test reaches it through internal/testenv.
package servers
