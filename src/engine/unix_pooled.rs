//! A bollard client over a unix socket that keeps its connections alive.
//!
//! bollard's own unix transport builds its client with no idle connections kept
//! (`pool_max_idle_per_host(0)`), so every API request opens a new connection.
//! On the local socket that costs nothing; behind an ssh engine's socket
//! (`ssh_dial`) every connection is a new remote `docker system dial-stdio`
//! (a few hundred milliseconds), and a `berth list` made three of them. This
//! client keeps idle connections for a while, so the requests of one command
//! after the first reuse the connection: one dial-stdio, as docker's CLI makes.
use bollard::{BollardRequest, ClientVersion, Docker};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::UnixStream;

/// How long an idle connection is kept for the next request.
const IDLE: Duration = Duration::from_secs(30);

/// Connects every request to one unix socket, whatever the URI says.
#[derive(Clone)]
struct SocketConnector(PathBuf);

impl tower_service::Service<hyper::Uri> for SocketConnector {
    type Response = TokioIo<UnixStream>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = std::io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: hyper::Uri) -> Self::Future {
        let path = self.0.clone();
        Box::pin(async move { Ok(TokioIo::new(UnixStream::connect(path).await?)) })
    }
}

/// A Docker client on `socket` whose connections are kept alive between requests
/// (`timeout` seconds per request, as bollard's own).
pub fn connect(
    socket: PathBuf,
    timeout: u64,
    version: &ClientVersion,
) -> Result<Docker, bollard::errors::Error> {
    let client = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(IDLE)
        .build(SocketConnector(socket));
    let transport = move |req: BollardRequest| {
        let client = client.clone();
        async move {
            client
                .request(req)
                .await
                .map_err(bollard::errors::Error::from)
        }
    };
    // The address only makes the request URIs absolute; the connector ignores it.
    Docker::connect_with_custom_transport(transport, Some("http://berth-engine"), timeout, version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::UnixListener;

    /// A tiny HTTP/1.1 server on a unix socket answering every request with the
    /// engine's version; counts the connections it accepts.
    async fn server(path: PathBuf, conns: Arc<AtomicUsize>) {
        let listener = UnixListener::bind(path).unwrap();
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            conns.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut have = Vec::new();
                loop {
                    let n = match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    have.extend_from_slice(&buf[..n]);
                    while let Some(end) = have.windows(4).position(|w| w == b"\r\n\r\n") {
                        have.drain(..end + 4);
                        let body =
                            br#"{"Version":"20.10.24","ApiVersion":"1.41","MinAPIVersion":"1.12"}"#;
                        let head = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                            body.len()
                        );
                        if s.write_all(head.as_bytes()).await.is_err()
                            || s.write_all(body).await.is_err()
                        {
                            return;
                        }
                    }
                }
            });
        }
    }

    #[tokio::test]
    async fn requests_after_the_first_reuse_the_connection() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("d.sock");
        let conns = Arc::new(AtomicUsize::new(0));
        let srv = tokio::spawn(server(sock.clone(), conns.clone()));
        while !sock.exists() {
            tokio::task::yield_now().await;
        }
        let docker = connect(sock, 10, bollard::API_DEFAULT_VERSION).unwrap();
        for _ in 0..5 {
            let v = docker.version().await.unwrap();
            assert_eq!(v.api_version.as_deref(), Some("1.41"));
        }
        assert_eq!(
            conns.load(Ordering::SeqCst),
            1,
            "one connection for five requests"
        );
        srv.abort();
    }
}
