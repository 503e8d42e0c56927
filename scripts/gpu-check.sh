#!/usr/bin/env bash
# The GPU check: on a Linux machine with a GPU (no network, no Rust toolchain needed), run the
# quick LSTM-FCN reproduction and the training-step benchmark on the GPU and on the CPU with a
# release binary built elsewhere, and print one table. docs/gpu.md says how to build and carry it.
#
#   scripts/gpu-check.sh --pack DIR [--bin target/release/tscpipe]   # here: assemble what to carry
#   ./gpu-check.sh [--device cuda] [--reference cpu|none] [--set KEY=VALUE]... [--small]
#
# --device     the device under test (cuda, cuda:N, wgpu, wgpu:N; default cuda)
# --reference  the device to compare with (default cpu; none: only the device under test)
# --set        passed to `tscpipe run` (e.g. --set 'matrix.dataset=["GunPoint"]')
# --small      time the step at B=50/T=150 only (the B=128/T=500 step is slow on software devices)
# --out DIR    where caches, logs and results go (default ./gpu-check-out; removed first)
# --limit S    seconds each `tscpipe run` may take before it is stopped (default 240)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# The carried layout has the binary next to the script; in a checkout the script is in scripts/.
if [ -f "$here/pipelines/paper_repro.toml" ]; then root="$here"; else root="$(cd "$here/.." && pwd)"; fi
bin=""
device="cuda"
reference="cpu"
out="$PWD/gpu-check-out"
limit=240
small=""
pack=""
sets=()

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --device) device="${2:?--device needs a value}"; shift 2 ;;
    --reference) reference="${2:?--reference needs a value}"; shift 2 ;;
    --set) sets+=(--set "${2:?--set needs a value}"); shift 2 ;;
    --bin) bin="${2:?--bin needs a value}"; shift 2 ;;
    --out) out="${2:?--out needs a value}"; shift 2 ;;
    --limit) limit="${2:?--limit needs a value}"; shift 2 ;;
    --small) small="--small"; shift ;;
    --pack) pack="${2:?--pack needs a directory}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "gpu-check: unknown argument \`$1\`" >&2; usage >&2; exit 2 ;;
  esac
done

if [ -z "$bin" ]; then
  for b in "$root/tscpipe" "$root/target/release/tscpipe"; do
    if [ -x "$b" ]; then bin="$b"; break; fi
  done
fi
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
  echo "gpu-check: no tscpipe binary (give --bin PATH)" >&2
  exit 2
fi

# --pack: the folder to carry to the GPU machine (stripped binary, bundled data, pipelines,
# stdlib, this script), at most 64 MiB.
if [ -n "$pack" ]; then
  rm -rf "$pack" && mkdir -p "$pack"
  cp -r "$root/data" "$root/pipelines" "$root/stdlib" "$pack/"
  rm -rf "$pack/data/published"
  cp "$0" "$pack/gpu-check.sh"
  strip -o "$pack/tscpipe" "$bin" 2>/dev/null || cp "$bin" "$pack/tscpipe"
  size=$(du -sm "$pack" | cut -f1)
  echo "gpu-check: $pack holds ${size} MiB"
  [ "$size" -le 64 ] || { echo "gpu-check: more than 64 MiB to carry" >&2; exit 1; }
  exit 0
fi

cd "$root"
rm -rf "$out" && mkdir -p "$out"
devices=("$device")
[ "$reference" != "none" ] && devices+=("$reference")

# What the machine offers (and the CUDA driver's libcuda, if any).
"$bin" devices | tee "$out/devices.txt"
if [[ "$device" == cuda* ]]; then
  ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1' || echo "gpu-check: note: ldconfig lists no libcuda.so.1 (the NVIDIA driver)" >&2
fi

now() { date +%s.%N; }
declare -A wall step_small step_large
for d in "${devices[@]}"; do
  dir="$out/${d//:/_}"
  mkdir -p "$dir"
  echo "gpu-check: quick reproduction on $d (limit ${limit} s)" >&2
  t0=$(now)
  status=0
  timeout "$limit" "$bin" run pipelines/paper_repro.toml --profile quick --device "$d" ${sets[@]+"${sets[@]}"} \
    -j "$(nproc)" --json --cache-dir "$dir/cache" --results-dir "$dir/results" >"$dir/events.jsonl" 2>"$dir/run.err" || status=$?
  wall[$d]=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
  if [ "$status" -ne 0 ]; then
    wall[$d]="${wall[$d]} (exit $status)"
    echo "gpu-check: the run on $d failed (exit $status); last lines of $dir/run.err:" >&2
    tail -5 "$dir/run.err" >&2
  fi
  # Seconds per stage: the instances' `finished` events, summed by stage name.
  sed -n 's/.*"event":"finished","id":"\([^"[]*\)[^"]*","seconds":\([0-9.eE+-]*\).*/\1 \2/p' "$dir/events.jsonl" \
    | awk '{ s[$1] += $2; n[$1]++ } END { for (k in s) printf "%s %.1f %d\n", k, s[k], n[k] }' | sort >"$dir/stages.txt"
  # Test accuracies: the published table (wide: dataset, then one column per method), made long.
  table="$dir/results/paper_repro/table/results.csv"
  if [ -f "$table" ]; then
    awk -F, 'NR == 1 { for (i = 2; i <= NF; i++) m[i] = $i; next }
             { for (i = 2; i <= NF; i++) if ($i != "") printf "%s/%s %s\n", $1, m[i], $i }' "$table" | sort >"$dir/acc.txt"
  else
    : >"$dir/acc.txt"
  fi
  echo "gpu-check: training step on $d" >&2
  "$bin" devices --bench "$d" $small 2>"$dir/bench.err" | tee "$dir/bench.txt" | grep '^step' >&2 || true
  step_small[$d]=$(sed -n 's/^step .* B=50 T=150: \([0-9.]*\) ms$/\1/p' "$dir/bench.txt")
  step_large[$d]=$(sed -n 's/^step .* B=128 T=500: \([0-9.]*\) ms$/\1/p' "$dir/bench.txt")
done

# One table: rows are measures, columns the devices.
row() { printf '| %s |' "$1"; shift; for v in "$@"; do printf ' %s |' "${v:--}"; done; printf '\n'; }
lookup() { awk -v k="$1" -v c="$2" '$1 == k { print $c }' "$3"; }
{
  printf '| measure |'; for d in "${devices[@]}"; do printf ' %s |' "$d"; done; printf '\n|---|'
  for _ in "${devices[@]}"; do printf -- '---|'; done; printf '\n'
  vals=(); for d in "${devices[@]}"; do vals+=("${wall[$d]}"); done; row "wall time, whole run (s)" "${vals[@]}"
  for s in $(cat "$out"/*/stages.txt | cut -d' ' -f1 | sort -u); do
    vals=(); for d in "${devices[@]}"; do
      f="$out/${d//:/_}/stages.txt"; v=$(lookup "$s" 2 "$f"); n=$(lookup "$s" 3 "$f"); vals+=("${v:+$v ($n)}")
    done
    row "$s (s, sum over instances)" "${vals[@]}"
  done
  vals=(); for d in "${devices[@]}"; do vals+=("${step_small[$d]}"); done; row "train step B=50 T=150 (ms)" "${vals[@]}"
  vals=(); for d in "${devices[@]}"; do vals+=("${step_large[$d]}"); done; row "train step B=128 T=500 (ms)" "${vals[@]}"
  for k in $(cat "$out"/*/acc.txt | cut -d' ' -f1 | sort -u); do
    vals=(); for d in "${devices[@]}"; do vals+=("$(lookup "$k" 2 "$out/${d//:/_}/acc.txt")"); done
    row "test accuracy $k" "${vals[@]}"
  done
} | tee "$out/table.md"
