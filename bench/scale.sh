#!/usr/bin/env bash
# Big shares cost what small ones cost (issue 16): one share per size N of a folder of N small
# files, all in one Sharebox, measured in the same run. For each N: the share page, the first
# and the last folder page, a one-file download (p50 of REPEAT keep-alive requests each), the
# zip's first byte and whole time (the first download makes the zip's plan; then REPEAT
# downloads with the plan kept), and the server's peak RSS against its idle RSS (the peak is
# reset before each N). Prints the results and appends them with PASS/FAIL per goal to
# bench/results.md. Run by hand; never in CI.
#
#   bench/scale.sh                               # N = 1000 10000 100000, and 1000000 if disk allows
#   SIZES="1000 10000" RESULTS=/tmp/try.md bench/scale.sh   # a quick trial
#   SHAREBOX_BIN=/path/to/sharebox bench/scale.sh            # no build: that binary
#
# The files: one small blob uploaded through the API, then N rows per folder written straight
# into the database while the server is stopped (the bench measures shares, not uploads; the
# schema's triggers keep the folders' aggregates as they would for uploads).
set -euo pipefail
export LC_ALL=C

REPEAT=${REPEAT:-20}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
results=${RESULTS:-$here/results.md}

# shellcheck source=bench/lib.sh
source "$here/lib.sh"
need_number REPEAT
need_tools curl jq python3

avail_gib=$(($(df -Pk /tmp | awk 'NR==2 {print $4}') / 1024 / 1024))
SIZES=${SIZES:-"1000 10000 100000"}
if [[ -z ${SIZES_SET:-} && $SIZES == "1000 10000 100000" && $avail_gib -ge 8 ]]; then
    SIZES="$SIZES 1000000"
fi
sharebox_bin "$repo"
work=$(mktemp -d /tmp/sharebox-scale-bench.XXXXXX)

start_sharebox 127.0.0.1:0
say "uploading the one blob every file row will share"
printf 'sharebox scale bench: a small file\n' >"$work/seed.txt"
for n in $SIZES; do
    curl -sS --fail-with-body -H "X-Filerobot-Key: $KEY" -H 'Content-Type: application/json' \
        -d "{\"name\":\"/n$n\"}" "$URL/default/v4/folders" >/dev/null
done
curl -sS --fail-with-body -H "X-Filerobot-Key: $KEY" -F "file=@$work/seed.txt;filename=seed.txt" \
    "$URL/default/v4/upload?folder=/" >/dev/null
stop "$SB_PID"

say "writing the file rows (sizes: $SIZES)"
python3 "$here/scale.py" seed "$work/data/sharebox.db" $SIZES

# A later start: the banner has no key; the first start's key still holds.
: >"$work/sharebox2.out"
: >"$work/sharebox2.err"
env RUST_LOG=warn "$BIN" serve --listen 127.0.0.1:0 --data-dir "$work/data" \
    >"$work/sharebox2.out" 2>"$work/sharebox2.err" &
SB_PID=$!
PIDS+=("$SB_PID")
URL=
for _ in $(seq 300); do
    URL=$(sed -n 's/.*listening on //p' "$work/sharebox2.out")
    [[ -n $URL ]] && break
    kill -0 "$SB_PID" 2>/dev/null || die "sharebox did not restart: $(cat "$work/sharebox2.err")"
    sleep 0.1
done
URL=${URL%/}
sleep 2
idle_kib=$(status_kib "$SB_PID" VmRSS)

say "measuring"
python3 "$here/scale.py" measure "$URL" "$KEY" "$SB_PID" "$idle_kib" "$REPEAT" \
    "$work/data/sharebox.db" $SIZES >"$work/table.md"
cat "$work/table.md"

rev=$(cd "$repo" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(cd "$repo" && git status --porcelain -- src Cargo.toml schema.sql templates 2>/dev/null | head -1)
{
    echo
    echo "## $(date -u '+%Y-%m-%d %H:%M') UTC: big shares, N = ${SIZES// /, } files in one share each"
    echo
    echo "- machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
    echo "- versions: sharebox $rev${dirty:+ + uncommitted changes} (release build, RUST_LOG=warn), curl $(curl --version | head -1 | cut -d' ' -f2), python3 http.client as the keep-alive client"
    echo "- method: \`bench/scale.sh\`; each share is one folder of N files (one blob), shared recursively with downloads; page, folder pages and a file: p50 of $REPEAT requests on one keep-alive connection; the zip by curl (first: makes the plan; then the p50 of 3 with the plan kept); peak RSS is VmHWM after the N's cases, reset before them (/proc/PID/clear_refs), against the idle VmRSS after start"
    echo
    cat "$work/table.md"
} >>"$results"
say "appended to $results"
