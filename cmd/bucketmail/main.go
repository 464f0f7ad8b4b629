// Command bucketmail runs the roles of the bucketmail mail backend (edge,
// worker, gateway, or all of them in one process) and carries the admin
// commands (domain, user, alias, queue).
//
// main only turns the process environment into a call of run; everything else
// is testable in-process.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, restore the default action so a second
		// one ends a shutdown that hangs.
		<-ctx.Done()
		stop()
	}()
	a := &app{
		stdin:     os.Stdin,
		stdout:    os.Stdout,
		stderr:    os.Stderr,
		lookupEnv: os.LookupEnv,
	}
	code := a.run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
