//! A typed, blocking client for Keboola Connection's Storage and Manage APIs and the
//! stack's other services.
//!
//! It speaks HTTP and Keboola's wire formats and nothing else: no printing, no config
//! files. Tokens are [`Token`]s, which never print their value; errors are
//! [`ApiError`]s, whose messages never contain a token.
//!
//! Layout: [`Http`] (in `http/`) is the one request path, shared by every call;
//! `storage/` and `manage/` hold one module per resource, each with its models and
//! its endpoints; other services are reached through [`ServiceDirectory`], which reads
//! their URLs from the Storage API index; `lenient` has the serde helpers for
//! Keboola's loose typing; `transfer/` moves Storage files' bytes over Azure Blob
//! Storage, S3 or Cloud Storage, streaming both ways.
//!
//! ```no_run
//! use keboola_api::{Http, HttpConfig, StackUrl, StorageClient, Token};
//!
//! let http = Http::new(HttpConfig::default())?;
//! let stack = StackUrl::parse("connection.keboola.com")?;
//! let token = Token::new(std::env::var("KBC_TOKEN")?.trim())?;
//! let me = StorageClient::new(&http, &stack, &token).verify()?;
//! assert!(!me.id.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A table export and an upload with import, neither holding the data in memory:
//!
//! ```no_run
//! # use keboola_api::*;
//! # fn run(storage: &StorageClient) -> Result<(), TransferError> {
//! let cfg = TransferConfig::default();
//! let mut out = std::io::BufWriter::new(std::fs::File::create("orders.csv").map_err(TransferError::Local)?);
//! storage.export_table_to("in.c-main.orders", &mut out, &ExportTable::default(), &cfg)?;
//!
//! let mut data = std::fs::File::open("orders.csv").map_err(TransferError::Local)?;
//! let target = ImportTarget::Table { table_id: "in.c-main.orders".into(), incremental: false };
//! let opts = UploadImport { file_name: "orders.csv".into(), size_bytes: None, tags: vec![],
//!     csv: CsvOptions::default(), target, wait: JobWait::default() };
//! let done = storage.upload_file_and_import(&mut data, &opts, &cfg)?;
//! assert!(done.job.status.is_finished());
//! # Ok(())
//! # }
//! ```

mod encryption;
mod error;
mod http;
mod lenient;
mod manage;
mod query;
mod queue;
mod secret;
mod services;
mod stack;
mod storage;
mod transfer;

pub use encryption::{ENCRYPTION_SERVICE, EncryptionClient, EncryptionScope, is_encrypted};
pub use error::{ApiError, ApiErrorKind};
pub use http::{Http, HttpConfig, Method, ProxySettings, RequestBuilder, ResponseBody};
pub use manage::ManageClient;
pub use manage::projects::{ManageOrganization, ManageProject};
pub use manage::tokens::{ManageTokenInfo, ManageUser};
pub use query::{
    PAGE_SIZE_MAX, PAGE_SIZE_MIN, QUERY_SERVICE, QueryClient, QueryJob, QueryStatement, QueryWait,
    ResultColumn, ResultPage,
};
pub use queue::{
    CreateJob, JobSearch, QUEUE_SERVICE, QueueClient, QueueJob, QueueStatus, QueueWait, Waited,
    may_have_started,
};
pub use secret::{InvalidToken, Token, mask_secrets_in, mask_token};
pub use services::ServiceDirectory;
pub use stack::{InvalidStackUrl, StackUrl};
pub use storage::StorageClient;
pub use storage::branches::DevBranch;
pub use storage::buckets::{Bucket, CreateBucket};
pub use storage::components::{CatalogueComponent, Component, ComponentsQuery, OAUTH_FLAG};
pub use storage::configurations::{Configuration, ConfigurationMetadata, FOLDER_METADATA_KEY};
pub use storage::configurations_write::ConfigurationWrite;
pub use storage::events::{EventsQuery, StorageEvent};
pub use storage::files::{FileCredentials, FilesQuery, PrepareFile, StorageFile};
pub use storage::index::{ServiceEntry, StackIndex};
pub use storage::jobs::{JobError, JobStatus, JobWait, StorageJob};
pub use storage::metadata::{Metadata, MetadataEntry, metadata_value};
pub use storage::search::{
    GLOBAL_SEARCH_FEATURE, GLOBAL_SEARCH_MAX_LIMIT, GlobalSearchQuery, GlobalSearchResult,
    SearchItem,
};
pub use storage::snapshots::{SnapshotTable, TableSnapshot};
pub use storage::tables::{
    ColumnDefinition, CreateTableFromFile, CsvOptions, ExportOptions, ImportOptions,
    PreviewOptions, PreviewRows, Table, TableBucket, TableDefinition, TablesQuery, WhereFilter,
};
pub use storage::tokens::{
    CreateTokenRequest, CreatorToken, NewToken, ProjectOwner, TokenAdmin, TokenInfo,
};
pub use storage::workspaces::{
    CreateWorkspace, CreatedWorkspace, LoadInput, Password, SANDBOXES_COMPONENT, Workspace,
    WorkspaceConnection,
};
pub use transfer::{
    ExportSummary, ExportTable, ImportOutcome, ImportTarget, TransferConfig, TransferError,
    UploadImport,
};
