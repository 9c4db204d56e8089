#!/usr/bin/env bash
# Issue 21: one SIZE_MIB file downloaded through a public share three ways, same run: from `fs`,
# from an S3 bucket proxied by Sharebox (`--s3-redirect false`), and by 302 to a presigned GET
# that curl follows to the store. The store is moto (from the test venv, on loopback), so the
# store's own speed is moto's: what this measures is Sharebox's part, its CPU seconds above all
# (the redirect should cost the server almost nothing). Prints the results and appends them,
# dated, to bench/results.md. Run by hand; never in CI.
#
#   bench/s3.sh                                   # 1 GiB, 3 counted runs of each case
#   RESULTS=/tmp/try.md SIZE_MIB=64 RUNS=2 bench/s3.sh    # a quick trial
#   SHAREBOX_BIN=/path/to/sharebox bench/s3.sh    # no build: that binary
set -euo pipefail
export LC_ALL=C

RUNS=${RUNS:-3}
WARMUP=${WARMUP:-1}
SIZE_MIB=${SIZE_MIB:-1024}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
results=${RESULTS:-$here/results.md}

# shellcheck source=bench/lib.sh
source "$here/lib.sh"

need_number RUNS SIZE_MIB
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a number"
need_tools curl jq sha256sum python3
sharebox_bin "$repo"

# moto_server from the test venv (tests/sdk/setup_venv.sh pins it).
venv=${SHAREBOX_SDK_VENV:-$repo/target/sdk-venv}
bash "$repo/tests/sdk/setup_venv.sh" "$venv" >&2
base=$(mktemp -d /tmp/sharebox-s3-bench.XXXXXX)
work=$base
MOTO_PORT=$(free_port)
"$venv/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" >"$base/moto.log" 2>&1 &
PIDS+=("$!")
MOTO=http://127.0.0.1:$MOTO_PORT
wait_port "$MOTO_PORT" "${PIDS[-1]}" moto "$base/moto.log"
curl -fsS -X PUT "$MOTO/bench" >/dev/null
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench

BIG=$base/big.bin
say "writing ${SIZE_MIB} MiB of random bytes"
head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom >"$BIG"
BIG_SHA=$(sha256sum "$BIG" | cut -d' ' -f1)

# serve NAME [ENV=VALUE...]: a Sharebox over $base/NAME with the file uploaded and shared;
# sets PID_<NAME> and FILE_<NAME> (the share's file URL)
serve() {
    local name=$1
    shift
    work=$base/$name
    mkdir -p "$work"
    start_sharebox "127.0.0.1:0" "$@"
    work=$base
    local up share
    up=$(curl -fsS -H "X-Filerobot-Key: $KEY" -F "file=@$BIG;filename=big.bin" \
        "$URL/default/v4/upload?folder=/bench")
    local uuid
    uuid=$(jq -r .file.uuid <<<"$up")
    share=$(curl -fsS -H "X-Filerobot-Key: $KEY" -H 'Content-Type: application/json' \
        -d "{\"title\":\"bench\",\"items\":[{\"type\":\"file_uuid\",\"identifiers\":[\"$uuid\"]}]}" \
        "$URL/default/v5/shares")
    printf -v "PID_$name" '%s' "$SB_PID"
    printf -v "FILE_$name" '%s/files/%s' "$(jq -r .share.share_uri <<<"$share")" "$uuid"
}

say "starting three servers and uploading the file to each"
serve fs
serve proxied SHAREBOX_BLOB_STORE=s3://bench/proxied SHAREBOX_S3_ENDPOINT="$MOTO" \
    SHAREBOX_S3_REDIRECT=false
serve redirect SHAREBOX_BLOB_STORE=s3://bench/redirect SHAREBOX_S3_ENDPOINT="$MOTO"

# cpu_s PID: the process's user + system CPU seconds
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$1/stat"; }

# fetch URL: downloads (following a redirect), prints seconds; checks status and SHA-256 once
fetch() {
    curl -fsS -L -o "$base/got.bin" -w '%{time_total}' "$1"
}

declare -A TIMES CPU
for case in fs proxied redirect; do
    url_var=FILE_$case
    out=$(curl -fsS -L "${!url_var}" | sha256sum | cut -d' ' -f1)
    [[ $out == "$BIG_SHA" ]] || die "$case: the download's SHA-256 differs"
done
code=$(curl -s -o /dev/null -w '%{http_code}' "$FILE_redirect")
[[ $code == 302 ]] || die "the redirect server answered $code, not 302"

for ((i = 0; i < WARMUP + RUNS; i++)); do
    for case in fs proxied redirect; do
        url_var=FILE_$case
        pid_var=PID_$case
        before=$(cpu_s "${!pid_var}")
        t=$(fetch "${!url_var}")
        after=$(cpu_s "${!pid_var}")
        ((i < WARMUP)) && continue
        TIMES[$case]+="$t "
        CPU[$case]+="$(awk -v a="$after" -v b="$before" 'BEGIN {printf "%.3f", a - b}') "
    done
done

median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
declare -A MED MCPU
for case in fs proxied redirect; do
    MED[$case]=$(median <<<"${TIMES[$case]}")
    MCPU[$case]=$(median <<<"${CPU[$case]}")
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

report=$(
    cat <<EOF

## $(date -u +%Y-%m-%dT%H:%MZ) s3.sh: ${SIZE_MIB} MiB download, fs vs S3 proxied vs S3 redirect ($(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?'), ${RUNS} runs, medians; store: moto on loopback)

| case | wall s | vs fs | Sharebox CPU s |
|---|---|---|---|
| fs (\`blobs/\`) | ${MED[fs]} | 1.00 | ${MCPU[fs]} |
| S3, proxied | ${MED[proxied]} | $(ratio "${MED[proxied]}" "${MED[fs]}") | ${MCPU[proxied]} |
| S3, 302 to a presigned GET (followed) | ${MED[redirect]} | $(ratio "${MED[redirect]}" "${MED[fs]}") | ${MCPU[redirect]} |
EOF
)
printf '%s\n' "$report"
printf '%s\n' "$report" >>"$results"
