#!/usr/bin/env bash
# Starts a one-node SLURM cluster on this machine for the SLURM executor's test (no systemd:
# munged, slurmctld and slurmd are started by hand). Prints the `export` lines the tests need:
#   eval "$(.ci/slurm-up.sh)"   ...   .ci/slurm-down.sh
# State, logs and the config live in $TSCPIPE_SLURM_DIR (default /tmp/tscpipe-slurm); the daemons
# listen on $TSCPIPE_SLURM_PORT and the next port (default 6817, 6818: SLURM's own), so that a
# second cluster on the same machine needs only another directory and port.
#
# Memory is enforced as production clusters do, by a memory cgroup per job (task/cgroup with
# ConstrainRAMSpace): a job over its --mem is killed by the kernel and ends OUT_OF_MEMORY. Where
# no cgroup v1 memory controller can be written (a container without one), slurmstepd polls
# the jobs' memory instead (JobAcctGatherParams=OverMemoryKill) and kills them with "Exceeded job
# memory limit" in their output. Which one is in force is printed on stderr.
set -euo pipefail
dir="${TSCPIPE_SLURM_DIR:-/tmp/tscpipe-slurm}"
port="${TSCPIPE_SLURM_PORT:-6817}"
export SLURM_CONF="$dir/slurm.conf"

# Already up (a second call): just print the settings again, leaving its config as it is.
if [ -s "$dir/slurmctld.pid" ] && kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null && sinfo -h >/dev/null 2>&1; then
  echo "export SLURM_CONF=$SLURM_CONF"
  echo "export TSCPIPE_TEST_SLURM=1"
  exit 0
fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurmctld slurmd slurm-client munge; } >&2
fi

mkdir -p "$dir/ctld" "$dir/spool" /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge
chmod 0755 /run/munge
if [ ! -s /etc/munge/munge.key ]; then
  mkdir -p /etc/munge
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
fi
if ! pgrep -u munge -x munged >/dev/null; then
  runuser -u munge -- /usr/sbin/munged
fi

host="$(hostname -s)"
cpus="$(nproc)"
mem_mb="$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.8 }' /proc/meminfo)"
probe="/sys/fs/cgroup/memory/tscpipe-probe-$$"
if [ -d /sys/fs/cgroup/memory ] && mkdir "$probe" 2>/dev/null; then
  rmdir "$probe"
  memory="cgroup"
  proctrack="proctrack/cgroup"
  task="task/cgroup"
  gather="JobAcctGatherType=jobacct_gather/none"
  cat > "$dir/cgroup.conf" <<CG
CgroupPlugin=cgroup/v1
CgroupMountpoint=/sys/fs/cgroup
ConstrainRAMSpace=yes
ConstrainSwapSpace=no
CG
else
  memory="poll"
  proctrack="proctrack/linuxproc"
  task="task/none"
  gather="JobAcctGatherType=jobacct_gather/linux
JobAcctGatherParams=OverMemoryKill
JobAcctGatherFrequency=1"
  rm -f "$dir/cgroup.conf"
fi
echo "slurm-up: memory limits enforced by $memory" >&2
first_job="${TSCPIPE_SLURM_FIRST_JOB_ID:-1}"
# One key per line outside the NodeName/PartitionName lines. KillWait: a job past its time
# limit gets SIGTERM, then SIGKILL 5 s later (30 s by default).
cat > "$dir/slurm.conf" <<CONF
ClusterName=tscpipe-ci
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
FirstJobId=$first_job
KillWait=5
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/ctld
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=$proctrack
TaskPlugin=$task
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
SchedulerParameters=batch_sched_delay=0
MpiDefault=none
ReturnToService=2
$gather
AccountingStorageType=accounting_storage/none
SwitchType=switch/none
NodeName=$host CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -c >&2
slurmd -N "$host" >&2
for _ in $(seq 1 60); do
  if sinfo -h -o '%T' 2>/dev/null | grep -qx 'idle'; then
    echo "export SLURM_CONF=$SLURM_CONF"
    echo "export TSCPIPE_TEST_SLURM=1"
    exit 0
  fi
  sleep 0.5
done
echo "slurm did not come up; logs in $dir" >&2
tail -n 20 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
exit 1
