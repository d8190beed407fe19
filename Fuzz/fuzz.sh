#!/usr/bin/env bash
# usage: Fuzz/fuzz.sh [SECONDS]
#
# Builds the libFuzzer executable (instrumented, with AddressSanitizer) and
# fuzzes every target for SECONDS each (default 60), starting from the
# committed seeds and every crash ever found. New inputs go to a scratch
# corpus under Fuzz/.build/corpus; a finding is written to
# Fuzz/.build/findings/ and fails the script after all targets have run.
# Prints one line per target: executions, seconds, corpus size, result.
# Limits: 10 s per input (a hang), 2 GB of RSS, and no single allocation of
# 256 MB, which no input of at most 32 KB may legitimately need.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
swift build -c release --sanitize=address \
    -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table
fuzzer=.build/release/secnn-fuzz
mkdir -p .build/findings
failed=0
for target in $("$fuzzer" --list); do
    work=.build/corpus/$target
    mkdir -p "$work" "Crashes/$target"
    log=.build/findings/$target.log
    # Checkpoint seeds are whole (small) checkpoints of ~25 KB.
    max_len=4096
    [ "$target" = checkpoint ] && max_len=32768
    status=0
    "$fuzzer" --target="$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=256 \
        -max_len="$max_len" -print_final_stats=1 -artifact_prefix=".build/findings/$target-" \
        "$work" "Corpus/$target" "Crashes/$target" >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    corpus=$(ls "$work" "Corpus/$target" "Crashes/$target" | grep -vc -e '^$' -e ':$' || true)
    if [ "$status" -eq 0 ]; then result=ok; else result="FINDING (exit $status, see $log)"; failed=1; fi
    echo "fuzz target=$target executions=${runs:-0} seconds=$seconds corpus=$corpus result=$result"
done
exit $failed
