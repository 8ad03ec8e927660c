//! File Storage: `files/prepare`, list, detail, delete and tags. A file's bytes live in the
//! object store and travel over the provider's own protocol (see `objects`); each file has
//! one random secret from which its SAS signature, S3 session credentials or GCS access
//! token are made, so the object endpoints can tell which file a request may touch.

mod credentials;
mod endpoints;
mod slices;

use jiff::{SignedDuration, Timestamp};
use rusqlite::{Connection, OptionalExtension as _, params};
use serde_json::json;

use crate::db::{from_sql, to_sql};
use crate::http::ApiError;
use crate::objects::FileProvider;
use crate::state::Store;
use crate::storage::Ctx;

pub(crate) use endpoints::{add_tag, delete, delete_tag, get, list, prepare};
pub(crate) use slices::{create_export, read_data};

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL,
    token_id INTEGER NOT NULL,
    token_description TEXT NOT NULL,
    name TEXT NOT NULL,
    size_bytes INTEGER,
    content_type TEXT NOT NULL,
    is_sliced INTEGER NOT NULL,
    is_permanent INTEGER NOT NULL,
    is_public INTEGER NOT NULL,
    is_encrypted INTEGER NOT NULL,
    max_age_days INTEGER,
    -- JSON list
    tags TEXT NOT NULL,
    created INTEGER NOT NULL,
    provider TEXT NOT NULL,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    -- 64 hex characters: every credential of this file is made from it
    secret TEXT NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS files_project ON files (project_id);";

pub(crate) const SEQUENCE: &str = "files";
pub(crate) const FIRST_ID: u64 = 800_001;

/// The one bucket (S3, GCS) or container (Azure) every file lives in.
pub(crate) const BUCKET: &str = "kbc-sapi-files";
/// The Azure storage account.
pub(crate) const ABS_ACCOUNT: &str = "kbcemulatorfiles";
pub(crate) const GCS_PROJECT: &str = "kbc-emulator";

#[derive(Clone, Debug)]
pub(crate) struct File {
    pub id: u64,
    pub project_id: u64,
    pub token_id: u64,
    pub token_description: String,
    pub name: String,
    pub size_bytes: Option<u64>,
    pub content_type: String,
    pub is_sliced: bool,
    pub is_permanent: bool,
    pub is_public: bool,
    pub is_encrypted: bool,
    pub max_age_days: Option<u64>,
    pub tags: Vec<String>,
    pub created: Timestamp,
    pub provider: FileProvider,
    pub bucket: String,
    pub key: String,
    pub secret: String,
}

impl File {
    /// The object name of the file (a prefix of its slices and manifest when sliced).
    pub fn object_path(&self) -> String {
        format!("{}/{}", self.bucket, self.key)
    }

    /// The object a download starts with: the data, or the manifest of a sliced file.
    pub fn download_key(&self) -> String {
        if self.is_sliced {
            format!("{}manifest", self.key)
        } else {
            self.key.clone()
        }
    }

    pub fn aws_access_key_id(&self) -> String {
        format!("ASIA{}", self.secret[..16].to_ascii_uppercase())
    }

    pub fn aws_secret_access_key(&self) -> String {
        self.secret[16..56].to_owned()
    }

    pub fn aws_session_token(&self) -> String {
        format!("FwoGZXIvYXdzEEmulator{}", self.secret)
    }

    pub fn gcs_access_token(&self) -> String {
        format!("ya29.c.{}", self.secret)
    }

    /// The SAS query string (without `?`).
    pub fn sas(&self, now: Timestamp) -> String {
        let expiry = now
            .checked_add(SignedDuration::from_hours(12))
            .unwrap_or(now);
        let fmt = |t: Timestamp| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        format!(
            "sv=2019-12-12&ss=b&srt=sco&sp=rwdlac&se={}&st={}&spr=https,http&sig={}",
            fmt(expiry).replace(':', "%3A"),
            fmt(now).replace(':', "%3A"),
            self.secret
        )
    }
}

const COLUMNS: &str = "id, project_id, token_id, token_description, name, size_bytes, content_type,
    is_sliced, is_permanent, is_public, is_encrypted, max_age_days, tags, created, provider,
    bucket, key, secret";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<File> {
    Ok(File {
        id: r.get(0)?,
        project_id: r.get(1)?,
        token_id: r.get(2)?,
        token_description: r.get(3)?,
        name: r.get(4)?,
        size_bytes: r.get(5)?,
        content_type: r.get(6)?,
        is_sliced: r.get(7)?,
        is_permanent: r.get(8)?,
        is_public: r.get(9)?,
        is_encrypted: r.get(10)?,
        max_age_days: r.get(11)?,
        tags: serde_json::from_str(&r.get::<_, String>(12)?).unwrap_or_default(),
        created: from_sql(r.get(13)?),
        provider: FileProvider::parse(&r.get::<_, String>(14)?).unwrap_or_default(),
        bucket: r.get(15)?,
        key: r.get(16)?,
        secret: r.get(17)?,
    })
}

fn insert(conn: &Connection, f: &File) -> rusqlite::Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO files ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,
                 ?12, ?13, ?14, ?15, ?16, ?17, ?18)"
        ),
        params![
            f.id,
            f.project_id,
            f.token_id,
            f.token_description,
            f.name,
            f.size_bytes,
            f.content_type,
            f.is_sliced,
            f.is_permanent,
            f.is_public,
            f.is_encrypted,
            f.max_age_days,
            json!(f.tags).to_string(),
            to_sql(f.created),
            f.provider.as_str(),
            f.bucket,
            f.key,
            f.secret
        ],
    )?;
    Ok(())
}

fn save_tags(conn: &Connection, f: &File) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE files SET tags = ?2 WHERE id = ?1",
        params![f.id, json!(f.tags).to_string()],
    )?;
    Ok(())
}

pub(crate) fn by_id(conn: &Connection, id: u64) -> rusqlite::Result<Option<File>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM files WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()
}

pub(crate) fn by_secret(conn: &Connection, secret: &str) -> rusqlite::Result<Option<File>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM files WHERE secret = ?1"),
        [secret],
        from_row,
    )
    .optional()
}

fn not_found() -> ApiError {
    ApiError::not_found("File not found", "storage.files.notFound")
}

/// Whether a token sees a file: its own uploads, or all with `canReadAllFileUploads`.
fn can_see(ctx: &Ctx<'_>, f: &File) -> bool {
    f.project_id == ctx.me.project_id
        && (ctx.me.can_read_all_file_uploads || f.token_id == ctx.me.id)
}

/// The file, when the token sees it.
pub(crate) fn visible(store: &Store, ctx: &Ctx<'_>, id: u64) -> Result<File, ApiError> {
    match by_id(&store.db, id)? {
        Some(f) if can_see(ctx, &f) => Ok(f),
        _ => Err(not_found()),
    }
}

fn random_secret() -> String {
    use rand::Rng as _;
    let mut rng = rand::rng();
    (0..64)
        .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
        .collect()
}

/// UNCERTAIN: Keboola lower-cases some names; here only characters a key cannot hold change.
fn clean_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn date_path(now: Timestamp) -> String {
    now.to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .strftime("%Y/%m/%d")
        .to_string()
}
