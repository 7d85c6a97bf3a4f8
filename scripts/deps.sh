#!/usr/bin/env bash
# deps.sh run|test|screenshots — install what `make run`, `make test` or
# (after `deps.sh test`) `make screenshots` needs and is missing.
# Debian packages come from apt (as root, or through sudo); Go tools from the
# module proxy into $(go env GOPATH)/bin; TypeScript and axe-core from npm into
# node_modules, at the version package-lock.json pins. Nothing is installed twice.
set -euo pipefail
what=${1:-run}
root="$(cd "$(dirname "$0")/.." && pwd)"

need=()
have_pg() { ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }
have_pg || need+=(postgresql)
if [ "$what" = test ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
  command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
  command -v git >/dev/null 2>&1 || need+=(git)
  command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
fi
# The room's reaction buttons are emoji: without a font for them the
# screenshots show empty boxes.
if [ "$what" = screenshots ]; then
  dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || need+=(fonts-noto-color-emoji)
fi

if [ ${#need[@]} -gt 0 ]; then
  echo "deps: installing ${need[*]}" >&2
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # The Debian package starts a cluster of its own; classmeet runs private ones.
  if [[ " ${need[*]} " == *" postgresql "* ]] && command -v pg_lsclusters >/dev/null; then
    pg_lsclusters -h 2>/dev/null | while read -r ver name _; do $sudo pg_ctlcluster "$ver" "$name" stop || true; done
  fi
fi

# The S3 server the recording tests store into: versitygw, built from source.
if [ "$what" = test ]; then
  gobin=$(go env GOBIN)
  [ -n "$gobin" ] || gobin="$(go env GOPATH)/bin"
  if ! command -v versitygw >/dev/null 2>&1 && [ ! -x "$gobin/versitygw" ]; then
    echo "deps: installing versitygw v1.8.0 (go install, about a minute)" >&2
    go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
  fi
fi

# TypeScript, which type-checks static/*.js (nothing is bundled or emitted),
# and axe-core, which the browser tests inject into pages; installed again
# when missing or not the versions package.json pins.
if [ "$what" = test ]; then
  stale=
  for pkg in typescript axe-core; do
    want=$(node -p "require('$root/package.json').devDependencies['$pkg']")
    have=$(node -p "require('$root/node_modules/$pkg/package.json').version" 2>/dev/null || true)
    [ "$have" = "$want" ] || stale="$stale $pkg@$want"
  done
  if [ -n "$stale" ]; then
    echo "deps: installing$stale (npm ci, as package-lock.json pins them)" >&2
    (cd "$root" && npm ci --no-audit --no-fund)
  fi
fi
