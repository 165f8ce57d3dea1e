//! The members of a wheel held in memory (a zip found inside a tree or archive, or read from
//! disk), read through relkit-archive's one reader: format by magic, its safety limits.

use std::collections::BTreeMap;
use std::io::Read;

use relkit_archive::read::{Flow, Format, Member, MemberKind, Visit};

use crate::error::{Error, Result};

/// What [`read_members`] found.
#[derive(Debug, Default)]
pub struct Members {
    /// Every file member's path, in archive order (zip: central-directory order).
    pub names: Vec<String>,
    /// The content of the members `keep` selected, each cut at the cap.
    pub content: BTreeMap<String, Vec<u8>>,
}

/// Keeps the content of the selected members.
struct Keeper<'k> {
    keep: &'k dyn Fn(&str) -> bool,
    cap: u64,
    members: Members,
}

impl Visit for Keeper<'_> {
    fn visit(&mut self, member: Member, content: &mut dyn Read) -> std::io::Result<Flow> {
        if member.kind != MemberKind::File {
            return Ok(Flow::Continue);
        }
        let name = String::from_utf8_lossy(&member.path).into_owned();
        if (self.keep)(&name) && !self.members.content.contains_key(&name) {
            let mut buf = Vec::new();
            content.take(self.cap).read_to_end(&mut buf)?;
            self.members.content.insert(name.clone(), buf);
        }
        self.members.names.push(name);
        Ok(Flow::Continue)
    }
}

/// Reads the zip `bytes` (named `origin` in errors): every file member's name, and up to
/// `cap` bytes of each member whose path `keep` accepts. Anything but a zip is refused.
pub fn read_members(
    bytes: &[u8],
    origin: &str,
    keep: &dyn Fn(&str) -> bool,
    cap: u64,
) -> Result<Members> {
    let head = &bytes[..bytes.len().min(512)];
    if relkit_archive::read::detect(head) != Some(Format::Zip) {
        return Err(Error::Archive {
            origin: origin.into(),
            message: "not a valid wheel: not a zip archive".into(),
        });
    }
    let mut keeper = Keeper {
        keep,
        cap,
        members: Members::default(),
    };
    relkit_archive::read::walk_bytes(bytes, origin, &mut keeper).map_err(|source| {
        Error::Wheel {
            origin: origin.into(),
            source: Box::new(source),
        }
    })?;
    Ok(keeper.members)
}
