#!/usr/bin/env bash
# Bootstrap the tools Atelier needs: Node >= 22.18, the pinned pnpm, redis-server (and, for
# browser tests and compose validation, chromium and docker-compose).
#
# Use it sourced, so the tools land on your PATH:   . scripts/bootstrap.sh
# Idempotent: when everything is present it only checks versions and exits quickly.
# Everything it downloads lives in .tools/ (git-ignored); nothing global is touched except
# Debian packages, which it installs only when running as root.

_atelier_bootstrap() {
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  local tools="$root/.tools"
  local want_pnpm
  want_pnpm="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$root/package.json")"
  local node_major=24
  local quiet="${ATELIER_BOOTSTRAP_QUIET:-}"
  say() { [ -n "$quiet" ] || echo "bootstrap: $*" >&2; }

  mkdir -p "$tools"

  # --- Node >= 22.18 (native TypeScript type stripping) ---------------------------------
  node_ok() {
    command -v node >/dev/null 2>&1 || return 1
    node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=18)?0:1)'
  }
  if [ -x "$tools/node/node_modules/node/bin/node" ]; then
    export PATH="$tools/node/node_modules/node/bin:$PATH"
  fi
  if ! node_ok; then
    command -v npm >/dev/null 2>&1 || { echo "bootstrap: npm is required to install Node $node_major" >&2; return 1; }
    say "system node is $(node -v 2>/dev/null || echo missing); installing node@$node_major into .tools/node"
    npm install --prefix "$tools/node" --no-save --no-audit --no-fund --loglevel=error "node@$node_major" >&2 || return 1
    export PATH="$tools/node/node_modules/node/bin:$PATH"
    node_ok || { echo "bootstrap: node@$node_major did not install a working binary" >&2; return 1; }
  fi

  # --- pnpm, pinned by package.json#packageManager ----------------------------------------
  if [ -x "$tools/pnpm/node_modules/.bin/pnpm" ]; then
    export PATH="$tools/pnpm/node_modules/.bin:$PATH"
  fi
  if [ "$(pnpm -v 2>/dev/null)" != "$want_pnpm" ]; then
    command -v npm >/dev/null 2>&1 || { echo "bootstrap: npm is required to install pnpm@$want_pnpm" >&2; return 1; }
    say "installing pnpm@$want_pnpm into .tools/pnpm"
    npm install --prefix "$tools/pnpm" --no-save --no-audit --no-fund --loglevel=error "pnpm@$want_pnpm" >&2 || return 1
    export PATH="$tools/pnpm/node_modules/.bin:$PATH"
  fi

  # --- Debian packages: redis-server (tests, embedded stack), chromium (browser test),
  #     docker-compose (validates docker-compose.yml) ------------------------------------
  local missing=()
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  [ -n "${ATELIER_SKIP_CHROMIUM:-}" ] || [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      say "installing Debian packages: ${missing[*]}"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null; } \
        || { echo "bootstrap: apt-get install ${missing[*]} failed" >&2; return 1; }
    else
      echo "bootstrap: please install: ${missing[*]} (e.g. sudo apt-get install -y ${missing[*]})" >&2
      command -v redis-server >/dev/null 2>&1 || return 1
    fi
  fi

  say "node $(node -v), pnpm $(pnpm -v), $(redis-server --version | cut -d' ' -f3)"
}

if ! _atelier_bootstrap; then
  # shellcheck disable=SC2317
  return 1 2>/dev/null || exit 1
fi
unset -f _atelier_bootstrap
