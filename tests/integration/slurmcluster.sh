# shellcheck shell=bash
# slurmcluster.sh -- a private one-node Slurm cluster for tests. Source it, don't run it.
#
#   source tests/lib/netlab.sh                   # for netlab_on_exit
#   source tests/integration/slurmcluster.sh
#   dir=$(mktemp -d) && chmod 755 "$dir"          # munged wants a searchable path
#   slurm_cluster_up "$dir"                       # also registers slurm_cluster_down on exit
#   export SLURM_CONF=$dir/slurm.conf            # sbatch, squeue, scontrol use it
#
# Everything lives in DIR: a munge key and munged with its own socket (the machine's
# /etc/munge and /run/munge are not used), slurm.conf, the state, spool, pid and log
# files of slurmctld and slurmd, listening on two free ports of 127.0.0.1. So two
# clusters can run side by side, and nothing outside DIR is touched. No cgroups, no
# accounting: proctrack/linuxproc, task/none (what works on Debian 12 without
# systemd; see /work/shared/reference/slurm-one-node.md). The daemons run as root, so
# job steps run as the submitting user (root in the tests: they may use network
# namespaces).
#
# slurm_cluster_down DIR cancels every job, stops slurmd, slurmctld and munged, and
# kills any process still working in DIR (job steps, slurmstepd); it is safe to call
# twice or on a half-started cluster.

SLURM_CLUSTER_CPUS=${SLURM_CLUSTER_CPUS:-4}  # job slots on the node (config_overrides)

_slurm_log() { printf 'slurmcluster: %s\n' "$*" >&2; }

# Two free TCP ports on 127.0.0.1, one a line.
_slurm_free_ports() {
    python3 - <<'PY'
import socket
socks = []
for _ in range(2):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
PY
}

# Waits until PIDFILE names a live process (DAEMON's log on failure).
_slurm_wait_pidfile() { # PIDFILE LOG WHAT
    local i
    for ((i = 0; i < 100; i++)); do
        if [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    _slurm_log "$3 did not start; its log:"
    tail -n 30 "$2" >&2 2>/dev/null || true
    return 1
}

# Stops the process in PIDFILE: TERM, up to 10 s, then KILL.
_slurm_stop_pidfile() { # PIDFILE
    local pid i
    [ -s "$1" ] || return 0
    pid=$(cat "$1")
    kill "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
}

# Pids of processes (other than this shell) whose working directory or open files
# are under DIR: job steps and slurmstepd of this cluster, nothing else.
slurm_cluster_pids() { # DIR
    local dir=$1
    {
        find /proc/[0-9]*/cwd -maxdepth 0 \( -lname "$dir" -o -lname "$dir/*" -o -lname "$dir (deleted)" \) 2>/dev/null
        find /proc/[0-9]*/fd -mindepth 1 -maxdepth 1 \( -lname "$dir" -o -lname "$dir/*" -o -lname "$dir (deleted)" \) 2>/dev/null
    } | cut -d/ -f3 | sort -un | grep -vx -e "$$" -e "$BASHPID" || true
}

# slurm_cluster_up DIR: generate the configuration, start munged, slurmctld, slurmd,
# wait until the node is idle. Registers slurm_cluster_down DIR on exit first.
slurm_cluster_up() {
    local dir=${1:?usage: slurm_cluster_up DIR}
    local host ports ctld_port slurmd_port i state
    netlab_on_exit "slurm_cluster_down $(printf '%q' "$dir")"
    local cmd
    for cmd in munged mungekey slurmctld slurmd sbatch scontrol sinfo; do
        command -v "$cmd" >/dev/null || {
            _slurm_log "$cmd not found: install slurm-wlm and munge (scripts/setup.sh)"
            return 1
        }
    done
    host=$(hostname -s)
    mkdir -p "$dir"/{munge,state,spool,log,run,tmp} || return 1
    chmod 755 "$dir" "$dir/munge" || return 1

    # munge: a key of our own and a daemon on our own socket.
    mungekey -c -k "$dir/munge/munge.key" || return 1
    munged --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
        --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" \
        --seed-file="$dir/munge/munged.seed" || {
        _slurm_log "munged failed:"
        tail -n 5 "$dir/munge/munged.log" >&2
        return 1
    }
    _slurm_wait_pidfile "$dir/munge/munged.pid" "$dir/munge/munged.log" munged || return 1
    munge -S "$dir/munge/munge.socket" -n | unmunge -S "$dir/munge/munge.socket" >/dev/null || {
        _slurm_log "munge -n | unmunge failed"
        return 1
    }

    ports=$(_slurm_free_ports) || return 1
    ctld_port=$(sed -n 1p <<<"$ports") slurmd_port=$(sed -n 2p <<<"$ports")
    cat >"$dir/slurm.conf" <<EOF
# A one-node test cluster (tests/integration/slurmcluster.sh); all state in $dir.
ClusterName=sfw$$
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
TmpFS=$dir/tmp
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
MinJobAge=3600
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$SLURM_CLUSTER_CPUS State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

    slurmctld -f "$dir/slurm.conf" -i || { _slurm_log "slurmctld failed to start"; tail -n 30 "$dir/log/slurmctld.log" >&2 2>/dev/null; return 1; }
    _slurm_wait_pidfile "$dir/run/slurmctld.pid" "$dir/log/slurmctld.log" slurmctld || return 1
    slurmd -f "$dir/slurm.conf" -N "$host" || { _slurm_log "slurmd failed to start"; tail -n 30 "$dir/log/slurmd.log" >&2 2>/dev/null; return 1; }
    _slurm_wait_pidfile "$dir/run/slurmd.pid" "$dir/log/slurmd.log" slurmd || return 1

    for ((i = 0; i < 300; i++)); do
        state=$(SLURM_CONF=$dir/slurm.conf sinfo -h -N -n "$host" -o %T 2>/dev/null || true)
        [ "$state" = idle ] && return 0
        sleep 0.1
    done
    _slurm_log "node $host not idle after 30 s (state '${state}'); slurmctld and slurmd logs:"
    tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2
    return 1
}

# slurm_cluster_down DIR: cancel the jobs, stop the daemons, kill what is left in DIR.
slurm_cluster_down() {
    local dir=${1:?usage: slurm_cluster_down DIR} pids i
    if [ -s "$dir/run/slurmctld.pid" ] && kill -0 "$(cat "$dir/run/slurmctld.pid")" 2>/dev/null; then
        SLURM_CONF=$dir/slurm.conf timeout 10 scancel --full --quiet -u root 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            [ -z "$(SLURM_CONF=$dir/slurm.conf timeout 5 squeue -h -t RUNNING,COMPLETING -o %i 2>/dev/null)" ] && break
            sleep 0.1
        done
    fi
    _slurm_stop_pidfile "$dir/run/slurmd.pid"
    _slurm_stop_pidfile "$dir/run/slurmctld.pid"
    # Job steps (and their slurmstepd) that outlived the daemons.
    pids=$(slurm_cluster_pids "$dir")
    if [ -n "$pids" ]; then
        # shellcheck disable=SC2086
        kill $pids 2>/dev/null || true
        for ((i = 0; i < 30; i++)); do
            pids=$(slurm_cluster_pids "$dir")
            [ -z "$pids" ] && break
            sleep 0.1
        done
        # shellcheck disable=SC2086
        [ -n "$pids" ] && kill -9 $pids 2>/dev/null
    fi
    if [ -S "$dir/munge/munge.socket" ]; then
        munged -s --socket="$dir/munge/munge.socket" >/dev/null 2>&1 || true
    fi
    _slurm_stop_pidfile "$dir/munge/munged.pid"
    return 0
}

# slurm_job_state JOBID: the states of a job (one line per array task).
slurm_job_state() {
    scontrol -o show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2
}

# slurm_wait_job JOBID SECONDS: wait until every task of JOBID has ended; returns 0 if
# all COMPLETED, 1 otherwise (also when a dependency can never be satisfied).
slurm_wait_job() {
    local id=$1 limit=$2 start states
    start=$SECONDS
    while ((SECONDS - start < limit)); do
        states=$(slurm_job_state "$id")
        if scontrol -o show job "$id" 2>/dev/null | grep -q 'Reason=DependencyNeverSatisfied'; then
            _slurm_log "job $id: dependency never satisfied"
            return 1
        fi
        if [ -n "$states" ] && ! grep -Eqv '^(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED)$' <<<"$states"; then
            ! grep -qv '^COMPLETED$' <<<"$states"
            return
        fi
        sleep 0.5
    done
    _slurm_log "job $id not finished after $limit s: $(tr '\n' ' ' <<<"$states")"
    return 1
}
