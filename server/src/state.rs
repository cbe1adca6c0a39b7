//! The application state every handler shares, built from a [`Store`] and a [`Config`]: the
//! group-commit writer, the report worker's settings (and the worker itself), the sign-in rate
//! limiters and the credential cache.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::{PrincipalCache, RateLimiter};
use crate::config::Config;
use crate::http::admission::Admission;
use crate::ids::new_token;
use crate::notify::mailer::{MailError, SmtpConfig};
use crate::notify::webhook::{WebhookConfig, WebhookSender};
use crate::reports::{self, ReportSettings};
use crate::store::group_commit::BillableWriter;
use crate::store::{Store, StoreError};

/// Why the state could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("--smtp-url: {0}")]
    Smtp(#[from] MailError),
}

/// Everything handlers share.
pub struct AppState {
    pub db: Store,
    pub config: Config,
    /// `config.public_url()`, computed once.
    pub public_url: String,
    pub billables: BillableWriter,
    pub reports: Arc<ReportSettings>,
    pub signin_by_ip: RateLimiter,
    /// Failed sign-ins per user name at one address.
    pub signin_failures: RateLimiter,
    pub principals: PrincipalCache,
    pub admission: Admission,
}

/// The state as handlers receive it.
pub type Ctx = Arc<AppState>;

impl AppState {
    /// Builds the state on the current Tokio runtime and, unless `config.run_worker` is false,
    /// starts the report worker.
    pub async fn start(db: Store, config: Config) -> Result<Ctx, StartError> {
        let public_url = config.public_url();
        let secret = match &config.webhook_secret {
            Some(s) => s.clone(),
            None => db.setting_or_init("webhook_secret", new_token()).await?,
        };
        let smtp = config
            .smtp_url
            .as_deref()
            .map(SmtpConfig::from_url)
            .transpose()?;
        let webhooks = WebhookSender::new(WebhookConfig {
            allow_private: config.allow_private_webhooks,
            ..WebhookConfig::with_secret(secret.into_bytes())
        });
        let server_name = config
            .server_name
            .clone()
            .unwrap_or_else(|| default_server_name(&config));
        let settings = Arc::new(ReportSettings::new(
            server_name,
            public_url.clone(),
            smtp,
            webhooks,
        ));
        if config.run_worker {
            tokio::spawn(reports::worker(db.clone(), settings.clone()));
        }
        let admission = Admission::new(config.limits);
        Ok(Arc::new(AppState {
            billables: BillableWriter::start(db.clone()),
            db,
            config,
            public_url,
            reports: settings,
            signin_by_ip: RateLimiter::new(30, Duration::from_secs(60)),
            signin_failures: RateLimiter::new(10, Duration::from_secs(15 * 60)),
            principals: PrincipalCache::default(),
            admission,
        }))
    }
}

/// `host:port`: stable across restarts of the same server (so a restarted process takes back
/// at once what its predecessor left running) and distinct between servers on one host.
fn default_server_name(config: &Config) -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "evo-billing".into());
    format!("{host}:{}", config.listen.port())
}
