//! The "SBOM of a source input" use case, shared by `relkit sbom generate` and the release
//! pipeline's sbom step: the top package's options assembled from what the caller says
//! ([`Flags`]: command-line flags, or the pipeline's fixed choices) over the project's
//! defaults ([`ProjectDefaults`]: `relkit.toml`'s `[project]` and `[sbom]`), then one pass
//! over the tree, archive or wheel.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::Result;
use crate::model::Document;
use crate::source::{self, SourceOptions};

/// The project's defaults for the top package, from `relkit.toml` (`[project] name`,
/// `version`; `[sbom] supplier`, `download-location`, `license`, `cpe`, `purl`, `in-tree`).
/// [`Flags`] win over them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectDefaults {
    /// `[project] name`.
    pub name: Option<String>,
    /// `[project] version`.
    pub version: Option<String>,
    /// `[sbom] supplier`.
    pub supplier: Option<String>,
    /// `[sbom] download-location`.
    pub download_location: Option<String>,
    /// `[sbom] license`.
    pub license: Option<String>,
    /// `[sbom] cpe`, templates already expanded.
    pub cpes: Vec<String>,
    /// `[sbom] purl`, templates already expanded.
    pub purls: Vec<String>,
    /// `[sbom] in-tree`: the in-tree SBOM path.
    pub in_tree: Option<String>,
}

impl ProjectDefaults {
    /// Reads `relkit.toml` at the root of `dir` (none when `dir` is not a directory or has no
    /// such file). `{version}` in `cpe`/`purl` becomes `version` when given (a flag), else
    /// `[project] version`.
    pub fn from_tree(dir: &Path, version: Option<&str>) -> Result<ProjectDefaults> {
        let (name, toml_version) = source::project_defaults(dir)?;
        let version = version.map(str::to_string).or(toml_version);
        let sbom = source::sbom_defaults(dir, version.as_deref())?;
        Ok(ProjectDefaults {
            name,
            version,
            supplier: sbom.supplier,
            download_location: sbom.download_location,
            license: sbom.license,
            cpes: sbom.cpes,
            purls: sbom.purls,
            in_tree: sbom.in_tree,
        })
    }
}

/// What the caller says about this SBOM; `None` / empty = the project's default.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    /// Top package name.
    pub name: Option<String>,
    /// Top package version.
    pub version: Option<String>,
    /// Supplier (`Organization: X`, `Person: Y`, or a bare organization name).
    pub supplier: Option<String>,
    /// Download location URL.
    pub download_location: Option<String>,
    /// Declared license expression of the top package.
    pub license: Option<String>,
    /// CPE 2.3 names of the top package (replace the defaults' when any is given).
    pub cpes: Vec<String>,
    /// Package URLs of the top package (replace the defaults' when any is given).
    pub purls: Vec<String>,
    /// In-tree SBOM path.
    pub in_tree_sbom: Option<String>,
    /// Read no in-tree SBOM, not even the project's.
    pub no_in_tree_sbom: bool,
    /// Directories (relative) whose `*.whl` files become packages.
    pub wheel_dirs: Vec<String>,
    /// Creation time (RFC 3339); empty = [`crate::input_time`].
    pub created: String,
    /// SBOM authors: `Organization: X` / `Person: Y`, a bare name is an organization.
    pub authors: Vec<String>,
    /// Do not read lockfiles and installed-package metadata.
    pub no_catalog: bool,
    /// Leave out development-only dependencies.
    pub no_dev: bool,
    /// Glob patterns of paths left out entirely.
    pub exclude: Vec<String>,
    /// `--files` (`Some(true)`) / `--no-files` (`Some(false)`): list every file with its
    /// checksums, or none; `None`: as the input's kind has it ([`source::FileInventory::Auto`]).
    pub files: Option<bool>,
}

/// Where a top-package field came from, for the SBOM's record: the flag, else the project's
/// default, else nothing (the input's own statement, see [`crate::identity`]).
fn origin(
    flag: &Option<String>,
    default: &Option<String>,
    flag_name: &str,
    default_name: &str,
) -> Option<String> {
    match (flag, default) {
        (Some(_), _) => Some(flag_name.to_string()),
        (None, Some(_)) => Some(default_name.to_string()),
        (None, None) => None,
    }
}

/// The generation options: each flag, else the project's default (the top package's name and
/// version, else what the input states: [`crate::identity`]).
pub fn options(flags: &Flags, defaults: &ProjectDefaults) -> SourceOptions {
    let either = |flag: &Vec<String>, default: &Vec<String>| {
        if flag.is_empty() {
            default.clone()
        } else {
            flag.clone()
        }
    };
    SourceOptions {
        name: flags.name.clone().or(defaults.name.clone()),
        version: flags.version.clone().or(defaults.version.clone()),
        name_origin: origin(
            &flags.name,
            &defaults.name,
            "--name",
            "relkit.toml [project] name",
        ),
        version_origin: origin(
            &flags.version,
            &defaults.version,
            "--version",
            "relkit.toml [project] version",
        ),
        supplier: flags.supplier.clone().or(defaults.supplier.clone()),
        download_location: flags
            .download_location
            .clone()
            .or(defaults.download_location.clone()),
        license: flags.license.clone().or(defaults.license.clone()),
        cpes: either(&flags.cpes, &defaults.cpes),
        purls: either(&flags.purls, &defaults.purls),
        in_tree_sbom: flags
            .in_tree_sbom
            .clone()
            .or(defaults.in_tree.clone().filter(|_| !flags.no_in_tree_sbom)),
        no_in_tree_sbom: flags.no_in_tree_sbom,
        wheel_dirs: flags.wheel_dirs.clone(),
        created: flags.created.clone(),
        namespace: None,
        no_catalog: flags.no_catalog,
        selection: crate::dependencies::Selection {
            include_dev: !flags.no_dev,
        },
        exclude: flags.exclude.clone(),
        files: match flags.files {
            Some(true) => source::FileInventory::Always,
            Some(false) => source::FileInventory::Never,
            None => source::FileInventory::Auto,
        },
    }
}

/// A generated source SBOM.
#[derive(Debug)]
pub struct Generated {
    /// The document, authors added, normalized.
    pub doc: Document,
    /// The bytes of the members `also_keep` selected (paths relative to the tree root), read
    /// in the same pass; empty for a directory's files and for a wheel.
    pub kept: BTreeMap<String, Vec<u8>>,
    /// The input was a wheel (`*.whl`, [`source::generate_wheel`]).
    pub wheel: bool,
    /// What the catalogers could not read or resolve, each naming its file: to be shown.
    pub warnings: Vec<String>,
    /// The files whose contents could not be read at all (see
    /// [`source::SourceSbom::not_cataloged`]): a check answering for the whole input fails.
    pub not_cataloged: Vec<String>,
}

/// Generates the SBOM of a source tree, archive or wheel at `input` with [`options`]`(flags,
/// defaults)`, the authors of `flags` added. `progress` gets the bytes hashed; `also_keep`
/// selects archive members whose bytes the caller needs afterwards (see [`Generated::kept`]).
pub fn generate(
    input: &Path,
    flags: &Flags,
    defaults: &ProjectDefaults,
    progress: &(dyn Fn(u64) + Sync),
    also_keep: &(dyn Fn(&str) -> bool + Sync),
) -> Result<Generated> {
    let opts = options(flags, defaults);
    let wheel = input
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("whl"));
    let (mut doc, kept, warnings, not_cataloged) = if wheel {
        let (doc, warnings) = source::generate_wheel_warning(input, &opts, progress)?;
        (doc, BTreeMap::new(), warnings, Vec::new())
    } else {
        let also_keep: &(dyn Fn(&str) -> bool + Sync) = if input.is_dir() {
            &|_| false
        } else {
            also_keep
        };
        let s = source::generate_keeping(input, &opts, progress, also_keep)?;
        (s.doc, s.kept, s.warnings, s.not_cataloged)
    };
    add_authors(&mut doc, &flags.authors);
    doc.normalize();
    Ok(Generated {
        doc,
        kept,
        wheel,
        warnings,
        not_cataloged,
    })
}

/// Adds SBOM authors as creators: `Organization: X` and `Person: Y` as given, a bare name as
/// `Organization: name`.
pub fn add_authors(doc: &mut Document, authors: &[String]) {
    for a in authors {
        let creator = if a.starts_with("Organization: ") || a.starts_with("Person: ") {
            a.clone()
        } else {
            format!("Organization: {a}")
        };
        doc.creators.push(creator);
    }
}
