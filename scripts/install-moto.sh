#!/usr/bin/env bash
# Makes the moto server (the local AWS emulator the tests and the demo use) runnable, then prints one
# line saying how to run it. Safe to run again: when moto already imports it returns within seconds.
#
# Routes, first that works wins:
#   a. moto already importable: the interpreter recorded by an earlier run, an earlier route b or c
#      install under .emulator, /usr/bin/python3, or the first python3 on PATH.
#   b. pip: `pip install --target .emulator/pip-moto "moto[server]"` with the python3 on PATH. --target
#      keeps moto out of the user's environment and sidesteps PEP 668 "externally managed" errors.
#      Short timeout and no retries, so a machine without an index fails over in seconds.
#   c. Debian, as root (see docs on the emulator): apt-get install bookworm's pure-Python dependencies,
#      then with a private apt configuration (own sources list naming the system's Debian mirror, suite
#      trixie, own lists and cache under .emulator/apt; the system's sources stay untouched)
#      `apt-get download python3-moto` and `dpkg -x` it into .emulator/moto.
#
# Writes .emulator/python-env (shell syntax: MOTO_PYTHON, MOTO_PYTHONPATH, MOTO_ROUTE, MOTO_VERSION),
# which scripts/emulator.sh reads. Needs no standard input; works with CI=true.
#
# Environment: MOTO_INSTALL_ROUTE=auto (default) | existing | pip | debian restricts the routes (an
# install made by a route is reused by the same route); MOTO_PIP_TIMEOUT (seconds, default 5) for b.
set -euo pipefail

# The one moto version the tests are run against, whichever route brings it: another version is never
# used (two machines would test against two emulators). Changing it means running the whole suite on it.
PINNED=5.2.1

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EMU="$ROOT/.emulator"
ENV_FILE="$EMU/python-env"
DEB_DIR="$EMU/moto"
DEB_SITE="$DEB_DIR/usr/lib/python3/dist-packages"
PIP_DIR="$EMU/pip-moto"
APT_DIR="$EMU/apt"
SYS_PY=/usr/bin/python3
SYSTEM_SOURCES=/etc/apt/sources.list.d/debian.sources
# bookworm's pure-Python packages that trixie's python3-moto needs to serve Lambda, IAM, STS, Logs.
DEBIAN_DEPS=(python3-flask python3-flask-cors python3-werkzeug python3-requests python3-responses
  python3-jinja2 python3-dateutil python3-xmltodict python3-antlr4 python3-yaml python3-cryptography
  python3-jmespath python3-urllib3 python3-boto3 python3-botocore)

log() { echo "install-moto: $*" >&2; }
die() { log "error: $*"; exit 1; }

# moto_works PYTHON PYTHONPATH: true when that interpreter imports moto's server; sets FOUND_VERSION.
FOUND_VERSION=unknown
moto_works() {
  [ -n "$1" ] && [ -x "$1" ] || return 1
  FOUND_VERSION="$(PYTHONPATH="$2" "$1" -c 'import moto, moto.server; print(moto.__version__)' 2>/dev/null)"
}

# pinned_works PYTHON PYTHONPATH WHAT: moto_works, and it is the pinned version; says so when it is another.
pinned_works() {
  moto_works "$1" "$2" || return 1
  [ "$FOUND_VERSION" = "$PINNED" ] && return 0
  log "$3 has moto $FOUND_VERSION, not the pinned $PINNED: not used"
  return 1
}

# moto_import_error PYTHON PYTHONPATH: the last lines of the import failure, for error messages.
moto_import_error() {
  PYTHONPATH="$2" "$1" -c 'import moto.server' 2>&1 | tail -n 5 || true
}

# record PYTHON PYTHONPATH ROUTE: write .emulator/python-env and print the one line.
record() {
  local py=$1 pp=$2 route=$3 version=$FOUND_VERSION
  mkdir -p "$EMU"
  {
    echo "# Written by scripts/install-moto.sh; read by scripts/emulator.sh."
    printf 'MOTO_PYTHON=%q\n' "$py"
    printf 'MOTO_PYTHONPATH=%q\n' "$pp"
    printf 'MOTO_ROUTE=%q\n' "$route"
    printf 'MOTO_VERSION=%q\n' "$version"
  } >"$ENV_FILE.tmp"
  mv "$ENV_FILE.tmp" "$ENV_FILE"
  echo "moto $version ($route): run 'bash scripts/emulator.sh start', or by hand:" \
    "${pp:+PYTHONPATH=$pp }$py -m moto.server -H 127.0.0.1 -p ${MOTO_PORT:-5055}"
}

# The interpreter that `python3` on PATH really is (pyenv shims and the like resolved).
path_python() {
  command -v python3 >/dev/null 2>&1 || return 1
  python3 -c 'import sys; print(sys.executable)' 2>/dev/null
}

# --- a. already there --------------------------------------------------------------------------
# route_allowed NAME: whether MOTO_INSTALL_ROUTE lets that route be used.
route_allowed() { [ "$ROUTE" = auto ] || [ "$ROUTE" = "$1" ]; }

try_existing() {
  if [ -f "$ENV_FILE" ]; then
    local MOTO_PYTHON='' MOTO_PYTHONPATH='' MOTO_ROUTE=''
    # shellcheck disable=SC1090
    . "$ENV_FILE"
    if route_allowed "${MOTO_ROUTE%% *}" && pinned_works "$MOTO_PYTHON" "$MOTO_PYTHONPATH" "the recorded install ($MOTO_ROUTE)"; then
      record "$MOTO_PYTHON" "$MOTO_PYTHONPATH" "$MOTO_ROUTE"
      return 0
    fi
  fi
  if route_allowed debian && [ -d "$DEB_SITE" ] && pinned_works "$SYS_PY" "$DEB_SITE" ".emulator/moto"; then
    record "$SYS_PY" "$DEB_SITE" "debian package in .emulator/moto"; return 0
  fi
  local py
  py="$(path_python || true)"
  if route_allowed pip && [ -n "$py" ] && [ -d "$PIP_DIR" ] && pinned_works "$py" "$PIP_DIR" ".emulator/pip-moto"; then
    record "$py" "$PIP_DIR" "pip into .emulator/pip-moto"; return 0
  fi
  route_allowed existing || return 1
  # The machine's own moto is used only at the pinned version, and the line printed says whose it is.
  if pinned_works "$SYS_PY" "" "$SYS_PY"; then record "$SYS_PY" "" "existing: the machine's own, in /usr/bin/python3"; return 0; fi
  if [ -n "$py" ] && [ "$py" != "$SYS_PY" ] && pinned_works "$py" "" "$py"; then
    record "$py" "" "existing: the machine's own, in python3 on PATH"; return 0
  fi
  return 1
}

# --- b. pip ------------------------------------------------------------------------------------
try_pip() {
  local py
  py="$(path_python || true)"
  [ -n "$py" ] || py="$SYS_PY"
  if ! "$py" -m pip --version >/dev/null 2>&1; then
    log "pip route: $py has no pip"
    return 1
  fi
  log "pip route: $py -m pip install --target .emulator/pip-moto \"moto[server]==$PINNED\""
  rm -rf "$PIP_DIR.partial"
  local pip_log
  pip_log="$(mktemp "${TMPDIR:-/tmp}/install-moto-pip.XXXXXX")"
  # PIP_DEFAULT_TIMEOUT and friends from the environment would otherwise win over a slow failure.
  if PIP_DEFAULT_TIMEOUT="${MOTO_PIP_TIMEOUT:-5}" PIP_RETRIES=0 PIP_NO_INPUT=1 \
    "$py" -m pip install --disable-pip-version-check --no-input --quiet \
    --timeout "${MOTO_PIP_TIMEOUT:-5}" --retries 0 \
    --target "$PIP_DIR.partial" "moto[server]==$PINNED" </dev/null >"$pip_log" 2>&1; then
    rm -f "$pip_log"
    rm -rf "$PIP_DIR"
    mv "$PIP_DIR.partial" "$PIP_DIR"
    if pinned_works "$py" "$PIP_DIR" ".emulator/pip-moto"; then
      record "$py" "$PIP_DIR" "pip into .emulator/pip-moto"
      return 0
    fi
    log "pip route: installed, but moto does not import:"
    moto_import_error "$py" "$PIP_DIR" >&2
    return 1
  fi
  rm -rf "$PIP_DIR.partial"
  log "pip route failed (no reachable index?); pip said:"
  tail -n 3 "$pip_log" | sed 's/^/  /' >&2
  rm -f "$pip_log"
  return 1
}

# --- c. Debian ---------------------------------------------------------------------------------
# The mirror URI of the system's main Debian source (not the security one), from deb822 sources.
debian_mirror() {
  [ -r "$SYSTEM_SOURCES" ] || return 1
  awk '
    function flush() { if (uri != "" && !sec && found == "") found = uri; uri = ""; sec = 0 }
    /^[[:space:]]*#/ { next }
    /^[[:space:]]*$/ { flush(); next }
    tolower($1) == "uris:" { uri = $2 }
    tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i ~ /-security$/) sec = 1 }
    END { flush(); if (found == "") exit 1; print found }
  ' "$SYSTEM_SOURCES"
}

debian_keyring() {
  awk 'tolower($1) == "signed-by:" && $2 ~ /^\// { print $2; exit }' "$SYSTEM_SOURCES" 2>/dev/null
}

apt_install_deps() {
  local missing=() pkg
  for pkg in "${DEBIAN_DEPS[@]}"; do
    if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" != "install ok installed" ]; then
      missing+=("$pkg")
    fi
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  # Refresh the system's lists only when one of the packages has no candidate yet, or when
  # installing from the lists as they are fails (they may name files the mirror no longer has).
  local need_update=0 policy
  for pkg in "${missing[@]}"; do
    policy="$(apt-cache policy "$pkg" 2>/dev/null || true)"
    if ! grep -q 'Candidate: [^(]' <<<"$policy"; then need_update=1; break; fi
  done
  if [ $need_update = 1 ]; then
    log "apt-get update (system lists lack some packages)"
    apt-get update -qq </dev/null >&2 || die "apt-get update failed"
  fi
  log "apt-get install ${missing[*]}"
  if ! apt_get_install "${missing[@]}"; then
    if [ $need_update = 0 ]; then
      log "apt-get install failed; apt-get update and once more"
      apt-get update -qq </dev/null >&2 || die "apt-get update failed"
      apt_get_install "${missing[@]}" && return 0
    fi
    tail -n 20 "$EMU/apt-install.log" >&2
    die "apt-get install failed (full log: .emulator/apt-install.log)"
  fi
}

apt_get_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
    </dev/null >"$EMU/apt-install.log" 2>&1
}

# Private apt configuration that sees only trixie, with lists and cache under .emulator/apt.
write_private_apt() {
  local mirror=$1 keyring=$2
  mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" "$APT_DIR/sources.list.d" "$APT_DIR/debs"
  printf 'deb [%s] %s trixie main\n' "${keyring:+signed-by=$keyring}" "$mirror" >"$APT_DIR/sources.list"
  cat >"$APT_DIR/apt.conf" <<EOF
Dir::Etc::SourceList "$APT_DIR/sources.list";
Dir::Etc::SourceParts "$APT_DIR/sources.list.d";
Dir::State::Lists "$APT_DIR/lists";
Dir::Cache "$APT_DIR/cache";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT::Sandbox::User "root";
Acquire::Languages "none";
EOF
}

try_debian() {
  if [ "$(id -u)" != 0 ]; then log "Debian route needs root; skipped"; return 1; fi
  if [ ! -r /etc/debian_version ] || ! command -v apt-get >/dev/null || ! command -v dpkg >/dev/null; then
    log "not a Debian system; Debian route skipped"; return 1
  fi
  [ -x "$SYS_PY" ] || { log "no $SYS_PY; Debian route skipped"; return 1; }
  local mirror keyring
  mirror="$(debian_mirror || true)"
  [ -n "$mirror" ] || { log "no Debian mirror found in $SYSTEM_SOURCES; Debian route skipped"; return 1; }
  keyring="$(debian_keyring || true)"

  write_private_apt "$mirror" "$keyring"
  export APT_CONFIG="$APT_DIR/apt.conf"
  if ! compgen -G "$APT_DIR/lists/*_dists_trixie_main_binary-*_Packages*" >/dev/null; then
    log "apt-get update (private trixie lists in .emulator/apt)"
    apt-get update -qq </dev/null >&2 || die "apt-get update of the private trixie lists failed"
  fi
  rm -f "$APT_DIR/debs/"*.deb
  log "apt-get download python3-moto (trixie)"
  if ! (cd "$APT_DIR/debs" && apt-get download -qq python3-moto </dev/null >&2); then
    # Stale lists name a file the mirror no longer has: refresh once and retry.
    apt-get update -qq </dev/null >&2 || die "apt-get update of the private trixie lists failed"
    (cd "$APT_DIR/debs" && apt-get download -qq python3-moto </dev/null >&2) || die "apt-get download python3-moto failed"
  fi
  unset APT_CONFIG
  local deb version
  deb="$(ls "$APT_DIR/debs/"python3-moto_*.deb | head -n 1)"
  # Before anything is installed system-wide: Debian's version must be the pinned one.
  version="$(dpkg-deb -f "$deb" Version)"
  version="${version%%-*}"
  if [ "$version" != "$PINNED" ]; then
    log "Debian's python3-moto is $version, not the pinned $PINNED: Debian route skipped, nothing installed"
    return 1
  fi
  # The dependencies go into the system (said here, before apt-get runs): bookworm's python3 packages.
  log "installing moto's dependencies system-wide with apt-get (root): ${DEBIAN_DEPS[*]}"
  apt_install_deps
  rm -rf "$DEB_DIR"
  dpkg -x "$deb" "$DEB_DIR"
  if pinned_works "$SYS_PY" "$DEB_SITE" ".emulator/moto"; then
    record "$SYS_PY" "$DEB_SITE" "debian package in .emulator/moto"
    return 0
  fi
  log "unpacked $(basename "$deb"), but moto does not import:"
  moto_import_error "$SYS_PY" "$DEB_SITE" >&2
  return 1
}

ROUTE="${MOTO_INSTALL_ROUTE:-auto}"
case "$ROUTE" in
  auto | existing | pip | debian) ;;
  *) die "MOTO_INSTALL_ROUTE must be auto, existing, pip or debian, not '$ROUTE'" ;;
esac
mkdir -p "$EMU"
try_existing && exit 0
if route_allowed pip; then try_pip && exit 0; fi
if route_allowed debian; then try_debian && exit 0; fi
die "could not make moto $PINNED runnable. Install it yourself (pip install \"moto[server]==$PINNED\", or pipx), then run this again."
