#!/usr/bin/env bash
# Provisions a ducttape worker (run as root by Vagrant's shell provisioner, on every provider).
# Env: SCRATCH (scratch root), ENABLE_DNS (true/false), WORKERS ("worker1=198.18.0.11 ..."),
# BUILD_DIR (where the build folder is on the worker; optional).
# The build/ folder is not handled here: Vagrant rsyncs it to /vagrant/build (see Vagrantfile).
set -euo pipefail

user="${SUDO_USER:-vagrant}"

# A JDK for Kafka and ZooKeeper (jcmd and jps for kafkatest), iptables for ducttape.faults,
# python3 for scenarios whose programs are Python; the docker node image has them.
if ! command -v jcmd >/dev/null || ! command -v iptables >/dev/null || ! command -v python3 >/dev/null; then
  echo "base.sh: installing openjdk-17-jdk-headless, python3, iptables and tools"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends openjdk-17-jdk-headless python3 rsync curl procps iproute2 iptables sudo >/dev/null
fi

# kafkatest (Kafka's own system tests) runs the Kafka under test from /opt/kafka-dev: the
# kafka-dev project of the build folder (projects.yaml).
if [ -n "${BUILD_DIR:-}" ]; then
  ln -sfn "$BUILD_DIR/kafka-dev" /opt/kafka-dev
fi

# Scratch space for service files, owned by the login user.
mkdir -p "$SCRATCH"
chown "$user:" "$SCRATCH"

# Names of all workers, on providers whose workers have the private network addresses
# (docker, virtualbox). Docker writes its own line for the container's hostname with the address
# of its default bridge: replace every line naming a worker with one block of ours.
if [ "$ENABLE_DNS" = true ] && [ -n "$WORKERS" ]; then
  own="$(hostname)"
  own_address=""
  for pair in $WORKERS; do
    [ "${pair%%=*}" = "$own" ] && own_address="${pair#*=}"
  done
  if [ -n "$own_address" ] && ip -o -4 addr show | grep -q " $own_address/"; then
    names="$(for pair in $WORKERS; do printf '%s\n' "${pair%%=*}"; done)"
    kept="$(awk -v names="$names" 'BEGIN { n = split(names, list, "\n"); for (i = 1; i <= n; i++) skip[list[i]] = 1 }
      $0 ~ /# ducttape$/ { next }
      { for (i = 2; i <= NF; i++) if ($i in skip) next; print }' /etc/hosts)"
    {
      printf '%s\n' "$kept"
      for pair in $WORKERS; do printf '%s\t%s  # ducttape\n' "${pair#*=}" "${pair%%=*}"; done
    } > /etc/hosts.ducttape
    # /etc/hosts may be a bind mount (docker): rewrite it in place instead of renaming over it.
    cat /etc/hosts.ducttape > /etc/hosts
    rm -f /etc/hosts.ducttape
  fi
fi
echo "base.sh: $(hostname) ready (scratch $SCRATCH)"
