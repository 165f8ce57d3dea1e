//! relkit-catalog: what a project depends on, read from the files its package managers write
//! — lockfiles first (`Cargo.lock`, `package-lock.json`, `uv.lock`, `poetry.lock`,
//! `Pipfile.lock`, pinned `requirements*.txt`, `go.mod`) — as packages with a Package URL,
//! the lockfile's integrity hash, a scope, and the dependency graph the lockfile records.
//!
//! One module per ecosystem, each a [`Cataloger`] registered in [`CATALOGERS`]; callers (SBOM
//! generation, `relkit scan`, the release pipeline) ask [`cataloger_for`] which one reads a
//! file and call it with the file's bytes, so an archive member and a file on disk are read
//! the same way.
//!
//! What it must not do: guess. A lockfile version it does not know, or a malformed file, is a
//! located error naming the file, never a silently shorter list; a dependency the lockfile
//! names but does not resolve is a warning in [`Catalog::warnings`]. It never prints, never
//! reaches the network and never runs the package managers.

mod cargo;
pub mod cargo_workspace;
mod dotnet;
mod exe;
mod gobinary;
mod golang;
mod gosum;
mod gradle;
mod installed_python;
mod js;
mod maven;
mod node_modules;
mod npm;
mod php;
mod pnpm;
mod pylock;
mod python;
mod ruby;
pub mod tree;
mod yarn;

use serde::Serialize;

pub use cargo::CargoLock;
pub use dotnet::NugetLock;
pub use gobinary::{GoBuildInfo, GoModule, go_build_info, looks_executable, read_go_build_info};
pub use golang::GoMod;
pub use gosum::GoSum;
pub use gradle::GradleLock;
pub use installed_python::InstalledPython;
pub use maven::MavenPom;
pub use node_modules::InstalledNpm;
pub use npm::PackageLock;
pub use php::ComposerLock;
pub use pnpm::PnpmLock;
pub use pylock::PyLock;
pub use python::{PipfileLock, PoetryLock, Requirements, UvLock};
pub use ruby::GemfileLock;
pub use yarn::YarnLock;

/// The ecosystem a package comes from (its PURL type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    /// Rust crates (`pkg:cargo`).
    Cargo,
    /// npm packages (`pkg:npm`).
    Npm,
    /// Python distributions on PyPI (`pkg:pypi`, names normalized).
    Pypi,
    /// Go modules (`pkg:golang`).
    Golang,
    /// Ruby gems (`pkg:gem`).
    Gem,
    /// PHP packages on Packagist (`pkg:composer`).
    Composer,
    /// .NET packages (`pkg:nuget`).
    Nuget,
    /// Java packages (`pkg:maven`, `group:artifact`).
    Maven,
}

/// Why a package is in the graph, as the lockfile says (ecosystems without the distinction
/// give [`Scope::Required`] to every package).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Needed at run time (or not distinguished by the lockfile).
    Required,
    /// Only for development (tests, builds, linters): npm's `dev`.
    Dev,
    /// Optional at run time: npm's `optional`.
    Optional,
    /// Only to build the project (build tools, plugins): Gradle's build-script classpath.
    Build,
}

impl Scope {
    /// The word SBOMs and reports use (`required`, `dev`, `optional`, `build`).
    pub fn word(self) -> &'static str {
        match self {
            Scope::Required => "required",
            Scope::Dev => "dev",
            Scope::Optional => "optional",
            Scope::Build => "build",
        }
    }
}

/// One checksum the lockfile records.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Checksum {
    /// The algorithm as SBOMs name it: `SHA256`, `SHA512`, `SHA1`.
    pub algorithm: &'static str,
    /// The value in lowercase hex.
    pub hex: String,
}

/// One resolved package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Package {
    /// Its ecosystem.
    pub ecosystem: Ecosystem,
    /// The package name as the ecosystem writes it (`@scope/name` for npm).
    pub name: String,
    /// The resolved version.
    pub version: String,
    /// Its Package URL (purl-spec rules for the type).
    pub purl: String,
    /// Where it comes from, as the lockfile says (`registry+https://…`, a git URL, a tarball URL);
    /// `None` for the project's own packages and path dependencies.
    pub source: Option<String>,
    /// The lockfile's integrity hashes.
    pub checksums: Vec<Checksum>,
    /// Why it is there.
    pub scope: Scope,
    /// Whether it is one of the project's own packages (a workspace member, the root package).
    pub local: bool,
}

/// The packages of one lockfile and the dependency edges between them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Catalog {
    /// The file read (as the caller named it).
    pub file: String,
    /// What it was read as, with its version (`Cargo.lock v3`, `package-lock.json v2`).
    pub format: String,
    /// Every package, in the lockfile's order.
    pub packages: Vec<Package>,
    /// `(from, to)`: package `from` depends on package `to` (indexes into `packages`), sorted,
    /// without duplicates.
    pub edges: Vec<(usize, usize)>,
    /// What the lockfile names but relkit could not resolve, each with its place.
    pub warnings: Vec<String>,
    /// The vendored directory the file lies under (`vendor/`, `node_modules/`, see
    /// [`tree::VENDOR_DIRS`]) when it was found in a tree: its packages are vendored copies.
    pub vendored: Option<String>,
}

impl Catalog {
    /// The packages `i` depends on.
    pub fn dependencies_of(&self, i: usize) -> impl Iterator<Item = &Package> {
        self.edges
            .iter()
            .filter(move |(from, _)| *from == i)
            .map(|(_, to)| &self.packages[*to])
    }
}

/// Why a file could not be cataloged.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file is not valid TOML / JSON.
    #[error("{file}: {format} is malformed")]
    Syntax {
        /// The file.
        file: String,
        /// What it was read as.
        format: &'static str,
        /// The parser's error, with line and column.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The file declares a format version relkit does not read.
    #[error(
        "{file}: {format} version {version} is not supported (relkit reads {supported}); upgrade relkit"
    )]
    UnsupportedVersion {
        /// The file.
        file: String,
        /// What it was read as.
        format: &'static str,
        /// The version it declares.
        version: String,
        /// The versions relkit reads.
        supported: &'static str,
    },
    /// The file is well-formed but does not hold what the format requires.
    #[error("{file}: {place}: {problem}")]
    Invalid {
        /// The file.
        file: String,
        /// Where in it (a package's name, a JSON path).
        place: String,
        /// What is wrong.
        problem: String,
    },
}

impl Error {
    /// The same error with its file renamed by `label` (a path made absolute, an archive
    /// member's label).
    pub fn relabeled(self, label: &dyn Fn(&str) -> String) -> Error {
        match self {
            Error::Syntax {
                file,
                format,
                source,
            } => Error::Syntax {
                file: label(&file),
                format,
                source,
            },
            Error::UnsupportedVersion {
                file,
                format,
                version,
                supported,
            } => Error::UnsupportedVersion {
                file: label(&file),
                format,
                version,
                supported,
            },
            Error::Invalid {
                file,
                place,
                problem,
            } => Error::Invalid {
                file: label(&file),
                place,
                problem,
            },
        }
    }
}

/// A reader of one kind of dependency file.
pub trait Cataloger: Sync {
    /// The file kind, for messages (`Cargo.lock`).
    fn kind(&self) -> &'static str;
    /// Whether it reads the file at this path (`/`- or `\\`-separated; most catalogers look at
    /// the last component only, installed-package catalogers at the directories too).
    fn reads(&self, path: &str) -> bool;
    /// Whether, in a tree where `exists` says which other dependency files are present, this
    /// file is read at all (a `go.sum` is read only where there is no `go.mod`). Default: yes.
    fn applies(&self, _path: &str, _exists: &dyn Fn(&str) -> bool) -> bool {
        true
    }
    /// Reads the file `file` (a path or an `archive!member` label, for messages) from `bytes`.
    fn catalog(&self, file: &str, bytes: &[u8]) -> Result<Catalog, Error>;
}

/// Every cataloger, in the order they are tried.
pub static CATALOGERS: &[&dyn Cataloger] = &[
    &CargoLock,
    &PackageLock,
    &YarnLock,
    &PnpmLock,
    &InstalledNpm,
    &GemfileLock,
    &ComposerLock,
    &UvLock,
    &PoetryLock,
    &PipfileLock,
    &Requirements,
    &GoMod,
    &GoSum,
    &PyLock,
    &InstalledPython,
    &NugetLock,
    &GradleLock,
    &MavenPom,
];

/// The cataloger that reads a file with this path, if any.
pub fn cataloger_for(path: &str) -> Option<&'static dyn Cataloger> {
    CATALOGERS.iter().copied().find(|c| c.reads(path))
}

/// The last component of a path (`/` or `\\` separated).
fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// Sorts and de-duplicates edges and drops self-edges.
fn normalize_edges(edges: &mut Vec<(usize, usize)>) {
    edges.retain(|(a, b)| a != b);
    edges.sort_unstable();
    edges.dedup();
}

fn invalid(file: &str, place: impl Into<String>, problem: impl Into<String>) -> Error {
    Error::Invalid {
        file: file.to_string(),
        place: place.into(),
        problem: problem.into(),
    }
}
