# Provisions a ducttape worker on its first boot (cloud-init runs EC2 user data as root), like
# vagrant/base.sh: the host key ducttape made for this instance, a JRE and the tools services use,
# the scratch folder and the build folder owned by the login user.
# `ducttape.aws.provision.user_data` writes the settings (LOGIN_USER, SCRATCH, BUILD_DIR, MARKER,
# HOST_KEY) to /etc/ducttape/settings and reads them, and writes the private host key to $HOST_KEY,
# above this line; no value is part of this script's text.
# Writes $MARKER: "ok" when done, "failed: ..." if a step failed; `cluster.up` waits for it.
mkdir -p "$(dirname "$MARKER")"
rm -f "$MARKER"
trap 'echo "failed: line $LINENO: $BASH_COMMAND" > "$MARKER"' ERR

# First of all, sshd serves the host key ducttape recorded before the launch, and no other. sshd
# started before cloud-init ran this, with keys of its own: a SIGHUP makes it start again and
# read its keys anew (an sshd that is not running yet reads them when it starts).
chmod 600 "$HOST_KEY"
ssh-keygen -y -f "$HOST_KEY" > "$HOST_KEY.pub"
find "$(dirname "$HOST_KEY")" -maxdepth 1 -name 'ssh_host_*' ! -name "$(basename "$HOST_KEY")" \
  ! -name "$(basename "$HOST_KEY").pub" -delete
if [ -s /run/sshd.pid ]; then
  kill -HUP "$(cat /run/sshd.pid)"
fi

missing=""
command -v java >/dev/null || missing="$missing openjdk-17-jre-headless"
for tool in rsync curl ps ip sudo python3; do
  command -v "$tool" >/dev/null || case "$tool" in
    ps) missing="$missing procps" ;;
    ip) missing="$missing iproute2" ;;
    *) missing="$missing $tool" ;;
  esac
done
if [ -n "$missing" ]; then
  echo "ducttape: installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086  # a list of package names
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The scratch folder may be an instance-store disk that a stop/start wipes: a script of its own,
# run now, at every later boot (cloud-init's per-boot folder) and by `cluster.up` after a start.
cat > /usr/local/sbin/ducttape-scratch <<'EOF'
#!/bin/sh
set -e
. /etc/ducttape/settings
mkdir -p -- "$SCRATCH"
chown -- "$LOGIN_USER:" "$SCRATCH"
EOF
chmod 755 /usr/local/sbin/ducttape-scratch
mkdir -p /var/lib/cloud/scripts/per-boot
ln -sf /usr/local/sbin/ducttape-scratch /var/lib/cloud/scripts/per-boot/ducttape-scratch
/usr/local/sbin/ducttape-scratch

# The build folder `cluster.rsync` fills: owned by the login user (only it: its parent may be
# a folder of the system's, such as /opt).
mkdir -p -- "$BUILD_DIR"
chown -- "$LOGIN_USER:" "$BUILD_DIR"

echo ok > "$MARKER"
echo "ducttape: $(hostname) provisioned (scratch $SCRATCH, build $BUILD_DIR)"
