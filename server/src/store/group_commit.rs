//! Group commit for NewBillable.
//!
//! A durable single-row commit costs a disk sync (~3 ms here), which caps one-at-a-time writes near
//! 300/s. Concurrent NewBillable requests therefore hand their (already validated and resolved)
//! billables to one writer task, which takes everything waiting, writes it in ONE transaction
//! ([`super::billables::Billables::record`]) and answers every request only after that commit:
//! each acknowledgement is still durable, but many share one sync.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::{Store, StoreError};
use crate::model::ResolvedBillable;

/// Why a group write failed (shared by every request of the group).
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    #[error("the billable writer has stopped")]
    Stopped,
    #[error(transparent)]
    Store(Arc<StoreError>),
}

/// Billables per transaction at most.
const MAX_GROUP: usize = 2_000;

type Reply = oneshot::Sender<Result<Vec<bool>, WriteError>>;

/// Handle to the writer task. Cheap to clone.
#[derive(Clone)]
pub struct BillableWriter {
    tx: mpsc::Sender<(Vec<ResolvedBillable>, Reply)>,
}

impl BillableWriter {
    /// Starts the writer task on the current runtime.
    pub fn start(db: Store) -> BillableWriter {
        let (tx, rx) = mpsc::channel(4_096);
        tokio::spawn(run(db, rx));
        BillableWriter { tx }
    }

    /// Records billables durably; per item, whether it was new (`false`: already reported).
    pub async fn record(&self, items: Vec<ResolvedBillable>) -> Result<Vec<bool>, WriteError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((items, reply))
            .await
            .map_err(|_| WriteError::Stopped)?;
        answer.await.map_err(|_| WriteError::Stopped)?
    }
}

async fn run(db: Store, mut rx: mpsc::Receiver<(Vec<ResolvedBillable>, Reply)>) {
    while let Some(first) = rx.recv().await {
        let mut group = vec![first];
        let mut size = group[0].0.len();
        while size < MAX_GROUP {
            match rx.try_recv() {
                Ok(next) => {
                    size += next.0.len();
                    group.push(next);
                }
                Err(_) => break,
            }
        }
        let all: Vec<ResolvedBillable> = group.iter().flat_map(|(b, _)| b.clone()).collect();
        match db.billables().record(&all).await {
            Ok(flags) => {
                let mut offset = 0;
                for (items, reply) in group {
                    let end = offset + items.len();
                    let _ = reply.send(Ok(flags[offset..end].to_vec()));
                    offset = end;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, billables = all.len(), "group commit failed");
                let e = Arc::new(e);
                for (_, reply) in group {
                    let _ = reply.send(Err(WriteError::Store(e.clone())));
                }
            }
        }
    }
}
