//! File Storage: `files/prepare`, list, detail, delete and tags. A file's bytes live in the
//! object store and travel over the provider's own protocol (see `objects`); each file has
//! one random secret from which its SAS signature, S3 session credentials or GCS access
//! token are made, so the object endpoints can tell which file a request may touch.

use axum::http::StatusCode;
use jiff::{SignedDuration, Timestamp};
use rusqlite::{Connection, OptionalExtension as _, params};
use serde_json::{Map, Value, json};

use crate::db::{self, from_sql, to_sql};
use crate::http::{
    ApiError, ApiRequest, ApiResult, json_response, no_content, ok_json, param_bool, param_i64,
    param_str, param_str_list, parse_form, time,
};
use crate::objects::FileProvider;
use crate::state::Store;
use crate::storage::Ctx;
use crate::storage::jobs::JobError;
use crate::storage::tables::Table;

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

fn tags_param(params: &Map<String, Value>) -> Result<Vec<String>, ApiError> {
    let list = match params.get("tags") {
        // Form bodies may index tags: tags[0]=a&tags[3]=b.
        Some(Value::Object(map)) => map
            .values()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(Value::String(s)) if !s.is_empty() => {
            return Err(ApiError::bad_request(
                "Invalid request:\n - tags: \"This value should be of type array.\"",
                "storage.validation",
            ));
        }
        _ => param_str_list(params, "tags")?.unwrap_or_default(),
    };
    let mut out: Vec<String> = Vec::new();
    for t in list {
        if !t.is_empty() && !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

/// `POST /files/prepare`: a file record plus upload credentials for the provider.
pub(crate) fn prepare(
    store: &Store,
    ctx: &Ctx<'_>,
    provider: FileProvider,
    req: &ApiRequest,
) -> ApiResult {
    let params = req.params()?;
    let name = param_str(&params, "name").unwrap_or("").trim().to_owned();
    if name.is_empty() {
        return Err(ApiError::bad_request(
            "Invalid request:\n - name: \"This value should not be blank.\"",
            "storage.validation",
        ));
    }
    let is_permanent = param_bool(&params, "isPermanent")?.unwrap_or(false);
    let id = db::next_id(&store.db, SEQUENCE)?;
    let name = clean_name(&name);
    let days = if is_permanent { None } else { Some(15) };
    let file = File {
        id,
        project_id: ctx.me.project_id,
        token_id: ctx.me.id,
        token_description: ctx.me.description.clone(),
        size_bytes: param_i64(&params, "sizeBytes")?.map(i64::unsigned_abs),
        content_type: param_str(&params, "contentType")
            .unwrap_or("application/octet-stream")
            .to_owned(),
        is_sliced: param_bool(&params, "isSliced")?.unwrap_or(false),
        is_permanent,
        is_public: param_bool(&params, "isPublic")?.unwrap_or(false),
        // Azure and GCP always encrypt.
        is_encrypted: provider != FileProvider::Aws
            || param_bool(&params, "isEncrypted")?.unwrap_or(true),
        max_age_days: days,
        tags: tags_param(&params)?,
        created: ctx.now,
        provider,
        bucket: BUCKET.to_owned(),
        key: format!(
            "exp-{}/{}/files/{}/{id}.{name}",
            days.unwrap_or(0),
            ctx.me.project_id,
            date_path(ctx.now)
        ),
        name,
        secret: random_secret(),
    };
    insert(&store.db, &file)?;
    let mut v = render(store, ctx, &file, false)?;
    if let Value::Object(map) = &mut v {
        map.extend(upload_params(ctx, &file));
    }
    Ok(json_response(StatusCode::CREATED, &v))
}

fn expiration(now: Timestamp, hours: i64) -> String {
    now.checked_add(SignedDuration::from_hours(hours))
        .unwrap_or(now)
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .strftime("%Y-%m-%dT%H:%M:%S+00:00")
        .to_string()
}

fn abs_credentials(ctx: &Ctx<'_>, f: &File) -> Value {
    json!({
        "SASConnectionString": format!(
            "BlobEndpoint={}/_abs/{ABS_ACCOUNT};SharedAccessSignature={}",
            ctx.base_url,
            f.sas(ctx.now)
        ),
        "expiration": expiration(ctx.now, 12),
    })
}

fn aws_credentials(ctx: &Ctx<'_>, f: &File) -> Value {
    json!({
        "AccessKeyId": f.aws_access_key_id(),
        "SecretAccessKey": f.aws_secret_access_key(),
        "SessionToken": f.aws_session_token(),
        "Expiration": expiration(ctx.now, 12),
    })
}

fn upload_params(ctx: &Ctx<'_>, f: &File) -> Map<String, Value> {
    let mut m = Map::new();
    match f.provider {
        FileProvider::Aws => {
            m.insert(
                "uploadParams".into(),
                json!({
                    "key": f.key,
                    "bucket": f.bucket,
                    "acl": "private",
                    "x-amz-server-side-encryption": "AES256",
                    "credentials": aws_credentials(ctx, f),
                }),
            );
        }
        FileProvider::Azure => {
            m.insert(
                "absUploadParams".into(),
                json!({
                    "blobName": f.key,
                    "accountName": ABS_ACCOUNT,
                    "container": f.bucket,
                    "absCredentials": abs_credentials(ctx, f),
                }),
            );
        }
        FileProvider::Gcp => {
            m.insert(
                "gcsUploadParams".into(),
                json!({
                    "projectId": GCS_PROJECT,
                    "bucket": f.bucket,
                    "key": f.key,
                    "access_token": f.gcs_access_token(),
                    "expires_in": 3599,
                    "token_type": "Bearer",
                }),
            );
        }
    }
    m
}

fn download_params(ctx: &Ctx<'_>, f: &File) -> Map<String, Value> {
    let mut m = Map::new();
    match f.provider {
        FileProvider::Aws => {
            m.insert("s3Path".into(), json!({"bucket": f.bucket, "key": f.key}));
            m.insert("credentials".into(), aws_credentials(ctx, f));
        }
        FileProvider::Azure => {
            m.insert(
                "absPath".into(),
                json!({"container": f.bucket, "name": f.key}),
            );
            m.insert("absCredentials".into(), abs_credentials(ctx, f));
        }
        FileProvider::Gcp => {
            m.insert("gcsPath".into(), json!({"bucket": f.bucket, "key": f.key}));
            m.insert(
                "gcsCredentials".into(),
                json!({"access_token": f.gcs_access_token(), "expires_in": 3599,
                       "token_type": "Bearer", "projectId": GCS_PROJECT}),
            );
        }
    }
    m
}

/// A presigned-looking GET URL of the file's data (or its manifest, when sliced).
fn download_url(ctx: &Ctx<'_>, f: &File) -> String {
    let key = f.download_key();
    let amz_date = ctx
        .now
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string();
    let day = &amz_date[..8];
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    match f.provider {
        FileProvider::Aws => format!(
            "{}/_s3/{}/{key}?X-Amz-Content-Sha256=UNSIGNED-PAYLOAD&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={}&X-Amz-Date={amz_date}&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Security-Token={}&X-Amz-Signature={}",
            ctx.base_url,
            f.bucket,
            enc(&format!(
                "{}/{day}/us-east-1/s3/aws4_request",
                f.aws_access_key_id()
            )),
            enc(&f.aws_session_token()),
            f.secret
        ),
        FileProvider::Azure => format!(
            "{}/_abs/{ABS_ACCOUNT}/{}/{key}?{}",
            ctx.base_url,
            f.bucket,
            f.sas(ctx.now)
        ),
        FileProvider::Gcp => format!(
            "{}/_gcs/{}/{key}?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential={}&X-Goog-Date={amz_date}&X-Goog-Expires=3600&X-Goog-SignedHeaders=host&X-Goog-Signature={}",
            ctx.base_url,
            f.bucket,
            enc(&format!(
                "kbc-emulator@{GCS_PROJECT}.iam.gserviceaccount.com/{day}/auto/storage/goog4_request"
            )),
            f.secret
        ),
    }
}

fn region(provider: FileProvider) -> &'static str {
    match provider {
        FileProvider::Aws => "us-east-1",
        FileProvider::Azure => "eastus2",
        FileProvider::Gcp => "us-east4",
    }
}

fn render(store: &Store, ctx: &Ctx<'_>, f: &File, federation: bool) -> Result<Value, ApiError> {
    // Until the client says, the size is what was stored.
    let size = match f.size_bytes {
        Some(s) => Some(s),
        None => store
            .blobs
            .meta(&store.db, &f.object_path())?
            .map(|m| m.size),
    };
    let mut v = json!({
        "id": f.id,
        "created": time(f.created),
        "isPublic": f.is_public,
        "isSliced": f.is_sliced,
        "isEncrypted": f.is_encrypted,
        "name": f.name,
        "url": download_url(ctx, f),
        "provider": f.provider.as_str(),
        "region": region(f.provider),
        "sizeBytes": size,
        "tags": f.tags,
        "maxAgeDays": f.max_age_days,
        "runId": null,
        "runIds": [],
        "creatorToken": {"id": f.token_id, "description": f.token_description},
    });
    if federation && let Value::Object(map) = &mut v {
        map.extend(download_params(ctx, f));
    }
    Ok(v)
}

pub(crate) fn get(store: &Store, ctx: &Ctx<'_>, id: &str, req: &ApiRequest) -> ApiResult {
    let id: u64 = id.parse().map_err(|_| not_found())?;
    let f = visible(store, ctx, id)?;
    let query = parse_form(req.raw_query.as_deref().unwrap_or(""));
    let federation = param_bool(&query, "federationToken")?.unwrap_or(false);
    ok_json(&render(store, ctx, &f, federation)?)
}

/// `q`: words match the name; `name:x` and `tags:x` (or `tag:x`) narrow by field.
fn matches_query(f: &File, q: &str) -> bool {
    q.split_whitespace().all(|term| {
        let term = term.trim_matches('"');
        match term.split_once(':') {
            Some(("name", v)) => f.name.contains(v.trim_matches('"')),
            Some(("tags" | "tag", v)) => f.tags.iter().any(|t| t == v.trim_matches('"')),
            Some(("id", v)) => f.id.to_string() == v,
            _ => f.name.contains(term),
        }
    })
}

pub(crate) fn list(store: &Store, ctx: &Ctx<'_>, req: &ApiRequest) -> ApiResult {
    let query = parse_form(req.raw_query.as_deref().unwrap_or(""));
    let limit = param_i64(&query, "limit")?.unwrap_or(100).clamp(1, 1000);
    let offset = param_i64(&query, "offset")?.unwrap_or(0).max(0);
    let tags = tags_param(&query)?;
    let since_id = param_i64(&query, "sinceId")?;
    let max_id = param_i64(&query, "maxId")?;
    let q = param_str(&query, "q").unwrap_or("").to_owned();
    let all: Vec<File> = store
        .db
        .prepare(&format!(
            "SELECT {COLUMNS} FROM files WHERE project_id = ?1 ORDER BY id DESC"
        ))?
        .query_map([ctx.me.project_id], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::new();
    for f in all
        .iter()
        .filter(|f| can_see(ctx, f))
        .filter(|f| tags.is_empty() || f.tags.iter().any(|t| tags.contains(t)))
        .filter(|f| since_id.is_none_or(|s| f.id > s.unsigned_abs()))
        .filter(|f| max_id.is_none_or(|m| f.id <= m.unsigned_abs()))
        .filter(|f| matches_query(f, &q))
        .skip(usize::try_from(offset).unwrap_or(0))
        .take(usize::try_from(limit).unwrap_or(100))
    {
        out.push(render(store, ctx, f, false)?);
    }
    ok_json(&Value::Array(out))
}

pub(crate) fn delete(store: &Store, ctx: &Ctx<'_>, id: &str) -> ApiResult {
    let id: u64 = id.parse().map_err(|_| not_found())?;
    let f = visible(store, ctx, id)?;
    store.blobs.delete_prefix(&store.db, &f.object_path())?;
    store
        .db
        .execute("DELETE FROM files WHERE id = ?1", [f.id])?;
    no_content()
}

pub(crate) fn add_tag(store: &Store, ctx: &Ctx<'_>, id: &str, req: &ApiRequest) -> ApiResult {
    let id: u64 = id.parse().map_err(|_| not_found())?;
    let mut f = visible(store, ctx, id)?;
    let params = req.params()?;
    let tag = param_str(&params, "tag").unwrap_or("").trim().to_owned();
    if tag.is_empty() {
        return Err(ApiError::bad_request(
            "Invalid request:\n - tag: \"This value should not be blank.\"",
            "storage.validation",
        ));
    }
    if !f.tags.contains(&tag) {
        f.tags.push(tag);
        save_tags(&store.db, &f)?;
    }
    no_content()
}

pub(crate) fn delete_tag(store: &Store, ctx: &Ctx<'_>, id: &str, tag: &str) -> ApiResult {
    let id: u64 = id.parse().map_err(|_| not_found())?;
    let mut f = visible(store, ctx, id)?;
    f.tags.retain(|t| t != tag);
    save_tags(&store.db, &f)?;
    no_content()
}

/// The object path an entry URL of a manifest names: `s3://b/k`, `gs://b/k`,
/// `azure://<account>.blob.core.windows.net/<container>/<blob>` or an emulator URL.
fn entry_path(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let rest = rest.split('?').next().unwrap_or(rest);
    match scheme {
        "s3" | "gs" => Some(rest.to_owned()),
        "azure" | "https" | "http" => {
            // Drop the host; an emulator URL also carries its /_abs/<account> (or /_s3) prefix.
            let path = rest.split_once('/')?.1;
            let path = path
                .strip_prefix(&format!("_abs/{ABS_ACCOUNT}/"))
                .or_else(|| path.strip_prefix("_s3/"))
                .or_else(|| path.strip_prefix("_gcs/"))
                .unwrap_or(path);
            Some(path.to_owned())
        }
        _ => None,
    }
}

/// The bytes of an uploaded file for an import: the object itself, or its slices in
/// manifest order; and whether it was sliced.
pub(crate) fn read_data(
    store: &Store,
    project_id: u64,
    id: u64,
) -> Result<(Vec<u8>, bool), JobError> {
    let f = by_id(&store.db, id)?
        .filter(|f| f.project_id == project_id)
        .ok_or_else(|| JobError::new("storage.files.notFound", "File not found"))?;
    let not_uploaded = || {
        JobError::new(
            "storage.fileNotUploaded",
            &format!("File \"{}\" (id {id}) was not uploaded.", f.name),
        )
    };
    let read = |path: &str| -> Result<Option<Vec<u8>>, JobError> {
        store
            .blobs
            .read(&store.db, path)
            .map(|o| o.map(|(_, b)| b))
            .map_err(|e| JobError::internal(&e))
    };
    if !f.is_sliced {
        return Ok((read(&f.object_path())?.ok_or_else(not_uploaded)?, false));
    }
    let manifest = read(&format!("{}manifest", f.object_path()))?.ok_or_else(not_uploaded)?;
    let manifest: Value = serde_json::from_slice(&manifest).map_err(|_| {
        JobError::new(
            "storage.files.invalidManifest",
            "The manifest of the sliced file is not valid JSON.",
        )
    })?;
    let mut out = Vec::new();
    for entry in manifest["entries"].as_array().into_iter().flatten() {
        let path = entry["url"].as_str().and_then(entry_path).ok_or_else(|| {
            JobError::new(
                "storage.files.invalidManifest",
                "A manifest entry has no valid url.",
            )
        })?;
        let bytes = read(&path)?.ok_or_else(|| {
            JobError::new(
                "storage.fileNotUploaded",
                &format!("Slice \"{path}\" was not uploaded."),
            )
        })?;
        // Slices may be gzipped one by one; the CSV parser handles a gzip stream as a whole.
        out.extend(gunzip_if_gzip(bytes).map_err(|e| JobError::internal(&e))?);
    }
    Ok((out, true))
}

fn gunzip_if_gzip(bytes: Vec<u8>) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(&bytes[..]).read_to_end(&mut out)?;
    Ok(out)
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write as _;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes)?;
    enc.finish()
}

/// The manifest URL of one slice, in the provider's own notation.
fn entry_url(f: &File, key: &str) -> String {
    match f.provider {
        FileProvider::Aws => format!("s3://{}/{key}", f.bucket),
        FileProvider::Gcp => format!("gs://{}/{key}", f.bucket),
        FileProvider::Azure => format!(
            "azure://{ABS_ACCOUNT}.blob.core.windows.net/{}/{key}",
            f.bucket
        ),
    }
}

/// Stores an export: slices `<key>0000_part_00`, ... and `<key>manifest`, as a sliced file
/// owned by the exporting token. Returns the file id.
pub(crate) fn create_export(
    store: &Store,
    ctx: &Ctx<'_>,
    table: &Table,
    name: &str,
    slices: Vec<Vec<u8>>,
    compress: bool,
) -> Result<u64, JobError> {
    let id = db::next_id(&store.db, SEQUENCE)?;
    let provider = store.provider;
    let mut file = File {
        id,
        project_id: ctx.me.project_id,
        token_id: ctx.me.id,
        token_description: ctx.me.description.clone(),
        name: name.to_owned(),
        size_bytes: None,
        content_type: if compress {
            "application/x-gzip"
        } else {
            "text/csv"
        }
        .to_owned(),
        is_sliced: true,
        is_permanent: false,
        is_public: false,
        is_encrypted: true,
        max_age_days: Some(2),
        tags: vec!["table-export".to_owned(), format!("tableId:{}", table.id)],
        created: ctx.now,
        provider,
        bucket: BUCKET.to_owned(),
        key: format!(
            "exp-2/{}/table-exports/{}/{id}.{name}",
            ctx.me.project_id,
            table.id.replace('.', "/")
        ),
        secret: random_secret(),
    };
    let mut entries = Vec::new();
    let mut total = 0u64;
    for (i, slice) in slices.into_iter().enumerate() {
        let bytes = if compress {
            gzip(&slice).map_err(|e| JobError::internal(&e))?
        } else {
            slice
        };
        total += bytes.len() as u64;
        let key = format!("{}{i:04}_part_00", file.key);
        store
            .blobs
            .put(
                &store.db,
                &format!("{}/{key}", file.bucket),
                &bytes,
                &file.content_type,
                ctx.now,
            )
            .map_err(|e| JobError::internal(&e))?;
        entries.push(json!({"url": entry_url(&file, &key), "mandatory": true}));
    }
    let manifest = json!({"entries": entries}).to_string();
    store
        .blobs
        .put(
            &store.db,
            &format!("{}manifest", file.object_path()),
            manifest.as_bytes(),
            "application/json",
            ctx.now,
        )
        .map_err(|e| JobError::internal(&e))?;
    file.size_bytes = Some(total);
    insert(&store.db, &file)?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::entry_path;

    #[test]
    fn manifest_entries_name_objects() {
        assert_eq!(
            entry_path("s3://b/k/x_part_00").as_deref(),
            Some("b/k/x_part_00")
        );
        assert_eq!(entry_path("gs://b/k").as_deref(), Some("b/k"));
        assert_eq!(
            entry_path("azure://kbcemulatorfiles.blob.core.windows.net/c/a/b").as_deref(),
            Some("c/a/b")
        );
        assert_eq!(
            entry_path("http://127.0.0.1:1/_abs/kbcemulatorfiles/c/a?sig=x").as_deref(),
            Some("c/a")
        );
        assert_eq!(entry_path("nope").as_deref(), None);
    }
}
