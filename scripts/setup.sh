#!/usr/bin/env bash
# Installs what the project needs into git-ignored folders, each step skipped when already
# done, then builds the TypeScript and the console. What the running system needs always:
# npm packages, the Kafka broker jars (Maven Central), Jaeger (built from the Go module
# proxy). The rest only when asked for, so a first `npm start` builds no load tools:
#
#   bash scripts/setup.sh            what `npm start` needs
#   bash scripts/setup.sh test       and what the tests need: the Prometheus text parser
#                                    (PyPI), Debian's Chromium (apt-get, when run as root)
#   bash scripts/setup.sh k6         and k6 (Go module proxy), for loadtest/
#   bash scripts/setup.sh centrifugo and Centrifugo (Go module proxy), the bench's baseline
#   bash scripts/setup.sh jaeger-later  what `npm start` runs: a Jaeger not built yet is left
#                                    to the launcher, which builds it in the background
#   bash scripts/setup.sh only-jaeger   Jaeger alone (the launcher's background build)
#
#   RTM_TOOLS_DIR   where tools go (default: <repo>/.tools)
#   RTM_SKIP_BUILD  set to 1 to skip the TypeScript/console build
#   RTM_CHROMIUM    the Chromium the browser tests drive (default /usr/bin/chromium)
set -euo pipefail

want_test=0
want_k6=0
want_centrifugo=0
jaeger_later=0
only_jaeger=0
for extra in "$@"; do
  case "$extra" in
    test) want_test=1 ;;
    k6) want_k6=1 ;;
    centrifugo) want_centrifugo=1 ;;
    jaeger-later) jaeger_later=1 ;;
    only-jaeger) only_jaeger=1 ;;
    *) echo "[setup] unknown extra: $extra (test, k6, centrifugo, jaeger-later, only-jaeger)" >&2; exit 2 ;;
  esac
done

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${RTM_TOOLS_DIR:-$repo/.tools}"
mkdir -p "$tools/bin"
cd "$repo"

KAFKA_VERSION=4.1.2
# Jaeger v2's all-in-one binary lives in the jaeger module's cmd/jaeger. Its releases are
# tagged v2.x, which Go rejects for a module without a /v2 path, so the pin is the v1.x tag
# cut from the same commit (v1.76.0 = Jaeger v2.13.0). That go.mod carries a replace
# directive, which `go install pkg@version` refuses, so the module is fetched through the
# Go module proxy with `go mod download` and built in place with `go build`.
JAEGER_MODULE=github.com/jaegertracing/jaeger
JAEGER_VERSION=v1.76.0
K6_VERSION=v1.8.1
# The bench's baseline: a real-time messaging server in Go (memory engine), same machine, same client.
CENTRIFUGO_VERSION=v6.9.1
# The Prometheus project's own parser of its text format (pure Python, no dependencies):
# the tests read every server's /metrics with it rather than with hand-written regexes.
PROM_CLIENT_VERSION=0.26.0

step() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
need() { command -v "$1" >/dev/null 2>&1 || { echo "[setup] missing $1: $2" >&2; exit 1; }; }

need node "Node.js 20.19+ is required"
need npm "npm is required"
need java "a Java 17+ runtime is required for Kafka"
need mvn "Maven is required to fetch the Kafka jars"
need go "Go 1.24+ is required to build Jaeger and k6"
if [ "$want_test" = 1 ]; then need python3 "Python 3 is required for the Prometheus text parser the tests use"; fi

# Prints a line every 40 packages while `go build -v` / `go install -v` compiles, so a
# first build that takes minutes visibly moves.
progress() {
  local what=$1 n=0
  while IFS= read -r line; do
    case "$line" in
      go:\ downloading*) ;;
      *) n=$((n + 1)); if (( n % 40 == 0 )); then step "$what: $n packages compiled"; fi ;;
    esac
  done
  step "$what: $n packages compiled"
}

# 1. npm packages
if [ "$only_jaeger" = 1 ]; then
  : # the launcher's background build: npm packages and Kafka are there already
elif [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "installing npm packages"
  if [ -d node_modules ]; then npm install --no-audit --no-fund; else npm ci --no-audit --no-fund; fi
else
  step "npm packages: up to date"
fi

# 2. Kafka broker jars
kafka_stamp="$tools/kafka/.version"
if [ "$only_jaeger" = 1 ]; then
  :
elif [ "$(cat "$kafka_stamp" 2>/dev/null)" != "$KAFKA_VERSION" ]; then
  step "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central"
  rm -rf "$tools/kafka/libs"
  mvn -B -q -f packages/launcher/kafka/pom.xml -Dkafka.version="$KAFKA_VERSION" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tools/kafka/libs"
  echo "$KAFKA_VERSION" > "$kafka_stamp"
else
  step "Kafka $KAFKA_VERSION: cached"
fi

export GOTOOLCHAIN=local
export GOFLAGS="${GOFLAGS:-} -mod=mod"

# 3. Jaeger
jaeger_stamp="$tools/bin/.jaeger-version"
jaeger_built=1
if [ ! -x "$tools/bin/jaeger" ] || [ "$(cat "$jaeger_stamp" 2>/dev/null)" != "$JAEGER_VERSION" ]; then jaeger_built=0; fi
if [ "$jaeger_built" = 0 ] && [ "$jaeger_later" = 1 ]; then
  # Jaeger's first build takes minutes on a cold Go cache (557 s measured on 2 cores, nearly
  # all of a fresh machine's first start): the system starts without it, and the launcher
  # builds and starts it in the background.
  step "Jaeger $JAEGER_VERSION: not built yet; the launcher builds it in the background"
elif [ "$jaeger_built" = 0 ]; then
  step "building Jaeger $JAEGER_VERSION (first time: a few minutes)"
  dir="$(go mod download -json "$JAEGER_MODULE@$JAEGER_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [ -n "$dir" ] || { echo "[setup] could not download $JAEGER_MODULE@$JAEGER_VERSION" >&2; exit 1; }
  src="$tools/src/jaeger-$JAEGER_VERSION"
  rm -rf "$src"; mkdir -p "$tools/src"; cp -r "$dir" "$src"; chmod -R u+w "$src"
  (cd "$src" && go build -v -trimpath -o "$tools/bin/jaeger" ./cmd/jaeger 2>&1) | progress "Jaeger"
  [ -x "$tools/bin/jaeger" ] || { echo "[setup] Jaeger build failed" >&2; exit 1; }
  rm -rf "$src"
  echo "$JAEGER_VERSION" > "$jaeger_stamp"
else
  step "Jaeger $JAEGER_VERSION: cached"
fi

# 4. Go tools built on demand with `go install`, cached by version in .tools/bin.
go_tool() { # <name> <binary> <module@version> <version>
  local name=$1 bin=$2 module=$3 version=$4 stamp="$tools/bin/.$2-version"
  if [ ! -x "$tools/bin/$bin" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$version" ]; then
    step "building $name $version (first time: a few minutes)"
    (GOBIN="$tools/bin" go install -v -trimpath "$module" 2>&1) | progress "$name"
    [ -x "$tools/bin/$bin" ] || { echo "[setup] $name build failed" >&2; exit 1; }
    echo "$version" > "$stamp"
  else
    step "$name $version: cached"
  fi
}
# k6 for the load tests; Centrifugo, the bench's baseline.
if [ "$want_k6" = 1 ]; then go_tool k6 k6 "go.k6.io/k6@$K6_VERSION" "$K6_VERSION"; fi
if [ "$want_centrifugo" = 1 ]; then go_tool Centrifugo centrifugo "github.com/centrifugal/centrifugo/v6@$CENTRIFUGO_VERSION" "$CENTRIFUGO_VERSION"; fi

# 5-6. For the tests only: the Prometheus text parser and Chromium
if [ "$want_test" = 1 ]; then
  # 5. Prometheus text parser for the tests
  prom_stamp="$tools/python/.prometheus-client-version"
  if [ "$(cat "$prom_stamp" 2>/dev/null)" != "$PROM_CLIENT_VERSION" ]; then
    step "installing prometheus-client $PROM_CLIENT_VERSION (PyPI)"
    rm -rf "$tools/python"
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --target "$tools/python" "prometheus-client==$PROM_CLIENT_VERSION"
    echo "$PROM_CLIENT_VERSION" > "$prom_stamp"
  else
    step "prometheus-client $PROM_CLIENT_VERSION: cached"
  fi

  # 6. Chromium for the console's browser tests: Debian's package, driven by playwright-core
  # through its executablePath (a browser download does not work here). Playwright is pinned to
  # 1.64, whose bundled Chromium (156) is the major Debian serves.
  chromium="${RTM_CHROMIUM:-/usr/bin/chromium}"
  if [ -x "$chromium" ]; then
    step "Chromium: $("$chromium" --version 2>/dev/null | head -1)"
  elif [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    step "installing Debian's chromium (apt-get)"
    apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null; }
    [ -x "$chromium" ] || { echo "[setup] chromium did not install at $chromium" >&2; exit 1; }
  else
    echo "[setup] no Chromium at $chromium: the console's browser tests need it (sudo apt-get install chromium, or set RTM_CHROMIUM)" >&2
  fi
fi

# 7. Build
if [ "${RTM_SKIP_BUILD:-0}" != "1" ] && [ "$only_jaeger" != 1 ]; then
  step "building TypeScript"
  npx tsc -b
  step "building the console"
  npm run --silent build -w console >/dev/null
fi
step "done"
