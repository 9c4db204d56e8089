#!/usr/bin/env bash
# 1 GiB upload and download through Sharebox's Filerobot v4 routes against nginx (WebDAV PUT and
# plain GET) on the same machine in the same run. Prints the results and appends them, dated, to
# bench/results.md. Run by hand, as root (it may apt-get nginx); never in CI.
#
#   bench/run.sh                 # 5 counted runs of each command after 1 warm-up
#   RUNS=3 WARMUP=0 bench/run.sh
#
# Client: curl, one request per command, timed as a whole process (wall clock). The commands run
# in turn (Sharebox, nginx, nginx + fdatasync, Sharebox, ...) and the ratio is taken pair by pair,
# so a drift of the machine's speed during the run hits both sides alike. Before each timed
# command `sync` empties the dirty page cache, so no run pays for the previous one's writeback.
# Peak RSS is each server process's own VmHWM from /proc (the high-water mark since it started).
set -euo pipefail
export LC_ALL=C

RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}
SIZE_MIB=${SIZE_MIB:-1024}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
results=${RESULTS:-$here/results.md} # RESULTS=/tmp/x.md for a trial run

# shellcheck source=bench/lib.sh
source "$here/lib.sh"

need_number RUNS SIZE_MIB
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a number"

# --- Disk: every Sharebox upload is a new file (big.bin, big (2).bin, ...) -------------------
need_gib=$(((RUNS + WARMUP) * SIZE_MIB / 1024 + 4))
((need_gib < 15)) && need_gib=15
avail_gib=$(($(df -Pk /tmp | awk 'NR==2 {print $4}') / 1024 / 1024))
((avail_gib >= need_gib)) ||
    die "only ${avail_gib} GiB free under /tmp; this run needs ${need_gib} GiB (lower RUNS?)"

# --- Tools ------------------------------------------------------------------------------------
need_tools curl jq sha256sum
need_nginx # Debian's package has the WebDAV module built in
sharebox_bin "$repo"

# --- Scratch space (lib.sh's cleanup stops the servers and removes it) ------------------------
work=$(mktemp -d /tmp/sharebox-bench.XXXXXX)

BIG=$work/big.bin
say "writing ${SIZE_MIB} MiB of random bytes to $BIG"
head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom >"$BIG"
BIG_SHA=$(sha256sum "$BIG" | cut -d' ' -f1)
BYTES=$(stat -c %s "$BIG")

# --- nginx: own config, one worker, WebDAV PUT --------------------------------------------------
NG_PORT=$(free_port)

ng=$work/nginx
mkdir -p "$ng/root" "$ng/body" "$ng/tmp" "$ng/logs"
cat >"$ng/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
user $(id -un);
pid $ng/nginx.pid;
error_log $ng/logs/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    default_type application/octet-stream;
    client_body_temp_path $ng/body;
    proxy_temp_path $ng/tmp;
    fastcgi_temp_path $ng/tmp;
    uwsgi_temp_path $ng/tmp;
    scgi_temp_path $ng/tmp;
    server {
        listen 127.0.0.1:$NG_PORT;
        root $ng/root;
        client_max_body_size 0;
        dav_methods PUT;
        create_full_put_path on;
    }
}
EOF
"$NGINX" -e "$ng/logs/error.log" -p "$ng" -c "$ng/nginx.conf" &
NG_PID=$!
PIDS+=("$NG_PID")
NURL=http://127.0.0.1:$NG_PORT
wait_port "$NG_PORT" "$NG_PID" nginx "$ng/logs/error.log"
NG_WORKER=
for _ in $(seq 50); do
    NG_WORKER=$(pgrep -P "$NG_PID" | head -1) || true
    [[ -n $NG_WORKER ]] && break
    sleep 0.1
done
[[ -n $NG_WORKER ]] || die "no nginx worker process"

# --- Sharebox ---------------------------------------------------------------------------------
start_sharebox 127.0.0.1:0

# --- Measuring --------------------------------------------------------------------------------
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system, all threads

# timed FILE CODES SYNC_AFTER CMD...: runs CMD (a curl that prints its HTTP code) after a `sync`,
# checks the code, appends the wall seconds to FILE (none if FILE is empty). SYNC_AFTER names a
# file to fdatasync inside the timing.
timed() {
    local out=$1 want=$2 after=$3 t0 t1 code
    shift 3
    sync
    t0=$EPOCHREALTIME
    code=$("$@") || die "failed: $*"
    [[ -n $after ]] && sync --data "$after"
    t1=$EPOCHREALTIME
    [[ ",$want," == *",$code,"* ]] || die "HTTP $code from: $*"
    if [[ -n $out ]]; then
        awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f\n", b - a}' >>"$out"
    fi
}

# stats < numbers: "median min max"
stats() {
    sort -g | awk '{a[NR] = $1}
        END {
            if (NR == 0) { print "- - -"; exit }
            m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
            printf "%.3f %.3f %.3f\n", m, a[1], a[NR]
        }'
}

CURL=(curl -sS -o /dev/null -w '%{http_code}')
sb_up=("${CURL[@]}" -H "X-Filerobot-Key: $KEY" -F "file=@$BIG;filename=big.bin"
    "$URL/default/v4/upload?folder=/bench")
ng_up=("${CURL[@]}" -T "$BIG" "$NURL/big.bin")

declare -A cpu0 cpu1
# shellcheck disable=SC2034,SC2154 # `a` is a name for the caller's array
snap_cpu() { # snap_cpu ARRAY
    local -n a=$1
    a[sb]=$(cpu_ticks "$SB_PID")
    a[ng]=$(cpu_ticks "$NG_WORKER")
}
idle_sb=$(status_kib "$SB_PID" VmHWM)
idle_ng=$(status_kib "$NG_WORKER" VmHWM)

total=$((WARMUP + RUNS))
say "upload: $total x (sharebox, nginx, nginx + fdatasync), first $WARMUP not counted"
snap_cpu cpu0
for i in $(seq "$total"); do
    f=
    ((i > WARMUP)) && f=1
    say "  upload run $i/$total"
    timed "${f:+$work/t.up.sb}" 200 "" "${sb_up[@]}"
    # Sharebox makes a new file each time: so does nginx (replacing a file by rename makes
    # ext4 start writing the new one back at once, which is another measurement).
    rm -f "$ng/root/big.bin"
    timed "${f:+$work/t.up.ng}" 201 "" "${ng_up[@]}"
    rm -f "$ng/root/big.bin"
    timed "${f:+$work/t.up.ngsync}" 201 "$ng/root/big.bin" "${ng_up[@]}"
done
snap_cpu cpu1
up_cpu_sb=$(awk -v a="${cpu0[sb]}" -v b="${cpu1[sb]}" -v n="$total" -v hz="$hz" 'BEGIN {printf "%.2f", (b - a) / hz / n}')
up_cpu_ng=$(awk -v a="${cpu0[ng]}" -v b="${cpu1[ng]}" -v n="$((2 * total))" -v hz="$hz" 'BEGIN {printf "%.2f", (b - a) / hz / n}')
up_hwm_sb=$(status_kib "$SB_PID" VmHWM)
up_hwm_ng=$(status_kib "$NG_WORKER" VmHWM)

# Every upload must be there, whole.
list=$(curl -sS -H "X-Filerobot-Key: $KEY" "$URL/default/v4/files?folder=/bench&limit=1000")
stored=$(jq '.files | length' <<<"$list")
((stored == total)) || die "expected $total files in /bench, found $stored"
bad=$(jq --arg h "$BIG_SHA" --argjson n "$BYTES" \
    '[.files[] | select(.hash.sha256 != $h or .size.bytes != $n)] | length' <<<"$list")
((bad == 0)) || die "$bad uploaded files differ from the original"
UUID=$(jq -r '.files[0].uuid' <<<"$list")
[[ $(curl -sS -H "X-Filerobot-Key: $KEY" "$URL/default/v4/get/$UUID/download" | sha256sum | cut -d' ' -f1) == "$BIG_SHA" ]] ||
    die "sharebox download differs from the original"
[[ $(curl -sS "$NURL/big.bin" | sha256sum | cut -d' ' -f1) == "$BIG_SHA" ]] ||
    die "nginx download differs from the original"

sb_down=("${CURL[@]}" -H "X-Filerobot-Key: $KEY" "$URL/default/v4/get/$UUID/download")
ng_down=("${CURL[@]}" "$NURL/big.bin")
say "download: $total x (sharebox, nginx), first $WARMUP not counted"
snap_cpu cpu0
for i in $(seq "$total"); do
    f=
    ((i > WARMUP)) && f=1
    say "  download run $i/$total"
    timed "${f:+$work/t.down.sb}" 200 "" "${sb_down[@]}"
    timed "${f:+$work/t.down.ng}" 200 "" "${ng_down[@]}"
done
snap_cpu cpu1
down_cpu_sb=$(awk -v a="${cpu0[sb]}" -v b="${cpu1[sb]}" -v n="$total" -v hz="$hz" 'BEGIN {printf "%.2f", (b - a) / hz / n}')
down_cpu_ng=$(awk -v a="${cpu0[ng]}" -v b="${cpu1[ng]}" -v n="$total" -v hz="$hz" 'BEGIN {printf "%.2f", (b - a) / hz / n}')
end_hwm_sb=$(status_kib "$SB_PID" VmHWM)
end_hwm_ng=$(status_kib "$NG_WORKER" VmHWM)
end_hwm_ngm=$(status_kib "$NG_PID" VmHWM)

# --- Report -----------------------------------------------------------------------------------
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
rate() { awk -v b="$BYTES" -v s="$1" 'BEGIN {printf "%.0f", b / 1048576 / s}'; }
row() { # row CASE SERVER FILE CPU
    local med min max
    read -r med min max < <(stats <"$3")
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$med" "$min" "$max" "$(rate "$med")" "$4"
}
ratio() { # ratio CASE A B LABEL
    local med min max
    read -r med min max < <(paste "$2" "$3" | awk '{print $1 / $2}' | stats)
    printf '| %s | %s | %s | %s | %s |\n' "$1" "$4" "$med" "$min" "$max"
}

rev=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$repo" status --porcelain --untracked-files=no -- src Cargo.toml Cargo.lock 2>/dev/null) ]]; then
    rev="$rev + uncommitted changes in src/Cargo"
fi
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
mem_gib=$(awk '/^MemTotal/ {printf "%.1f", $2 / 1048576}' /proc/meminfo)
fs=$(df -PT /tmp | awk 'NR==2 {print $2 " on " $1}')

section=$(
    cat <<EOF
## $(date -u '+%Y-%m-%d %H:%M UTC'): ${SIZE_MIB} MiB upload and download, Sharebox vs nginx WebDAV

- machine: $(nproc) cores (${cpu_model:-unknown CPU}), ${mem_gib} GiB RAM, kernel $(uname -r), temp dir on ${fs}
- versions: sharebox ${rev} (release build, RUST_LOG=warn), $("$NGINX" -v 2>&1 | sed 's/^nginx version: //') (1 worker, sendfile on), $(curl --version | head -1 | cut -d' ' -f1-2)
- method: \`bench/run.sh\`, ${RUNS} counted runs of each command after ${WARMUP} warm-up, in turn; wall seconds of one curl process each; \`sync\` before every run
- Sharebox upload: \`curl -F file=@big.bin POST /default/v4/upload?folder=/bench\` (multipart, new file each run; Sharebox hashes SHA-256 + CRC-32 and fdatasyncs before it answers)
- nginx upload: \`curl -T big.bin PUT /big.bin\`, a new file each run like Sharebox's (the old one is deleted untimed; no fsync: the bytes may still be in the page cache when it answers); "nginx + fdatasync" also times \`sync --data\` of the stored file after the PUT, the closest like-for-like to Sharebox
- downloads: \`GET /default/v4/get/<uuid>/download\` vs \`GET /big.bin\`, both from a warm page cache

| case | server | median s | min s | max s | MiB/s (median) | server CPU s per request |
|---|---|---|---|---|---|---|
$(row upload sharebox "$work/t.up.sb" "$up_cpu_sb")
$(row upload nginx "$work/t.up.ng" "$up_cpu_ng")
$(row upload "nginx + fdatasync" "$work/t.up.ngsync" "$up_cpu_ng")
$(row download sharebox "$work/t.down.sb" "$down_cpu_sb")
$(row download nginx "$work/t.down.ng" "$down_cpu_ng")

Time ratio Sharebox / nginx, pair by pair (above 1: Sharebox is slower):

| case | against | median | min | max |
|---|---|---|---|---|
$(ratio upload "$work/t.up.sb" "$work/t.up.ng" nginx)
$(ratio upload "$work/t.up.sb" "$work/t.up.ngsync" "nginx + fdatasync")
$(ratio download "$work/t.down.sb" "$work/t.down.ng" nginx)

Peak RSS (VmHWM, MiB):

| process | after start | after uploads | after downloads |
|---|---|---|---|
| sharebox | $(mib "$idle_sb") | $(mib "$up_hwm_sb") | $(mib "$end_hwm_sb") |
| nginx worker | $(mib "$idle_ng") | $(mib "$up_hwm_ng") | $(mib "$end_hwm_ng") |
| nginx master | | | $(mib "$end_hwm_ngm") |
EOF
)

printf '%s\n' "$section"
if [[ ! -s $results ]]; then
    printf '# Benchmark results\n\nOne section per run of a script in this folder, oldest first.\n' >"$results"
fi
printf '\n%s\n' "$section" >>"$results"
say "appended to $results"
