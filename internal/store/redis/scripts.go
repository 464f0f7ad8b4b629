package redis

import (
	"context"
	"embed"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

//go:embed lua/*.lua
var luaFiles embed.FS

// scriptSet holds the Lua scripts, each prelude.lua plus its own file. They
// run with EVALSHA, falling back to EVAL (which loads them) once per server.
type scriptSet struct {
	ensure, create, deleteMB, purge, subscribe, mailboxes, rename *goredis.Script
	insert, messages, uids, setFlags, expunge, transfer           *goredis.Script
	enqueue, claim, settle, stats, dead                           *goredis.Script
	addUser, deleteUser, setPassword, setQuota, user, users       *goredis.Script
	addAlias, deleteAlias, aliases, deleteDomain                  *goredis.Script
	unref, releaseBlob                                            *goredis.Script
	jobKnown, lease, importUser, dirExport, dirImport             *goredis.Script
	recent, vanished, subscriptions, modseqUIDs                   *goredis.Script
}

// scripts are immutable once built: they hold only source and hash.
var scripts = buildScripts()

func buildScripts() *scriptSet {
	mb := func(name string) *goredis.Script { return luaScript("prelude", name) }
	q := func(name string) *goredis.Script { return luaScript("prelude", "queue_prelude", name) }
	return &scriptSet{
		ensure: mb("ensure"), create: mb("create"), deleteMB: mb("delete"), purge: mb("purge"),
		subscribe: mb("subscribe"), mailboxes: mb("mailboxes"), rename: mb("rename"),
		insert: mb("insert"), messages: mb("messages"), uids: mb("uids"), setFlags: mb("setflags"),
		expunge: mb("expunge"), transfer: mb("transfer"),
		enqueue: q("enqueue"), claim: q("claim"), settle: q("settle"), stats: q("stats"), dead: q("dead"),
		addUser: mb("dir_adduser"), deleteUser: mb("dir_deleteuser"), setPassword: mb("dir_setpassword"), setQuota: mb("dir_setquota"),
		user: mb("dir_user"), users: mb("dir_users"), addAlias: mb("dir_addalias"),
		deleteAlias: mb("dir_deletealias"), aliases: mb("dir_aliases"), deleteDomain: mb("dir_deletedomain"),
		unref: goredis.NewScript(unrefLua), releaseBlob: goredis.NewScript(releaseBlobLua),
		jobKnown: q("jobknown"), lease: luaScript("lease"), importUser: mb("import"),
		dirExport: mb("dir_export"), dirImport: mb("dir_import"),
		recent: mb("recent"), vanished: mb("vanished"), subscriptions: mb("subscriptions"),
		modseqUIDs: mb("modsequids"),
	}
}

func luaScript(names ...string) *goredis.Script {
	var b strings.Builder
	for _, n := range names {
		src, err := luaFiles.ReadFile("lua/" + n + ".lua")
		if err != nil {
			panic(err) // embedded at build time: cannot happen
		}
		b.Write(src)
		b.WriteByte('\n')
	}
	return goredis.NewScript(b.String())
}

// run runs s routed by key (the first KEYS entry; every key the script
// touches shares its hash tag).
func (db *DB) run(ctx context.Context, s *goredis.Script, key string, args ...any) *goredis.Cmd {
	return s.Run(ctx, db.rdb, []string{key}, args...)
}
