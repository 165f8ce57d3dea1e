//! `sbom generate` for source trees and source archives.
//!
//! Produces the same content CPython's release tooling (release-tools `sbom.py`) puts in a
//! source SBOM: the top package, every file with SHA-1 and SHA-256, the vendored packages of
//! the in-tree SBOM (each vendored file's checksums verified against the tree), bundled wheels
//! from their dist-info METADATA and the projects pip vendors (`pip/_vendor/vendor.txt`).
//!
//! The file inventory (every file with its checksums) is where it is asked for
//! ([`FileInventory`]): by default a source release has one and a Python distribution — a
//! wheel, an sdist, an installed environment — has none (its packages, not one element per
//! `.py` file, as Syft and Trivy answer for it); `--files` / `--no-files` decide otherwise.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::model::{self, Checksum, Document, File, IdAllocator, Package, Relationship};
use crate::tree;

/// Default location of a vendored-dependencies SBOM inside a source tree (CPython's).
pub const DEFAULT_IN_TREE_SBOM: &str = "Misc/sbom.spdx.json";
/// Default directory of bundled wheels (CPython's ensurepip).
pub const DEFAULT_WHEEL_DIR: &str = "Lib/ensurepip/_bundled";

/// Whether the SBOM lists every file of the input with its checksums.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FileInventory {
    /// A source tree or source archive lists its files; a Python distribution does not — a
    /// wheel, an sdist, an installed environment, a CPython install prefix — see
    /// [`python_distribution`].
    #[default]
    Auto,
    /// Every file is listed (`--files`).
    Always,
    /// No file is listed (`--no-files`).
    Never,
}

impl FileInventory {
    /// Whether an input of this kind (`distribution`: the reason it is a Python distribution,
    /// if it is one) gets its files listed.
    pub fn lists(self, distribution: Option<&str>) -> bool {
        match self {
            FileInventory::Always => true,
            FileInventory::Never => false,
            FileInventory::Auto => distribution.is_none(),
        }
    }
}

/// Why the files at `paths` (relative to the input's root; for an archive, under its top
/// directory) are a Python distribution's rather than a source release's: `None` when they
/// are not. An sdist has `PKG-INFO` at its root; an installed environment (`site-packages`,
/// `pip install --target`) has `*.dist-info` directories there; a virtual environment has
/// `pyvenv.cfg`; a CPython install prefix has `include/python3.N/patchlevel.h`. A source
/// checkout has none of them (its `*.egg-info` from `pip install -e` does not count, nor does
/// CPython's own `Include/patchlevel.h`).
pub fn python_distribution<'a>(paths: impl IntoIterator<Item = &'a str>) -> Option<&'static str> {
    let mut why = None;
    for p in paths {
        let root = p.split('/').next().unwrap_or(p);
        if p == "PKG-INFO" {
            return Some("an sdist (PKG-INFO at its root)");
        }
        if p == "pyvenv.cfg" {
            why = Some("a virtual environment (pyvenv.cfg at its root)");
        } else if crate::identity::installed_cpython_header(p) {
            why = Some("a CPython install prefix (include/python3.N/patchlevel.h)");
        } else if root.ends_with(".dist-info") && p.contains('/') && why.is_none() {
            why = Some("an installed Python environment (*.dist-info at its root)");
        }
    }
    why
}

/// What the user says about the top package and where to look for vendored data.
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    /// Top package name (default: what the input states, see [`crate::identity`]).
    pub name: Option<String>,
    /// Top package version (default: what the input states, see [`crate::identity`]).
    pub version: Option<String>,
    /// Where `name` came from, recorded in the SBOM (`--name`, `relkit.toml [project] name`);
    /// `None`: "given by the caller".
    pub name_origin: Option<String>,
    /// Where `version` came from, recorded in the SBOM; `None`: "given by the caller".
    pub version_origin: Option<String>,
    /// Supplier, `Organization: X` / `Person: Y` (a bare name becomes `Organization: name`).
    pub supplier: Option<String>,
    /// Download location URL.
    pub download_location: Option<String>,
    /// Declared license expression of the top package.
    pub license: Option<String>,
    /// CPE 2.3 strings of the top package.
    pub cpes: Vec<String>,
    /// Package URLs of the top package.
    pub purls: Vec<String>,
    /// In-tree SBOM path; `None` = use [`DEFAULT_IN_TREE_SBOM`] when present.
    pub in_tree_sbom: Option<String>,
    /// Do not read any in-tree SBOM.
    pub no_in_tree_sbom: bool,
    /// Directories (relative) whose `*.whl` files become packages.
    pub wheel_dirs: Vec<String>,
    /// Creation time (RFC 3339); empty = [`crate::input_time`] (commit time, else the newest
    /// member modification time).
    pub created: String,
    /// Document namespace; derived from the content when `None`.
    pub namespace: Option<String>,
    /// Do not read lockfiles and installed-package metadata (relkit-catalog).
    pub no_catalog: bool,
    /// Which cataloged packages go in.
    pub selection: crate::dependencies::Selection,
    /// Glob patterns (relative paths; a leading `./` is ignored) of files and directories
    /// left out of the SBOM entirely: not hashed, not listed, not cataloged.
    pub exclude: Vec<String>,
    /// Whether every file is listed with its checksums.
    pub files: FileInventory,
}

/// `[project] name` / `version` from `relkit.toml` at the root of a directory, used as defaults
/// for the top package (flags win). Unreadable or absent files give `(None, None)`; a file that
/// exists but is not TOML is an error naming it.
pub fn project_defaults(dir: &Path) -> Result<(Option<String>, Option<String>)> {
    let path = dir.join("relkit.toml");
    if !dir.is_dir() || !path.is_file() {
        return Ok((None, None));
    }
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let value: toml::Table = text.parse().map_err(|e: toml::de::Error| Error::Invalid {
        origin: path.display().to_string(),
        path: "[project]".into(),
        message: e.to_string(),
    })?;
    let get = |k: &str| {
        value
            .get("project")
            .and_then(|p| p.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    Ok((get("name"), get("version")))
}

/// The top package's identity from the `[sbom]` table of `relkit.toml` (the table
/// `relkit release` reads: `supplier`, `download-location`, `license`, `cpe`, `purl`,
/// `in-tree`), used as defaults by `sbom generate` (flags win).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SbomDefaults {
    /// `supplier`.
    pub supplier: Option<String>,
    /// `download-location`.
    pub download_location: Option<String>,
    /// `license`.
    pub license: Option<String>,
    /// `cpe`, with `{version}` replaced.
    pub cpes: Vec<String>,
    /// `purl`, with `{version}` replaced.
    pub purls: Vec<String>,
    /// `in-tree`: the in-tree SBOM path.
    pub in_tree: Option<String>,
}

/// Reads [`SbomDefaults`] from `dir/relkit.toml` (none when `dir` is not a directory or has no
/// such file); `{version}` in `cpe`/`purl` becomes `version`. A value of the wrong type is an
/// error naming the key.
pub fn sbom_defaults(dir: &Path, version: Option<&str>) -> Result<SbomDefaults> {
    let path = dir.join("relkit.toml");
    if !dir.is_dir() || !path.is_file() {
        return Ok(SbomDefaults::default());
    }
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let value: toml::Table = text.parse().map_err(|e: toml::de::Error| Error::Invalid {
        origin: path.display().to_string(),
        path: "[sbom]".into(),
        message: e.to_string(),
    })?;
    let Some(table) = value.get("sbom").and_then(|t| t.as_table()) else {
        return Ok(SbomDefaults::default());
    };
    let bad = |key: &str, want: &str| Error::Invalid {
        origin: path.display().to_string(),
        path: format!("[sbom] {key}"),
        message: format!("must be {want}"),
    };
    let string = |key: &str| -> Result<Option<String>> {
        match table.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(|s| Some(s.to_string()))
                .ok_or_else(|| bad(key, "a string")),
        }
    };
    let list = |key: &str| -> Result<Vec<String>> {
        let Some(v) = table.get(key) else {
            return Ok(Vec::new());
        };
        let items = v
            .as_array()
            .ok_or_else(|| bad(key, "an array of strings"))?;
        items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(|s| s.replace("{version}", version.unwrap_or("")))
                    .ok_or_else(|| bad(key, "an array of strings"))
            })
            .collect()
    };
    Ok(SbomDefaults {
        supplier: string("supplier")?,
        download_location: string("download-location")?,
        license: string("license")?,
        cpes: list("cpe")?,
        purls: list("purl")?,
        in_tree: string("in-tree")?,
    })
}

/// Hashes the tree or archive at `path` and builds its SBOM.
pub fn generate(
    path: &Path,
    opts: &SourceOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Document> {
    generate_keeping(path, opts, progress, &|_| false).map(|g| g.doc)
}

/// A source SBOM with what was read alongside it.
#[derive(Debug)]
pub struct SourceSbom {
    /// The document.
    pub doc: Document,
    /// The bytes of the files the caller asked to keep, by relative path.
    pub kept: BTreeMap<String, Vec<u8>>,
    /// What the catalogers could not read or resolve, each naming its file (a malformed
    /// lockfile's packages are missing from the document: the caller must show these). The
    /// [`SourceSbom::not_cataloged`] ones are among them, prefixed `not cataloged: `.
    pub warnings: Vec<String>,
    /// The files whose contents could not be read at all — a malformed dependency file, an
    /// executable whose build info or libraries could not be read — one sentence each, naming
    /// the file: what they hold is missing from the document, so a check that answers for the
    /// whole tree (`relkit scan`) must fail rather than call it clean.
    pub not_cataloged: Vec<String>,
}

/// [`generate`], also returning the bytes of the files `also_keep` selects (by path relative
/// to the tree root, as in the SBOM), read during the same single pass: a caller that needs a
/// few files' content afterwards (e.g. a version check on an archive) does not decompress the
/// archive again.
pub fn generate_keeping(
    path: &Path,
    opts: &SourceOptions,
    progress: &(dyn Fn(u64) + Sync),
    also_keep: &(dyn Fn(&str) -> bool + Sync),
) -> Result<SourceSbom> {
    let wheel_dirs: Vec<String> = if opts.wheel_dirs.is_empty() {
        vec![DEFAULT_WHEEL_DIR.to_string()]
    } else {
        opts.wheel_dirs
            .iter()
            .map(|d| d.trim_end_matches('/').to_string())
            .collect()
    };
    let in_tree = if opts.no_in_tree_sbom {
        None
    } else {
        Some(
            opts.in_tree_sbom
                .clone()
                .unwrap_or_else(|| DEFAULT_IN_TREE_SBOM.to_string()),
        )
    };
    let keep = |p: &str| {
        in_tree.as_deref() == Some(p)
            || (p.ends_with(".whl")
                && wheel_dirs
                    .iter()
                    .any(|d| p.rsplit_once('/').map(|(dir, _)| dir) == Some(d.as_str())))
            || also_keep(p)
            || crate::identity::reads(p)
            || (!opts.no_catalog && relkit_catalog::tree::wanted(p))
    };
    let exclude = exclusions(&opts.exclude)?;
    // What kind of input this is: a directory is looked at before its walk (which it
    // decides), an archive is known from its members after it. One answer for both uses.
    let dir_kind = path.is_dir().then(|| dir_distribution(path));
    // A directory whose files are not to be listed is not read whole either: only its native
    // binaries and the files the rules read (unless an in-tree SBOM's files are to be verified).
    let hashing = match dir_kind {
        Some(kind)
            if !opts.files.lists(kind)
                && in_tree.as_deref().is_none_or(|p| !path.join(p).is_file()) =>
        {
            tree::Hashing::NativeOnly
        }
        _ => tree::Hashing::All,
    };
    let mut tree = tree::scan_with(path, hashing, &keep, &|p| exclude.is_match(p), progress)?;
    let distribution = dir_kind.unwrap_or_else(|| python_distribution(tree_paths(&tree)));
    // What the input says about the top package: its root files, the archive's name, its
    // single top directory (a directory's own name).
    let file_name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    let (archive_name, top_dir) = if path.is_dir() {
        let canonical = std::fs::canonicalize(path).ok();
        (
            None,
            canonical
                .as_deref()
                .and_then(file_name)
                .or_else(|| file_name(path)),
        )
    } else {
        (file_name(path), tree.root.clone())
    };
    // The executables at the root that are a component by their own VERSIONINFO.
    let programs = crate::binary::programs(&tree.libraries);
    let inferred = crate::identity::infer(
        &tree.kept,
        &programs,
        archive_name.as_deref(),
        top_dir.as_deref(),
    );
    let in_tree_present = in_tree.as_deref().filter(|p| tree.kept.contains_key(*p));
    if let (Some(explicit), None) = (&opts.in_tree_sbom, in_tree_present) {
        return Err(Error::io(
            path.join(explicit),
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "in-tree SBOM given with --in-tree-sbom is not in the tree",
            ),
        ));
    }
    let mut opts = opts.clone();
    if opts.created.is_empty() {
        opts.created = crate::input_time(path, tree.newest_mtime.as_deref());
    }
    fn given<'a>(
        value: &'a Option<String>,
        origin: &'a Option<String>,
    ) -> Option<crate::identity::Given<'a>> {
        value.as_deref().map(|value| crate::identity::Given {
            value,
            origin: origin.as_deref(),
        })
    }
    let identity = crate::identity::resolve(
        given(&opts.name, &opts.name_origin),
        given(&opts.version, &opts.version_origin),
        &inferred,
        "source",
    );
    opts.name = Some(identity.name.clone());
    opts.version = identity.version.clone();
    // CPython's identifiers as its release tooling (release-tools' sbom.py) writes them, when
    // the tree is CPython by its own header and nobody gave others.
    if identity.name == crate::identity::CPYTHON
        && let Some(v) = &identity.version
        && opts.cpes.is_empty()
    {
        opts.cpes.push(crate::identity::cpython_cpe(v));
        opts.supplier
            .get_or_insert_with(|| "Organization: Python Software Foundation".into());
        opts.license.get_or_insert_with(|| "PSF-2.0".into());
    }
    let found = if opts.no_catalog {
        relkit_catalog::tree::TreeCatalog::default()
    } else {
        let mut found = relkit_catalog::tree::catalog_files(
            tree.kept.iter().map(|(p, b)| (p.as_str(), b.as_slice())),
            &|p| p.to_string(),
        );
        // Go executables, found by their bytes during the walk.
        found
            .catalogs
            .extend(std::mem::take(&mut tree.go).into_iter().map(|mut c| {
                c.vendored = relkit_catalog::tree::vendored_under(&c.file);
                c
            }));
        found.errors.append(&mut tree.go_errors);
        found
    };
    let mut not_cataloged: Vec<String> = found
        .errors
        .iter()
        .map(|e| crate::dependencies::error_text(e))
        .collect();
    let mut warnings: Vec<String> = Vec::new();
    // Every warning names its file (a cataloger may give only the place inside it).
    warnings.extend(found.catalogs.iter().flat_map(|c| {
        c.warnings.iter().map(move |w| {
            if w.starts_with(&c.file) {
                w.clone()
            } else {
                format!("{}: {w}", c.file)
            }
        })
    }));
    warnings.extend(inferred.warnings);
    let mut doc = build(
        &tree,
        &opts,
        &identity.name,
        Some(&identity.comment),
        in_tree_present,
        &wheel_dirs,
        &found.catalogs,
    )?;
    if !opts.files.lists(distribution) {
        leave_files_out(&mut doc, distribution);
    }
    // The libraries in the tree's native binaries (vendored `NAME.libs/`, static links).
    warnings.extend(crate::tree_libs::add(&mut doc, &tree.libraries));
    not_cataloged.extend(tree.library_errors.iter().cloned());
    // A directory's top-level wheels (a `dist/`, a wheelhouse), each read as a wheel.
    if path.is_dir() {
        let wheels: Vec<&str> = tree_paths(&tree)
            .filter(|p| crate::dist_wheels::is_top_wheel(p))
            .collect();
        warnings.extend(crate::dist_wheels::add(&mut doc, path, &wheels, &opts)?);
    }
    let kept = tree
        .kept
        .into_iter()
        .filter(|(p, _)| also_keep(p))
        .collect();
    warnings.splice(
        0..0,
        not_cataloged.iter().map(|e| format!("not cataloged: {e}")),
    );
    Ok(SourceSbom {
        doc,
        kept,
        warnings,
        not_cataloged,
    })
}

/// [`python_distribution`] of a directory, read before its walk from the few paths it looks
/// at (an unreadable directory is not one; the walk says why it cannot be read).
fn dir_distribution(dir: &Path) -> Option<&'static str> {
    let names = |d: &Path| -> Vec<String> {
        std::fs::read_dir(d)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    };
    let mut paths: Vec<String> = Vec::new();
    for n in names(dir) {
        if n.ends_with(".dist-info") {
            paths.push(format!("{n}/METADATA"));
        } else if n == "include" {
            paths.extend(
                names(&dir.join("include"))
                    .into_iter()
                    .map(|c| format!("include/{c}/patchlevel.h"))
                    .filter(|p| dir.join(p).is_file()),
            );
        }
        paths.push(n);
    }
    python_distribution(paths.iter().map(String::as_str))
}

/// Every path of a walked tree, hashed or not.
fn tree_paths(tree: &tree::Tree) -> impl Iterator<Item = &str> {
    tree.files
        .iter()
        .map(|f| f.path.as_str())
        .chain(tree.listed.iter().map(|f| f.path.as_str()))
}

/// Leaves the file inventory out of `doc` and says so in its top package's comment, with the
/// reason (`distribution`: why the input is a Python distribution; `None`: `--no-files`).
fn leave_files_out(doc: &mut Document, distribution: Option<&str>) {
    doc.drop_files();
    let why = match distribution {
        Some(d) => format!("File inventory left out: the input is {d}; --files lists it."),
        None => "File inventory left out (--no-files).".to_string(),
    };
    let top = doc.describes.first().cloned();
    if let Some(p) = doc
        .packages
        .iter_mut()
        .find(|p| Some(&p.id) == top.as_ref())
    {
        p.comment = Some(match p.comment.take() {
            Some(c) => format!("{c} {why}"),
            None => why,
        });
    }
}

/// The `--exclude` patterns as one matcher (a leading `./` is dropped: syft's and Trivy's
/// users write `./vendor/**`).
fn exclusions(patterns: &[String]) -> Result<globset::GlobSet> {
    let mut set = globset::GlobSetBuilder::new();
    for p in patterns {
        let glob = globset::GlobBuilder::new(p.strip_prefix("./").unwrap_or(p))
            .literal_separator(true)
            .build()
            .map_err(|e| Error::Invalid {
                origin: "--exclude".into(),
                path: p.clone(),
                message: format!("not a glob pattern: {e}"),
            })?;
        set.add(glob);
    }
    set.build().map_err(|e| Error::Invalid {
        origin: "--exclude".into(),
        path: String::new(),
        message: e.to_string(),
    })
}

fn build(
    tree: &tree::Tree,
    opts: &SourceOptions,
    default_name: &str,
    top_comment: Option<&str>,
    in_tree: Option<&str>,
    wheel_dirs: &[String],
    catalogs: &[relkit_catalog::Catalog],
) -> Result<Document> {
    let name = opts
        .name
        .clone()
        .unwrap_or_else(|| default_name.to_string());
    let mut ids = IdAllocator::default();
    let mut doc = Document {
        created: opts.created.clone(),
        creators: vec![crate::tool_creator()],
        ..Document::default()
    };
    let top_id = ids.allocate("SPDXRef-PACKAGE-", &name.to_ascii_lowercase());
    ids.reserve(crate::spdx::DOCUMENT_ID);
    let file_ids = add_files(&mut doc, tree, &mut ids);
    let (vendored, claimed) = match in_tree {
        Some(sbom_path) => in_tree_packages(&mut doc, tree, sbom_path, &file_ids, &mut ids)?,
        None => (Vec::new(), BTreeSet::new()),
    };
    let wheel_pkgs = bundled_wheels(&mut doc, tree, wheel_dirs, &top_id, &mut ids)?;

    // Top package owns every file no vendored package claims.
    for f in &doc.files {
        if !claimed.contains(&f.id) {
            doc.relationships.push(Relationship {
                from: top_id.clone(),
                kind: "CONTAINS".into(),
                to: f.id.clone(),
            });
        }
    }
    for p in &vendored {
        doc.relationships.push(Relationship {
            from: top_id.clone(),
            kind: "DEPENDS_ON".into(),
            to: p.id.clone(),
        });
    }
    let mut top = top_package(opts, &top_id, &name);
    top.comment = top_comment.map(str::to_string);
    doc.packages.push(top);
    doc.packages.extend(vendored);
    doc.packages.extend(wheel_pkgs);
    crate::dependencies::add(&mut doc, &mut ids, Some(&top_id), catalogs, opts.selection);
    doc.describes.push(top_id);
    add_verification_codes(&mut doc);

    let version = opts.version.clone().unwrap_or_default();
    doc.name = if version.is_empty() {
        name.clone()
    } else {
        format!("{name}-{version}")
    };
    doc.namespace = opts
        .namespace
        .clone()
        .unwrap_or_else(|| content_namespace(tree, &doc.name));
    doc.normalize();
    Ok(doc)
}

/// Every file of the tree with its SHA-1 and SHA-256; returns path → SPDX id.
fn add_files<'t>(
    doc: &mut Document,
    tree: &'t tree::Tree,
    ids: &mut IdAllocator,
) -> BTreeMap<&'t str, String> {
    let mut file_ids: BTreeMap<&str, String> = BTreeMap::new();
    for f in &tree.files {
        let id = ids.allocate("SPDXRef-FILE-", &f.path);
        file_ids.insert(&f.path, id.clone());
        doc.files.push(File {
            id,
            name: f.path.clone(),
            checksums: vec![
                Checksum {
                    algorithm: "SHA1".into(),
                    value: f.sha1.clone(),
                },
                Checksum {
                    algorithm: "SHA256".into(),
                    value: f.sha256.clone(),
                },
            ],
            ..File::default()
        });
    }
    file_ids
}

/// The vendored packages of the in-tree SBOM at `sbom_path`, every file it declares verified
/// against the tree, and their relationships (mapped to this document's file ids). Returns
/// the packages and the ids of the files they CONTAIN.
fn in_tree_packages(
    doc: &mut Document,
    tree: &tree::Tree,
    sbom_path: &str,
    file_ids: &BTreeMap<&str, String>,
    ids: &mut IdAllocator,
) -> Result<(Vec<Package>, BTreeSet<String>)> {
    let value = crate::json::parse(&tree.kept[sbom_path], sbom_path)?;
    let (partial, _) = crate::spdx::read(&value, sbom_path)?;
    let id_map = verify_in_tree_files(tree, &partial, sbom_path, file_ids)?;
    let mut claimed: BTreeSet<String> = BTreeSet::new();
    let pkg_ids: BTreeSet<&str> = partial.packages.iter().map(|p| p.id.as_str()).collect();
    for p in &partial.packages {
        ids.reserve(&p.id);
    }
    for r in &partial.relationships {
        let to = id_map
            .get(r.to.as_str())
            .cloned()
            .or_else(|| pkg_ids.contains(r.to.as_str()).then(|| r.to.clone()));
        if let (true, Some(to)) = (pkg_ids.contains(r.from.as_str()), to) {
            if r.kind == "CONTAINS" {
                claimed.insert(to.clone());
            }
            doc.relationships.push(Relationship {
                from: r.from.clone(),
                kind: r.kind.clone(),
                to,
            });
        }
    }
    let vendored = partial
        .packages
        .iter()
        .map(|p| {
            let mut p = p.clone();
            vendored_defaults(&mut p);
            p
        })
        .collect();
    Ok((vendored, claimed))
}

/// Checks every file the in-tree SBOM declares against the tree (present, SHA-1/SHA-256
/// equal); returns its file id → this document's file id.
fn verify_in_tree_files<'p>(
    tree: &tree::Tree,
    partial: &'p Document,
    sbom_path: &str,
    file_ids: &BTreeMap<&str, String>,
) -> Result<BTreeMap<&'p str, String>> {
    let by_path: BTreeMap<&str, &tree::HashedFile> =
        tree.files.iter().map(|f| (f.path.as_str(), f)).collect();
    let mut problems = Vec::new();
    let mut id_map: BTreeMap<&str, String> = BTreeMap::new();
    for vf in &partial.files {
        match by_path.get(vf.name.as_str()) {
            None => problems.push(format!(
                "  {}: declared in the in-tree SBOM but missing from the tree",
                vf.name
            )),
            Some(actual) => {
                for (alg, have) in [("SHA1", &actual.sha1), ("SHA256", &actual.sha256)] {
                    if let Some(want) = vf.checksum(alg)
                        && want != have
                    {
                        problems.push(format!(
                            "  {}: {alg} expected {want}, tree has {have}",
                            vf.name
                        ));
                    }
                }
                if vf.checksum("SHA1").is_none() && vf.checksum("SHA256").is_none() {
                    problems.push(format!(
                        "  {}: the in-tree SBOM gives no SHA1/SHA256 to verify",
                        vf.name
                    ));
                }
                id_map.insert(&vf.id, file_ids[vf.name.as_str()].clone());
            }
        }
    }
    if !problems.is_empty() {
        return Err(Error::VendoredMismatch {
            sbom: sbom_path.into(),
            problems,
        });
    }
    Ok(id_map)
}

/// The wheels kept from the wheel directories, each a package the top package DEPENDS_ON,
/// with the projects it vendors.
fn bundled_wheels(
    doc: &mut Document,
    tree: &tree::Tree,
    wheel_dirs: &[String],
    top_id: &str,
    ids: &mut IdAllocator,
) -> Result<Vec<Package>> {
    let mut wheel_pkgs = Vec::new();
    for (path, bytes) in &tree.kept {
        if !path.ends_with(".whl")
            || !wheel_dirs
                .iter()
                .any(|d| path.rsplit_once('/').map(|(dir, _)| dir) == Some(d.as_str()))
        {
            continue;
        }
        let (pkg, vendored_projects) = wheel_package(path, bytes, ids)?;
        doc.relationships.push(Relationship {
            from: top_id.to_string(),
            kind: "DEPENDS_ON".into(),
            to: pkg.id.clone(),
        });
        for dep in vendored_projects {
            doc.relationships.push(Relationship {
                from: pkg.id.clone(),
                kind: "DEPENDS_ON".into(),
                to: dep.id.clone(),
            });
            wheel_pkgs.push(dep);
        }
        wheel_pkgs.push(pkg);
    }
    Ok(wheel_pkgs)
}

/// The top package: what the options say, NOASSERTION for the rest.
fn top_package(opts: &SourceOptions, top_id: &str, name: &str) -> Package {
    let supplier = opts.supplier.as_ref().map(|s| {
        if s.starts_with("Organization:") || s.starts_with("Person:") || s == "NOASSERTION" {
            s.clone()
        } else {
            format!("Organization: {s}")
        }
    });
    Package {
        id: top_id.to_string(),
        name: name.to_string(),
        version: opts.version.clone(),
        supplier,
        download_location: Some(
            opts.download_location
                .clone()
                .unwrap_or_else(|| "NOASSERTION".into()),
        ),
        license_concluded: Some("NOASSERTION".into()),
        license_declared: Some(opts.license.clone().unwrap_or_else(|| "NOASSERTION".into())),
        copyright: Some("NOASSERTION".into()),
        cpes: opts.cpes.clone(),
        purls: opts.purls.clone(),
        files_analyzed: true,
        purpose: Some("SOURCE".into()),
        ..Package::default()
    }
}

/// Verification codes for every package that lists its files; a package that contains none
/// is not "files analyzed".
fn add_verification_codes(doc: &mut Document) {
    let sha1_of: BTreeMap<&str, &str> = doc
        .files
        .iter()
        .map(|f| (f.id.as_str(), f.checksum("SHA1").unwrap_or("")))
        .collect();
    let by_package = doc.contained_files_by_package();
    let none = BTreeSet::new();
    let codes: Vec<(usize, Option<String>)> = doc
        .packages
        .iter()
        .enumerate()
        .filter(|(_, p)| p.files_analyzed)
        .map(|(i, p)| {
            let contained = by_package.get(p.id.as_str()).unwrap_or(&none);
            (
                i,
                (!contained.is_empty())
                    .then(|| model::verification_code(contained.iter().map(|id| sha1_of[id]))),
            )
        })
        .collect();
    for (i, code) in codes {
        let p = &mut doc.packages[i];
        match code {
            Some(c) => p.verification_code = Some(c),
            None => p.files_analyzed = false,
        }
    }
}

/// A document namespace derived from the content: every file's path and SHA-256 (its size, for
/// a file not hashed).
fn content_namespace(tree: &tree::Tree, doc_name: &str) -> String {
    let mut h = Sha256::new();
    for f in &tree.files {
        h.update(f.path.as_bytes());
        h.update(f.sha256.as_bytes());
    }
    // Files listed without their content hashed: their paths and sizes.
    for f in &tree.listed {
        h.update(f.path.as_bytes());
        h.update(f.size.to_string().as_bytes());
    }
    let digest = hex::encode(h.finalize());
    format!(
        "https://spdx.org/spdxdocs/relkit/{}-{}",
        model::sanitize_id(doc_name),
        &digest[..16]
    )
}

/// SBOM of a wheel given directly: the top package comes from its dist-info METADATA (name,
/// version, license, PURL, the wheel's SHA-256), each member's hash is verified against the
/// wheel's RECORD (every member is listed as a file with [`FileInventory::Always`]), and
/// pip-style `_vendor/vendor.txt` projects become dependencies.
pub fn generate_wheel(
    path: &Path,
    opts: &SourceOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Document> {
    generate_wheel_warning(path, opts, progress).map(|(doc, _)| doc)
}

/// [`generate_wheel`], with the wheel's PEP 770 SBOMs (`*.dist-info/sboms/*.json`) merged
/// ([`crate::pep770`]) and the warnings about them.
pub fn generate_wheel_warning(
    path: &Path,
    opts: &SourceOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(Document, Vec<String>)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let origin = path.display().to_string();
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut ids = IdAllocator::default();
    let (pkg, deps) = wheel_package(&file_name, &bytes, &mut ids)?;
    let mut tree = tree::scan(
        path,
        &|p| p.ends_with(".dist-info/RECORD") || crate::pep770::is_sbom(p),
        progress,
    )?;
    verify_record(&tree, &origin)?;
    let mut o = opts.clone();
    if o.created.is_empty() {
        o.created = crate::input_time(path, tree.newest_mtime.as_deref());
    }
    o.name = o.name.or_else(|| Some(pkg.name.clone()));
    o.version = o.version.or_else(|| pkg.version.clone());
    let mut doc = build(&tree, &o, &pkg.name, None, None, &[], &[])?;
    let top_id = doc.describes[0].clone();
    let taken: BTreeSet<String> = doc.packages.iter().map(|p| p.id.clone()).collect();
    if let Some(top) = doc.packages.iter_mut().find(|p| p.id == top_id) {
        top.checksums = pkg.checksums.clone();
        if top.purls.is_empty() {
            top.purls = pkg.purls.clone();
        }
        if top.cpes.is_empty() {
            top.cpes = pkg.cpes.clone();
        }
        if opts.license.is_none() {
            top.license_declared = pkg.license_declared.clone();
        }
        if opts.supplier.is_none() {
            top.supplier = pkg.supplier.clone();
        }
        if opts.download_location.is_none() {
            top.download_location = pkg.download_location.clone();
        }
        top.evidence = pkg.evidence.clone();
        top.purpose = Some("LIBRARY".into());
    }
    for mut d in deps {
        if taken.contains(&d.id) {
            d.id = format!("{}-vendored", d.id);
        }
        doc.relationships.push(Relationship {
            from: top_id.clone(),
            kind: "DEPENDS_ON".into(),
            to: d.id.clone(),
        });
        doc.packages.push(d);
    }
    let mut warnings = crate::pep770::merge(&mut doc, &top_id, &pkg.name, &tree.kept, &origin);
    // The wheel's native binaries, read once by the walk: the vendored ones (`NAME.libs/`,
    // `.dylibs/`) are wheel_libs'; the others are extension modules that link a library in, as
    // lxml's etree links libxml2 and libxslt.
    let (vendored_scans, linked_in): (Vec<_>, Vec<_>) = std::mem::take(&mut tree.libraries)
        .into_iter()
        .partition(|s| crate::wheel_libs::is_vendored_lib(&s.path));
    let vendored: Vec<&str> = tree
        .files
        .iter()
        .map(|f| f.path.as_str())
        .filter(|p| crate::wheel_libs::is_vendored_lib(p))
        .collect();
    warnings.extend(crate::wheel_libs::add(
        &mut doc,
        &top_id,
        &vendored_scans,
        &vendored,
        &origin,
    ));
    warnings.extend(
        crate::tree_libs::add(&mut doc, &linked_in)
            .into_iter()
            .map(|w| format!("{origin}!{w}")),
    );
    // Every member was hashed and checked against RECORD; listing them is what --files asks.
    if !opts.files.lists(Some("a wheel")) {
        leave_files_out(&mut doc, Some("a wheel"));
    }
    // A wheel is one artifact: a native member that cannot be read fails it (as a vendored
    // library does in wheel_libs), rather than an SBOM silent about what it links in.
    if let Some(e) = tree.library_errors.first() {
        return Err(Error::Invalid {
            origin: origin.clone(),
            path: String::new(),
            message: e.clone(),
        });
    }
    doc.normalize();
    Ok((doc, warnings))
}

/// Checks every member of a wheel against its RECORD (`path,sha256=<base64url>,size`).
fn verify_record(tree: &tree::Tree, origin: &str) -> Result<()> {
    // The kept members are sorted by path: delocate's `PIL/.dylibs/…` sorts before
    // `pillow-….dist-info/RECORD`, so the RECORD is looked up by name, not taken first.
    let Some((record_path, record)) = tree
        .kept
        .iter()
        .find(|(p, _)| p.ends_with(".dist-info/RECORD"))
    else {
        return Err(Error::Archive {
            origin: origin.into(),
            message: "wheel has no *.dist-info/RECORD".into(),
        });
    };
    let record = String::from_utf8_lossy(record);
    let mut listed: BTreeMap<&str, &str> = BTreeMap::new();
    for line in record.lines().filter(|l| !l.trim().is_empty()) {
        // Paths with commas are quoted; relkit does not need them, so they stay unmatched.
        let mut parts = line.rsplitn(3, ',');
        let (_size, hash, name) = (
            parts.next(),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        listed.insert(name, hash);
    }
    let mut problems = Vec::new();
    for f in &tree.files {
        if &f.path == record_path
            || f.path.ends_with(".dist-info/RECORD.jws")
            || f.path.ends_with(".dist-info/RECORD.p7s")
        {
            continue;
        }
        match listed.get(f.path.as_str()) {
            None => problems.push(format!("  {}: not listed in {record_path}", f.path)),
            Some(h) => match h.strip_prefix("sha256=").and_then(base64url_decode) {
                Some(want) if hex::encode(&want) == f.sha256 => {}
                Some(want) => problems.push(format!(
                    "  {}: SHA256 expected {}, wheel has {}",
                    f.path,
                    hex::encode(want),
                    f.sha256
                )),
                None => problems.push(format!(
                    "  {}: RECORD hash {h:?} is not sha256=<base64url>",
                    f.path
                )),
            },
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::VendoredMismatch {
            sbom: format!("{origin}!{record_path}"),
            problems,
        })
    }
}

/// Decodes base64url (RFC 4648 §5), as wheel RECORD files write hashes (unpadded; a padded
/// value is accepted too).
fn base64url_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()
}

/// Gives vendored packages from a partial in-tree SBOM the fields a complete document needs.
fn vendored_defaults(p: &mut Package) {
    if p.download_location.is_none() {
        p.download_location = Some("NOASSERTION".into());
    }
    if p.license_concluded.is_none() {
        p.license_concluded = Some("NOASSERTION".into());
    }
}

/// Reads a wheel's dist-info METADATA (and pip's `_vendor/vendor.txt`) into packages.
fn wheel_package(
    path: &str,
    bytes: &[u8],
    ids: &mut IdAllocator,
) -> Result<(Package, Vec<Package>)> {
    let zerr = |m: String| Error::Archive {
        origin: path.into(),
        message: m,
    };
    let is_metadata = |n: &str| n.ends_with(".dist-info/METADATA") && n.matches('/').count() == 1;
    let wheel = crate::wheel::read_members(
        bytes,
        path,
        &|n| is_metadata(n) || n.ends_with("/_vendor/vendor.txt"),
        MEMBER_CAP,
    )?;
    let names = &wheel.names;
    let metadata_name = names
        .iter()
        .find(|n| is_metadata(n))
        .ok_or_else(|| zerr("wheel has no *.dist-info/METADATA".into()))?;
    let metadata = member_text(&wheel, metadata_name).map_err(zerr)?;
    let headers = parse_metadata(&metadata);
    let get = |k: &str| {
        headers
            .iter()
            .find(|(h, _)| h.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.clone())
    };
    let name = get("Name").ok_or_else(|| zerr(format!("{metadata_name}: no Name header")))?;
    let version =
        get("Version").ok_or_else(|| zerr(format!("{metadata_name}: no Version header")))?;
    let norm = normalize_pypi(&name);
    let file_name = path.rsplit('/').next().unwrap_or(path);
    let license = get("License-Expression")
        .or_else(|| get("License"))
        .filter(|l| spdx::Expression::parse(l).is_ok());
    let mut pkg = Package {
        id: ids.allocate("SPDXRef-PACKAGE-", &norm),
        name: name.clone(),
        version: Some(version.clone()),
        supplier: get("Author")
            .or_else(|| get("Author-email"))
            .map(|a| match a.split_once('<') {
                Some((n, mail)) => format!(
                    "Organization: {} ({})",
                    n.trim(),
                    mail.trim_end_matches('>').trim()
                ),
                None => format!("Organization: {a}"),
            }),
        download_location: Some(format!(
            "https://files.pythonhosted.org/packages/py3/{}/{norm}/{file_name}",
            norm.chars().next().unwrap_or('_')
        )),
        license_concluded: Some(license.clone().unwrap_or_else(|| "NOASSERTION".into())),
        license_declared: Some(license.unwrap_or_else(|| "NOASSERTION".into())),
        checksums: vec![Checksum {
            algorithm: "SHA256".into(),
            value: hex::encode(Sha256::digest(bytes)),
        }],
        purls: vec![format!("pkg:pypi/{norm}@{version}")],
        purpose: Some("SOURCE".into()),
        comment: Some(format!("bundled wheel {path}")),
        evidence: vec![model::Evidence {
            file: format!("{path}!{metadata_name}"),
            offset: None,
            method: "dist-info".into(),
            text: format!("Name: {name} / Version: {version}"),
        }],
        ..Package::default()
    };
    if norm == "pip" {
        pkg.cpes
            .push(format!("cpe:2.3:a:pypa:pip:{version}:*:*:*:*:*:*:*"));
    }
    let mut deps = Vec::new();
    if let Some(vendor) = names.iter().find(|n| n.ends_with("/_vendor/vendor.txt")) {
        let text = member_text(&wheel, vendor).map_err(zerr)?;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            let Some((dep, ver)) = line.split_once("==") else {
                continue;
            };
            let dep_norm = normalize_pypi(dep.trim());
            let ver = ver.split(';').next().unwrap_or("").trim().to_string();
            deps.push(Package {
                id: ids.allocate("SPDXRef-PACKAGE-", &dep_norm),
                name: dep.trim().to_string(),
                version: Some(ver.clone()),
                download_location: Some("NOASSERTION".into()),
                license_concluded: Some("NOASSERTION".into()),
                purls: vec![format!("pkg:pypi/{dep_norm}@{ver}")],
                purpose: Some("SOURCE".into()),
                comment: Some(format!("vendored by {name} {version} ({vendor})")),
                evidence: vec![model::Evidence {
                    file: format!("{path}!{vendor}"),
                    offset: None,
                    method: "dist-info".into(),
                    text: line.to_string(),
                }],
                ..Package::default()
            });
        }
    }
    Ok((pkg, deps))
}

/// Wheel members larger than this are read only up to it (METADATA and vendor.txt are small).
const MEMBER_CAP: u64 = 16 << 20;

/// A kept member of a wheel as UTF-8 text.
fn member_text(wheel: &crate::wheel::Members, name: &str) -> std::result::Result<String, String> {
    let bytes = wheel
        .content
        .get(name)
        .ok_or_else(|| format!("{name}: not read"))?;
    String::from_utf8(bytes.clone())
        .map_err(|_| format!("{name}: stream did not contain valid UTF-8"))
}

/// Parses the RFC 822 header block of a core-metadata file (continuation lines folded).
fn parse_metadata(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push('\n');
                last.1.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            out.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

/// PEP 503 name normalization, as PURL's pypi type requires.
pub(crate) fn normalize_pypi(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c == '-' || c == '_' || c == '.' {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_headers_and_names() {
        let h = parse_metadata(
            "Metadata-Version: 2.4\nName: pip\nVersion: 25.1.1\nLicense-Expression: MIT\n\nbody: x\n",
        );
        assert_eq!(h[1], ("Name".into(), "pip".into()));
        assert_eq!(h.len(), 4);
        assert_eq!(normalize_pypi("Typing_Extensions"), "typing-extensions");
        assert_eq!(normalize_pypi("zope.interface"), "zope-interface");
    }

    #[test]
    fn base64url() {
        assert_eq!(base64url_decode("aGVsbG8").unwrap(), b"hello");
        assert_eq!(base64url_decode("-_8").unwrap(), [0xfb, 0xff]);
        assert!(base64url_decode("a+b").is_none());
    }
}
