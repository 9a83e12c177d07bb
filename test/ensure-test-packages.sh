#!/usr/bin/env bash
# Installs the Debian packages the tests (not paas itself) need when they are missing:
# busybox-static and debootstrap make the offline base images (test/helpers/base-images.ts);
# pebble (with pebble-challtestsrv) is the ACME server the HTTPS tests issue from (test/helpers/pebble.ts);
# docker-registry and apache2-utils (htpasswd) are paas's Swarm registry, openssh-server the test nodes' sshd;
# prometheus scrapes the metrics endpoint in test/e2e/metrics-and-access-log.test.ts (test/helpers/prometheus.ts).
# chromium is the browser test/e2e/dashboard-browser.test.ts drives (test/helpers/chromium.ts).
# Runs before `npm test`; as root it apt-installs, otherwise it names what is missing.
set -euo pipefail
need=()
for pkg in busybox-static debootstrap pebble docker-registry apache2-utils openssh-server prometheus chromium; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "tests need these Debian packages: ${need[*]} (apt-get install -y ${need[*]})" >&2
  exit 1
fi
echo "==> installing test packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=300 install -y -q "${need[@]}" >/dev/null 2>&1 || {
  apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null
  apt-get -o DPkg::Lock::Timeout=300 install -y -q "${need[@]}" >/dev/null
}
