#!/usr/bin/env bash
# Old binary vs new binary on the same inputs, in one run: the structure refactor (issue #20)
# must keep every deterministic output byte-identical and must not make anything slower.
# For each journey, both binaries run once untimed (exit codes checked, outputs compared with
# cmp), then hyperfine times them side by side.
#  1. sbom generate on CPython 3.13.5's Debian orig tarball (SPDX + CycloneDX);
#  2. sbom check of that SPDX document (JSON report);
#  3. sbom verify of CPython's Misc/sbom.spdx.json against the tarball (JSON report);
#  4. scan of that SBOM against the bundled sample DB (JSON report);
#  5. audit tarball of xz 5.8.1 against its v5.8.1 tag (JSON report);
#  6. release run of tinycalc (the release bench's project): the artifacts' SHA-256.
# Usage: bench/old-vs-new.sh OLD_RELKIT NEW_RELKIT    Needs: hyperfine, git, xz, cc, make.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# = 2 ] || { echo "usage: $0 OLD_RELKIT NEW_RELKIT" >&2; exit 2; }
old=$(realpath "$1") new=$(realpath "$2")
runs=${RUNS:-5}
data=$PWD/target/relkit-data
shared=$(realpath ../shared/data)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
export SOURCE_DATE_EPOCH=1749600000

# same NAME WANT_RC ARGS...: runs both binaries once with ARGS (stdout to a file each; an
# `@OUT@` in ARGS becomes a per-binary output path), checks the exit codes and that every
# output is byte-identical.
same() {
  local name=$1 want=$2
  shift 2
  local side bin rc
  for side in old new; do
    bin=${!side}
    mkdir -p "$work/$side"
    rc=0
    "$bin" "${@//@OUT@/$work/$side/out}" >"$work/$side/stdout" 2>"$work/$side/stderr" || rc=$?
    if [ "$rc" != "$want" ]; then
      echo "$name: $side exited $rc, expected $want" >&2
      tail -5 "$work/$side/stderr" >&2
      exit 1
    fi
  done
  for f in "$work"/old/*; do
    local g=$work/new/${f##*/}
    case ${f##*/} in stderr) continue ;; esac
    cmp "$f" "$g" || { echo "$name: ${f##*/} differs between old and new" >&2; exit 1; }
  done
  echo "  $name: exit $want on both, $(ls "$work/old" | grep -vc stderr) output(s) byte-identical ($(wc -c <"$work/old/stdout") bytes on stdout)"
  rm -rf "$work/old" "$work/new"
}
# time NAME CMD (with @BIN@ for the binary): hyperfine, old then new; exit codes checked on
# every run through `sh -c '...; test $? -eq WANT'` when WANT is not 0.
time_pair() {
  local name=$1 want=$2 cmd=$3
  local o=${cmd//@BIN@/$old} n=${cmd//@BIN@/$new}
  if [ "$want" != 0 ]; then
    o="$o; test \$? -eq $want"
    n="$n; test \$? -eq $want"
  fi
  hyperfine -N --warmup 1 --runs "$runs" --export-json "$work/$name.json" \
    -n "old $name" "sh -c '$o'" -n "new $name" "sh -c '$n'" >/dev/null
  python3 - "$work/$name.json" <<'PY'
import json, sys
a, b = json.load(open(sys.argv[1]))["results"]
print("  %-34s old %.3f s ± %.3f   new %.3f s ± %.3f   new/old %.2fx" % (
    b["command"][4:], a["mean"], a["stddev"] or 0, b["mean"], b["stddev"] or 0, b["mean"] / a["mean"]))
PY
}

tarball=$data/python3.13_3.13.5.orig.tar.xz
[ -f "$tarball" ] || { echo "missing $tarball: run .ci/deps.d/15-upstream-data.sh" >&2; exit 2; }
cpy=$shared/cpython/v3.13.5

echo "== 1-3: CPython 3.13.5 (sbom generate, check, verify)"
same "sbom generate (.tar.xz)" 0 -q sbom generate "$tarball" -o spdx-json=@OUT@.spdx.json -o cyclonedx-json=@OUT@.cdx.json
"$new" -q sbom generate "$tarball" -o "spdx-json=$work/cpython.spdx.json" 2>/dev/null
same "sbom check" 0 -q sbom check "$work/cpython.spdx.json" --format json
same "sbom verify --against tarball" 1 -q sbom verify "$cpy/sbom.spdx.json" --against "$tarball" --format json
time_pair "sbom generate (.tar.xz)" 0 "@BIN@ -q sbom generate $tarball -o spdx-json=$work/t.json"
time_pair "sbom check" 0 "@BIN@ -q sbom check $work/cpython.spdx.json --format json >/dev/null"
time_pair "sbom verify" 1 "@BIN@ -q sbom verify $cpy/sbom.spdx.json --against $tarball --format json >/dev/null"

echo "== 4: scan of the CPython tarball's SBOM (bundled sample DB)"
sample=$("$new" scan "$work/cpython.spdx.json" --format json 2>&1 >/dev/null | sed -n 's/^.*using the bundled sample DB \([^ ]*\) .*$/\1/p' | head -1)
[ -f "$sample" ] || sample=$(ls -t "${XDG_CACHE_HOME:-$HOME/.cache}"/relkit/sample-*.sqlite 2>/dev/null | head -1)
[ -f "$sample" ] || { echo "cannot find the sample DB" >&2; exit 1; }
rc=0; "$old" -q scan "$work/cpython.spdx.json" --db "$sample" --format json >/dev/null || rc=$?
same "scan --format json" "$rc" -q scan "$work/cpython.spdx.json" --db "$sample" --format json
time_pair "scan" "$rc" "@BIN@ -q scan $work/cpython.spdx.json --db $sample --format json >/dev/null"

echo "== 5: audit tarball (xz 5.8.1 vs v5.8.1)"
git -c init.defaultBranch=main clone -q --bare "$shared/git/xz.bundle" "$work/xz.git" 2>/dev/null
same "audit tarball --format json" 0 -q audit tarball "$data/xz-utils_5.8.1.orig.tar.xz" --repo "$work/xz.git" --rev v5.8.1 --no-regenerate --format json
time_pair "audit tarball" 0 "@BIN@ -q audit tarball $data/xz-utils_5.8.1.orig.tar.xz --repo $work/xz.git --rev v5.8.1 --no-regenerate --format json >/dev/null"

echo "== 6: release run (tinycalc)"
repo=$work/tinycalc
cp -r crates/relkit/tests/fixtures/release/tinycalc "$repo"
(
  cd "$repo"
  export GIT_CONFIG_GLOBAL=/dev/null GIT_AUTHOR_NAME=rm GIT_AUTHOR_EMAIL=rm@example.org \
    GIT_COMMITTER_NAME=rm GIT_COMMITTER_EMAIL=rm@example.org \
    GIT_AUTHOR_DATE=2025-06-11T12:00:00Z GIT_COMMITTER_DATE=2025-06-11T12:00:00Z
  git init -q -b main && git add -A && git commit -q -m 1.0.0 && git tag -a v1.0.0 -m 1.0.0
)
"$new" -q key generate --kind ed25519 -o "$work/release"
release() { # BIN SIDE
  rm -rf "$repo/.relkit" "$repo/dist" "$work/pub-$2"
  cat > "$work/plan.toml" <<PLAN
[project]
name = "tinycalc"
[source]
formats = ["tar.gz", "tar.xz"]
[[test]]
name = "check"
command = "./configure && make && make check"
[scan]
db = "sample"
fail-on = "none"
[sign]
key = "$work/release.key"
[publish]
dir = "$work/pub-$2/{name}/{version}"
PLAN
  "$1" -q release run --repo "$repo" --rev v1.0.0 --config "$work/plan.toml"
}
release "$old" old
release "$new" new
# Every published file is compared; the archives and SBOMs must be identical (the
# signatures over them too when the key signs deterministically); the provenance and the
# step reports carry the run's own times, and SHA256SUMS lists them: those are only listed.
for side in old new; do
  (cd "$work/pub-$side/tinycalc/1.0.0" && find . -type f | LC_ALL=C sort | xargs sha256sum) >"$work/$side.sums"
done
differ=$(diff "$work/old.sums" "$work/new.sums" | sed -n 's/^< [0-9a-f]*  \.\///p' || true)
echo "  published files that differ (run-specific): ${differ:-none}" | tr '\n' ' '; echo
if echo "$differ" | grep -E '\.(tar\.gz|tar\.xz|spdx\.json|cdx\.json)$' | grep -v 'provenance'; then
  echo "release artifacts differ between old and new" >&2
  exit 1
fi
echo "  release run: $(wc -l <"$work/old.sums") published files, archives and SBOMs byte-identical"
time_pair "release run" 0 "rm -rf $repo/.relkit $repo/dist $work/pub-old $work/pub-new && @BIN@ -q release run --repo $repo --rev v1.0.0 --config $work/plan.toml"
