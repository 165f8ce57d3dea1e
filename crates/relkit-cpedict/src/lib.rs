//! relkit-cpedict: the offline CPE dictionary (SQLite) behind relkit-ident's
//! [`CpeDictionary`] trait: vendor:product entries from NVD's CPE dictionary, CPE API
//! pages and CVE records, stored in SQLite, with lookup that answers queries of any length.
//!
//! # Storage
//!
//! One SQLite file. `product` holds one row per (part, vendor, product) with its title,
//! known-version range, CVE count, a sample CVE, and deprecation (deprecated-by) links;
//! `cpe_name` the full dictionary names; `cve`/`product_cve` the CVE descriptions.
//! Product ids are assigned in rank order (most CVEs first), so "best first" is "lowest id".
//!
//! # Index (why not FTS5 or a trigram index alone)
//!
//! NVD's own search refuses queries shorter than 3 characters, and a trigram index cannot
//! answer "xz". The `gram` table stores, for every distinct 2-gram and 3-gram of the
//! lowercase `vendor:product` key, the sorted list of product ids containing it (a
//! little-endian u32 blob). A substring query reads one list (2 characters) or intersects
//! the lists of its trigrams (3+), and because ids are in rank order the first verified
//! hits are the best ones: a search touches only as many rows as it returns. Exact and
//! prefix lookups use B-tree indexes on `product`, `vendor` and `key`; 1-character queries
//! scan in rank order (almost every row matches, so the scan stops early); fuzzy
//! (typo-tolerant) lookup scores candidates sharing bigrams with Damerau-Levenshtein.
//!
//! # Import
//!
//! [`Dictionary::import`] reads every source into memory, then writes a new database file
//! next to the target in one transaction and renames it over the target only when
//! everything succeeded: a truncated or malformed source leaves the old dictionary intact.

//!
//! # Must not
//!
//! Be a dependency of a crate that only checks identities (relkit-sbom, relkit-truth): they
//! take a `&impl CpeDictionary`, and the front end (the CLI) opens this one and passes it in.
//! The crate never prints.

mod import;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

pub use relkit_ident::dictionary::{CpeDictionary, Hit, MatchKind, Product, compare_versions};

use import::ProductKey;

/// Dictionary errors, each naming the file involved.
#[derive(Debug, thiserror::Error)]
pub enum DictError {
    /// Reading a file failed.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A source file is malformed or truncated.
    #[error("{path}: {reason} (at byte {position}); the existing dictionary was left unchanged")]
    Format {
        /// The file.
        path: PathBuf,
        /// Byte offset (XML) or line (JSON) of the problem.
        position: usize,
        /// What is wrong.
        reason: String,
    },
    /// No dictionary at the path.
    #[error(
        "no CPE dictionary at {0}: create one with `relkit cpe import --dict {0} FILE…` (NVD CPE dictionary XML, CPE API 2.0 pages or CVE JSON 2.0)"
    )]
    Missing(PathBuf),
    /// SQLite failed.
    #[error("CPE dictionary database {path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// The SQLite error.
        source: rusqlite::Error,
    },
}

/// Counts of what a dictionary holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// vendor:product rows.
    pub products: u64,
    /// Full CPE names.
    pub names: u64,
    /// CVE records.
    pub cves: u64,
}

/// An open dictionary.
pub struct Dictionary {
    conn: Connection,
    path: PathBuf,
}

/// The default location: `$XDG_CACHE_HOME/relkit/cpe.sqlite` or `~/.cache/relkit/cpe.sqlite`.
pub fn default_path() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("relkit").join("cpe.sqlite")
}

const SCHEMA: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE product (
  id INTEGER PRIMARY KEY, part TEXT NOT NULL, vendor TEXT NOT NULL, product TEXT NOT NULL,
  key TEXT NOT NULL, title TEXT, cve_count INTEGER NOT NULL, name_count INTEGER NOT NULL,
  min_version TEXT, max_version TEXT, sample_cve TEXT, deprecated INTEGER NOT NULL,
  deprecated_by TEXT, target_sw TEXT);
CREATE TABLE cpe_name (name TEXT NOT NULL, product_id INTEGER NOT NULL,
  deprecated INTEGER NOT NULL, deprecated_by TEXT);
CREATE TABLE cve (id TEXT PRIMARY KEY, description TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE product_cve (product_id INTEGER NOT NULL, cve_id TEXT NOT NULL,
  PRIMARY KEY (product_id, cve_id)) WITHOUT ROWID;
CREATE TABLE gram (gram BLOB PRIMARY KEY, ids BLOB NOT NULL) WITHOUT ROWID;
";

const INDEXES: &str = "
CREATE INDEX product_by_product ON product(product);
CREATE INDEX product_by_vendor ON product(vendor);
CREATE INDEX product_by_key ON product(key);
CREATE INDEX cpe_name_by_name ON cpe_name(name);
";

const PRODUCT_COLUMNS: &str = "part, vendor, product, title, cve_count, name_count, min_version, max_version, sample_cve, (SELECT description FROM cve WHERE cve.id = sample_cve), deprecated, deprecated_by, target_sw, id";

fn row_to_product(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Product, u32)> {
    Ok((
        Product {
            part: r.get(0)?,
            vendor: r.get(1)?,
            product: r.get(2)?,
            title: r.get(3)?,
            cve_count: r.get::<_, i64>(4)? as u64,
            name_count: r.get::<_, i64>(5)? as u64,
            min_version: r.get(6)?,
            max_version: r.get(7)?,
            sample_cve: r.get(8)?,
            sample_description: r.get(9)?,
            deprecated: r.get::<_, i64>(10)? != 0,
            deprecated_by: r.get(11)?,
            target_sw: r.get(12)?,
        },
        r.get::<_, i64>(13)? as u32,
    ))
}

fn grams(key: &[u8], n: usize, out: &mut BTreeSet<Vec<u8>>) {
    if key.len() >= n {
        for w in key.windows(n) {
            out.insert(w.to_vec());
        }
    }
}

impl Dictionary {
    /// Opens an existing dictionary.
    pub fn open(path: &Path) -> Result<Dictionary, DictError> {
        if !path.is_file() {
            return Err(DictError::Missing(path.to_path_buf()));
        }
        let sql = |source| DictError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(sql)?;
        conn.query_row("SELECT count(*) FROM product", [], |r| r.get::<_, i64>(0))
            .map_err(sql)?;
        Ok(Dictionary {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// Builds a new dictionary at `target` from `sources` (files or directories of
    /// `.xml`/`.json`), replacing the old one only if every source was read.
    pub fn import(target: &Path, sources: &[PathBuf]) -> Result<Stats, DictError> {
        let mut acc = import::Accumulator::default();
        let mut files = Vec::new();
        for s in sources {
            collect_files(s, &mut files)?;
        }
        for f in &files {
            import::read_file(f, &mut acc)?;
        }
        if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| DictError::Io {
                path: dir.to_path_buf(),
                source: e,
            })?;
        }
        let tmp = target.with_extension(format!("tmp-{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        let result = write_database(&tmp, acc);
        match result {
            Ok(stats) => {
                std::fs::rename(&tmp, target).map_err(|e| DictError::Io {
                    path: target.to_path_buf(),
                    source: e,
                })?;
                Ok(stats)
            }
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(e)
            }
        }
    }

    fn sql(&self, source: rusqlite::Error) -> DictError {
        DictError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// What the dictionary holds.
    pub fn stats(&self) -> Result<Stats, DictError> {
        let count = |t: &str| {
            self.conn
                .query_row(&format!("SELECT count(*) FROM {t}"), [], |r| {
                    r.get::<_, i64>(0)
                })
                .map(|n| n as u64)
                .map_err(|e| self.sql(e))
        };
        Ok(Stats {
            products: count("product")?,
            names: count("cpe_name")?,
            cves: count("cve")?,
        })
    }

    /// The products with this exact vendor and product (any part).
    pub fn lookup(&self, vendor: &str, product: &str) -> Result<Vec<Product>, DictError> {
        let key = format!("{}:{}", vendor.to_lowercase(), product.to_lowercase());
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {PRODUCT_COLUMNS} FROM product WHERE key = ?1 ORDER BY id"
            ))
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map([key], row_to_product)
            .map_err(|e| self.sql(e))?;
        rows.map(|r| r.map(|(p, _)| p).map_err(|e| self.sql(e)))
            .collect()
    }

    /// Descriptions of the CVEs that name this vendor:product (up to `limit`).
    pub fn cve_descriptions(
        &self,
        vendor: &str,
        product: &str,
        limit: usize,
    ) -> Result<Vec<(String, String)>, DictError> {
        let key = format!("{}:{}", vendor.to_lowercase(), product.to_lowercase());
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT cve.id, cve.description FROM product JOIN product_cve ON product_cve.product_id = product.id \
                 JOIN cve ON cve.id = product_cve.cve_id WHERE product.key = ?1 ORDER BY cve.id LIMIT ?2",
            )
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map(params![key, limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.sql(e))?;
        rows.map(|r| r.map_err(|e| self.sql(e))).collect()
    }

    fn product_by_id(&self, id: u32) -> Result<Option<Product>, DictError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {PRODUCT_COLUMNS} FROM product WHERE id = ?1"
            ))
            .map_err(|e| self.sql(e))?;
        stmt.query_row([id], row_to_product)
            .optional()
            .map(|o| o.map(|(p, _)| p))
            .map_err(|e| self.sql(e))
    }

    fn posting(&self, gram: &[u8]) -> Result<Option<Vec<u32>>, DictError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT ids FROM gram WHERE gram = ?1")
            .map_err(|e| self.sql(e))?;
        let blob: Option<Vec<u8>> = stmt
            .query_row([gram], |r| r.get(0))
            .optional()
            .map_err(|e| self.sql(e))?;
        Ok(blob.map(|b| {
            b.chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect()
        }))
    }

    /// Ids (in rank order) whose key contains `q` (lowercase, at least 2 bytes), up to `cap`.
    fn substring_ids(&self, q: &str, cap: usize) -> Result<Vec<u32>, DictError> {
        let qb = q.as_bytes();
        let n = if qb.len() == 2 { 2 } else { 3 };
        let mut set = BTreeSet::new();
        grams(qb, n, &mut set);
        let mut lists = Vec::new();
        for g in &set {
            match self.posting(g)? {
                Some(l) => lists.push(l),
                None => return Ok(Vec::new()),
            }
        }
        lists.sort_by_key(Vec::len);
        let (first, rest) = lists.split_first().expect("at least one gram");
        let mut out = Vec::new();
        let mut key_stmt = self
            .conn
            .prepare_cached("SELECT key FROM product WHERE id = ?1")
            .map_err(|e| self.sql(e))?;
        for &id in first {
            if rest.iter().all(|l| l.binary_search(&id).is_ok()) {
                // Trigrams can co-occur without the whole query: verify.
                let key: String = key_stmt
                    .query_row([id], |r| r.get(0))
                    .map_err(|e| self.sql(e))?;
                if key.contains(q) {
                    out.push(id);
                    if out.len() >= cap {
                        break;
                    }
                }
            }
        }
        Ok(out)
    }

    /// Searches for `query` (any length): exact, prefix, word, substring, then fuzzy
    /// matches, each group by CVE count; at most `limit` hits.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<Hit>, DictError> {
        let q = query.trim().to_lowercase().replace(' ', "_");
        if q.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let mut found: HashMap<u32, (MatchKind, Product)> = HashMap::new();
        let classify = |p: &Product| -> MatchKind {
            let key = format!("{}:{}", p.vendor.to_lowercase(), p.product.to_lowercase());
            let product = p.product.to_lowercase();
            let vendor = p.vendor.to_lowercase();
            let is_word = |s: &str| s.split(['_', '-', '.', ':']).any(|w| w == q);
            if product == q || key == q {
                MatchKind::ExactProduct
            } else if vendor == q {
                MatchKind::ExactVendor
            } else if product.starts_with(&q) {
                MatchKind::Prefix
            } else if is_word(&product) || is_word(&vendor) {
                MatchKind::Word
            } else {
                MatchKind::Substring
            }
        };
        let add = |found: &mut HashMap<u32, (MatchKind, Product)>,
                   id: u32,
                   p: Product,
                   kind: Option<MatchKind>| {
            let k = kind.unwrap_or_else(|| classify(&p));
            let e = found.entry(id).or_insert((k, p));
            if k < e.0 {
                e.0 = k;
            }
        };
        // Exact and prefix via the B-tree indexes.
        {
            let upper = format!("{q}\u{10FFFF}");
            let mut stmt = self
                .conn
                // Each condition keeps only its best `limit` ids (`?4`): hits are ranked by kind
                // then id, so no more can reach the result, and a common word (`openssl` is the
                // product of hundreds of generated entries) no longer loads every row.
                .prepare_cached(&format!(
                    "SELECT * FROM (SELECT {PRODUCT_COLUMNS} FROM product WHERE product = ?1 ORDER BY id LIMIT ?4) \
                     UNION SELECT * FROM (SELECT {PRODUCT_COLUMNS} FROM product WHERE vendor = ?1 ORDER BY id LIMIT ?4) \
                     UNION SELECT * FROM (SELECT {PRODUCT_COLUMNS} FROM product WHERE key = ?1 ORDER BY id LIMIT ?4) \
                     UNION SELECT * FROM (SELECT {PRODUCT_COLUMNS} FROM product WHERE product >= ?1 AND product < ?2 ORDER BY id LIMIT ?3)"
                ))
                .map_err(|e| self.sql(e))?;
            let rows = stmt
                .query_map(
                    params![q, upper, (limit * 4) as i64, limit as i64],
                    row_to_product,
                )
                .map_err(|e| self.sql(e))?;
            for r in rows {
                let (p, id) = r.map_err(|e| self.sql(e))?;
                add(&mut found, id, p, None);
            }
        }
        // Substring, in rank order.
        let cap = limit * 8;
        let ids = if q.len() >= 2 {
            self.substring_ids(&q, cap)?
        } else {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT id FROM product WHERE instr(key, ?1) > 0 ORDER BY id LIMIT ?2",
                )
                .map_err(|e| self.sql(e))?;
            let rows = stmt
                .query_map(params![q, cap as i64], |r| r.get::<_, i64>(0))
                .map_err(|e| self.sql(e))?;
            rows.map(|r| r.map(|v| v as u32).map_err(|e| self.sql(e)))
                .collect::<Result<Vec<_>, _>>()?
        };
        for id in ids {
            if let Some(p) = self.product_by_id(id)? {
                add(&mut found, id, p, None);
            }
        }
        // Fuzzy when the query is long enough to have typos and hits are few.
        // Fuzzy only when nothing matched as a word or better: a typo is the likely reason.
        let good = found.values().any(|(k, _)| *k <= MatchKind::Word);
        if !good && found.len() < limit && q.len() >= 3 {
            for (id, p) in self.fuzzy(&q, limit)? {
                add(&mut found, id, p, Some(MatchKind::Fuzzy));
            }
        }
        let mut hits: Vec<(MatchKind, u32, Product)> =
            found.into_iter().map(|(id, (k, p))| (k, id, p)).collect();
        hits.sort_by_key(|(k, id, _)| (*k, *id));
        hits.truncate(limit);
        Ok(hits
            .into_iter()
            .map(|(kind, _, product)| Hit { kind, product })
            .collect())
    }

    /// Products whose name is within a small edit distance of `q`.
    fn fuzzy(&self, q: &str, limit: usize) -> Result<Vec<(u32, Product)>, DictError> {
        let mut set = BTreeSet::new();
        grams(q.as_bytes(), 2, &mut set);
        // Shared-bigram counts per product id, in a dense array: ids are 1..=products, and a
        // hash map of the ~10^5 ids these lists touch was a third of a fuzzy search.
        let mut counts: Vec<u8> = Vec::new();
        let mut used = 0u32;
        for g in &set {
            // Very common bigrams say little about a name and cost the most: skip them.
            if let Some(list) = self.posting(g)?.filter(|l| l.len() <= 50_000) {
                used += 1;
                if let Some(&max) = list.last()
                    && counts.len() <= max as usize
                {
                    counts.resize(max as usize + 1, 0);
                }
                for id in list {
                    let c = &mut counts[id as usize];
                    *c = c.saturating_add(1);
                }
            }
        }
        let need = (used / 2).max(1).min(u8::MAX as u32) as u8;
        let mut candidates: Vec<(u8, u32)> = counts
            .iter()
            .enumerate()
            .filter(|(_, c)| **c >= need)
            .map(|(id, c)| (*c, id as u32))
            .collect();
        // The names sharing the most bigrams first; a name within two edits of the query
        // shares nearly all of them, so the first few hundred hold every real match.
        let cap = 300;
        let by_rank = |a: &(u8, u32), b: &(u8, u32)| b.0.cmp(&a.0).then(a.1.cmp(&b.1));
        if candidates.len() > cap {
            candidates.select_nth_unstable_by(cap, by_rank);
            candidates.truncate(cap);
        }
        candidates.sort_unstable_by(by_rank);
        let max_distance = if q.len() <= 4 { 1 } else { 2 };
        let mut out = Vec::new();
        let mut name_stmt = self
            .conn
            .prepare_cached("SELECT product FROM product WHERE id = ?1")
            .map_err(|e| self.sql(e))?;
        for (_, id) in candidates {
            let name: String = name_stmt
                .query_row([id], |r| r.get(0))
                .map_err(|e| self.sql(e))?;
            if name.chars().count().abs_diff(q.chars().count()) > max_distance {
                continue;
            }
            // Optimal string alignment (adjacent transpositions, the typo model): strsim's
            // unrestricted Damerau-Levenshtein builds a hash map per call and was the largest
            // single cost of a fuzzy search.
            if strsim::osa_distance(q, &name.to_lowercase()) <= max_distance
                && let Some(p) = self.product_by_id(id)?
            {
                out.push((id, p));
            }
        }
        out.sort_by_key(|(id, _)| *id);
        out.truncate(limit);
        Ok(out)
    }
}

fn collect_files(p: &Path, out: &mut Vec<PathBuf>) -> Result<(), DictError> {
    let io = |e| DictError::Io {
        path: p.to_path_buf(),
        source: e,
    };
    if p.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
            .map_err(io)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(io)?;
        entries.sort();
        for e in entries {
            if e.is_dir() || e.extension().is_some_and(|x| x == "json" || x == "xml") {
                collect_files(&e, out)?;
            }
        }
        Ok(())
    } else if p.is_file() {
        out.push(p.to_path_buf());
        Ok(())
    } else {
        Err(io(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such file or directory",
        )))
    }
}

/// Writes the accumulated entries to a fresh database file.
fn write_database(path: &Path, acc: import::Accumulator) -> Result<Stats, DictError> {
    let sql = |source| DictError::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    let mut conn = Connection::open(path).map_err(sql)?;
    conn.execute_batch("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA page_size=8192;")
        .map_err(sql)?;
    conn.execute_batch(SCHEMA).map_err(sql)?;
    let tx = conn.transaction().map_err(sql)?;
    // Rank order: most CVEs first, then more dictionary names, then key.
    let mut products: Vec<(ProductKey, import::ProductAcc)> = acc.products.into_iter().collect();
    products.sort_by(|(ka, a), (kb, b)| {
        b.cves
            .len()
            .cmp(&a.cves.len())
            .then(b.names.cmp(&a.names))
            .then_with(|| ka.cmp(kb))
    });
    let mut ids: HashMap<ProductKey, u32> = HashMap::with_capacity(products.len());
    let mut postings: HashMap<Vec<u8>, Vec<u32>> = HashMap::new();
    let mut cve_links = 0u64;
    {
        let mut ins = tx
            .prepare("INSERT INTO product VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)")
            .map_err(sql)?;
        let mut link = tx
            .prepare("INSERT INTO product_cve VALUES (?1, ?2)")
            .map_err(sql)?;
        let mut set = BTreeSet::new();
        for (i, (key, p)) in products.iter().enumerate() {
            let id = i as u32;
            ids.insert(key.clone(), id);
            let (part, vendor, product) = key;
            let k = format!("{}:{}", vendor.to_lowercase(), product.to_lowercase());
            // Only the lowest and highest are stored: one pass, not a sort of every version.
            let known = || {
                p.versions
                    .iter()
                    .filter(|v| !v.is_empty() && v.as_str() != "-")
            };
            let min_version = known().min_by(|a, b| compare_versions(a, b));
            let max_version = known().max_by(|a, b| compare_versions(a, b));
            let deprecated = p.names > 0 && p.deprecated_names == p.names;
            let deprecated_by = p
                .deprecated_by
                .iter()
                .max_by_key(|(_, n)| **n)
                .map(|(k, _)| k.clone());
            let target_sw = p
                .target_sw
                .iter()
                .max_by_key(|(_, n)| **n)
                .map(|(k, _)| k.clone());
            ins.execute(params![
                id,
                part,
                vendor,
                product,
                k,
                p.title,
                p.cves.len() as i64,
                p.names as i64,
                min_version,
                max_version,
                p.sample.as_ref().map(|s| &s.0),
                deprecated as i64,
                deprecated_by,
                target_sw,
            ])
            .map_err(sql)?;
            for cve in p.cves.keys() {
                link.execute(params![id, cve]).map_err(sql)?;
                cve_links += 1;
            }
            set.clear();
            grams(k.as_bytes(), 2, &mut set);
            grams(k.as_bytes(), 3, &mut set);
            for g in &set {
                postings.entry(g.clone()).or_default().push(id);
            }
        }
    }
    {
        let mut ins = tx
            .prepare("INSERT INTO cpe_name VALUES (?1, ?2, ?3, ?4)")
            .map_err(sql)?;
        for (name, key, deprecated, by) in &acc.names {
            ins.execute(params![name, ids[key], *deprecated as i64, by])
                .map_err(sql)?;
        }
        let mut ins = tx.prepare("INSERT INTO cve VALUES (?1, ?2)").map_err(sql)?;
        for (id, d) in &acc.cve_descriptions {
            ins.execute(params![id, d]).map_err(sql)?;
        }
        let mut ins = tx
            .prepare("INSERT INTO gram VALUES (?1, ?2)")
            .map_err(sql)?;
        for (g, list) in &postings {
            let blob: Vec<u8> = list.iter().flat_map(|id| id.to_le_bytes()).collect();
            ins.execute(params![g, blob]).map_err(sql)?;
        }
        tx.execute(
            "INSERT INTO meta VALUES ('format', '1'), ('entries', ?1), ('cve_links', ?2)",
            params![acc.entries as i64, cve_links as i64],
        )
        .map_err(sql)?;
    }
    tx.execute_batch(INDEXES).map_err(sql)?;
    tx.commit().map_err(sql)?;
    let stats = Stats {
        products: products.len() as u64,
        names: acc.names.len() as u64,
        cves: acc.cve_descriptions.len() as u64,
    };
    drop(conn);
    Ok(stats)
}

impl CpeDictionary for Dictionary {
    type Error = DictError;

    fn lookup(&self, vendor: &str, product: &str) -> Result<Vec<Product>, DictError> {
        Dictionary::lookup(self, vendor, product)
    }

    fn cve_descriptions(
        &self,
        vendor: &str,
        product: &str,
        limit: usize,
    ) -> Result<Vec<(String, String)>, DictError> {
        Dictionary::cve_descriptions(self, vendor, product, limit)
    }

    fn search(&self, query: &str, limit: usize) -> Result<Vec<Hit>, DictError> {
        Dictionary::search(self, query, limit)
    }
}
