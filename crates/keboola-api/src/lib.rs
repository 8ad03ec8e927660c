//! A typed, blocking client for Keboola Connection's Storage and Manage APIs.
//!
//! It speaks HTTP and Keboola's wire formats and nothing else: no printing, no config
//! files. Tokens are [`Token`]s, which never print their value; errors are
//! [`ApiError`]s, whose messages never contain a token.
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

mod error;
mod http;
mod manage;
mod models;
mod secret;
mod stack;
mod storage;

pub use error::{ApiError, ApiErrorKind};
pub use http::{Http, HttpConfig};
pub use manage::ManageClient;
pub use models::{
    Component, Configuration, CreateTokenRequest, CreatorToken, DevBranch, ManageOrganization,
    ManageProject, ManageTokenInfo, ManageUser, NewToken, ProjectOwner, ServiceEntry, StackIndex,
    TokenAdmin, TokenInfo,
};
pub use secret::{InvalidToken, Token, mask_secrets_in, mask_token};
pub use stack::{InvalidStackUrl, StackUrl};
pub use storage::{ComponentsQuery, StorageClient};
