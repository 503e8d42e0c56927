#!/usr/bin/env bash
# Builds the CUDA binary (`cargo build --release --locked --features cuda`) without GitHub.
#
# burn's CUDA backend compiles its kernels to PTX through LLVM 23 (cubecl-cuda → cubecl-llvm →
# pliron-llvm), and the build script of `tracel-llvm-bundler` 23.1.0-4 downloads that LLVM from
# GitHub releases unless `<data dir>/tracel/tracel-llvm-23.1.0-4/.tracel-llvm-installed` exists;
# then it only asks that folder's `bin/llvm-config` (`--link-static --libs`, `--system-libs`,
# `--libdir`, `--includedir`, `--cxxflags`). This script fills that folder, in a data dir of its
# own (XDG_DATA_HOME for the build; nothing under ~/.local/share is touched), from
#   - `--llvm DIR`: an LLVM 23 prefix with bin/llvm-config, lib/ and include/ (the NVPTX target
#     in it), e.g. tracel's bundle unpacked on a machine with GitHub; or
#   - the bundle an online build already installed (~/.local/share/tracel/tracel-llvm-23.1.0-4); or
#   - the PyPI wheels mlc-llvm-static==23.1.1.post0 and mlc-llvm-static-extra-targets==23.1.1.post0
#     (static LLVM 23.1.1 with NVPTX; their llvm-config is a Python script), downloaded with pip
#     (or taken from `--wheels DIR`).
# No change to Cargo.toml or Cargo.lock. Needs: cargo, a C compiler, python3 (llvm-config; pip for
# the wheels) and zlib's link name (Debian: zlib1g-dev; zstd comes from the zstd-sys crate).
#
#   scripts/build-cuda.sh [--llvm DIR] [--wheels DIR] [--work DIR] [--cuda-version NNNNN]
#                         [--features LIST] [--profile release|dev] [--target-dir DIR] [--nice]
#
# --llvm DIR          an LLVM 23 prefix to link (skips the wheels)
# --wheels DIR        a folder holding the two mlc-llvm-static wheels (skips pip's download)
# --work DIR          where the wheels are unpacked and the data dir is made (default
#                     TARGET/cuda-llvm; about 400 MB)
# --cuda-version N    the CUDA API cudarc compiles for, as CUDARC_CUDA_VERSION (12080 = 12.8).
#                     Default: $CUDARC_CUDA_VERSION, else what `nvcc --version` says if nvcc is on
#                     PATH, else 12080. A driver runs programs built for its CUDA version or older:
#                     12.8 needs driver 570 or newer; use 12020 / 12040 for drivers 535 / 550.
# --features LIST     cargo features (default `cuda`; e.g. `cuda,wgpu` for both backends)
# --profile P         release (default) or dev: the dev profile reuses a `cargo test` build's
#                     dependencies in the same target folder (what CI does)
# --target-dir DIR    cargo's target folder (default $CARGO_TARGET_DIR, else target)
# --nice              lower the build's CPU priority (its autogroup's nice to 19)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
llvm=""
wheels=""
work=""
cuda_version="${CUDARC_CUDA_VERSION:-}"
features="cuda"
profile="release"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
nice=""
LLVM_WHEELS=(mlc-llvm-static==23.1.1.post0 mlc-llvm-static-extra-targets==23.1.1.post0)
BUNDLE=tracel-llvm-23.1.0-4   # what tracel-llvm-bundler 23.1.0-4 (Cargo.lock) looks for

usage() { sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --llvm) llvm="${2:?--llvm needs a directory}"; shift 2 ;;
    --wheels) wheels="${2:?--wheels needs a directory}"; shift 2 ;;
    --work) work="${2:?--work needs a directory}"; shift 2 ;;
    --cuda-version) cuda_version="${2:?--cuda-version needs a value}"; shift 2 ;;
    --features) features="${2:?--features needs a value}"; shift 2 ;;
    --profile) profile="${2:?--profile needs release or dev}"; shift 2 ;;
    --target-dir) target_dir="${2:?--target-dir needs a directory}"; shift 2 ;;
    --nice) nice=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "build-cuda: unknown argument \`$1\`" >&2; usage >&2; exit 2 ;;
  esac
done
mkdir -p "$target_dir"
target_dir="$(cd "$target_dir" && pwd)"
work="${work:-$target_dir/cuda-llvm}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
say() { echo "build-cuda: $*" >&2; }

# 1. The LLVM prefix.
online="${XDG_DATA_HOME:-$HOME/.local/share}/tracel/$BUNDLE"
if [ -n "$llvm" ]; then
  prefix="$(cd "$llvm" && pwd)"
  say "LLVM from $prefix"
elif [ -f "$online/.tracel-llvm-installed" ]; then
  prefix="$online"
  say "LLVM from the bundle an online build installed: $prefix"
else
  prefix="$work/sdk/mlc_llvm_static/static"
  if [ ! -x "$prefix/bin/llvm-config" ]; then
    if [ -z "$wheels" ]; then
      wheels="$work/wheels"
      say "downloading ${LLVM_WHEELS[*]} from PyPI into $wheels"
      python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 \
        -d "$wheels" "${LLVM_WHEELS[@]}"
    fi
    shopt -s nullglob
    whl=("$wheels"/mlc_llvm_static-23.1.1.post0-*.whl "$wheels"/mlc_llvm_static_extra_targets-23.1.1.post0-*.whl)
    shopt -u nullglob
    [ "${#whl[@]}" = 2 ] || { say "expected the two mlc-llvm-static 23.1.1.post0 wheels in $wheels"; exit 1; }
    say "unpacking the wheels into $work/sdk"
    rm -rf "$work/sdk"
    python3 -c 'import sys, zipfile; [zipfile.ZipFile(w).extractall(sys.argv[1]) for w in sys.argv[2:]]' \
      "$work/sdk" "${whl[@]}"
    chmod +x "$prefix/bin/llvm-config"
  fi
fi
[ -x "$prefix/bin/llvm-config" ] || { say "no executable $prefix/bin/llvm-config"; exit 1; }
version="$("$prefix/bin/llvm-config" --version)"
case "$version" in 23.*) ;; *) say "$prefix is LLVM $version; LLVM 23 is needed"; exit 1 ;; esac
"$prefix/bin/llvm-config" --targets-built | grep -qw NVPTX || { say "$prefix lacks the NVPTX target"; exit 1; }

# 2. Where the bundler looks: a data dir of the build's own, with the marker that stops the
# download. Links into the prefix (llvm-config resolves its own path, so --libdir and
# --includedir name the real folders), so a read-only prefix is fine.
data="$work/data"
if [ "$prefix" != "$online" ]; then
  dest="$data/tracel/$BUNDLE"
  rm -rf "$dest" && mkdir -p "$dest"
  for d in "$prefix"/*; do ln -s "$d" "$dest/$(basename "$d")"; done
  touch "$dest/.tracel-llvm-installed"
  export XDG_DATA_HOME="$data"
fi

# 3. The CUDA API version cudarc compiles for (its fallback without nvcc would be the newest,
# 13.4, which older drivers lack functions of).
if [ -z "$cuda_version" ] && ! command -v nvcc >/dev/null; then cuda_version=12080; fi
[ -n "$cuda_version" ] && export CUDARC_CUDA_VERSION="$cuda_version"

case "$profile" in release) out=release ;; dev) out=debug ;; *) say "--profile: release or dev"; exit 2 ;; esac
say "cargo build --profile $profile --locked --features $features (target $target_dir, LLVM $version, CUDA API ${CUDARC_CUDA_VERSION:-from nvcc})"
start=$(date +%s)
cd "$root"
env -u DOCS_RS CARGO_TARGET_DIR="$target_dir" cargo build --profile "$profile" --locked --features "$features" --bin tscpipe &
pid=$!
if [ -n "$nice" ] && [ -w "/proc/$pid/autogroup" ]; then echo 19 >"/proc/$pid/autogroup" || true; fi
wait "$pid"
secs=$(($(date +%s) - start))
bin="$target_dir/$out/tscpipe"
stripped="$(mktemp)"
strip -o "$stripped" "$bin"
say "built in $((secs / 60)) min $((secs % 60)) s (CPU user and system of the build: $(times | tail -1)): $bin, $(du -m "$bin" | cut -f1) MiB ($(du -m "$stripped" | cut -f1) MiB stripped)"
rm -f "$stripped"
echo "$bin"
