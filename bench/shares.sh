#!/usr/bin/env bash
# Share creation under load: N password-less shares through `POST /default/v5/shares` at CONNS
# keep-alive connections, with oha as the client. Goal (issue acceptance): >= 2,000 shares/s and
# p99 <= 50 ms on the project's 2-core machine. Prints the results and appends them, dated, to
# bench/results.md. Run by hand, as root (it may `cargo install oha`); never in CI.
#
#   bench/shares.sh                              # 500 warm-up + 10,000 counted, 64 connections
#   N=2000 WARMUP=100 RESULTS=/tmp/try.md bench/shares.sh   # a quick trial
#
# Client and server share the machine's cores; the report gives the CPU seconds of each, and the
# load average before the run (other work on the machine skews the numbers).
set -euo pipefail
export LC_ALL=C

N=${N:-10000}
WARMUP=${WARMUP:-500}
CONNS=${CONNS:-64}
GOAL_RPS=2000
GOAL_P99_MS=50

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
results=${RESULTS:-$here/results.md} # RESULTS=/tmp/x.md for a trial run

# shellcheck source=bench/lib.sh
source "$here/lib.sh"

need_number N CONNS
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a number"

# --- Tools ------------------------------------------------------------------------------------
need_tools curl python3
need_cargo_tool oha
OHA=$(command -v oha)
sharebox_bin "$repo"

# --- Scratch space (lib.sh's cleanup stops the server and removes it) -------------------------
work=$(mktemp -d /tmp/sharebox-bench-shares.XXXXXX)

# --- A quiet machine ---------------------------------------------------------------------------
# Client and server need both cores; a build beside them halves the numbers. Wait (up to
# QUIET_WAIT seconds) for 5 s in which the machine is at least 90 % idle, then go on anyway.
QUIET_WAIT=${QUIET_WAIT:-900}
cpu_jiffies() { awk '$1 == "cpu" {b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6}' /proc/stat; }
idle_pct() { # idle percentage of all cores over $1 seconds
    local b0 t0 b1 t1
    read -r b0 t0 < <(cpu_jiffies)
    sleep "$1"
    read -r b1 t1 < <(cpu_jiffies)
    awk -v b="$((b1 - b0))" -v t="$((t1 - t0))" 'BEGIN {printf "%.0f", t ? 100 - 100 * b / t : 100}'
}
waited=0
while :; do
    idle=$(idle_pct 5)
    ((idle >= 90)) && break
    if ((waited >= QUIET_WAIT)); then
        say "the machine is still busy (${idle} % idle); measuring anyway"
        break
    fi
    ((waited == 0)) && say "waiting for a quiet machine (${idle} % idle now; at most ${QUIET_WAIT} s)"
    waited=$((waited + 5))
done

# --- Sharebox on a free port ------------------------------------------------------------------
PORT=$(free_port)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start_sharebox "127.0.0.1:$PORT"
say "sharebox (pid $SB_PID) at $URL"

json() { # json EXPR < document: prints the Python expression EXPR over the document `d`
    python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

# --- One file to share ------------------------------------------------------------------------
printf 'a small file for the share benchmark\n' >"$work/small.txt"
up=$(curl -sS -H "X-Filerobot-Key: $KEY" -F "file=@$work/small.txt" "$URL/default/v4/upload")
UUID=$(json 'd["file"]["uuid"]' <<<"$up") || die "upload failed: $up"
BODY="{\"title\":\"Bench share\",\"items\":[{\"type\":\"file_uuid\",\"identifiers\":[\"$UUID\"]}],\"permissions\":\"READ+DOWNLOAD\"}"
printf '%s' "$BODY" >"$work/body.json"

# One share by hand, so a wrong body fails here with the server's answer.
code=$(curl -sS -o "$work/first.json" -w '%{http_code}' -X POST -H "X-Filerobot-Key: $KEY" \
    -H 'Content-Type: application/json' --data-binary "@$work/body.json" "$URL/default/v5/shares")
[[ $code == 200 ]] || die "POST /v5/shares answered $code: $(cat "$work/first.json")"
[[ $(json 'd["share"]["password_protected"]' <"$work/first.json") == False ]] ||
    die "the share has a password: $(cat "$work/first.json")"

# --- Load ---------------------------------------------------------------------------------------
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }      # user + system, all threads
child_ticks() { awk '{print $16 + $17}' "/proc/$$/stat"; }    # waited-for children of this shell

oha_run() { # oha_run COUNT OUTFILE
    "$OHA" --no-tui -n "$1" -c "$CONNS" -m POST \
        -H "X-Filerobot-Key: $KEY" -H 'Content-Type: application/json' -D "$work/body.json" \
        --output-format json -o "$2" "$URL/default/v5/shares"
}
check_codes() { # check_codes OUTFILE COUNT: every answer a 200, no errors
    python3 - "$1" "$2" <<'EOF' || die "not every request got a 200 (see above)"
import json, sys
d = json.load(open(sys.argv[1]))
codes = d.get("statusCodeDistribution", {})
errors = d.get("errorDistribution", {})
if codes != {"200": int(sys.argv[2])} or errors:
    print(f"status codes {codes}, errors {errors}", file=sys.stderr)
    sys.exit(1)
EOF
}

if ((WARMUP > 0)); then
    say "warm-up: $WARMUP shares at $CONNS connections"
    oha_run "$WARMUP" "$work/warmup.json"
    check_codes "$work/warmup.json" "$WARMUP"
fi

say "measuring: $N shares at $CONNS connections"
read -r m0 _ < <(cpu_jiffies)
sb0=$(cpu_ticks "$SB_PID")
ch0=$(child_ticks)
oha_run "$N" "$work/run.json"
ch1=$(child_ticks)
sb1=$(cpu_ticks "$SB_PID")
read -r m1 _ < <(cpu_jiffies)
check_codes "$work/run.json" "$N"
hwm=$(status_kib "$SB_PID" VmHWM)
threads=$(status_kib "$SB_PID" Threads)

expected=$((1 + WARMUP + N))
total=$(curl -sS -H "X-Filerobot-Key: $KEY" "$URL/default/v5/shares?limit=1" | json 'd["total"]')
[[ $total == "$expected" ]] || die "the server lists $total shares, expected $expected"
db_kib=$(du -sk "$work/data" | cut -f1)

# --- Report -------------------------------------------------------------------------------------
read -r wall rps p50 p90 p99 maxms < <(python3 - "$work/run.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
s, p = d["summary"], d["latencyPercentiles"]
ms = lambda x: f"{x * 1000:.2f}"
print(f'{s["total"]:.3f}', f'{s["requestsPerSec"]:.0f}', ms(p["p50"]), ms(p["p90"]), ms(p["p99"]),
      ms(s["slowest"]))
EOF
)
cpu() { awk -v a="$1" -v b="$2" -v hz="$hz" 'BEGIN {printf "%.2f", (b - a) / hz}'; }
sb_cpu=$(cpu "$sb0" "$sb1")
oha_cpu=$(cpu "$ch0" "$ch1")
sb_us=$(awk -v c="$sb_cpu" -v n="$N" 'BEGIN {printf "%.0f", c / n * 1e6}')
sb_cores=$(awk -v c="$sb_cpu" -v w="$wall" 'BEGIN {printf "%.2f", c / w}')
oha_cores=$(awk -v c="$oha_cpu" -v w="$wall" 'BEGIN {printf "%.2f", c / w}')
# Everything else on the machine meanwhile: all busy CPU less the server's and oha's.
other_cpu=$(awk -v m="$((m1 - m0))" -v s="$((sb1 - sb0))" -v o="$((ch1 - ch0))" -v hz="$hz" \
    'BEGIN {x = (m - s - o) / hz; printf "%.2f", x < 0 ? 0 : x}')

verdict() { awk -v ok="$1" 'BEGIN {print (ok ? "PASS" : "FAIL")}'; }
rps_ok=$(verdict "$(awk -v r="$rps" -v g="$GOAL_RPS" 'BEGIN {print (r >= g)}')")
p99_ok=$(verdict "$(awk -v p="$p99" -v g="$GOAL_P99_MS" 'BEGIN {print (p <= g)}')")
overall=PASS
[[ $rps_ok == PASS && $p99_ok == PASS ]] || overall=FAIL

rev=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$repo" status --porcelain -- src 2>/dev/null) ]]; then
    rev="$rev + uncommitted"
fi
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
mem_gib=$(awk '/^MemTotal/ {printf "%.1f", $2 / 1048576}' /proc/meminfo)
fs=$(df -PT "$work" | awk 'NR==2 {print $2 " on " $1}')
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

section=$(
    cat <<EOF
## $(date -u '+%Y-%m-%d %H:%M UTC'): ${N} password-less shares at ${CONNS} connections: ${overall}

- machine: $(nproc) cores (${cpu_model:-unknown CPU}), ${mem_gib} GiB RAM, kernel $(uname -r), data dir on ${fs}; load average before the run ${load_before}; CPU taken by other processes during the run ${other_cpu} s
- versions: sharebox ${rev} (release build, RUST_LOG=warn), $("$OHA" --version) as the client on the same machine
- method: \`bench/shares.sh\`; one small file uploaded, then \`POST /default/v5/shares\` with \`{"title":"Bench share","items":[{"type":"file_uuid","identifiers":[<uuid>]}],"permissions":"READ+DOWNLOAD"}\` (no password), \`X-Filerobot-Key\`, keep-alive; 1 share by curl and ${WARMUP} warm-up shares by oha not counted, then ${N} counted
- checked: all ${N} answers 200 and no client errors; \`GET /default/v5/shares?limit=1\` gives \`total\` ${total} (= 1 + ${WARMUP} + ${N})

| shares/s | p50 ms | p90 ms | p99 ms | max ms | wall s | server CPU s (cores busy) | server CPU µs per share | oha CPU s (cores busy) | server peak RSS MiB | server threads | data dir MiB |
|---|---|---|---|---|---|---|---|---|---|---|---|
| ${rps} | ${p50} | ${p90} | ${p99} | ${maxms} | ${wall} | ${sb_cpu} (${sb_cores}) | ${sb_us} | ${oha_cpu} (${oha_cores}) | $(mib "$hwm") | ${threads} | $(mib "$db_kib") |

Goals: ≥ ${GOAL_RPS} shares/s: **${rps_ok}** (${rps}); p99 ≤ ${GOAL_P99_MS} ms: **${p99_ok}** (${p99} ms).
EOF
)

printf '%s\n' "$section"
if [[ ! -s $results ]]; then
    printf '# Benchmark results\n\nOne section per run of a script in this folder, oldest first.\n' >"$results"
fi
printf '\n%s\n' "$section" >>"$results"
say "appended to $results"
