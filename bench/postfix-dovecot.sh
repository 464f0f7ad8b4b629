#!/bin/bash
# postfix-dovecot.sh: Postfix + Dovecot on loopback as the reference system
# for `make bench-compare`, driven by the same load generator as bucketmail.
#
#   install                 install the Debian packages if missing
#   setup USERFILE          configure both for the local parts in USERFILE
#   start | stop [--restore] | restart-dovecot
#   versions                one "name version" line per server
#   mem-pids                PIDs of the Dovecot processes holding client connections
#   wipe                    delete delivered mail and the Postfix queue
#
# Environment: BENCH_DIR (required), PF_SMTP_PORT (2625), DC_IMAP_PORT (2643),
# DC_POP3_PORT (2610), BENCH_DOMAIN (bench.test), BENCH_PASSWORD (bench-password).
#
# Postfix runs as the default instance (/etc/postfix); the files it had before
# the first setup are kept as *.bench-orig and put back by `stop --restore`.
# Dovecot runs from its own file in $BENCH_DIR and never reads /etc/dovecot.
set -eu

PF_SMTP_PORT=${PF_SMTP_PORT:-2625}
DC_IMAP_PORT=${DC_IMAP_PORT:-2643}
DC_POP3_PORT=${DC_POP3_PORT:-2610}
BENCH_DOMAIN=${BENCH_DOMAIN:-bench.test}
BENCH_PASSWORD=${BENCH_PASSWORD:-bench-password}

PF_CONF=/etc/postfix
PF_ORIG_SUFFIX=.bench-orig
VMAIL_USER=vmail

die() { echo "postfix-dovecot: $*" >&2; exit 1; }
note() { echo "postfix-dovecot: $*" >&2; }

# bench_dir makes BENCH_DIR absolute and sets the paths below it. Postfix
# parameters and Dovecot settings are whitespace-separated lists, and Dovecot's
# UNIX sockets live under base_dir (sun_path is 108 bytes), hence the checks.
bench_dir() {
	[ -n "${BENCH_DIR:-}" ] || die "BENCH_DIR is not set"
	case $BENCH_DIR in *[[:space:]]*|*,*) die "BENCH_DIR must not contain whitespace or commas";; esac
	mkdir -p "$BENCH_DIR"
	BENCH_DIR=$(cd "$BENCH_DIR" && pwd -P)
	[ ${#BENCH_DIR} -le 64 ] || die "BENCH_DIR is too long for Dovecot's sockets (max 64 bytes): $BENCH_DIR"
	VMAIL_BASE=$BENCH_DIR/vmail
	DC_DIR=$BENCH_DIR/dovecot
	DC_CONF=$DC_DIR/dovecot.conf
	DC_RUN=$DC_DIR/run
	DC_USERS=$DC_DIR/users
	PF_DIR=$BENCH_DIR/postfix
	STATE=$BENCH_DIR/state
	USERS_LIST=$STATE/users
	PF_PIDFILE=$STATE/postfix.pid
}

# --- install ---------------------------------------------------------------

cmd_install() {
	missing=
	for p in postfix dovecot-imapd dovecot-pop3d; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
	done
	[ -n "$missing" ] || return 0
	# "No configuration" keeps debconf quiet; setup writes the configuration.
	echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
}

# --- setup -----------------------------------------------------------------

vmail_ids() {
	if ! id -u "$VMAIL_USER" >/dev/null 2>&1; then
		useradd --system --user-group --home-dir /nonexistent --no-create-home \
			--shell /usr/sbin/nologin "$VMAIL_USER"
	fi
	VMAIL_UID=$(id -u "$VMAIL_USER")
	VMAIL_GID=$(id -g "$VMAIL_USER")
	# virtual(8) refuses to deliver as a uid below virtual_minimum_uid (100).
	[ "$VMAIL_UID" -ge 100 ] || die "user $VMAIL_USER has uid $VMAIL_UID (< 100)"
}

# read_users copies USERFILE to the state directory: one local part a line,
# blank lines and #-comments ignored.
read_users() {
	[ -r "$1" ] || die "cannot read user file $1"
	mkdir -p "$STATE"
	sed -e 's/#.*//' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$1" | sort -u >"$USERS_LIST.new"
	if grep -vqE '^[A-Za-z0-9][A-Za-z0-9._+-]*$' "$USERS_LIST.new"; then
		die "bad local part in $1: $(grep -vE '^[A-Za-z0-9][A-Za-z0-9._+-]*$' "$USERS_LIST.new" | head -n 1)"
	fi
	[ -s "$USERS_LIST.new" ] || die "no users in $1"
	mv "$USERS_LIST.new" "$USERS_LIST"
}

# make_maildirs creates every user's empty Maildir, so the first IMAP login
# and the first delivery find the same layout.
make_maildirs() {
	install -d -o "$VMAIL_USER" -g "$VMAIL_USER" -m 0750 "$VMAIL_BASE"
	while read -r u; do
		for d in "$u" "$u/Maildir" "$u/Maildir/cur" "$u/Maildir/new" "$u/Maildir/tmp"; do
			install -d -o "$VMAIL_USER" -g "$VMAIL_USER" -m 0700 "$VMAIL_BASE/$d"
		done
	done <"$USERS_LIST"
}

setup_postfix() {
	# Keep the package's files once; every setup starts again from them, so
	# running setup twice gives the same result. A package installed with
	# "No configuration" has no main.cf: start from an empty one (the
	# settings below make it complete) and remove it again after.
	if [ ! -e "$PF_CONF/main.cf" ] && [ ! -e "$PF_CONF/main.cf$PF_ORIG_SUFFIX" ]; then
		: >"$PF_CONF/main.cf"
		: >"$PF_CONF/main.cf$PF_ORIG_SUFFIX.absent"
	fi
	for f in main.cf master.cf; do
		[ -e "$PF_CONF/$f$PF_ORIG_SUFFIX" ] || cp -p "$PF_CONF/$f" "$PF_CONF/$f$PF_ORIG_SUFFIX"
		cp -p "$PF_CONF/$f$PF_ORIG_SUFFIX" "$PF_CONF/$f"
	done

	mkdir -p "$PF_DIR"
	sed "s|.*|&@$BENCH_DOMAIN &/Maildir/|" "$USERS_LIST" >"$PF_DIR/vmailbox"
	postmap "hash:$PF_DIR/vmailbox"
	chmod 0644 "$PF_DIR/vmailbox" "$PF_DIR/vmailbox.db"

	# Queue, fsync and concurrency parameters stay at Postfix defaults: the
	# durability of an accepted message is what the comparison is about.
	postconf -e \
		"compatibility_level = 3.6" \
		"myhostname = mx.$BENCH_DOMAIN" \
		"mydestination = localhost" \
		"inet_interfaces = 127.0.0.1" \
		"inet_protocols = ipv4" \
		"mynetworks = 127.0.0.0/8" \
		"smtpd_peername_lookup = no" \
		"smtp_dns_support_level = disabled" \
		"smtpd_tls_security_level = none" \
		"message_size_limit = 67108864" \
		"mailbox_size_limit = 0" \
		"virtual_mailbox_limit = 0" \
		"virtual_mailbox_domains = $BENCH_DOMAIN" \
		"virtual_mailbox_base = $VMAIL_BASE" \
		"virtual_mailbox_maps = hash:$PF_DIR/vmailbox" \
		"virtual_minimum_uid = $VMAIL_UID" \
		"virtual_uid_maps = static:$VMAIL_UID" \
		"virtual_gid_maps = static:$VMAIL_GID" \
		"maillog_file = $BENCH_DIR/postfix.log" \
		"maillog_file_prefixes = /var, /dev/stdout, $BENCH_DIR"
	# Notes on the above: the compatibility level of Debian's own main.cf
	# (relay restrictions permit_mynetworks, defer_unauth_destination); no
	# reverse DNS for clients (the resolver here
	# answers nothing useful, so lookups only add timeouts); TLS off because
	# the load generator speaks plaintext, as on the Dovecot side; 64 MiB so a
	# 50 MiB message plus headers fits; there is no syslog, hence maillog_file.
	# The connection-count limit (50) does not apply: smtpd_client_event_limit_exceptions
	# defaults to $mynetworks.

	# SMTP only on loopback at the bench port, never on port 25.
	postconf -M# smtp/inet
	postconf -M "127.0.0.1:$PF_SMTP_PORT/inet=127.0.0.1:$PF_SMTP_PORT inet n - n - - smtpd"
	# The Debian chroot (/var/spool/postfix/etc, lib) is filled by the init
	# script, which does not run here; run every service unchrooted.
	postconf -F '*/*/chroot = n'
	postfix check
}

# password_hash computes the SHA512-CRYPT hash once and reuses it while it
# still matches BENCH_PASSWORD, so every user shares one hash.
password_hash() {
	h=$DC_DIR/password.hash
	if [ -s "$h" ] && doveadm -O pw -t "$(cat "$h")" -p "$BENCH_PASSWORD" >/dev/null 2>&1; then
		cat "$h"
		return
	fi
	doveadm -O pw -s SHA512-CRYPT -p "$BENCH_PASSWORD" | tee "$h.new"
	mv "$h.new" "$h"
}

setup_dovecot() {
	mkdir -p "$DC_DIR" "$DC_DIR/state"
	hash=$(password_hash)
	: >"$DC_USERS.new"
	while read -r u; do
		printf '%s@%s:%s:%s:%s::%s::\n' "$u" "$BENCH_DOMAIN" "$hash" \
			"$VMAIL_UID" "$VMAIL_GID" "$VMAIL_BASE/$u" >>"$DC_USERS.new"
	done <"$USERS_LIST"
	# The auth process runs as the dovecot user and reads this file.
	chgrp dovecot "$DC_USERS.new"
	chmod 0640 "$DC_USERS.new"
	mv "$DC_USERS.new" "$DC_USERS"

	cat >"$DC_CONF.new" <<EOF
# Written by bench/postfix-dovecot.sh setup; rewritten on every setup.
base_dir = $DC_RUN
state_dir = $DC_DIR/state
log_path = $BENCH_DIR/dovecot.log

protocols = imap pop3
listen = 127.0.0.1
# Plaintext on loopback, like the bucketmail side of the benchmark.
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# One lookup per user, then the cache; on a cache hit the SHA512-CRYPT check
# runs in auth-worker processes, so both cores share it.
auth_cache_size = 10M
auth_cache_verify_password_with_worker = yes

passdb {
  driver = passwd-file
  args = scheme=SHA512-CRYPT $DC_USERS
}
userdb {
  driver = passwd-file
  args = $DC_USERS
}
first_valid_uid = $VMAIL_UID
last_valid_uid = $VMAIL_UID
first_valid_gid = $VMAIL_GID
last_valid_gid = $VMAIL_GID

# Where Postfix's virtual(8) delivers; users log in as local@domain.
mail_location = maildir:$VMAIL_BASE/%n/Maildir
namespace inbox {
  inbox = yes
}
# Thousands of sessions come from one user and one address.
mail_max_userip_connections = 20000

# Login processes in high-performance mode: a few long-lived processes (one
# per core) each serve up to client_limit connections that have not yet
# logged in; after LOGIN the connection moves to its own imap process.
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $DC_IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
  service_count = 0
  process_min_avail = 2
  client_limit = 1000
  vsz_limit = 1G
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $DC_POP3_PORT
  }
  inet_listener pop3s {
    port = 0
  }
  service_count = 0
  process_min_avail = 2
  client_limit = 1000
  vsz_limit = 1G
}
# One process per logged-in session (client_limit 1, the default): room for
# 10,000 idle IMAP connections and some headroom.
service imap {
  process_limit = 12000
}
service pop3 {
  process_limit = 2000
}
# Every imap and pop3 process keeps a connection to stats-writer; the
# default (1000) would stall logins past the 1000th session.
service stats {
  client_limit = 14100
}
EOF
	mv "$DC_CONF.new" "$DC_CONF"
	doveconf -c "$DC_CONF" -n >/dev/null
}

cmd_setup() {
	[ $# -eq 1 ] || die "usage: setup USERFILE"
	userfile=$1
	bench_dir
	read_users "$userfile"
	vmail_ids
	make_maildirs
	setup_postfix
	setup_dovecot
	# A running pair picks up the new files.
	if [ -r "$PF_PIDFILE" ] && [ "$(pf_master_pid)" = "$(cat "$PF_PIDFILE")" ]; then postfix reload; fi
	master=$(dc_master_pid)
	if [ -n "$master" ]; then kill -HUP "$master"; fi
	echo "configured $(wc -l <"$USERS_LIST") users @$BENCH_DOMAIN in $BENCH_DIR"
}

# --- processes -------------------------------------------------------------

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

children() { ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' || true; }

# wait_gone waits up to $1 seconds until none of the PIDs that follow exists.
wait_gone() {
	t=$(( $1 * 10 )); shift
	while [ "$t" -gt 0 ]; do
		left=
		for p in "$@"; do alive "$p" && left="$left $p"; done
		[ -z "$left" ] && return 0
		sleep 0.1
		t=$((t - 1))
	done
	echo "$left"
	return 1
}

wait_port() {
	t=$(( $2 * 10 ))
	while [ "$t" -gt 0 ]; do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
		sleep 0.1
		t=$((t - 1))
	done
	return 1
}

pf_master_pid() {
	qd=$(postconf -h queue_directory)
	[ -r "$qd/pid/master.pid" ] || return 0
	p=$(tr -d ' \n' <"$qd/pid/master.pid")
	if alive "$p"; then echo "$p"; fi
}

dc_master_pid() {
	[ -r "$DC_RUN/master.pid" ] || return 0
	p=$(tr -d ' \n' <"$DC_RUN/master.pid")
	if alive "$p"; then echo "$p"; fi
}

# raise_nofile lifts the soft descriptor limit to the hard one: the stats
# process holds one connection per mail process, and the hard limit is what
# a root shell without CAP_SYS_RESOURCE can get.
raise_nofile() {
	hard=$(ulimit -Hn)
	[ "$hard" != unlimited ] || hard=$(cat /proc/sys/fs/nr_open)
	ulimit -n "$hard"
	[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 16384 ] ||
		note "warning: ulimit -n is $(ulimit -n); 10,000 IMAP sessions need more"
}

# raise_inotify gives every imap process its own inotify instance. The
# kernel default (128 per uid, and all sessions run as vmail) makes Dovecot
# disable inotify past the 128th session, and IDLE then only notices new mail
# every mailbox_idle_check_interval (30 s). The old values are restored by
# `stop --restore`.
raise_inotify() {
	mkdir -p "$STATE"
	for kv in max_user_instances=16384 max_user_watches=262144; do
		k=${kv%=*}; want=${kv#*=}
		f=/proc/sys/fs/inotify/$k
		cur=$(cat "$f")
		[ -e "$STATE/sysctl.$k" ] || echo "$cur" >"$STATE/sysctl.$k"
		if [ "$cur" -lt "$want" ]; then
			echo "$want" >"$f" || note "warning: cannot raise $f to $want"
		fi
	done
}

restore_inotify() {
	for k in max_user_instances max_user_watches; do
		[ -e "$STATE/sysctl.$k" ] || continue
		cat "$STATE/sysctl.$k" >"/proc/sys/fs/inotify/$k" || note "warning: cannot restore /proc/sys/fs/inotify/$k"
		rm -f "$STATE/sysctl.$k"
	done
}

start_postfix() {
	[ "$(postconf -h virtual_mailbox_base)" = "$VMAIL_BASE" ] ||
		die "/etc/postfix is not set up for $BENCH_DIR; run setup first"
	running=$(pf_master_pid)
	if [ -n "$running" ]; then
		[ -r "$PF_PIDFILE" ] && [ "$(cat "$PF_PIDFILE")" = "$running" ] ||
			die "a Postfix master (pid $running) not started by this script is running"
		note "postfix already running (pid $running)"
	else
		raise_nofile
		postfix start
		sleep 0.2
		p=$(pf_master_pid)
		[ -n "$p" ] || die "postfix did not start; see $BENCH_DIR/postfix.log"
		echo "$p" >"$PF_PIDFILE"
	fi
	wait_port "$PF_SMTP_PORT" 30 || die "postfix is not listening on 127.0.0.1:$PF_SMTP_PORT"
}

start_dovecot() {
	[ -r "$DC_CONF" ] || die "$DC_CONF missing; run setup first"
	running=$(dc_master_pid)
	if [ -n "$running" ]; then
		note "dovecot already running (pid $running)"
	else
		mkdir -p "$DC_RUN"
		raise_nofile
		raise_inotify
		dovecot -c "$DC_CONF"
	fi
	wait_port "$DC_IMAP_PORT" 30 || die "dovecot is not listening on 127.0.0.1:$DC_IMAP_PORT; see $BENCH_DIR/dovecot.log"
	wait_port "$DC_POP3_PORT" 30 || die "dovecot is not listening on 127.0.0.1:$DC_POP3_PORT; see $BENCH_DIR/dovecot.log"
}

stop_postfix() {
	[ -r "$PF_PIDFILE" ] || return 0
	ours=$(cat "$PF_PIDFILE")
	running=$(pf_master_pid)
	if [ -z "$running" ]; then rm -f "$PF_PIDFILE"; return 0; fi
	[ "$running" = "$ours" ] || die "the running Postfix master (pid $running) is not the one this script started ($ours)"
	kids=$(children "$ours")
	postfix stop
	if ! left=$(wait_gone 30 "$ours" $kids); then
		note "postfix processes still running after 30s, terminating:$left"
		kill $left 2>/dev/null || true
		wait_gone 5 $left >/dev/null || die "postfix processes did not exit:$left"
	fi
	rm -f "$PF_PIDFILE"
}

stop_dovecot() {
	master=$(dc_master_pid)
	[ -n "$master" ] || return 0
	kids=$(children "$master")
	# The master stops its children first (shutdown_clients = yes).
	kill -TERM "$master"
	if ! left=$(wait_gone 60 "$master" $kids); then
		note "dovecot processes still running after 60s, terminating:$left"
		kill $left 2>/dev/null || true
		wait_gone 5 $left >/dev/null || die "dovecot processes did not exit:$left"
	fi
}

restore_postfix() {
	for f in main.cf master.cf; do
		if [ -e "$PF_CONF/$f$PF_ORIG_SUFFIX" ]; then
			mv -f "$PF_CONF/$f$PF_ORIG_SUFFIX" "$PF_CONF/$f"
		fi
	done
	if [ -e "$PF_CONF/main.cf$PF_ORIG_SUFFIX.absent" ]; then
		rm -f "$PF_CONF/main.cf" "$PF_CONF/main.cf$PF_ORIG_SUFFIX.absent"
	fi
}

cmd_start() {
	bench_dir
	start_postfix
	start_dovecot
	echo "postfix on 127.0.0.1:$PF_SMTP_PORT, dovecot imap 127.0.0.1:$DC_IMAP_PORT pop3 127.0.0.1:$DC_POP3_PORT"
}

cmd_stop() {
	restore=no
	case ${1:-} in
	"") ;;
	--restore) restore=yes ;;
	*) die "usage: stop [--restore]" ;;
	esac
	bench_dir
	stop_dovecot
	stop_postfix
	if [ $restore = yes ]; then
		if [ -n "$(pf_master_pid)" ]; then
			die "a Postfix master is still running; /etc/postfix left as configured"
		fi
		restore_postfix
		restore_inotify
	fi
}

cmd_restart_dovecot() {
	bench_dir
	stop_dovecot
	start_dovecot
}

cmd_versions() {
	echo "postfix $(postconf -h mail_version)"
	echo "dovecot $(dovecot --version | cut -d ' ' -f 1)"
}

# The processes that grow with client connections: pre-login connections in
# the login processes, one mail process per logged-in session.
cmd_mem_pids() {
	bench_dir
	master=$(dc_master_pid)
	[ -n "$master" ] || die "dovecot is not running"
	ps -o pid=,comm= --ppid "$master" |
		awk '$2 == "imap" || $2 == "imap-login" || $2 == "pop3" || $2 == "pop3-login" { print $1 }'
}

cmd_wipe() {
	bench_dir
	[ -r "$USERS_LIST" ] || die "no user list in $STATE; run setup first"
	vmail_ids
	postsuper -d ALL
	# Maildirs and Dovecot's index files (kept inside them) go together.
	rm -rf "$VMAIL_BASE"
	make_maildirs
}

main() {
	[ $# -ge 1 ] || die "usage: $0 install|setup USERFILE|start|stop [--restore]|restart-dovecot|versions|mem-pids|wipe"
	cmd=$1; shift
	case $cmd in
	install) cmd_install "$@" ;;
	setup) cmd_setup "$@" ;;
	start) cmd_start "$@" ;;
	stop) cmd_stop "$@" ;;
	restart-dovecot) cmd_restart_dovecot "$@" ;;
	versions) cmd_versions "$@" ;;
	mem-pids) cmd_mem_pids "$@" ;;
	wipe) cmd_wipe "$@" ;;
	*) die "unknown command $cmd" ;;
	esac
}

main "$@"
