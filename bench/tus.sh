#!/usr/bin/env bash
# A 1 GiB tus upload to Sharebox (`/tus/`: in 5 MiB PATCHes, and in one PATCH) against nginx's
# WebDAV PUT of the same file, in one run, as a ratio. Sharebox hashes SHA-256 + CRC-32 as the
# bytes arrive (a PATCH is answered before its hashing ends, but the last), starts an fdatasync
# in the background every 32 MiB and records what it put on disk, and fdatasyncs at completion;
# nginx does neither, so "nginx + fdatasync" (the PUT, then `sync --data` of the stored file)
# is timed too.
#
#   bench/tus.sh                        # as root; a few minutes after the build
#   RUNS=3 WARMUP=0 SIZE_MIB=256 RESULTS=/tmp/try.md bench/tus.sh
#
# curl is the client, one process per upload (the chunked case chains its PATCHes with
# `--next` over one connection). The ratio is nginx's time / Sharebox's, pair by pair: 1.0 is
# as fast as nginx, the goal is >= 0.6. Every stored upload's SHA-256 is checked (untimed) and
# the file deleted again, so the run needs about 3 x SIZE_MIB free under /tmp.
set -euo pipefail
export LC_ALL=C

RUNS=${RUNS:-3}
WARMUP=${WARMUP:-1}
SIZE_MIB=${SIZE_MIB:-1024}
CHUNK_MIB=${CHUNK_MIB:-5}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
results=${RESULTS:-$here/results.md}

source "$here/lib.sh"

need_number RUNS SIZE_MIB CHUNK_MIB
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a number"
avail_mib=$(($(df -Pk /tmp | awk 'NR==2 {print $4}') / 1024))
((avail_mib >= 4 * SIZE_MIB)) || die "only ${avail_mib} MiB free under /tmp; need $((4 * SIZE_MIB))"

need_tools curl jq sha256sum split
need_nginx
sharebox_bin "$repo"

work=$(mktemp -d /tmp/sharebox-tus-bench.XXXXXX)
BIG=$work/big.bin
say "writing ${SIZE_MIB} MiB of random bytes to $BIG"
head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom >"$BIG"
BIG_SHA=$(sha256sum "$BIG" | cut -d' ' -f1)
BYTES=$(stat -c %s "$BIG")
CHUNK=$((CHUNK_MIB * 1024 * 1024))
mkdir -p "$work/pieces"
split -b "$CHUNK" -d -a 5 "$BIG" "$work/pieces/p."

NG_PORT=$(free_port)
ng=$work/nginx
mkdir -p "$ng/root" "$ng/body" "$ng/tmp" "$ng/logs"
cat >"$ng/nginx.conf" <<EOF
daemon off;
worker_processes 1;
user $(id -un);
pid $ng/nginx.pid;
error_log $ng/logs/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
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
    }
}
EOF
"$NGINX" -e "$ng/logs/error.log" -p "$ng" -c "$ng/nginx.conf" &
NG_PID=$!
PIDS+=("$NG_PID")
NURL=http://127.0.0.1:$NG_PORT
wait_port "$NG_PORT" "$NG_PID" nginx "$ng/logs/error.log"

start_sharebox 127.0.0.1:0
# Idle RSS, then the peak from here on: the start's own peak (hashing the first API key with
# argon2) is cleared (`clear_refs` 5 resets VmHWM).
idle=$(status_kib "$SB_PID" VmRSS)
echo 5 >"/proc/$SB_PID/clear_refs"
# No `Expect: 100-continue` round trip for either server.
TUS=(-H "Expect:" -H "Tus-Resumable: 1.0.0" -H "X-Filerobot-Key: $KEY")
META="filename $(printf big.bin | base64),folder $(printf /bench | base64)"

# create: POST /tus/; prints the upload URL
create() {
    curl -sS -D - -o /dev/null "${TUS[@]}" -H "Upload-Length: $BYTES" -H "Upload-Metadata: $META" \
        -X POST "$URL/tus/" | tr -d '\r' | awk -F': ' 'tolower($1) == "location" {print $2}'
}

# tus_one: create, then one PATCH of the whole file
tus_one() {
    local url
    url=$(create)
    curl -sS -o /dev/null -D "$work/last.h" "${TUS[@]}" -X PATCH -T "$BIG" \
        -H "Content-Type: application/offset+octet-stream" -H "Upload-Offset: 0" "$url"
}

# tus_chunks: create, then one PATCH per piece, chained in one curl process
tus_chunks() {
    local url off=0 args=() p
    url=$(create)
    for p in "$work"/pieces/p.*; do
        ((off > 0)) && args+=(--next)
        args+=(-sS -o /dev/null -D "$work/last.h" "${TUS[@]}" -X PATCH -T "$p"
            -H "Content-Type: application/offset+octet-stream" -H "Upload-Offset: $off" "$url")
        off=$((off + CHUNK))
    done
    curl "${args[@]}"
}

ng_put() { curl -sS -o /dev/null -H "Expect:" -T "$BIG" "$NURL/big.bin"; }
ng_put_sync() { ng_put && sync --data "$ng/root/big.bin"; }

# timed FILE CMD: appends CMD's wall seconds to FILE (when FILE is not empty)
timed() {
    local out=$1 t0 t1
    shift
    sync
    t0=$EPOCHREALTIME
    "$@" || die "failed: $*"
    t1=$EPOCHREALTIME
    [[ -n $out ]] && awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f\n", b - a}' >>"$out"
    return 0
}

# check_tus: the last upload's file has the right SHA-256; then it is deleted (untimed)
check_tus() {
    local uuid file
    uuid=$(tr -d '\r' <"$work/last.h" | awk -F': ' 'tolower($1) == "sharebox-file-uuid" {print $2}')
    [[ -n $uuid ]] || die "no Sharebox-File-Uuid: $(cat "$work/last.h")"
    file=$(curl -sS -H "X-Filerobot-Key: $KEY" "$URL/default/v4/files/$uuid")
    [[ $(jq -r .file.hash.sha256 <<<"$file") == "$BIG_SHA" ]] || die "stored file differs: $file"
    curl -sS -o /dev/null -X DELETE -H "X-Filerobot-Key: $KEY" "$URL/default/v4/files/$uuid"
}

check_ng() {
    [[ $(sha256sum "$ng/root/big.bin" | cut -d' ' -f1) == "$BIG_SHA" ]] || die "nginx file differs"
    rm -f "$ng/root/big.bin"
}

total=$((WARMUP + RUNS))
for i in $(seq "$total"); do
    f=
    ((i > WARMUP)) && f=1
    say "run $i/$total"
    timed "${f:+$work/t.chunks}" tus_chunks
    check_tus
    timed "${f:+$work/t.one}" tus_one
    check_tus
    timed "${f:+$work/t.ng}" ng_put
    check_ng
    timed "${f:+$work/t.ngsync}" ng_put_sync
    check_ng
done
hwm=$(status_kib "$SB_PID" VmHWM)

stats() {
    sort -g | awk '{a[NR] = $1} END {
        m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
        printf "%.3f %.3f %.3f\n", m, a[1], a[NR] }'
}
row() { # row LABEL FILE
    local med min max
    read -r med min max < <(stats <"$2")
    printf '| %s | %s | %s | %s | %.0f |\n' "$1" "$med" "$min" "$max" \
        "$(awk -v b="$BYTES" -v s="$med" 'BEGIN {print b / 1048576 / s}')"
}
ratio() { # ratio LABEL SHAREBOX NGINX: nginx time / Sharebox time, pair by pair
    local med min max
    read -r med min max < <(paste "$2" "$3" | awk '{print $2 / $1}' | stats)
    printf '| %s | %s | %s | %s |\n' "$1" "$med" "$min" "$max"
}

rev=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
section=$(
    cat <<EOF

## $(date -u '+%Y-%m-%d %H:%M') UTC: ${SIZE_MIB} MiB tus upload, Sharebox vs nginx WebDAV PUT

- machine: $(nproc) cores (${cpu_model:-unknown CPU}), $(awk '/^MemTotal/ {printf "%.1f", $2 / 1048576}' /proc/meminfo) GiB RAM, kernel $(uname -r), /tmp on $(df -PT /tmp | awk 'NR==2 {print $2 " on " $1}'); load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other engineers' builds may share the machine)
- versions: sharebox ${rev} (release, RUST_LOG=warn), $("$NGINX" -v 2>&1 | sed 's/^nginx version: //') (1 worker), $(curl --version | head -1 | cut -d' ' -f1-2)
- method: \`bench/tus.sh\`, ${RUNS} counted runs after ${WARMUP} warm-up, in turn; wall seconds of the curl processes; \`sync\` before each
- tus, ${CHUNK_MIB} MiB chunks: \`POST /tus/\`, then $(ls "$work/pieces" | wc -l) PATCHes chained with \`curl --next\` (one connection); tus, one PATCH: \`POST /tus/\`, then \`curl -T big.bin -X PATCH\`. Sharebox hashes SHA-256 + CRC-32 on the way in (a PATCH is answered before its hashing ends, but the last), starts an fdatasync every 32 MiB in the background and records what it put on disk, fdatasyncs at completion, and the last PATCH moves the file into the library
- nginx: \`curl -T big.bin PUT /big.bin\` (no fsync); "nginx + fdatasync" adds \`sync --data\` of the stored file

| case | median s | min s | max s | MiB/s (median) |
|---|---|---|---|---|
$(row "tus, ${CHUNK_MIB} MiB chunks" "$work/t.chunks")
$(row "tus, one PATCH" "$work/t.one")
$(row "nginx PUT" "$work/t.ng")
$(row "nginx PUT + fdatasync" "$work/t.ngsync")

Speed ratio, nginx time / Sharebox time (1.0 = as fast as nginx; goal >= 0.6):

| case | median | min | max |
|---|---|---|---|
$(ratio "tus ${CHUNK_MIB} MiB chunks vs nginx" "$work/t.chunks" "$work/t.ng")
$(ratio "tus one PATCH vs nginx" "$work/t.one" "$work/t.ng")
$(ratio "tus ${CHUNK_MIB} MiB chunks vs nginx + fdatasync" "$work/t.chunks" "$work/t.ngsync")
$(ratio "tus one PATCH vs nginx + fdatasync" "$work/t.one" "$work/t.ngsync")

Sharebox RSS: $(awk -v k="$idle" 'BEGIN {printf "%.1f", k / 1024}') MiB idle; peak during the runs (VmHWM, reset after the start) $(awk -v k="$hwm" 'BEGIN {printf "%.1f", k / 1024}') MiB, idle + $(awk -v k="$hwm" -v i="$idle" 'BEGIN {printf "%.1f", (k - i) / 1024}') MiB (the limit is idle + 32 MiB).
EOF
)
printf '%s\n' "$section"
printf '%s\n' "$section" >>"$results"
