# shellcheck shell=bash
# Shared by the bench scripts: `source "$here/lib.sh"` after `set -euo pipefail`.
# Messages, argument checks, ports, processes, the Sharebox binary and its start.
# Each script sets `work` (its scratch dir) and lists its servers' PIDs in `PIDS` for cleanup.

BENCH_NAME=$(basename "$0")
PIDS=()

say() { printf '%s\n' "$*" >&2; }
die() {
    say "$BENCH_NAME: $*"
    exit 1
}

# need_number NAME...: each variable must be a positive whole number
need_number() {
    local v
    for v in "$@"; do
        [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive number"
    done
}

# need_tools TOOL...: each must be on PATH
need_tools() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null || die "$t is missing"
    done
}

# need_nginx: sets NGINX, installing Debian's package (WebDAV module built in) when missing
need_nginx() {
    if ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; then
        say "installing nginx"
        apt-get install -y nginx >&2 || { apt-get update >&2 && apt-get install -y nginx >&2; }
    fi
    # shellcheck disable=SC2034 # used by the scripts that source this
    NGINX=$(command -v nginx || echo /usr/sbin/nginx)
}

# need_cargo_tool NAME: `cargo install NAME --locked` when it is not on PATH
need_cargo_tool() {
    export PATH="$PATH:${CARGO_HOME:-$HOME/.cargo}/bin"
    if ! command -v "$1" >/dev/null; then
        say "installing $1 (cargo install $1 --locked; a few minutes)"
        cargo install "$1" --locked >&2 || die "could not install $1"
    fi
}

# sharebox_bin REPO: sets BIN, the release binary; SHAREBOX_BIN names one built elsewhere
sharebox_bin() {
    if [[ -n ${SHAREBOX_BIN:-} ]]; then
        BIN=$SHAREBOX_BIN
    else
        say "building sharebox (release; may wait for the shared target dir's lock)"
        (cd "$1" && cargo build --release --quiet) || die "cargo build --release failed"
        BIN=${CARGO_TARGET_DIR:-$1/target}/release/sharebox
    fi
    [[ -x $BIN ]] || die "no binary at $BIN"
}

# stop PID: TERM, wait up to 15 s, then KILL
stop() {
    local pid=$1
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 150); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# Stops every server in PIDS and removes $work; installed as the EXIT trap.
cleanup() {
    set +e
    local p
    for p in "${PIDS[@]}"; do
        [[ -n $p ]] && stop "$p"
    done
    [[ -n ${work:-} ]] && rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port: prints a port nothing listens on
free_port() {
    local p
    for _ in $(seq 50); do
        p=$((20000 + RANDOM % 20000))
        if port_free "$p"; then
            echo "$p"
            return
        fi
    done
    die "no free port"
}

# wait_port PORT PID NAME LOG: until PORT listens; dies with LOG if PID ends first
wait_port() {
    for _ in $(seq 100); do
        port_free "$1" || return 0
        kill -0 "$2" 2>/dev/null || die "$3 did not start: $(cat "$4")"
        sleep 0.1
    done
    die "$3 does not listen on $1"
}

# start_sharebox ADDR [ENV=VALUE...]: `$BIN serve` on ADDR over $work/data (a first start);
# sets SB_PID, URL (no trailing slash) and KEY from its banner, and adds it to PIDS
start_sharebox() {
    local addr=$1
    shift
    # Made before the start, so the reads below never race the background redirect.
    : >"$work/sharebox.out"
    : >"$work/sharebox.err"
    env RUST_LOG=warn "$@" "$BIN" serve --listen "$addr" --data-dir "$work/data" \
        >"$work/sharebox.out" 2>"$work/sharebox.err" &
    SB_PID=$!
    PIDS+=("$SB_PID")
    URL=
    for _ in $(seq 300); do
        URL=$(sed -n 's/.*listening on //p' "$work/sharebox.out")
        [[ -n $URL ]] && break
        kill -0 "$SB_PID" 2>/dev/null || die "sharebox did not start: $(cat "$work/sharebox.err")"
        sleep 0.1
    done
    [[ -n $URL ]] || die "sharebox printed no URL"
    URL=${URL%/}
    KEY=$(sed -n 's/^ *API key: *//p' "$work/sharebox.out")
    [[ -n $KEY ]] || die "sharebox printed no API key"
}

# status_kib PID FIELD: a kB field of /proc/PID/status (VmRSS, VmHWM, ...)
status_kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
