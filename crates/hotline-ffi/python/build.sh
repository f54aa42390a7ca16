#!/usr/bin/env bash
# Builds the bindings' library (cdylib), generates the Python module from
# it (UniFFI library mode, with the generator built from this repository)
# into python/hotline/, and copies the library next to it. Also builds the
# programs the tests start: hotline-relay, hotline-gateway, hotline-issuer
# and the echo_business example.
#
#   crates/hotline-ffi/python/build.sh          # then: python3 -m pytest crates/hotline-ffi/python/tests
#
# Honours CARGO_TARGET_DIR.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"

# What `cargo test` at the root builds, no more and no less: the library
# (cdylib), the relay, gateway and issuer programs, and the example. Asking
# for a narrower set would unify dependency features differently and build
# the protocol crate and its dependencies a second time (after CI's
# `cargo test`, the same command finds everything built).
cargo test --no-run

case "$(uname -s)" in
  Darwin) lib="libhotline_ffi.dylib" ;;
  MINGW*|MSYS*|CYGWIN*) lib="hotline_ffi.dll" ;;
  *) lib="libhotline_ffi.so" ;;
esac

# `cargo test` leaves the cdylib in target/debug/deps (only `cargo build`
# copies it up to target/debug): take the newer of the two.
libpath=""
for p in "$target/debug/$lib" "$target/debug/deps/$lib"; do
  if [ -f "$p" ] && { [ -z "$libpath" ] || [ "$p" -nt "$libpath" ]; }; then libpath="$p"; fi
done
[ -n "$libpath" ] || { echo "$lib was not built: cargo test --no-run failed?"; exit 1; }
out="$here/hotline"
mkdir -p "$out"
cargo run -q -p hotline-ffi-bindgen -- \
    generate --no-format --library "$libpath" --language python --out-dir "$out"
cp "$libpath" "$out/$lib"
echo "python package in $out (binaries in $target/debug)"
