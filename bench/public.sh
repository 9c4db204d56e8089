#!/usr/bin/env bash
# The public share routes (/s/<puid>/<slug>/...) against nginx (static files) and dufs (a Rust
# file server with folder zips) on the same machine, same files, same run. Prints the results
# and appends them, dated, with PASS/FAIL per goal, to bench/results.md. Run by hand, as root (it
# may apt-get nginx and cargo-install dufs and oha); never in CI.
#
#   bench/public.sh                          # 5 counted curl runs, 3 counted oha runs of 10 s
#   RUNS=3 OHA_RUNS=1 OHA_SECS=5 bench/public.sh
#   RESULTS=/tmp/try.md SIZE_MIB=128 bench/public.sh   # a quick trial that leaves results.md alone
#   SHAREBOX_BIN=/path/to/sharebox SHAREBOX_REV=abc1234 bench/public.sh   # no build: that binary
#
# Cases (the servers take turns inside each case, and ratios are taken pair by pair):
#   1. a SIZE_MIB file: sharebox `share_uri/files/<uuid>` vs nginx GET vs dufs GET (curl)
#   2. SLICES parallel Range requests covering that file: sharebox vs nginx (curl)
#   3. a 4 KiB file through the share route vs nginx, oha at 64 connections and at 1
#   4. the share page `share_uri` vs nginx serving that page's HTML as a static file, oha at 64
#   5. the zip of SMALL_FILES files of SMALL_KIB each: sharebox `share_uri/zip` vs dufs `?zip`
#      (dufs's default `--compress low`, i.e. deflate, and `--compress none`) (curl)
#   6. sharebox's peak RSS (VmHWM at the end) against its idle RSS (VmRSS after start)
set -euo pipefail
export LC_ALL=C
export PATH="$HOME/.cargo/bin:$PATH"

RUNS=${RUNS:-5}         # counted runs of each curl case
WARMUP=${WARMUP:-1}     # uncounted runs before them
OHA_RUNS=${OHA_RUNS:-3} # counted oha runs per server and case (after one 2 s warm-up)
OHA_SECS=${OHA_SECS:-10}
SIZE_MIB=${SIZE_MIB:-1024}
SLICES=${SLICES:-8}
SMALL_FILES=${SMALL_FILES:-1000}
SMALL_KIB=${SMALL_KIB:-10}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
results=${RESULTS:-$here/results.md}

# shellcheck source=bench/lib.sh
source "$here/lib.sh"

need_number RUNS OHA_RUNS OHA_SECS SIZE_MIB SLICES SMALL_FILES SMALL_KIB
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a number"
((SIZE_MIB % SLICES == 0)) || die "SIZE_MIB must be a multiple of SLICES"

# --- Disk: the big file once for nginx and dufs, once in Sharebox's blobs, plus slack ---------
need_gib=$((2 * SIZE_MIB / 1024 + 3))
avail_gib=$(($(df -Pk /tmp | awk 'NR==2 {print $4}') / 1024 / 1024))
((avail_gib >= need_gib)) || die "only ${avail_gib} GiB free under /tmp; this run needs ${need_gib} GiB"

# --- Tools ------------------------------------------------------------------------------------
need_tools curl jq sha256sum python3 split
need_nginx
need_cargo_tool dufs
need_cargo_tool oha
sharebox_bin "$repo" # SHAREBOX_BIN: a binary built elsewhere, e.g. from a clean checkout

# --- Scratch space (lib.sh's cleanup stops the servers and removes it) ------------------------
work=$(mktemp -d /tmp/sharebox-public-bench.XXXXXX)

# --- The files: one tree that nginx and dufs serve, and that Sharebox gets uploaded -----------
www=$work/www
mkdir -p "$www/zipbench"
BIG=$www/big.bin
SMALL=$www/small.bin
say "writing ${SIZE_MIB} MiB, 4 KiB and ${SMALL_FILES} x ${SMALL_KIB} KiB of random bytes under $www"
head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom >"$BIG"
head -c 4096 /dev/urandom >"$SMALL"
head -c $((SMALL_FILES * SMALL_KIB * 1024)) /dev/urandom >"$work/small-files.bin"
split -b $((SMALL_KIB * 1024)) -a 4 -d --additional-suffix=.bin "$work/small-files.bin" "$www/zipbench/f"
rm "$work/small-files.bin"
BIG_SHA=$(sha256sum "$BIG" | cut -d' ' -f1)
SMALL_SHA=$(sha256sum "$SMALL" | cut -d' ' -f1)
BYTES=$(stat -c %s "$BIG")
SLICE=$((BYTES / SLICES))

# --- nginx: as many workers as cores (Sharebox's actix runs one worker thread per core) --------
NG_PORT=$(free_port)
ng=$work/nginx
mkdir -p "$ng/body" "$ng/tmp" "$ng/logs"
cat >"$ng/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes auto;
user $(id -un);
pid $ng/nginx.pid;
error_log $ng/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    types { text/html html; }
    default_type application/octet-stream;
    client_body_temp_path $ng/body;
    proxy_temp_path $ng/tmp;
    fastcgi_temp_path $ng/tmp;
    uwsgi_temp_path $ng/tmp;
    scgi_temp_path $ng/tmp;
    server {
        listen 127.0.0.1:$NG_PORT;
        root $www;
    }
}
EOF
"$NGINX" -e "$ng/logs/error.log" -p "$ng" -c "$ng/nginx.conf" &
NG_PID=$!
PIDS+=("$NG_PID")
NURL=http://127.0.0.1:$NG_PORT
wait_port "$NG_PORT" "$NG_PID" nginx "$ng/logs/error.log"
ng_workers() { pgrep -P "$NG_PID" || true; }
for _ in $(seq 50); do
    [[ -n $(ng_workers) ]] && break
    sleep 0.1
done
[[ -n $(ng_workers) ]] || die "no nginx worker process"

# --- dufs: archives allowed, no request log; once as it comes (deflate) and once storing ------
DU_PORT=$(free_port)
dufs --allow-archive --log-format '' -b 127.0.0.1 -p "$DU_PORT" "$www" \
    >"$work/dufs.out" 2>&1 &
DU_PID=$!
PIDS+=("$DU_PID")
DURL=http://127.0.0.1:$DU_PORT
wait_port "$DU_PORT" "$DU_PID" dufs "$work/dufs.out"
DN_PORT=$(free_port)
dufs --allow-archive --compress none --log-format '' -b 127.0.0.1 -p "$DN_PORT" "$www" \
    >"$work/dufs-none.out" 2>&1 &
DN_PID=$!
PIDS+=("$DN_PID")
DNURL=http://127.0.0.1:$DN_PORT
wait_port "$DN_PORT" "$DN_PID" "dufs --compress none" "$work/dufs-none.out"

# --- Sharebox ---------------------------------------------------------------------------------
start_sharebox 127.0.0.1:0

# --- /proc ------------------------------------------------------------------------------------
hz=$(getconf CLK_TCK)
pids_of() { # pids_of SERVER: every process of that server
    # shellcheck disable=SC2046 # nginx workers: one PID a word
    case $1 in
    sb) echo "$SB_PID" ;;
    ng) echo "$NG_PID" $(ng_workers) ;;
    du) echo "$DU_PID" ;;
    dn) echo "$DN_PID" ;;
    esac
}
cpu_ticks() { # user + system ticks of every thread of every process of SERVER
    local t=0 p
    for p in $(pids_of "$1"); do
        t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
    done
    echo "$t"
}

sleep 2 # let start-up settle before reading the idle RSS
idle_rss=$(status_kib "$SB_PID" VmRSS)
start_hwm=$(status_kib "$SB_PID" VmHWM)

# --- Sharebox's side: the same files uploaded, two shares --------------------------------------
API=(-H "X-Filerobot-Key: $KEY")
say "uploading the files to sharebox"
up=$(curl -sS --fail-with-body "${API[@]}" -F "file=@$BIG;filename=big.bin" \
    -F "file=@$SMALL;filename=small.bin" "$URL/default/v4/upload?folder=/public") ||
    die "upload failed: $up"
BIG_UUID=$(jq -r '.files[] | select(.name == "big.bin") | .uuid' <<<"$up")
SMALL_UUID=$(jq -r '.files[] | select(.name == "small.bin") | .uuid' <<<"$up")
[[ -n $BIG_UUID && -n $SMALL_UUID ]] || die "no uuids in $up"
[[ $(jq -r '.files[] | select(.name == "big.bin") | .hash.sha256' <<<"$up") == "$BIG_SHA" ]] ||
    die "sharebox stored big.bin with another SHA-256"

form=()
for f in "$www"/zipbench/*.bin; do
    form+=(-F "file=@$f")
done
up=$(curl -sS --fail-with-body "${API[@]}" "${form[@]}" "$URL/default/v4/upload?folder=/zipbench") ||
    die "upload of the small files failed: $(head -c 500 <<<"$up")"
n=$(jq '.files | length' <<<"$up")
((n == SMALL_FILES)) || die "sharebox stored $n of $SMALL_FILES small files"
FOLDER_UUID=$(curl -sS --fail-with-body "${API[@]}" "$URL/default/v4/folders?folder=/zipbench" | jq -r '.folder.uuid')
[[ -n $FOLDER_UUID && $FOLDER_UUID != null ]] || die "no uuid for folder /zipbench"

new_share() { # new_share JSON: prints share_uri
    local a
    a=$(curl -sS --fail-with-body "${API[@]}" -H 'Content-Type: application/json' -d "$1" \
        "$URL/default/v5/shares") || die "share create failed: $a"
    jq -er '.share.share_uri' <<<"$a" || die "no share_uri in $a"
}
SHARE=$(new_share "{\"title\":\"Public bench\",\"items\":[{\"type\":\"file_uuid\",\"identifiers\":[\"$BIG_UUID\",\"$SMALL_UUID\"]}]}")
ZSHARE=$(new_share "{\"title\":\"Zip bench\",\"items\":[{\"type\":\"folder_uuid\",\"identifiers\":[\"$FOLDER_UUID\"]}]}")
after_setup_hwm=$(status_kib "$SB_PID" VmHWM)

# The share page, saved as nginx's static page: the same bytes on both sides.
code=$(curl -sS -o "$www/page.html" -w '%{http_code}' "$SHARE")
[[ $code == 200 ]] || die "share page: HTTP $code"
PAGE_BYTES=$(stat -c %s "$www/page.html")

# --- Every route answers the same bytes ---------------------------------------------------------
say "checking what every server sends"
sha_of() { curl -sS --fail "$1" | sha256sum | cut -d' ' -f1; }
for u in "$SHARE/files/$BIG_UUID" "$NURL/big.bin" "$DURL/big.bin"; do
    [[ $(sha_of "$u") == "$BIG_SHA" ]] || die "$u differs from big.bin"
done
for u in "$SHARE/files/$SMALL_UUID" "$NURL/small.bin"; do
    [[ $(sha_of "$u") == "$SMALL_SHA" ]] || die "$u differs from small.bin"
done
[[ $(sha_of "$NURL/page.html") == $(sha256sum <"$www/page.html" | cut -d' ' -f1) ]] || die "nginx page.html differs"
r=$(curl -sS -r $((BYTES - SLICE))-$((BYTES - 1)) -o /dev/null -w '%{http_code} %{size_download}' "$SHARE/files/$BIG_UUID")
[[ $r == "206 $SLICE" ]] || die "sharebox range: $r"
r=$(curl -sS -r 0-$((SLICE - 1)) -o /dev/null -w '%{http_code} %{size_download}' "$NURL/big.bin")
[[ $r == "206 $SLICE" ]] || die "nginx range: $r"

# zipinfo FILE: "entries method bytes", every entry's CRC checked, names must be the small files
zipinfo() {
    python3 - "$1" "$SMALL_FILES" "$((SMALL_KIB * 1024))" <<'EOF'
import sys, zipfile, os
path, want, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
z = zipfile.ZipFile(path)
infos = [i for i in z.infolist() if not i.is_dir()]
assert len(infos) == want, f"{len(infos)} entries, want {want}"
assert all(i.file_size == size for i in infos), "an entry has the wrong size"
assert all(os.path.basename(i.filename).startswith("f") for i in infos), "unexpected names"
bad = z.testzip()
assert bad is None, f"bad CRC in {bad}"
methods = sorted({ {0: "stored", 8: "deflate"}.get(i.compress_type, str(i.compress_type)) for i in infos})
print(len(infos), "+".join(methods), os.path.getsize(path))
EOF
}
curl -sS --fail -o "$work/sb.zip" "$ZSHARE/zip" || die "sharebox zip failed"
curl -sS --fail -o "$work/du.zip" "$DURL/zipbench?zip" || die "dufs zip failed"
curl -sS --fail -o "$work/dn.zip" "$DNURL/zipbench?zip" || die "dufs --compress none zip failed"
read -r _ SB_ZIP_METHOD SB_ZIP_BYTES < <(zipinfo "$work/sb.zip") || die "sharebox zip is bad"
read -r _ DU_ZIP_METHOD DU_ZIP_BYTES < <(zipinfo "$work/du.zip") || die "dufs zip is bad"
read -r _ DN_ZIP_METHOD DN_ZIP_BYTES < <(zipinfo "$work/dn.zip") || die "dufs --compress none zip is bad"
DU_ZIP_LEN=$(curl -sS -o /dev/null -D - "$DURL/zipbench?zip" | tr -d '\r' |
    awk -F': ' 'tolower($1) == "content-length" {print $2} tolower($1) == "transfer-encoding" {print $2}')
rm -f "$work"/*.zip

# --- Measuring ----------------------------------------------------------------------------------
CURL=(curl -sS -o /dev/null -w '%{http_code}')

# timed NAME SERVER CODE CMD...: runs CMD (which prints the HTTP status), checks it, appends the
# wall seconds to t.NAME and the server's CPU ticks to c.NAME (nothing when NAME is empty).
timed() {
    local name=$1 srv=$2 want=$3 t0 t1 c0 c1 code
    shift 3
    c0=$(cpu_ticks "$srv")
    t0=$EPOCHREALTIME
    code=$("$@") || die "failed: $*"
    t1=$EPOCHREALTIME
    c1=$(cpu_ticks "$srv")
    [[ $code == "$want" ]] || die "HTTP $code from: $*"
    if [[ -n $name ]]; then
        awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f\n", b - a}' >>"$work/t.$name"
        echo $((c1 - c0)) >>"$work/c.$name"
    fi
}

# ranges URL: SLICES parallel curls of consecutive slices; prints 206 if every one got its slice
ranges() {
    local i pids=() out=$work/ranges.$RANDOM
    for i in $(seq 0 $((SLICES - 1))); do
        curl -sS -o /dev/null -r $((i * SLICE))-$(((i + 1) * SLICE - 1)) \
            -w '%{http_code} %{size_download}\n' "$1" >"$out.$i" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || return 1; done
    if [[ $(cat "$out".* | sort -u) == "206 $SLICE" ]]; then echo 206; else cat "$out".*; fi
    rm -f "$out".*
}

# oha_run NAME SERVER CONNECTIONS SECONDS URL: appends "req/s p50_ms p99_ms requests cpu_ticks"
# to o.NAME (nothing when NAME is empty); every answer must be a 200.
oha_run() {
    local name=$1 srv=$2 conc=$3 secs=$4 url=$5 c0 c1 js
    c0=$(cpu_ticks "$srv")
    js=$(oha --no-tui --output-format json -c "$conc" -z "${secs}s" -w "$url") || die "oha failed on $url"
    c1=$(cpu_ticks "$srv")
    jq -e '(.errorDistribution | length) == 0 and (.statusCodeDistribution | keys) == ["200"]' \
        <<<"$js" >/dev/null || die "oha on $url: $(jq -c '{statusCodeDistribution, errorDistribution}' <<<"$js")"
    if [[ -n $name ]]; then
        jq -r --arg c $((c1 - c0)) \
            '"\(.summary.requestsPerSec) \(.metrics.latency_ms.p50) \(.metrics.latency_ms.p99) \(.statusCodeDistribution["200"]) \($c)"' \
            <<<"$js" >>"$work/o.$name"
    fi
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
total=$((WARMUP + RUNS))
counted() { if ((i > WARMUP)); then echo "$1"; fi; }

say "1. ${SIZE_MIB} MiB download: $total x (sharebox, nginx, dufs), first $WARMUP not counted"
for i in $(seq "$total"); do
    timed "$(counted big.sb)" sb 200 "${CURL[@]}" "$SHARE/files/$BIG_UUID"
    timed "$(counted big.ng)" ng 200 "${CURL[@]}" "$NURL/big.bin"
    timed "$(counted big.du)" du 200 "${CURL[@]}" "$DURL/big.bin"
done
hwm1=$(status_kib "$SB_PID" VmHWM)

say "2. $SLICES parallel ranges of $((SLICE / 1048576)) MiB: $total x (sharebox, nginx)"
for i in $(seq "$total"); do
    timed "$(counted rng.sb)" sb 206 ranges "$SHARE/files/$BIG_UUID"
    timed "$(counted rng.ng)" ng 206 ranges "$NURL/big.bin"
done
hwm2=$(status_kib "$SB_PID" VmHWM)

oha_case() { # oha_case NAME CONNECTIONS SB_URL NG_URL
    oha_run "" sb "$2" 2 "$3"
    oha_run "" ng "$2" 2 "$4"
    for _ in $(seq "$OHA_RUNS"); do
        oha_run "$1.sb" sb "$2" "$OHA_SECS" "$3"
        oha_run "$1.ng" ng "$2" "$OHA_SECS" "$4"
    done
}
say "3. 4 KiB file, oha -c 64 and -c 1, ${OHA_RUNS} x ${OHA_SECS} s each (sharebox, nginx)"
oha_case small64 64 "$SHARE/files/$SMALL_UUID" "$NURL/small.bin"
oha_case small1 1 "$SHARE/files/$SMALL_UUID" "$NURL/small.bin"
hwm3=$(status_kib "$SB_PID" VmHWM)

say "4. share page, oha -c 64, ${OHA_RUNS} x ${OHA_SECS} s (sharebox, nginx)"
oha_case page64 64 "$SHARE" "$NURL/page.html"
hwm4=$(status_kib "$SB_PID" VmHWM)

say "5. zip of $SMALL_FILES x $SMALL_KIB KiB: $total x (sharebox, dufs, dufs --compress none)"
for i in $(seq "$total"); do
    timed "$(counted zip.sb)" sb 200 "${CURL[@]}" "$ZSHARE/zip"
    timed "$(counted zip.du)" du 200 "${CURL[@]}" "$DURL/zipbench?zip"
    timed "$(counted zip.dn)" dn 200 "${CURL[@]}" "$DNURL/zipbench?zip"
done

kill -0 "$SB_PID" 2>/dev/null || die "sharebox died: $(tail -5 "$work/sharebox.err")"
end_hwm=$(status_kib "$SB_PID" VmHWM)
end_rss=$(status_kib "$SB_PID" VmRSS)
ng_hwm=0
for p in $(ng_workers); do
    h=$(status_kib "$p" VmHWM)
    ((h > ng_hwm)) && ng_hwm=$h
done
du_hwm=$(status_kib "$DU_PID" VmHWM)
dn_hwm=$(status_kib "$DN_PID" VmHWM)

# --- Report -------------------------------------------------------------------------------------
# stats < numbers: "median min max"
stats() {
    sort -g | awk '{a[NR] = $1}
        END {
            if (NR == 0) { print "- - -"; exit }
            m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
            printf "%.4f %.4f %.4f\n", m, a[1], a[NR]
        }'
}
med() { stats | cut -d' ' -f1; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
f() { awk -v x="$1" -v p="${2:-2}" 'BEGIN {printf "%.*f", p, x}'; }
# speed ratio pair by pair: B's time / A's time (above 1: A is faster); "median min max"
speed() { paste "$work/t.$1" "$work/t.$2" | awk '{print $2 / $1}' | stats; }
# cpu_ms NAME REQUESTS_PER_RUN: server CPU ms per request, median over runs
cpu_ms() { awk -v hz="$hz" -v n="$2" '{print $1 / hz * 1000 / n}' "$work/c.$1" | med; }
trow() { # trow CASE SERVER NAME BYTES REQUESTS_PER_RUN
    local m lo hi
    read -r m lo hi < <(stats <"$work/t.$3")
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$(f "$m" 3)" "$(f "$lo" 3)" "$(f "$hi" 3)" \
        "$(awk -v b="$4" -v s="$m" 'BEGIN {printf "%.0f", b / 1048576 / s}')" "$(f "$(cpu_ms "$3" "$5")" 1)"
}
ocol() { cut -d' ' -f"$2" "$work/o.$1" | med; }
ocpu() { awk -v hz="$hz" '{print $5 / hz * 1e6 / $4}' "$work/o.$1" | med; } # µs per request
orow() { # orow CASE SERVER NAME
    printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$(f "$(ocol "$3" 1)" 0)" \
        "$(cut -d' ' -f1 "$work/o.$3" | stats | awk '{printf "%.0f-%.0f", $2, $3}')" \
        "$(f "$(ocol "$3" 2)" 3) / $(f "$(ocol "$3" 3)" 3)" "$(f "$(ocpu "$3")" 0)"
}
oratio() { paste -d' ' "$work/o.$1" "$work/o.$2" | awk '{print $1 / $6}' | stats; }
verdict() { awk -v x="$1" -v op="$2" -v bar="$3" 'BEGIN {ok = (op == ">=") ? x >= bar : x <= bar; print ok ? "PASS" : "FAIL"}'; }

read -r g1 g1lo g1hi < <(speed big.sb big.ng)
read -r g1d g1dlo g1dhi < <(speed big.sb big.du)
read -r g2 g2lo g2hi < <(speed rng.sb rng.ng)
read -r g3 g3lo g3hi < <(oratio small64.sb small64.ng)
g3b=$(ocol small1.sb 2)
g3bng=$(ocol small1.ng 2)
read -r g4 g4lo g4hi < <(oratio page64.sb page64.ng)
read -r g5 g5lo g5hi < <(speed zip.sb zip.du)
read -r g5n g5nlo g5nhi < <(speed zip.sb zip.dn)
g6bar=$((idle_rss + 32 * 1024))
g6=$(verdict "$end_hwm" "<=" "$g6bar")
range3() { printf '%s (%s-%s)' "$(f "$1")" "$(f "$2")" "$(f "$3")"; }

if [[ -n ${SHAREBOX_BIN:-} ]]; then
    rev="${SHAREBOX_REV:-from $SHAREBOX_BIN}"
else
    rev=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
    if [[ -n $(git -C "$repo" status --porcelain --untracked-files=no -- src Cargo.toml Cargo.lock 2>/dev/null) ]]; then
        rev="$rev + uncommitted changes in src/Cargo"
    fi
fi
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
mem_gib=$(awk '/^MemTotal/ {printf "%.1f", $2 / 1048576}' /proc/meminfo)
fs=$(df -PT /tmp | awk 'NR==2 {print $2 " on " $1}')
slice_mib=$((SLICE / 1048576))

section=$(
    cat <<EOF
## $(date -u '+%Y-%m-%d %H:%M UTC'): public share routes, Sharebox vs nginx and dufs

- machine: $(nproc) cores (${cpu_model:-unknown CPU}), ${mem_gib} GiB RAM, kernel $(uname -r), temp dir on ${fs}; load average ${load_start} at the start, ${load_end} at the end (other work on the machine disturbs both sides of a pair alike, not the absolute numbers)
- versions: sharebox ${rev} (release build, RUST_LOG=warn, one actix worker per core), $("$NGINX" -v 2>&1 | sed 's/^nginx version: //') (\`worker_processes auto\`, sendfile on, access log off), $(dufs --version) (\`--allow-archive\`, request log off), $(oha --version), $(curl --version | head -1 | cut -d' ' -f1-2)
- method: \`bench/public.sh\`; every server on 127.0.0.1 serving the same random bytes (Sharebox from its own blobs after an upload, nginx and dufs from one folder); every body checked once before timing. curl cases: ${RUNS} counted runs after ${WARMUP} warm-up, servers in turn, wall seconds of the curl process(es), ratios pair by pair. oha cases: ${OHA_RUNS} runs of ${OHA_SECS} s per server in turn after a 2 s warm-up each, keep-alive, every answer a 200. Server CPU is utime + stime from /proc (nginx: master + workers).
- Sharebox routes: \`share_uri/files/<uuid>\` and \`share_uri\` of a link share of big.bin + small.bin (no password, downloads allowed: each whole download is counted in the share), \`share_uri/zip\` of a folder share of /zipbench. nginx's page.html is the share page's own HTML (${PAGE_BYTES} bytes) saved as a file.
- Zips: Sharebox ${SB_ZIP_METHOD}, ${SB_ZIP_BYTES} bytes; dufs default (\`--compress low\`) ${DU_ZIP_METHOD}, ${DU_ZIP_BYTES} bytes, sent without Content-Length (${DU_ZIP_LEN:-none}); dufs \`--compress none\` ${DN_ZIP_METHOD}, ${DN_ZIP_BYTES} bytes. The files are random, so deflate saves nothing here.

| case | server | median s | min s | max s | MiB/s (median) | server CPU ms per run |
|---|---|---|---|---|---|---|
$(trow "1. ${SIZE_MIB} MiB GET" sharebox big.sb "$BYTES" 1)
$(trow "1. ${SIZE_MIB} MiB GET" nginx big.ng "$BYTES" 1)
$(trow "1. ${SIZE_MIB} MiB GET" dufs big.du "$BYTES" 1)
$(trow "2. ${SLICES} x ${slice_mib} MiB ranges" sharebox rng.sb "$BYTES" 1)
$(trow "2. ${SLICES} x ${slice_mib} MiB ranges" nginx rng.ng "$BYTES" 1)
$(trow "5. zip of ${SMALL_FILES} x ${SMALL_KIB} KiB" sharebox zip.sb "$SB_ZIP_BYTES" 1)
$(trow "5. zip of ${SMALL_FILES} x ${SMALL_KIB} KiB" "dufs (deflate)" zip.du "$DU_ZIP_BYTES" 1)
$(trow "5. zip of ${SMALL_FILES} x ${SMALL_KIB} KiB" "dufs --compress none" zip.dn "$DN_ZIP_BYTES" 1)

| case | server | req/s (median) | req/s (min-max) | latency p50 / p99 ms | server CPU µs per request |
|---|---|---|---|---|---|
$(orow "3. 4 KiB file, 64 conns" sharebox small64.sb)
$(orow "3. 4 KiB file, 64 conns" nginx small64.ng)
$(orow "3. 4 KiB file, 1 conn" sharebox small1.sb)
$(orow "3. 4 KiB file, 1 conn" nginx small1.ng)
$(orow "4. share page, 64 conns" sharebox page64.sb)
$(orow "4. share page, 64 conns" nginx page64.ng)

Goals (ratios: Sharebox's speed / the other's, median of the pairs, min-max in brackets):

| goal | measured | verdict |
|---|---|---|
| 1. ${SIZE_MIB} MiB download ≥ 0.7x nginx | $(range3 "$g1" "$g1lo" "$g1hi")x nginx; $(range3 "$g1d" "$g1dlo" "$g1dhi")x dufs | $(verdict "$g1" ">=" 0.7) |
| 2. ${SLICES} parallel ranges (no goal of its own) | $(range3 "$g2" "$g2lo" "$g2hi")x nginx | - |
| 3a. 4 KiB file at 64 conns ≥ 0.1x nginx req/s | $(range3 "$g3" "$g3lo" "$g3hi")x | $(verdict "$g3" ">=" 0.1) |
| 3b. 4 KiB file at 1 conn p50 ≤ 1 ms | $(f "$g3b" 3) ms (nginx $(f "$g3bng" 3) ms) | $(verdict "$g3b" "<=" 1) |
| 4. share page ≥ 0.25x nginx static page req/s | $(range3 "$g4" "$g4lo" "$g4hi")x | $(verdict "$g4" ">=" 0.25) |
| 5. zip ≥ 1.5x dufs | $(range3 "$g5" "$g5lo" "$g5hi")x dufs (deflate); $(range3 "$g5n" "$g5nlo" "$g5nhi")x dufs --compress none | $(verdict "$g5" ">=" 1.5) |
| 6. Sharebox peak RSS ≤ idle + 32 MiB | VmHWM $(mib "$end_hwm") MiB vs idle VmRSS $(mib "$idle_rss") + 32 = $(mib "$g6bar") MiB | $g6 |

Sharebox memory (MiB): idle VmRSS $(mib "$idle_rss"), VmHWM after start $(mib "$start_hwm") (first start hashes the admin password with argon2), after the uploads and shares $(mib "$after_setup_hwm"), after case 1 $(mib "$hwm1"), 2 $(mib "$hwm2"), 3 $(mib "$hwm3"), 4 $(mib "$hwm4"), at the end $(mib "$end_hwm") (VmRSS $(mib "$end_rss")). Others' VmHWM: nginx worker (largest) $(mib "$ng_hwm"), dufs $(mib "$du_hwm"), dufs --compress none $(mib "$dn_hwm").
EOF
)

printf '%s\n' "$section"
if [[ ! -s $results ]]; then
    printf '# Benchmark results\n\nOne section per run of a script in this folder, oldest first.\n' >"$results"
fi
printf '\n%s\n' "$section" >>"$results"
say "appended to $results"
