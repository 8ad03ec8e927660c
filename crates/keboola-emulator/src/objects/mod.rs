//! The object store behind File Storage, and the cloud protocols that reach it: an Azure
//! Blob Storage imitation under `/_abs`, S3 under `/_s3` and Google Cloud Storage under
//! `/_gcs`, so a client's own transfer code works unchanged against the emulator.
//!
//! Objects are named `<bucket>/<key>` (the Azure container is the bucket). Their bytes are
//! files in the blob directory (under `--data-dir`, else a temporary directory); the
//! `blobs` table maps names to those files. Staged parts (Azure blocks, S3 multipart parts,
//! resumable GCS chunks) wait in `blob_parts` until committed.

pub(crate) mod abs;
pub(crate) mod gcs;
pub(crate) mod s3;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode, header};
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension as _, params};
use serde::{Deserialize, Serialize};

use crate::db::{self, from_sql, to_sql};
use crate::http::ApiRequest;
use crate::state::{Shared, Store};
use crate::storage::files::{self, File};

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS blobs (
    path TEXT PRIMARY KEY,
    disk TEXT NOT NULL,
    size INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS blob_parts (
    upload_id TEXT NOT NULL,
    part TEXT NOT NULL,
    disk TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (upload_id, part)
);
CREATE TABLE IF NOT EXISTS blob_uploads (
    upload_id TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    content_type TEXT NOT NULL
);";

const SEQUENCE: &str = "blobs";

/// Which cloud File Storage imitates: what `files/prepare` and file detail return.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileProvider {
    /// S3 under `/_s3` (clients set `AWS_ENDPOINT_URL_S3=<url>/_s3`).
    Aws,
    /// Azure Blob Storage under `/_abs`, reached through the SAS connection string.
    #[default]
    Azure,
    /// Google Cloud Storage under `/_gcs` (clients set `STORAGE_EMULATOR_HOST=<url>/_gcs`).
    Gcp,
}

impl FileProvider {
    pub fn as_str(self) -> &'static str {
        match self {
            FileProvider::Aws => "aws",
            FileProvider::Azure => "azure",
            FileProvider::Gcp => "gcp",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "aws" => Some(Self::Aws),
            "azure" => Some(Self::Azure),
            "gcp" => Some(Self::Gcp),
            _ => None,
        }
    }
}

/// Where object bytes live on disk.
pub(crate) struct Blobs {
    dir: PathBuf,
    /// Removed when the emulator stops.
    temporary: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct BlobMeta {
    pub disk: String,
    pub size: u64,
    pub content_type: String,
    pub created: Timestamp,
}

impl Blobs {
    pub fn new(data_dir: Option<&Path>) -> anyhow::Result<Self> {
        let (dir, temporary) = match data_dir {
            Some(d) => (d.join("files"), false),
            None => (
                std::env::temp_dir().join(format!(
                    "keboola-emulator-files-{}",
                    crate::crypto::random_alnum(&mut rand::rng(), 12)
                )),
                true,
            ),
        };
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir, temporary })
    }

    /// Removes every stored byte (the tables are cleared with the rest of the database).
    pub fn clear(&self) -> std::io::Result<()> {
        for entry in std::fs::read_dir(&self.dir)? {
            let _ = std::fs::remove_file(entry?.path());
        }
        Ok(())
    }

    fn write_disk(&self, conn: &Connection, bytes: &[u8]) -> anyhow::Result<String> {
        let disk = format!("blob_{}", db::next_id(conn, SEQUENCE)?);
        let file = self.dir.join(&disk);
        let written = match std::fs::write(&file, bytes) {
            // A temporary directory can be swept away under a long-running emulator (a
            // cleanup of /tmp); objects stored since then must not fail with it.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(&self.dir).and_then(|()| std::fs::write(&file, bytes))
            }
            other => other,
        };
        written.with_context(|| format!("cannot write object bytes to {}", file.display()))?;
        Ok(disk)
    }

    fn read_disk(&self, path: &str, disk: &str) -> anyhow::Result<Vec<u8>> {
        let file = self.dir.join(disk);
        std::fs::read(&file).with_context(|| {
            format!(
                "cannot read the bytes of object {path} from {} (was the directory removed?)",
                file.display()
            )
        })
    }

    fn remove_disk(&self, disk: &str) {
        let _ = std::fs::remove_file(self.dir.join(disk));
    }

    /// Stores (or replaces) an object.
    pub fn put(
        &self,
        conn: &Connection,
        path: &str,
        bytes: &[u8],
        content_type: &str,
        now: Timestamp,
    ) -> anyhow::Result<BlobMeta> {
        let disk = self.write_disk(conn, bytes)?;
        self.link(conn, path, &disk, bytes.len() as u64, content_type, now)
    }

    fn link(
        &self,
        conn: &Connection,
        path: &str,
        disk: &str,
        size: u64,
        content_type: &str,
        now: Timestamp,
    ) -> anyhow::Result<BlobMeta> {
        if let Some(old) = self.meta(conn, path)? {
            self.remove_disk(&old.disk);
        }
        conn.execute(
            "INSERT INTO blobs (path, disk, size, content_type, created) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (path) DO UPDATE SET disk = excluded.disk, size = excluded.size,
                 content_type = excluded.content_type, created = excluded.created",
            params![path, disk, size, content_type, to_sql(now)],
        )?;
        Ok(BlobMeta {
            disk: disk.to_owned(),
            size,
            content_type: content_type.to_owned(),
            created: now,
        })
    }

    pub fn meta(&self, conn: &Connection, path: &str) -> rusqlite::Result<Option<BlobMeta>> {
        conn.query_row(
            "SELECT disk, size, content_type, created FROM blobs WHERE path = ?1",
            [path],
            |r| {
                Ok(BlobMeta {
                    disk: r.get(0)?,
                    size: r.get(1)?,
                    content_type: r.get(2)?,
                    created: from_sql(r.get(3)?),
                })
            },
        )
        .optional()
    }

    pub fn read(
        &self,
        conn: &Connection,
        path: &str,
    ) -> anyhow::Result<Option<(BlobMeta, Vec<u8>)>> {
        let Some(meta) = self.meta(conn, path)? else {
            return Ok(None);
        };
        let bytes = self.read_disk(path, &meta.disk)?;
        Ok(Some((meta, bytes)))
    }

    /// Deletes every object whose name starts with `prefix`.
    pub fn delete_prefix(&self, conn: &Connection, prefix: &str) -> rusqlite::Result<()> {
        let disks: Vec<(String, String)> = conn
            .prepare("SELECT path, disk FROM blobs WHERE substr(path, 1, length(?1)) = ?1")?
            .query_map([prefix], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (path, disk) in disks {
            self.remove_disk(&disk);
            conn.execute("DELETE FROM blobs WHERE path = ?1", [path])?;
        }
        Ok(())
    }

    /// Starts a staged upload of `path` under `upload_id`.
    pub fn begin(
        &self,
        conn: &Connection,
        upload_id: &str,
        path: &str,
        content_type: &str,
    ) -> rusqlite::Result<()> {
        conn.execute(
            "INSERT OR REPLACE INTO blob_uploads (upload_id, path, content_type) VALUES (?1, ?2, ?3)",
            params![upload_id, path, content_type],
        )?;
        Ok(())
    }

    /// The object name and content type of a staged upload.
    pub fn upload(
        &self,
        conn: &Connection,
        upload_id: &str,
    ) -> rusqlite::Result<Option<(String, String)>> {
        conn.query_row(
            "SELECT path, content_type FROM blob_uploads WHERE upload_id = ?1",
            [upload_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
    }

    /// Stages one part (replacing a part of the same name).
    pub fn stage(
        &self,
        conn: &Connection,
        upload_id: &str,
        part: &str,
        bytes: &[u8],
    ) -> anyhow::Result<()> {
        let disk = self.write_disk(conn, bytes)?;
        let old: Option<String> = conn
            .query_row(
                "SELECT disk FROM blob_parts WHERE upload_id = ?1 AND part = ?2",
                [upload_id, part],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(old) = old {
            self.remove_disk(&old);
        }
        conn.execute(
            "INSERT OR REPLACE INTO blob_parts (upload_id, part, disk, size) VALUES (?1, ?2, ?3, ?4)",
            params![upload_id, part, disk, bytes.len() as u64],
        )?;
        Ok(())
    }

    /// Names of the staged parts, in staging order.
    pub fn parts(
        &self,
        conn: &Connection,
        upload_id: &str,
    ) -> rusqlite::Result<Vec<(String, u64)>> {
        conn.prepare("SELECT part, size FROM blob_parts WHERE upload_id = ?1 ORDER BY rowid")?
            .query_map([upload_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect()
    }

    /// Joins the named parts into the object; `None` when a part is missing.
    pub fn commit(
        &self,
        conn: &Connection,
        upload_id: &str,
        path: &str,
        parts: &[String],
        content_type: &str,
        now: Timestamp,
    ) -> anyhow::Result<Option<BlobMeta>> {
        let mut bytes = Vec::new();
        for part in parts {
            let disk: Option<String> = conn
                .query_row(
                    "SELECT disk FROM blob_parts WHERE upload_id = ?1 AND part = ?2",
                    [upload_id, part],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(disk) = disk else { return Ok(None) };
            bytes.extend(self.read_disk(&format!("{path} (part {part})"), &disk)?);
        }
        let meta = self.put(conn, path, &bytes, content_type, now)?;
        self.abort(conn, upload_id)?;
        Ok(Some(meta))
    }

    /// Drops a staged upload and its parts.
    pub fn abort(&self, conn: &Connection, upload_id: &str) -> rusqlite::Result<()> {
        for (part, _) in self.parts(conn, upload_id)? {
            let disk: Option<String> = conn
                .query_row(
                    "SELECT disk FROM blob_parts WHERE upload_id = ?1 AND part = ?2",
                    [upload_id, &part],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(d) = disk {
                self.remove_disk(&d);
            }
        }
        conn.execute("DELETE FROM blob_parts WHERE upload_id = ?1", [upload_id])?;
        conn.execute("DELETE FROM blob_uploads WHERE upload_id = ?1", [upload_id])?;
        Ok(())
    }
}

impl Drop for Blobs {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Logs an internal failure of an object request on stderr (the client sees only the
/// protocol's generic 500).
pub(crate) fn log_internal(service: &str, req: &ApiRequest, error: &dyn std::fmt::Display) {
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr().lock(),
        "internal error: {service} {} {}: {error:#}",
        req.method,
        crate::http::masked_path(&req.path)
    );
}

/// The file whose credential `secret` is, when it covers object `path` (its key, its
/// slices and its manifest).
pub(crate) fn authorized(store: &Store, secret: &str, path: &str) -> Option<File> {
    if secret.is_empty() {
        return None;
    }
    let file = files::by_secret(&store.db, secret).ok()??;
    path.starts_with(&file.object_path()).then_some(file)
}

/// A `bytes=a-b` range (`Range` or `x-ms-range`) resolved against `len`.
pub(crate) fn range(req: &ApiRequest, len: u64) -> Option<(u64, u64)> {
    let spec = req.header("x-ms-range").or_else(|| req.header("range"))?;
    let spec = spec.trim().strip_prefix("bytes=")?;
    let (start, end) = spec.split_once('-')?;
    if len == 0 {
        return None;
    }
    let (start, end) = if start.is_empty() {
        let suffix: u64 = end.parse().ok()?;
        (len.saturating_sub(suffix), len - 1)
    } else {
        let start: u64 = start.parse().ok()?;
        let end = if end.is_empty() {
            len - 1
        } else {
            end.parse::<u64>().ok()?.min(len - 1)
        };
        (start, end)
    };
    (start <= end && start < len).then_some((start, end))
}

/// An object's bytes, whole (200) or the requested range (206).
pub(crate) fn body_response(
    req: &ApiRequest,
    meta: &BlobMeta,
    bytes: Vec<u8>,
    head: bool,
) -> Response<Body> {
    let total = bytes.len() as u64;
    let (status, body, content_range) = match range(req, total) {
        Some((start, end)) => (
            StatusCode::PARTIAL_CONTENT,
            bytes[usize::try_from(start).unwrap_or(0)..=usize::try_from(end).unwrap_or(0)].to_vec(),
            Some(format!("bytes {start}-{end}/{total}")),
        ),
        None => (StatusCode::OK, bytes, None),
    };
    let len = body.len();
    let mut resp = Response::new(if head {
        Body::empty()
    } else {
        Body::from(body)
    });
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if let Ok(v) = HeaderValue::from_str(&meta.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&etag(meta)) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&http_date(meta.created)) {
        h.insert(header::LAST_MODIFIED, v);
    }
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(cr) = content_range.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert(header::CONTENT_RANGE, cr);
    }
    resp
}

pub(crate) fn etag(meta: &BlobMeta) -> String {
    format!("\"{}-{:x}\"", meta.disk, meta.size)
}

/// `Tue, 01 Dec 2026 21:00:00 GMT`.
pub(crate) fn http_date(ts: Timestamp) -> String {
    ts.to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .strftime("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

pub(crate) fn xml_response(status: StatusCode, xml: String) -> Response<Body> {
    let mut resp = Response::new(Body::from(xml));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    resp
}

/// The text of every `<tag>...</tag>` in `xml`, in order.
pub(crate) fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else { break };
        out.push(after[..end].trim().to_owned());
        rest = &after[end + close.len()..];
    }
    out
}

pub(crate) fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Entry point for `/_abs`, `/_s3` and `/_gcs`.
pub(crate) fn handle(
    shared: &Shared,
    req: &ApiRequest,
    service: &str,
    rest: &[&str],
) -> Response<Body> {
    match service {
        "abs" => abs::handle(shared, req, rest),
        "s3" => s3::handle(shared, req, rest),
        _ => gcs::handle(shared, req, rest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_values_are_found_in_order() {
        let xml = "<BlockList><Latest>a</Latest><Uncommitted>b</Uncommitted><Latest> c </Latest></BlockList>";
        assert_eq!(xml_values(xml, "Latest"), vec!["a", "c"]);
    }
}
