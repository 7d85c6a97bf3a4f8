# classmeet — `make run` starts it, `make test` proves it. See README.md.
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GOFLAGS_BUILD := -trimpath -ldflags "-s -w -X main.version=$(VERSION)"

.PHONY: run test screenshots build generate fmt lint pg-stop clean

run: build
	@scripts/run.sh

test:
	@scripts/test.sh

# docs/screenshots/*.png, shown in README.md: the main pages at three sizes.
screenshots:
	@scripts/screenshots.sh

build:
	CGO_ENABLED=0 go build $(GOFLAGS_BUILD) -o bin/classmeet ./cmd/classmeet

generate:
	go tool templ generate

fmt:
	gofmt -w $$(git ls-files '*.go')

lint:
	gofmt -l $$(git ls-files '*.go')
	go vet ./...
	[ -x node_modules/.bin/tsc ] || npm ci --no-audit --no-fund
	node_modules/.bin/tsc -p .

pg-stop:
	scripts/pg.sh stop .data/pg

clean:
	-scripts/pg.sh stop .data/pg
	-scripts/pg.sh stop .data/test-pg
	rm -rf bin .data
