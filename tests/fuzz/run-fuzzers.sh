#!/bin/sh
# run-fuzzers.sh BUILD_DIR SECONDS
#
# Runs every libFuzzer harness built in BUILD_DIR/tests/fuzz (configure
# with CC=clang meson setup -Dfuzzing=true BUILD_DIR) for SECONDS each, on a
# copy of its seed corpus, and exits non-zero if any of them finds a crash,
# a leak, a sanitizer report or a timeout.  Inputs that fail are kept in
# BUILD_DIR/tests/fuzz/artifacts/.

set -eu

if [ $# -ne 2 ]; then
    echo "usage: $0 BUILD_DIR SECONDS" >&2
    exit 2
fi

build_dir=$1
seconds=$2
fuzz_dir=$build_dir/tests/fuzz
source_dir=$(cd "$(dirname "$0")" && pwd)
artifacts=$fuzz_dir/artifacts

case $seconds in
    ''|*[!0-9]*) echo "$0: SECONDS must be a whole number" >&2; exit 2 ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$artifacts"

found=0
failed=""
for fuzzer in "$fuzz_dir"/fuzz-*; do
    [ -f "$fuzzer" ] && [ -x "$fuzzer" ] || continue
    name=$(basename "$fuzzer")
    found=$((found + 1))

    # The fuzzer adds what it finds to the corpus: work on a copy so the
    # seeds in the source tree stay as they are.
    corpus=$work/$name
    mkdir -p "$corpus"
    seeds=$source_dir/corpus-${name#fuzz-}
    if [ -d "$seeds" ]; then
        cp "$seeds"/* "$corpus"/
    fi

    set -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$artifacts/$name-"
    if [ -f "$source_dir/$name.dict" ]; then
        set -- "$@" -dict="$source_dir/$name.dict"
    elif [ -f "$source_dir/pop3.dict" ]; then
        set -- "$@" -dict="$source_dir/pop3.dict"
    fi

    echo "=== $name for ${seconds}s ($(ls "$corpus" | wc -l) seeds)"
    if "$fuzzer" "$@" "$corpus" > "$work/$name.log" 2>&1; then
        grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done)' \
            "$work/$name.log" || true
        echo "=== $name: no crash"
    else
        # Progress lines ("#1234 NEW ...") say nothing about the failure.
        grep -v -E '^#[0-9]+' "$work/$name.log" | tail -n 60
        echo "=== $name: FAILED (inputs in $artifacts)"
        failed="$failed $name"
    fi
done

if [ "$found" -eq 0 ]; then
    echo "$0: no fuzzers in $fuzz_dir; configure with CC=clang meson setup -Dfuzzing=true" >&2
    exit 1
fi

if [ -n "$failed" ]; then
    echo "Fuzzers that failed:$failed" >&2
    exit 1
fi
