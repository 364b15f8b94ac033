#!/usr/bin/env bash
# End-to-end check of scripts/slurm-sweep.sbatch on a throwaway one-node Slurm cluster on this machine:
# a sharded sweep as a job array, merged, must be byte-identical to the unsharded run; a failed array task
# must make `cpsim merge` refuse, naming the shard, and rerunning just that task must repair it.
# Also checks that deploy/k8s-indexed-job.yaml is valid YAML with the same --shard form.
#
# Run as root on Debian/Ubuntu (installs slurm-wlm and munge if missing):
#   scripts/slurm-e2e.sh                      # uses (or builds) ${CARGO_TARGET_DIR:-target}/release/cpsim
#   CPSIM=/path/to/cpsim N=4 scripts/slurm-e2e.sh
# KEEP=1 keeps the temp dir (logs, results); SLURM_E2E_PORT picks the slurmctld port (slurmd uses +1).
# Everything listens on / talks to 127.0.0.1 only; all daemons are stopped on exit, whatever happened.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
START=$(date +%s)
N="${N:-3}"
PORT="${SLURM_E2E_PORT:-6817}"
unset CPSIM_FAIL_SHARD SLURM_CONF 2>/dev/null || true

FAILURES=()
RESULTS=()
pass() { RESULTS+=("PASS  $1"); echo "--- PASS: $1"; }
fail() { RESULTS+=("FAIL  $1"); FAILURES+=("$1"); echo "--- FAIL: $1" >&2; }
log() { echo "=== $(date -u +%H:%M:%S) $*"; }
die() { fail "$1"; exit 1; }

[ "$(id -u)" = 0 ] || { echo "slurm-e2e: must run as root (installs packages, runs slurmd as root)" >&2; exit 1; }
((N >= 2)) || { echo "slurm-e2e: N must be at least 2 (the failure path fails shard 2)" >&2; exit 1; }

# ---------------------------------------------------------------- temp dir and cleanup (always)
T=$(mktemp -d /tmp/cpsim-slurm-e2e.XXXXXX)
chmod 755 "$T"
PIDS=() # daemons we started, stopped in reverse order

summary() {
    local rc=$1 secs=$(($(date +%s) - START))
    echo
    echo "================ slurm-e2e summary (${secs}s) ================"
    local r
    for r in "${RESULTS[@]+"${RESULTS[@]}"}"; do echo "$r"; done
    if ((rc == 0)) && ((${#FAILURES[@]} == 0)); then
        echo "slurm-e2e: PASS"
    elif ((rc >= 128)); then
        echo "slurm-e2e: FAIL (interrupted by signal $((rc - 128)) after ${#RESULTS[@]} check(s))"
    else
        echo "slurm-e2e: FAIL (${#FAILURES[@]} failed check(s), exit status $rc)"
    fi
}

cleanup() {
    local rc=$?
    set +e
    ((${#FAILURES[@]} > 0)) && ((rc == 0)) && rc=1
    if ((rc != 0)); then
        for f in "$T"/log/*.log "$T"/jobs/*.log; do
            [ -f "$f" ] || continue
            echo "----- tail of $f" >&2
            tail -n 25 "$f" >&2
        done
    fi
    [ -n "${BG:-}" ] && kill -TERM "$BG" 2>/dev/null && wait "$BG" 2>/dev/null
    if [ -f "$T/slurm.conf" ] && command -v scancel >/dev/null; then
        SLURM_CONF="$T/slurm.conf" timeout 10 scancel --quiet --user=root >/dev/null 2>&1
        # Let slurmstepd finish killing any job before slurmd goes.
        for _ in $(seq 20); do
            SLURM_CONF="$T/slurm.conf" timeout 5 squeue -h 2>/dev/null | grep -q . || break
            sleep 0.5
        done
    fi
    local i pid
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        pid=${PIDS[i]}
        kill -TERM "$pid" 2>/dev/null || continue
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    summary "$rc"
    if [ "${KEEP:-0}" = 1 ]; then
        echo "slurm-e2e: kept $T"
    else
        rm -rf "$T"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- 1. packages and the cpsim binary
need=()
command -v slurmctld >/dev/null || need+=(slurmctld)
command -v slurmd >/dev/null || need+=(slurmd)
command -v sbatch >/dev/null || need+=(slurm-client)
command -v munged >/dev/null || need+=(munge)
if ((${#need[@]} > 0)); then
    log "installing slurm-wlm munge (missing: ${need[*]})"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi
t_pkgs=$(($(date +%s) - START))
log "packages ready after ${t_pkgs}s: $(slurmctld -V) / $(munged --version 2>&1 | head -n1)"

BUILT="${CARGO_TARGET_DIR:-$ROOT/target}/release/cpsim"
CPSIM="${CPSIM:-$BUILT}"
if [ ! -x "$CPSIM" ]; then
    if [ "$CPSIM" = "$BUILT" ]; then
        log "building cpsim (cargo build --release)"
        cargo build --release --quiet --bin cpsim
    fi
    [ -x "$CPSIM" ] || die "cpsim binary not found at $CPSIM"
fi
CPSIM=$(cd "$(dirname "$CPSIM")" && pwd)/$(basename "$CPSIM")
log "cpsim: $CPSIM"

# ---------------------------------------------------------------- Kubernetes manifest check (no cluster needed)
if ! python3 -c 'import yaml' 2>/dev/null; then
    log "installing PyYAML for the manifest check"
    python3 -m pip install --quiet pyyaml 2>/dev/null ||
        python3 -m pip install --quiet --break-system-packages pyyaml 2>/dev/null ||
        { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-yaml >/dev/null; }
fi
if python3 - "$ROOT/deploy/k8s-indexed-job.yaml" "$ROOT/scripts/slurm-sweep.sbatch" <<'PY'; then
import re, sys, yaml
manifest, sbatch = sys.argv[1], sys.argv[2]
docs = [d for d in yaml.safe_load_all(open(manifest)) if d is not None]
assert len(docs) == 1, f"expected one YAML document, found {len(docs)}"
job = docs[0]
assert job.get("apiVersion") == "batch/v1" and job.get("kind") == "Job", "not a batch/v1 Job"
spec = job["spec"]
assert spec.get("completionMode") == "Indexed", "completionMode is not Indexed"
completions = spec["completions"]
assert isinstance(completions, int) and completions >= 1, "completions must be a positive integer"
assert spec["template"]["spec"].get("restartPolicy") in ("Never", "OnFailure"), "restartPolicy must be Never/OnFailure"
containers = spec["template"]["spec"]["containers"]
cmd = " ".join(" ".join(map(str, c.get("command", []) + c.get("args", []))) for c in containers)
form = r'--shard "\$\(\(\s*([A-Z_]+)\s*\+\s*1\s*\)\)/(\$?[A-Za-z0-9_]+)"'
m = re.search(form, cmd)
assert m, f"no --shard \"$((INDEX + 1))/N\" in the container command: {cmd}"
assert m.group(1) == "JOB_COMPLETION_INDEX", f"shard index comes from {m.group(1)}, not JOB_COMPLETION_INDEX"
assert m.group(2) == str(completions), f"--shard .../{m.group(2)} does not match completions: {completions}"
s = re.search(form, open(sbatch).read())
assert s and s.group(1) == "SLURM_ARRAY_TASK_ID" and s.group(2) == "$N", "sbatch script lost its --shard \"$((SLURM_ARRAY_TASK_ID + 1))/$N\""
print(f"k8s manifest OK: Indexed Job, {completions} completions, --shard \"$(({m.group(1)} + 1))/{m.group(2)}\"")
PY
    pass "deploy/k8s-indexed-job.yaml is valid YAML: Indexed Job, JOB_COMPLETION_INDEX, same --shard form as the sbatch script"
else
    fail "deploy/k8s-indexed-job.yaml check"
fi

# ---------------------------------------------------------------- 2. munge + one-node Slurm cluster
mkdir -p "$T"/{munge,log,state,spool,jobs}
chmod 700 "$T/munge"
head -c 1024 /dev/urandom >"$T/munge/munge.key"
chmod 400 "$T/munge/munge.key"
MUNGE_SOCKET="$T/munge/munge.socket"
log "starting munged"
munged --foreground --force --key-file="$T/munge/munge.key" --socket="$MUNGE_SOCKET" \
    --pid-file="$T/munge/munged.pid" --seed-file="$T/munge/munged.seed" --log-file="$T/log/munged.log" \
    --num-threads=2 >>"$T/log/munged.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [ -S "$MUNGE_SOCKET" ] && break; sleep 0.1; done
if munge --socket="$MUNGE_SOCKET" -n </dev/null | unmunge --socket="$MUNGE_SOCKET" >/dev/null; then
    pass "munged up (own key and socket)"
else
    die "munged did not start"
fi

MEM_MB=$(awk '/MemTotal/ { print int($2 / 1024 / 2) }' /proc/meminfo) # half of it, always <= what slurmd finds
cat >"$T/slurm.conf" <<EOF
ClusterName=cpsime2e
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$T/log/jobcomp.txt
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
MinJobAge=3600
MailProg=/bin/true
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$T/slurm.conf"

log "starting slurmctld and slurmd (port $PORT, $((PORT + 1)))"
slurmctld -D -c -f "$SLURM_CONF" >>"$T/log/slurmctld.stderr.log" 2>&1 &
PIDS+=($!)
slurmd -D -N localhost -f "$SLURM_CONF" >>"$T/log/slurmd.stderr.log" 2>&1 &
PIDS+=($!)
state=""
for _ in $(seq 60); do
    state=$(timeout 5 sinfo -h -n localhost -o '%T' 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 1
done
if [ "$state" = idle ]; then
    pass "one-node Slurm cluster up, sinfo: localhost idle"
else
    die "node not idle within 60s (sinfo: '${state:-no answer}')"
fi

# ---------------------------------------------------------------- 3. scenario and the reference run
SCEN="$T/sweep.toml"
STEM=sweep
cat >"$SCEN" <<'EOF'
[scenario]
days = 12
replications = 3
seed = 5
[creators]
count = 300
[operators]
titles = 10
[platform]
feed_supply = 300_000
[sweep]
"categories.short_drama.commission_max" = [0.6, 0.9]
"wechat.dropoff" = { from = 0.1, to = 0.5, steps = 2 }
EOF
log "reference run (no shards)"
if "$CPSIM" run "$SCEN" --out "$T/whole" --quiet && [ -d "$T/whole/$STEM" ]; then
    pass "reference run: $(find "$T/whole/$STEM" -type f | wc -l) files"
else
    die "reference run failed"
fi

# submit ARRAY OUTDIR [extra --export vars]: sbatch --wait; sets JOB to the job id, returns sbatch's status.
# sbatch runs in the background and we `wait` for it, so a signal to this script is handled at once.
JOB=""
BG=""
submit() {
    local array=$1 out=$2 extra=${3:-} rc=0
    local exports="ALL,SCENARIO=$SCEN,OUT=$out,N=$N,CPSIM=$CPSIM${extra:+,$extra}"
    timeout 180 sbatch --wait --parsable --array="$array" --time=10 --chdir="$T" \
        --output="$T/jobs/cpsim-%A_%a.log" --export="$exports" "$ROOT/scripts/slurm-sweep.sbatch" \
        >"$T/sbatch.out" 2>"$T/sbatch.err" &
    BG=$!
    wait "$BG" || rc=$?
    BG=""
    ((rc != 124)) || echo "sbatch --wait timed out after 180s" >>"$T/sbatch.err"
    JOB=$(cut -d';' -f1 "$T/sbatch.out" | head -n1)
    return "$rc"
}
# task_state JOBID TASK: "STATE EXITCODE" of one array task, from slurmctld
task_state() {
    scontrol show job -o "$1_$2" 2>/dev/null |
        sed -n 's/.*JobState=\([A-Z_]*\) .*ExitCode=\([0-9:]*\).*/\1 \2/p' | head -n1
}

# ---------------------------------------------------------------- 4. sharded sweep as a job array
log "job array 0-$((N - 1)) into $T/shared"
rc=0
submit "0-$((N - 1))" "$T/shared" || rc=$?
job=$JOB
if ((rc == 0)); then
    pass "sbatch --wait --array=0-$((N - 1)) (job $job) exited 0"
else
    fail "sbatch --wait --array=0-$((N - 1)) exited $rc ($(cat "$T/sbatch.err"))"
fi
all_done=1
for ((i = 0; i < N; i++)); do
    st=$(task_state "$job" "$i")
    [ "$st" = "COMPLETED 0:0" ] || { all_done=0; echo "task $i: ${st:-unknown}" >&2; }
done
((all_done)) && pass "all $N array tasks COMPLETED 0:0 (scontrol)" || fail "not all array tasks COMPLETED"
if "$CPSIM" merge "$T/shared/$STEM.shards" --quiet && diff -r "$T/whole/$STEM" "$T/shared/$STEM" >"$T/diff1.txt"; then
    pass "cpsim merge of $N Slurm shards is identical to the reference (diff -r)"
else
    head -n 20 "$T/diff1.txt" >&2 2>/dev/null || true
    fail "merge of the Slurm shards differs from the reference or failed"
fi

# ---------------------------------------------------------------- 5. failure path and rerun of one task
log "job array 0-$((N - 1)) into $T/shared2 with CPSIM_FAIL_SHARD=2"
rc=0
submit "0-$((N - 1))" "$T/shared2" "CPSIM_FAIL_SHARD=2" || rc=$?
job2=$JOB
if ((rc != 0)); then
    pass "sbatch --wait exits non-zero ($rc) when a task fails (job $job2)"
else
    fail "sbatch --wait exited 0 although shard 2 was made to fail"
fi
st=$(task_state "$job2" 1)
if [[ "$st" == "FAILED 2:0" ]]; then
    pass "array task 1 (shard 2) is FAILED with exit code 2 (scontrol: $st)"
else
    fail "array task 1 (shard 2) state is '${st:-unknown}', expected 'FAILED 2:0'"
fi
others_ok=1
for ((i = 0; i < N; i++)); do
    ((i == 1)) && continue
    [ "$(task_state "$job2" "$i")" = "COMPLETED 0:0" ] || others_ok=0
done
((others_ok)) && pass "the other $((N - 1)) tasks COMPLETED" || fail "some other task did not complete"
# Slurm's own record: sacct reads the job completion log (jobcomp/filetxt, no slurmdbd needed). In that
# mode it knows array tasks only by their raw job id, which scontrol gives us.
raw=$(scontrol show job -o "${job2}_1" 2>/dev/null | sed -n 's/^JobId=\([0-9]*\) .*/\1/p')
if [ -n "$raw" ] && sacct -c -n -P -j "$raw" -o JobID,State,ExitCode >"$T/sacct.txt" 2>"$T/sacct.err" && [ -s "$T/sacct.txt" ]; then
    if grep -qx "${raw}|FAILED|2:0" "$T/sacct.txt" &&
        grep -E "^JobId=${raw} .*JobState=FAILED .*ArrayJobId=${job2} ArrayTaskId=1 .*ExitCode=2:0" "$T/log/jobcomp.txt" >/dev/null; then
        pass "sacct -c: task ${job2}_1 (raw job $raw) FAILED with exit code 2:0"
    else
        fail "sacct -c does not record ${job2}_1 (raw job $raw) as FAILED 2:0: $(tr '\n' ' ' <"$T/sacct.txt")"
    fi
else
    echo "note: sacct -c unavailable ($(head -c 200 "$T/sacct.err" 2>/dev/null)); relying on scontrol and sbatch's exit status"
fi
if grep -q "shard 2/$N failed on purpose" "$T"/jobs/cpsim-"$job2"_1.log 2>/dev/null; then
    pass "task log says shard 2/$N failed on purpose"
else
    fail "task log of shard 2 lacks the failure message"
fi
[ ! -e "$T/shared2/$STEM.shards/shard-2-of-$N" ] && pass "no shard-2-of-$N folder after the failure" ||
    fail "shard-2-of-$N folder exists after the failure"
rc=0
"$CPSIM" merge "$T/shared2/$STEM.shards" --quiet >"$T/merge2.out" 2>&1 || rc=$?
if ((rc != 0)) && grep -q "missing shard(s) 2/$N (shard-2-of-$N)" "$T/merge2.out" && [ ! -e "$T/shared2/$STEM" ]; then
    pass "cpsim merge refuses (exit $rc): $(head -n1 "$T/merge2.out")"
else
    fail "cpsim merge did not refuse naming shard 2 (exit $rc: $(head -c 300 "$T/merge2.out"))"
fi

log "rerun of array task 1 only, without CPSIM_FAIL_SHARD"
rc=0
submit 1 "$T/shared2" || rc=$?
job3=$JOB
st=$(task_state "$job3" 1)
if ((rc == 0)) && [ "$st" = "COMPLETED 0:0" ]; then
    pass "sbatch --wait --array=1 (job $job3) reran shard 2: COMPLETED"
else
    fail "rerun of task 1 failed (sbatch $rc, state '${st:-unknown}')"
fi
if "$CPSIM" merge "$T/shared2/$STEM.shards" --quiet && diff -r "$T/whole/$STEM" "$T/shared2/$STEM" >"$T/diff2.txt"; then
    pass "after the rerun, cpsim merge is identical to the reference (diff -r)"
else
    head -n 20 "$T/diff2.txt" >&2 2>/dev/null || true
    fail "merge after the rerun differs from the reference or failed"
fi

((${#FAILURES[@]} == 0)) || exit 1
