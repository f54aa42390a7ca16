#!/usr/bin/env bash
# Smoke-fuzzes every cargo-fuzz target for a fixed number of executions,
# starting from the committed seeds, and fails if any target crashes.
#
#   bash fuzz/smoke.sh                 # from the repository root (or anywhere)
#
# Environment (all optional):
#   FUZZ_TOOLCHAIN   rustup toolchain to build with, or 'default' (nightly
#                    if installed, else the default toolchain: see below)
#   FUZZ_SANITIZER   cargo-fuzz sanitizer: none|address|...    (none: the
#                    crate has no unsafe code; see fuzz/README.md)
#   FUZZ_SEED        libFuzzer -seed; 0 = random               (1: reproducible)
#   FUZZ_RUNS_SCALE  multiplies every target's execution count (1)
#   FUZZ_SCRATCH     directory for the scratch corpora         (a fresh temp dir)
#   FUZZ_TARGETS     space-separated subset of targets         (all)
#
# Each target's scratch corpus comes first on the command line (libFuzzer
# writes new inputs to the first directory), the read-only seeds second, and
# fuzz/regressions/<target>/ (saved crash reproducers), if present, third.
# Crash reproducers go to fuzz/artifacts/<target>/ (ignored by git).
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 2

sanitizer="${FUZZ_SANITIZER:-none}"
toolchain="${FUZZ_TOOLCHAIN:-}"
seed="${FUZZ_SEED:-1}"
scale="${FUZZ_RUNS_SCALE:-1}"

# target  executions  max_len  (executions chosen so that all targets together
# take about two minutes on 2 cores after the build)
table="
wire_decode            150000  2048
session_decrypt          6000  2048
session_decrypt_mutate  20000   256
pq_conversation          3000   400
bundle_verify            6000  2048
handshake_respond        5000  2048
relay_decode           500000  4096
store_restore           20000  4096
certificate_validate    40000  2048
relay_handle             7000  8192
"

# cargo-fuzz needs nightly for its sanitizers; with `-s none` it passes no
# unstable flags, so the default (stable) toolchain works too, which keeps
# this script running on a machine where nightly cannot be installed.
if [[ -z "$toolchain" ]]; then
    if cargo +nightly --version >/dev/null 2>&1; then
        toolchain=nightly
    elif [[ "$sanitizer" == none ]]; then
        toolchain=default
        echo "smoke.sh: no nightly toolchain; building with the default one (sanitizer none)"
    else
        echo "smoke.sh: sanitizer '$sanitizer' needs a nightly toolchain (rustup toolchain install nightly)" >&2
        exit 2
    fi
fi
if [[ "$toolchain" == default ]]; then
    cargo_cmd=(cargo)
else
    cargo_cmd=(cargo "+$toolchain")
fi
if ! "${cargo_cmd[@]}" --version >/dev/null 2>&1; then
    echo "smoke.sh: the '$toolchain' toolchain is missing (rustup toolchain install $toolchain)" >&2
    exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "smoke.sh: installing cargo-fuzz"
    cargo install cargo-fuzz --locked || exit 2
fi

if [[ -n "${FUZZ_SCRATCH:-}" ]]; then
    scratch="$FUZZ_SCRATCH"
    mkdir -p "$scratch"
else
    scratch="$(mktemp -d)"
    trap 'rm -rf "$scratch"' EXIT
fi

echo "== building fuzz targets (toolchain $toolchain, sanitizer $sanitizer)"
build_start=$SECONDS
if ! "${cargo_cmd[@]}" fuzz build -s "$sanitizer"; then
    echo "smoke.sh: build failed" >&2
    exit 1
fi
echo "== build took $((SECONDS - build_start)) s"

failed=()
fuzz_start=$SECONDS
while read -r target runs max_len; do
    [[ -z "$target" ]] && continue
    if [[ -n "${FUZZ_TARGETS:-}" && " $FUZZ_TARGETS " != *" $target "* ]]; then
        continue
    fi
    runs=$((runs * scale))
    corpus="$scratch/$target"
    log="$scratch/$target.log"
    mkdir -p "$corpus"
    t0=$SECONDS
    inputs=()
    if [[ -d "fuzz/seeds/$target" ]]; then
        inputs+=("fuzz/seeds/$target")
    fi
    # Saved reproducers of past crashes are replayed as part of the corpus.
    if [[ -d "fuzz/regressions/$target" ]]; then
        inputs+=("fuzz/regressions/$target")
    fi
    "${cargo_cmd[@]}" fuzz run -s "$sanitizer" "$target" "$corpus" "${inputs[@]}" -- \
        -runs="$runs" -max_len="$max_len" -seed="$seed" -timeout=60 \
        -print_final_stats=1 >"$log" 2>&1
    rc=$?
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    cov="$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -n 's/.*cov: \([0-9]*\).*/\1/p')"
    printf '%-24s %8s executions  cov %-6s %4d s  %s\n' "$target" "${execs:-?}" "${cov:-?}" \
        "$((SECONDS - t0))" "$([[ $rc -eq 0 ]] && echo ok || echo "FAILED (exit $rc)")"
    if [[ $rc -ne 0 ]]; then
        failed+=("$target")
        echo "---- last lines of the $target log ----"
        tail -n 60 "$log"
        echo "---- end of $target log (reproducer under fuzz/artifacts/$target/) ----"
    fi
done <<<"$table"
echo "== fuzzing took $((SECONDS - fuzz_start)) s"

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "smoke.sh: crashes in: ${failed[*]}" >&2
    exit 1
fi
echo "smoke.sh: all fuzz targets passed"
