#!/usr/bin/env bash
# The Kubernetes manifests (deploy/kubernetes/), without a cluster:
#  - their structure, read with python3-yaml: a ReadWriteMany PVC; the scan an Indexed
#    Job (completionMode Indexed, completions = parallelism = SCANFW_SHARDS of both
#    Jobs); the scan container not privileged, no privilege escalation, every
#    capability dropped but NET_RAW and NET_ADMIN; the merge container with none; both
#    mounting the PVC at SCANFW_SHARD_DIR;
#  - the scan container's command itself, run for every JOB_COMPLETION_INDEX 0..N-1
#    with `scanfw` on PATH being `SCANFW_BINARY --dry-run`: each must be accepted by
#    scanfw, and index i must run --shard i+1/N with the manifest's seed and write
#    SCANFW_SHARD_DIR/shard-(i+1)-of-N.jsonl, so the indices cover shards 1..N once;
#    a complete shard file is left alone, a cut one continued with --resume;
#  - the merge container's command: `scanfw merge -oA DIR/result` over all N files.
# The commands run in a network namespace of their own with no interfaces (unshare -n),
# so nothing can leave the machine whatever the binary does.
# Usage: kubernetes.sh SCANFW_BINARY [MANIFEST_DIR]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
manifests=$(cd "${2:-$here/../../deploy/kubernetes}" && pwd)

python3 -c 'import yaml' 2>/dev/null || { echo "FAIL python3-yaml is missing (scripts/setup.sh installs it)"; exit 1; }
if unshare -n true 2>/dev/null; then isolate=(unshare -n)
elif unshare -rn true 2>/dev/null; then isolate=(unshare -rn)
else echo "SKIP: cannot make a network namespace (unshare -n)"; exit 77; fi

work=$(mktemp -d "${TMPDIR:-/tmp}/kubernetes.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/path"
# `scanfw` inside the containers' commands: log the arguments, then check them with
# the real binary (merge is only logged: it has nothing to check without shard files).
cat >"$work/path/scanfw" <<EOF
#!/bin/sh
printf '%s\n' "\$@" >"\$SCANFW_ARGV_LOG"
[ "\${1:-}" = merge ] && exit 0
exec "$bin" --dry-run "\$@"
EOF
chmod +x "$work/path/scanfw"

WORK=$work ISOLATE="${isolate[*]}" SCANFW_BIN="$bin" python3 - "$manifests" <<'PY'
import glob, json, os, shlex, subprocess, sys
import yaml

mdir = sys.argv[1]
work = os.environ["WORK"]
isolate = shlex.split(os.environ["ISOLATE"])
failed = False

def check(what, ok, detail=""):
    global failed
    print(("ok   " if ok else "FAIL ") + what + (f" ({detail})" if detail and not ok else ""))
    if not ok:
        failed = True
    return ok

docs = []
for f in sorted(glob.glob(os.path.join(mdir, "*.yaml"))):
    with open(f) as fh:
        docs += [(os.path.basename(f), d) for d in yaml.safe_load_all(fh) if d]
check(f"manifests read from {mdir}", len(docs) > 0)
pvcs = [d for _, d in docs if d.get("kind") == "PersistentVolumeClaim"]
jobs = [d for _, d in docs if d.get("kind") == "Job"]
indexed = [j for j in jobs if j["spec"].get("completionMode") == "Indexed"]
merges = [j for j in jobs if j["spec"].get("completionMode") != "Indexed"]
if not (check("one PersistentVolumeClaim", len(pvcs) == 1) and
        check("one Indexed Job (the scan)", len(indexed) == 1) and
        check("one other Job (the merge)", len(merges) == 1)):
    sys.exit(1)
pvc, scan, merge = pvcs[0], indexed[0], merges[0]
check("PVC is ReadWriteMany (pods on many nodes)", "ReadWriteMany" in pvc["spec"].get("accessModes", []))
check("scan Job is batch/v1", scan.get("apiVersion") == "batch/v1")

def container(job, name):
    pod = job["spec"]["template"]["spec"]
    cs = pod.get("containers", [])
    check(f"{name}: one container", len(cs) == 1)
    check(f"{name}: restartPolicy Never or OnFailure", pod.get("restartPolicy") in ("Never", "OnFailure"))
    return pod, cs[0]

def env_of(c):
    return {e["name"]: str(e["value"]) for e in c.get("env", []) if "value" in e}

def mount_checks(name, pod, c, env):
    claims = {v["name"]: v.get("persistentVolumeClaim", {}).get("claimName") for v in pod.get("volumes", [])}
    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
    d = env.get("SCANFW_SHARD_DIR")
    check(f"{name}: SCANFW_SHARD_DIR set", d is not None)
    check(f"{name}: the PVC is mounted at SCANFW_SHARD_DIR ({d})",
          d in mounts and claims.get(mounts[d]) == pvc["metadata"]["name"], f"mounts {mounts}, claims {claims}")

spod, sc = container(scan, "scan")
mpod, mc = container(merge, "merge")
senv, menv = env_of(sc), env_of(mc)
n = int(senv.get("SCANFW_SHARDS", "0"))
spec = scan["spec"]
check(f"scan: completions = parallelism = SCANFW_SHARDS ({spec.get('completions')}, {spec.get('parallelism')}, {n})",
      n >= 1 and spec.get("completions") == n and spec.get("parallelism") == n)
check(f"merge: SCANFW_SHARDS = the scan's ({menv.get('SCANFW_SHARDS')})", menv.get("SCANFW_SHARDS") == str(n))
check("scan: a seed (SCANFW_SEED)", bool(senv.get("SCANFW_SEED")))
mount_checks("scan", spod, sc, senv)
mount_checks("merge", mpod, mc, menv)
check("merge: the same shard directory", senv.get("SCANFW_SHARD_DIR") == menv.get("SCANFW_SHARD_DIR"))

for name, c, add in (("scan", sc, {"NET_RAW", "NET_ADMIN"}), ("merge", mc, set())):
    sec = c.get("securityContext", {})
    caps = sec.get("capabilities", {})
    check(f"{name}: not privileged", sec.get("privileged") is False)
    check(f"{name}: no privilege escalation", sec.get("allowPrivilegeEscalation") is False)
    check(f"{name}: every capability dropped", caps.get("drop") == ["ALL"], caps.get("drop"))
    check(f"{name}: capabilities added: {sorted(add) or 'none'}", set(caps.get("add", [])) == add, caps.get("add"))
    check(f"{name}: no host network or PID namespace",
          not any((spod if name == "scan" else mpod).get(k) for k in ("hostNetwork", "hostPID")))

# Run the containers' commands as the kubelet would, with `scanfw` = the logging shim.
shards = os.path.join(work, "shards")
os.makedirs(shards)
def run(c, env, extra):
    e = {"PATH": os.path.join(work, "path") + ":/usr/bin:/bin", **env, "SCANFW_SHARD_DIR": shards, **extra}
    log = os.path.join(work, "argv")
    if os.path.exists(log):
        os.remove(log)
    e["SCANFW_ARGV_LOG"] = log
    p = subprocess.run(isolate + c["command"] + c.get("args", []), env=e, capture_output=True, text=True, timeout=60)
    argv = open(log).read().splitlines() if os.path.exists(log) else None
    return p, argv

seed = senv.get("SCANFW_SEED")
seen = []
first_argv = None
for i in range(n):
    k = i + 1
    out = os.path.join(shards, f"shard-{k}-of-{n}.jsonl")
    p, argv = run(sc, senv, {"JOB_COMPLETION_INDEX": str(i)})
    if not check(f"index {i}: scanfw runs, and accepts the command line (--dry-run exit {p.returncode})",
                 p.returncode == 0 and argv is not None, (p.stderr or p.stdout).strip()[-400:]):
        continue
    a = " ".join(argv)
    check(f"index {i}: --shard {k}/{n} --seed {seed}", f"--shard {k}/{n} --seed {seed} " in a + " ", a)
    check(f"index {i}: -oJ {out}", argv[-2:] == ["-oJ", out], a)
    check(f"index {i}: not resumed (no shard file yet)", "--resume" not in argv, a)
    seen.append(argv[argv.index("--shard") + 1])
    if i == 0:
        first_argv = argv
check(f"the indices run shards 1..{n}, each once", sorted(seen) == sorted(f"{k}/{n}" for k in range(1, n + 1)), seen)

# A complete shard file: nothing to do. A file cut mid-line: continued with --resume.
# The record is a real one: shard 1's command line run by the real scanfw in a network
# namespace with no route anywhere (every target skipped, so it ends at once, whole).
out = os.path.join(shards, f"shard-1-of-{n}.jsonl")
real = subprocess.run(["unshare", "--net", os.environ["SCANFW_BIN"]] + (first_argv or []),
                      capture_output=True, text=True, timeout=60)
check("shard 1's command line, run for real where nothing is routed, writes its record",
      real.returncode == 0 and os.path.exists(out), real.stderr.strip()[-400:])
record = open(out).read().splitlines(keepends=True) if os.path.exists(out) else []
p, argv = run(sc, senv, {"JOB_COMPLETION_INDEX": "0"})
check("a complete shard is not scanned again", p.returncode == 0 and argv is None, p.stderr)
with open(out, "w") as f:
    f.write(record[0] if record else "")
    f.write('{"host":"198.18.0.2","port":22,"protocol":"tcp","technique":"syn","state":"open","reason":"syn-ack"}\n')
    f.write('{"host":"198.18.0.2","po')
p, argv = run(sc, senv, {"JOB_COMPLETION_INDEX": "0"})
check("a cut shard is continued with --resume", argv is not None and f"--resume {out}" in " ".join(argv), argv)
check("the cut line is dropped first", open(out).read().endswith('"reason":"syn-ack"}\n'))
check("the resumed shard's command is accepted (--dry-run)", p.returncode == 0, (p.stderr or p.stdout).strip()[-400:])

p, argv = run(mc, menv, {})
want = ["merge", "-oA", os.path.join(shards, "result")] + [os.path.join(shards, f"shard-{k}-of-{n}.jsonl") for k in range(1, n + 1)]
check("merge: scanfw merge -oA DIR/result over the N shard files", p.returncode == 0 and argv == want, argv)
check("merge: the table goes to DIR/result.txt", os.path.exists(os.path.join(shards, "result.txt")))

print("== kubernetes: " + ("FAIL" if failed else "PASS"))
sys.exit(1 if failed else 0)
PY
