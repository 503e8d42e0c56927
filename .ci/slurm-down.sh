#!/usr/bin/env bash
# Stops the daemons .ci/slurm-up.sh started (by their pid files).
set -uo pipefail
dir="${TSCPIPE_SLURM_DIR:-/tmp/tscpipe-slurm}"
for d in slurmd slurmctld; do
  if [ -s "$dir/$d.pid" ]; then
    kill "$(cat "$dir/$d.pid")" 2>/dev/null || true
  fi
done
for _ in $(seq 1 20); do
  if ! { [ -s "$dir/slurmd.pid" ] && kill -0 "$(cat "$dir/slurmd.pid")" 2>/dev/null; } &&
     ! { [ -s "$dir/slurmctld.pid" ] && kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null; }; then
    break
  fi
  sleep 0.25
done
rm -rf "$dir"
