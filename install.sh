#!/usr/bin/env bash
# Installs what ducttape and its test suite need on a Debian 12 machine (run as root) and starts dockerd.
# Idempotent: safe to run again. Prints one line per step.
set -euo pipefail
cd "$(dirname "$0")"

step() { printf '[install] %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
  echo "install.sh: must run as root (it installs Debian packages and starts sshd and dockerd); try: sudo ./install.sh" >&2
  exit 2
fi

packages=(openssh-server openssh-client rsync curl docker.io vagrant debootstrap chromium procps iproute2)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "apt-get install ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  step "Debian packages present"
fi

step "pip install -r requirements.txt"
python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -r requirements.txt

# dockerd for the Vagrant docker provider (workers are containers on a network we create).
if ! docker info >/dev/null 2>&1; then
  step "start dockerd"
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { echo "install.sh: dockerd did not come up; see /var/log/dockerd.log" >&2; exit 1; }
else
  step "dockerd running"
fi
step "done"
