//! Java: Gradle's dependency-locking files, `gradle.lockfile` (the project's configurations)
//! and `buildscript-gradle.lockfile` (the build script's `classpath`: plugins), the
//! single-file format of Gradle 6 and later (the per-configuration
//! `gradle/dependency-locks/*.lockfile` files of Gradle 4.8–5 are not read: superseded).
//!
//! Each line is `GROUP:ARTIFACT:VERSION=CONFIGURATION,…`; `empty=…` names configurations
//! without dependencies. The format records neither edges nor hashes (those live in
//! `gradle/verification-metadata.xml`), so a catalog is a flat list. Scope, from the
//! configurations: a package on a main classpath (`compileClasspath`, `runtimeClasspath`, or a
//! source set's `…CompileClasspath`/`…RuntimeClasspath` without `test` in its name) is
//! required; one only on other configurations (tests, linters, annotation processors, code
//! coverage agents) is dev; every package of `buildscript-gradle.lockfile` is build.
//! PURLs are `pkg:maven/GROUP/ARTIFACT@VERSION`.

use std::collections::BTreeMap;

use crate::{Catalog, Cataloger, Ecosystem, Error, Package, Scope, invalid};

/// Reads `gradle.lockfile` and `buildscript-gradle.lockfile`.
pub struct GradleLock;

impl Cataloger for GradleLock {
    fn kind(&self) -> &'static str {
        "gradle.lockfile"
    }

    fn reads(&self, path: &str) -> bool {
        matches!(
            crate::file_name(path),
            "gradle.lockfile" | "buildscript-gradle.lockfile"
        )
    }

    fn catalog(&self, file: &str, bytes: &[u8]) -> Result<Catalog, Error> {
        let text = std::str::from_utf8(bytes).map_err(|e| Error::Syntax {
            file: file.to_string(),
            format: "gradle.lockfile",
            source: e.into(),
        })?;
        let buildscript = crate::file_name(file) == "buildscript-gradle.lockfile";
        let mut catalog = Catalog {
            file: file.to_string(),
            format: if buildscript {
                "buildscript-gradle.lockfile".into()
            } else {
                "gradle.lockfile".into()
            },
            ..Catalog::default()
        };
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with("empty=") {
                continue;
            }
            let place = format!("line {}", n + 1);
            let Some((coordinates, configurations)) = line.split_once('=') else {
                return Err(invalid(file, place, format!("malformed line {line:?}")));
            };
            let [group, artifact, version] = coordinates.split(':').collect::<Vec<_>>()[..] else {
                return Err(invalid(
                    file,
                    place,
                    format!("{coordinates:?} is not GROUP:ARTIFACT:VERSION"),
                ));
            };
            if [group, artifact, version].iter().any(|s| s.is_empty()) {
                return Err(invalid(
                    file,
                    place,
                    format!("empty part in {coordinates:?}"),
                ));
            }
            let scope = if buildscript {
                Scope::Build
            } else if configurations.split(',').any(is_main_classpath) {
                Scope::Required
            } else {
                Scope::Dev
            };
            catalog.packages.push(maven_package(
                file, &place, group, artifact, version, scope,
            )?);
        }
        Ok(catalog)
    }
}

/// Whether a Gradle configuration is a classpath of the main code (not tests, not tools).
fn is_main_classpath(configuration: &str) -> bool {
    let c = configuration.trim();
    (c.ends_with("CompileClasspath") || c.ends_with("RuntimeClasspath"))
        && !c.to_ascii_lowercase().contains("test")
        || c == "compileClasspath"
        || c == "runtimeClasspath"
}

/// A Maven package: `pkg:maven/GROUP/ARTIFACT@VERSION` (no version when `version` is empty).
pub(crate) fn maven_package(
    file: &str,
    place: &str,
    group: &str,
    artifact: &str,
    version: &str,
    scope: Scope,
) -> Result<Package, Error> {
    let purl = relkit_ident::purl::Purl::build(
        "maven",
        Some(group),
        artifact,
        (!version.is_empty()).then_some(version),
        &BTreeMap::new(),
        None,
    )
    .map_err(|e| invalid(file, place, format!("no valid Package URL: {e}")))?
    .to_canonical();
    Ok(Package {
        ecosystem: Ecosystem::Maven,
        name: format!("{group}:{artifact}"),
        version: version.to_string(),
        purl,
        source: None,
        checksums: Vec::new(),
        scope,
        local: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn main_classpaths() {
        for c in [
            "compileClasspath",
            "runtimeClasspath",
            "java17RuntimeClasspath",
        ] {
            assert!(is_main_classpath(c), "{c}");
        }
        for c in [
            "testCompileClasspath",
            "java21TestRuntimeClasspath",
            "annotationProcessor",
            "checkstyle",
            "sonarlintCoreClasspath",
        ] {
            assert!(!is_main_classpath(c), "{c}");
        }
    }
}
