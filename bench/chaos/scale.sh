#!/usr/bin/env bash
# bench/chaos/scale.sh NUMASOAK SYNTH TEMPLATE_RESULT_JSON [RUNS_PER_KERNEL=5000] [REPEAT=3]
#
# Synthesises a campaign database of 2 x RUNS_PER_KERNEL finished runs through
# the store's API (numasoak-chaos-synth), then times `numasoak report DIR` and
# a resume (`numasoak compare FILE` on the finished campaign) REPEAT times each
# and prints every time (wall, user, sys) and the medians. TEMPLATE is a real
# run's result.json (any runs/<id>/result.json of a quiet campaign).
set -euo pipefail
numasoak=$1 synth=$2 template=$3 per=${4:-5000} repeat=${5:-3}
work=$(mktemp -d /tmp/numasoak-scale.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat > "$work/c.toml" <<TOML
name = "synth"
kernels = ["6.1", "6.1+backport"]
runs_per_kernel = $per
duration = "1s"
accel = "tcg"
stop = "fixed"
output = "$work/out"
[topology]
nodes = 2
cpus_per_node = 1
memory = "512M"
[workload]
profile = "quiet"
TOML
"$synth" "$work/out" "$per" "$template"
for i in $(seq "$repeat"); do
  /usr/bin/time -f "report %e %U %S" -a -o "$work/times" "$numasoak" report "$work/out" >/dev/null 2>&1 || true
  /usr/bin/time -f "resume %e %U %S" -a -o "$work/times" "$numasoak" compare "$work/c.toml" >/dev/null 2>&1 || true
done
echo "database: $(du -b "$work/out/numasoak.db" | cut -f1) bytes for $((2 * per)) runs; load $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$work/times" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.startswith(("report", "resume"))]
for what in ("report", "resume"):
    w = [float(r[1]) for r in rows if r[0] == what]
    cpu = [float(r[2]) + float(r[3]) for r in rows if r[0] == what]
    print(f"{what}: wall {' '.join(f'{x:.2f}' for x in w)} s, median {statistics.median(w):.2f} s; "
          f"CPU (user+sys) median {statistics.median(cpu):.2f} s")
PY
