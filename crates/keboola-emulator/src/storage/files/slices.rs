//! File bytes for imports and exports: whole objects, or sliced files with a manifest.

use serde_json::{Value, json};

use crate::db;
use crate::objects::FileProvider;
use crate::state::Store;
use crate::storage::Ctx;
use crate::storage::jobs::JobError;
use crate::storage::tables::Table;

use super::{ABS_ACCOUNT, BUCKET, File, SEQUENCE, by_id, insert, random_secret};

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
