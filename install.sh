#!/usr/bin/env bash
# Installs what ducttape and its whole test suite need on a bare Debian 12 machine, as root:
# Debian packages, the virtual environment .venv/ (Debian's python3, the locked requirements.txt,
# this checkout as an editable package) and a running dockerd. One line per step; a second run
# does no package work and says so; a failed step is one line naming it (the commands' output
# goes to $LOG).
#
#   ./install.sh            the locked versions of requirements.txt (what CI uses)
#   ./install.sh --latest   then also .venv-latest/: the newest versions that pyproject.toml allows,
#                           what differs from the lock, and the fast tests run there (docs/development.md)
set -uo pipefail
cd "$(dirname "$0")"

PACKAGES=(python3 python3-venv openjdk-17-jdk-headless maven git ca-certificates
          openssh-server openssh-client rsync curl docker.io vagrant debootstrap chromium
          procps iproute2 golang-go)
PYTHON=/usr/bin/python3      # Debian's, whatever else is first on PATH
VENV=.venv
STAMP="$VENV/.requirements.sha256"
PACKAGE_STAMP="$VENV/.pyproject.sha256"
LATEST=.venv-latest
LOG=/var/log/ducttape-install.log

latest=no
for arg in "$@"; do
  case "$arg" in
    --latest) latest=yes ;;
    *) echo "install.sh: unknown option '$arg'; the one option is --latest" >&2; exit 2 ;;
  esac
done

if [ "$(id -u)" != 0 ]; then
  echo "install.sh: must run as root (it installs Debian packages and starts dockerd); try: sudo $0" >&2
  exit 2
fi

say() { printf '[install] %s\n' "$*"; }

# step WHAT COMMAND...: run COMMAND with its output in $LOG; on failure one line and exit 1.
step() {
  local what="$1"; shift
  say "$what"
  printf '\n### %s: %s\n' "$(date -u +%FT%TZ)" "$what" >>"$LOG"
  "$@" >>"$LOG" 2>&1
  local status=$?
  if [ $status != 0 ]; then
    echo "install.sh: step '$what' failed (exit $status): $(grep -v '^\s*$' "$LOG" | tail -n 1); full output in $LOG" >&2
    exit 1
  fi
}

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  step "apt-get update" apt-get update
  step "apt-get install ${missing[*]}" apt-get install -y --no-install-recommends "${missing[@]}"
else
  say "Debian packages: all ${#PACKAGES[@]} installed already, no apt work"
fi

# The venv holds exactly the lock (requirements.txt, with hashes) and this checkout as an editable
# package. When the lock changed, or the venv was made by another python (e.g. a pyenv one), it is
# made anew: nothing of an older lock stays behind. When only pyproject.toml changed, the package
# alone is installed again.
locked="$(sha256sum requirements.txt | cut -d' ' -f1) $PYTHON"
package="$(sha256sum pyproject.toml 2>/dev/null | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$locked" ] || ! "$VENV/bin/python" -c '' 2>/dev/null; then
  step "create $VENV with $PYTHON" bash -c "rm -rf '$VENV' && '$PYTHON' -m venv '$VENV'"
  step "pip install -r requirements.txt into $VENV" \
    "$VENV/bin/python" -m pip install --disable-pip-version-check --require-hashes -r requirements.txt
  echo "$locked" >"$STAMP"
else
  say "$VENV: requirements.txt installed already, no pip work"
fi
if [ "$(cat "$PACKAGE_STAMP" 2>/dev/null)" != "$package" ]; then
  step "pip install -e . into $VENV" \
    "$VENV/bin/python" -m pip install --disable-pip-version-check --no-deps --no-build-isolation -e .
  echo "$package" >"$PACKAGE_STAMP"
fi

# name==version lines of a requirements or freeze text, names normalized, sorted
pins() { grep -oE '^[A-Za-z0-9._-]+==[^ ;]+' | awk -F'==' '{n=tolower($1); gsub(/[-_.]+/,"-",n); print n"=="$2}' | sort; }

# dockerd for the Vagrant docker provider (workers are containers on a network we create).
if ! docker info >/dev/null 2>&1; then
  say "start dockerd (log: /var/log/dockerd.log)"
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || {
    echo "install.sh: step 'start dockerd' failed: no answer within 30 s; see /var/log/dockerd.log" >&2
    exit 1
  }
else
  say "dockerd running"
fi
if [ "$latest" = yes ]; then
  step "create $LATEST with $PYTHON" bash -c "rm -rf '$LATEST' && '$PYTHON' -m venv '$LATEST'"
  step "pip install the newest versions pyproject.toml allows into $LATEST" \
    "$LATEST/bin/python" -m pip install --disable-pip-version-check --upgrade pip -e '.[dev]'
  newer="$(comm -13 <(pins <requirements.txt) <("$LATEST/bin/python" -m pip freeze --all --exclude-editable | pins))"
  say "$LATEST: $(printf '%s' "$newer" | grep -c .) packages differ from the lock${newer:+:}"
  [ -n "$newer" ] && printf '%s\n' "$newer" | sed 's/^/    /'
  say "fast tests in $LATEST: pytest -m 'not slow and not lock'"
  "$LATEST/bin/python" -m pytest -q -m "not slow and not lock" -p no:cacheprovider
  exit $?
fi

say "done: run commands with $VENV/bin/invoke, $VENV/bin/pytest (or: . $VENV/bin/activate)"
