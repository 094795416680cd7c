//! The layer that keeps the server answering under pressure: the bounds of a request's
//! head, load shedding beyond a number of requests at once, the request timeout, and the
//! deadline for a request's body. (The deadline for a request's headers is the
//! connection's; see `listen.rs`.)

use std::convert::Infallible;
use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use tokio::sync::Semaphore;
use tokio::time::Sleep;
use tower::{Layer, Service};

use crate::config::ServerConfig;
use crate::error::ApiError;

/// Routes that are never held back: they tell operators and load balancers how the
/// server is, which matters most when it is overloaded.
const EXEMPT: [&str; 3] = ["/health", "/ready", "/metrics"];

/// How many requests the server serves at once, and how many it turned away.
#[derive(Debug)]
pub struct Load {
    limit: usize,
    queue_timeout: Duration,
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
    shed: AtomicU64,
}

/// The figures of a [`Load`] at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct LoadFigures {
    /// Requests being served.
    pub in_flight: usize,
    /// Requests waiting for a slot.
    pub waiting: usize,
    /// The most requests served at once.
    pub limit: usize,
    /// Requests answered 503 because the server was at its limit, since it started.
    pub shed: u64,
}

impl Load {
    pub fn new(config: &ServerConfig) -> Load {
        let limit = config
            .max_concurrent_requests
            .clamp(1, Semaphore::MAX_PERMITS);
        Load {
            limit,
            queue_timeout: config.queue_timeout,
            slots: Arc::new(Semaphore::new(limit)),
            waiting: AtomicUsize::new(0),
            shed: AtomicU64::new(0),
        }
    }

    pub fn figures(&self) -> LoadFigures {
        LoadFigures {
            in_flight: self.limit - self.slots.available_permits(),
            waiting: self.waiting.load(Ordering::Relaxed),
            limit: self.limit,
            shed: self.shed.load(Ordering::Relaxed),
        }
    }

    /// True while every slot is taken: a new request would wait or be shed.
    pub fn at_limit(&self) -> bool {
        self.slots.available_permits() == 0
    }

    /// A slot, at once or after a bounded wait; `None` when the request is to be shed.
    async fn slot(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            return Some(permit);
        }
        let waiting = Waiting::enter(&self.waiting);
        if waiting.ahead >= self.limit {
            return None;
        }
        tokio::time::timeout(self.queue_timeout, self.slots.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
    }
}

/// One request counted as waiting for as long as this lives (also when the client
/// hangs up while it waits).
struct Waiting<'a> {
    count: &'a AtomicUsize,
    /// Requests that were waiting before this one.
    ahead: usize,
}

impl<'a> Waiting<'a> {
    fn enter(count: &'a AtomicUsize) -> Waiting<'a> {
        let ahead = count.fetch_add(1, Ordering::Relaxed);
        Waiting { count, ahead }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The bounds on a request's head that the server checks itself (the HTTP parser's own,
/// looser bounds are set in `listen.rs`).
#[derive(Debug, Clone, Copy)]
pub struct HeadLimits {
    pub url: usize,
    pub header_count: usize,
    pub header_bytes: usize,
}

impl HeadLimits {
    pub fn new(config: &ServerConfig) -> HeadLimits {
        HeadLimits {
            url: config.max_url_length,
            header_count: config.max_header_count,
            header_bytes: config.max_header_bytes,
        }
    }

    /// The error for a request head over a limit, if it is.
    pub fn check(&self, request: &Request) -> Option<ApiError> {
        let length = request
            .uri()
            .path_and_query()
            .map_or(0, |target| target.as_str().len());
        if length > self.url {
            return Some(ApiError::UriTooLong {
                length,
                limit: self.url,
            });
        }
        // The request id is left out: the server sets it when the client sent none.
        let sent = || {
            request
                .headers()
                .iter()
                .filter(|(name, _)| *name != crate::telemetry::REQUEST_ID_HEADER)
        };
        let count = sent().count();
        if count > self.header_count {
            return Some(ApiError::HeadersTooLarge {
                message: format!(
                    "The request has {count} header fields, over the limit of {}",
                    self.header_count
                ),
            });
        }
        let bytes: usize = sent()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum();
        if bytes > self.header_bytes {
            return Some(ApiError::HeadersTooLarge {
                message: format!(
                    "The request's headers take {bytes} bytes, over the limit of {} bytes",
                    self.header_bytes
                ),
            });
        }
        None
    }
}

/// The limits every request is held to, in the order they apply: the request head's
/// bounds (414, 431), a slot among the requests served at once (503 with `Retry-After`
/// beyond it; `/health`, `/ready` and `/metrics` are never held back), the request
/// timeout (504) and the deadline for the body (408). Requests also carry the [`Load`] as
/// an extension, for the handlers that report it.
///
/// One layer rather than a middleware for each limit: a middleware clones the service it
/// wraps for each request, and under a router that is every layer down to the handler.
#[derive(Debug, Clone)]
pub struct LimitsLayer {
    limits: Arc<Limits>,
}

#[derive(Debug)]
struct Limits {
    head: HeadLimits,
    load: Arc<Load>,
    request_timeout: Duration,
    body_read_timeout: Duration,
}

impl LimitsLayer {
    pub fn new(config: &ServerConfig, load: Arc<Load>) -> LimitsLayer {
        LimitsLayer {
            limits: Arc::new(Limits {
                head: HeadLimits::new(config),
                load,
                request_timeout: config.request_timeout,
                body_read_timeout: config.body_read_timeout,
            }),
        }
    }
}

impl<S> Layer<S> for LimitsLayer {
    type Service = Limited<S>;

    fn layer(&self, inner: S) -> Limited<S> {
        Limited {
            inner,
            limits: self.limits.clone(),
        }
    }
}

/// A service held to the [`LimitsLayer`]'s limits.
#[derive(Debug, Clone)]
pub struct Limited<S> {
    inner: S,
    limits: Arc<Limits>,
}

impl<S> Service<Request> for Limited<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let limits = self.limits.clone();
        if let Some(error) = limits.head.check(&request) {
            return Box::pin(std::future::ready(Ok(error.into_response())));
        }
        let exempt = EXEMPT.contains(&request.uri().path());
        request.extensions_mut().insert(limits.load.clone());
        let request = with_body_deadline(request, limits.body_read_timeout);
        // The inner future does nothing until it is polled, once the request has its
        // slot; calling the inner service now spares cloning it.
        let response = self.inner.call(request);
        Box::pin(async move {
            let _slot = if exempt {
                None
            } else {
                match limits.load.slot().await {
                    Some(slot) => Some(slot),
                    None => {
                        limits.load.shed.fetch_add(1, Ordering::Relaxed);
                        return Ok(ApiError::Overloaded {
                            limit: limits.load.limit,
                        }
                        .into_response());
                    }
                }
            };
            // A handler cut off here is dropped; an operation of the runtime it started
            // runs to its end on its own task, so a write is committed or rolled back as
            // a whole, never left half-done.
            Ok(
                match tokio::time::timeout(limits.request_timeout, response).await {
                    Ok(Ok(response)) => response,
                    Ok(Err(never)) => match never {},
                    Err(_) => ApiError::RequestTimeout {
                        limit: limits.request_timeout,
                    }
                    .into_response(),
                },
            )
        })
    }
}

/// `request` with a body that must have arrived in full within `limit` of its headers;
/// reading it fails with [`BodyTimedOut`] after that (answered 408 by the handlers).
fn with_body_deadline(request: Request, limit: Duration) -> Request {
    use http_body::Body as _;
    if request.body().is_end_stream() {
        return request;
    }
    request.map(|inner| {
        Body::new(DeadlineBody {
            inner,
            deadline: Box::pin(tokio::time::sleep(limit)),
            limit,
        })
    })
}

/// The error of a request body that did not arrive in time.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the request body did not arrive within {limit:?}")]
pub struct BodyTimedOut {
    pub limit: Duration,
}

impl BodyTimedOut {
    /// The [`BodyTimedOut`] somewhere in an error's chain of sources.
    pub fn find(error: &(dyn StdError + 'static)) -> Option<BodyTimedOut> {
        let mut current = Some(error);
        while let Some(error) = current {
            if let Some(found) = error.downcast_ref::<BodyTimedOut>() {
                return Some(*found);
            }
            current = error.source();
        }
        None
    }
}

/// A request body that fails once its deadline has passed.
struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<Sleep>>,
    limit: Duration,
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(axum::BoxError::from)));
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(Box::new(BodyTimedOut { limit: this.limit }))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
