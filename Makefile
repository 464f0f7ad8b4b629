# bucketmail: build, run and test. Every target fails loudly; nothing hides
# a failing command.

GO      ?= go
BIN     := bin/bucketmail
DATA    ?= ./data
PYTHON  ?= python3
TERRAFORM ?= terraform

# VERSION is stamped into release binaries (`bucketmail version`).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
RELEASE_LDFLAGS := -s -w -X main.version=$(VERSION)
RELEASE_PLATFORMS := linux/amd64 linux/arm64

# Ports used by `make run` (all on 127.0.0.1, unprivileged).
SMTP_PORT        ?= 2525
SUBMISSION_PORT  ?= 2587
SUBMISSIONS_PORT ?= 2465
IMAP_PORT        ?= 1143
IMAPS_PORT       ?= 1993
POP3_PORT        ?= 1110
POP3S_PORT       ?= 1995
MANAGESIEVE_PORT ?= 4190
HTTP_PORT        ?= 8080
METRICS_PORT     ?= 8081

# RUN_HELP is what `make run` prints before starting the server.
define RUN_HELP
bucketmail on 127.0.0.1, data in $(DATA):
  SMTP (MX)                   $(SMTP_PORT)
  submission (STARTTLS)       $(SUBMISSION_PORT)
  submissions (implicit TLS)  $(SUBMISSIONS_PORT)
  IMAP (STARTTLS)             $(IMAP_PORT)
  IMAPS (implicit TLS)        $(IMAPS_PORT)
  POP3 (STLS)                 $(POP3_PORT)
  POP3S (implicit TLS)        $(POP3S_PORT)
  ManageSieve (STARTTLS)      $(MANAGESIEVE_PORT)
  HTTP /healthz /readyz, autoconfig, MTA-STS  $(HTTP_PORT)
  HTTP /metrics (private)         $(METRICS_PORT)
The TLS certificate is self-signed (made in $(DATA)); clients must accept it.

Next steps, in another terminal:
  $(BIN) domain add example.org --data-dir $(DATA)
  $(BIN) user add alice@example.org --data-dir $(DATA)    # prints a generated password
  # (or: echo 'secret' | $(BIN) user add alice@example.org --password-stdin --data-dir $(DATA))

Send a test message, with swaks:
  swaks --server 127.0.0.1:$(SMTP_PORT) --tls --from bob@example.net --to alice@example.org
or with Python:
  python3 -c "import smtplib,ssl; s=smtplib.SMTP('127.0.0.1',$(SMTP_PORT)); s.starttls(context=ssl._create_unverified_context()); s.sendmail('bob@example.net',['alice@example.org'],'Subject: hi\n\nhello\n'); s.quit()"

Read it: a mail client on IMAP 127.0.0.1:$(IMAP_PORT) with STARTTLS (or IMAPS $(IMAPS_PORT)),
user alice@example.org and the password above; or with Python:
  python3 -c "import imaplib,ssl; m=imaplib.IMAP4('127.0.0.1',$(IMAP_PORT)); m.starttls(ssl._create_unverified_context()); m.login('alice@example.org','PASSWORD'); m.select(); print(m.fetch('1','(RFC822)')[1][0][1].decode())"

Stop with Ctrl-C.
endef
export RUN_HELP

.PHONY: all build run test deps vet bench bench-compare bench-build bench-micro fmt lint clean release version infra-check chaos

all: build

build:
	$(GO) build -o $(BIN) ./cmd/bucketmail

run: build
	@printf '%s\n' "$$RUN_HELP"
	./$(BIN) run --data-dir $(DATA) \
		--smtp-addr 127.0.0.1:$(SMTP_PORT) \
		--submission-addr 127.0.0.1:$(SUBMISSION_PORT) \
		--submissions-addr 127.0.0.1:$(SUBMISSIONS_PORT) \
		--imap-addr 127.0.0.1:$(IMAP_PORT) \
		--imaps-addr 127.0.0.1:$(IMAPS_PORT) \
		--pop3-addr 127.0.0.1:$(POP3_PORT) \
		--pop3s-addr 127.0.0.1:$(POP3S_PORT) \
		--managesieve-addr 127.0.0.1:$(MANAGESIEVE_PORT) \
		--http-addr 127.0.0.1:$(HTTP_PORT) \
		--metrics-addr 127.0.0.1:$(METRICS_PORT)

# deps installs and builds what the tests need; running it twice is harmless.
# - python3 (standard library only) for the independent client in tests/python;
# - redis-server from Debian's packages (started by internal/testenv on a random
#   loopback port; the package's own service is stopped if it started one);
# - fail2ban from Debian's packages, whose fail2ban-regex checks the filter in
#   infra/fail2ban against the server's log (tests/fail2ban_test.go); its
#   service is stopped likewise;
# - sieve-connect from Debian's packages, the ManageSieve client of
#   tests/sieveconnect_test.go;
# - versitygw, the S3 server of the tests, pinned in tools/go.mod and built
#   into .testbin (internal/testenv starts it).
deps: .testbin/versitygw
	@$(PYTHON) -c 'import sys, smtplib, imaplib, poplib, ssl; assert sys.version_info >= (3, 8), sys.version' \
		|| { echo "make deps: python3 (>= 3.8, standard library) is required by tests/python" >&2; exit 1; }
	@command -v redis-server >/dev/null 2>&1 || { \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server && \
		{ service redis-server stop >/dev/null 2>&1 || true; }; }
	@redis-server --version
	@command -v fail2ban-regex >/dev/null 2>&1 || { \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fail2ban && \
		{ service fail2ban stop >/dev/null 2>&1 || true; }; }
	@fail2ban-regex --version
	@command -v sieve-connect >/dev/null 2>&1 || { \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends sieve-connect; }
	@command -v sieve-connect
	$(GO) mod download

.testbin/versitygw: tools/go.mod tools/go.sum
	cd tools && $(GO) build -o ../.testbin/versitygw github.com/versity/versitygw/cmd/versitygw

vet:
	$(GO) vet ./...

# test runs every test with the race detector, then the cost-growth tests
# (internal/growthtest) again without it, whose instrumentation distorts
# the CPU time they compare.
test: deps vet infra-check
	$(GO) test -race -shuffle=on -timeout 20m ./...
	$(GO) test -run Growth -count=1 -timeout 10m ./...

# chaos runs the chaos test long: CHAOS_MESSAGES messages over CHAOS_DURATION
# while workers, the edge, redis-server and the S3 server are SIGKILLed and
# restarted (docs/operations.md, "Chaos test"). `make test` runs a short one.
# CHAOS_SEED=N replays the schedule of an earlier run (it is logged).
CHAOS_MESSAGES ?= 3000
CHAOS_DURATION ?= 3m
CHAOS_SEED     ?=
chaos: deps
	BUCKETMAIL_CHAOS_MESSAGES=$(CHAOS_MESSAGES) BUCKETMAIL_CHAOS_DURATION=$(CHAOS_DURATION) \
		BUCKETMAIL_CHAOS_SEED=$(CHAOS_SEED) \
		$(GO) test -count=1 -v -run '^TestChaos$$' -timeout 30m ./tests/

# bench runs the load generator (cmd/bmbench) against bucketmail in embedded
# and in cloud mode (redis-server + versitygw on loopback); bench-compare also
# against Postfix + Dovecot from Debian's packages, configured by
# bench/postfix-dovecot.sh. Both rewrite docs/benchmarks.md's tables and
# docs/benchmarks.json (docs/benchmarks.md, "Method"). bench-micro runs the
# Go benchmarks of the packages.
bench: deps bench-build
	bench/bench.sh embedded cloud

bench-compare: deps bench-build
	bench/bench.sh embedded cloud postfix-dovecot

bench-build:
	$(GO) build -ldflags '-X main.version=$(VERSION)' -o $(BIN) ./cmd/bucketmail
	$(GO) build -o bin/bmbench ./cmd/bmbench

bench-micro:
	$(GO) test -run '^$$' -bench . -benchmem ./...

fmt:
	gofmt -w .

# infra-check: Terraform formatting of infra/terraform. The rest of the infra
# checks (HCL, cloud-init, Kubernetes YAML, flag names) are the Go test in
# infra/, run by `go test ./...`. terraform is required, not optional: CI has it.
infra-check:
	@command -v $(TERRAFORM) >/dev/null 2>&1 || { \
		echo "make infra-check: $(TERRAFORM) not found; it is needed for 'terraform fmt -check' (install Terraform >= 1.5 or set TERRAFORM=/path/to/terraform)" >&2; exit 1; }
	$(TERRAFORM) fmt -check -recursive -diff infra/terraform

# release builds static binaries (CGO_ENABLED=0) for every platform of
# RELEASE_PLATFORMS into dist/, with VERSION stamped in, and their SHA256SUMS.
release:
	rm -rf dist && mkdir -p dist
	@set -e; for p in $(RELEASE_PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; \
		echo "building dist/bucketmail-$$os-$$arch ($(VERSION))"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(RELEASE_LDFLAGS)' \
			-o dist/bucketmail-$$os-$$arch ./cmd/bucketmail; \
	done
	cd dist && sha256sum bucketmail-* > SHA256SUMS
	@bin=dist/bucketmail-$$($(GO) env GOOS)-$$($(GO) env GOARCH); \
	if [ -x "$$bin" ]; then $$bin version | grep -F "bucketmail $(VERSION) " \
		|| { echo "make release: $$bin does not report version $(VERSION)" >&2; exit 1; }; fi

version:
	@echo $(VERSION)

lint: vet
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

clean:
	rm -rf bin .testbin dist
