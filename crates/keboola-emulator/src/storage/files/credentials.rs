//! What a file's provider needs to reach its object: ABS SAS, S3 session credentials,
//! GCS access tokens, and the presigned download URL.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};

use crate::objects::FileProvider;
use crate::storage::Ctx;

use super::{ABS_ACCOUNT, File, GCS_PROJECT};

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

pub(super) fn upload_params(ctx: &Ctx<'_>, f: &File) -> Map<String, Value> {
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

pub(super) fn download_params(ctx: &Ctx<'_>, f: &File) -> Map<String, Value> {
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
pub(super) fn download_url(ctx: &Ctx<'_>, f: &File) -> String {
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

pub(super) fn region(provider: FileProvider) -> &'static str {
    match provider {
        FileProvider::Aws => "us-east-1",
        FileProvider::Azure => "eastus2",
        FileProvider::Gcp => "us-east4",
    }
}
