package imapgw

import (
	"github.com/bucketmail/bucketmail/gateway/imap/engine"
	"github.com/bucketmail/bucketmail/gateway/imap/wire"
)

// commands are the commands the gateway answers beyond the engine's own
// (engine.Config.Commands), with the states they are allowed in.
func (srv *Server) commands() map[string]engine.Command {
	authed := []engine.State{engine.Authenticated, engine.Selected}
	selected := []engine.State{engine.Selected}
	cmd := func(states []engine.State, f func(*session, *wire.Command) error) engine.Command {
		return engine.Command{States: states, Handler: handler(f)}
	}
	return map[string]engine.Command{
		"SELECT":         cmd(authed, (*session).selectCmd),
		"EXAMINE":        cmd(authed, (*session).selectCmd),
		"NAMESPACE":      cmd(authed, (*session).namespace),
		"CREATE":         cmd(authed, (*session).create),
		"DELETE":         cmd(authed, (*session).mailboxCmd),
		"SUBSCRIBE":      cmd(authed, (*session).mailboxCmd),
		"UNSUBSCRIBE":    cmd(authed, (*session).mailboxCmd),
		"RENAME":         cmd(authed, (*session).rename),
		"STATUS":         cmd(authed, (*session).status),
		"LIST":           cmd(authed, (*session).list),
		"LSUB":           cmd(authed, (*session).list),
		"APPEND":         cmd(authed, (*session).appendCmd),
		"UNAUTHENTICATE": cmd(authed, (*session).unauthenticate),
		"GETQUOTAROOT":   cmd(authed, (*session).getQuotaRoot),
		"GETQUOTA":       cmd(authed, (*session).getQuota),
		"SETQUOTA":       cmd(authed, (*session).setQuota),
		"UNSELECT":       cmd(selected, (*session).unselect),
		"CLOSE":          cmd(selected, (*session).closeCmd),
		"CHECK":          cmd(selected, func(*session, *wire.Command) error { return nil }),
		"EXPUNGE":        cmd(selected, (*session).expunge),
		"FETCH":          cmd(selected, (*session).fetchCmd),
		"STORE":          cmd(selected, (*session).storeCmd),
		"COPY":           cmd(selected, (*session).copyCmd),
		"MOVE":           cmd(selected, (*session).copyCmd),
		"SEARCH":         cmd(selected, (*session).searchCmd),
		"SORT":           cmd(selected, (*session).sortCmd),
		"THREAD":         cmd(selected, (*session).threadCmd),
		"CANCELUPDATE":   cmd(selected, (*session).cancelUpdate),
	}
}
