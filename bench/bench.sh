#!/usr/bin/env bash
# bench/bench.sh TARGET... runs the scenarios of docs/benchmarks.md against
# each target and writes the report. TARGETs:
#   embedded         bucketmail run, SQLite + local directory
#   cloud            bucketmail run on redis-server + versitygw (S3), on loopback
#   postfix-dovecot  Postfix + Dovecot from Debian's packages (bench/postfix-dovecot.sh)
# Everything listens on 127.0.0.1 only. Environment:
#   BENCH_WORK   work directory (default /tmp/bucketmail-bench; emptied first)
#   BENCH_RUNS   runs per figure (default 3)
#   BENCH_FLAGS  extra flags for `bmbench suite` (e.g. --smtp-messages 1000 for a quick look)
#   BENCH_CONNS  idle IMAP connection counts of bucketmail's memory runs (default 1000,10000)
#   BENCH_PFDC_CONNS  the same for Dovecot (default 1000)
#   BENCH_REPORT 0 to leave docs/ alone (default 1: rewrite docs/benchmarks.md and .json)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${BENCH_WORK:-/tmp/bucketmail-bench}
RUNS=${BENCH_RUNS:-3}
CONNS=${BENCH_CONNS:-1000,10000}
# Dovecot forks a process per IMAP session (about 35 logins/s here): 10,000
# take minutes per run, so by default it is measured at 1,000 only.
PFDC_CONNS=${BENCH_PFDC_CONNS:-1000}
BM=$ROOT/bin/bucketmail
BB=$ROOT/bin/bmbench
VGW=$ROOT/.testbin/versitygw
RESULTS=$WORK/results
DOMAIN=bench.test
PASSWORD=bench-password
S3_ACCESS=benchaccess
S3_SECRET=benchsecret0123456789

# Ports on 127.0.0.1.
DNS_PORT=5399 SMTP_PORT=2725 IMAP_PORT=2743 POP3_PORT=2710 HTTP_PORT=2780 METRICS_PORT=2781
REDIS_PORT=2779 S3_PORT=2777
export PF_SMTP_PORT=2625 DC_IMAP_PORT=2643 DC_POP3_PORT=2610

[ $# -gt 0 ] || set -- embedded cloud
ulimit -n "$(ulimit -Hn)"
rm -rf "$WORK"
mkdir -p "$WORK" "$RESULTS"
log() { printf '%s bench: %s\n' "$(date +%T)" "$*" >&2; }

PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ -n "${PFDC:-}" ]; then "$ROOT/bench/postfix-dovecot.sh" stop --restore || true; fi
}
trap cleanup EXIT

wait_port() { # host:port
	for _ in $(seq 1 300); do
		if (exec 3<>"/dev/tcp/${1%:*}/${1#*:}") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	log "nothing answers on $1"; return 1
}

forget() { # pid: stop tracking it
	local keep=() p
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

stop_pid() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	forget "$1"
}

"$BB" dns --addr 127.0.0.1:$DNS_PORT 2>"$WORK/dns.log" &
PIDS+=($!)
sleep 0.5
# Fail now rather than measure with whatever else answers on that port.
kill -0 "${PIDS[-1]}" 2>/dev/null || { cat "$WORK/dns.log" >&2; exit 1; }

VERSION=$("$BM" version | head -1)

# start_bucketmail MODE [FLAG...]: starts `bucketmail run` in the background, BM_PID.
start_bucketmail() {
	local mode=$1
	shift
	"$BM" run --log-level warn --hostname mx.bench.test "$@" \
		--smtp-addr 127.0.0.1:$SMTP_PORT --submission-addr "" --submissions-addr "" \
		--imap-addr 127.0.0.1:$IMAP_PORT --imaps-addr "" \
		--pop3-addr 127.0.0.1:$POP3_PORT --pop3s-addr "" --managesieve-addr "" \
		--http-addr 127.0.0.1:$HTTP_PORT --metrics-addr 127.0.0.1:$METRICS_PORT \
		--allow-insecure-auth --limit-conn-per-ip-minute 0 --limit-auth-failures 0 \
		--dns-resolver 127.0.0.1:$DNS_PORT \
		>>"$WORK/bucketmail-$mode.log" 2>&1 &
	BM_PID=$!
	PIDS+=($BM_PID)
	wait_port 127.0.0.1:$SMTP_PORT
	wait_port 127.0.0.1:$IMAP_PORT
}

provision_bucketmail() {
	"$BM" domain add $DOMAIN >/dev/null
	for u in $("$BB" users --domain $DOMAIN); do
		echo "$PASSWORD" | "$BM" user add "$u" --password-stdin >/dev/null
	done
}

common=(--domain $DOMAIN --password "$PASSWORD" --runs "$RUNS")

# bench_bucketmail MODE SOFTWARE
bench_bucketmail() {
	local mode=$1 software=$2 target=bucketmail-$1
	local flags=(--target "$target" --software "$software" --out "$RESULTS/$target.json" "${common[@]}"
		--smtp 127.0.0.1:$SMTP_PORT --imap 127.0.0.1:$IMAP_PORT --pop3 127.0.0.1:$POP3_PORT)
	provision_bucketmail
	start_bucketmail "$mode"
	log "$target: suite"
	# shellcheck disable=SC2086
	"$BB" suite "${flags[@]}" --metrics http://127.0.0.1:$METRICS_PORT/metrics ${BENCH_FLAGS:-}
	stop_pid "$BM_PID"
	if [ "$mode" = cloud ]; then
		# The reconciler and snapshotter passes are off for this one: what
		# they cost is per pass, not per message (TestRequestCosts measures
		# them apart, docs/benchmarks.md).
		start_bucketmail "$mode" --reconcile-interval 0 --snapshot-interval 0
		log "$target: request costs"
		"$BB" cost "${flags[@]}" --metrics http://127.0.0.1:$METRICS_PORT/metrics --redis 127.0.0.1:$REDIS_PORT
		stop_pid "$BM_PID"
	fi
	# Memory: every run on a fresh process, so that none reuses what an
	# earlier one left.
	for n in ${CONNS//,/ }; do
		for _ in $(seq 1 "$RUNS"); do
			start_bucketmail "$mode"
			log "$target: memory, $n connections"
			"$BB" mem "${flags[@]}" --pid "$BM_PID" --conns "$n"
			stop_pid "$BM_PID"
		done
	done
}

for target in "$@"; do
	case $target in
	embedded)
		export BUCKETMAIL_DATA_DIR=$WORK/embedded BUCKETMAIL_STORE="" BUCKETMAIL_BLOBS=""
		bench_bucketmail embedded "$VERSION, embedded: SQLite index and queue, local-directory objects"
		;;
	cloud)
		mkdir -p "$WORK/redis" "$WORK/s3/data"
		# Redis as docs/deploy-cloud.md recommends: AOF, fsync every second.
		redis-server --port $REDIS_PORT --bind 127.0.0.1 --daemonize no --dir "$WORK/redis" \
			--save "" --appendonly yes --appendfsync everysec >"$WORK/redis.log" 2>&1 &
		REDIS_PID=$!
		PIDS+=($REDIS_PID)
		# --keep-alive: versitygw closes every connection after one request
		# unless told otherwise; an S3 service keeps them open.
		"$VGW" --access $S3_ACCESS --secret $S3_SECRET --region us-east-1 --port 127.0.0.1:$S3_PORT \
			--keep-alive --quiet posix "$WORK/s3/data" >"$WORK/versitygw.log" 2>&1 &
		S3_PID=$!
		PIDS+=($S3_PID)
		wait_port 127.0.0.1:$REDIS_PORT
		wait_port 127.0.0.1:$S3_PORT
		export BUCKETMAIL_DATA_DIR=$WORK/cloud BUCKETMAIL_STORE=redis://127.0.0.1:$REDIS_PORT/0
		export BUCKETMAIL_BLOBS="s3://bench?endpoint=127.0.0.1:$S3_PORT&region=us-east-1&secure=false&path_style=true"
		export BUCKETMAIL_S3_ACCESS_KEY=$S3_ACCESS BUCKETMAIL_S3_SECRET_KEY=$S3_SECRET BUCKETMAIL_CREATE_BUCKET=true
		bench_bucketmail cloud "$VERSION, cloud: $(redis-server --version | awk '{print $1, $2, $3}'), versitygw $(cd "$ROOT/tools" && go list -m -f '{{.Version}}' github.com/versity/versitygw) (posix backend)"
		stop_pid "$S3_PID"
		stop_pid "$REDIS_PID"
		unset BUCKETMAIL_STORE BUCKETMAIL_BLOBS BUCKETMAIL_CREATE_BUCKET
		;;
	postfix-dovecot)
		export BENCH_DIR=$WORK/postfix-dovecot BENCH_DOMAIN=$DOMAIN BENCH_PASSWORD=$PASSWORD
		mkdir -p "$BENCH_DIR"
		PFDC=1
		"$ROOT/bench/postfix-dovecot.sh" install
		"$BB" users --domain $DOMAIN | cut -d@ -f1 >"$WORK/users"
		"$ROOT/bench/postfix-dovecot.sh" setup "$WORK/users"
		"$ROOT/bench/postfix-dovecot.sh" start
		software="$("$ROOT/bench/postfix-dovecot.sh" versions | paste -sd, | sed 's/,/, /g'): Postfix virtual(8) to Maildir, Dovecot IMAP/POP3 on it"
		flags=(--target postfix-dovecot --software "$software" --out "$RESULTS/postfix-dovecot.json" "${common[@]}"
			--smtp 127.0.0.1:$PF_SMTP_PORT --imap 127.0.0.1:$DC_IMAP_PORT --pop3 127.0.0.1:$DC_POP3_PORT)
		log "postfix-dovecot: suite"
		# shellcheck disable=SC2086
		"$BB" suite "${flags[@]}" ${BENCH_FLAGS:-}
		for n in ${PFDC_CONNS//,/ }; do
			for _ in $(seq 1 "$RUNS"); do
				"$ROOT/bench/postfix-dovecot.sh" restart-dovecot
				log "postfix-dovecot: memory, $n connections"
				"$BB" mem "${flags[@]}" --pids-cmd "$ROOT/bench/postfix-dovecot.sh mem-pids" --conns "$n"
			done
		done
		"$ROOT/bench/postfix-dovecot.sh" stop --restore
		PFDC=
		;;
	*)
		echo "bench.sh: unknown target $target (embedded, cloud, postfix-dovecot)" >&2
		exit 2
		;;
	esac
done

if [ "${BENCH_REPORT:-1}" = 1 ]; then
	command="make bench"
	case " $* " in *" postfix-dovecot "*) command="make bench-compare" ;; esac
	"$BB" report --command "$command" --md "$ROOT/docs/benchmarks.md" --json "$ROOT/docs/benchmarks.json" "$RESULTS"/*.json
	log "wrote docs/benchmarks.md and docs/benchmarks.json"
fi
log "raw figures and logs in $WORK"
