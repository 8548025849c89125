#!/usr/bin/env bash
# A one-node Slurm cluster on localhost, for tests (CI) and for trying the array script on one
# machine. Debian 12's Slurm 22.05 as root: proctrack/linuxproc and task/none (no cgroup.conf,
# so no cgroup set-up is needed), munge with the packaged key, state under $SLURM_TEST_DIR.
#
#   bash cluster/slurm/local_cluster.sh start   # prints: export SLURM_CONF=...
#   bash cluster/slurm/local_cluster.sh stop
# Needs: apt-get install slurm-wlm munge (root).
set -euo pipefail
state=${SLURM_TEST_DIR:-/tmp/parlab-slurm}
conf=$state/slurm.conf
cmd=${1:-start}

stop() {
  for pidfile in "$state/slurmd.pid" "$state/slurmctld.pid" "$state/munged.pid"; do
    [ -s "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  # munged writes its own pid file where Debian puts it; stop only the one we started.
  [ -s "$state/munged.started" ] && kill "$(cat "$state/munged.started")" 2>/dev/null || true
  rm -f "$state/munged.started"
}

if [ "$cmd" = stop ]; then stop; exit 0; fi
[ "$cmd" = start ] || { echo "usage: $0 start|stop" >&2; exit 2; }
for b in slurmctld slurmd sbatch munged; do
  command -v "$b" >/dev/null || [ -x "/usr/sbin/$b" ] ||
    { echo "$b not found: apt-get install slurm-wlm munge" >&2; exit 1; }
done
stop
mkdir -p "$state/spool" "$state/ctld" "$state/log"
host=$(hostname -s)
cpus=$(nproc)
mem=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512))
cat >"$conf" <<CONF
ClusterName=parlab-local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE
CONF

# munge: the packaged key (generated at install); make one if absent.
if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
fi
chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
mkdir -p /run/munge /var/lib/munge /var/log/munge && chown munge:munge /run/munge /var/lib/munge /var/log/munge
if ! pgrep -x munged >/dev/null; then
  runuser -u munge -- /usr/sbin/munged
  pgrep -x munged >"$state/munged.started"
fi

export SLURM_CONF=$conf
/usr/sbin/slurmctld -f "$conf"
/usr/sbin/slurmd -f "$conf"
for _ in $(seq 60); do
  if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
    echo "export SLURM_CONF=$conf"
    exit 0
  fi
  sleep 1
done
echo "the local Slurm node did not come up; logs in $state/log:" >&2
tail -5 "$state/log/"*.log >&2 || true
exit 1
