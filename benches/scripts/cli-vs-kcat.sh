#!/usr/bin/env bash
# `idem produce` against `kcat -P` (librdkafka, idempotent): the same file of lines to
# librdkafka's mock cluster (3 brokers, one topic of 3 partitions, started by
# `compare serve --broker rdkafka-mock`), runs alternating, each tool's wall time, CPU time
# (user + sys) and peak RSS from /usr/bin/time; medians and ratios at the end.
#
#   benches/scripts/cli-vs-kcat.sh [RUNS] [LINES] [LINE_BYTES] [SETTINGS...]
#
# SETTINGS: `defaults` (each tool's own defaults) and/or `matched` (both at batch.size 1 MB,
# linger.ms 5, acks=all, idempotent). Defaults: 5 runs, 1,000,000 lines of 100 B, both.
# IDEM_BIN: the idem binary to measure (default: this tree's, built here).
# IDEM_EXTRA / KCAT_EXTRA: more arguments for that tool in every run (e.g. "-X linger.ms=10").
# A benchmark, not a test: skips with a message when kcat or /usr/bin/time is missing.
set -euo pipefail

RUNS=${1:-5}
LINES=${2:-1000000}
SIZE=${3:-100}
shift $(( $# < 3 ? $# : 3 )) || true
SETS=("$@")
[ ${#SETS[@]} -eq 0 ] && SETS=(defaults matched)

for tool in kcat /usr/bin/time; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "cli-vs-kcat: $tool not found, skipping (Debian: apt-get install kcat time)" >&2
        exit 0
    fi
done

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
cargo build --release -q -p idem -p idem-benches --bin idem --bin compare
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
IDEM=${IDEM_BIN:-$TARGET/release/idem}
COMPARE=$TARGET/release/compare

WORK=$(mktemp -d)
trap 'exec 3>&- 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

# The input: LINES lines of SIZE bytes (printable, varied).
awk -v n="$LINES" -v s="$SIZE" 'BEGIN {
    line = ""; for (i = 0; i < s; i++) line = line sprintf("%c", 97 + i % 26);
    for (i = 0; i < n; i++) print substr(sprintf("%010d", i) line, 1, s);
}' > "$WORK/input"

TOPIC=cli-bench
# The mock cluster lives until its stdin (fd 3) is closed.
mkfifo "$WORK/ctl"
"$COMPARE" serve --broker rdkafka-mock --topic "$TOPIC" --partitions 3 < "$WORK/ctl" > "$WORK/serve.out" 2>"$WORK/serve.err" &
exec 3>"$WORK/ctl"
for _ in $(seq 100); do
    grep -q '^BOOTSTRAP ' "$WORK/serve.out" 2>/dev/null && break
    sleep 0.1
done
BS=$(sed -n 's/^BOOTSTRAP //p' "$WORK/serve.out")
[ -n "$BS" ] || { echo "cli-vs-kcat: the mock cluster did not start" >&2; cat "$WORK/serve.err" >&2; exit 1; }

# One run: prints "wall_s cpu_s maxrss_kb".
measure() {
    /usr/bin/time -f '%e %U %S %M' -o "$WORK/time" "$@" > /dev/null 2> "$WORK/err" || {
        echo "cli-vs-kcat: failed: $*" >&2; cat "$WORK/err" >&2; exit 1; }
    awk '{ printf "%.3f %.3f %d\n", $1, $2 + $3, $4 }' "$WORK/time"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# One unmeasured run of each tool first (the mock's first connections are slower).
"$IDEM" produce --no-progress -b "$BS" -t "$TOPIC" "$WORK/input" 2>/dev/null || true
kcat -P -b "$BS" -t "$TOPIC" -X enable.idempotence=true -l "$WORK/input" 2>/dev/null || true

echo "input: $LINES lines of $SIZE B; mock: 3 brokers, topic $TOPIC of 3 partitions; runs: $RUNS"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for set in "${SETS[@]}"; do
    case "$set" in
        defaults) IDEM_X=(); KCAT_X=() ;;
        matched)
            IDEM_X=(-X batch.size=1000000 -X linger.ms=5 -X acks=all)
            KCAT_X=(-X batch.size=1000000 -X linger.ms=5 -X acks=all) ;;
        *) echo "cli-vs-kcat: unknown settings $set" >&2; exit 2 ;;
    esac
    : > "$WORK/idem.$set"; : > "$WORK/kcat.$set"
    for r in $(seq "$RUNS"); do
        # Alternate which tool goes first.
        if (( r % 2 )); then order=(idem kcat); else order=(kcat idem); fi
        for tool in "${order[@]}"; do
            if [ "$tool" = idem ]; then
                m=$(measure "$IDEM" produce --no-progress -b "$BS" -t "$TOPIC" "${IDEM_X[@]}" ${IDEM_EXTRA:-} "$WORK/input")
            else
                m=$(measure kcat -P -b "$BS" -t "$TOPIC" -X enable.idempotence=true "${KCAT_X[@]}" ${KCAT_EXTRA:-} -l "$WORK/input")
            fi
            echo "$m" >> "$WORK/$tool.$set"
            echo "  $set run $r $tool: wall/cpu/rss $m"
        done
    done
    for tool in idem kcat; do
        f=$WORK/$tool.$set
        read -r w c m <<< "$(cut -d' ' -f1 "$f" | median) $(cut -d' ' -f2 "$f" | median) $(cut -d' ' -f3 "$f" | median)"
        eval "${tool}_w=$w ${tool}_c=$c ${tool}_m=$m"
    done
    awk -v set="$set" -v n="$LINES" -v iw="$idem_w" -v ic="$idem_c" -v im="$idem_m" \
        -v kw="$kcat_w" -v kc="$kcat_c" -v km="$kcat_m" 'BEGIN {
        printf "%s: idem %.3f s wall (%.0f K rec/s), %.3f s CPU, %.1f MB RSS | kcat %.3f s wall (%.0f K rec/s), %.3f s CPU, %.1f MB RSS\n",
            set, iw, n / iw / 1000, ic, im / 1024, kw, n / kw / 1000, kc, km / 1024;
        printf "%s: idem/kcat records/s %.2fx, CPU %.2fx, peak RSS %.2fx\n", set, kw / iw, ic / kc, im / km;
    }'
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
