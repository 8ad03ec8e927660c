//! File Storage: `/v2/storage/[branch/{b}/]files`.
//!
//! A file's `url` (presigned) and its provider blocks (`uploadParams`, `credentials`,
//! `absUploadParams`, `absCredentials`, `gcsUploadParams`, `gcsCredentials`) are secrets:
//! they are taken out of the received object into [`FileCredentials`], which never prints
//! them, so `raw` can be shown as it is.

use std::fmt;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::http::Method;
use crate::lenient;
use crate::storage::StorageClient;

/// The keys of a file object that grant access to its bytes.
const SECRET_KEYS: &[&str] = &[
    "url",
    "uploadParams",
    "absUploadParams",
    "gcsUploadParams",
    "credentials",
    "absCredentials",
    "gcsCredentials",
];

/// A file's access to its bytes: the presigned `url` and the provider's upload or
/// download parameters with their temporary credentials. `Debug` shows only which parts
/// are present; there is no `Display` or `Serialize`.
#[derive(Clone, Default, PartialEq)]
pub struct FileCredentials(pub(crate) Map<String, Value>);

impl fmt::Debug for FileCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let present: Vec<&str> = self.0.keys().map(String::as_str).collect();
        write!(f, "FileCredentials({} hidden)", present.join(", "))
    }
}

impl FileCredentials {
    /// Whether there is anything to transfer with.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    pub(crate) fn text(&self, pointer: &str) -> Option<&str> {
        let (head, rest) = match pointer.trim_start_matches('/').split_once('/') {
            Some((head, rest)) => (head, Some(rest)),
            None => (pointer.trim_start_matches('/'), None),
        };
        let value = self.0.get(head)?;
        let value = match rest {
            Some(rest) => value.pointer(&format!("/{rest}"))?,
            None => value,
        };
        value.as_str().filter(|s| !s.is_empty())
    }
}

/// A Storage file. Decoding one moves its secrets into `credentials`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase")]
pub struct StorageFile {
    #[serde(deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::opt_uint")]
    pub size_bytes: Option<u64>,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub is_sliced: bool,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub is_encrypted: bool,
    #[serde(default, deserialize_with = "lenient::flag")]
    pub is_public: bool,
    /// `aws`, `azure` or `gcp`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub provider: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub region: Option<String>,
    #[serde(default, deserialize_with = "lenient::strings")]
    pub tags: Vec<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub created: Option<String>,
    /// `None` for a permanent file.
    #[serde(default, deserialize_with = "lenient::opt_uint")]
    pub max_age_days: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub run_id: Option<String>,
    /// Where the file lives (`s3Path`, `absPath`, `gcsPath`), present with
    /// `federationToken=1`.
    #[serde(skip)]
    pub credentials: FileCredentials,
    /// The file as received, without the keys held in `credentials` and without token
    /// secrets.
    #[serde(skip)]
    pub raw: Value,
}

impl<'de> Deserialize<'de> for StorageFile {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut value = Value::deserialize(d)?;
        let Some(object) = value.as_object_mut() else {
            return Err(D::Error::custom("expected a JSON object"));
        };
        let mut secrets = Map::new();
        for key in SECRET_KEYS {
            if let Some(v) = object.remove(*key)
                && !v.is_null()
            {
                secrets.insert((*key).to_owned(), v);
            }
        }
        // The paths are no secret, but the transfer needs them next to the credentials.
        for key in ["s3Path", "absPath", "gcsPath"] {
            if let Some(v) = object.get(key) {
                secrets.insert(key.to_owned(), v.clone());
            }
        }
        lenient::strip_nested_tokens(&mut value);
        let mut file = StorageFile::deserialize(&value)
            .map_err(|e| D::Error::custom(lenient::ShapeError::from_serde(&e)))?;
        file.credentials = FileCredentials(secrets);
        file.raw = value;
        Ok(file)
    }
}

fn decode_file(value: Value) -> Result<StorageFile, lenient::ShapeError> {
    lenient::decode(value)
}

fn decode_files(value: Value) -> Result<Vec<StorageFile>, lenient::ShapeError> {
    match value {
        Value::Array(items) => items.into_iter().map(decode_file).collect(),
        _ => Err(lenient::ShapeError("expected a list of files".to_owned())),
    }
}

/// The options of [`StorageClient::prepare_file`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrepareFile {
    pub name: String,
    pub size_bytes: Option<u64>,
    pub tags: Vec<String>,
    /// Kept until deleted instead of 15 days.
    pub is_permanent: bool,
    pub notify: bool,
    pub is_encrypted: bool,
    /// Uploaded as slices plus a manifest.
    pub is_sliced: bool,
    pub content_type: Option<String>,
}

/// Filters of [`StorageClient::list_files`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilesQuery {
    /// Files with any of these tags.
    pub tags: Vec<String>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
    /// A search query (`q`).
    pub query: Option<String>,
}

impl StorageClient {
    /// `POST {sp}/files/prepare` (form, `federationToken=1`): a new file with the upload
    /// parameters of its provider in [`StorageFile::credentials`].
    pub fn prepare_file(&self, opts: &PrepareFile) -> Result<StorageFile, ApiError> {
        let flag = |b: bool| if b { "1" } else { "0" };
        let mut pairs: Vec<(String, String)> = vec![
            ("name".into(), opts.name.clone()),
            ("federationToken".into(), "1".into()),
            ("isPermanent".into(), flag(opts.is_permanent).into()),
            ("notify".into(), flag(opts.notify).into()),
            ("isEncrypted".into(), flag(opts.is_encrypted).into()),
            ("isSliced".into(), flag(opts.is_sliced).into()),
        ];
        if let Some(size) = opts.size_bytes {
            pairs.push(("sizeBytes".into(), size.to_string()));
        }
        if let Some(ct) = &opts.content_type {
            pairs.push(("contentType".into(), ct.clone()));
        }
        for (i, tag) in opts.tags.iter().enumerate() {
            pairs.push((format!("tags[{i}]"), tag.clone()));
        }
        self.scoped(Method::Post, &["files", "prepare"])
            .form(&pairs)
            .fetch_with(decode_file)
    }

    /// `GET {sp}/files`: newest first, without credentials.
    pub fn list_files(&self, q: &FilesQuery) -> Result<Vec<StorageFile>, ApiError> {
        let mut call = self.scoped(Method::Get, &["files"]);
        for (i, tag) in q.tags.iter().enumerate() {
            call = call.query(&format!("tags[{i}]"), tag);
        }
        if let Some(limit) = q.limit {
            call = call.query("limit", &limit.to_string());
        }
        if let Some(offset) = q.offset {
            call = call.query("offset", &offset.to_string());
        }
        if let Some(query) = &q.query {
            call = call.query("q", query);
        }
        call.fetch_with(decode_files)
    }

    /// `GET {sp}/files/{id}?federationToken=1`: the file with its download credentials.
    pub fn get_file(&self, id: &str) -> Result<StorageFile, ApiError> {
        self.scoped(Method::Get, &["files", id])
            .query("federationToken", "1")
            .fetch_with(decode_file)
    }

    /// `PUT {sp}/files/{id}/refresh`: new credentials for a file whose (GCS, one-hour)
    /// ones expired.
    pub fn refresh_file(&self, id: &str) -> Result<StorageFile, ApiError> {
        self.scoped(Method::Put, &["files", id, "refresh"])
            .idempotent()
            .fetch_with(decode_file)
    }

    /// `DELETE {sp}/files/{id}`.
    pub fn delete_file(&self, id: &str) -> Result<(), ApiError> {
        self.scoped(Method::Delete, &["files", id])
            .idempotent()
            .send()
            .map(drop)
    }

    /// `POST {sp}/files/{id}/tags` (form `tag`); adding a present tag changes nothing.
    pub fn add_file_tag(&self, id: &str, tag: &str) -> Result<(), ApiError> {
        self.scoped(Method::Post, &["files", id, "tags"])
            .form(&[("tag", tag)])
            .send()
            .map(drop)
    }

    /// `DELETE {sp}/files/{id}/tags/{tag}`.
    pub fn remove_file_tag(&self, id: &str, tag: &str) -> Result<(), ApiError> {
        self.scoped(Method::Delete, &["files", id, "tags", tag])
            .idempotent()
            .send()
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn secrets_leave_raw() {
        let file = decode_file(json!({"id":236518630,"name":"somefile.csv","isSliced":"0","provider":"aws",
            "region":"us-east-1","url":"https://s3.example/key?X-Amz-Signature=SIGVALUE","sizeBytes":"12",
            "s3Path":{"bucket":"b","key":"k"},
            "uploadParams":{"key":"k","bucket":"b","credentials":{"AccessKeyId":"ASIAKEY","SecretAccessKey":"SECRETKEY","SessionToken":"SESSIONTOK"}},
            "creatorToken":{"id":1,"description":"me"},"tags":["a"]}))
        .unwrap();
        assert_eq!(file.id, "236518630");
        assert_eq!(file.size_bytes, Some(12));
        let shown = format!("{file:?} {}", file.raw);
        for secret in ["SIGVALUE", "ASIAKEY", "SECRETKEY", "SESSIONTOK"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert_eq!(
            file.credentials
                .text("/uploadParams/credentials/SecretAccessKey"),
            Some("SECRETKEY")
        );
        assert_eq!(file.credentials.text("/s3Path/key"), Some("k"));
        assert_eq!(file.raw["s3Path"]["bucket"], "b");
    }
}
