#!/usr/bin/env bash
# Installs what ducttape and its whole test suite need on a bare Debian 12 machine, as root:
# Debian packages, the virtual environment .venv/ (Debian's python3, the pinned requirements.txt)
# and a running dockerd. One line per step; a second run does no package work and says so; a
# failed step is one line naming it (the commands' output goes to $LOG).
set -uo pipefail
cd "$(dirname "$0")"

PACKAGES=(python3 python3-venv openjdk-17-jdk-headless maven git ca-certificates
          openssh-server openssh-client rsync curl docker.io vagrant debootstrap chromium
          procps iproute2 golang-go)
PYTHON=/usr/bin/python3      # Debian's, whatever else is first on PATH
VENV=.venv
STAMP="$VENV/.requirements.sha256"
LOG=/var/log/ducttape-install.log

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

# A venv made by another python (e.g. a pyenv one) is replaced by one of Debian's python3.
if [ "$(sed -n 's/^home = //p' "$VENV/pyvenv.cfg" 2>/dev/null)" != "$(dirname "$PYTHON")" ] \
   || ! "$VENV/bin/python" -c '' 2>/dev/null; then
  step "create $VENV with $PYTHON" bash -c "rm -rf '$VENV' && '$PYTHON' -m venv '$VENV'"
fi

wanted="$(sha256sum requirements.txt | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$wanted" ]; then
  step "pip install -r requirements.txt into $VENV" \
    "$VENV/bin/python" -m pip install --disable-pip-version-check -r requirements.txt
  echo "$wanted" >"$STAMP"
else
  say "$VENV: requirements.txt installed already, no pip work"
fi

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
say "done: run commands with $VENV/bin/invoke, $VENV/bin/pytest (or: . $VENV/bin/activate)"
