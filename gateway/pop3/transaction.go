package pop3

import "strconv"

// The TRANSACTION-state commands that only read the snapshot
// (RFC 1939 section 5). None of them reads a blob (invariant 5).

// cmdSTAT answers "+OK count octets".
func (s *session) cmdSTAT(cmd command) bool {
	if cmd.Arg != "" {
		return s.syntaxError()
	}
	n, size := s.drop.stat()
	s.ok("%d %d", n, size)
	return false
}

// cmdLIST lists message sizes, of one message or of all not deleted.
func (s *session) cmdLIST(cmd command) bool {
	return s.listing(cmd, func(n int, e *entry) string {
		return itoa(n) + " " + itoa64(e.size)
	})
}

// cmdUIDL lists unique ids (RFC 1939 section 7).
func (s *session) cmdUIDL(cmd command) bool {
	return s.listing(cmd, func(n int, e *entry) string {
		return itoa(n) + " " + s.drop.uidl(e)
	})
}

// listing runs LIST or UIDL: with an argument a single line, without a
// multi-line response of every message not marked deleted.
func (s *session) listing(cmd command, format func(n int, e *entry) string) bool {
	args := cmd.Args()
	switch len(args) {
	case 0:
		n, size := s.drop.stat()
		s.ok("%d messages (%d octets)", n, size)
		for i := range s.drop.msgs {
			if e := &s.drop.msgs[i]; !e.deleted {
				s.line(format(i+1, e))
			}
		}
		s.line(".")
		return false
	case 1:
		e, n, problem := s.drop.lookup(args[0])
		if e == nil {
			s.err("", problem)
			return false
		}
		s.ok("%s", format(n, e))
		return false
	default:
		return s.syntaxError()
	}
}

// cmdDELE marks a message deleted; it goes at QUIT.
func (s *session) cmdDELE(cmd command) bool {
	args := cmd.Args()
	if len(args) != 1 {
		return s.syntaxError()
	}
	e, _, problem := s.drop.lookup(args[0])
	if e == nil {
		s.err("", problem)
		return false
	}
	e.deleted = true
	s.ok("Message %s deleted", args[0])
	return false
}

// cmdRSET unmarks every message.
func (s *session) cmdRSET(cmd command) bool {
	if cmd.Arg != "" {
		return s.syntaxError()
	}
	s.drop.reset()
	n, size := s.drop.stat()
	s.ok("Maildrop has %d messages (%d octets)", n, size)
	return false
}

// cmdNOOP does nothing.
func (s *session) cmdNOOP(cmd command) bool {
	if cmd.Arg != "" {
		return s.syntaxError()
	}
	s.ok("")
	return false
}

// syntaxError answers a command with bad arguments.
func (s *session) syntaxError() bool {
	s.err("", "Syntax error in arguments")
	return s.badCommand()
}

func itoa(n int) string     { return strconv.Itoa(n) }
func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
