//! The application state every handler shares, built from a [`Store`] and a [`Config`]: the
//! group-commit writer, the report worker's settings (and the worker itself), the sign-in rate
//! limiters and the credential cache.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::auth::{PrincipalCache, RateLimiter};
use crate::config::Config;
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
    pub signin_by_user: RateLimiter,
    pub principals: PrincipalCache,
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
        let settings = Arc::new(ReportSettings {
            server_name: config.server_name.clone().unwrap_or_else(|| {
                format!(
                    "{}:{}",
                    std::env::var("HOSTNAME").unwrap_or_else(|_| "evo-billing".into()),
                    std::process::id()
                )
            }),
            public_url: public_url.clone(),
            smtp,
            webhooks,
            wake: Arc::new(Notify::new()),
        });
        if config.run_worker {
            tokio::spawn(reports::worker(db.clone(), settings.clone()));
        }
        Ok(Arc::new(AppState {
            billables: BillableWriter::start(db.clone()),
            db,
            config,
            public_url,
            reports: settings,
            signin_by_ip: RateLimiter::new(30, Duration::from_secs(60)),
            signin_by_user: RateLimiter::new(10, Duration::from_secs(60)),
            principals: PrincipalCache::default(),
        }))
    }
}
