//! Java: `gradle.lockfile` / `buildscript-gradle.lockfile` and `pom.xml` against Trivy.

use std::collections::BTreeSet;

use relkit_catalog::{Cataloger, MavenPom, Scope};

use crate::common::{canonical, catalog, fixture, trivy_purls};

/// Two projects' Gradle lock files: every package Trivy lists, with the same PURL; the build
/// script's are build scope; test-only ones dev.
#[test]
fn gradle_lockfiles_list_what_trivy_lists() {
    for dir in ["java/maybe", "java/reflection-util"] {
        for name in ["gradle.lockfile", "buildscript-gradle.lockfile"] {
            let file = fixture(&format!("{dir}/{name}"));
            let c = catalog(&file);
            assert_eq!(c.format, name);
            let ours: BTreeSet<String> = c.packages.iter().map(|p| p.purl.clone()).collect();
            let lines = std::fs::read_to_string(&file)
                .unwrap()
                .lines()
                .filter(|l| !l.starts_with('#') && !l.starts_with("empty=") && !l.is_empty())
                .count();
            assert_eq!(c.packages.len(), lines, "{dir}/{name}");
            if name.starts_with("buildscript") {
                assert!(c.packages.iter().all(|p| p.scope == Scope::Build));
            }
            if let Some(theirs) = trivy_purls(&file) {
                assert_eq!(ours, canonical(&theirs), "{dir}/{name}");
            }
        }
    }
    let c = catalog(&fixture("java/reflection-util/gradle.lockfile"));
    let scope = |n: &str| c.packages.iter().find(|p| p.name == n).map(|p| p.scope);
    assert_eq!(
        scope("org.junit.jupiter:junit-jupiter-api"),
        Some(Scope::Dev)
    );
    assert!(c.packages.iter().any(|p| p.scope == Scope::Required));
}

/// gson's and commons-lang's `pom.xml`: declared versions only, said so; properties of the
/// POM resolved; what only the parent POM defines is a warning and no version, never a guess.
/// Trivy (offline: no parent, no Maven Central) lists the non-test dependencies whose
/// version it can resolve from the file alone: each is in relkit's catalog with that PURL.
#[test]
fn pom_declared_versions() {
    for dir in ["java/gson", "java/gson-parent", "java/commons-lang"] {
        let file = fixture(&format!("{dir}/pom.xml"));
        let c = catalog(&file);
        assert_eq!(c.format, "pom.xml (declared versions)");
        assert!(c.warnings[0].contains("declared versions only"));
        assert!(c.packages[0].local);
        let ours: BTreeSet<String> = c.packages.iter().map(|p| p.purl.clone()).collect();
        if let Some(theirs) = trivy_purls(&file) {
            let theirs = canonical(&theirs);
            assert!(
                theirs.is_subset(&ours),
                "{dir}: {:?}",
                theirs.difference(&ours)
            );
        }
    }
    let c = catalog(&fixture("java/gson/pom.xml"));
    assert_eq!(
        c.packages[0].purl,
        "pkg:maven/com.google.code.gson/gson@2.14.1-SNAPSHOT"
    );
    let p = |a: &str| {
        c.packages
            .iter()
            .find(|p| p.name.ends_with(&format!(":{a}")))
            .unwrap()
    };
    assert_eq!(
        p("error_prone_annotations").purl,
        "pkg:maven/com.google.errorprone/error_prone_annotations@2.50.0"
    );
    assert_eq!(p("guava").scope, Scope::Dev);
    // junit's version is managed by gson-parent: not in this file.
    assert!(p("junit").version.is_empty());
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("junit:junit") && w.contains("not read"))
    );
}

/// Properties, project.version and dependencyManagement of the POM itself; an undefined
/// property is a warning; malformed XML a located error.
#[test]
fn pom_properties_and_management() {
    let pom = br#"<?xml version="1.0"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>org.example</groupId><artifactId>app</artifactId><version>1.2.3</version>
  <properties><jackson.version>2.17.1</jackson.version><v>${jackson.version}</v></properties>
  <dependencyManagement><dependencies>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>2.0.13</version></dependency>
    <dependency><groupId>org.junit</groupId><artifactId>junit-bom</artifactId><version>5.10.2</version><type>pom</type><scope>import</scope></dependency>
  </dependencies></dependencyManagement>
  <dependencies>
    <dependency><groupId>com.fasterxml.jackson.core</groupId><artifactId>jackson-core</artifactId><version>${v}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId></dependency>
    <dependency><groupId>${project.groupId}</groupId><artifactId>lib</artifactId><version>${project.version}</version><optional>true</optional></dependency>
    <dependency><groupId>org.x</groupId><artifactId>y</artifactId><version>${undefined.version}</version></dependency>
    <dependency><groupId>org.x</groupId><artifactId>z</artifactId><version>[1.0,2.0)</version><classifier>linux</classifier></dependency>
  </dependencies>
</project>"#;
    let c = MavenPom.catalog("pom.xml", pom).unwrap();
    let purls: Vec<&str> = c.packages.iter().map(|p| p.purl.as_str()).collect();
    assert_eq!(
        purls,
        [
            "pkg:maven/org.example/app@1.2.3",
            "pkg:maven/com.fasterxml.jackson.core/jackson-core@2.17.1",
            "pkg:maven/org.slf4j/slf4j-api@2.0.13",
            "pkg:maven/org.example/lib@1.2.3",
            "pkg:maven/org.x/y",
            "pkg:maven/org.x/z?classifier=linux",
        ]
    );
    assert_eq!(c.packages[3].scope, Scope::Optional);
    assert_eq!(c.dependencies_of(0).count(), 5);
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("${undefined.version}")),
        "{:?}",
        c.warnings
    );
    assert!(
        c.warnings.iter().any(|w| w.contains("version range")),
        "{:?}",
        c.warnings
    );
    let err = MavenPom
        .catalog("m/pom.xml", b"<project><dependencies>")
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("m/pom.xml: pom.xml is malformed"),
        "{err}"
    );
}
