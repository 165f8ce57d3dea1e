#!/usr/bin/env bash
# Benchmark: `relkit build source` against the GNU pipeline CPython's release.py uses
# (git archive | tar -x, then tar with the release.py flags | gzip -n -9 / xz), in one
# hyperfine run on the same commit, and compare output sizes.
#
# Usage: bench/source-release.sh [linux|cpython] [tgz|txz] [XZ_PRESET]
#   linux:   Debian's linux-source-6.1 tree committed into a scratch git repository (1.3 GB)
#   cpython: CPython 3.13.5's official tarball tree committed into a scratch repository
# Needs hyperfine, git, GNU tar/gzip/xz (Debian packages). Not part of CI.
set -euo pipefail
which=${1:-linux}
format=${2:-tgz}
preset=${3:-6}
root=$(cd "$(dirname "$0")/.." && pwd)
work=${RELKIT_BENCH_WORK:-$root/target/bench}
mkdir -p "$work"
# RELKIT_BIN: a relkit binary to measure instead of building this checkout's.
if [ -z "${RELKIT_BIN:-}" ]; then
  cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p relkit
fi
relkit=${RELKIT_BIN:-$root/target/release/relkit}

repo=$work/$which-repo
if [ ! -d "$repo/.git" ]; then
  rm -rf "$repo" && mkdir -p "$repo"
  case $which in
    linux)
      if [ ! -f "$work/linux-source.deb" ]; then
        (cd "$work" && apt-get download -qq linux-source-6.1 && mv linux-source-6.1_*.deb linux-source.deb)
      fi
      dpkg-deb --fsys-tarfile "$work/linux-source.deb" | tar -xO --wildcards './usr/src/linux-source-6.1.tar.xz' | tar -xJ -C "$repo" --strip-components=1
      ;;
    cpython)
      tmp=$(mktemp -d)
      bash "$root/../shared/scripts/debian-source" python3.13 trixie "$tmp" >/dev/null
      tar -xJf "$tmp"/python3.13_*.orig.tar.xz -C "$repo" --strip-components=1
      rm -rf "$tmp"
      ;;
    *) echo "usage: $0 [linux|cpython] [tgz|txz] [XZ_PRESET]" >&2; exit 2 ;;
  esac
  git -C "$repo" init -q
  git -C "$repo" add -A -f
  GIT_COMMITTER_DATE="2024-01-01T00:00:00Z" GIT_AUTHOR_DATE="2024-01-01T00:00:00Z" \
    git -C "$repo" -c user.name=bench -c user.email=bench@example.org commit -q -m "$which tree"
  git -C "$repo" tag bench
fi
mtime=$(git -C "$repo" log -1 --format=%ct bench)
name=tree-1.0
flags=(--format=posix --sort=name "--mtime=@$mtime" --clamp-mtime --owner=0 --group=0 --numeric-owner
       "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime" "--mode=go+u,go-w")
case $format in
  tgz) ext=tar.gz; compress="gzip -n -9"; relkit_fmt=(--formats tar.gz) ;;
  txz) ext=tar.xz; compress="xz -$preset"; relkit_fmt=(--formats tar.xz --xz-preset "$preset") ;;
  *) echo "format must be tgz or txz" >&2; exit 2 ;;
esac
gnu_script=$work/gnu-pipeline.sh
cat > "$gnu_script" <<SCRIPT
set -euo pipefail
rm -rf "$work/gnu-export" && mkdir -p "$work/gnu-export"
git -C "$repo" archive --prefix=$name/ bench | tar -x -C "$work/gnu-export"
tar ${flags[*]@Q} -cf - -C "$work/gnu-export" $name | $compress > "$work/gnu.$ext"
SCRIPT
hyperfine --runs "${RUNS:-3}" --export-json "$work/source-release-$which-$format.json" \
  -n "relkit build source ($ext)" \
  "$relkit -q build source --repo $repo --rev bench --name tree --project-version 1.0 ${relkit_fmt[*]} -o $work/relkit-out --force" \
  -n "git archive | tar | $compress" \
  "bash $gnu_script"
ours=$(stat -c %s "$work/relkit-out/$name.$ext")
theirs=$(stat -c %s "$work/gnu.$ext")
python3 - "$work/source-release-$which-$format.json" "$ours" "$theirs" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))["results"]
ours, theirs = int(sys.argv[2]), int(sys.argv[3])
r, g = runs[0]["mean"], runs[1]["mean"]
print(f"time: relkit {r:.2f}s, GNU pipeline {g:.2f}s -> relkit is {g / r:.2f}x the speed of the GNU pipeline")
print(f"size: relkit {ours} B, GNU {theirs} B -> ratio {ours / theirs:.4f}")
PY
