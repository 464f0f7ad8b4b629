//go:build !linux

package testenv

import "syscall"

// sysProcAttr: without Pdeathsig, servers are only stopped by t.Cleanup.
func sysProcAttr() *syscall.SysProcAttr { return nil }
