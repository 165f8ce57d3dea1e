#!/usr/bin/env bash
# Benchmark for relkit audit (issue 11): `relkit audit tarball` vs `diffoscope` on the same
# pair (release tarball, tag export), measured in one run with hyperfine.
#  1. xz 5.8.1: the official tarball vs tag v5.8.1 of the xz bundle fixture;
#  2. CPython 3.13.5: the official tarball vs a tag made from its own contents in a scratch
#     repository (every member identical: the cost of a clean audit of ~5,000 files).
# relkit also explains what differs (generated files, exact upstream macros, modified
# macros); diffoscope only shows differences. Goal: relkit >= 10x faster.
# Usage: bench/audit.sh   (needs hyperfine, diffoscope, git, the data of .ci/deps.d/15- and 70-)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${RELKIT_BIN:-}" ]; then
  cargo build --release -q -p relkit
  relkit=$PWD/target/release/relkit
else
  relkit=$(realpath "$RELKIT_BIN")
fi
data=$PWD/target/relkit-data
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
runs=${RUNS:-3}
# Wall time is noisy on a shared machine: print CPU time (user+sys) next to it.
cpu() {
  python3 - "$1" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
for x in r:
    c = x["user"] + x["system"]
    print("  %-22s wall %.3f s  user %.3f s  sys %.3f s  cpu %.3f s" % (x["command"], x["mean"], x["user"], x["system"], c))
if len(r) == 2:
    a, b = r
    print("  %s / %s: wall %.1fx, cpu %.1fx" % (b["command"], a["command"], b["mean"] / a["mean"],
          (b["user"] + b["system"]) / (a["user"] + a["system"])))
EOF
}

echo "== xz 5.8.1: official tarball vs tag v5.8.1"
git clone -q --no-checkout crates/relkit-audit/tests/fixtures/xz.bundle "$work/xz"
git -C "$work/xz" archive --prefix=xz-5.8.1/ v5.8.1 | xz -T1 > "$work/xz-tag.tar.xz"
xz_tb=$data/xz-utils_5.8.1.orig.tar.xz
"$relkit" -q audit tarball "$xz_tb" --repo "$work/xz" --rev v5.8.1 || true
hyperfine --runs "$runs" -i --export-markdown "$work/xz.md" --export-json "$work/xz.json" \
  -n "relkit audit tarball" "$relkit -q audit tarball $xz_tb --repo $work/xz --rev v5.8.1" \
  -n "diffoscope" "diffoscope --text $work/xz-diffoscope.txt $xz_tb $work/xz-tag.tar.xz"
cat "$work/xz.md"
cpu "$work/xz.json"

py_tb=$data/python3.13_3.13.5.orig.tar.xz
if [ -f "$py_tb" ]; then
  echo "== CPython 3.13.5: official tarball vs a tag made from its contents"
  mkdir -p "$work/py"
  tar -xf "$py_tb" -C "$work/py" --strip-components 1
  git -C "$work/py" init -q
  git -C "$work/py" add -A -f
  git -C "$work/py" -c user.name=bench -c user.email=bench@invalid commit -q -m tarball
  git -C "$work/py" tag v3.13.5
  git -C "$work/py" archive --prefix=Python-3.13.5/ v3.13.5 | xz -T1 > "$work/py-tag.tar.xz"
  hyperfine --runs "$runs" -i --export-markdown "$work/py.md" --export-json "$work/py.json" \
    -n "relkit audit tarball" "$relkit -q audit tarball $py_tb --repo $work/py --rev v3.13.5" \
    -n "diffoscope" "diffoscope --text $work/py-diffoscope.txt $py_tb $work/py-tag.tar.xz"
  cat "$work/py.md"
  cpu "$work/py.json"
else
  echo "skipping CPython: $py_tb missing (run .ci/deps.d/15-upstream-data.sh)"
fi
