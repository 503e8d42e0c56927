#!/usr/bin/env bash
# The GPU check: on a Linux machine with an NVIDIA GPU (no network, no Rust toolchain needed), one
# command times tscpipe's training steps against PyTorch on the same GPU, runs the quick LSTM-FCN
# reproduction on the GPU beside the CPU, reruns it from the cache, tries the wgpu backend on the
# GPU, and prints one Markdown table. docs/gpu.md says how to build the binary and carry the pack.
#
#   scripts/gpu-check.sh --pack DIR [--bin PATH] [--libdevice FILE] [--wheels DIR]   # here
#   ./gpu-check.sh [--device cuda] [--reference cpu|none] [--torch PYTHON|none] [--full]
#                  [--set KEY=VALUE]... [--budget S] [--limit S] [--out DIR]         # on the GPU
#
# --pack DIR     assemble what to carry: the stripped binary xz-compressed, libdevice.10.bc (from
#                --libdevice, else the PyPI wheel nvidia-cuda-nvcc-cu12, downloaded or found in
#                --wheels DIR), data/, pipelines/, stdlib/, this script, gpu_check_torch.py, README
# --device       the device under test (cuda, cuda:N, wgpu, wgpu:N; default cuda)
# --reference    the device to compare with (default cpu; none: only the device under test)
# --torch        the Python with torch to time the same steps with (default: python3 if it has
#                torch with CUDA; none: no PyTorch column)
# --full         the whole quick matrix (4 datasets x 2 models x 3 cell counts) instead of
#                GunPoint with 8 cells
# --set          passed to each `tscpipe run` of the reproduction
# --budget S     the whole check's seconds (default 570): each step gets what is left, at most
#                its own limit, and a step with no time left says so in the table
# --limit S      seconds one reproduction run may take (default 240)
# --out DIR      where caches, logs and results go (default ./gpu-check-out; removed first)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# The carried layout has the binary next to the script; in a checkout the script is in scripts/.
if [ -f "$here/pipelines/paper_repro.toml" ]; then root="$here"; else root="$(cd "$here/.." && pwd)"; fi
bin=""
device="cuda"
reference="cpu"
torch_py=""
out="$PWD/gpu-check-out"
limit=240
budget=570
full=""
pack=""
libdevice=""
wheels=""
sets=()
NVCC_WHEEL=nvidia-cuda-nvcc-cu12==12.9.86

usage() { sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --device) device="${2:?--device needs a value}"; shift 2 ;;
    --reference) reference="${2:?--reference needs a value}"; shift 2 ;;
    --torch) torch_py="${2:?--torch needs a value}"; shift 2 ;;
    --set) sets+=(--set "${2:?--set needs a value}"); shift 2 ;;
    --bin) bin="${2:?--bin needs a value}"; shift 2 ;;
    --out) out="${2:?--out needs a value}"; shift 2 ;;
    --limit) limit="${2:?--limit needs a value}"; shift 2 ;;
    --budget) budget="${2:?--budget needs a value}"; shift 2 ;;
    --full) full=1; shift ;;
    --pack) pack="${2:?--pack needs a directory}"; shift 2 ;;
    --libdevice) libdevice="${2:?--libdevice needs a file}"; shift 2 ;;
    --wheels) wheels="${2:?--wheels needs a directory}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "gpu-check: unknown argument \`$1\`" >&2; usage >&2; exit 2 ;;
  esac
done
say() { echo "gpu-check: $*" >&2; }

# The carried binary travels compressed; unpack it once.
if [ -z "$bin" ] && [ ! -x "$root/tscpipe" ] && [ -f "$root/tscpipe.xz" ]; then
  say "unpacking tscpipe.xz"
  if command -v xz >/dev/null; then
    xz -dc "$root/tscpipe.xz" >"$root/tscpipe.part"
  else
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' \
      "$root/tscpipe.xz" "$root/tscpipe.part"
  fi
  chmod +x "$root/tscpipe.part" && mv "$root/tscpipe.part" "$root/tscpipe"
fi
if [ -z "$bin" ]; then
  for b in "$root/tscpipe" "$root/target/release/tscpipe"; do
    if [ -x "$b" ]; then bin="$b"; break; fi
  done
fi
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
  say "no tscpipe binary (give --bin PATH)"
  exit 2
fi

# --pack: the folder to carry to the GPU machine.
if [ -n "$pack" ]; then
  rm -rf "$pack" && mkdir -p "$pack/cuda/nvvm/libdevice"
  cp -r "$root/data" "$root/pipelines" "$root/stdlib" "$pack/"
  rm -rf "$pack/data/published"
  cp "$0" "$pack/gpu-check.sh"
  cp "$root/scripts/gpu_check_torch.py" "$pack/"
  if [ -z "$libdevice" ]; then
    if [ -z "$wheels" ]; then
      wheels="$(mktemp -d)"
      say "downloading $NVCC_WHEEL (for libdevice.10.bc) from PyPI"
      python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
        --platform manylinux_2_17_x86_64 -d "$wheels" "$NVCC_WHEEL"
    fi
    whl="$(ls "$wheels"/nvidia_cuda_nvcc_cu12-*.whl | head -1)"
    python3 - "$whl" "$pack/cuda" <<'EOF'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
for name, to in [("nvidia/cuda_nvcc/nvvm/libdevice/libdevice.10.bc", "nvvm/libdevice/libdevice.10.bc")]:
    open(f"{sys.argv[2]}/{to}", "wb").write(z.read(name))
lic = [n for n in z.namelist() if n.endswith("License.txt")]
if lic:
    open(f"{sys.argv[2]}/NVIDIA-License.txt", "wb").write(z.read(lic[0]))
open(f"{sys.argv[2]}/SOURCE", "w").write(f"libdevice.10.bc from {z.filename.rsplit('/', 1)[-1]} (PyPI)\n")
EOF
  else
    cp "$libdevice" "$pack/cuda/nvvm/libdevice/libdevice.10.bc"
  fi
  strip -o "$pack/tscpipe.stripped" "$bin"
  xz -T0 -9 -c "$pack/tscpipe.stripped" >"$pack/tscpipe.xz"
  stripped_mib=$(du -m "$pack/tscpipe.stripped" | cut -f1)
  rm "$pack/tscpipe.stripped"
  features="$("$bin" devices 2>/dev/null | sed -n 's/^\(wgpu\|cuda\)[: ].*not in this build.*/\1: not built in/p' | tr '\n' ' ')"
  cat >"$pack/README.md" <<EOF
# tscpipe GPU check

On a Linux x86-64 machine with an NVIDIA GPU and its driver (no network, no Rust toolchain):

    ./gpu-check.sh

It prints one Markdown table (also written to \`gpu-check-out/table.md\`, with every log beside
it) in under 10 minutes: the devices tscpipe sees; LSTM-FCN and InceptionTime training steps on
the GPU, on the CPU and in PyTorch on the same GPU (\`python3\` when it has torch with CUDA,
else \`--torch PYTHON\`; \`python3 -m pip install torch\` gives one), with the ratio; the quick
LSTM-FCN reproduction on \`--device cuda\` with its test accuracies beside the CPU's; the same
run again from its cache (nothing should execute); and the wgpu backend on the GPU where the
binary has it and Vulkan is there. \`./gpu-check.sh --help\` lists the options.

What is here: \`tscpipe.xz\` (\`$(basename "$(dirname "$bin")")/$(basename "$bin")\` as \`scripts/build-cuda.sh\` built
it, stripped, $stripped_mib MiB unpacked; the script unpacks it), \`cuda/nvvm/libdevice/libdevice.10.bc\`
(NVIDIA's math library for the kernels' tanh, exp and sigmoid, from the PyPI wheel
nvidia-cuda-nvcc-cu12; used through \`CUDA_PATH\` unless the machine has a CUDA toolkit or
\`CUDA_PATH\` is set), the bundled datasets, pipelines and stdlib, and \`gpu_check_torch.py\`.
$( [ -n "$features" ] && echo "This binary: $features." )
Built from commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown) on $(date -u +%Y-%m-%d).
EOF
  size=$(du -sm "$pack" | cut -f1)
  say "$pack holds ${size} MiB (binary ${stripped_mib} MiB stripped, $(du -m "$pack/tscpipe.xz" | cut -f1) MiB compressed)"
  [ "$size" -le 64 ] || { say "more than 64 MiB to carry"; exit 1; }
  exit 0
fi

cd "$root"
rm -rf "$out" && mkdir -p "$out"
started=$(date +%s)
left() { echo $((budget - ($(date +%s) - started))); }
# Runs CMD with at most S seconds and what the budget has left; 124 when stopped, 125 when no
# time was left to start it.
bounded() {
  local s="$1"; shift
  local l; l=$(left)
  [ "$l" -lt "$s" ] && s="$l"
  [ "$s" -lt 10 ] && return 125
  timeout -k 10 "$s" "$@"
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
why() { case "$1" in 124) echo "stopped at its limit" ;; 125) echo "no time left" ;; *) echo "exit $1" ;; esac; }

# The table: rows in order of first use, one column per device or reference.
declare -A cell seen
rows=()
cols=()
put() { # ROW COL VALUE
  local r="$1" c="$2"
  [ -n "${seen["r|$r"]-}" ] || { rows+=("$r"); seen["r|$r"]=1; }
  [ -n "${seen["c|$c"]-}" ] || { cols+=("$c"); seen["c|$c"]=1; }
  cell["$r|$c"]="$3"
}
# The order of the table; rows and columns that get no value are left out.
for r in "tscpipe devices" "libdevice (CUDA_PATH)" "PyTorch" \
  "LSTM-FCN step B=50 T=150, random data (ms)" "LSTM-FCN step B=128 T=500, random data (ms)" \
  "LSTM-FCN step B=50 T=150, train stage on GunPoint (ms)" "InceptionTime step B=50 T=150, train stage on GunPoint (ms)"; do
  rows+=("$r"); seen["r|$r"]=1
done
for c in "$device" "torch (cuda)" "$device / torch" "$reference"; do cols+=("$c"); seen["c|$c"]=1; done

# Where the CUDA kernels find libdevice: CUDA_PATH, a toolkit, else the carried copy.
if [[ "$device" == cuda* ]]; then
  if [ -z "${CUDA_PATH:-}" ]; then
    found=""
    for r in /usr/local/cuda /opt/cuda /usr/lib/cuda /usr; do
      [ -f "$r/nvvm/libdevice/libdevice.10.bc" ] && { found="$r"; break; }
    done
    if [ -z "$found" ] && [ -f "$root/cuda/nvvm/libdevice/libdevice.10.bc" ]; then export CUDA_PATH="$root/cuda"; fi
  fi
  ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1' || say "note: ldconfig lists no libcuda.so.1 (the NVIDIA driver)"
fi

# 1. What the machine offers.
"$bin" devices | tee "$out/devices.txt"
dev_line() { grep -E "^${1}[: ]" "$out/devices.txt" | head -1 | sed 's/^[^ ]* *//'; }
put "tscpipe devices" "$device" "$(dev_line "${device%%:*}")"
[ "$reference" != none ] && put "tscpipe devices" "$reference" "$(dev_line "${reference%%:*}")"
[[ "$device" == cuda* ]] && put "libdevice (CUDA_PATH)" "$device" "${CUDA_PATH:-${found:-none found}}"

# 2. Training steps. `devices --bench`: the paper's LSTM-FCN on random data, at both sizes.
bench() { # DEVICE
  local d="$1" dir="$out/bench_${1//:/_}" rc=0
  mkdir -p "$dir"
  say "LSTM-FCN training step on $d (tscpipe devices --bench)"
  bounded 240 "$bin" devices --bench "$d" >"$dir/bench.txt" 2>"$dir/bench.err" || rc=$?
  local b t v
  for size in "50 150" "128 500"; do
    read -r b t <<<"$size"
    v=$(sed -n "s/^step .* B=$b T=$t: \([0-9.]*\) ms\$/\1/p" "$dir/bench.txt")
    put "LSTM-FCN step B=$b T=$t, random data (ms)" "$d" "${v:-$( [ "$rc" = 0 ] && echo - || why "$rc")}"
  done
  [ "$rc" = 0 ] || tail -3 "$dir/bench.err" >&2
}
# The train stage (what a pipeline runs): GunPoint's 50 training series at batch 50, so each
# epoch is one step (monitor train_loss: no extra pass); the median of epochs 3-20.
stage_step() { # DEVICE MODEL LABEL
  local d="$1" m="$2" dir="$out/step_${1//:/_}_$2" rc=0
  mkdir -p "$dir"
  cat >"$dir/step.toml" <<EOF
[pipeline]
name = "step_$m"
main = "train"

[stages.load]
kind = "load"
dataset = "GunPoint"

[stages.train]
kind = "train"
inputs = { data = "load" }
model = { model = "$m" }
epochs = 20
batch_size = 50
monitor = "train_loss"
keep_best = false
checkpoint_every = 0
publish = true
EOF
  say "$3 epochs on $d (train stage)"
  bounded 240 "$bin" run "$dir/step.toml" --device "$d" --json --cache-dir "$dir/cache" --results-dir "$dir/results" \
    >"$dir/events.jsonl" 2>"$dir/run.err" || rc=$?
  local h="$dir/results/step_$m/train/history.csv" v=""
  if [ -f "$h" ]; then
    v=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "seconds") c = i; next }
                 NR > 3 { print $c * 1000 }' "$h" | sort -g | awk '{ a[NR] = $1 } END { if (NR) printf "%.1f", a[int((NR + 1) / 2)] }')
  fi
  if [ -z "$v" ]; then
    local msg
    msg=$(grep -h -m1 -io 'error[^"]*' "$dir/run.err" "$dir/events.jsonl" 2>/dev/null | head -1 | cut -c1-90 | tr '|' '/' || true)
    if [ "$rc" = 0 ]; then v="no history.csv"; else v="$(why "$rc"): $msg"; fi
    tail -3 "$dir/run.err" >&2
  fi
  put "$3 step B=50 T=150, train stage on GunPoint (ms)" "$d" "$v"
}
torch_steps() {
  local py="$torch_py"
  if [ -z "$py" ]; then
    if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then py=python3; else py=none; fi
  fi
  local col="torch (cuda)" dir="$out/torch" rc=0
  [ "$py" = none ] && { put "LSTM-FCN step B=50 T=150, random data (ms)" "$col" "no torch with CUDA (--torch PYTHON)"; return; }
  mkdir -p "$dir"
  say "PyTorch training steps on cuda ($py)"
  bounded 240 "$py" "$root/gpu_check_torch.py" --device cuda >"$dir/torch.txt" 2>"$dir/torch.err" || rc=$?
  [ "$rc" = 0 ] || tail -3 "$dir/torch.err" >&2
  put "PyTorch" "$col" "$(head -1 "$dir/torch.txt" | sed 's/^torch //')"
  local m label b t v
  for pair in "lstm_fcn LSTM-FCN" "inception_time InceptionTime"; do
    read -r m label <<<"$pair"
    for size in "50 150" "128 500"; do
      read -r b t <<<"$size"
      v=$(sed -n "s/^torch $m B=$b T=$t: \([0-9.]*\) ms\$/\1/p" "$dir/torch.txt")
      v="${v:-$(why "$rc")}"
      # tscpipe times LSTM-FCN alone on random data (`devices --bench`); the train stage's
      # one-step epochs compare with the same step at B=50.
      if [ "$m" = lstm_fcn ]; then put "$label step B=$b T=$t, random data (ms)" "$col" "$v"; fi
      if [ "$b" = 50 ]; then put "$label step B=50 T=150, train stage on GunPoint (ms)" "$col" "$v"; fi
    done
  done
}

# 3. The quick reproduction, and for the device under test the same run again from its cache.
repro() { # DEVICE DIR LABEL
  local d="$1" dir="$2" rc=0 t0
  mkdir -p "$dir"
  local narrow=()
  [ -z "$full" ] && narrow=(--set 'matrix.dataset=["GunPoint"]' --set 'matrix.cells=[8]')
  say "quick reproduction on $d$3"
  t0=$(now)
  bounded "$limit" "$bin" run pipelines/paper_repro.toml --profile quick --device "$d" ${narrow[@]+"${narrow[@]}"} \
    ${sets[@]+"${sets[@]}"} -j "$(nproc)" --json --cache-dir "$out/repro_${d//:/_}/cache" --results-dir "$dir/results" \
    >"$dir/events.jsonl" 2>"$dir/run.err" || rc=$?
  local wall; wall=$(since "$t0")
  [ "$rc" = 0 ] || { wall="$wall ($(why "$rc"))"; tail -5 "$dir/run.err" >&2; }
  put "quick reproduction$3: wall (s)" "$d" "$wall"
  local ran cached
  ran=$(grep -c '"event":"started"' "$dir/events.jsonl" || true)
  cached=$(grep -c '"event":"cached"' "$dir/events.jsonl" || true)
  put "quick reproduction$3: stages run / from cache" "$d" "$ran / $cached"
  [ -n "$3" ] && return
  sed -n 's/.*"event":"finished","id":"\([^"[]*\)[^"]*","seconds":\([0-9.eE+-]*\).*/\1 \2/p' "$dir/events.jsonl" \
    | awk '{ s[$1] += $2; n[$1]++ } END { for (k in s) printf "%s %.1f %d\n", k, s[k], n[k] }' | sort >"$dir/stages.txt"
  while read -r s v n; do
    put "quick reproduction: $s (s, sum of $n)" "$d" "$v"
  done <"$dir/stages.txt"
  local table="$dir/results/paper_repro/table/results.csv"
  if [ -f "$table" ]; then
    awk -F, 'NR == 1 { for (i = 2; i <= NF; i++) m[i] = $i; next }
             { for (i = 2; i <= NF; i++) if ($i != "") printf "%s/%s %s\n", $1, m[i], $i }' "$table" | sort >"$dir/acc.txt"
    while read -r k v; do put "test accuracy $k" "$d" "$v"; done <"$dir/acc.txt"
  fi
}

# The order spends the budget on what matters most first.
bench "$device"
torch_steps
stage_step "$device" lstm_fcn LSTM-FCN
stage_step "$device" inception_time InceptionTime
repro "$device" "$out/repro_${device//:/_}" ""
repro "$device" "$out/repro_${device//:/_}_rerun" " again, from the cache"
if [ "$reference" != none ]; then
  bench "$reference"
  stage_step "$reference" lstm_fcn LSTM-FCN
  stage_step "$reference" inception_time InceptionTime
  repro "$reference" "$out/repro_${reference//:/_}" ""
fi
# wgpu on the same GPU: its first GPU adapter, where the binary has wgpu and Vulkan lists one.
if [[ "$device" == cuda* ]]; then
  w=$(grep -E '^wgpu:[0-9]+ ' "$out/devices.txt" | grep -v ', software' | head -1 | cut -d' ' -f1 || true)
  if [ -n "$w" ]; then
    dir="$out/bench_${w//:/_}"; mkdir -p "$dir"; rc=0
    put "tscpipe devices" "$w" "$(dev_line "$w")"
    say "LSTM-FCN training step on $w (B=50 only)"
    bounded 180 "$bin" devices --bench "$w" --small >"$dir/bench.txt" 2>"$dir/bench.err" || rc=$?
    v=$(sed -n 's/^step .* B=50 T=150: \([0-9.]*\) ms$/\1/p' "$dir/bench.txt")
    put "LSTM-FCN step B=50 T=150, random data (ms)" "$w" "${v:-$(why "$rc")}"
  else
    put "tscpipe devices" "wgpu" "$(grep -E '^wgpu' "$out/devices.txt" | head -1 | sed 's/^[^ ]* *//') (no GPU adapter)"
  fi
fi

# Ratios: the device under test against PyTorch on the same GPU (below 1: tscpipe is faster).
for r in "${rows[@]}"; do
  a="${cell["$r|$device"]-}" b="${cell["$r|torch (cuda)"]-}"
  if [[ "$a" =~ ^[0-9.]+$ && "$b" =~ ^[0-9.]+$ ]]; then
    put "$r" "$device / torch" "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')"
  fi
done

put "the check's wall time (s)" "$device" "$(( $(date +%s) - started ))"
used_rows=(); used_cols=()
for r in "${rows[@]}"; do for c in "${cols[@]}"; do [ -n "${cell["$r|$c"]-}" ] && { used_rows+=("$r"); break; }; done; done
for c in "${cols[@]}"; do for r in "${rows[@]}"; do [ -n "${cell["$r|$c"]-}" ] && { used_cols+=("$c"); break; }; done; done
{
  printf '| measure |'; for c in "${used_cols[@]}"; do printf ' %s |' "$c"; done
  printf '\n|---|'; for _ in "${used_cols[@]}"; do printf -- '---|'; done; printf '\n'
  for r in "${used_rows[@]}"; do
    printf '| %s |' "$r"
    for c in "${used_cols[@]}"; do v="${cell["$r|$c"]-}"; printf ' %s |' "${v:--}"; done
    printf '\n'
  done
} | tee "$out/table.md"
say "$(( $(date +%s) - started )) s; the table and every log are in $out"
