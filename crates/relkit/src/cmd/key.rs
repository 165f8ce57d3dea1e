//! `relkit key`: generate ed25519 / P-256 signing keys (PKCS#8 PEM, optionally encrypted,
//! mode 0600) with SPKI PEM public keys, and import minisign secret keys.
//! Key material is never printed.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use relkit_attest::Zeroizing;
use relkit_attest::keys::{KeyKind, PrivateKey, PublicKey};
use relkit_attest::minisign;

use crate::output::{Context, Outcome};

/// Subcommands of `relkit key`.
#[derive(clap::Subcommand, Debug)]
pub enum KeyCommand {
    /// Generate a key pair: NAME.key (PKCS#8 PEM, mode 0600), NAME.pub (SPKI PEM), and for
    /// ed25519 also NAME.minisign.pub.
    #[command(after_help = "Examples:
  relkit key generate --kind ed25519 -o release
  relkit key generate --kind p256 --passphrase-file pass.txt -o ci-signing")]
    Generate(GenerateArgs),
    /// Convert a minisign secret key into NAME.key / NAME.pub / NAME.minisign.pub.
    #[command(after_help = "Example:
  relkit key import-minisign ~/.minisign/minisign.key --minisign-passphrase-file mpw.txt -o release")]
    ImportMinisign(ImportArgs),
}

/// Key kinds on the command line.
#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum KindArg {
    /// Ed25519.
    Ed25519,
    /// ECDSA P-256 with SHA-256.
    P256,
}

/// Arguments of `relkit key generate`.
#[derive(clap::Args, Debug)]
pub struct GenerateArgs {
    /// Key algorithm.
    #[arg(long, value_enum)]
    pub kind: KindArg,
    /// Encrypt the private key with the passphrase in this file (first line).
    #[arg(long)]
    pub passphrase_file: Option<PathBuf>,
    /// Output name: writes NAME.key and NAME.pub.
    #[arg(long, short = 'o')]
    pub output: PathBuf,
    /// Overwrite existing key files.
    #[arg(long)]
    pub force: bool,
}

/// Arguments of `relkit key import-minisign`.
#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The minisign secret key file.
    pub secret_key: PathBuf,
    /// Password of the minisign key (first line of this file); not needed for unencrypted keys.
    #[arg(long)]
    pub minisign_passphrase_file: Option<PathBuf>,
    /// Encrypt the written PKCS#8 key with the passphrase in this file.
    #[arg(long)]
    pub passphrase_file: Option<PathBuf>,
    /// Output name: writes NAME.key, NAME.pub and NAME.minisign.pub.
    #[arg(long, short = 'o')]
    pub output: PathBuf,
    /// Overwrite existing key files.
    #[arg(long)]
    pub force: bool,
}

/// Reads a passphrase: the file's first line, without its line ending.
pub fn read_passphrase(path: &Path) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let raw = Zeroizing::new(
        std::fs::read(path)
            .with_context(|| format!("cannot read the passphrase file {}", path.display()))?,
    );
    let end = raw.iter().position(|&b| b == b'\n').unwrap_or(raw.len());
    let line = raw[..end].strip_suffix(b"\r").unwrap_or(&raw[..end]);
    if line.is_empty() {
        anyhow::bail!("the passphrase file {} is empty", path.display());
    }
    Ok(Zeroizing::new(line.to_vec()))
}

/// Reads a private key: PKCS#8 PEM (encrypted ones need `passphrase`).
pub fn read_private_key(path: &Path, passphrase: Option<&Path>) -> anyhow::Result<PrivateKey> {
    let pem = Zeroizing::new(
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the key file {}", path.display()))?,
    );
    let pass = passphrase.map(read_passphrase).transpose()?;
    PrivateKey::from_pem(&pem, pass.as_ref().map(|p| p.as_slice()))
        .with_context(|| format!("cannot use the private key {}", path.display()))
}

fn with_ext(base: &Path, ext: &str) -> PathBuf {
    let mut s = base.as_os_str().to_owned();
    s.push(ext);
    PathBuf::from(s)
}

fn create(path: &Path, force: bool, mode: u32) -> anyhow::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).mode(mode);
    if force {
        o.create(true).truncate(true);
    } else {
        o.create_new(true);
    }
    let f = o.open(path).with_context(|| {
        format!(
            "cannot create {} (use --force to overwrite an existing key)",
            path.display()
        )
    })?;
    // The mode passed to open() is filtered by the umask and ignored for existing files.
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the mode of {}", path.display()))?;
    Ok(f)
}

/// Writes NAME.key (0600), NAME.pub and, when given, NAME.minisign.pub.
fn write_keys(
    base: &Path,
    key: &PrivateKey,
    passphrase: Option<&Path>,
    minisign_pub: Option<String>,
    force: bool,
    ctx: &Context,
) -> anyhow::Result<()> {
    let pass = passphrase.map(read_passphrase).transpose()?;
    let pem = key.to_pem(pass.as_ref().map(|p| p.as_slice()))?;
    let key_path = with_ext(base, ".key");
    create(&key_path, force, 0o600)?.write_all(pem.as_bytes())?;
    let pub_path = with_ext(base, ".pub");
    create(&pub_path, force, 0o644)?.write_all(key.public().to_pem().as_bytes())?;
    ctx.info(format!(
        "wrote {} ({}{}, mode 0600) and {}",
        key_path.display(),
        key.kind().name(),
        if pass.is_some() { ", encrypted" } else { "" },
        pub_path.display()
    ));
    if let Some(m) = minisign_pub {
        let p = with_ext(base, ".minisign.pub");
        create(&p, force, 0o644)?.write_all(m.as_bytes())?;
        ctx.info(format!("wrote {}", p.display()));
    }
    ctx.info(format!(
        "key id (SHA-256 of the public key): {}",
        key.public().key_id()
    ));
    Ok(())
}

/// The minisign public key file for an ed25519 PKCS#8 key (derived key id).
pub fn derived_minisign_pub(key: &PublicKey) -> Option<String> {
    match key {
        PublicKey::Ed25519(k) => Some(
            minisign::PublicKey {
                key_id: minisign::derived_key_id(k),
                key: *k,
            }
            .to_file(),
        ),
        PublicKey::P256(_) => None,
    }
}

/// Runs `relkit key`.
pub fn run(cmd: KeyCommand, ctx: &Context) -> anyhow::Result<Outcome> {
    match cmd {
        KeyCommand::Generate(a) => {
            let kind = match a.kind {
                KindArg::Ed25519 => KeyKind::Ed25519,
                KindArg::P256 => KeyKind::P256,
            };
            let key = PrivateKey::generate(kind);
            let m = derived_minisign_pub(&key.public());
            write_keys(
                &a.output,
                &key,
                a.passphrase_file.as_deref(),
                m,
                a.force,
                ctx,
            )?;
        }
        KeyCommand::ImportMinisign(a) => {
            let text = Zeroizing::new(
                std::fs::read_to_string(&a.secret_key)
                    .with_context(|| format!("cannot read {}", a.secret_key.display()))?,
            );
            let pass = a
                .minisign_passphrase_file
                .as_deref()
                .map(read_passphrase)
                .transpose()?;
            let sk = minisign::SecretKey::parse(&text, pass.as_ref().map(|p| p.as_slice()))
                .with_context(|| format!("cannot import {}", a.secret_key.display()))?;
            let m = sk.public().to_file();
            let key = PrivateKey::Ed25519(sk.key.clone());
            write_keys(
                &a.output,
                &key,
                a.passphrase_file.as_deref(),
                Some(m),
                a.force,
                ctx,
            )?;
        }
    }
    Ok(Outcome::Ok)
}
