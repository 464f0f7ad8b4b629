package managesieve

import (
	"context"
	"errors"
	"log/slog"
	"strconv"

	"github.com/bucketmail/bucketmail/internal/sieve"
	"github.com/bucketmail/bucketmail/internal/sievestore"
)

// scriptCommand runs the commands of the authenticated state.
func (s *session) scriptCommand(ctx context.Context, name string, args []string) {
	want := map[string]int{"LISTSCRIPTS": 0, "GETSCRIPT": 1, "PUTSCRIPT": 2, "CHECKSCRIPT": 1,
		"SETACTIVE": 1, "DELETESCRIPT": 1, "RENAMESCRIPT": 2, "HAVESPACE": 2}
	n, ok := want[name]
	if !ok {
		s.no("", "Unknown command")
		return
	}
	if len(args) != n {
		s.no("", "Wrong number of arguments")
		return
	}
	uid := s.user.ID
	sc := s.srv.cfg.Scripts
	var err error
	switch name {
	case "LISTSCRIPTS":
		err = s.listScripts(ctx)
	case "GETSCRIPT":
		err = s.getScript(ctx, args[0])
	case "PUTSCRIPT":
		if err = s.fits(args[1]); err == nil {
			err = sc.Put(ctx, uid, args[0], args[1])
		}
	case "CHECKSCRIPT":
		if err = s.fits(args[0]); err == nil {
			_, err = sieve.Compile(args[0], sc.Limits)
		}
	case "SETACTIVE":
		err = sc.SetActive(ctx, uid, args[0])
	case "DELETESCRIPT":
		err = sc.Delete(ctx, uid, args[0])
	case "RENAMESCRIPT":
		err = sc.Rename(ctx, uid, args[0], args[1])
	case "HAVESPACE":
		err = s.haveSpace(args[1])
	}
	if err != nil {
		s.fail(name, err)
		return
	}
	if name != "GETSCRIPT" && name != "LISTSCRIPTS" {
		s.ok("", "Done")
	}
}

func (s *session) listScripts(ctx context.Context) error {
	list, err := s.srv.cfg.Scripts.List(ctx, s.user.ID)
	if err != nil {
		return err
	}
	for _, e := range list {
		l := quote(e.Name)
		if e.Active {
			l += " ACTIVE"
		}
		s.line(l)
	}
	s.ok("", "Listed")
	return nil
}

// getScript sends the script as a literal (RFC 5804 section 2.9).
func (s *session) getScript(ctx context.Context, name string) error {
	src, err := s.srv.cfg.Scripts.Get(ctx, s.user.ID, name)
	if err != nil {
		return err
	}
	s.w.WriteString("{" + strconv.Itoa(len(src)) + "}\r\n" + src + "\r\n")
	s.ok("", "Done")
	return nil
}

// haveSpace answers whether a script of size octets would fit
// (RFC 5804 section 2.5).
func (s *session) haveSpace(size string) error {
	n, err := strconv.ParseInt(size, 10, 64)
	if err != nil || n < 0 {
		return errBadNumber
	}
	if n > int64(s.maxScriptSize()) {
		return errTooBig
	}
	return nil
}

// fits refuses a script over the size limit with QUOTA/MAXSIZE (RFC
// 5804 section 2.6) rather than as a compile error.
func (s *session) fits(src string) error {
	if len(src) > s.maxScriptSize() {
		return errTooBig
	}
	return nil
}

func (s *session) maxScriptSize() int {
	if m := s.srv.cfg.Scripts.Limits.MaxScriptSize; m > 0 {
		return m
	}
	return 64 << 10
}

var (
	errBadNumber = errors.New("managesieve: not a number")
	errTooBig    = errors.New("managesieve: script too large")
)

// fail answers a failed command with the response code RFC 5804 section
// 1.3 gives the cause; a compile error carries its line and column.
func (s *session) fail(name string, err error) {
	var se *sieve.Error
	switch {
	case errors.As(err, &se):
		s.no("", se.Error())
	case errors.Is(err, sievestore.ErrNotFound):
		s.no("NONEXISTENT", "No such script")
	case errors.Is(err, sievestore.ErrActive):
		s.no("ACTIVE", "The active script cannot be deleted")
	case errors.Is(err, sievestore.ErrExists):
		s.no("ALREADYEXISTS", "A script with that name exists")
	case errors.Is(err, sievestore.ErrTooMany):
		s.no("QUOTA/MAXSCRIPTS", "Too many scripts")
	case errors.Is(err, errTooBig):
		s.no("QUOTA/MAXSIZE", "Script too large")
	case errors.Is(err, sievestore.ErrInvalid), errors.Is(err, errBadNumber):
		s.no("", "Invalid argument")
	default:
		s.log.Error("managesieve command failed", slog.String("command", name),
			slog.String("user", s.user.Address), slog.String("error", err.Error()))
		s.no("TRYLATER", "Temporary failure, try again later")
	}
}
