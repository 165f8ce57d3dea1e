//! Package identity across ecosystems: the OSV ecosystem of a Package URL type and the
//! normalized package name used as index key (PEP 503 for PyPI, `@scope/name` for npm,
//! `group:artifact` for Maven, full module paths for Go, …).

use relkit_ident::purl::Purl;

/// The OSV ecosystem and package name a purl stands for; `None` for a purl type no
/// vulnerability source here knows.
pub fn from_purl(p: &Purl) -> Option<(&'static str, String)> {
    let ns = p.namespace.as_deref();
    let joined = |sep: &str| match ns {
        Some(n) => format!("{n}{sep}{}", p.name),
        None => p.name.clone(),
    };
    Some(match p.ty.as_str() {
        "pypi" => ("PyPI", p.name.clone()),
        "golang" => ("Go", joined("/")),
        "npm" => ("npm", joined("/")),
        "cargo" => ("crates.io", p.name.clone()),
        "maven" => ("Maven", joined(":")),
        "deb" => (
            if ns == Some("ubuntu") {
                "Ubuntu"
            } else {
                "Debian"
            },
            p.name.clone(),
        ),
        "gem" => ("RubyGems", p.name.clone()),
        "nuget" => ("NuGet", p.name.clone()),
        "composer" => ("Packagist", joined("/")),
        "hex" => ("Hex", p.name.clone()),
        "pub" => ("Pub", p.name.clone()),
        "apk" if ns == Some("alpine") => ("Alpine", p.name.clone()),
        _ => return None,
    })
}

/// The distribution release a `deb` / `apk` purl names in its `distro` qualifier, spelled
/// like the suffix of OSV's ecosystem (`Debian:12`, `Alpine:v3.20`): `debian-12`, `bookworm`
/// and `12` all give `12`, `alpine-3.20` gives `v3.20`. `None` when there is no (known)
/// qualifier: then the ranges of every release apply.
pub fn distro_release(p: &Purl) -> Option<String> {
    let distro = p.qualifiers.get("distro")?.to_ascii_lowercase();
    match p.ty.as_str() {
        "deb" => {
            let d = distro
                .strip_prefix("debian-")
                .or_else(|| distro.strip_prefix("ubuntu-"))
                .unwrap_or(&distro);
            const CODENAMES: [(&str, &str); 9] = [
                ("squeeze", "6"),
                ("wheezy", "7"),
                ("jessie", "8"),
                ("stretch", "9"),
                ("buster", "10"),
                ("bullseye", "11"),
                ("bookworm", "12"),
                ("trixie", "13"),
                ("forky", "14"),
            ];
            if let Some((_, n)) = CODENAMES.iter().find(|(c, _)| *c == d) {
                return Some(n.to_string());
            }
            // Debian's ecosystem suffix is the major release only (`debian-11.6` → `11`).
            let major = if p.namespace.as_deref() == Some("ubuntu") {
                d
            } else {
                d.split('.').next().unwrap_or(d)
            };
            (!major.is_empty() && major.chars().all(|c| c.is_ascii_digit() || c == '.'))
                .then(|| major.to_string())
        }
        "apk" => {
            let d = distro.strip_prefix("alpine-").unwrap_or(&distro);
            let mut parts = d.split('.');
            let (Some(a), Some(b)) = (parts.next(), parts.next()) else {
                return None;
            };
            Some(format!("v{a}.{b}"))
        }
        _ => None,
    }
}

/// The index key of an ecosystem: the part before any `:` release suffix (`Debian:12` → `Debian`).
pub fn base(ecosystem: &str) -> &str {
    ecosystem.split(':').next().unwrap_or(ecosystem)
}

/// The normalized package name used for lookups in `ecosystem`.
pub fn normalize_name(ecosystem: &str, name: &str) -> String {
    match base(ecosystem) {
        // PEP 503: lowercase, runs of `-`, `_`, `.` become one `-`.
        "PyPI" => relkit_ident::purl::pep503_name(name),
        // crates.io treats `-` and `_` as the same name, case-insensitively.
        "crates.io" => name.to_ascii_lowercase().replace('_', "-"),
        "npm" | "NuGet" | "Packagist" | "Debian" | "Ubuntu" | "Alpine" => name.to_ascii_lowercase(),
        // Go module paths, Maven coordinates and gems are case-sensitive.
        _ => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(normalize_name("PyPI", "Jinja2"), "jinja2");
        assert_eq!(
            normalize_name("PyPI", "zope.interface__x"),
            "zope-interface-x"
        );
        assert_eq!(normalize_name("crates.io", "Serde_JSON"), "serde-json");
        assert_eq!(base("Debian:12"), "Debian");
        let p = Purl::parse("pkg:npm/%40angular/core@1.0.0").unwrap();
        assert_eq!(from_purl(&p), Some(("npm", "@angular/core".to_string())));
        let p = Purl::parse("pkg:golang/golang.org/x/net@v0.22.0").unwrap();
        assert_eq!(from_purl(&p), Some(("Go", "golang.org/x/net".to_string())));
        let p = Purl::parse("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1").unwrap();
        assert_eq!(
            from_purl(&p),
            Some(("Maven", "org.apache.logging.log4j:log4j-core".to_string()))
        );
        assert_eq!(from_purl(&Purl::parse("pkg:generic/foo@1").unwrap()), None);
        let release = |s: &str| distro_release(&Purl::parse(s).unwrap());
        assert_eq!(
            release("pkg:deb/debian/glibc@2.36-9?distro=debian-12"),
            Some("12".into())
        );
        assert_eq!(
            release("pkg:deb/debian/glibc@2.36-9?distro=bookworm"),
            Some("12".into())
        );
        assert_eq!(
            release("pkg:deb/debian/libssl1.1@1.1.1n-0?distro=debian-11.6"),
            Some("11".into())
        );
        assert_eq!(
            release("pkg:apk/alpine/musl@1.2.5-r0?distro=3.20.3"),
            Some("v3.20".into())
        );
        assert_eq!(release("pkg:deb/debian/glibc@2.36-9"), None);
    }
}
