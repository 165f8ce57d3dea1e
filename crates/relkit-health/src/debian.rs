//! Criticality from Debian's dependency graph: how much of the archive needs a package.
//!
//! Definitions (each one is what the report's numbers mean):
//! - **Edges.** Package `p` depends on `q` when `q` appears in `p`'s `Depends` or
//!   `Pre-Depends` (Recommends and Suggests are not hard dependencies). Version constraints,
//!   architecture qualifiers (`:any`, `:native`, `:amd64`), architecture lists (`[…]`) and build
//!   profiles (`<…>`) are ignored: reachability is about names.
//! - **Alternatives** (`a | b`): *every* alternative gets an edge. An alternative group means
//!   the package works with any member, so each member is needed by some installations; this
//!   is the definition that reproduces the independently computed figures of the shared data's
//!   SOURCES.md (bookworm liblzma5: 36,093 transitive, rank 6). Counting only the first
//!   alternative gives smaller numbers (see the crate's tests for both).
//! - **Provides**: a dependency on a name that packages provide (a virtual package, or a real
//!   one that others also provide) gets an edge to the real package of that name, if any, and
//!   to every provider.
//! - **Direct reverse dependencies** of `q`: the binary packages (other than `q`) with an edge
//!   to `q`. **Transitive**: the packages (other than `q`) from which `q` is reachable. Cycles
//!   are handled by condensing strongly connected components (iterative Tarjan); counts are
//!   then propagated over the condensation in topological order, 64 sources at a time in a
//!   machine word (memory: one word per component).
//! - **Rank**: 1 + the number of packages with a strictly larger count; **share**: transitive
//!   count / number of binary packages in the index (distinct names; a name listed twice,
//!   e.g. in two versions, is one package with the union of its dependencies).
//! - **Essential/required closure**: every package reachable from those marked
//!   `Essential: yes` or `Priority: required`.
//! - **Exposed-root paths**: the shortest dependency path (breadth-first, fewest edges) from
//!   each configured root (default: openssh-server, systemd, apt, dpkg, python3).

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};

/// The exposed roots used when none are configured: what runs on most servers and what
/// installs everything else.
pub const DEFAULT_ROOTS: &[&str] = &["openssh-server", "systemd", "apt", "dpkg", "python3"];

/// One `Packages` index, parsed and turned into a graph with per-package counts.
#[derive(Debug)]
pub struct Graph {
    /// The suite label (`bookworm`, …).
    pub suite: String,
    /// The file it was read from.
    pub path: PathBuf,
    names: Vec<String>,
    index: HashMap<String, u32>,
    source: Vec<String>,
    /// Forward edges, compressed: `deps[offsets[v]..offsets[v+1]]`.
    offsets: Vec<u32>,
    deps: Vec<u32>,
    direct: Vec<u32>,
    transitive: Vec<u32>,
    in_essential: Vec<bool>,
    essential_parent: Vec<u32>,
    sources: HashMap<String, Vec<u32>>,
}

/// What the graph says about one binary package.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PackageStats {
    /// The binary package.
    pub package: String,
    /// Its Debian source package.
    pub source: String,
    /// Binary packages that depend on it directly.
    pub direct: u32,
    /// Rank by direct reverse dependencies (1 = most).
    pub direct_rank: u32,
    /// Binary packages from which it is reachable.
    pub transitive: u32,
    /// Rank by transitive reverse dependencies (1 = most).
    pub transitive_rank: u32,
    /// `transitive` / binary packages in the index.
    pub share: f64,
    /// Binary packages in the index.
    pub packages: u32,
    /// Whether it is in the closure of the Essential/required set.
    pub essential_closure: bool,
    /// Evidence of that: a path from an Essential/required package (empty when not).
    pub essential_path: Vec<String>,
}

/// A field of one stanza while parsing.
#[derive(Default)]
struct Stanza {
    line: usize,
    package: Option<String>,
    source: Option<String>,
    depends: Vec<(usize, String)>,
    provides: Option<(usize, String)>,
    essential: bool,
}

/// Largest decompressed `Packages` index accepted: 1 GiB (trixie's amd64 main index is
/// about 70 MB; anything near this is not an index).
const PACKAGES_LIMIT: u64 = 1 << 30;

/// Reads a `Packages` file: plain, `.xz`, `.gz`, `.bz2`, `.zst`, `.lz4` (detected by content,
/// not by name, through relkit-archive).
pub fn read_packages_text(path: &Path) -> Result<String> {
    let io = |e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let raw = std::fs::read(path).map_err(io)?;
    let (out, _) =
        relkit_archive::read::decompress_auto(raw, PACKAGES_LIMIT).map_err(|source| {
            Error::Decompress {
                path: path.to_path_buf(),
                source,
            }
        })?;
    String::from_utf8(out).map_err(|e| {
        let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        Error::Packages {
            path: path.to_path_buf(),
            line,
            detail: "not UTF-8".into(),
        }
    })
}

/// The package names of a dependency field (`Depends`, `Pre-Depends`, `Provides`): one inner
/// list per comma-separated group, one name per alternative.
pub fn parse_relations(value: &str) -> std::result::Result<Vec<Vec<&str>>, String> {
    let mut groups = Vec::new();
    for group in value.split(',') {
        let group = group.trim();
        if group.is_empty() {
            continue;
        }
        let mut alts = Vec::new();
        for alt in group.split('|') {
            let alt = alt.trim();
            let end = alt
                .find(|c: char| c.is_whitespace() || matches!(c, '(' | '[' | '<'))
                .unwrap_or(alt.len());
            let name = alt[..end].split(':').next().unwrap_or("");
            let valid = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b));
            if !valid {
                return Err(format!("invalid package name in relation {alt:?}"));
            }
            alts.push(name);
        }
        groups.push(alts);
    }
    Ok(groups)
}

/// How alternatives (`a | b`) become edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alternatives {
    /// Every member of a group gets an edge (the documented default).
    All,
    /// Only the first member (what apt installs by default) gets an edge.
    First,
}

impl Graph {
    /// Parses `text` (the content of `path`) and computes every count.
    pub fn from_text(suite: &str, path: &Path, text: &str, alts: Alternatives) -> Result<Graph> {
        let stanzas = parse_stanzas(path, text)?;
        Self::build(suite, path, stanzas, alts)
    }

    /// Reads `path` (plain or compressed, see [`read_packages_text`]) and computes every count.
    pub fn load(suite: &str, path: &Path) -> Result<Graph> {
        let text = read_packages_text(path)?;
        Self::from_text(suite, path, &text, Alternatives::All)
    }

    fn build(suite: &str, path: &Path, stanzas: Vec<Stanza>, alts: Alternatives) -> Result<Graph> {
        let bad = |line: usize, detail: String| Error::Packages {
            path: path.to_path_buf(),
            line,
            detail,
        };
        let mut names: Vec<String> = Vec::new();
        let mut index: HashMap<String, u32> = HashMap::new();
        let mut by_id: Vec<Vec<&Stanza>> = Vec::new();
        for s in &stanzas {
            let name = s.package.clone().expect("checked by parse_stanzas");
            let id = *index.entry(name.clone()).or_insert_with(|| {
                names.push(name);
                by_id.push(Vec::new());
                (names.len() - 1) as u32
            });
            by_id[id as usize].push(s);
        }
        let n = names.len();
        let mut providers: HashMap<&str, Vec<u32>> = HashMap::new();
        for (id, list) in by_id.iter().enumerate() {
            for s in list {
                if let Some((line, value)) = &s.provides {
                    for group in parse_relations(value).map_err(|d| bad(*line, d))? {
                        for name in group {
                            providers.entry(name).or_default().push(id as u32);
                        }
                    }
                }
            }
        }
        let mut offsets = Vec::with_capacity(n + 1);
        let mut deps: Vec<u32> = Vec::new();
        offsets.push(0u32);
        let mut targets: Vec<u32> = Vec::new();
        for (id, list) in by_id.iter().enumerate() {
            targets.clear();
            for s in list {
                for (line, value) in &s.depends {
                    for group in parse_relations(value).map_err(|d| bad(*line, d))? {
                        let take = match alts {
                            Alternatives::All => group.len(),
                            Alternatives::First => 1,
                        };
                        for name in &group[..take] {
                            if let Some(&t) = index.get(*name) {
                                targets.push(t);
                            }
                            if let Some(p) = providers.get(name) {
                                targets.extend_from_slice(p);
                            }
                        }
                    }
                }
            }
            targets.sort_unstable();
            targets.dedup();
            deps.extend(targets.iter().copied().filter(|&t| t as usize != id));
            offsets.push(deps.len() as u32);
        }
        let source: Vec<String> = by_id
            .iter()
            .zip(&names)
            .map(|(list, name)| list[0].source.clone().unwrap_or_else(|| name.clone()))
            .collect();
        let mut sources: HashMap<String, Vec<u32>> = HashMap::new();
        for (id, s) in source.iter().enumerate() {
            sources.entry(s.clone()).or_default().push(id as u32);
        }
        let essential_roots: Vec<u32> = (0..n as u32)
            .filter(|&id| by_id[id as usize].iter().any(|s| s.essential))
            .collect();
        let mut g = Graph {
            suite: suite.to_string(),
            path: path.to_path_buf(),
            names,
            index,
            source,
            offsets,
            deps,
            direct: Vec::new(),
            transitive: Vec::new(),
            in_essential: Vec::new(),
            essential_parent: Vec::new(),
            sources,
        };
        g.direct = g.direct_counts();
        g.transitive = g.transitive_counts();
        let (seen, parent) = g.bfs(&essential_roots);
        g.in_essential = seen;
        g.essential_parent = parent;
        Ok(g)
    }

    fn succ(&self, v: u32) -> &[u32] {
        &self.deps[self.offsets[v as usize] as usize..self.offsets[v as usize + 1] as usize]
    }

    /// Binary packages in the index (distinct names).
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the index holds no package.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Number of dependency edges after expanding alternatives and Provides.
    pub fn edge_count(&self) -> usize {
        self.deps.len()
    }

    /// Whether the index has a binary package of that name.
    pub fn contains(&self, package: &str) -> bool {
        self.index.contains_key(package)
    }

    /// The binary packages built from a Debian source package.
    pub fn binaries_of_source(&self, source: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .sources
            .get(source)
            .map(|ids| {
                ids.iter()
                    .map(|&i| self.names[i as usize].clone())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Binary package names matching a simple glob (`*` only), sorted.
    pub fn matching(&self, pattern: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .names
            .iter()
            .filter(|n| glob(pattern, n))
            .cloned()
            .collect();
        v.sort();
        v
    }

    fn direct_counts(&self) -> Vec<u32> {
        let mut count = vec![0u32; self.len()];
        for &t in &self.deps {
            count[t as usize] += 1;
        }
        count
    }

    /// Strongly connected components (iterative Tarjan). Returns the component of each node;
    /// components are numbered in completion order, so an edge between components always
    /// goes from a higher number to a lower one.
    fn components(&self) -> (Vec<u32>, u32) {
        const NONE: u32 = u32::MAX;
        let n = self.len();
        let mut index = vec![NONE; n];
        let mut low = vec![0u32; n];
        let mut on_stack = vec![false; n];
        let mut comp = vec![NONE; n];
        let mut stack: Vec<u32> = Vec::new();
        let mut call: Vec<(u32, u32)> = Vec::new(); // (node, next successor position)
        let (mut next_index, mut next_comp) = (0u32, 0u32);
        for root in 0..n as u32 {
            if index[root as usize] != NONE {
                continue;
            }
            call.push((root, self.offsets[root as usize]));
            index[root as usize] = next_index;
            low[root as usize] = next_index;
            next_index += 1;
            stack.push(root);
            on_stack[root as usize] = true;
            while let Some(&mut (v, ref mut pos)) = call.last_mut() {
                let end = self.offsets[v as usize + 1];
                if *pos < end {
                    let w = self.deps[*pos as usize];
                    *pos += 1;
                    if index[w as usize] == NONE {
                        index[w as usize] = next_index;
                        low[w as usize] = next_index;
                        next_index += 1;
                        stack.push(w);
                        on_stack[w as usize] = true;
                        call.push((w, self.offsets[w as usize]));
                    } else if on_stack[w as usize] {
                        low[v as usize] = low[v as usize].min(index[w as usize]);
                    }
                    continue;
                }
                call.pop();
                if let Some(&(parent, _)) = call.last() {
                    low[parent as usize] = low[parent as usize].min(low[v as usize]);
                }
                if low[v as usize] == index[v as usize] {
                    while let Some(w) = stack.pop() {
                        on_stack[w as usize] = false;
                        comp[w as usize] = next_comp;
                        if w == v {
                            break;
                        }
                    }
                    next_comp += 1;
                }
            }
        }
        (comp, next_comp)
    }

    /// Transitive reverse dependencies of every package, over the condensation.
    fn transitive_counts(&self) -> Vec<u32> {
        let (comp, k) = self.components();
        let k = k as usize;
        let mut size = vec![0u32; k];
        for &c in &comp {
            size[c as usize] += 1;
        }
        // Condensed edges, deduplicated.
        let mut coff = vec![0u32; k + 1];
        let mut members: Vec<Vec<u32>> = vec![Vec::new(); k];
        for (v, &c) in comp.iter().enumerate() {
            members[c as usize].push(v as u32);
        }
        let mut cdeps: Vec<u32> = Vec::new();
        let mut tmp: Vec<u32> = Vec::new();
        for c in 0..k {
            tmp.clear();
            for &v in &members[c] {
                tmp.extend(
                    self.succ(v)
                        .iter()
                        .map(|&w| comp[w as usize])
                        .filter(|&d| d as usize != c),
                );
            }
            tmp.sort_unstable();
            tmp.dedup();
            cdeps.extend_from_slice(&tmp);
            coff[c + 1] = cdeps.len() as u32;
        }
        // Ancestor weight of each component: the packages (its own members included) from
        // which it is reachable. Sources go 64 at a time; a component can only reach lower
        // numbers, so a chunk's propagation stops at its highest member.
        let mut weight = vec![0u64; k];
        let mut mask = vec![0u64; k];
        let mut table = vec![[0u64; 256]; 8];
        for base in (0..k).step_by(64) {
            let top = (base + 64).min(k);
            for (i, c) in (base..top).enumerate() {
                mask[c] = 1u64 << i;
            }
            for (byte, t) in table.iter_mut().enumerate() {
                for (bits, slot) in t.iter_mut().enumerate() {
                    *slot = (0..8)
                        .filter(|b| bits & (1 << b) != 0)
                        .map(|b| base + byte * 8 + b)
                        .filter(|&c| c < k)
                        .map(|c| u64::from(size[c]))
                        .sum();
                }
            }
            for c in (0..top).rev() {
                let m = mask[c];
                if m == 0 {
                    continue;
                }
                for &d in &cdeps[coff[c] as usize..coff[c + 1] as usize] {
                    mask[d as usize] |= m;
                }
                weight[c] += (0..8)
                    .map(|byte| table[byte][((m >> (byte * 8)) & 0xff) as usize])
                    .sum::<u64>();
                mask[c] = 0;
            }
        }
        comp.iter()
            .map(|&c| (weight[c as usize] - 1) as u32)
            .collect()
    }

    /// Breadth-first search from `roots`: which nodes are reached, and each one's parent.
    fn bfs(&self, roots: &[u32]) -> (Vec<bool>, Vec<u32>) {
        let mut seen = vec![false; self.len()];
        let mut parent = vec![u32::MAX; self.len()];
        let mut queue: VecDeque<u32> = VecDeque::new();
        for &r in roots {
            if !seen[r as usize] {
                seen[r as usize] = true;
                queue.push_back(r);
            }
        }
        while let Some(v) = queue.pop_front() {
            for &w in self.succ(v) {
                if !seen[w as usize] {
                    seen[w as usize] = true;
                    parent[w as usize] = v;
                    queue.push_back(w);
                }
            }
        }
        (seen, parent)
    }

    fn path_to(&self, parent: &[u32], target: u32) -> Vec<String> {
        let mut path = vec![self.names[target as usize].clone()];
        let mut v = target;
        while parent[v as usize] != u32::MAX {
            v = parent[v as usize];
            path.push(self.names[v as usize].clone());
        }
        path.reverse();
        path
    }

    /// The shortest dependency path from `root` to `target` (both included), if any.
    pub fn shortest_path(&self, root: &str, target: &str) -> Option<Vec<String>> {
        let (&r, &t) = (self.index.get(root)?, self.index.get(target)?);
        let (seen, parent) = self.bfs(&[r]);
        seen[t as usize].then(|| self.path_to(&parent, t))
    }

    /// Whether `package` depends directly on `dependency` (after alternatives and Provides).
    pub fn depends_directly(&self, package: &str, dependency: &str) -> bool {
        match (self.index.get(package), self.index.get(dependency)) {
            (Some(&p), Some(&d)) => self.succ(p).contains(&d),
            _ => false,
        }
    }

    /// Everything the graph says about `package`, or `None` when it is not in the index.
    pub fn stats(&self, package: &str) -> Option<PackageStats> {
        let &id = self.index.get(package)?;
        let id = id as usize;
        let rank = |counts: &[u32]| 1 + counts.iter().filter(|&&c| c > counts[id]).count() as u32;
        let essential_path = if self.in_essential[id] {
            self.path_to(&self.essential_parent, id as u32)
        } else {
            Vec::new()
        };
        Some(PackageStats {
            package: package.to_string(),
            source: self.source[id].clone(),
            direct: self.direct[id],
            direct_rank: rank(&self.direct),
            transitive: self.transitive[id],
            transitive_rank: rank(&self.transitive),
            share: f64::from(self.transitive[id]) / self.len() as f64,
            packages: self.len() as u32,
            essential_closure: self.in_essential[id],
            essential_path,
        })
    }
}

/// `*`-only glob match ([`relkit_core::glob::matches`]).
pub use relkit_core::glob::matches as glob;

/// Splits the index into stanzas, keeping the fields the graph needs; every malformed line is
/// an error with its line number.
fn parse_stanzas(path: &Path, text: &str) -> Result<Vec<Stanza>> {
    let bad = |line: usize, detail: &str| Error::Packages {
        path: path.to_path_buf(),
        line,
        detail: detail.to_string(),
    };
    let mut out = Vec::new();
    let mut cur: Option<Stanza> = None;
    // Which kept field the continuation lines belong to: 0 none, 1 depends, 2 provides.
    let mut field = 0u8;
    let finish = |s: Stanza, out: &mut Vec<Stanza>| -> Result<()> {
        if s.package.is_none() {
            return Err(bad(s.line, "stanza without a Package field"));
        }
        out.push(s);
        Ok(())
    };
    for (i, line) in text.lines().enumerate() {
        let no = i + 1;
        if line.trim().is_empty() {
            if let Some(s) = cur.take() {
                finish(s, &mut out)?;
            }
            field = 0;
            continue;
        }
        if line.starts_with([' ', '\t']) {
            let Some(s) = cur.as_mut() else {
                return Err(bad(no, "continuation line outside a field"));
            };
            match field {
                1 => {
                    let last = s.depends.last_mut().expect("field 1 has a value");
                    last.1.push(' ');
                    last.1.push_str(line.trim());
                }
                2 => {
                    let p = s.provides.as_mut().expect("field 2 has a value");
                    p.1.push(' ');
                    p.1.push_str(line.trim());
                }
                _ => {}
            }
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(bad(no, &format!("expected `Field: value`, found {line:?}")));
        };
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(bad(no, &format!("invalid field name {key:?}")));
        }
        let s = cur.get_or_insert_with(|| Stanza {
            line: no,
            ..Stanza::default()
        });
        let value = value.trim();
        field = 0;
        match key {
            "Package" => {
                if s.package.is_some() {
                    return Err(bad(
                        no,
                        "two Package fields in one stanza (missing blank line?)",
                    ));
                }
                if parse_relations(value).map(|g| g.len()) != Ok(1) || value.contains(['|', ':']) {
                    return Err(bad(no, &format!("invalid package name {value:?}")));
                }
                s.package = Some(value.to_string());
            }
            "Source" => {
                let name = value.split_whitespace().next().unwrap_or("");
                s.source = Some(name.to_string());
            }
            "Depends" | "Pre-Depends" => {
                s.depends.push((no, value.to_string()));
                field = 1;
            }
            "Provides" => {
                s.provides = Some((no, value.to_string()));
                field = 2;
            }
            "Essential" => s.essential |= value == "yes",
            "Priority" => s.essential |= value == "required",
            _ => {}
        }
    }
    if let Some(s) = cur.take() {
        finish(s, &mut out)?;
    }
    if out.is_empty() {
        return Err(bad(1, "no package stanza"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(text: &str) -> Graph {
        Graph::from_text("test", Path::new("t"), text, Alternatives::All).unwrap()
    }

    #[test]
    fn cycles_alternatives_and_provides_are_counted_once_per_package() {
        // a -> b -> c -> b (cycle), d -> (e | f), g -> virtual v provided by c,
        // h pre-depends on a:any (qualifier ignored), x (no deps).
        let g = graph(
            "Package: a\nDepends: b (>= 1)\n\nPackage: b\nDepends: c\n\nPackage: c\nDepends: b\nProvides: v (= 1)\n\n\
             Package: d\nDepends: e | f\n\nPackage: e\n\nPackage: f\n\nPackage: g\nDepends: v\n\n\
             Package: h\nPre-Depends: a:any [amd64] <!nocheck>\n\nPackage: x\nEssential: yes\nDepends: e\n",
        );
        let s = |p: &str| g.stats(p).unwrap();
        assert_eq!(g.len(), 9);
        // c is reached from b (cycle), a, g (via Provides), h.
        assert_eq!((s("c").direct, s("c").transitive), (2, 4));
        assert_eq!((s("b").direct, s("b").transitive), (2, 4));
        assert_eq!(s("a").transitive, 1);
        assert_eq!((s("e").transitive, s("f").transitive), (2, 1));
        assert_eq!(s("b").transitive_rank, 1);
        assert_eq!(s("e").transitive_rank, 3);
        assert!(s("e").essential_closure);
        assert_eq!(s("e").essential_path, ["x", "e"]);
        assert!(!s("f").essential_closure);
        assert_eq!(g.shortest_path("h", "c").unwrap(), ["h", "a", "b", "c"]);
        assert!(g.shortest_path("c", "a").is_none());
        let first = Graph::from_text(
            "t",
            Path::new("t"),
            "Package: d\nDepends: e | f\n\nPackage: e\n\nPackage: f\n",
            Alternatives::First,
        )
        .unwrap();
        assert_eq!(first.stats("f").unwrap().transitive, 0);
    }

    #[test]
    fn malformed_lines_are_located() {
        let err = |t: &str| match Graph::from_text("t", Path::new("P"), t, Alternatives::All) {
            Err(Error::Packages { line, detail, .. }) => (line, detail),
            other => panic!("{other:?}"),
        };
        assert_eq!(err("Package: a\nDepends: b\nthis is not a field\n").0, 3);
        assert_eq!(err("Package: a\n\nVersion: 1\n").0, 3);
        assert_eq!(err("Package: a\nDepends: b, (>= 2)\n").0, 2);
        assert_eq!(err(" leading continuation\n").0, 1);
        assert!(err("Package: a\nPackage: b\n").1.contains("two Package"));
    }

    #[test]
    fn globs() {
        assert!(glob("libpython3.*-stdlib", "libpython3.11-stdlib"));
        assert!(!glob("libpython3.*-stdlib", "libpython3.11-dev"));
        assert!(glob("zlib1g", "zlib1g"));
    }
}
