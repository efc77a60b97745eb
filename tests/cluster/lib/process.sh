# Process bookkeeping for the cluster harness: the state folder, its lock, pid files,
# detached start and stop of components, and free loopback ports. Sourced by `cluster`.
# shellcheck shell=bash
# ---------------------------------------------------------------------------
# Paths and process bookkeeping

set_dir() {
  [ -n "${1:-}" ] || die "missing DIR (see --help)"
  case "$1" in *[[:space:]\'\"\\]*) die "DIR must not contain whitespace, quotes or backslashes: $1" ;; esac
  if [ "${2:-}" = create ]; then
    mkdir -p "$1"
  elif [ ! -d "$1" ]; then
    case "$verb" in
      down) echo "$prog: no cluster running in $1 (no such directory)"; exit 0 ;;
      *) die "no such directory: $1" ;;
    esac
  fi
  dir=$(cd "$1" && pwd -P)
  pid_dir=$dir/pids
  log_dir=$dir/logs
  pki_dir=$dir/pki
  cert_dir=$pki_dir/apiserver
  ca_file=$pki_dir/ca.crt
  rules_file=$dir/fail-rules
}

# Serializes up/down/restart-apiserver on one DIR (a second `up` waits, then finds
# the cluster running). The lock fd is closed in every spawned component.
lock_dir() {
  exec 9>"$dir/.lock"
  flock -w 180 9 || die "another '$prog' command holds $dir/.lock"
}

load_ports() {
  [ -f "$dir/ports" ] || die "$dir/ports missing: no cluster was started in $dir"
  # shellcheck disable=SC1091
  . "$dir/ports"
}

# Prints the pid of COMPONENT if its pid file names a live process that really is
# that component of this DIR (guards against recycled pids); fails otherwise.
live_pid() {
  local comp=$1 f=$pid_dir/$1.pid pid cmd
  [ -s "$f" ] || return 1
  pid=$(<"$f")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/cmdline" ] || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  case "$cmd" in *"$comp"*"$dir"[/\ ]*) ;; *) return 1 ;; esac
  # A zombie has released everything already.
  [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] || return 1
  echo "$pid"
}

# Starts a component detached (own session, stdin closed), output to its log. The
# child writes its own pid before exec, so the pid file is right whether or not
# setsid has to fork.
spawn() {
  local comp=$1; shift
  local pidf=$pid_dir/$comp.pid
  rm -f "$pidf"
  mkdir -p "$pid_dir" "$log_dir"
  {
    echo "=== $(date -u +%FT%TZ) starting $comp"
    printf '%q ' "$@"; echo
  } >>"$log_dir/$comp.log"
  # shellcheck disable=SC2016  # $$, $0 and $@ belong to the inner shell
  setsid bash -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' "$pidf" "$@" \
    </dev/null >>"$log_dir/$comp.log" 2>&1 9>&- &
  local i
  for i in $(seq 100); do
    [ -s "$pidf" ] && return 0
    sleep 0.05
  done
  die "$comp did not start (no pid file)"
}

# SIGTERM, then SIGKILL after the grace period; removes the pid file.
stop_component() {
  local comp=$1 pid i
  if pid=$(live_pid "$comp"); then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq $((stop_grace * 10))); do
      live_pid "$comp" >/dev/null || break
      sleep 0.1
    done
    if live_pid "$comp" >/dev/null; then
      log "$comp (pid $pid) still running ${stop_grace}s after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      for i in $(seq 50); do
        live_pid "$comp" >/dev/null || break
        sleep 0.1
      done
    fi
    echo "stopped $comp (pid $pid)"
  fi
  rm -f "$pid_dir/$comp.pid"
}

any_running() {
  local c
  for c in "${components[@]}"; do
    live_pid "$c" >/dev/null && return 0
  done
  return 1
}

tail_log() {
  local comp=$1
  echo "---- last lines of $log_dir/$comp.log ----" >&2
  tail -n 30 "$log_dir/$comp.log" >&2 2>/dev/null || true
  echo "----" >&2
}

# Prints N distinct free TCP ports on 127.0.0.1 (held open together while chosen).
free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
EOF
}

port_in_use() {
  python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
# Like the API server's own listener: connections in TIME_WAIT do not block it.
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)
EOF
}

log_says_port_clash() {
  # Only the part of the log written by the latest start attempt.
  awk '/^=== .* starting /{buf=""} {buf=buf $0 "\n"} END{printf "%s", buf}' "$log_dir/$1.log" 2>/dev/null |
    grep -qiE 'address already in use|bind: address'
}

new_token() { python3 -c 'import secrets; print(secrets.token_hex(24))'; }

