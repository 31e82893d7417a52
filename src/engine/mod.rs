//! The engine: runs the reducer's effects against the store and feeds results back.
//! The CLI and the TUI both act through it; the process that holds the database serves it to
//! the others on a socket (`service`).
pub mod acme;
mod acme_manual;
mod acme_renewal;
mod alarms;
pub mod clock;
pub mod discovery;
mod export;
pub mod host;
mod hosting;
pub mod keygen;
mod lifecycle;
mod metrics;
pub mod trust;
pub mod worker;

use crate::app::{update, Action, Effect, State};
use crate::ca::sandbox::SandboxCa;
use crate::ca::{CaBackend, IssueRequest};
use crate::domain::account::Money;
use crate::domain::cert::mozilla_anchor_subjects;
use crate::domain::model::CertSummary;
use crate::domain::model::Certificate;
use crate::domain::model::TimelineEvent;
use crate::domain::order::{issued, OrderInfo};
use crate::domain::refusal::Refusal;
use crate::domain::rules::upload::{new_uploaded_certificate, validate_upload, UploadInput};
use crate::domain::schedule::DueEntry;
use crate::domain::schedule::{fire, Fired, FiredNote, Firing, TickReport};
use crate::domain::time::Timestamp;
use crate::store::{NewRecord, Store, StoreError};
use clock::Clock;
use std::collections::HashSet;
use std::collections::VecDeque;
use std::sync::Arc;

pub struct Engine {
    store: Store,
    clock: Arc<dyn Clock>,
    /// The CA backend, created (and its keys stored) on first use.
    ca: std::sync::OnceLock<SandboxCa>,
    /// Shared with the outbox sender thread, when one runs.
    sender: worker::SenderShared,
    /// Held while effects run and while the TUI's ticker ticks: the same one-at-a-time order
    /// the CLI has, while the TUI's thread keeps drawing and reading keys.
    work: std::sync::Mutex<()>,
    /// How far a scan the TUI asked for is, for its gauge (read from the TUI's thread).
    scan_progress: std::sync::Mutex<Option<crate::domain::discovery::ScanProgress>>,
    /// When this process last ran the timed rules, in ms (SV-3's heartbeat; 0: not yet).
    last_tick: std::sync::atomic::AtomicI64,
    /// Who is told of changes (see `watch`).
    watchers: std::sync::Mutex<Vec<(u64, Arc<std::sync::atomic::AtomicBool>)>>,
    next_watch: std::sync::atomic::AtomicU64,
}

/// One watcher of the database's changes (see `Engine::watch`).
pub struct Watch {
    pub id: u64,
    changed: Arc<std::sync::atomic::AtomicBool>,
}

impl Watch {
    /// Whether the database changed since the last call (by someone else).
    pub fn take_changed(&self) -> bool {
        self.changed
            .swap(false, std::sync::atomic::Ordering::SeqCst)
    }
}

thread_local! {
    /// The engine work lock this thread holds through `Engine::hold` (its address; 0: none).
    static HOLDING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The engine held for one command; released when dropped.
pub struct WorkHold<'a> {
    _guard: std::sync::MutexGuard<'a, ()>,
}

impl Drop for WorkHold<'_> {
    fn drop(&mut self) {
        HOLDING.with(|h| h.set(0));
    }
}

impl Engine {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Engine {
        Engine {
            store,
            clock,
            ca: std::sync::OnceLock::new(),
            sender: worker::SenderShared::default(),
            work: std::sync::Mutex::new(()),
            scan_progress: std::sync::Mutex::new(None),
            last_tick: std::sync::atomic::AtomicI64::new(0),
            watchers: std::sync::Mutex::new(Vec::new()),
            next_watch: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// SV-3: keeps the last tick in the store for the metrics of other processes (`certdeck
    /// metrics` after a cron tick). Written at most once a minute, by the tick's callers, so the
    /// tick itself stays a read when nothing is due.
    pub fn note_tick(&self) -> Result<(), StoreError> {
        match self.last_tick() {
            Some(t) => self.store.record_tick(t),
            None => Ok(()),
        }
    }

    /// When this process last ran the timed rules.
    pub fn last_tick(&self) -> Option<crate::domain::time::Timestamp> {
        match self.last_tick.load(std::sync::atomic::Ordering::SeqCst) {
            0 => None,
            t => chrono::DateTime::from_timestamp_millis(t),
        }
    }

    /// How far the scan under way is, if one is.
    pub fn scan_progress(&self) -> Option<crate::domain::discovery::ScanProgress> {
        *self.scan_progress.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Runs `action` and every action its effects lead to, until nothing is left (waiting for
    /// other work on the engine to end first).
    pub fn dispatch(&self, state: &mut State, action: Action) {
        let mut pending = VecDeque::new();
        self.reduce(state, action, &mut pending);
        let _work = self.work_guard();
        self.run_pending(state, &mut pending);
    }

    /// Holds the engine for a whole command sent through the socket (SV-1), so the ticker and
    /// the TUI's effects wait for it; the command's own `dispatch` calls on this thread go on.
    pub fn hold(&self) -> WorkHold<'_> {
        let guard = self.work.lock().unwrap_or_else(|p| p.into_inner());
        HOLDING.with(|h| h.set(self.work_address()));
        WorkHold { _guard: guard }
    }

    fn work_address(&self) -> usize {
        &self.work as *const _ as usize
    }

    fn holds_work(&self) -> bool {
        HOLDING.with(|h| h.get()) == self.work_address()
    }

    /// The engine to itself for this thread, unless this thread holds it already (`hold`).
    fn work_guard(&self) -> Option<std::sync::MutexGuard<'_, ()>> {
        (!self.holds_work()).then(|| self.work.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Someone who wants to know when the database changes (a TUI, a client on the socket).
    pub fn watch(&self) -> Watch {
        let watch = Watch {
            id: self
                .next_watch
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                + 1,
            changed: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        };
        let mut watchers = self.watchers.lock().unwrap_or_else(|p| p.into_inner());
        watchers.push((watch.id, Arc::clone(&watch.changed)));
        watch
    }

    /// Tells every watcher but `origin` (who made the change and knows) that the database
    /// changed.
    pub fn note_change(&self, origin: Option<u64>) {
        let mut watchers = self.watchers.lock().unwrap_or_else(|p| p.into_inner());
        // A watcher whose `Watch` is gone holds the only other reference.
        watchers.retain(|(_, flag)| Arc::strong_count(flag) > 1);
        for (id, flag) in watchers.iter() {
            if Some(*id) != origin {
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
    }

    /// Runs one effect for watcher `origin` once no other work holds the engine, and tells the
    /// other watchers when it changed something.
    pub fn run_for(&self, origin: u64, effect: Effect) -> Action {
        let changes = effect.changes_store();
        let action = self.run_exclusive(effect);
        if changes {
            self.note_change(Some(origin));
        }
        action
    }

    /// Applies `action` to `state` now; the effects it asks for wait in `pending`.
    pub fn reduce(&self, state: &mut State, action: Action, pending: &mut VecDeque<Effect>) {
        pending.extend(update(state, action, self.clock.now()));
    }

    /// Runs `pending` effects and what they lead to, unless other work (the ticker) holds the
    /// engine: then nothing runs and `false` says to try again.
    pub fn try_run(&self, state: &mut State, pending: &mut VecDeque<Effect>) -> bool {
        let _work = if self.holds_work() {
            None
        } else {
            match self.work.try_lock() {
                Ok(g) => Some(g),
                Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) => return false,
            }
        };
        self.run_pending(state, pending);
        true
    }

    fn run_pending(&self, state: &mut State, pending: &mut VecDeque<Effect>) {
        while let Some(effect) = pending.pop_front() {
            let action = match self.run(effect) {
                Ok(a) => a,
                Err(e) => Action::Failed(e.to_string()),
            };
            pending.extend(update(state, action, self.clock.now()));
        }
    }

    /// Runs one effect once no other work holds the engine (the TUI's effect runner thread).
    pub fn run_exclusive(&self, effect: Effect) -> Action {
        let _work = self.work_guard();
        self.run(effect)
            .unwrap_or_else(|e| Action::Failed(e.to_string()))
    }

    /// A tick that waits for running effects to end first (the TUI's ticker thread, the
    /// service's loop); watchers other than `origin` hear of what it changed.
    pub fn tick_exclusive(&self, origin: Option<u64>) -> Result<TickReport, StoreError> {
        let _work = self.work_guard();
        let report = self.tick()?;
        self.note_tick()?;
        if !report.fired.is_empty() || report.rescan.is_some() {
            self.note_change(origin);
        }
        Ok(report)
    }

    /// Imports many uploads at once: workers on every core run the rules and build records
    /// while this thread stores finished chunks, all in one transaction. Results are in input
    /// order; a refused input stores nothing.
    pub fn import_batch(
        &self,
        inputs: &[UploadInput],
        extra_anchors: &[Vec<u8>],
    ) -> Result<Vec<Result<CertSummary, Refusal>>, StoreError> {
        const CHUNK: usize = 500;
        let now = self.clock.now();
        let mut anchors = mozilla_anchor_subjects();
        anchors.extend(extra_anchors.iter().map(Vec::as_slice));
        let mut ids = self.store.new_ids(inputs.len())?;
        let id_chunks: Vec<Vec<String>> = inputs
            .chunks(CHUNK)
            .map(|c| ids.drain(..c.len()).collect())
            .collect();
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        let next_chunk = std::sync::atomic::AtomicUsize::new(0);
        let mut results: Vec<Result<CertSummary, Refusal>> = Vec::with_capacity(inputs.len());
        results.resize_with(inputs.len(), || {
            Err(Refusal::new(
                "U-1",
                crate::domain::refusal::Field::Cert,
                "not processed",
            ))
        });
        let stored = std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(usize, Result<NewRecord, Refusal>)>>(
                workers * 2,
            );
            let id_chunks = &id_chunks;
            for _ in 0..workers {
                let tx = tx.clone();
                let (anchors, next_chunk) = (&anchors, &next_chunk);
                scope.spawn(move || loop {
                    let n = next_chunk.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(part) = inputs.chunks(CHUNK).nth(n) else {
                        break;
                    };
                    let built = part
                        .iter()
                        .zip(&id_chunks[n])
                        .enumerate()
                        .map(|(i, (input, id))| {
                            let rec = validate_upload(input, now, anchors).map(|v| {
                                let (cert, secrets, event) =
                                    new_uploaded_certificate(&v, id.clone(), now);
                                NewRecord {
                                    cert,
                                    secrets,
                                    event,
                                }
                            });
                            (n * CHUNK + i, rec)
                        })
                        .collect();
                    if tx.send(built).is_err() {
                        break;
                    }
                });
            }
            drop(tx);
            let results = &mut results;
            self.store.insert_chunks(rx.into_iter().map(|chunk| {
                let mut records = Vec::with_capacity(chunk.len());
                for (pos, rec) in chunk {
                    match rec {
                        Ok(rec) => {
                            results[pos] = Ok(rec.cert.summary());
                            records.push((pos, rec));
                        }
                        Err(r) => results[pos] = Err(r),
                    }
                }
                records
            }))
        })?;
        for (pos, refusal) in stored {
            results[pos] = Err(refusal);
        }
        Ok(results)
    }

    /// Fires everything due now (SPEC §11), in batches of one transaction each. Reads only the
    /// schedule's due range, so its cost follows the due work, not the size of the store.
    pub fn tick(&self) -> Result<TickReport, StoreError> {
        use crate::domain::schedule::DueKind;
        const BATCH: usize = 1_000;
        // Rounds of reading what is due; work a round creates that is already due (a renewal
        // order whose review ended meanwhile) runs in the next round of the same tick (T-1).
        const MAX_ROUNDS: usize = 10_000;
        self.recover_deployments()?;
        let now = self.clock.now();
        let mut report = TickReport {
            rescan: self.rescan_if_due()?,
            ..Default::default()
        };
        // Entries this tick ran and that stay scheduled (their work failed: tried next tick).
        let mut attempted: HashSet<DueEntry> = HashSet::new();
        for _ in 0..MAX_ROUNDS {
            let due: Vec<DueEntry> = self
                .store
                .due(now, BATCH)?
                .into_iter()
                .filter(|e| !attempted.contains(e))
                .collect();
            if due.is_empty() {
                break;
            }
            attempted.extend(due.iter().cloned());
            // T-1: strictly in due-time order across kinds. Entries run in stretches of one
            // kind of work: the certificate rules as one batch (one transaction), alarm
            // evaluations and hostings one by one, ACME renewals side by side.
            let mut stretch: Vec<DueEntry> = Vec::new();
            for entry in due {
                let class = |k: DueKind| match k {
                    DueKind::AlarmEvaluate => 1,
                    DueKind::HostingReplace => 2,
                    DueKind::AcmeRenew => 3,
                    _ => 0,
                };
                if stretch
                    .last()
                    .is_some_and(|l| class(l.kind) != class(entry.kind))
                {
                    self.run_stretch(std::mem::take(&mut stretch), &mut report)?;
                }
                stretch.push(entry);
            }
            self.run_stretch(stretch, &mut report)?;
        }
        self.advance_acme_pending(&mut report)?;
        report.deliveries_tried = if self
            .sender
            .background
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            self.sender
                .settled
                .swap(0, std::sync::atomic::Ordering::SeqCst)
        } else {
            self.send_deliveries()?
        };
        self.store.heartbeat();
        // The moment the tick ended (it may have waited on the network), not the one it began.
        self.last_tick.store(
            self.clock.now().timestamp_millis(),
            std::sync::atomic::Ordering::SeqCst,
        );
        Ok(report)
    }

    /// Runs one stretch of due entries of one kind of work (see `tick`).
    fn run_stretch(
        &self,
        stretch: Vec<DueEntry>,
        report: &mut TickReport,
    ) -> Result<(), StoreError> {
        use crate::domain::schedule::DueKind;
        let Some(first) = stretch.first() else {
            return Ok(());
        };
        match first.kind {
            DueKind::AlarmEvaluate => {
                for entry in stretch {
                    match self.evaluate_alarm(&entry)? {
                        Some((p, n)) if n > 0 => report.fired.push(FiredNote {
                            cert_id: p.id.clone(),
                            ..FiredNote::of(
                                &entry,
                                format!(
                                    "alarm \"{}\" fired for {}",
                                    p.name,
                                    crate::domain::words::count_of(n as u64, "certificate")
                                ),
                            )
                        }),
                        Some(_) => {}
                        None => report.dropped += 1,
                    }
                }
            }
            DueKind::HostingReplace => {
                for entry in stretch {
                    match self.fire_hosting(&entry)? {
                        Some(h) => report.fired.push(FiredNote {
                            cert_id: h.old_cert.clone(),
                            ..FiredNote::of(
                                &entry,
                                format!(
                                    "hosting {} {}: {}",
                                    h.id,
                                    h.status.as_str(),
                                    h.last_result.clone().unwrap_or_default()
                                ),
                            )
                        }),
                        None => report.dropped += 1,
                    }
                }
            }
            DueKind::AcmeRenew => {
                for (entry, outcome) in self.fire_acme_renewals(&stretch) {
                    let note = |message: String| FiredNote::of(entry, message);
                    match outcome? {
                        acme_renewal::Outcome::Renewed(m) => report.fired.push(note(m)),
                        acme_renewal::Outcome::Failed(m) => report.failed.push(note(m)),
                        acme_renewal::Outcome::Waiting => {}
                        acme_renewal::Outcome::Dropped => report.dropped += 1,
                    }
                }
            }
            _ => self.fire_rules(stretch, report)?,
        }
        Ok(())
    }

    /// The certificate rules of `due` as one transaction, each fired as of its due time (T-1:
    /// a late tick dates what it does when it was due).
    fn fire_rules(&self, due: Vec<DueEntry>, report: &mut TickReport) -> Result<(), StoreError> {
        let certs = self
            .store
            .get_many(due.iter().map(|e| e.cert_id.as_str()))?;
        let orders = self
            .store
            .orders_many(due.iter().map(|e| e.cert_id.as_str()))?;
        let revocations = self
            .store
            .revocations_many(due.iter().map(|e| e.cert_id.as_str()))?;
        let mut batch = Vec::with_capacity(due.len());
        for (((entry, cert), order), revocation) in
            due.into_iter().zip(certs).zip(orders).zip(revocations)
        {
            // IG-2: an expiry is raised once per certificate. Its entry comes back whenever the
            // record is rewritten (ignore, un-ignore): one already raised is dropped.
            if entry.kind == crate::domain::schedule::DueKind::Expiry
                && crate::domain::rules::ignore::expiry_raised(
                    &self.store.timeline(&entry.cert_id)?,
                )
            {
                batch.push((entry, None));
                continue;
            }
            let firing = cert
                .as_ref()
                .and_then(|c| fire(&entry, c, order.as_ref(), revocation.as_ref(), entry.due));
            let fired = match firing {
                None => None,
                Some(Firing::Done(f)) => Some(*f),
                Some(Firing::Revocation) => {
                    let (c, r) = (
                        cert.as_ref().expect("fired"),
                        revocation
                            .as_ref()
                            .expect("revocation entries come from one"),
                    );
                    let family = self
                        .store
                        .get_many(r.prior.iter().skip(1).map(|(id, _)| id.as_str()))?;
                    let family: Vec<Certificate> = family.into_iter().flatten().collect();
                    Some(crate::domain::rules::revoke::concluded(
                        entry.kind, c, &family, r, entry.due,
                    ))
                }
                Some(Firing::Renew) => {
                    let c = cert.as_ref().expect("fired");
                    match self.renewal_for(c, order.as_ref(), entry.due) {
                        Ok(f) => f,
                        Err(msg) => {
                            report.failed.push(FiredNote::of(&entry, msg));
                            continue;
                        }
                    }
                }
                Some(Firing::Issue) => {
                    let (c, o) = (
                        cert.as_ref().expect("fired"),
                        order.as_ref().expect("review entries come from orders"),
                    );
                    match self.issue_for(c, o, entry.due) {
                        Ok(f) => Some(f),
                        Err(msg) => {
                            // Left in the schedule: the next tick tries again.
                            report.failed.push(FiredNote::of(&entry, msg));
                            continue;
                        }
                    }
                }
            };
            let mut fired = fired;
            if let (Some(f), Some(c)) = (fired.as_mut(), cert.as_ref()) {
                self.release_original(c, f)?;
                let failed = f
                    .updated
                    .as_ref()
                    .is_some_and(|u| u.status == crate::domain::model::Status::Failed);
                if let (true, Some(from)) = (failed, &c.renewed_from) {
                    let paid = order
                        .as_ref()
                        .filter(|o| !o.product.starts_with("acme:"))
                        .map(|o| o.price)
                        .unwrap_or_default();
                    crate::domain::rules::renewal::renewal_failed(
                        f,
                        c,
                        self.store.get(from)?.as_ref(),
                        paid,
                        entry.due,
                    );
                }
            }
            if let Some(f) = fired.as_mut() {
                f.ran_at = crate::domain::schedule::ran_late(entry.due, self.clock.now());
            }
            batch.push((entry, fired));
        }
        self.store.apply_fired(&batch)?;
        for (entry, fired) in &batch {
            match fired {
                Some(f) => report
                    .fired
                    .push(FiredNote::of(entry, f.event.message.clone())),
                None => report.dropped += 1,
            }
        }
        Ok(())
    }

    /// AR-3/AR-4: takes the renewal fee and places the renewal order, or switches auto-renewal
    /// off when the balance does not cover it. `None`: no longer eligible (dropped).
    fn renewal_for(
        &self,
        cert: &Certificate,
        order: Option<&OrderInfo>,
        now: Timestamp,
    ) -> Result<Option<Fired>, String> {
        use crate::domain::rules::renewal::{check_eligible, check_fee_covered, fee_not_covered};
        if check_eligible(cert, order).is_err() {
            return Ok(None);
        }
        let order = order.expect("eligible certificates have an order");
        let fee = self.renewal_fee(order).map_err(|e| e.to_string())?;
        let balance = self.store.balance().map_err(|e| e.to_string())?;
        if check_fee_covered(fee, balance).is_err() {
            return Ok(Some(fee_not_covered(cert, fee, balance, now)));
        }
        self.renewal_order(cert, order, fee, now)
            .map(|(f, _)| Some(f))
            .map_err(|e| e.to_string())
    }

    /// The renewal order of `cert` (AR-5, AR-6) with fresh ids and tokens: the effect, and the new id.
    fn renewal_order(
        &self,
        cert: &Certificate,
        order: &OrderInfo,
        fee: Money,
        now: Timestamp,
    ) -> Result<(Fired, String), StoreError> {
        let id = self.store.new_id()?;
        let tokens = self.challenge_tokens(cert.domains.len())?;
        let zones = self.store.managed_zones()?;
        Ok((
            crate::domain::rules::renewal::renew(
                cert,
                order,
                fee,
                id.clone(),
                &tokens,
                &zones,
                now,
            )
            .into_fired(),
            id,
        ))
    }

    /// One random 16-character token per challenge.
    fn challenge_tokens(&self, n: usize) -> Result<Vec<String>, StoreError> {
        Ok(self
            .store
            .new_ids(n * 2)?
            .chunks(2)
            .map(|p| p.concat())
            .collect())
    }

    /// Records an effect the domain decided (or its refusal) and reports the saved record.
    fn record(&self, id: &str, decided: Result<Fired, Refusal>) -> Result<Action, StoreError> {
        let fired = match decided {
            Ok(f) => f,
            Err(r) => return Ok(Action::Refused(r)),
        };
        self.store.apply_effect(id, &fired)?;
        Ok(match self.store.get(id)? {
            Some(c) => Action::RecordSaved(Box::new(c.summary()), fired.event.message.clone()),
            None => Action::Failed(format!("certificate {id} is no longer in the store")),
        })
    }

    /// One year of the order's product at today's price (the price table's, else the catalogue's).
    fn renewal_fee(&self, order: &OrderInfo) -> Result<crate::domain::account::Money, StoreError> {
        let prices = self.store.prices()?;
        Ok(crate::domain::catalogue::product(&order.product)
            .map(|p| crate::domain::catalogue::price_of(p, &prices))
            .unwrap_or(order.price))
    }

    /// The sandbox CA, created (and its keys stored) on first use.
    pub fn sandbox(&self) -> Result<&SandboxCa, StoreError> {
        if let Some(ca) = self.ca.get() {
            return Ok(ca);
        }
        let ca = SandboxCa::load_or_create(&self.store, self.clock.now())?;
        Ok(self.ca.get_or_init(|| ca))
    }

    /// Asks the CA backend for the certificate of an order whose review has ended.
    fn issue_for(
        &self,
        cert: &Certificate,
        order: &OrderInfo,
        now: Timestamp,
    ) -> Result<Fired, String> {
        let ca = self.sandbox().map_err(|e| e.to_string())?;
        let reissue = self
            .store
            .reissue_request(&cert.id)
            .map_err(|e| e.to_string())?;
        let request = IssueRequest {
            domains: cert.domains.clone(),
            standard: cert.standard,
            spki_der: reissue.as_ref().map(|r| r.spki_der.clone()),
            not_before: now,
            not_after: order.not_after(now),
        };
        let chain = ca.issue(&request)?;
        let mut fired = issued(cert, order, &chain.chain_der, chain.key_pem, ca.name(), now)?;
        // A reissue's key was sealed with its order, unless the user kept it (a pasted CSR).
        if let (Some(r), Some(u)) = (&reissue, fired.updated.as_mut()) {
            u.has_key = r.csr != crate::domain::reissue::CsrChoice::Pasted;
        }
        Ok(fired)
    }

    /// A reissue that was issued or failed hands its original back (`reissuing` → `issued`).
    fn release_original(&self, cert: &Certificate, fired: &mut Fired) -> Result<(), StoreError> {
        let done = fired.updated.as_ref().is_some_and(|u| {
            matches!(
                u.status,
                crate::domain::model::Status::Issued | crate::domain::model::Status::Failed
            )
        });
        if let (true, Some(original)) = (done, &cert.reissued_from) {
            if let Some(o) = self.store.get(original)? {
                fired
                    .others
                    .extend(crate::domain::rules::reissue::release_original(&o));
            }
        }
        Ok(())
    }

    fn run(&self, effect: Effect) -> Result<Action, StoreError> {
        // T-2: nothing acts on an order or revocation past its deadline, ticked or not.
        if let Effect::CheckValidation(id) | Effect::Remind(id) | Effect::AttachLetter { id, .. } =
            &effect
        {
            if let Some(refused) = self.past_deadline(id)? {
                return Ok(refused);
            }
        }
        Ok(match effect {
            Effect::RunDue => Action::TickDone(self.tick()?),
            Effect::ReadFiles { cert, key } => {
                let read = |p: &std::path::Path| -> Result<String, String> {
                    use std::io::Read;
                    let f = std::fs::File::open(p).map_err(|e| format!("{}: {e}", p.display()))?;
                    let mut buf = Vec::new();
                    f.take(crate::domain::pem::MAX_INPUT_BYTES as u64 + 1)
                        .read_to_end(&mut buf)
                        .map_err(|e| format!("{}: {e}", p.display()))?;
                    if buf.len() > crate::domain::pem::MAX_INPUT_BYTES {
                        return Err(format!("{} is larger than 1 MiB (U-7)", p.display()));
                    }
                    String::from_utf8(buf).map_err(|_| {
                        format!(
                            "{} is binary (DER): import it with `certdeck import --cert`",
                            p.display()
                        )
                    })
                };
                let files =
                    read(&cert).and_then(|c| Ok((c, key.as_deref().map(read).transpose()?)));
                match files {
                    Ok((cert, key)) => {
                        Action::FilesRead(Box::new(crate::app::state::Prefill { cert, key }))
                    }
                    Err(msg) => Action::Failed(msg),
                }
            }
            Effect::LoadForecast(days) => {
                let now = self.clock.now();
                // Overdue work too: due before now and not run yet (#12).
                let entries = self.store.upcoming(
                    chrono::DateTime::<chrono::Utc>::MIN_UTC,
                    now + chrono::Duration::days(days as i64),
                    10_000,
                )?;
                let certs = self
                    .store
                    .get_many(entries.iter().map(|e| e.cert_id.as_str()))?;
                let entries = entries
                    .into_iter()
                    .zip(certs)
                    .map(|(entry, c)| crate::app::state::ForecastRow {
                        entry,
                        name: c.map(|c| c.name).unwrap_or_default(),
                    })
                    .collect();
                Action::ForecastLoaded { days, entries }
            }
            Effect::Scan(paths) => {
                let set = |p| *self.scan_progress.lock().unwrap_or_else(|e| e.into_inner()) = p;
                let paths = if paths.is_empty() {
                    self.machine_roots()?
                } else {
                    paths
                };
                let report = self.scan_with(&paths, None, &|p| set(Some(p)));
                set(None);
                Action::Scanned(Box::new(report?))
            }
            Effect::LoadAcmeAccounts => Action::AcmeAccountsLoaded(
                self.store
                    .acme_accounts()?
                    .into_iter()
                    .map(|a| (a.name, a.directory_name))
                    .collect(),
            ),
            Effect::AcmeOrder {
                account,
                domain,
                sans,
            } => self.acme_order_by_hand(account, domain, sans)?,
            Effect::LoadZones => {
                Action::ZonesLoaded(self.store.managed_zones()?, self.store.prices()?)
            }
            Effect::LoadOrders => Action::OrdersLoaded(
                self.store
                    .open_orders()?
                    .into_iter()
                    .map(|(c, o)| crate::app::state::OrderRow {
                        summary: c.summary(),
                        order: o,
                        revocation: None,
                    })
                    .chain(self.store.open_revocations()?.into_iter().map(|(c, r)| {
                        crate::app::state::OrderRow {
                            summary: c.summary(),
                            order: r.as_order_view(),
                            revocation: Some(r),
                        }
                    }))
                    .collect(),
            ),
            Effect::AttachLetter { id, .. } if self.revoking(&id)? => match self.store.get(&id)? {
                Some(c) => {
                    Action::Refused(crate::domain::rules::revoke::refuse_second_document(&c))
                }
                None => Action::Failed(format!("certificate {id} is no longer in the store")),
            },
            Effect::AttachLetter { id, path } => {
                let bytes = match lifecycle::read_document(&path) {
                    Ok(b) => b,
                    Err(msg) => return Ok(Action::Failed(msg)),
                };
                let (Some(cert), Some(order)) = (self.store.get(&id)?, self.store.order(&id)?)
                else {
                    return Ok(Action::Refused(Refusal::new(
                        "AR-7",
                        crate::domain::refusal::Field::Id,
                        format!("{id} is not an order"),
                    )));
                };
                self.record(
                    &id,
                    crate::domain::order::letter_received(&cert, &order, &bytes, self.clock.now()),
                )?
            }
            Effect::SetIgnored { id, on } => {
                let Some(cert) = self.store.get(&id)? else {
                    return Ok(Action::Refused(Refusal::new(
                        "IG-1",
                        crate::domain::refusal::Field::Id,
                        format!("no certificate with id {id}"),
                    )));
                };
                let on = on.unwrap_or(!cert.ignored);
                let decided =
                    crate::domain::rules::ignore::set_ignored(&cert, on, self.clock.now()).map(
                        |(updated, event)| Fired {
                            event,
                            updated: Some(updated),
                            ..Default::default()
                        },
                    );
                self.record(&id, decided)?
            }
            Effect::Remind(id) => {
                let (Some(cert), Some(order)) = (self.store.get(&id)?, self.store.order(&id)?)
                else {
                    return Ok(Action::Refused(Refusal::new(
                        "RM-1",
                        crate::domain::refusal::Field::Id,
                        format!("{id} is not an order"),
                    )));
                };
                self.record(
                    &id,
                    crate::domain::rules::reminder::remind(&cert, &order, self.clock.now()),
                )?
            }
            Effect::PlanCancel(id) => match self.plan_cancel(&id)? {
                Ok(plan) => Action::CancelPlanned(Box::new(plan)),
                Err(r) => Action::Refused(r),
            },
            Effect::CancelReview(id) => self.cancel_review(&id)?,
            Effect::CheckValidation(id) if self.revoking(&id)? => self.check_revocation(id)?,
            Effect::CheckValidation(id) if self.store.acme_pending(&id)?.is_some() => {
                self.check_acme_manual(&id)?
            }
            Effect::CheckValidation(id) => match self.store.order(&id)? {
                Some(order) => {
                    let results = crate::validate::check_all(
                        &order.challenges,
                        crate::validate::http_override(),
                    );
                    let reissue = self
                        .store
                        .get(&id)?
                        .is_some_and(|c| c.reissued_from.is_some());
                    Action::ValidationChecked {
                        id,
                        order: Box::new(order),
                        results,
                        reissue,
                        revocation: None,
                    }
                }
                None => Action::Failed(format!("{id} has no order to validate")),
            },
            Effect::PlaceOrder(v) => {
                let now = self.clock.now();
                let id = self.store.new_id()?;
                let tokens = self.challenge_tokens(v.domains.len())?;
                let (cert, order, event, payment) =
                    crate::domain::rules::apply::new_order(&v, id, &tokens, now);
                let summary = cert.summary();
                let rec = NewRecord {
                    cert,
                    secrets: Default::default(),
                    event,
                };
                if self.store.place_order(&rec, &order, &payment)? {
                    Action::OrderPlaced {
                        summary: Box::new(summary),
                        warnings: v.warnings.clone(),
                    }
                } else {
                    Action::Refused(Refusal::new(
                        "AR-4",
                        crate::domain::refusal::Field::Amount,
                        format!(
                            "the balance does not cover the price of {} {}; top up first (certdeck account topup)",
                            v.price,
                            crate::domain::account::CURRENCY
                        ),
                    ))
                }
            }
            Effect::LoadForRenewal { id, on } => match self.store.get(&id)? {
                Some(cert) if self.store.acme_origin(&id)?.is_some() => {
                    self.switch_acme_auto_renew(&cert, on)?
                }
                Some(cert) => Action::RenewalContext {
                    cert: Box::new(cert),
                    order: self.store.order(&id)?.map(Box::new),
                    on,
                },
                None => Action::Refused(Refusal::new(
                    "AR-1",
                    crate::domain::refusal::Field::Id,
                    format!("no certificate with id {id}"),
                )),
            },
            Effect::Save { id, fired } => self.record(&id, Ok(*fired))?,
            Effect::AdoptSites(id) => self.adopt_sites_of(&id)?,
            Effect::RenewNow(id) => {
                let now = self.clock.now();
                let (Some(cert), order) = (self.store.get(&id)?, self.store.order(&id)?) else {
                    return Ok(Action::Refused(Refusal::new(
                        "RENEW",
                        crate::domain::refusal::Field::Id,
                        format!("no certificate with id {id}"),
                    )));
                };
                if self.store.acme_origin(&id)?.is_some() {
                    return self.renew_acme_now(&cert);
                }
                if let Err(r) =
                    crate::domain::rules::renewal::check_manual_renewal(&cert, order.as_ref(), now)
                {
                    return Ok(Action::Refused(r));
                }
                let order = order.expect("checked");
                let fee = self.renewal_fee(&order)?;
                if let Err(r) =
                    crate::domain::rules::renewal::check_fee_covered(fee, self.store.balance()?)
                {
                    return Ok(Action::Refused(r));
                }
                let (fired, new_id) = self.renewal_order(&cert, &order, fee, now)?;
                self.store.apply_effect(&id, &fired)?;
                match (self.store.get(&id)?, self.store.get(&new_id)?) {
                    (Some(old), Some(new)) => Action::Renewed {
                        old: Box::new(old.summary()),
                        new: Box::new(new.summary()),
                    },
                    _ => Action::Failed("renewed, but the records could not be read back".into()),
                }
            }
            Effect::LoadAccount => Action::AccountLoaded(self.store.balance()?),
            Effect::Post(entry) => Action::Posted(self.store.post(&entry)?),
            Effect::Advance(by) => {
                if self.clock.advance(by) {
                    Action::Advanced(by)
                } else {
                    Action::Failed(
                        "time moves by itself here; :advance works in the demo (certdeck --demo)"
                            .into(),
                    )
                }
            }
            Effect::LoadMore(id) => self.load_more(&id)?,
            Effect::PlanRevocation(id) => self.plan_revocation(&id)?,
            Effect::Reissue(req) => self.reissue(*req)?,
            Effect::Export(req) => self.export(&req)?,
            Effect::LoadResources => self.load_resources()?,
            Effect::AddAlarm(input) => self.add_alarm(&input)?,
            Effect::RemoveAlarm(id) => self.remove_alarm(&id)?,
            Effect::EnableAlarm(id, on) => self.enable_alarm(&id, on)?,
            Effect::UpdateAlarm(id, input) => self.update_alarm(&id, &input)?,
            Effect::TestAlarm(id) => self.test_alarm(&id)?,
            Effect::RetryDelivery(id) => self.retry_delivery(id)?,
            Effect::AddGroupMembers(g) => self.add_group_members(&g)?,
            Effect::RemoveGroup { name, recipient } => {
                self.remove_group(&name, recipient.as_deref())?
            }
            Effect::LoadAlarms => Action::AlarmsLoaded {
                policies: self.store.alarms()?,
                groups: self.store.recipient_groups()?,
                deliveries: self.store.deliveries(200)?,
            },
            Effect::LoadMessages(q) => Action::MessagesLoaded {
                messages: self.store.messages(500, q.unread_only, &q.matching)?,
                unread: self.store.unread_messages()?,
            },
            Effect::MarkRead { ids, query: q } => {
                self.store.mark_read(ids.as_deref())?;
                Action::MessagesLoaded {
                    messages: self.store.messages(500, q.unread_only, &q.matching)?,
                    unread: self.store.unread_messages()?,
                }
            }
            Effect::LoadHostings => Action::HostingsLoaded(self.store.hostings()?),
            Effect::LoadHostingHistory(id) => self.hosting_history(&id)?,
            Effect::LoadResourceHistory(id) => self.resource_history(&id)?,
            Effect::AddHosting(req) => self.add_hosting(&req)?,
            Effect::CancelHosting(id) => self.hosting_action(&id, "cancel")?,
            Effect::RetryHosting(id) => self.hosting_action(&id, "retry")?,
            Effect::RollbackHosting(id) => self.hosting_action(&id, "rollback")?,
            Effect::AddResource(input) => self.add_resource(&input)?,
            Effect::RemoveResource(id) => self.remove_resource(&id)?,
            Effect::UpdateResource { id, input } => self.update_resource(&id, &input)?,
            Effect::EditHosting(e) => self.edit_hosting(&e)?,
            Effect::Deploy {
                cert,
                resource,
                allow_expired,
            } => self.deploy(&cert, &resource, allow_expired)?,
            Effect::SubmitRevocation {
                id,
                reason,
                document,
            } => self.submit_revocation(&id, reason, document.as_deref())?,
            Effect::LoadAll => Action::AllLoaded(self.store.summaries()?),
            Effect::LoadMarks => Action::MarksLoaded(self.store.watch_marks()?),
            Effect::LoadTrust => Action::TrustLoaded(self.trust_anchor_subjects()?),
            Effect::LoadOne(id) => Action::OneLoaded(self.store.get(&id)?.map(|c| c.summary())),
            Effect::LoadDetail(id) => match self.store.get(&id)? {
                Some(cert) => {
                    let timeline = self.store.timeline_entries(&id)?;
                    let order = self.store.order(&id)?;
                    let acme = self.acme_detail(&id)?;
                    let watched = self.store.watched(&id)?;
                    let intermediate = self.store.expiring_intermediate(&id)?;
                    Action::DetailLoaded(Box::new(crate::app::state::Detail {
                        cert,
                        order,
                        acme,
                        watched,
                        intermediate,
                        timeline,
                        resources: Vec::new(),
                        scroll: 0,
                    }))
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
                // D-3: its hostings in progress end with it (the store's view, not only the
                // plan's, which a TUI may have loaded earlier).
                use crate::domain::rules::hosting::{Association, HostingStatus};
                for h in self.store.hostings()? {
                    let concerns = h.old_cert == plan.id
                        || matches!(&h.association, Association::Specified(s) if *s == plan.id);
                    if concerns && h.status == HostingStatus::InProgress {
                        if let Action::Refused(r) = self.hosting_action(&h.id, "cancel")? {
                            return Ok(Action::Refused(r));
                        }
                    }
                }
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
