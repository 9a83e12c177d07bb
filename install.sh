#!/usr/bin/env bash
# install.sh: installs or upgrades paas on one Debian 12+ / Ubuntu 22.04+ host, as root.
#
#   from a checkout:   sudo ./install.sh [flags]
#   from the web:      curl -fsSL <raw-url>/install.sh | sudo bash -s -- [flags]
#
# It installs what is missing (git, ssh-keygen, openssl, the Docker engine, Node.js >= 20 and,
# when native modules must compile, a C++ toolchain), builds paas, creates the data dir and the
# SSH host key once, registers the first admin key, and starts paas: a systemd unit when systemd
# is PID 1, else a background daemon. Running it again is an in-place upgrade: the data dir,
# the settings (kept in the env file) and the proxy's sockets stay; the control plane restarts and
# has the running proxy hand its sockets to a proxy of the new build (no request is refused).
#
# What it trusts:
#   - It builds and runs paas from a root-owned tree only. A checkout that root owns entirely,
#     that nobody else can write (no group/world-writable file or folder, nor any parent) and that
#     the proxy user can read is built in place; any other checkout is copied (as `cp -a`, without
#     .git and dist) into PAAS_INSTALL_DIR/<version>, made root-owned and not writable by others,
#     and built and run from there. A web install clones into a private temp dir and does the same.
#   - Downloads (Node.js, pack, the web clone) go to a private `mktemp -d` dir and are checked
#     before use: Node.js and pack against their published SHA-256 sums, archives with `tar -t`,
#     and nothing unchecked is installed.
#   - The proxy runs as its own system user (--proxy-user, made here when missing) once it has
#     bound its ports, so a proxy bug is not root on the host. That user can traverse the data
#     dir (root:<its group> 0710) and owns only <data-dir>/proxy and <data-dir>/certs.
#   - The admin key: the first key of --admin-key FILE or of root's authorized_keys that has no
#     options. A line with options (from=, command=, restrict, no-pty, ...) is skipped with a
#     warning and never registered without them; register such a key with ssh-keys:add yourself.
#
# Flags (each also read from the environment as PAAS_*; then from the env file of an earlier
# install; then the defaults):
#   --data-dir DIR      PAAS_DATA_DIR     default /var/lib/paas
#   --ssh-port N        PAAS_SSH_PORT     default 2222
#   --http-port N       PAAS_HTTP_PORT    default 80
#   --https-port N      PAAS_HTTPS_PORT   default 443
#   --listen ADDR       PAAS_LISTEN       default 0.0.0.0
#   --domain NAME       PAAS_DOMAIN       default: the host name (decided by paas itself)
#   --proxy-user NAME   PAAS_PROXY_USER   default paas-proxy (the proxy's system user)
#   --admin-key FILE    first admin public key (default: root's first ~/.ssh/authorized_keys key
#                       without options)
#   --no-start          install and configure, but do not start or restart paas
#   --yes, -y           never ask (also implied when stdin is not a terminal or CI is set)
#   --help, -h
#
# Knobs for tests and unusual hosts (environment only):
#   PAAS_ENV_FILE       settings file                 default /etc/paas/paas.env
#   PAAS_BIN_DIR        where `paas` (and pack) go    default /usr/local/bin
#   PAAS_INIT           systemd | daemon              default: systemd when it is PID 1
#   PAAS_OS_RELEASE     os-release file to check      default /etc/os-release
#   PAAS_PUBLIC_HOST    host name printed in the final git/ssh lines
#   PAAS_INSTALL_DIR    root-owned dir a copied or web-installed paas is built in, one folder
#                       per version                   default /usr/local/lib/paas
#   PAAS_REPO_URL, PAAS_REF, PAAS_COMMIT   source of a web install (see install_from_web)
#   PAAS_NODE_LINE      Node.js release line downloaded when the host's is too old (v22)
#   PAAS_PACK_VERSION   pack release downloaded when possible
set -euo pipefail

# Everything runs from main(), called on the script's last line, so a truncated download of
# `curl ... | bash` runs nothing at all.

readonly DEFAULT_DATA_DIR=/var/lib/paas
readonly NODE_MIN_MAJOR=20

INSTALL_T0=0
STEP_NAME=''
STEP_T0=0
STEP_LABELS=()
STEP_SECS=()
LOG=/dev/null
FAILED_QUIETLY=0
TMP_DIRS=()

# ---------------------------------------------------------------- output and timing helpers

now_us() { local t=${EPOCHREALTIME/[.,]/}; printf '%s' "$((10#$t))"; }
secs_since() { # $1: start in µs -> "12.3"
  local d=$(($(now_us) - $1))
  printf '%d.%d' $((d / 1000000)) $(((d % 1000000) / 100000))
}
say() { printf '    %s\n' "$*"; }
warn() { printf '    warning: %s\n' "$*" >&2; }
# die: one clear line on stderr, nothing else, non-zero exit.
die() {
  printf 'paas install: %s\n' "$1" >&2
  FAILED_QUIETLY=1
  exit "${2:-1}"
}
step() { STEP_NAME=$1; STEP_T0=$(now_us); }
# done_step [label]: closes the current step, printing "==> label (12.3 s)".
done_step() {
  local label=${1:-$STEP_NAME} s
  s=$(secs_since "$STEP_T0")
  printf '==> %s (%s s)\n' "$label" "$s"
  STEP_LABELS+=("$label")
  STEP_SECS+=("$s")
}
# run: a noisy command whose output goes to the install log; on failure, show its tail.
run() {
  local shown=("$@")
  [[ $1 == env && ${2:-} == -C ]] && shown=("${@:4}") # `run env -C DIR cmd ...` runs cmd in DIR
  printf '+ %s\n' "$*" >>"$LOG"
  if ! "$@" >>"$LOG" 2>&1; then
    printf "paas install: '%s' failed during \"%s\"; last lines of %s:\n" "${shown[*]:0:2}" "$STEP_NAME" "$LOG" >&2
    tail -n 25 "$LOG" | sed 's/^/    /' >&2
    FAILED_QUIETLY=1
    exit 1
  fi
}
# shellcheck disable=SC2317 # run by the EXIT trap
on_exit() {
  local rc=$? d
  for d in "${TMP_DIRS[@]}"; do rm -rf -- "$d"; done
  if ((rc != 0 && FAILED_QUIETLY == 0)); then
    printf 'paas install: failed during "%s" (exit %d); log: %s\n' "${STEP_NAME:-start}" "$rc" "$LOG" >&2
  fi
}

usage() {
  local self=${BASH_SOURCE[0]:-}
  if [[ -f $self ]]; then sed -n '2,/^set -euo/p' "$self" | sed '$d; s/^# \{0,1\}//'; else printf 'see the comments at the top of install.sh\n'; fi
}

# ---------------------------------------------------------------- settings

FLAG_DATA_DIR='' FLAG_SSH_PORT='' FLAG_HTTP_PORT='' FLAG_HTTPS_PORT='' FLAG_LISTEN='' FLAG_DOMAIN='' FLAG_PROXY_USER=''
ADMIN_KEY_FILE=''
NO_START=0
ASSUME_YES=0

parse_args() {
  while (($#)); do
    local arg=$1 name value
    case $arg in
      -y | --yes | --non-interactive) ASSUME_YES=1; shift; continue ;;
      --no-start) NO_START=1; shift; continue ;;
      -h | --help) usage; exit 0 ;;
      --*=*) name=${arg%%=*}; value=${arg#*=}; shift ;;
      --data-dir | --ssh-port | --http-port | --https-port | --listen | --domain | --proxy-user | --admin-key)
        name=$arg
        (($# >= 2)) || die "$name needs a value" 2
        value=$2; shift 2 ;;
      *) die "unknown argument '$arg' (see --help)" 2 ;;
    esac
    case $name in
      --data-dir) FLAG_DATA_DIR=$value ;;
      --ssh-port) FLAG_SSH_PORT=$value ;;
      --http-port) FLAG_HTTP_PORT=$value ;;
      --https-port) FLAG_HTTPS_PORT=$value ;;
      --listen) FLAG_LISTEN=$value ;;
      --domain) FLAG_DOMAIN=$value ;;
      --proxy-user) FLAG_PROXY_USER=$value ;;
      --admin-key) ADMIN_KEY_FILE=$value ;;
      *) die "unknown flag '$name' (see --help)" 2 ;;
    esac
  done
}

# Values from an earlier install's env file (KEY=value lines; never sourced).
declare -A SAVED=()
read_env_file() {
  [[ -r $ENV_FILE ]] || return 0
  local key value
  while IFS='=' read -r key value; do
    [[ $key =~ ^PAAS_[A-Z_]+$ ]] || continue
    value=${value%\"}; value=${value#\"}
    SAVED[$key]=$value
  done <"$ENV_FILE"
}

# setting FLAGVALUE ENVNAME DEFAULT: flag, then environment, then env file, then default.
setting() {
  local flag=$1 env=$2 default=$3
  if [[ -n $flag ]]; then printf '%s' "$flag"
  elif [[ -n ${!env:-} ]]; then printf '%s' "${!env}"
  elif [[ -n ${SAVED[$env]:-} ]]; then printf '%s' "${SAVED[$env]}"
  else printf '%s' "$default"
  fi
}

check_port() {
  if [[ ! $2 =~ ^[0-9]{1,5}$ ]] || (($2 > 65535)); then die "--$1 must be a port number 0-65535, got '$2'" 2; fi
}

resolve_settings() {
  ENV_FILE=${PAAS_ENV_FILE:-/etc/paas/paas.env}
  BIN_DIR=${PAAS_BIN_DIR:-/usr/local/bin}
  read_env_file
  DATA_DIR=$(setting "$FLAG_DATA_DIR" PAAS_DATA_DIR "$DEFAULT_DATA_DIR")
  SSH_PORT=$(setting "$FLAG_SSH_PORT" PAAS_SSH_PORT 2222)
  HTTP_PORT=$(setting "$FLAG_HTTP_PORT" PAAS_HTTP_PORT 80)
  HTTPS_PORT=$(setting "$FLAG_HTTPS_PORT" PAAS_HTTPS_PORT 443)
  LISTEN=$(setting "$FLAG_LISTEN" PAAS_LISTEN 0.0.0.0)
  DOMAIN=$(setting "$FLAG_DOMAIN" PAAS_DOMAIN '')
  PROXY_USER=$(setting "$FLAG_PROXY_USER" PAAS_PROXY_USER paas-proxy)
  [[ $DATA_DIR == /* ]] || DATA_DIR=$(realpath -m -- "$DATA_DIR")
  [[ $DATA_DIR =~ ^/[A-Za-z0-9._/-]+$ ]] || die "--data-dir must be an absolute path of letters, digits, '.', '_', '-' and '/', got '$DATA_DIR'" 2
  check_port ssh-port "$SSH_PORT"
  check_port http-port "$HTTP_PORT"
  check_port https-port "$HTTPS_PORT"
  [[ $LISTEN =~ ^[0-9A-Fa-f.:]+$ ]] || die "--listen must be an IP address, got '$LISTEN'" 2
  DOMAIN=${DOMAIN,,}
  [[ -z $DOMAIN || $DOMAIN =~ ^[a-z0-9.-]+$ ]] || die "--domain '$DOMAIN' is not a valid host name" 2
  [[ $PROXY_USER =~ ^[a-z_][a-z0-9_-]{0,31}$ && $PROXY_USER != root ]] ||
    die "--proxy-user must be a system user name other than root (a-z, 0-9, '_', '-'), got '$PROXY_USER'" 2
  INSTALL_ROOT=${PAAS_INSTALL_DIR:-/usr/local/lib/paas}
  [[ $INSTALL_ROOT =~ ^/[A-Za-z0-9._/-]+$ ]] || die "PAAS_INSTALL_DIR must be an absolute path, got '$INSTALL_ROOT'" 2
  if [[ -n $ADMIN_KEY_FILE ]]; then
    [[ -r $ADMIN_KEY_FILE ]] || die "--admin-key: cannot read '$ADMIN_KEY_FILE'" 2
  fi
  case ${PAAS_INIT:-} in
    systemd | daemon) INIT=$PAAS_INIT ;;
    '') if [[ $(cat /proc/1/comm 2>/dev/null) == systemd ]]; then INIT=systemd; else INIT=daemon; fi ;;
    *) die "PAAS_INIT must be 'systemd' or 'daemon', got '$PAAS_INIT'" 2 ;;
  esac
}

# ---------------------------------------------------------------- preflight

check_os() {
  local file=${PAAS_OS_RELEASE:-/etc/os-release} id='' version='' pretty=''
  [[ -r $file ]] || die "unsupported system: $file is missing; paas installs on Debian 12+ or Ubuntu 22.04+" 3
  # shellcheck disable=SC1090 # os-release is a documented shell-compatible KEY=value file
  id=$(. "$file" && printf '%s' "${ID:-}")
  # shellcheck disable=SC1090
  version=$(. "$file" && printf '%s' "${VERSION_ID:-}")
  # shellcheck disable=SC1090
  pretty=$(. "$file" && printf '%s' "${PRETTY_NAME:-$id $version}")
  local major=${version%%.*} minor=${version#*.}
  [[ $major =~ ^[0-9]+$ ]] || major=0
  [[ $minor =~ ^[0-9]+$ && $version == *.* ]] || minor=0
  case $id in
    debian) ((major >= 12)) && return 0 ;;
    ubuntu) ((major > 22 || (major == 22 && minor >= 4))) && return 0 ;;
  esac
  die "unsupported system '$pretty': paas installs on Debian 12+ or Ubuntu 22.04+" 3
}

check_root() {
  [[ $(id -u) -eq 0 ]] || die "must run as root (use sudo)" 4
}

# Where paas comes from: the checkout this script sits in, or (piped from the web) /opt/paas.
locate_source() {
  local self=${BASH_SOURCE[0]:-} dir=''
  [[ -n $self && -f $self ]] && dir=$(cd "$(dirname "$self")" && pwd -P)
  if [[ -n $dir && -f $dir/package.json && -d $dir/src ]]; then
    SOURCE=checkout
    APP_DIR=$dir
  else
    SOURCE=web
    APP_DIR='' # decided by install_from_web: PAAS_INSTALL_DIR/<version>
  fi
}

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || printf '0'; }

docker_answers() { timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# Dependencies are installed again only when package-lock.json or the Node ABI changed.
deps_stamp() {
  printf '%s node-abi-%s\n' "$(sha256sum "$APP_DIR/package-lock.json" | cut -d' ' -f1)" \
    "$(node -p process.versions.modules 2>/dev/null || printf none)"
}
deps_current() {
  [[ $SOURCE == checkout && -f $APP_DIR/package-lock.json && -d $APP_DIR/node_modules ]] || return 1
  [[ -f $APP_DIR/node_modules/.paas-install-stamp ]] || return 1
  [[ $(cat "$APP_DIR/node_modules/.paas-install-stamp") == "$(deps_stamp)" ]]
}

# Decide what the system lacks, before changing anything (so the prompt can list it).
plan_packages() {
  PKGS=()
  command -v git >/dev/null || PKGS+=(git)
  command -v ssh-keygen >/dev/null || PKGS+=(openssh-client)
  command -v openssl >/dev/null || PKGS+=(openssl)
  command -v curl >/dev/null || PKGS+=(curl)
  [[ -f /etc/ssl/certs/ca-certificates.crt ]] || PKGS+=(ca-certificates)
  if ! command -v dockerd >/dev/null && ! docker_answers; then PKGS+=(docker.io); fi
  # better-sqlite3 (and ssh2's optional cpu-features) compile from source when their prebuilt
  # binaries cannot be downloaded; so when dependencies will be installed, make sure a
  # toolchain is there.
  if ! deps_current; then
    local t missing=0
    for t in make g++ python3; do command -v "$t" >/dev/null || missing=1; done
    ((missing)) && PKGS+=(build-essential python3)
  fi
  NEED_NODE=0
  if (($(node_major) < NODE_MIN_MAJOR)) || ! command -v npm >/dev/null; then NEED_NODE=1; fi
}

confirm() {
  ((ASSUME_YES)) && return 0
  [[ -n ${CI:-} ]] && return 0
  [[ -t 0 && -t 1 ]] || return 0
  local adds=()
  ((${#PKGS[@]})) && adds+=("apt packages: ${PKGS[*]}")
  ((NEED_NODE)) && adds+=("Node.js ${PAAS_NODE_LINE:-v22} LTS from nodejs.org")
  ((${#adds[@]})) || return 0
  printf 'paas install will add %s.\n' "$(IFS=';'; printf '%s' "${adds[*]}")"
  local answer=''
  read -r -p 'Continue? [Y/n] ' answer || true
  [[ -z $answer || $answer == [Yy]* ]] || die "cancelled" 1
}

# ---------------------------------------------------------------- steps

make_data_dir() {
  step "Preparing data dir $DATA_DIR"
  install -d -m 0700 "$DATA_DIR"
  chmod go-rw "$DATA_DIR" # 0700, or 0710 with the proxy's group (ensure_proxy_user)
  install -d -m 0700 "$DATA_DIR/keys" "$DATA_DIR/run" "$DATA_DIR/logs"
  LOG=$DATA_DIR/logs/install.log
  printf '\n=== install.sh %s (%s, %s)\n' "$(date -u +%FT%TZ)" "$SOURCE" "$APP_DIR" >>"$LOG"
  done_step
}

# The proxy's system user: no login shell, no home. The proxy becomes it once its ports are
# bound; it may traverse the data dir (root:<its group> 0710) to reach <data-dir>/proxy and
# <data-dir>/certs, which the proxy hands to it at start, and nothing else there.
ensure_proxy_user() {
  step "Proxy user $PROXY_USER"
  local made=kept group
  if ! getent passwd "$PROXY_USER" >/dev/null; then
    run useradd --system --no-create-home --user-group --shell /usr/sbin/nologin "$PROXY_USER"
    made=made
  fi
  [[ $(id -u "$PROXY_USER") != 0 ]] || die "the proxy user '$PROXY_USER' has uid 0; choose another with --proxy-user" 2
  group=$(id -gn "$PROXY_USER")
  chown "root:$group" "$DATA_DIR"
  chmod 0710 "$DATA_DIR"
  if ! runuser -u "$PROXY_USER" -- test -x "$DATA_DIR"; then
    die "the proxy user '$PROXY_USER' cannot reach $DATA_DIR: every parent folder must be traversable by others (o+x)" 1
  fi
  done_step "Proxy user $PROXY_USER $made (data dir root:$group 0710)"
}

install_packages() {
  step "Installing system packages"
  if ((${#PKGS[@]} == 0)); then
    done_step "System packages already installed (git, ssh-keygen, openssl, curl, Docker, toolchain)"
    return
  fi
  say "apt-get install ${PKGS[*]}"
  export DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=a
  run apt-get -o DPkg::Lock::Timeout=300 update -q
  # With recommends, as docker.io wants them: cgroupfs-mount (for hosts without an init system),
  # apparmor, xz-utils.
  run apt-get -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confold install -y -q "${PKGS[@]}"
  hash -r
  done_step "Installing ${PKGS[*]}"
}

start_docker() {
  step "Starting Docker engine"
  if docker_answers; then
    done_step "Docker engine answering ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
    return
  fi
  [[ -z ${DOCKER_HOST:-} ]] || die "Docker at DOCKER_HOST=$DOCKER_HOST does not answer" 1
  if [[ $INIT == systemd ]]; then
    run systemctl enable --now docker
  else
    # No init system (containers, micro-VMs): run dockerd in the background, logging to a file.
    say "no init system: starting dockerd in the background (log: /var/log/dockerd.log)"
    if command -v cgroupfs-mount >/dev/null && ! mountpoint -q /sys/fs/cgroup; then run cgroupfs-mount; fi
    (exec setsid nohup dockerd >>/var/log/dockerd.log 2>&1 </dev/null &)
  fi
  local deadline=$((SECONDS + 60))
  until docker_answers; do
    if ((SECONDS > deadline)); then
      printf 'paas install: the Docker engine did not answer within 60 s; last lines of /var/log/dockerd.log:\n' >&2
      tail -n 15 /var/log/dockerd.log 2>/dev/null | sed 's/^/    /' >&2
      FAILED_QUIETLY=1
      exit 1
    fi
    sleep 0.2
  done
  done_step "Started Docker engine $(docker version --format '{{.Server.Version}}' 2>/dev/null)"
}

# Node.js >= 20. Debian 12's own nodejs is 18, so where the host's is missing or too old the
# official LTS build is downloaded from nodejs.org; a host that cannot reach it gets one clear line.
ensure_node() {
  step "Checking Node.js"
  if ((NEED_NODE == 0)); then
    done_step "Node.js $(node -v) already installed"
    return
  fi
  local found line arch base file sum dest sums tmp
  found=$(node -v 2>/dev/null || printf 'none')
  line=${PAAS_NODE_LINE:-v22}
  case $(uname -m) in
    x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) arch=unsupported ;;
  esac
  base=https://nodejs.org/dist/latest-$line.x
  say "Node.js $found is older than v$NODE_MIN_MAJOR (or npm is missing): downloading the official $line LTS build"
  # Into a private temp dir, checked against the published SHA-256 and listed (tar -t) before
  # it is unpacked, with root as the owner (the tarball's own uids would make it another user's).
  new_tmp_dir
  tmp=$NEW_TMP
  if [[ $arch != unsupported ]] && sums=$(curl -fsSL --proto '=https' --connect-timeout 10 --max-time 60 "$base/SHASUMS256.txt" 2>>"$LOG"); then
    file=$(awk -v a="linux-$arch.tar.gz" '$2 ~ "^node-v[0-9.]+-"a"$" {print $2; exit}' <<<"$sums")
    sum=$(awk -v a="linux-$arch.tar.gz" '$2 ~ "^node-v[0-9.]+-"a"$" {print $1; exit}' <<<"$sums")
    dest=/usr/local/lib/nodejs
    if [[ -n $file && $sum =~ ^[0-9a-f]{64}$ ]] &&
      curl -fsSL --proto '=https' --connect-timeout 10 --max-time 600 -o "$tmp/$file" "$base/$file" 2>>"$LOG" &&
      printf '%s  %s\n' "$sum" "$tmp/$file" | sha256sum -c --quiet >>"$LOG" 2>&1 &&
      tar -tzf "$tmp/$file" >/dev/null 2>>"$LOG"; then
      install -d -m 0755 "$dest"
      tar -xzf "$tmp/$file" -C "$dest" --no-same-owner --no-same-permissions
      rm -f "$tmp/$file"
      local n
      for n in node npm npx; do ln -sfn "$dest/${file%.tar.gz}/bin/$n" "/usr/local/bin/$n"; done
      hash -r
      done_step "Installed Node.js $(node -v) from nodejs.org"
      return
    fi
  fi
  die "Node.js >= $NODE_MIN_MAJOR is required (found $found) and the official build could not be downloaded from nodejs.org; install Node.js $NODE_MIN_MAJOR+ with npm and re-run" 5
}

# new_tmp_dir: a private (0700) temp dir in NEW_TMP, removed when the script exits.
new_tmp_dir() {
  NEW_TMP=$(mktemp -d "${TMPDIR:-/tmp}/paas-install.XXXXXX")
  chmod 0700 "$NEW_TMP"
  TMP_DIRS+=("$NEW_TMP")
}

# unsafe_path DIR: prints the first reason root should not build and run from DIR (nothing when
# it may): a file or folder another user owns or can write (symlinks aside), a parent folder
# another user can write (a sticky one like /tmp aside), or something the proxy user cannot read
# (its cluster workers load the code as that user).
unsafe_path() {
  local dir=$1 p found mode
  found=$(find "$dir" ! -type l \( ! -user 0 -o -perm /022 \) -print -quit 2>/dev/null)
  if [[ -n $found ]]; then
    printf '%s is owned by %s with mode %s' "$found" "$(stat -c %U "$found")" "$(stat -c %a "$found")"
    return
  fi
  p=$dir
  while [[ $p != / ]]; do
    p=$(dirname "$p")
    mode=$(stat -c %a "$p")
    if [[ $(stat -c %u "$p") != 0 ]] || { ((8#$mode & 8#022)) && ! ((8#$mode & 8#1000)); }; then
      printf 'its parent %s is owned by %s with mode %s' "$p" "$(stat -c %U "$p")" "$mode"
      return
    fi
    ((8#$mode & 8#001)) || { printf 'its parent %s is not traversable by the proxy user (mode %s)' "$p" "$mode"; return; }
  done
  found=$(find "$dir" ! -type l \( ! -perm -o+r -o -type d ! -perm -o+x \) -print -quit 2>/dev/null)
  [[ -z $found ]] || printf '%s is not readable by the proxy user (mode %s)' "$found" "$(stat -c %a "$found")"
}

package_version() {
  local v
  v=$(sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' "$1/package.json" | head -n 1)
  [[ $v =~ ^[0-9A-Za-z.+-]+$ ]] || die "cannot read a version from $1/package.json" 1
  printf '%s' "$v"
}

# copy_to_install_dir SRC: copies the tree SRC (as `cp -a`: modes, times and symlinks kept;
# without .git, dist and .tmp) to INSTALL_ROOT/<version>, root-owned, not writable by others and
# readable by the proxy user; symlinks that lead out of the copy are removed. Sets APP_DIR.
copy_to_install_dir() {
  local src=$1 version dest stage e link target bad
  version=$(package_version "$src")
  install -d -m 0755 -o root -g root "$INSTALL_ROOT"
  bad=$(unsafe_path "$INSTALL_ROOT" | grep '^its parent' || true)
  [[ -z $bad ]] || die "cannot install into $INSTALL_ROOT: $bad" 1
  dest=$INSTALL_ROOT/$version
  stage=$(mktemp -d "$INSTALL_ROOT/.stage.XXXXXX")
  TMP_DIRS+=("$stage")
  for e in "$src"/* "$src"/.[!.]*; do
    [[ -e $e || -L $e ]] || continue
    case ${e##*/} in .git | dist | .tmp) continue ;; esac
    cp -a -- "$e" "$stage/"
  done
  chown -R -h root:root "$stage"
  chmod -R u+rwX,go+rX,go-w "$stage"
  while IFS= read -r -d '' link; do
    target=$(readlink -f -- "$link" || true)
    if [[ $target != "$stage"/* ]]; then
      warn "removing the symlink ${link#"$stage"/} from the copy: it leads out of the tree ($(readlink -- "$link"))"
      rm -f -- "$link"
    fi
  done < <(find "$stage" -type l -print0)
  if [[ -e $dest ]]; then
    mv -- "$dest" "$stage.old"
    TMP_DIRS+=("$stage.old")
  fi
  mv -- "$stage" "$dest"
  APP_DIR=$dest
}

# A checkout that is root's alone is built in place (CI's path); any other is copied first.
secure_source() {
  step "Checking the source tree"
  local why
  why=$(unsafe_path "$APP_DIR")
  if [[ -z $why ]]; then
    done_step "Building in place: $APP_DIR is root-owned and writable by root alone"
    return
  fi
  say "not building in $APP_DIR: $why"
  local from=$APP_DIR
  COPIED_FROM=$from
  copy_to_install_dir "$from"
  done_step "Copied $from to $APP_DIR (root-owned) to build and run there"
}

# A checkout that was copied to be built still gets the installed dependencies, owned as the
# checkout is, so that the README's next commands (npm run lint, npm test) work there too. paas
# itself never runs from the checkout: only its tests and linters do.
checkout_deps() {
  [[ -n ${COPIED_FROM:-} ]] || return 0
  step "Dependencies for the checkout"
  local stamp=$COPIED_FROM/node_modules/.paas-install-stamp
  if [[ -f $stamp && $(cat "$stamp") == "$(deps_stamp)" ]]; then
    done_step "$COPIED_FROM/node_modules up to date"
    return
  fi
  rm -rf -- "$COPIED_FROM/node_modules"
  cp -a -- "$APP_DIR/node_modules" "$COPIED_FROM/node_modules"
  chown -R -h --reference="$COPIED_FROM" -- "$COPIED_FROM/node_modules"
  done_step "Copied the installed node_modules to $COPIED_FROM (for npm run lint and npm test there)"
}

# Piped from the web there is no checkout: clone a release into a private temp dir, check it,
# and copy it into INSTALL_ROOT/<version>. Online hosts only; this path cannot run on the offline
# CI machine. PAAS_COMMIT pins the exact commit the clone must be.
install_from_web() {
  local url=${PAAS_REPO_URL:-https://github.com/paas-sh/paas.git} ref=${PAAS_REF:-main} src head
  step "Fetching paas $ref"
  new_tmp_dir
  src=$NEW_TMP/paas
  run git clone -q --depth 1 --branch "$ref" "$url" "$src"
  run git -C "$src" fsck --no-progress --no-dangling
  head=$(git -C "$src" rev-parse HEAD)
  if [[ -n ${PAAS_COMMIT:-} && $head != "$PAAS_COMMIT"* ]]; then
    die "the clone of $url $ref is at $head, not PAAS_COMMIT $PAAS_COMMIT" 1
  fi
  [[ -f $src/package.json && -f $src/package-lock.json && -d $src/src ]] || die "$url $ref does not look like paas (no package.json or src/)" 1
  copy_to_install_dir "$src"
  done_step "Fetched paas $ref (${head:0:12}) into $APP_DIR"
}

build_paas() {
  step "Installing npm dependencies"
  if deps_current; then
    done_step "npm dependencies up to date"
  else
    say "npm ci in $APP_DIR (better-sqlite3 compiles from source when no prebuilt binary downloads)"
    rm -f "$APP_DIR/node_modules/.paas-install-stamp"
    run env -C "$APP_DIR" npm ci --no-audit --no-fund --loglevel=warn
    deps_stamp >"$APP_DIR/node_modules/.paas-install-stamp"
    done_step "Installed npm dependencies (npm ci)"
  fi

  step "Building paas"
  run env -C "$APP_DIR" npm run build
  local main=$APP_DIR/dist/src/main.js
  [[ -f $main ]] || die "the build did not produce $main" 1
  chmod 0755 "$main"
  install -d "$BIN_DIR"
  PAAS_BIN=$BIN_DIR/paas
  [[ $(readlink "$PAAS_BIN" 2>/dev/null) == "$main" ]] || ln -sfn "$main" "$PAAS_BIN"
  if ! PAAS_VERSION=$(cd / && "$PAAS_BIN" version 2>>"$LOG" | head -n 1 | awk '{print $2}') || [[ -z $PAAS_VERSION ]]; then
    PAAS_VERSION=$(node -p "require(process.argv[1]).version" "$APP_DIR/package.json")
    warn "'paas version' did not answer (see $LOG); package.json says $PAAS_VERSION"
  fi
  done_step "Built paas ${PAAS_VERSION:-?} and linked $PAAS_BIN"
}

host_key() {
  step "SSH host key"
  local key=$DATA_DIR/keys/ssh_host_ed25519_key
  if [[ -f $key ]]; then
    done_step "SSH host key kept ($(ssh-keygen -lf "$key" | cut -d' ' -f2))"
    return
  fi
  run ssh-keygen -q -t ed25519 -N '' -C "paas@$(hostname)" -f "$key"
  chmod 0600 "$key"
  done_step "Made SSH host key ($(ssh-keygen -lf "$key" | cut -d' ' -f2))"
}

write_env_file() {
  step "Writing settings to $ENV_FILE"
  local tmp
  install -d -m 0755 "$(dirname "$ENV_FILE")"
  tmp=$(mktemp "$ENV_FILE.XXXXXX")
  {
    printf '# paas settings, written by install.sh; a re-run keeps them unless flags change them.\n'
    printf 'PAAS_DATA_DIR=%s\n' "$DATA_DIR"
    printf 'PAAS_SSH_PORT=%s\n' "$SSH_PORT"
    printf 'PAAS_HTTP_PORT=%s\n' "$HTTP_PORT"
    printf 'PAAS_HTTPS_PORT=%s\n' "$HTTPS_PORT"
    printf 'PAAS_LISTEN=%s\n' "$LISTEN"
    [[ -z $DOMAIN ]] || printf 'PAAS_DOMAIN=%s\n' "$DOMAIN"
    printf 'PAAS_PROXY_USER=%s\n' "$PROXY_USER"
  } >"$tmp"
  chmod 0644 "$tmp"
  if cmp -s "$tmp" "$ENV_FILE"; then
    rm -f "$tmp"
    done_step "Settings unchanged ($ENV_FILE)"
  else
    mv -f "$tmp" "$ENV_FILE"
    done_step "Wrote settings to $ENV_FILE"
  fi
}

# paas with this install's settings.
paas_cmd() {
  env PAAS_DATA_DIR="$DATA_DIR" PAAS_SSH_PORT="$SSH_PORT" PAAS_HTTP_PORT="$HTTP_PORT" \
    PAAS_HTTPS_PORT="$HTTPS_PORT" PAAS_LISTEN="$LISTEN" PAAS_PROXY_USER="$PROXY_USER" ${DOMAIN:+PAAS_DOMAIN="$DOMAIN"} \
    "$PAAS_BIN" "$@"
}

register_admin_key() {
  step "Admin SSH key"
  local src=$ADMIN_KEY_FILE key fp comment name out list
  if [[ -z $src ]]; then
    src="$(getent passwd root | cut -d: -f6)/.ssh/authorized_keys"
    if [[ ! -s $src ]]; then
      done_step "No admin key given (--admin-key) and none in $src; add one later: paas admin ssh-keys:add NAME < key.pub"
      return
    fi
  fi
  # The first key line without options. A line with options (from=, command=, restrict, no-pty,
  # ... anything before the key type) restricts its key; registering the bare key would lift
  # that, so such a line is skipped (and said so), never stripped.
  local skipped
  skipped=$(awk '/^[[:space:]]*(#|$)/ {next} $1 !~ /^(ssh-|ecdsa-|sk-)/ {print NR}' "$src")
  key=$(awk '/^[[:space:]]*(#|$)/ {next} $1 ~ /^(ssh-|ecdsa-|sk-)/ {print; exit}' "$src")
  local n
  for n in $skipped; do
    warn "skipping a key with options (from=, command=, restrict): register it yourself with ssh-keys:add if you want it ($src line $n)"
  done
  if [[ -z $key ]]; then
    [[ -n $skipped ]] || die "no SSH public key found in $src" 1
    done_step "No admin key registered: every key in $src has options; add one: paas admin ssh-keys:add NAME < key.pub"
    return
  fi
  key=$(awk '{$1 = $1; print}' <<<"$key")
  fp=$(ssh-keygen -lf - <<<"$key" 2>/dev/null | cut -d' ' -f2) || true
  [[ $fp == SHA256:* ]] || die "the first key in $src is not a valid SSH public key" 1
  list=$(paas_cmd admin ssh-keys:list 2>>"$LOG") || die "'paas admin ssh-keys:list' failed; see $LOG" 1
  if grep -qF -- "$fp" <<<"$list"; then
    done_step "Admin key $fp already registered"
    return
  fi
  comment=$(cut -d' ' -f3- <<<"$key")
  name=$(printf '%s' "$comment" | sed 's/[^A-Za-z0-9._@-]/-/g; s/^[^A-Za-z0-9]*//' | cut -c1-64)
  name=${name:-admin}
  if ! out=$(paas_cmd admin ssh-keys:add "$name" <<<"$key" 2>&1); then
    # The same fingerprint registered under a listing format this script did not recognise:
    # that is the idempotent case, not an error.
    if grep -qiE 'exist|already|duplicate' <<<"$out"; then
      done_step "Admin key $fp already registered"
      return
    fi
    printf '%s\n' "$out" >>"$LOG"
    die "could not register the admin key from $src: $(tail -n 1 <<<"$out")" 1
  fi
  done_step "Registered admin key '$name' ($fp) from $src"
}

# pack (Cloud Native Buildpacks) is optional: paas falls back to Dockerfiles and its templates.
install_pack() {
  step "pack CLI"
  if command -v pack >/dev/null || [[ -x $BIN_DIR/pack ]]; then
    done_step "pack already installed"
    return
  fi
  local v=${PAAS_PACK_VERSION:-0.38.2} suffix='' tmp url sum
  [[ $(uname -m) == aarch64 ]] && suffix=-arm64
  [[ $v =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "PAAS_PACK_VERSION must look like 0.38.2, got '$v'" 2
  url=https://github.com/buildpacks/pack/releases/download/v$v/pack-v$v-linux$suffix.tgz
  # Into a private temp dir; installed only when it matches the release's published .sha256, lists
  # (tar -t) and holds a non-empty `pack`.
  new_tmp_dir
  tmp=$NEW_TMP
  if sum=$(curl -fsSL --proto '=https' --connect-timeout 10 --max-time 60 "$url.sha256" 2>>"$LOG" | grep -oE '^[0-9a-f]{64}') &&
    curl -fsSL --proto '=https' --connect-timeout 10 --max-time 120 -o "$tmp/pack.tgz" "$url" 2>>"$LOG" &&
    printf '%s  %s\n' "$sum" "$tmp/pack.tgz" | sha256sum -c --quiet >>"$LOG" 2>&1 &&
    tar -tzf "$tmp/pack.tgz" >/dev/null 2>>"$LOG" &&
    tar -xzf "$tmp/pack.tgz" -C "$tmp" --no-same-owner pack 2>>"$LOG" && [[ -f $tmp/pack && -s $tmp/pack && ! -L $tmp/pack ]]; then
    install -m 0755 -o root -g root "$tmp/pack" "$BIN_DIR/pack"
    done_step "Installed pack v$v (sha256 checked)"
  else
    done_step "pack could not be downloaded and checked from github.com: skipped (apps build from a Dockerfile or paas's templates)"
  fi
}

read_pid() { local p; p=$(cat "$1" 2>/dev/null || true); [[ $p =~ ^[0-9]+$ ]] && printf '%s' "$p"; }
# alive PID: running, and not a zombie left unreaped by an init that does not reap (no-init hosts).
alive() {
  [[ -n $1 ]] && kill -0 "$1" 2>/dev/null || return 1
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}
ssh_port_from_ports_json() { sed -n 's/.*"ssh"[[:space:]]*:[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$DATA_DIR/run/ports.json" 2>/dev/null; }
ssh_answers() {
  local banner
  # shellcheck disable=SC2016 # $0/$1 expand in the inner bash
  banner=$(timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1" && head -c 4 <&3' "$1" "$2" 2>/dev/null) || return 1
  [[ $banner == SSH- ]]
}

start_paas() {
  step "Starting paas"
  if ((NO_START)); then
    done_step "Not starting paas (--no-start)"
    return
  fi
  local run_dir=$DATA_DIR/run old='' new='' what=Started
  old=$(read_pid "$run_dir/control.pid" || true)
  alive "$old" || old=''

  if [[ $INIT == systemd ]]; then
    local unit=/etc/systemd/system/paas.service tmp
    tmp=$(mktemp)
    sed -e "s|@PAAS_BIN@|$PAAS_BIN|g" -e "s|@ENV_FILE@|$ENV_FILE|g" "$APP_DIR/templates/paas.service" >"$tmp"
    if cmp -s "$tmp" "$unit"; then rm -f "$tmp"; else install -m 0644 "$tmp" "$unit"; rm -f "$tmp"; run systemctl daemon-reload; fi
    if systemctl is-active --quiet paas; then
      # Upgrade: the control plane exits on SIGUSR2 (the proxy keeps serving) and systemd
      # (Restart=always, KillMode=process) starts the new one.
      what=Upgraded
      run systemctl kill --signal=SIGUSR2 --kill-whom=main paas
    else
      run systemctl enable --now paas
    fi
  else
    if [[ -n $old ]]; then
      # Upgrade: stop only the control plane; the proxy keeps its sockets and serves on (the new
      # control plane has it hand them to a proxy of the new build: no request is refused).
      what=Upgraded
      say "stopping the old control plane (pid $old) with SIGUSR2; the proxy keeps serving"
      kill -USR2 "$old"
      local deadline=$((SECONDS + 20))
      while alive "$old"; do
        if ((SECONDS > deadline)); then
          warn "control plane $old did not exit within 20 s of SIGUSR2; killing it"
          kill -KILL "$old" 2>/dev/null || true
          break
        fi
        sleep 0.1
      done
    fi
    say "background daemon, log: $DATA_DIR/logs/paas.log"
    (cd / && exec setsid nohup "$PAAS_BIN" server --data-dir "$DATA_DIR" --ssh-port "$SSH_PORT" \
      --http-port "$HTTP_PORT" --https-port "$HTTPS_PORT" --listen "$LISTEN" --proxy-user "$PROXY_USER" ${DOMAIN:+--domain "$DOMAIN"} \
      >>"$DATA_DIR/logs/paas.log" 2>&1 </dev/null &)
  fi

  # Ready when a new control plane wrote its pid, ports.json exists and the SSH port answers.
  local host=$LISTEN port='' deadline=$((SECONDS + 60))
  [[ $host == 0.0.0.0 || $host == :: ]] && host=127.0.0.1
  while :; do
    new=$(read_pid "$run_dir/control.pid" || true)
    if alive "$new" && [[ $new != "$old" && -f $run_dir/ports.json ]]; then
      port=$(ssh_port_from_ports_json)
      [[ -n $port ]] && ssh_answers "$host" "$port" && break
    fi
    if ((SECONDS > deadline)); then
      printf 'paas install: paas did not come up within 60 s; last lines of %s:\n' "$DATA_DIR/logs/paas.log" >&2
      tail -n 20 "$DATA_DIR/logs/paas.log" 2>/dev/null | sed 's/^/    /' >&2
      FAILED_QUIETLY=1
      exit 1
    fi
    sleep 0.2
  done
  SSH_PORT_LIVE=$port
  done_step "$what paas (control pid $new, proxy pid $(read_pid "$run_dir/proxy.pid" || printf '?'), ssh port $port)"
}

public_host() {
  if [[ -n ${PAAS_PUBLIC_HOST:-} ]]; then printf '%s' "$PAAS_PUBLIC_HOST"; return; fi
  if [[ -n $DOMAIN ]]; then printf '%s' "$DOMAIN"; return; fi
  local ip
  ip=$(hostname -I 2>/dev/null | awk '{print $1}')
  printf '%s' "${ip:-$(hostname -f 2>/dev/null || hostname)}"
}

summary() {
  local host port=${SSH_PORT_LIVE:-$SSH_PORT} i
  host=$(public_host)
  printf '\nInstall step timings (total %s s):\n' "$(secs_since "$INSTALL_T0")"
  for i in "${!STEP_LABELS[@]}"; do printf '  %7s s  %s\n' "${STEP_SECS[$i]}" "${STEP_LABELS[$i]}"; done
  printf '\npaas %s is installed; data in %s, settings in %s.\n' "${PAAS_VERSION:-}" "$DATA_DIR" "$ENV_FILE"
  printf 'Deploy an app from its git repository:\n\n'
  printf '  git remote add paas ssh://paas@%s:%s/myapp\n' "$host" "$port"
  printf '  git push paas main\n\n'
  printf 'Run commands:\n\n'
  printf '  ssh -p %s paas@%s help\n\n' "$port" "$host"
}

main() {
  INSTALL_T0=$(now_us)
  trap on_exit EXIT
  parse_args "$@"
  check_os
  check_root
  locate_source
  resolve_settings
  plan_packages
  confirm
  exec </dev/null # never read the terminal (or, piped, the rest of this script) again

  make_data_dir
  ensure_proxy_user
  install_packages
  start_docker
  ensure_node
  if [[ $SOURCE == web ]]; then install_from_web; else secure_source; fi
  build_paas
  checkout_deps
  host_key
  write_env_file
  register_admin_key
  install_pack
  start_paas
  summary
}

# `; exit` on the same line: bash never reads past it, even if the file grows meanwhile.
main "$@"; exit
