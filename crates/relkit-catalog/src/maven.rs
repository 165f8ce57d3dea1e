//! Java: Maven's `pom.xml` (POM model 4.0.0), **declared versions only**: a POM is a build
//! description, not a lockfile, so what it yields is what the project declares, not the
//! resolved graph Maven would build (no transitive dependencies, no mediation, no parent POM
//! or imported BOM read — they are other files, often remote, and relkit never reaches the
//! network). The catalog's format says so, and so does a warning.
//!
//! Read: the project's coordinates (group and version inherited from `<parent>` when absent)
//! as its own package; `<dependencies>` with versions from the dependency itself or the POM's
//! own `<dependencyManagement>`; `${…}` references resolved from the POM's `<properties>` and
//! the project model (`project.version`, `project.groupId`, `project.artifactId`,
//! `project.parent.version`, `project.parent.groupId`, and the older `pom.`/bare forms).
//! A version that cannot be resolved here (a property of the parent, a version managed by the
//! parent or a BOM, a version range) is a warning naming the dependency, and the dependency
//! is cataloged without a version — never guessed. Not read: `<profiles>` (active only under
//! conditions of a build), `<build>` plugins (build tools, not dependencies).
//!
//! Scope: `test` is dev, `<optional>true</optional>` optional, `compile`, `runtime`,
//! `provided` and `system` required. PURLs are `pkg:maven/GROUP/ARTIFACT@VERSION`, with
//! `?classifier=` and `?type=` only when the POM sets them (`jar` is the default type).

use std::collections::BTreeMap;

use quick_xml::events::Event;

use crate::gradle::maven_package;
use crate::{Catalog, Cataloger, Error, Scope, invalid};

/// Reads Maven's `pom.xml` (declared versions).
pub struct MavenPom;

/// A parsed XML element: name, text, children.
#[derive(Debug, Default)]
struct Node {
    name: String,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }
    fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim())
    }
    fn path(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |n, p| n.child(p))
    }
    fn all(&self, name: &str) -> impl Iterator<Item = &Node> {
        self.children.iter().filter(move |c| c.name == name)
    }
}

impl Cataloger for MavenPom {
    fn kind(&self) -> &'static str {
        "pom.xml"
    }

    fn reads(&self, path: &str) -> bool {
        crate::file_name(path) == "pom.xml"
    }

    fn catalog(&self, file: &str, bytes: &[u8]) -> Result<Catalog, Error> {
        let root = parse_xml(file, bytes)?;
        if root.name != "project" {
            return Err(invalid(
                file,
                root.name.clone(),
                "the root is not <project>",
            ));
        }
        if let Some(v) = root.text_of("modelVersion").filter(|v| *v != "4.0.0") {
            return Err(Error::UnsupportedVersion {
                file: file.to_string(),
                format: "pom.xml",
                version: v.to_string(),
                supported: "modelVersion 4.0.0",
            });
        }
        let mut catalog = Catalog {
            file: file.to_string(),
            format: "pom.xml (declared versions)".into(),
            ..Catalog::default()
        };
        catalog.warnings.push(
            "pom.xml declares dependencies, it does not lock them: declared versions only, \
             no transitive dependencies"
                .into(),
        );
        let model = Model::new(&root);
        let mut warn = |w: String| catalog.warnings.push(w);
        let group = model.resolve_or_warn("project/groupId", model.group(), &mut warn);
        let artifact = model.resolve_or_warn("project/artifactId", model.artifact(), &mut warn);
        let version = model.resolve_or_warn("project/version", model.version(), &mut warn);
        let mut own = maven_package(
            file,
            "project",
            &group,
            &artifact,
            &version,
            Scope::Required,
        )?;
        own.local = true;
        let mut packages = vec![own];
        let managed = model.managed(&mut warn);
        let deps = root
            .path(&["dependencies"])
            .into_iter()
            .flat_map(|d| d.all("dependency"));
        for (i, dep) in deps.enumerate() {
            let place = format!("dependencies/dependency[{}]", i + 1);
            let g = model.resolve_or_warn(&place, dep.text_of("groupId"), &mut warn);
            let a = model.resolve_or_warn(&place, dep.text_of("artifactId"), &mut warn);
            let v = match dep.text_of("version") {
                Some(v) => model.resolve_or_warn(&format!("{place} ({g}:{a})"), Some(v), &mut warn),
                None => managed
                    .get(&(g.clone(), a.clone()))
                    .cloned()
                    .unwrap_or_else(|| {
                        warn(format!(
                            "{place} ({g}:{a}): no version here nor in this POM's \
                         dependencyManagement (managed by the parent POM or an imported BOM, \
                         not read): cataloged without a version"
                        ));
                        String::new()
                    }),
            };
            let v = if v.starts_with(['[', '(']) || v.contains(',') {
                warn(format!(
                    "{place} ({g}:{a}): version range {v:?}, not a version: cataloged without one"
                ));
                String::new()
            } else {
                v
            };
            let scope = match (dep.text_of("scope"), dep.text_of("optional")) {
                (Some("test"), _) => Scope::Dev,
                (_, Some("true")) => Scope::Optional,
                _ => Scope::Required,
            };
            let mut p = maven_package(file, &place, &g, &a, &v, scope)?;
            let mut qualifiers = BTreeMap::new();
            if let Some(c) = dep.text_of("classifier").filter(|c| !c.is_empty()) {
                qualifiers.insert(
                    "classifier".to_string(),
                    model.resolve(c).unwrap_or_default(),
                );
            }
            if let Some(t) = dep.text_of("type").filter(|t| *t != "jar" && !t.is_empty()) {
                qualifiers.insert("type".to_string(), t.to_string());
            }
            if !qualifiers.is_empty() {
                p.purl = relkit_ident::purl::Purl::build(
                    "maven",
                    Some(&g),
                    &a,
                    (!v.is_empty()).then_some(v.as_str()),
                    &qualifiers,
                    None,
                )
                .map_err(|e| invalid(file, &place, format!("no valid Package URL: {e}")))?
                .to_canonical();
            }
            packages.push(p);
        }
        catalog.edges = (1..packages.len()).map(|i| (0, i)).collect();
        catalog.packages = packages;
        Ok(catalog)
    }
}

/// The POM's own model: properties and the project's coordinates.
struct Model<'a> {
    root: &'a Node,
    properties: BTreeMap<&'a str, &'a str>,
}

impl<'a> Model<'a> {
    fn new(root: &'a Node) -> Self {
        let properties = root
            .child("properties")
            .map(|p| {
                p.children
                    .iter()
                    .map(|c| (c.name.as_str(), c.text.trim()))
                    .collect()
            })
            .unwrap_or_default();
        Model { root, properties }
    }

    fn parent(&self, key: &str) -> Option<&'a str> {
        self.root.path(&["parent", key]).map(|n| n.text.trim())
    }
    fn group(&self) -> Option<&'a str> {
        self.root
            .text_of("groupId")
            .or_else(|| self.parent("groupId"))
    }
    fn artifact(&self) -> Option<&'a str> {
        self.root.text_of("artifactId")
    }
    fn version(&self) -> Option<&'a str> {
        self.root
            .text_of("version")
            .or_else(|| self.parent("version"))
    }

    /// A property's raw value, from the project model or `<properties>`.
    fn property(&self, name: &str) -> Option<&'a str> {
        let name = name
            .strip_prefix("project.")
            .or_else(|| name.strip_prefix("pom."))
            .unwrap_or(name);
        match name {
            "version" => self.version(),
            "groupId" => self.group(),
            "artifactId" => self.artifact(),
            "parent.version" => self.parent("version"),
            "parent.groupId" => self.parent("groupId"),
            _ => None,
        }
        .or_else(|| self.properties.get(name).copied())
    }

    /// `text` with every `${…}` replaced, or the name of the first unresolvable property.
    fn resolve(&self, text: &str) -> Result<String, String> {
        let mut out = text.to_string();
        for _ in 0..16 {
            let Some(start) = out.find("${") else {
                return Ok(out);
            };
            let Some(len) = out[start..].find('}') else {
                return Err(out[start..].to_string());
            };
            let name = &out[start + 2..start + len];
            let value = self.property(name).ok_or_else(|| name.to_string())?;
            out.replace_range(start..start + len + 1, value);
        }
        Err(format!("{text} (references nested too deep)"))
    }

    /// [`Model::resolve`], an unresolvable or missing value being a warning and `""`.
    fn resolve_or_warn(
        &self,
        place: &str,
        text: Option<&str>,
        warn: &mut impl FnMut(String),
    ) -> String {
        let Some(text) = text else {
            warn(format!("{place}: missing"));
            return String::new();
        };
        self.resolve(text).unwrap_or_else(|name| {
            warn(format!(
                "{place}: ${{{name}}} is not defined in this POM (a parent's property?): \
                 {text:?} left unresolved"
            ));
            String::new()
        })
    }

    /// `<dependencyManagement>`'s versions by (group, artifact), imports (BOMs) excluded.
    fn managed(&self, warn: &mut impl FnMut(String)) -> BTreeMap<(String, String), String> {
        let mut out = BTreeMap::new();
        let deps = self
            .root
            .path(&["dependencyManagement", "dependencies"])
            .into_iter()
            .flat_map(|d| d.all("dependency"));
        for (i, d) in deps.enumerate() {
            let place = format!("dependencyManagement/dependencies/dependency[{}]", i + 1);
            if d.text_of("scope") == Some("import") {
                continue;
            }
            let g = self.resolve_or_warn(&place, d.text_of("groupId"), warn);
            let a = self.resolve_or_warn(&place, d.text_of("artifactId"), warn);
            let v = self.resolve_or_warn(&place, d.text_of("version"), warn);
            out.insert((g, a), v);
        }
        out
    }
}

/// The document's root element as a tree (namespaces dropped, comments ignored).
fn parse_xml(file: &str, bytes: &[u8]) -> Result<Node, Error> {
    let syntax = |pos: u64, e: String| Error::Syntax {
        file: file.to_string(),
        format: "pom.xml",
        source: format!("at byte {pos}: {e}").into(),
    };
    let mut xml = quick_xml::Reader::from_reader(bytes);
    let mut stack: Vec<Node> = vec![Node::default()];
    loop {
        let pos = xml.buffer_position();
        let event = xml.read_event().map_err(|e| syntax(pos, e.to_string()))?;
        match event {
            Event::Start(e) => stack.push(Node {
                name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                ..Node::default()
            }),
            Event::Empty(e) => {
                let node = Node {
                    name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                    ..Node::default()
                };
                stack
                    .last_mut()
                    .expect("the document node")
                    .children
                    .push(node);
            }
            Event::End(_) => {
                if stack.len() < 2 {
                    return Err(syntax(pos, "unbalanced end tag".into()));
                }
                let node = stack.pop().expect("checked");
                stack.last_mut().expect("checked").children.push(node);
            }
            Event::Text(t) => {
                let text = t.decode().map_err(|e| syntax(pos, e.to_string()))?;
                stack
                    .last_mut()
                    .expect("the document node")
                    .text
                    .push_str(&text);
            }
            Event::CData(t) => {
                let text = t.decode().map_err(|e| syntax(pos, e.to_string()))?;
                stack
                    .last_mut()
                    .expect("the document node")
                    .text
                    .push_str(&text);
            }
            Event::GeneralRef(r) => {
                let c = match r
                    .resolve_char_ref()
                    .map_err(|e| syntax(pos, e.to_string()))?
                {
                    Some(c) => c,
                    None => match r.decode().map_err(|e| syntax(pos, e.to_string()))?.as_ref() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        other => return Err(syntax(pos, format!("unknown entity &{other};"))),
                    },
                };
                stack.last_mut().expect("the document node").text.push(c);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if stack.len() != 1 {
        return Err(syntax(
            xml.buffer_position(),
            format!("file ends inside {} open element(s)", stack.len() - 1),
        ));
    }
    let doc = stack.pop().expect("checked");
    doc.children
        .into_iter()
        .next()
        .ok_or_else(|| syntax(0, "no root element".into()))
}
