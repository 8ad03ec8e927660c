//! The stack's services (Queue, Encryption, Query, Sync Actions, Scheduler, AI, ...),
//! found in the Storage API index and cached per stack for the life of an [`Http`].
//!
//! Service URLs always come from the index, never from rewriting the stack's host name:
//! stacks name their services differently.

use std::sync::{Arc, Mutex, PoisonError};

use url::Url;

use crate::error::ApiError;
use crate::http::{Http, Method, RequestBuilder};
use crate::stack::StackUrl;
use crate::storage::index::StackIndex;

/// One stack's slot in the cache: empty until the index was fetched successfully.
/// The mutex makes concurrent callers wait for one request instead of sending several.
#[derive(Debug, Default)]
pub(crate) struct ServiceCache(Mutex<Option<Arc<StackIndex>>>);

/// The services of one stack, from its (cached) Storage API index.
#[derive(Debug, Clone)]
pub struct ServiceDirectory {
    stack: StackUrl,
    index: Arc<StackIndex>,
}

impl ServiceDirectory {
    /// The base URL of the service `id` (such as `queue`), or a configuration error
    /// naming the services the stack does offer.
    pub fn url(&self, id: &str) -> Result<Url, ApiError> {
        let Some(text) = self.index.service_url(id) else {
            let mut known: Vec<&str> = self.index.services.iter().map(|s| s.id.as_str()).collect();
            known.sort_unstable();
            let known = if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            };
            return Err(ApiError::config(format!(
                "the stack {} does not offer the service {id:?} (its API index lists: {known})",
                self.stack
            )));
        };
        Url::parse(text).map_err(|_| {
            ApiError::config(format!(
                "the API index of {} gives an invalid URL for the service {id:?}",
                self.stack
            ))
        })
    }

    /// The stack's API index as fetched.
    pub fn index(&self) -> &StackIndex {
        &self.index
    }
}

impl Http {
    /// The service directory of `stack`: its API index is requested (without a token)
    /// the first time, then answered from the cache. Safe to call from many threads at
    /// once; a failed fetch is not cached.
    pub fn services(&self, stack: &StackUrl) -> Result<ServiceDirectory, ApiError> {
        let slot = self.service_cache(stack);
        let mut cached = slot.0.lock().unwrap_or_else(PoisonError::into_inner);
        let index = match &*cached {
            Some(index) => Arc::clone(index),
            None => {
                let index: StackIndex = self
                    .request(Method::Get, stack, &["v2", "storage"])
                    .query("exclude", "components")
                    .fetch()?;
                let index = Arc::new(index);
                *cached = Some(Arc::clone(&index));
                index
            }
        };
        Ok(ServiceDirectory {
            stack: stack.clone(),
            index,
        })
    }

    /// A request to path `segments` of the service `service` of `stack`.
    pub fn service_request(
        &self,
        method: Method,
        stack: &StackUrl,
        service: &str,
        segments: &[&str],
    ) -> RequestBuilder<'_> {
        match self.services(stack).and_then(|dir| dir.url(service)) {
            Ok(base) => self
                .request_url(method, &base, segments)
                .with_default_headers(),
            Err(err) => RequestBuilder::new(self, method, Err(err)),
        }
    }
}
