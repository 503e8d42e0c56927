#!/usr/bin/env bash
# CI's CUDA step (.ci/run): the CUDA binary links, and on a machine without the NVIDIA driver it
# says so instead of panicking. scripts/build-cuda.sh builds it in the dev profile, reusing the
# crates `cargo test` built, with LLVM 23 from PyPI's mlc-llvm-static wheels (no GitHub needed).
# Where PyPI is out of reach, the type-check CI ran before (`DOCS_RS=1`, no LLVM) runs instead.
set -euo pipefail
cd "$(dirname "$0")/.."

wheels=target/cuda-llvm/wheels
if ! python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 -d "$wheels" \
  mlc-llvm-static==23.1.1.post0 mlc-llvm-static-extra-targets==23.1.1.post0; then
  echo "The CUDA build: the LLVM wheels could not be downloaded; the DOCS_RS=1 type-check instead" >&2
  DOCS_RS=1 cargo check --locked --features cuda --lib
  exit 0
fi
scripts/build-cuda.sh --profile dev --wheels "$wheels"
bin=target/debug/tscpipe

"$bin" devices | tee target/cuda-devices.txt
if ldconfig -p | grep -q 'libcuda\.so\.1'; then
  # A machine with the driver: it must list a device or say why not, in one line.
  grep -E '^cuda(:0 | +)' target/cuda-devices.txt
  exit 0
fi
grep -E '^cuda +no CUDA driver \(' target/cuda-devices.txt >/dev/null || {
  echo "The CUDA binary: \`tscpipe devices\` does not report the missing driver" >&2
  exit 1
}
# `--device cuda` stops before any stage runs, with the reason.
scratch="$(mktemp -d)"
rc=0
"$bin" run pipelines/paper_repro.toml --profile quick --device cuda --set 'matrix.dataset=["GunPoint"]' \
  --set 'matrix.cells=[8]' --json --cache-dir "$scratch/cache" --results-dir "$scratch/results" \
  >"$scratch/events.jsonl" 2>"$scratch/err" || rc=$?
if [ "$rc" = 0 ] || ! grep -q 'no CUDA driver' "$scratch/err" || grep -q '"event":"started"' "$scratch/events.jsonl"; then
  echo "The CUDA binary: \`run --device cuda\` without a driver (exit $rc) did not stop before the stages with the reason:" >&2
  cat "$scratch/err" >&2
  head -5 "$scratch/events.jsonl" >&2
  exit 1
fi
echo "The CUDA binary links and refuses --device cuda without a driver: $(head -1 "$scratch/err")"
rm -rf "$scratch"
