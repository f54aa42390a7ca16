#!/usr/bin/env bash
# Generates the Kotlin and Swift sources of the bindings from the built
# library (UniFFI library mode, with the generator built from this
# repository) into kotlin/ and swift/ beside this script.
#
#   crates/hotline-ffi/bindings/generate.sh           # regenerate (commit the result)
#   crates/hotline-ffi/bindings/generate.sh --check   # fail if the committed files are not current
#
# Uses the library python/build.sh (or `cargo test`) built; honours
# CARGO_TARGET_DIR.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
case "$(uname -s)" in
  Darwin) lib="libhotline_ffi.dylib" ;;
  *) lib="libhotline_ffi.so" ;;
esac
# `cargo test` leaves the cdylib in target/debug/deps (only `cargo build`
# copies it up to target/debug): take the newer of the two.
libpath=""
for p in "$target/debug/$lib" "$target/debug/deps/$lib"; do
  if [ -f "$p" ] && { [ -z "$libpath" ] || [ "$p" -nt "$libpath" ]; }; then libpath="$p"; fi
done
[ -n "$libpath" ] || { echo "$lib is missing: run cargo test --no-run"; exit 1; }

check=false
[ "${1:-}" = "--check" ] && check=true
if $check; then
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
else
  out="$here"
fi
for language in kotlin swift; do
  rm -rf "${out:?}/$language"
  cargo run -q -p hotline-ffi-bindgen -- \
      generate --no-format --library "$libpath" --language "$language" --out-dir "$out/$language"
done
if $check; then
  for language in kotlin swift; do
    if ! diff -r "$here/$language" "$out/$language"; then
      echo "crates/hotline-ffi/bindings/$language is not current: run crates/hotline-ffi/bindings/generate.sh and commit"
      exit 1
    fi
  done
  echo "Kotlin and Swift bindings are current"
fi
