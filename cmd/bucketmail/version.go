package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is stamped in at link time by `make release`
// (-ldflags "-X main.version=v1.2.3"). It is a package variable only
// because the linker can set nothing else; nothing writes it at run time.
var version = "dev"

// versionString is the version followed by what the build info adds: the
// VCS revision when the binary was built from a checkout, and the Go
// version and platform.
func versionString() string {
	v := version
	if info, ok := debug.ReadBuildInfo(); ok {
		var rev, modified string
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = "-dirty"
				}
			}
		}
		if rev != "" {
			if len(rev) > 12 {
				rev = rev[:12]
			}
			v += " (" + rev + modified + ")"
		}
	}
	return fmt.Sprintf("bucketmail %s %s %s/%s", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func (a *app) cmdVersion(_ context.Context, args []string) error {
	fs := newFlagSet("version")
	pos, err := a.parse(fs, "bucketmail version", args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	fmt.Fprintln(a.stdout, versionString())
	return nil
}
