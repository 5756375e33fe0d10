#!/usr/bin/env bash
# The local AWS emulator (moto server) for tests, CI and the demo.
#
#   bash scripts/emulator.sh start    start moto on 127.0.0.1:${MOTO_PORT:-5055} (no-op when running)
#   bash scripts/emulator.sh stop     stop the moto this script started on that port
#   bash scripts/emulator.sh status   say whether it runs there (exit 0) or not (exit 1)
#   bash scripts/emulator.sh url      print http://127.0.0.1:PORT (for AWS_ENDPOINT_URL)
#
# Each port is its own instance (the tests use their own port while the demo's runs on 5055); every
# command acts on the instance of MOTO_PORT.
# start installs moto first when scripts/install-moto.sh has not recorded an install yet, starts it
# with MOTO_IAM_LOAD_MANAGED_POLICIES=true (AWS managed policies exist), waits until it answers
# (MOTO_START_TIMEOUT seconds, default 30), then switches Lambda to use_docker=false before anything
# is created (Invoke without Docker; the switch selects a separate Lambda store).
# Files: .emulator/moto.log and .emulator/moto.pid for port 5055, moto-PORT.log and moto-PORT.pid for
# any other port; the log holds this start's output (the one before is kept as *.log.prev).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EMU="$ROOT/.emulator"
ENV_FILE="$EMU/python-env"
HOST=127.0.0.1
PORT="${MOTO_PORT:-5055}"
[[ "$PORT" =~ ^[0-9]+$ ]] || { echo "emulator: error: MOTO_PORT must be a number, not '$PORT'" >&2; exit 2; }
if [ "$PORT" = 5055 ]; then INSTANCE=moto; else INSTANCE="moto-$PORT"; fi
LOG_FILE="$EMU/$INSTANCE.log"
PID_FILE="$EMU/$INSTANCE.pid"
URL="http://$HOST:$PORT"
START_TIMEOUT="${MOTO_START_TIMEOUT:-30}"

say() { echo "emulator: $*" >&2; }
die() { say "error: $*"; exit 1; }

# alive PID: the process exists and is not a zombie (exited, not yet reaped; pid 1 here reaps slowly).
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local state
  if [ -r "/proc/$1/stat" ]; then
    state="$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null || true)"
  else
    state="$(ps -o stat= -p "$1" 2>/dev/null | tr -d ' ' || true)"
  fi
  [ -n "$state" ] && [[ "$state" != Z* ]]
}

# The command line of PID (Linux /proc, else ps as on macOS).
command_line() {
  if [ -r "/proc/$1/cmdline" ]; then
    tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true
  else
    ps -o command= -p "$1" 2>/dev/null || true
  fi
}

# The pid from the pid file when that process is alive and is a moto server; empty otherwise.
running_pid() {
  [ -f "$PID_FILE" ] || return 0
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  alive "$pid" || return 0
  # A recycled pid must not be mistaken for ours.
  [[ "$(command_line "$pid")" == *moto.server* ]] || return 0
  echo "$pid"
}

# answers URL: moto's own API responds there.
answers() { curl -fsS -o /dev/null --max-time 2 "$1/moto-api/config" 2>/dev/null; }

configure_lambda() {
  curl -fsS -o /dev/null --max-time 10 -X POST -H 'Content-Type: application/json' \
    --data '{"lambda":{"use_docker":false}}' "$1/moto-api/config" ||
    die "moto at $1 did not accept POST /moto-api/config"
}

log_tail() {
  [ -f "$LOG_FILE" ] || return 0
  say "last lines of $LOG_FILE:"
  tail -n 20 "$LOG_FILE" | sed 's/^/  /' >&2
}

start() {
  command -v curl >/dev/null || die "curl is needed"
  local pid
  pid="$(running_pid)"
  if [ -n "$pid" ]; then
    answers "$URL" || die "moto (pid $pid) runs but does not answer at $URL"
    configure_lambda "$URL"
    say "already running at $URL (pid $pid)"
    echo "$URL"
    return 0
  fi
  if answers "$URL"; then
    die "something else already answers at $URL (not started by this script); stop it or set MOTO_PORT"
  fi

  # A record from before the lock (route "existing": the machine's own site-packages) is not run.
  if ! grep -Eqs '^MOTO_ROUTE=(pip|copy|debian)$' "$ENV_FILE"; then
    say "moto not installed in .emulator yet: running scripts/install-moto.sh"
    bash "$ROOT/scripts/install-moto.sh" >&2
  fi
  local MOTO_PYTHON='' MOTO_PYTHON_FLAGS='' MOTO_PYTHONPATH=''
  # shellcheck disable=SC1090
  . "$ENV_FILE"
  [ -x "$MOTO_PYTHON" ] || die "interpreter '$MOTO_PYTHON' from $ENV_FILE is gone; run bash scripts/install-moto.sh"
  # As install-moto.sh checked it: -S keeps the machine's site-packages off sys.path (empty for Debian's).
  local flags=()
  read -r -a flags <<<"$MOTO_PYTHON_FLAGS"

  mkdir -p "$EMU"
  # One log per start; the previous one is kept as moto.log.prev.
  [ -f "$LOG_FILE" ] && mv -f "$LOG_FILE" "$LOG_FILE.prev"
  echo "--- $(date -u +%FT%TZ) start on $URL: ${MOTO_PYTHONPATH:+PYTHONPATH=$MOTO_PYTHONPATH }$MOTO_PYTHON ${MOTO_PYTHON_FLAGS:+$MOTO_PYTHON_FLAGS }-m moto.server" >"$LOG_FILE"
  # setsid (where there is one; macOS has none): own session, so a Ctrl-C in the caller's terminal
  # or the end of the caller's process group does not reach the server.
  local detach=()
  command -v setsid >/dev/null && detach=(setsid)
  MOTO_IAM_LOAD_MANAGED_POLICIES=true PYTHONPATH="$MOTO_PYTHONPATH" \
    ${detach[@]+"${detach[@]}"} "$MOTO_PYTHON" ${flags[@]+"${flags[@]}"} -m moto.server -H "$HOST" -p "$PORT" </dev/null >>"$LOG_FILE" 2>&1 &
  pid=$!
  echo "$pid" >"$PID_FILE"

  # SECONDS counts whole seconds: +1 so that the wait is never shorter than asked.
  local deadline=$((SECONDS + START_TIMEOUT + 1))
  until answers "$URL"; do
    if ! alive "$pid"; then
      rm -f "$PID_FILE"
      log_tail
      die "moto exited during start"
    fi
    if [ $SECONDS -ge $deadline ]; then
      log_tail
      kill "$pid" 2>/dev/null || true
      rm -f "$PID_FILE"
      die "moto did not answer at $URL within ${START_TIMEOUT}s"
    fi
    sleep 0.1
  done
  configure_lambda "$URL"
  say "running at $URL (pid $pid, log .emulator/$INSTANCE.log)"
  echo "$URL"
}

stop() {
  local pid
  pid="$(running_pid)"
  if [ -z "$pid" ]; then
    rm -f "$PID_FILE"
    say "not running at $URL"
    return 0
  fi
  kill "$pid"
  local i
  for i in $(seq 50); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    say "moto (pid $pid) ignored SIGTERM for 5 s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
  say "stopped (pid $pid)"
}

status() {
  local pid
  pid="$(running_pid)"
  if [ -z "$pid" ]; then
    echo "not running at $URL"
    return 1
  fi
  if answers "$URL"; then
    echo "running at $URL (pid $pid)"
  else
    echo "process $pid alive but not answering at $URL"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  url) echo "$URL" ;;
  *)
    echo "usage: bash scripts/emulator.sh start|stop|status|url" >&2
    exit 2
    ;;
esac
