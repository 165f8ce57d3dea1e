#!/usr/bin/env bash
# Benchmark for the release pipeline (issue 8): `relkit release run` of a whole release of a
# small C project (tinycalc: source archives, docs, test build, SBOMs, scan, audit, signatures,
# provenance, checksums, publish, verify) against running the same steps' commands by hand,
# one after another, in one hyperfine run. The pipeline's own cost is planning, checkpointing
# and hashing every output; the goal is <= 1.2x plus that hashing.
# Usage: bench/release.sh      Needs: hyperfine, git, cc, make.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${RELKIT_BIN:-}" ]; then
  cargo build --release -q -p relkit
  relkit=$PWD/target/release/relkit
else
  relkit=$(realpath "$RELKIT_BIN")
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fix=$PWD/crates/relkit/tests/fixtures/release

repo=$work/tinycalc
cp -r "$fix/tinycalc" "$repo"
(
  cd "$repo"
  export GIT_CONFIG_GLOBAL=/dev/null GIT_AUTHOR_NAME=rm GIT_AUTHOR_EMAIL=rm@example.org \
    GIT_COMMITTER_NAME=rm GIT_COMMITTER_EMAIL=rm@example.org
  git init -q -b main && git add -A && git commit -q -m 1.0.0 && git tag -a v1.0.0 -m 1.0.0
)
"$relkit" -q key generate --kind ed25519 -o "$work/release"
cat > "$work/plan.toml" <<EOF
[project]
name = "tinycalc"
[source]
formats = ["tar.gz", "tar.xz"]
[docs]
command = "mkdir -p html && sed 's/^/<p>/' README > html/index.html"
output = "html"
[[test]]
name = "check"
command = "./configure && make && make check"
[scan]
fail-on = "none"
[sign]
key = "$work/release.key"
[publish]
dir = "$work/pub/{name}/{version}"
EOF

# The same work by hand, as a release manager's script would do it.
cat > "$work/by-hand.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
r=$relkit
cd $repo
d=$work/hand
rm -rf \$d $work/hand-pub && mkdir -p \$d
\$r -q build source --rev v1.0.0 --formats tar.gz,tar.xz -o \$d
t=\$(mktemp -d) && git -C $repo archive v1.0.0 | tar -x -C \$t
(cd \$t && mkdir -p html && sed 's/^/<p>/' README > html/index.html)
\$r -q build source --from-dir \$t/html --prefix tinycalc-1.0.0-docs --name tinycalc --project-version 1.0.0 --mtime 1749643200 --formats tar.xz -o \$t/docs
cp \$t/docs/tinycalc-1.0.0-docs.tar.xz \$d/
u=\$(mktemp -d) && tar -xzf \$d/tinycalc-1.0.0.tar.gz -C \$u
(cd \$u/tinycalc-1.0.0 && ./configure && make && make check) > \$d/test.log
for a in tinycalc-1.0.0.tar.gz tinycalc-1.0.0.tar.xz tinycalc-1.0.0-docs.tar.xz; do
  \$r -q sbom generate \$d/\$a --name tinycalc --version 1.0.0 -o spdx-json=\$d/\$a.spdx.json -o cyclonedx-json=\$d/\$a.cdx.json
done
cp \$d/tinycalc-1.0.0.tar.gz.spdx.json \$d/tinycalc-1.0.0.release.spdx.json
\$r -q scan \$d/tinycalc-1.0.0.release.spdx.json --format json > \$d/scan.json || true
\$r -q audit tarball \$d/tinycalc-1.0.0.tar.gz --repo $repo --rev v1.0.0 --format json > \$d/audit.json
for f in \$d/*.tar.gz \$d/*.tar.xz \$d/*.json; do
  case \$f in *scan.json|*audit.json|*relkit-manifest.json) continue;; esac
  \$r -q sign \$f --key $work/release.key --bundle
done
\$r -q attest \$d/*.tar.gz \$d/*.tar.xz --key $work/release.key --repository file://$repo --ref refs/tags/v1.0.0 --commit \$(git rev-parse v1.0.0) --builder-id local --bundle -o \$d/tinycalc-1.0.0.provenance.sigstore.json
(cd \$d && \$r -q checksum *.tar.gz *.tar.xz *.spdx.json *.cdx.json *.sigstore.json > SHA256SUMS)
mkdir -p $work/hand-pub && cp -r \$d $work/hand-pub/1.0.0
for a in tinycalc-1.0.0.tar.gz tinycalc-1.0.0.tar.xz tinycalc-1.0.0-docs.tar.xz; do
  (cd $work/hand-pub/1.0.0 && \$r -q verify \$a --checksums SHA256SUMS --bundle \$a.sigstore.json --key $work/release.pub --provenance tinycalc-1.0.0.provenance.sigstore.json)
done
rm -rf \$t \$u
EOF
chmod +x "$work/by-hand.sh"
# Both must work before they are timed.
"$work/by-hand.sh" >/dev/null
(cd "$repo" && "$relkit" -q release run --rev v1.0.0 --config "$work/plan.toml")

cd "$work"
hyperfine --warmup 1 --runs "${RUNS:-10}" --export-markdown release.md \
  --prepare "rm -rf $repo/dist $repo/.relkit $work/pub" \
  -n "relkit release run" "cd $repo && $relkit -q release run --rev v1.0.0 --config $work/plan.toml" \
  -n "same steps by hand" "$work/by-hand.sh"
cat release.md
echo "== resume of a finished release (all steps done: only planning and output hashing)"
hyperfine --warmup 1 --runs "${RUNS:-20}" \
  -n "relkit release run (nothing to do)" "cd $repo && $relkit -q release run --rev v1.0.0 --config $work/plan.toml"
