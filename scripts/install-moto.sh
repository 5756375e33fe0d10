#!/usr/bin/env bash
# Makes the moto server (the local AWS emulator the tests and the demo use) runnable from the project's own
# .emulator folder, then prints one line saying where it came from and how to run it. Safe to run again: an
# earlier install that still matches the lock is reused within a couple of seconds.
#
# The lock, scripts/moto-requirements.txt (written by scripts/moto-lock.py), pins moto[server] and every
# distribution it needs, each at one version: its moto line is the pinned version. pip and copy installs are
# checked against it (every locked version exactly, nothing else) and run isolated from the machine's
# site-packages: `python3 -S` (no site module: no site-packages, no user site, no .pth files) with
# PYTHONPATH set to the install.
#
# Routes, first that works wins:
#   a. an earlier install: the one .emulator/python-env records, else .emulator/site, .emulator/pip-moto or
#      .emulator/moto; a pip or copy install only when it still matches the lock.
#   b. pip: `pip install --no-deps --target .emulator/pip-moto -r scripts/moto-requirements.txt` with the
#      python3 on PATH: exactly the lock, nothing unlisted. --target keeps it out of the user's environment
#      and sidesteps PEP 668 "externally managed" errors. Short timeout and no retries, so a machine
#      without an index fails over in seconds.
#   c. copy: from a python on the machine that has every locked distribution at exactly its locked version
#      (MOTO_COPY_FROM, else python3 on PATH, then /usr/bin/python3), each one's files as its RECORD lists
#      them are copied into .emulator/site. A python lacking one, or with another version, is refused, and
#      each difference is named.
#   d. Debian, as root (see docs on the emulator): only when trixie's python3-moto is the pinned version.
#      Its dependencies are bookworm's packages, installed system-wide (said before apt-get runs), so this
#      route is checked by moto's version only, not against the lock, and runs without -S. With a private
#      apt configuration (own sources list naming the system's Debian mirror, suite trixie, own lists and
#      cache under .emulator/apt; the system's sources stay untouched) `apt-get download python3-moto` and
#      `dpkg -x` it into .emulator/moto.
#
# Writes .emulator/python-env (shell syntax: MOTO_PYTHON, MOTO_PYTHON_FLAGS, MOTO_PYTHONPATH, MOTO_ROUTE,
# MOTO_FROM, MOTO_VERSION), which scripts/emulator.sh reads. Needs no standard input; works with CI=true.
#
# Environment: MOTO_INSTALL_ROUTE=auto (default) | pip | copy | debian restricts the routes (an install
# made by a route is reused by the same route); MOTO_PIP_TIMEOUT (seconds, default 5) for b; MOTO_COPY_FROM
# (a python interpreter, e.g. a venv's bin/python3) for c.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCK="$ROOT/scripts/moto-requirements.txt"
LOCK_TOOL="$ROOT/scripts/moto-lock.py"
EMU="$ROOT/.emulator"
ENV_FILE="$EMU/python-env"
SITE_DIR="$EMU/site"
PIP_DIR="$EMU/pip-moto"
DEB_DIR="$EMU/moto"
DEB_SITE="$DEB_DIR/usr/lib/python3/dist-packages"
APT_DIR="$EMU/apt"
SYS_PY=/usr/bin/python3
SYSTEM_SOURCES=/etc/apt/sources.list.d/debian.sources
# bookworm's pure-Python packages that trixie's python3-moto needs to serve Lambda, IAM, STS, Logs.
DEBIAN_DEPS=(python3-flask python3-flask-cors python3-werkzeug python3-requests python3-responses
  python3-jinja2 python3-dateutil python3-xmltodict python3-antlr4 python3-yaml python3-cryptography
  python3-jmespath python3-urllib3 python3-boto3 python3-botocore)

log() { echo "install-moto: $*" >&2; }
die() { log "error: $*"; exit 1; }

# The one moto version the tests are run against, whichever route brings it: another version is never
# used (two machines would test against two emulators). Changing it means a new lock and the whole suite.
PINNED="$(sed -n 's/^moto==//p' "$LOCK" 2>/dev/null || true)"
[ -n "$PINNED" ] || die "no moto==VERSION line in $LOCK"
LOCKED_COUNT="$(grep -c '^[^#[:space:]]' "$LOCK")"

# record PYTHON FLAGS PYTHONPATH ROUTE FROM HOW: write .emulator/python-env and print the one line.
record() {
  local py=$1 flags=$2 pp=$3 route=$4 from=$5 how=$6
  mkdir -p "$EMU"
  {
    echo "# Written by scripts/install-moto.sh; read by scripts/emulator.sh."
    printf 'MOTO_PYTHON=%q\n' "$py"
    printf 'MOTO_PYTHON_FLAGS=%q\n' "$flags"
    printf 'MOTO_PYTHONPATH=%q\n' "$pp"
    printf 'MOTO_ROUTE=%q\n' "$route"
    printf 'MOTO_FROM=%q\n' "$from"
    printf 'MOTO_VERSION=%q\n' "$PINNED"
  } >"$ENV_FILE.tmp"
  mv "$ENV_FILE.tmp" "$ENV_FILE"
  echo "moto $PINNED ($how): run 'bash scripts/emulator.sh start', or by hand:" \
    "${pp:+PYTHONPATH=$pp }$py ${flags:+$flags }-m moto.server -H 127.0.0.1 -p ${MOTO_PORT:-5055}"
}

# matches_lock PYTHON DIR WHAT: DIR holds exactly the locked distributions and moto.server imports from it,
# run as the emulator runs (-S, PYTHONPATH=DIR). One python start, so that reuse stays fast; says why not.
matches_lock() {
  [ -x "$1" ] && [ -d "$2" ] || return 1
  local out
  if out="$(PYTHONPATH="$2" "$1" -S "$LOCK_TOOL" check --path "$2" --import 2>&1 >/dev/null)"; then return 0; fi
  log "$3 does not match the lock: not used"
  sed 's/^/  /' <<<"$out" >&2
  return 1
}

# lock_closed PYTHON DIR: no requirement of the locked distributions in DIR (markers of PYTHON) is unlisted.
lock_closed() {
  local out
  out="$(PYTHONPATH='' "$1" "$LOCK_TOOL" check --path "$2" --closure 2>&1 >/dev/null)" && return 0
  sed 's/^/  /' <<<"$out" >&2
  return 1
}

# FOUND_VERSION: what moto_works last saw.
FOUND_VERSION=unknown
# moto_works PYTHON PYTHONPATH: that interpreter, with the site module (Debian's dependencies are in its
# dist-packages), imports moto's server; sets FOUND_VERSION.
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

# The interpreter that `python3` on PATH really is (pyenv shims and the like resolved).
path_python() {
  command -v python3 >/dev/null 2>&1 || return 1
  python3 -c 'import sys; print(sys.executable)' 2>/dev/null
}

# route_allowed NAME: whether MOTO_INSTALL_ROUTE lets that route be used.
route_allowed() { [ "$ROUTE" = auto ] || [ "$ROUTE" = "$1" ]; }

# --- a. an earlier install ---------------------------------------------------------------------
try_earlier() {
  local py
  py="$(path_python || true)"
  if [ -f "$ENV_FILE" ]; then
    local MOTO_PYTHON='' MOTO_PYTHONPATH='' MOTO_ROUTE='' MOTO_FROM=''
    # shellcheck disable=SC1090
    . "$ENV_FILE"
    if route_allowed "$MOTO_ROUTE"; then
      case "$MOTO_ROUTE" in
        pip | copy)
          if matches_lock "$MOTO_PYTHON" "$MOTO_PYTHONPATH" "the recorded install ($MOTO_FROM)"; then
            record "$MOTO_PYTHON" -S "$MOTO_PYTHONPATH" "$MOTO_ROUTE" "$MOTO_FROM" \
              "$MOTO_FROM; reused, all $LOCKED_COUNT locked versions still match"
            return 0
          fi
          ;;
        debian)
          if pinned_works "$MOTO_PYTHON" "$MOTO_PYTHONPATH" "the recorded install ($MOTO_FROM)"; then
            record "$MOTO_PYTHON" '' "$MOTO_PYTHONPATH" debian "$MOTO_FROM" "$MOTO_FROM; reused"
            return 0
          fi
          ;;
      esac
    fi
  fi
  # Installs whose record is gone: the interpreter they most likely came from.
  if route_allowed copy && [ -n "$py" ] && [ -d "$SITE_DIR" ] && matches_lock "$py" "$SITE_DIR" ".emulator/site"; then
    record "$py" -S "$SITE_DIR" copy "copied into .emulator/site for $py" \
      "the earlier copy in .emulator/site, for $py; reused, all $LOCKED_COUNT locked versions match"
    return 0
  fi
  if route_allowed pip && [ -n "$py" ] && [ -d "$PIP_DIR" ] && matches_lock "$py" "$PIP_DIR" ".emulator/pip-moto"; then
    record "$py" -S "$PIP_DIR" pip "pip --no-deps into .emulator/pip-moto for $py" \
      "the earlier pip install in .emulator/pip-moto, for $py; reused, all $LOCKED_COUNT locked versions match"
    return 0
  fi
  if route_allowed debian && [ -d "$DEB_SITE" ] && pinned_works "$SYS_PY" "$DEB_SITE" ".emulator/moto"; then
    record "$SYS_PY" '' "$DEB_SITE" debian "Debian's python3-moto in .emulator/moto, run by $SYS_PY" \
      "Debian's python3-moto in .emulator/moto, run by $SYS_PY; reused"
    return 0
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
  log "pip route: $py -m pip install --no-deps --target .emulator/pip-moto -r scripts/moto-requirements.txt ($LOCKED_COUNT distributions)"
  rm -rf "$PIP_DIR.partial"
  local pip_log
  pip_log="$(mktemp "${TMPDIR:-/tmp}/install-moto-pip.XXXXXX")"
  # PIP_DEFAULT_TIMEOUT and friends from the environment would otherwise win over a slow failure.
  # --no-deps: the lock is the whole closure, so pip resolves nothing and installs nothing unlisted.
  if PIP_DEFAULT_TIMEOUT="${MOTO_PIP_TIMEOUT:-5}" PIP_RETRIES=0 PIP_NO_INPUT=1 \
    "$py" -m pip install --disable-pip-version-check --no-input --quiet \
    --timeout "${MOTO_PIP_TIMEOUT:-5}" --retries 0 --no-deps \
    --target "$PIP_DIR.partial" -r "$LOCK" </dev/null >"$pip_log" 2>&1; then
    rm -f "$pip_log"
    # The lock was made on one python: another one's markers may need a distribution it does not name.
    if ! lock_closed "$py" "$PIP_DIR.partial"; then
      rm -rf "$PIP_DIR.partial"
      log "pip route: for $py the lock is not the whole closure (above); make a new one with scripts/moto-lock.py"
      return 1
    fi
    rm -rf "$PIP_DIR"
    mv "$PIP_DIR.partial" "$PIP_DIR"
    if matches_lock "$py" "$PIP_DIR" ".emulator/pip-moto"; then
      record "$py" -S "$PIP_DIR" pip "pip --no-deps into .emulator/pip-moto for $py" \
        "pip --no-deps into .emulator/pip-moto for $py, all $LOCKED_COUNT locked versions"
      return 0
    fi
    return 1
  fi
  rm -rf "$PIP_DIR.partial"
  log "pip route failed (no reachable index?); pip said:"
  tail -n 3 "$pip_log" | sed 's/^/  /' >&2
  rm -f "$pip_log"
  return 1
}

# --- c. copy -----------------------------------------------------------------------------------
# copy_sources: the interpreters to copy from, one a line, each once.
copy_sources() {
  if [ -n "${MOTO_COPY_FROM:-}" ]; then
    # Made absolute (emulator.sh runs it from anywhere) but not resolved: a venv's python is a symlink
    # whose target would not see the venv's packages.
    case "$MOTO_COPY_FROM" in
      /*) echo "$MOTO_COPY_FROM" ;;
      *) echo "$PWD/$MOTO_COPY_FROM" ;;
    esac
    return 0
  fi
  { path_python || true; echo "$SYS_PY"; } | awk 'NF && !seen[$0]++'
}

try_copy() {
  local src out
  while IFS= read -r src; do
    if [ ! -x "$src" ]; then log "copy route: no python at $src"; continue; fi
    # Every locked version there, and for its markers nothing the lock lacks: else each difference is named.
    if ! out="$("$src" "$LOCK_TOOL" check --closure 2>&1 >/dev/null)"; then
      log "copy route: $src is not used:"
      sed 's/^/  /' <<<"$out" >&2
      continue
    fi
    log "copy route: copying the $LOCKED_COUNT locked distributions from $src into .emulator/site"
    rm -rf "$SITE_DIR.partial"
    if ! out="$("$src" "$LOCK_TOOL" copy --to "$SITE_DIR.partial" 2>&1 >/dev/null)"; then
      rm -rf "$SITE_DIR.partial"
      log "copy route: copying from $src failed:"
      sed 's/^/  /' <<<"$out" >&2
      continue
    fi
    rm -rf "$SITE_DIR"
    mv "$SITE_DIR.partial" "$SITE_DIR"
    if matches_lock "$src" "$SITE_DIR" ".emulator/site"; then
      record "$src" -S "$SITE_DIR" copy "copied into .emulator/site from the machine's $src" \
        "copied into .emulator/site from the machine's $src, all $LOCKED_COUNT locked versions matched"
      return 0
    fi
  done < <(copy_sources)
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
    record "$SYS_PY" '' "$DEB_SITE" debian "Debian's python3-moto in .emulator/moto, run by $SYS_PY" \
      "Debian's python3-moto $PINNED in .emulator/moto, run by $SYS_PY, its dependencies bookworm's system packages"
    return 0
  fi
  log "unpacked $(basename "$deb"), but moto does not import:"
  moto_import_error "$SYS_PY" "$DEB_SITE" >&2
  return 1
}

ROUTE="${MOTO_INSTALL_ROUTE:-auto}"
case "$ROUTE" in
  auto | pip | copy | debian) ;;
  existing) die "MOTO_INSTALL_ROUTE=existing is gone: moto runs from .emulator only; 'copy' copies the machine's moto there when it matches scripts/moto-requirements.txt" ;;
  *) die "MOTO_INSTALL_ROUTE must be auto, pip, copy or debian, not '$ROUTE'" ;;
esac
mkdir -p "$EMU"
try_earlier && exit 0
if route_allowed pip; then try_pip && exit 0; fi
if route_allowed copy; then try_copy && exit 0; fi
if route_allowed debian; then try_debian && exit 0; fi
die "could not make moto $PINNED runnable from scripts/moto-requirements.txt. Install exactly the lock into a" \
  "python of your own (python3 -m venv v && v/bin/pip install --no-deps -r scripts/moto-requirements.txt)," \
  "then run this again with MOTO_COPY_FROM=v/bin/python3."
