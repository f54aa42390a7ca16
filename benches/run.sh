#!/usr/bin/env bash
# Runs the benchmarks N times (default 3), keeping each run's criterion
# results, then prints the ratios from the fastest mean of every operation.
#
#   bash benches/run.sh [N] [cargo bench arguments...]
#   bash benches/run.sh 3 --features sqlite
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs="${1:-3}"
shift || true
rm -rf target/criterion-runs
mkdir -p target/criterion-runs
for i in $(seq 1 "$runs"); do
    echo "== run $i of $runs"
    cargo bench --bench hot_path --bench storage_relay "$@"
    cp -r target/criterion "target/criterion-runs/$i"
done
python3 benches/ratios.py target/criterion-runs/*
