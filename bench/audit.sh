#!/usr/bin/env bash
# Benchmark for relkit audit (issues 11 and 17): `relkit audit tarball` vs `diffoscope` on the
# same two inputs — the release tarball and the tag it claims to come from — in one hyperfine
# run:
#  1. xz 5.8.1: the official tarball vs tag v5.8.1 of the xz bundle fixture;
#  2. CPython 3.13.5: the official tarball vs a tag made from its own contents in a scratch
#     repository (every member identical: the cost of a clean audit of ~5,000 files).
# relkit reads the tag from the git repository; diffoscope cannot, so it gets the tag as
# `git archive` writes it, compressed like the release tarball (.tar.xz): diffoscope only
# descends into two containers of the same type (a .tar.xz against a .tar is reported as
# "file types differ" in 285 bytes, which the check below refuses). relkit
# reads every text member for lines that run data through a shell (issue 17) and explains
# each file (generated, exact upstream macros, modified macros); diffoscope only shows
# differences. Each tool runs once first with its exit code checked (relkit 0: nothing
# critical; diffoscope 1: differences found, not 2: an error) and its output size reported.
# Goal: relkit >= 10x faster. The automatic regeneration is off (--no-regenerate): its cost is
# the project's autoreconf, not the audit's.
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
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
# Wall time is noisy on a shared machine: print CPU time (user+sys) next to it.
cpu() {
  python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
for x in r:
    c = x["user"] + x["system"]
    print("  %-22s wall %.3f s  user %.3f s  sys %.3f s  cpu %.3f s" % (x["command"], x["mean"], x["user"], x["system"], c))
if len(r) == 2:
    a, b = r
    print("  %s / %s: wall %.1fx, cpu %.1fx" % (b["command"], a["command"], b["mean"] / a["mean"],
          (b["user"] + b["system"]) / (a["user"] + a["system"])))
PY
}
# once NAME WANT_RC OUT CMD...: runs CMD once, its stdout to OUT, and checks its exit code.
once() {
  local name=$1 want=$2 out=$3 rc=0
  shift 3
  "$@" >"$out" 2>"$out.err" || rc=$?
  if [ "$rc" != "$want" ]; then
    echo "$name exited $rc, expected $want:" >&2
    tail -5 "$out.err" >&2
    exit 1
  fi
  echo "  $name: exit $rc, output $(wc -c <"$out") bytes ($(wc -l <"$out") lines)"
}
# pair LABEL TARBALL REPO REV: one tarball/tag pair, both tools, then hyperfine.
pair() {
  local label=$1 tb=$2 repo=$3 rev=$4
  local tag=$work/$label-tag.tar.xz
  local top
  top=$(tar -tf "$tb" | awk -F/ 'NR == 1 { print $1 }')
  git -C "$repo" archive --format=tar --prefix="$top/" "$rev" | xz -T1 >"$tag"
  local r="$relkit -q audit tarball $tb --repo $repo --rev $rev --no-regenerate"
  local d="diffoscope --text $work/$label-diffoscope.txt $tb $tag"
  once "relkit audit tarball (text)" 0 "$work/$label-relkit.txt" ${r/ -q / } --format text
  once "relkit audit tarball (json)" 0 "$work/$label-relkit.json" $r --format json
  once "diffoscope" 1 "$work/$label-diffoscope.out" $d
  echo "  diffoscope --text report: $(wc -c <"$work/$label-diffoscope.txt") bytes ($(wc -l <"$work/$label-diffoscope.txt") lines)"
  grep -q 'file list' "$work/$label-diffoscope.txt" || {
    echo "diffoscope did not compare the members (no file list in its report)" >&2
    exit 1
  }
  grep -E '^(summary|severity|lines that run)' "$work/$label-relkit.txt" | sed 's/^/  relkit /'
  # Exit codes are checked on every timed run, not ignored: diffoscope exits 1 when it finds
  # differences, so its command runs through a shell that turns exactly 1 into success and any
  # other code (a crash, 2 for an error) into a failure hyperfine stops on; relkit must exit 0.
  # The outputs themselves were checked above on the untimed run.
  hyperfine --runs "$runs" --export-markdown "$work/$label.md" --export-json "$work/$label.json" \
    -n "relkit audit tarball" "$r" -n "diffoscope" "sh -c '$d >/dev/null; test \$? -eq 1'"
  cat "$work/$label.md"
  cpu "$work/$label.json"
}

echo "== xz 5.8.1: official tarball vs tag v5.8.1"
git clone -q --no-checkout crates/relkit-audit/tests/fixtures/xz.bundle "$work/xz"
pair xz "$data/xz-utils_5.8.1.orig.tar.xz" "$work/xz" v5.8.1

py_tb=$data/python3.13_3.13.5.orig.tar.xz
if [ -f "$py_tb" ]; then
  echo "== CPython 3.13.5: official tarball vs a tag made from its contents"
  mkdir -p "$work/py"
  tar -xf "$py_tb" -C "$work/py" --strip-components 1
  git -C "$work/py" init -q
  git -C "$work/py" add -A -f
  git -C "$work/py" -c user.name=bench -c user.email=bench@invalid commit -q -m tarball
  git -C "$work/py" tag v3.13.5
  pair py "$py_tb" "$work/py" v3.13.5
else
  echo "skipping CPython: $py_tb missing (run .ci/deps.d/15-upstream-data.sh)"
fi
