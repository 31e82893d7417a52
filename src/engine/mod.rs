//! The engine: runs the reducer's effects against the store and feeds results back.
//! The CLI and the TUI both act through `Engine::dispatch`, so a later daemon can put it
//! behind a socket without changing either.
pub mod clock;

use crate::app::{update, Action, Effect, State};
use crate::domain::model::TimelineEvent;
use crate::domain::rules::upload::new_uploaded_certificate;
use crate::store::{NewRecord, Store, StoreError};
use clock::Clock;
use std::collections::VecDeque;
use std::sync::Arc;

pub struct Engine {
    store: Store,
    clock: Arc<dyn Clock>,
}

impl Engine {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Engine {
        Engine { store, clock }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Runs `action` and every action its effects lead to, until nothing is left.
    pub fn dispatch(&self, state: &mut State, action: Action) {
        let mut queue = VecDeque::from([action]);
        while let Some(action) = queue.pop_front() {
            for effect in update(state, action, self.clock.now()) {
                queue.push_back(match self.run(effect) {
                    Ok(a) => a,
                    Err(e) => Action::Failed(e.to_string()),
                });
            }
        }
    }

    fn run(&self, effect: Effect) -> Result<Action, StoreError> {
        Ok(match effect {
            Effect::LoadAll => Action::AllLoaded(self.store.summaries()?),
            Effect::LoadOne(id) => Action::OneLoaded(self.store.get(&id)?.map(|c| c.summary())),
            Effect::LoadDetail(id) => match self.store.get(&id)? {
                Some(cert) => {
                    let timeline = self.store.timeline(&id)?;
                    Action::DetailLoaded(Box::new((cert, timeline)))
                }
                None => Action::Failed(format!("certificate {id} is no longer in the store")),
            },
            Effect::InsertUploaded(v) => {
                let now = self.clock.now();
                let (cert, secrets, event) =
                    new_uploaded_certificate(&v, self.store.new_id()?, now);
                let summary = cert.summary();
                match self.store.insert(&NewRecord {
                    cert,
                    secrets,
                    event,
                })? {
                    Ok(()) => Action::Imported {
                        summary: Box::new(summary),
                        warnings: v.warnings.clone(),
                    },
                    Err(refusal) => Action::Refused(refusal),
                }
            }
            Effect::Delete(plan) => {
                let event = TimelineEvent {
                    at: self.clock.now(),
                    kind: "deleted".into(),
                    message: format!("deleted \"{}\"", plan.name),
                };
                if self.store.delete(&plan.id, &event)? {
                    Action::Deleted { id: plan.id }
                } else {
                    Action::Failed(format!("certificate {} is no longer in the store", plan.id))
                }
            }
        })
    }
}
