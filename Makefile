SHELL := /bin/bash
.DEFAULT_GOAL := help
STAMP := node_modules/.package-lock.json

.PHONY: help install gen gen-check lint build run test bench mutation clean

help:
	@echo "make run    install, build and start the API on DOCKREV_HTTP_ADDR (default 0.0.0.0:50883)"
	@echo "make test   everything: contract lint, drift check, build, unit, store and contract tests"
	@echo "make gen    regenerate src/generated/ from openapi/"
	@echo "make mutation  mutation testing (Stryker) of the pure cores, by hand; report in .tmp/mutation/"

$(STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $(STAMP)

install: $(STAMP)

gen: install
	scripts/gen.sh

gen-check: install
	scripts/gen.sh --check

lint: gen-check
	node_modules/.bin/redocly lint openapi/dockrev.yaml openapi/supervisor.yaml
	node scripts/validate-spec.mjs
	node_modules/.bin/spectral lint src/generated/dockrev.openapi.json src/generated/supervisor.openapi.json -r .spectral.yaml --fail-severity=warn

build: install
	rm -rf dist
	node_modules/.bin/tsc -p tsconfig.json
	node_modules/.bin/tsc -p web/tsconfig.json
	node_modules/.bin/vite build --config web/vite.config.ts --logLevel warn
	node scripts/web-budget.mjs dist/web
	node_modules/.bin/redocly build-docs src/generated/dockrev.openapi.json --inlineBundle --title 'Dockrev API' -o dist/docs/api.html >/dev/null 2>&1 \
	  || node_modules/.bin/redocly build-docs src/generated/dockrev.openapi.json --inlineBundle --title 'Dockrev API' -o dist/docs/api.html

run: build
	npm start --silent

test: lint build
	scripts/test.sh

# N running services (BENCH_SERVICES, default 200) over M repositories (BENCH_REPOS, default 50):
# a full check through the API against the floor; figures in .tmp/bench/check.json. Then the update
# overhead, event subscribers, and notification latency (.tmp/bench/notify.json). See bench/.
bench: build
	bench/run.sh

# Stryker over auth, update validation and selection, ignore rules, reference parsing and the
# job-log cursor (stryker.config.mjs); minutes on this machine, so it is not part of `make test`.
mutation: install
	node_modules/.bin/stryker run stryker.config.mjs

clean:
	rm -rf dist .tmp
