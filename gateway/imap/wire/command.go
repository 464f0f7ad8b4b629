package wire

import "strings"

// Command is one client command. Args holds the command's arguments as one
// of the types below, or nil for a command that has none (CAPABILITY,
// NOOP, LOGOUT, STARTTLS, UNSELECT, UNAUTHENTICATE, NAMESPACE, CHECK,
// CLOSE, EXPUNGE, IDLE):
//
//	LOGIN                              *Login
//	AUTHENTICATE                       *Authenticate
//	ENABLE                             *Enable
//	ID                                 *ID
//	COMPRESS                           *Compress
//	SELECT, EXAMINE                    *Select
//	CREATE                             *Create
//	DELETE, SUBSCRIBE, UNSUBSCRIBE,
//	GETQUOTAROOT                       *MailboxArg
//	RENAME                             *Rename
//	LIST                               *List
//	LSUB                               *Lsub
//	STATUS                             *Status
//	APPEND                             *Append
//	GETQUOTA                           *GetQuota
//	SETQUOTA                           *SetQuota
//	FETCH, UID FETCH                   *Fetch
//	STORE, UID STORE                   *Store
//	COPY, MOVE, UID COPY, UID MOVE     *Copy
//	SEARCH, UID SEARCH                 *Search
//	SORT, UID SORT                     *Sort
//	THREAD, UID THREAD                 *Thread
//	UID EXPUNGE                        *UIDExpunge
type Command struct {
	Tag  string
	Name string // upper case, without "UID"
	UID  bool   // the command had the UID prefix (RFC 9051 section 6.4.9)
	Args any
}

// FullName is the name as the client sent it, with "UID " for UID commands.
func (c *Command) FullName() string {
	if c.UID {
		return "UID " + c.Name
	}
	return c.Name
}

// Copy is COPY or MOVE set mailbox (RFC 9051 sections 6.4.7, 6.4.8).
type Copy struct {
	Set     NumSet
	Mailbox string
}

// UIDExpunge is UID EXPUNGE set (RFC 9051 section 6.4.9).
type UIDExpunge struct{ Set NumSet }

// parseFunc parses a command's arguments; the name and tag are read.
type parseFunc func(p *Reader, cmd *Command) error

// uidCommands may follow "UID".
var uidCommands = map[string]bool{
	"COPY": true, "MOVE": true, "FETCH": true, "SEARCH": true, "STORE": true,
	"EXPUNGE": true, "SORT": true, "THREAD": true,
}

// lookup returns the parse function of a command name, nil if unknown.
func lookup(name string) parseFunc {
	switch name {
	case "CAPABILITY", "NOOP", "LOGOUT", "STARTTLS", "UNSELECT", "UNAUTHENTICATE",
		"NAMESPACE", "CHECK", "CLOSE", "IDLE":
		return noArgs
	}
	return table[name]
}

// table holds the commands that take arguments.
var table = map[string]parseFunc{
	"EXPUNGE":      parseExpunge,
	"LOGIN":        parseLogin,
	"AUTHENTICATE": parseAuthenticate,
	"ENABLE":       parseEnable,
	"ID":           parseID,
	"COMPRESS":     parseCompress,
	"SELECT":       parseSelect,
	"EXAMINE":      parseSelect,
	"CREATE":       parseCreate,
	"DELETE":       parseMailboxArg,
	"SUBSCRIBE":    parseMailboxArg,
	"UNSUBSCRIBE":  parseMailboxArg,
	"GETQUOTAROOT": parseMailboxArg,
	"RENAME":       parseRename,
	"LIST":         parseList,
	"LSUB":         parseLsub,
	"STATUS":       parseStatus,
	"APPEND":       parseAppend,
	"GETQUOTA":     parseGetQuota,
	"SETQUOTA":     parseSetQuota,
	"FETCH":        parseFetch,
	"STORE":        parseStore,
	"COPY":         parseCopy,
	"MOVE":         parseCopy,
	"SEARCH":       parseSearch,
	"SORT":         parseSort,
	"THREAD":       parseThread,
	"CANCELUPDATE": parseCancelUpdate,
}

// parseCommand reads tag SP name [args] up to the end of the command.
func (p *Reader) parseCommand() (*Command, error) {
	p.tag = p.span(isTagChar)
	if p.tag == "" {
		return nil, errSyntax("missing tag")
	}
	if err := p.sp(); err != nil {
		return nil, err
	}
	name, err := p.keyword()
	if err != nil {
		return nil, err
	}
	p.name = name
	cmd := &Command{Tag: p.tag, Name: name}
	if name == "UID" {
		if err := p.sp(); err != nil {
			return nil, err
		}
		if name, err = p.keyword(); err != nil {
			return nil, err
		}
		p.name = "UID " + name
		if !uidCommands[name] {
			return nil, &unknownError{p.name}
		}
		cmd.Name, cmd.UID = name, true
	}
	parse := lookup(name)
	if parse == nil {
		return nil, &unknownError{name}
	}
	if err := parse(p, cmd); err != nil {
		return nil, err
	}
	if cmd.Name == "APPEND" {
		return cmd, nil // ends after its messages; see NextMessage
	}
	if !p.eol() {
		return nil, errSyntax("unexpected %q after the arguments", p.rest())
	}
	return cmd, nil
}

func noArgs(p *Reader, cmd *Command) error { return nil }

func parseExpunge(p *Reader, cmd *Command) error {
	if !cmd.UID {
		return nil
	}
	if err := p.sp(); err != nil {
		return err
	}
	set, err := p.numSet()
	cmd.Args = &UIDExpunge{Set: set}
	return err
}

func parseCopy(p *Reader, cmd *Command) error {
	var a Copy
	cmd.Args = &a
	var err error
	if err = p.sp(); err != nil {
		return err
	}
	if a.Set, err = p.numSet(); err != nil {
		return err
	}
	if err = p.sp(); err != nil {
		return err
	}
	a.Mailbox, err = p.astring()
	return err
}

func upper(s string) string { return strings.ToUpper(s) }
