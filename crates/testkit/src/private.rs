//! A PostgreSQL cluster of one test's own, which the test may stop and start again.
//!
//! The process-wide [`PgServer`](crate::PgServer) is shared by every test (and may be the
//! machine's own server): a test that restarts PostgreSQL must not touch it. A
//! [`PrivateCluster`] is a throwaway cluster started from the installed binaries for one
//! test; dropping it stops it and deletes its directory (the watchdog does too, should
//! the test process die first).

use std::sync::Arc;

use url::Url;

use crate::cluster::{self, Cluster};
use crate::error::{Error, ServerError};
use crate::postgres::{running_under_ci, PgDatabase};

/// A throwaway PostgreSQL cluster owned by one test.
#[derive(Debug)]
pub struct PrivateCluster {
    cluster: Arc<Cluster>,
    admin_url: Url,
}

impl PrivateCluster {
    /// Starts a new cluster on a free port of 127.0.0.1 (a few seconds; this blocks).
    pub fn start() -> Result<PrivateCluster, ServerError> {
        let cluster = cluster::start()?;
        let admin_url = format!(
            "postgres://{}@127.0.0.1:{}/postgres",
            cluster::SUPERUSER,
            cluster.port()
        );
        let admin_url = Url::parse(&admin_url).map_err(|e| ServerError::ClusterStart {
            step: "building the server URL",
            detail: e.to_string(),
        })?;
        Ok(PrivateCluster {
            cluster: Arc::new(cluster),
            admin_url,
        })
    }

    /// The URL of the cluster's maintenance database, as its superuser.
    pub fn admin_url(&self) -> &str {
        self.admin_url.as_str()
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.cluster.port()
    }

    /// Makes the cluster as durable as a production server: the throwaway clusters trade
    /// durability for speed (`fsync`, `synchronous_commit` off), under which a crash may
    /// lose commits the server acknowledged.
    pub async fn make_durable(&self) -> Result<(), sqlx::Error> {
        use sqlx::Connection as _;
        let mut admin = sqlx::PgConnection::connect(self.admin_url()).await?;
        for statement in [
            "ALTER SYSTEM SET fsync = on",
            "ALTER SYSTEM SET synchronous_commit = on",
            "ALTER SYSTEM SET full_page_writes = on",
            "SELECT pg_reload_conf()",
        ] {
            sqlx::query(statement).execute(&mut admin).await?;
        }
        admin.close().await
    }

    /// Creates a new, empty database on this cluster; drop it before the cluster.
    pub async fn create_database(&self) -> Result<PgDatabase, Error> {
        PgDatabase::create_on(&self.admin_url).await
    }

    /// Shuts the server down as an operator's restart does (`pg_ctl stop -m fast`: every
    /// session is ended, then the server stops cleanly).
    pub async fn stop(&self) -> Result<(), ServerError> {
        self.blocking(|cluster| cluster.stop("fast")).await
    }

    /// Kills the server as a crash would (`pg_ctl stop -m immediate`).
    pub async fn crash(&self) -> Result<(), ServerError> {
        self.blocking(|cluster| cluster.stop("immediate")).await
    }

    /// Starts the stopped server again on the same port; returns once it accepts
    /// connections.
    pub async fn start_again(&self) -> Result<(), ServerError> {
        self.blocking(|cluster| cluster.start_again()).await
    }

    /// Runs a blocking step off the async runtime, so that a server and its clients on the
    /// same runtime go on meanwhile.
    async fn blocking(
        &self,
        step: impl FnOnce(&Cluster) -> Result<(), ServerError> + Send + 'static,
    ) -> Result<(), ServerError> {
        let cluster = self.cluster.clone();
        tokio::task::spawn_blocking(move || step(&cluster))
            .await
            .map_err(|e| ServerError::ClusterStart {
                step: "a pg_ctl step in the background",
                detail: e.to_string(),
            })?
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        self.cluster.remove();
    }
}

/// A private cluster, made durable (see [`PrivateCluster::make_durable`]), or `None`
/// (after a loud notice) when PostgreSQL's binaries are not installed here; under
/// `CI=true` that panics instead. Any other failure panics.
pub async fn private_cluster() -> Option<PrivateCluster> {
    match tokio::task::spawn_blocking(PrivateCluster::start).await {
        Ok(Ok(cluster)) => {
            if let Err(error) = cluster.make_durable().await {
                panic!("could not make the private PostgreSQL cluster durable: {error}");
            }
            Some(cluster)
        }
        Ok(Err(ServerError::Unavailable)) => {
            crate::postgres::skip_postgres();
            None
        }
        Ok(Err(error)) => panic!("could not start a private PostgreSQL cluster: {error}"),
        Err(error) => panic!("could not start a private PostgreSQL cluster: {error}"),
    }
}

/// True under `CI=true`, where a missing part of a test fails it instead of skipping it.
pub fn under_ci() -> bool {
    running_under_ci()
}
