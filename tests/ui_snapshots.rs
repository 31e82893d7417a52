//! Rendered frames (TestBackend + insta) of the Certificates tab, the detail pane, the upload
//! form with an error showing, the help overlay and the delete confirmation.
use certdeck::app::state::{Overlay, State};
use certdeck::app::{update, Action};
use certdeck::domain::model::*;
use certdeck::ui::theme::Theme;
use certdeck::ui::upload::UploadForm;
use certdeck::ui::Ui;
use chrono::{DateTime, Duration, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 9, 30, 0).unwrap()
}

fn summary(
    i: usize,
    name: &str,
    domains: &[&str],
    days: Option<i64>,
    status: Status,
    source: Source,
    brand: &str,
) -> CertSummary {
    CertSummary {
        id: format!("id{i:06}"),
        name: name.into(),
        source,
        status,
        brand: brand.into(),
        cert_type: Some(CertType::Dv),
        standard: Standard::International,
        domains: domains.iter().map(|d| d.to_string()).collect(),
        issuer: format!("{brand} Server CA"),
        not_after: days.map(|d| now() + Duration::days(d) + Duration::hours(1)),
        auto_renew: false,
        ignored: i == 3,
        tags: [("env".to_string(), "prod".to_string())].into(),
        project: Some("web".into()),
    }
}

fn state() -> State {
    let rows = vec![
        summary(
            1,
            "shop",
            &["shop.example.com", "www.shop.example.com"],
            Some(200),
            Status::Issued,
            Source::Uploaded,
            "Example CA",
        ),
        summary(
            2,
            "old api",
            &["api.example.com"],
            Some(-5),
            Status::Issued,
            Source::Uploaded,
            "Example CA",
        ),
        summary(
            3,
            "mail",
            &["mail.example.com"],
            Some(3),
            Status::Issued,
            Source::Issued,
            "DNSPod",
        ),
        summary(
            4,
            "pay",
            &["pay.example.cn"],
            Some(12),
            Status::ToBeRenewed,
            Source::Issued,
            "DNSPod",
        ),
        summary(
            5,
            "portal",
            &["*.portal.example"],
            Some(29),
            Status::Issued,
            Source::Issued,
            "TrustAsia",
        ),
        summary(
            6,
            "bank",
            &["bank.example.org"],
            Some(45),
            Status::Issued,
            Source::Issued,
            "GeoTrust",
        ),
        summary(
            7,
            "store",
            &["store.example.net"],
            Some(700),
            Status::Revoked,
            Source::Issued,
            "GlobalSign",
        ),
        summary(
            8,
            "new order",
            &["new.example.cn"],
            None,
            Status::Validating,
            Source::Issued,
            "DNSPod",
        ),
    ];
    let mut s = State {
        db_label: "/var/lib/certdeck/certdeck.redb".into(),
        ..State::default()
    };
    update(&mut s, Action::AllLoaded(rows), now());
    s
}

/// An nginx resource with no files, commands or endpoint.
fn nginx_resource(id: &str, name: &str) -> certdeck::domain::resource::Resource {
    certdeck::domain::resource::Resource {
        id: id.into(),
        name: name.into(),
        preset: certdeck::domain::resource::Preset::Nginx,
        targets: vec![],
        owner: None,
        group: None,
        cert_mode: 0o644,
        key_mode: 0o600,
        check_command: None,
        reload_command: None,
        endpoint: None,
        command_timeout: 30,
        created_at: now(),
    }
}

/// `/`, then `text` typed, on the tab `s` is on: the UI and its frame at 80×24.
fn typed_filter(mut s: State, text: &str) -> (Ui, String) {
    update(&mut s, Action::StartFilter, now());
    update(&mut s, Action::SetFilter(text.into()), now());
    let mut ui = Ui::new(s, Theme::plain());
    let frame = render(&mut ui, 80, 24);
    (ui, frame)
}

fn render(ui: &mut Ui, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| ui.draw(f)).unwrap();
    terminal.backend().to_string()
}

#[test]
fn certificates_tab() {
    let mut ui = Ui::new(state(), Theme::plain());
    insta::assert_snapshot!(render(&mut ui, 130, 16));
}

#[test]
fn certificates_tab_filtered_and_sorted_by_name() {
    let mut s = state();
    update(&mut s, Action::SetFilter("example.com".into()), now());
    update(&mut s, Action::CycleSort, now());
    let mut ui = Ui::new(s, Theme::plain());
    insta::assert_snapshot!(render(&mut ui, 130, 10));
}

fn certificate() -> Certificate {
    let facts = X509Facts {
        version: 3,
        subject: "CN=shop.example.com".into(),
        subject_cn: Some("shop.example.com".into()),
        subject_org: None,
        sans: vec!["shop.example.com".into(), "www.shop.example.com".into()],
        issuer: "O=Example CA, CN=Example CA Server CA".into(),
        issuer_cn: Some("Example CA Server CA".into()),
        issuer_org: Some("Example CA".into()),
        serial: "5f2e9c0a11".into(),
        not_before: now() - Duration::days(165),
        not_after: now() + Duration::days(200),
        signature_algorithm: "ecdsa-with-SHA256".into(),
        key_algorithm: KeyAlgorithm::Ecdsa,
        key_bits: 256,
        fingerprint_sha256: "ab".repeat(32),
        is_ca: false,
        key_usage: vec!["digitalSignature".into()],
        extended_key_usage: vec!["serverAuth".into()],
        policies: vec![],
    };
    Certificate {
        id: "id000001".into(),
        name: "shop".into(),
        source: Source::Uploaded,
        status: Status::Issued,
        brand: "Example CA".into(),
        cert_type: Some(CertType::Dv),
        standard: Standard::International,
        domain_kind: DomainKind::Multi,
        domains: facts.sans.clone(),
        chain: vec![
            ChainLink {
                subject: facts.subject.clone(),
                issuer: facts.issuer.clone(),
                not_before: facts.not_before,
                not_after: facts.not_after,
                fingerprint_sha256: "ab".repeat(32),
                is_ca: false,
            },
            ChainLink {
                subject: facts.issuer.clone(),
                issuer: "O=Example CA, CN=Example CA Root".into(),
                not_before: now() - Duration::days(900),
                not_after: now() + Duration::days(2000),
                fingerprint_sha256: "cd".repeat(32),
                is_ca: true,
            },
        ],
        x509: Some(facts),
        chain_der: Vec::new(),
        chain_complete: false,
        enc_cert_pem: None,
        has_key: true,
        auto_renew: false,
        ignored: false,
        tags: [("env".to_string(), "prod".to_string())].into(),
        project: Some("web".into()),
        renewed_from: None,
        reissued_from: None,
        created_at: now() - Duration::days(10),
    }
}

#[test]
fn detail_pane() {
    let mut s = state();
    let timeline = vec![
        TimelineEntry {
            event: TimelineEvent {
                at: now() - Duration::days(10),
                kind: "uploaded".into(),
                message: "uploaded; chain of 2".into(),
            },
            ran_at: None,
        },
        // T-1: a late tick's work is dated when it was due, and says when it ran.
        TimelineEntry {
            event: TimelineEvent {
                at: now() - Duration::days(3),
                kind: "alarm".into(),
                message: "alarm \"expiring\": shop expires in 9 days".into(),
            },
            ran_at: Some(now() - Duration::days(1)),
        },
    ];
    update(
        &mut s,
        Action::DetailLoaded(Box::new(certdeck::app::state::Detail {
            cert: certificate(),
            order: None,
            acme: None,
            watched: None,
            intermediate: None,
            timeline,
            resources: Vec::new(),
            scroll: 0,
        })),
        now(),
    );
    assert!(matches!(s.overlay, Overlay::Detail(_)));
    let mut ui = Ui::new(s, Theme::plain());
    insta::assert_snapshot!(render(&mut ui, 110, 52));
}

#[test]
fn upload_form_with_an_error_showing() {
    let mut s = state();
    update(&mut s, Action::OpenUpload, now());
    let mut form = UploadForm::new();
    let key = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
    // It opens on the certificate field; Tab goes on to the key, then round to the name.
    form.handle_key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
    form.handle_key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
    for c in "shop".chars() {
        form.handle_key(key(c));
    }
    // A PEM paste lands in the certificate field wherever the focus is.
    form.paste(
        "-----BEGIN CERTIFICATE-----\r\nMIIB\r\nnot*base64\r\n-----END CERTIFICATE-----\r\n",
    );
    form.revalidate(now(), &[]);
    let mut ui = Ui::new(s, Theme::plain());
    ui.form = Some(form);
    let frame = render(&mut ui, 120, 30);
    assert!(frame.contains("cert line 3"), "{frame}");
    insta::assert_snapshot!(frame);
}

#[test]
fn help_overlay() {
    let mut s = state();
    update(&mut s, Action::ToggleHelp, now());
    let mut ui = Ui::new(s, Theme::plain());
    insta::assert_snapshot!(render(&mut ui, 140, 50));
}

#[test]
fn delete_confirmation_says_what_happens() {
    let mut s = state();
    update(
        &mut s,
        Action::Delete {
            id: Some("id000001".into()),
            confirmed: false,
        },
        now(),
    );
    let mut ui = Ui::new(s, Theme::plain());
    let frame = render(&mut ui, 120, 20);
    assert!(frame.contains("cannot be undone"), "{frame}");
    insta::assert_snapshot!(frame);
}

#[test]
fn rule_d1_cancel_confirmation_says_what_happens_at_80x24() {
    let mut s = state();
    let plan = certdeck::domain::rules::cancel::CancelPlan {
        id: "id000002".into(),
        name: "shop.example.com".into(),
        refund: certdeck::domain::account::Money(19_900),
    };
    update(&mut s, Action::CancelPlanned(Box::new(plan)), now());
    let mut ui = Ui::new(s, Theme::plain());
    let frame = render(&mut ui, 80, 24);
    assert!(
        frame.contains("refunded") && frame.contains("y  cancel the review"),
        "{frame}"
    );
    insta::assert_snapshot!(frame);
}

#[test]
fn rule_d2_refusal_shows_in_the_status_line() {
    let mut s = state();
    update(
        &mut s,
        Action::Delete {
            id: Some("id000004".into()),
            confirmed: false,
        },
        now(),
    );
    let mut ui = Ui::new(s, Theme::plain());
    let frame = render(&mut ui, 130, 12);
    assert!(frame.contains("revoke it first (D-2)"), "{frame}");
}

#[test]
fn mouse_clicks_select_rows_and_tabs_and_the_wheel_scrolls() {
    use certdeck::engine::{clock::ManualClock, Engine};
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let dir = tempfile::tempdir().unwrap();
    let store =
        certdeck::store::Store::open(&dir.path().join("m.redb"), &dir.path().join("k"), "test")
            .unwrap();
    let engine = Engine::new(store, std::sync::Arc::new(ManualClock::new(now())));
    let mut ui = Ui::new(state(), Theme::plain());
    render(&mut ui, 130, 16);
    let click = |column, row| MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column,
        row,
        modifiers: KeyModifiers::NONE,
    };
    // Rows start under the border and the header: screen row 3 is the first, row 5 the third.
    ui.on_mouse(&engine, click(10, 5));
    assert_eq!(ui.state.selected_row().unwrap().summary.id, "id000004");
    ui.on_mouse(
        &engine,
        MouseEvent {
            kind: MouseEventKind::ScrollDown,
            column: 10,
            row: 5,
            modifiers: KeyModifiers::NONE,
        },
    );
    assert_eq!(ui.state.selected, 5);
    ui.on_mouse(&engine, click(10, 40));
    assert_eq!(ui.state.selected, 5, "a click below the rows does nothing");
    ui.on_mouse(&engine, click(20, 0));
    assert_eq!(ui.state.tab, certdeck::app::state::Tab::Validation);
}

#[test]
fn upload_command_fills_the_form_from_files() {
    use certdeck::ca::pki::{Authority, KeyKind};
    use certdeck::engine::{clock::ManualClock, Engine};
    let dir = tempfile::tempdir().unwrap();
    let store =
        certdeck::store::Store::open(&dir.path().join("f.redb"), &dir.path().join("k"), "test")
            .unwrap();
    let real_now = Utc::now();
    let engine = Engine::new(store, std::sync::Arc::new(ManualClock::new(real_now)));
    let ca = Authority::root(
        "File CA",
        "tests",
        KeyKind::P256,
        real_now - Duration::days(5),
        real_now + Duration::days(500),
    );
    let leaf = ca.issue(
        &["file.example"],
        KeyKind::P256,
        real_now - Duration::days(1),
        real_now + Duration::days(60),
    );
    let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
    std::fs::write(&cert, format!("{}{}", leaf.cert_pem, ca.pem())).unwrap();
    std::fs::write(&key, &leaf.key_pem).unwrap();
    let mut ui = Ui::new(State::default(), Theme::plain());
    ui.dispatch(
        &engine,
        Action::RunCommand(format!("upload {} {}", cert.display(), key.display())),
    );
    let form = ui.form.as_ref().expect("the form opened");
    assert!(
        matches!(&form.preview, Some(Ok((summary, _))) if summary.contains("file.example")),
        "{:?}",
        form.preview
            .as_ref()
            .map(|p| p.as_ref().map(|x| x.0.clone()))
    );
    ui.dispatch(&engine, Action::Back);
    ui.dispatch(
        &engine,
        Action::RunCommand("upload /nonexistent.pem".into()),
    );
    assert!(ui.form.is_none());
    assert!(ui
        .state
        .status
        .as_ref()
        .unwrap()
        .text
        .contains("/nonexistent.pem"));
}

/// Three open orders: a DNS one, a file one and one in review.
fn open_orders() -> Vec<certdeck::app::state::OrderRow> {
    use certdeck::app::state::OrderRow;
    use certdeck::domain::account::Money;
    use certdeck::domain::order::{Challenge, OrderInfo, ValidationMethod};
    let order = |validation, challenges, deadline: Option<i64>, review: Option<i64>| OrderInfo {
        product: "dnspod-dv".into(),
        years: 1,
        validation,
        challenges,
        price: Money(19_900),
        submitted_at: now() - Duration::days(1),
        validated_at: review.map(|_| now()),
        review_due: review.map(|h| now() + Duration::hours(h)),
        deadline: deadline.map(|h| now() + Duration::hours(h)),
        valid_until: None,
        letter_uploaded_at: None,
        last_reminder_at: None,
    };
    let dns = Challenge::DnsTxt {
        domain: "new.example.cn".into(),
        name: "_dnsauth.new.example.cn".into(),
        value: "k3Jx9QpLm2Vb7NcZ".into(),
    };
    let file = Challenge::File {
        domain: "files.example.net".into(),
        url: "http://files.example.net/.well-known/pki-validation/fileauth.txt".into(),
        content: "Zq81Lm0PxWvB44aa".into(),
    };
    vec![
        OrderRow {
            summary: summary(
                8,
                "new order",
                &["new.example.cn"],
                None,
                Status::Validating,
                Source::Issued,
                "DNSPod",
            ),
            order: order(ValidationMethod::Dns, vec![dns], Some(130), None),
            revocation: None,
        },
        OrderRow {
            summary: summary(
                9,
                "files",
                &["files.example.net"],
                None,
                Status::Validating,
                Source::Issued,
                "DNSPod",
            ),
            order: order(ValidationMethod::File, vec![file], Some(20), None),
            revocation: None,
        },
        OrderRow {
            summary: summary(
                10,
                "auto",
                &["auto.example.com"],
                None,
                Status::Validating,
                Source::Issued,
                "DNSPod",
            ),
            order: order(ValidationMethod::DnsAuto, vec![], None, Some(30)),
            revocation: None,
        },
    ]
}

#[test]
fn validation_queue_tab() {
    use certdeck::domain::validation::{CheckCode, CheckResult};
    let mut s = state();
    let rows = open_orders();
    update(&mut s, Action::OrdersLoaded(rows), now());
    update(
        &mut s,
        Action::SelectTab(certdeck::app::state::Tab::Validation),
        now(),
    );
    s.check_results = Some((
        s.selected_order().unwrap().summary.id.clone(),
        vec![CheckResult {
            domain: "files.example.net".into(),
            code: CheckCode::ContentMismatch,
            detail: "serves \"old\", expected \"Zq81Lm0PxWvB44aa\"".into(),
        }],
    ));
    let mut ui = Ui::new(s, Theme::plain());
    insta::assert_snapshot!(render(&mut ui, 130, 24));
}

#[test]
fn slash_on_the_validation_tab_filters_open_orders_and_esc_clears_it() {
    let mut s = state();
    update(&mut s, Action::OrdersLoaded(open_orders()), now());
    update(
        &mut s,
        Action::SelectTab(certdeck::app::state::Tab::Validation),
        now(),
    );
    let (mut ui, frame) = typed_filter(s, "EXAMPLE.cn");
    assert_eq!(
        ui.state.filter, "",
        "the certificates' filter is not touched"
    );
    assert_eq!(ui.state.selected_order().unwrap().summary.name, "new order");
    assert!(
        frame.contains("1 open order of 3") && frame.contains("new order"),
        "{frame}"
    );
    assert!(
        !frame.contains("files") && !frame.contains("auto "),
        "{frame}"
    );
    insta::assert_snapshot!(frame);
    update(&mut ui.state, Action::EndFilter { keep: true }, now());
    update(&mut ui.state, Action::MoveOrder(5), now());
    assert_eq!(
        ui.state.selected_order().unwrap().summary.name,
        "new order",
        "moving stays within what the filter shows"
    );
    update(&mut ui.state, Action::Back, now());
    assert_eq!(ui.state.visible_orders().len(), 3, "Esc clears the filter");
    update(&mut ui.state, Action::StartFilter, now());
    update(&mut ui.state, Action::SetFilter("zzz".into()), now());
    let frame = render(&mut ui, 80, 24);
    assert!(frame.contains("No open order matches “zzz”"), "{frame}");
    assert!(ui.state.selected_order().is_none());
}

#[test]
fn the_selected_order_stays_in_view_at_80x24() {
    let mut s = state();
    let base = open_orders();
    let rows: Vec<_> = (0..30)
        .map(|i| {
            let mut o = base[i % 3].clone();
            o.summary.id = format!("id{:06}", 100 + i);
            o.summary.name = format!("order {i:02}");
            o.order.deadline = Some(now() + Duration::hours(10 + i as i64));
            o.order.review_due = None;
            o
        })
        .collect();
    update(&mut s, Action::OrdersLoaded(rows), now());
    update(
        &mut s,
        Action::SelectTab(certdeck::app::state::Tab::Validation),
        now(),
    );
    update(&mut s, Action::MoveOrder(100), now());
    let mut ui = Ui::new(s, Theme::plain());
    let frame = render(&mut ui, 80, 24);
    assert!(frame.contains("order 29"), "the last order shows: {frame}");
}

#[test]
fn order_form_checks_as_you_type() {
    let mut s = state();
    update(
        &mut s,
        Action::ZonesLoaded(vec!["example.com".into()], Default::default()),
        now(),
    );
    update(
        &mut s,
        Action::AccountLoaded(certdeck::domain::account::Money(50_000)),
        now(),
    );
    update(&mut s, Action::OpenApply, now());
    let mut ui = Ui::new(s, Theme::plain());
    let mut form = certdeck::ui::apply_form::ApplyForm::new();
    for c in "*.example.com".chars() {
        form.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    form.revalidate(&["example.com".to_string()], &Default::default());
    assert!(
        matches!(&form.preview, Some(Err(r)) if r.field == certdeck::domain::refusal::Field::Domain),
        "dnspod-dv is single-domain"
    );
    form.focus = certdeck::ui::apply_form::OrderField::Product;
    form.handle_key(KeyEvent::new(KeyCode::Right, KeyModifiers::NONE));
    form.revalidate(&["example.com".to_string()], &Default::default());
    assert!(
        matches!(&form.preview, Some(Ok(t)) if t.contains("1299.00")),
        "{:?}",
        form.preview
    );
    ui.apply = Some(form);
    insta::assert_snapshot!(render(&mut ui, 110, 24));
}

/// An OV certificate issued through certdeck, for the More menu and the revocation dialog.
/// The More menu's entries loaded for `issued_ov`, its key stored and usable.
fn more_of_issued_ov() -> Action {
    Action::MoreLoaded(Box::new((
        issued_ov(),
        None,
        certdeck::domain::resource::StoredKey::Usable,
        None,
    )))
}

fn issued_ov() -> Certificate {
    let mut c = certificate();
    c.id = "id000006".into();
    c.name = "bank".into();
    c.source = Source::Issued;
    c.brand = "GeoTrust".into();
    c.cert_type = Some(CertType::Ov);
    c.domains = vec!["bank.example.org".into()];
    c.domain_kind = DomainKind::Single;
    c.chain_der = vec![vec![0x30]];
    c
}

#[test]
fn more_menu_greys_what_cannot_run_and_says_why() {
    let mut s = state();
    update(&mut s, more_of_issued_ov(), now());
    let Overlay::More(menu) = &s.overlay else {
        panic!("the menu opens")
    };
    let revoke = menu.entries.iter().find(|e| e.key == 'x').unwrap();
    assert!(
        revoke.disabled.is_none(),
        "an issued OV certificate can be revoked"
    );
    let ignore = menu.entries.iter().find(|e| e.key == 'i').unwrap();
    assert!(ignore.disabled.as_deref().unwrap().contains("(IG-1)"));
    let delete = menu.entries.iter().find(|e| e.key == 'D').unwrap();
    assert!(delete.disabled.as_deref().unwrap().contains("(D-2)"));
    // A greyed entry explains itself instead of running.
    update(&mut s, Action::MenuKey('D'), now());
    assert!(matches!(s.overlay, Overlay::More(_)));
    assert!(s
        .status
        .as_ref()
        .unwrap()
        .text
        .contains("revoke it first (D-2)"));
    let mut ui = Ui::new(s, Theme::plain());
    insta::assert_snapshot!(render(&mut ui, 120, 40));
    // RI-6: a password-protected key greys the deploy entry before the user picks a resource.
    let mut s = state();
    update(
        &mut s,
        Action::MoreLoaded(Box::new((
            issued_ov(),
            None,
            certdeck::domain::resource::StoredKey::PasswordProtected,
            None,
        ))),
        now(),
    );
    let Overlay::More(menu) = &s.overlay else {
        panic!("the menu opens")
    };
    let deploy = menu.entries.iter().find(|e| e.key == 'p').unwrap();
    assert!(
        deploy.disabled.as_deref().unwrap().contains("(RI-6)"),
        "{:?}",
        deploy.disabled
    );
}

#[test]
fn revocation_dialog_warns_before_submission() {
    let mut s = state();
    let plan = certdeck::domain::rules::revoke::plan(&issued_ov(), None, &[], &[], now()).unwrap();
    let (id, name) = (plan.id.clone(), plan.name.clone());
    update(&mut s, Action::RevocationPlanned(Box::new(plan)), now());
    // Opened at 80×24, it shows its top: what is revoked and the reasons to choose from.
    let mut ui = Ui::new(s, Theme::plain());
    let opened = render(&mut ui, 80, 24);
    assert!(
        opened.contains(&format!("{name} ({id})")) && opened.contains("choose one with ↑ ↓"),
        "{opened}"
    );
    insta::assert_snapshot!("revocation_dialog_opened_at_80x24", opened);
    let mut s = ui.state;
    // One Enter revokes nothing: no reason chosen yet.
    assert!(update(&mut s, Action::ConfirmRevoke, now()).is_empty());
    assert!(
        s.status.as_ref().unwrap().text.contains("RV-6"),
        "{:?}",
        s.status
    );
    update(&mut s, Action::MoveRevokeReason(1), now());
    update(&mut s, Action::MoveRevokeReason(1), now());
    update(
        &mut s,
        Action::SetRevokeDocument("/tmp/letter.pdf".into()),
        now(),
    );
    // A reason and a document, but the name not typed: still nothing.
    assert!(update(&mut s, Action::ConfirmRevoke, now()).is_empty());
    assert!(
        s.status.as_ref().unwrap().text.contains(&name),
        "{:?}",
        s.status
    );
    update(&mut s, Action::NextRevokeField, now());
    update(&mut s, Action::SetRevokeDocument("not it".into()), now());
    assert!(update(&mut s, Action::ConfirmRevoke, now()).is_empty());
    update(&mut s, Action::SetRevokeDocument(id.clone()), now());
    let mut ui = Ui::new(s, Theme::plain());
    insta::assert_snapshot!(render(&mut ui, 120, 40));
    // At 80×24 the warning and the keys stay in view.
    let small = render(&mut ui, 80, 24);
    assert!(
        small.contains("cannot be cancelled (RV-2)") && small.contains("· Esc"),
        "{small}"
    );
    insta::assert_snapshot!("revocation_dialog_at_80x24", small);
    // Enter submits with the chosen reason and document; Esc would cancel.
    let effects = update(&mut ui.state, Action::ConfirmRevoke, now());
    assert!(matches!(
        effects.as_slice(),
        [certdeck::app::Effect::SubmitRevocation {
            reason: certdeck::domain::revocation::Reason::KeyCompromise,
            document: Some(_),
            ..
        }]
    ));
}

#[test]
fn more_menu_keeps_the_selected_entry_in_view_at_80x24() {
    let mut s = state();
    update(&mut s, more_of_issued_ov(), now());
    let Overlay::More(menu) = &s.overlay else {
        panic!("the menu opens")
    };
    let last = menu.entries.len() as i64 - 1;
    let label = menu.entries.last().unwrap().label.clone();
    update(&mut s, Action::MoveMenu(last), now());
    let mut ui = Ui::new(s, Theme::plain());
    let frame = render(&mut ui, 80, 24);
    assert!(
        frame.contains("▶ ") && frame.contains(&label.chars().take(12).collect::<String>()),
        "{frame}"
    );
    assert!(
        frame.contains("Esc close") && frame.contains("more"),
        "{frame}"
    );
    insta::assert_snapshot!(frame);
}

#[test]
fn below_80x24_the_screen_says_it_is_too_small() {
    let mut ui = Ui::new(state(), Theme::plain()).with_min_size(80, 24);
    let frame = render(&mut ui, 70, 20);
    assert!(
        frame.contains("terminal too small: 80×24 needed, this one is 70×20"),
        "{frame}"
    );
    assert!(render(&mut ui, 80, 24).contains("Certificates"));
}

#[test]
fn export_dialog_masks_the_pkcs12_password() {
    let mut s = state();
    update(&mut s, Action::OpenExport(Some("id000001".into())), now());
    update(&mut s, Action::MoveExportFormat(-1), now());
    update(&mut s, Action::ToggleExportField, now());
    update(&mut s, Action::SetExportText("hunter2".into()), now());
    let mut ui = Ui::new(s, Theme::plain());
    let frame = render(&mut ui, 110, 30);
    assert!(!frame.contains("hunter2"), "the password is never shown");
    insta::assert_snapshot!(frame);
    let effects = update(&mut ui.state, Action::ConfirmExport, now());
    let [certdeck::app::Effect::Export(req)] = effects.as_slice() else {
        panic!("Enter writes the files: {effects:?}")
    };
    assert_eq!(req.format, certdeck::domain::rules::export::Format::Pkcs12);
    assert_eq!(req.password.as_deref().map(String::as_str), Some("hunter2"));
    assert_eq!(
        req.dir,
        std::path::PathBuf::from("./certdeck-export-id000001")
    );
}

#[test]
fn reissue_form_offers_every_csr_choice_and_warns_about_passwords() {
    let mut s = state();
    update(&mut s, Action::OpenReissue(Some("id000006".into())), now());
    update(&mut s, Action::SetReissueText("new host".into()), now());
    update(&mut s, Action::MoveReissueChoice(3), now());
    update(&mut s, Action::NextReissueField, now());
    update(&mut s, Action::SetReissueText("pw".into()), now());
    let mut ui = Ui::new(s, Theme::plain());
    let frame = render(&mut ui, 110, 36);
    assert!(frame.contains("cannot be deployed automatically (RI-6)"));
    assert!(!frame.contains("pw▏") || frame.contains("••"));
    insta::assert_snapshot!(frame);
    let effects = update(&mut ui.state, Action::ConfirmReissue, now());
    let [certdeck::app::Effect::Reissue(spec)] = effects.as_slice() else {
        panic!("Enter orders the reissue: {effects:?}")
    };
    assert_eq!(spec.reason, "new host");
    assert!(matches!(
        spec.csr,
        certdeck::app::action::CsrSource::Generate(certdeck::domain::reissue::KeyChoice::Rsa2048)
    ));
    assert!(spec.key_password.is_some());
    // SM2 keys do not fit an international certificate: refused in the form, naming RI-6.
    update(&mut ui.state, Action::MoveReissueChoice(3), now());
    assert!(update(&mut ui.state, Action::ConfirmReissue, now()).is_empty());
    assert!(ui.state.status.as_ref().unwrap().text.contains("(RI-6)"));
}

#[test]
fn hosting_tab_lists_hostings_and_resources() {
    use certdeck::app::state::ResourceRow;
    use certdeck::domain::resource::{Endpoint, Part, Preset, Resource};
    use certdeck::domain::rules::hosting::{Association, Hosting, HostingStatus};
    let mut s = state();
    let resource = Resource {
        id: "res00001".into(),
        name: "shop-nginx".into(),
        preset: Preset::Nginx,
        targets: vec![
            (Part::Fullchain, "/etc/nginx/certdeck/shop.crt".into()),
            (Part::Key, "/etc/nginx/certdeck/shop.key".into()),
        ],
        owner: None,
        group: None,
        cert_mode: 0o644,
        key_mode: 0o600,
        check_command: Some("nginx -t".into()),
        reload_command: Some("nginx -s reload".into()),
        endpoint: Some(Endpoint {
            address: "127.0.0.1:443".into(),
            sni: "shop.example.com".into(),
        }),
        command_timeout: 30,
        created_at: now(),
    };
    update(
        &mut s,
        Action::ResourcesLoaded(vec![ResourceRow {
            resource,
            holder: Some("id000004".into()),
        }]),
        now(),
    );
    let hosting = |id: &str, status, new: Option<&str>, result: Option<&str>, days| Hosting {
        id: id.into(),
        old_cert: "id000004".into(),
        association: Association::Renewal,
        resources: vec!["res00001".into()],
        days_before: 5,
        replace_at: now() + Duration::days(days) + Duration::hours(3),
        status,
        new_cert: new.map(str::to_string),
        last_result: result.map(str::to_string),
        notify: true,
        group: None,
        created_at: now() - Duration::days(10),
    };
    update(
        &mut s,
        Action::HostingsLoaded(vec![
            hosting("hst00001", HostingStatus::InProgress, None, None, 7),
            hosting(
                "hst00002",
                HostingStatus::Failed,
                None,
                Some("the renewal of id000004 is not issued yet (validating): the hosting fails (H-5)"),
                -1,
            ),
            hosting("hst00003", HostingStatus::Succeeded, Some("id000009"), Some("id000009 deployed to shop-nginx"), -30),
        ]),
        now(),
    );
    update(
        &mut s,
        Action::SelectTab(certdeck::app::state::Tab::Hosting),
        now(),
    );
    update(&mut s, Action::MoveHosting(1), now());
    let mut ui = Ui::new(s, Theme::plain());
    insta::assert_snapshot!(render(&mut ui, 130, 22));
    // `b` on a hosting that deployed nothing does nothing and says why.
    use certdeck::app::state::HostingOp;
    let effects = update(&mut ui.state, Action::OnHosting(HostingOp::Rollback), now());
    assert!(effects.is_empty() && matches!(ui.state.overlay, Overlay::None));
    assert!(ui
        .state
        .status
        .as_ref()
        .unwrap()
        .text
        .contains("nothing to roll back"));
    // Rolling back the one that deployed asks first, saying what goes back where.
    update(&mut ui.state, Action::MoveHosting(1), now());
    assert!(update(&mut ui.state, Action::OnHosting(HostingOp::Rollback), now()).is_empty());
    let frame = render(&mut ui, 80, 24);
    assert!(
        frame.contains("id000004 goes back") && frame.contains("y  roll back"),
        "{frame}"
    );
    insta::assert_snapshot!("hosting_rollback_asks_first_at_80x24", frame);
    let effects = update(&mut ui.state, Action::ConfirmDelete, now());
    assert!(
        matches!(effects.as_slice(), [certdeck::app::Effect::RollbackHosting(id)] if id == "hst00003"),
        "{effects:?}"
    );
    // Cancelling asks too; n keeps it.
    update(&mut ui.state, Action::MoveHosting(-2), now());
    assert!(update(&mut ui.state, Action::OnHosting(HostingOp::Cancel), now()).is_empty());
    assert!(matches!(ui.state.overlay, Overlay::ConfirmHosting(_)));
    update(&mut ui.state, Action::Back, now());
    assert!(matches!(ui.state.overlay, Overlay::None));
}

#[test]
fn slash_on_the_hosting_tab_filters_hostings_and_resources() {
    use certdeck::app::state::ResourceRow;
    use certdeck::domain::rules::hosting::{Association, Hosting, HostingStatus};
    let mut s = state();
    let resource = |id: &str, name: &str| ResourceRow {
        resource: nginx_resource(id, name),
        holder: None,
    };
    update(
        &mut s,
        Action::ResourcesLoaded(vec![
            resource("res00001", "shop-nginx"),
            resource("res00002", "mail-haproxy"),
        ]),
        now(),
    );
    let hosting = |id: &str, old: &str, group: Option<&str>| Hosting {
        id: id.into(),
        old_cert: old.into(),
        association: Association::Renewal,
        resources: vec!["res00001".into()],
        days_before: 5,
        replace_at: now() + Duration::days(7),
        status: HostingStatus::InProgress,
        new_cert: None,
        last_result: None,
        notify: true,
        group: group.map(str::to_string),
        created_at: now(),
    };
    update(
        &mut s,
        Action::HostingsLoaded(vec![
            hosting("hst00001", "id000004", None),
            hosting("hst00002", "id000005", Some("mail-team")),
        ]),
        now(),
    );
    update(
        &mut s,
        Action::SelectTab(certdeck::app::state::Tab::Hosting),
        now(),
    );
    let (mut ui, frame) = typed_filter(s, "mail");
    assert_eq!(ui.state.selected_hosting().unwrap().id, "hst00002");
    assert_eq!(
        ui.state.selected_resource().unwrap().resource.name,
        "mail-haproxy"
    );
    assert!(
        frame.contains("1 hosting of 2") && frame.contains("1 resource of 2"),
        "{frame}"
    );
    assert!(
        !frame.contains("hst00001") && !frame.contains("shop-nginx"),
        "{frame}"
    );
    insta::assert_snapshot!(frame);
    // `y` copies the hosting the filter shows, not the first in the store.
    update(&mut ui.state, Action::EndFilter { keep: true }, now());
    update(&mut ui.state, Action::CopyValue, now());
    assert_eq!(ui.state.copy.as_deref(), Some("hst00002"));
}

#[test]
fn slash_in_the_help_searches_keys_and_commands() {
    let mut s = state();
    update(&mut s, Action::ToggleHelp, now());
    update(&mut s, Action::StartFilter, now());
    update(&mut s, Action::SetFilter("revoc".into()), now());
    assert_eq!(s.filter, "", "the list's filter is not touched");
    let mut ui = Ui::new(s, Theme::plain());
    let frame = render(&mut ui, 80, 24);
    assert!(frame.contains("Revocation dialog"), "{frame}");
    assert!(!frame.contains("Upload form"), "{frame}");
    assert!(frame.contains("/revoc"), "the search line shows: {frame}");
    insta::assert_snapshot!(frame);
    update(&mut ui.state, Action::SetFilter("qqqqq".into()), now());
    let frame = render(&mut ui, 80, 24);
    assert!(frame.contains("Nothing in the help matches"), "{frame}");
    // Closing the help forgets the search.
    update(&mut ui.state, Action::EndFilter { keep: true }, now());
    update(&mut ui.state, Action::ToggleHelp, now());
    update(&mut ui.state, Action::ToggleHelp, now());
    assert_eq!(ui.state.help_filter, "");
}

#[test]
fn resource_form_adds_a_preset_resource_and_refuses_a_missing_directory() {
    let mut s = state();
    update(&mut s, Action::OpenResourceForm, now());
    update(&mut s, Action::SetResourceFormText("web".into()), now());
    // Name → preset → directory.
    update(&mut s, Action::ResourceFormMove(2), now());
    let effects = update(&mut s, Action::ConfirmResourceForm, now());
    assert!(effects.is_empty(), "nginx needs a directory");
    assert!(s.status.as_ref().unwrap().text.contains("--dir"));
    update(
        &mut s,
        Action::SetResourceFormText("/srv/tls".into()),
        now(),
    );
    let effects = update(&mut s, Action::ConfirmResourceForm, now());
    let [certdeck::app::Effect::AddResource(input)] = effects.as_slice() else {
        panic!("Enter saves it: {effects:?}")
    };
    assert_eq!(input.name, "web");
    assert_eq!(input.dir.as_deref(), Some(std::path::Path::new("/srv/tls")));
    assert_eq!(
        input.preset,
        Some(certdeck::domain::resource::Preset::Nginx)
    );
}

#[test]
fn alarms_tab_shows_the_message_center_with_unread_marked() {
    use certdeck::domain::message::{Message, Severity};
    let mut s = state();
    let msg = |id: u64, kind: &str, severity, text: &str, read| Message {
        id,
        at: now() - Duration::hours(id as i64),
        cert_id: Some("id000004".into()),
        kind: kind.into(),
        severity,
        text: text.into(),
        read,
    };
    update(
        &mut s,
        Action::MessagesLoaded {
            messages: vec![
                msg(1, "hosting_failed", Severity::Critical, "hosting hst00002 failed: the renewal of id000004 is not issued yet (H-5)", false),
                msg(2, "auto_renew_terminated", Severity::Critical, "auto-renewal terminated: the balance 10.00 CNY does not cover the renewal fee 199.00 CNY; renew by hand (AR-4)", false),
                msg(3, "revocation", Severity::Warning, "revocation submitted (superseded)", true),
                msg(4, "issued", Severity::Info, "review done: issued by the sandbox CA", true),
            ],
            unread: 2,
        },
        now(),
    );
    update(
        &mut s,
        Action::SelectTab(certdeck::app::state::Tab::Alarms),
        now(),
    );
    let mut ui = Ui::new(s, Theme::plain());
    let frame = render(&mut ui, 130, 14);
    assert!(
        frame.contains("✉ 2 unread"),
        "the status bar counts unread messages"
    );
    insta::assert_snapshot!(frame);
    // Enter opens the selected message whole and marks it read; Esc goes back.
    let effects = update(&mut ui.state, Action::MoveMessage(1), now());
    assert!(effects.is_empty());
    let effects = update(&mut ui.state, Action::OpenMessage, now());
    assert!(
        matches!(effects.as_slice(), [certdeck::app::Effect::MarkRead { ids: Some(ids), .. }] if ids == &vec![2]),
        "{effects:?}"
    );
    let frame = render(&mut ui, 80, 24);
    assert!(
        frame.contains("renew by hand (AR-4)"),
        "the whole text: {frame}"
    );
    insta::assert_snapshot!("a_message_opened_whole_at_80x24", frame);
    update(&mut ui.state, Action::Back, now());
    assert!(matches!(ui.state.overlay, Overlay::None));
    // :messages lists what the status line said, newest first.
    ui.state
        .say(certdeck::app::state::Level::Info, "first thing said");
    ui.state
        .say(certdeck::app::state::Level::Warn, "second thing said");
    update(&mut ui.state, Action::RunCommand("messages".into()), now());
    let frame = render(&mut ui, 80, 24);
    let (first, second) = (
        frame.find("first thing").unwrap(),
        frame.find("second thing").unwrap(),
    );
    assert!(second < first, "newest first: {frame}");
}

#[test]
fn slash_on_the_alarms_tab_filters_messages_in_the_store_not_certificates() {
    use certdeck::app::effect::MessageQuery;
    use certdeck::app::Effect;
    let mut s = state();
    update(
        &mut s,
        Action::SelectTab(certdeck::app::state::Tab::Alarms),
        now(),
    );
    update(&mut s, Action::StartFilter, now());
    let effects = update(&mut s, Action::SetFilter("hosting".into()), now());
    assert!(
        matches!(effects.as_slice(), [Effect::LoadMessages(q)] if *q == MessageQuery { unread_only: false, matching: "hosting".into() }),
        "{effects:?}"
    );
    assert_eq!(s.filter, "", "the certificate filter is untouched");
    let mut ui = Ui::new(s, Theme::plain());
    let frame = render(&mut ui, 110, 12);
    assert!(frame.contains("matching \"hosting\""), "{frame}");
    assert!(frame.contains("No message matches \"hosting\""), "{frame}");
    assert!(
        frame.contains("/hosting"),
        "the bottom line edits it: {frame}"
    );
    let effects = update(&mut ui.state, Action::EndFilter { keep: false }, now());
    assert!(
        matches!(effects.as_slice(), [Effect::LoadMessages(q)] if *q == MessageQuery::default()),
        "Esc clears it: {effects:?}"
    );
}

#[test]
fn g_on_the_alarms_tab_lists_recipient_groups_without_robot_tokens() {
    use certdeck::domain::rules::alarm::{
        validate_group, Channel, Recipient, RecipientGroup, WebhookStyle,
    };
    let mut s = state();
    update(
        &mut s,
        Action::SelectTab(certdeck::app::state::Tab::Alarms),
        now(),
    );
    let effects = update(&mut s, Action::ShowGroups, now());
    assert!(matches!(
        effects.as_slice(),
        [certdeck::app::Effect::LoadAlarms]
    ));
    let member = |name: &str, channel| Recipient {
        name: name.into(),
        group: None,
        channel,
    };
    let oncall: RecipientGroup = validate_group(
        "oncall",
        vec![
            member(
                "robot",
                Channel::Webhook {
                    url: "https://oapi.dingtalk.com/robot/send?access_token=SECRET".into(),
                    secret: None,
                    style: WebhookStyle::DingTalk,
                },
            ),
            member(
                "pager",
                Channel::Sms {
                    gateway: "https://sms.example.net/send".into(),
                    to: "+8613800000000".into(),
                    secret: None,
                },
            ),
        ],
    )
    .unwrap();
    update(
        &mut s,
        Action::AlarmsLoaded {
            policies: vec![],
            groups: vec![oncall],
            deliveries: vec![],
        },
        now(),
    );
    let mut ui = Ui::new(s, Theme::plain());
    let frame = render(&mut ui, 110, 12);
    assert!(!frame.contains("SECRET"), "{frame}");
    insta::assert_snapshot!(frame);
    update(&mut ui.state, Action::Back, now());
    assert!(matches!(ui.state.overlay, Overlay::None));
}

#[test]
fn alarm_form_builds_a_policy_and_names_a_bad_number() {
    use certdeck::domain::rules::alarm::{Channel, Frequency, Objects};
    let mut s = state();
    update(
        &mut s,
        Action::SelectTab(certdeck::app::state::Tab::Alarms),
        now(),
    );
    update(&mut s, Action::OpenAlarmForm, now());
    update(&mut s, Action::SetAlarmFormText("soon".into()), now());
    update(&mut s, Action::AlarmFormMove(1), now());
    update(&mut s, Action::SetAlarmFormText("fourteen".into()), now());
    assert!(update(&mut s, Action::ConfirmAlarmForm, now()).is_empty());
    assert!(s
        .status
        .as_ref()
        .unwrap()
        .text
        .contains("threshold: \"fourteen\" is not a number"));
    update(&mut s, Action::SetAlarmFormText("14".into()), now());
    update(&mut s, Action::AlarmFormMove(2), now());
    update(&mut s, Action::SetAlarmFormText("3".into()), now());
    update(&mut s, Action::AlarmFormMove(1), now());
    update(&mut s, Action::SetAlarmFormText("env=prod".into()), now());
    update(&mut s, Action::AlarmFormMove(1), now());
    update(
        &mut s,
        Action::SetAlarmFormText("https://hooks.example.com/x".into()),
        now(),
    );
    let mut ui = Ui::new(s, Theme::plain());
    insta::assert_snapshot!(render(&mut ui, 110, 34));
    let effects = update(&mut ui.state, Action::ConfirmAlarmForm, now());
    let [certdeck::app::Effect::AddAlarm(input)] = effects.as_slice() else {
        panic!("Enter saves: {effects:?}")
    };
    assert_eq!(input.name, "soon");
    assert_eq!(input.threshold_days, Some(14));
    assert_eq!(input.frequency, Frequency::EveryPeriods(3));
    assert_eq!(input.objects, Objects::Tag("env".into(), "prod".into()));
    assert!(
        matches!(&input.recipients[0].channel, Channel::Webhook { url, .. } if url == "https://hooks.example.com/x")
    );
}

#[test]
fn alarm_policies_are_selected_edited_and_switched_off_from_the_tab() {
    use certdeck::domain::delivery::{Delivery, DeliveryState};
    use certdeck::domain::rules::alarm::{
        validate_policy, AlarmInput, Channel, Frequency, Objects,
    };
    let mut s = state();
    let policy = validate_policy(
        &AlarmInput {
            name: "soon".into(),
            remarks: String::new(),
            project: None,
            objects: Objects::All,
            threshold_days: Some(14),
            period_secs: None,
            frequency: Frequency::EveryPeriods(2),
            recipients: vec![],
            groups: vec!["oncall".into()],
        },
        "pol00001".into(),
        now(),
    )
    .unwrap();
    update(
        &mut s,
        Action::AlarmsLoaded {
            policies: vec![policy],
            groups: vec![certdeck::domain::rules::alarm::RecipientGroup {
                name: "oncall".into(),
                members: vec![],
            }],
            deliveries: vec![Delivery {
                id: 7,
                policy_id: "pol00001".into(),
                recipient: "pager (oncall)".into(),
                channel: Channel::Sms {
                    gateway: "https://127.0.0.1/sms".into(),
                    to: "+8613800000000".into(),
                    secret: None,
                },
                event: "{}".into(),
                idempotency_key: "k".into(),
                attempts: 2,
                next_attempt_at: now(),
                state: DeliveryState::Pending,
                last_error: Some("https://127.0.0.1/sms answered HTTP 503".into()),
                created_at: now(),
                delivered_at: None,
            }],
        },
        now(),
    );
    update(
        &mut s,
        Action::SelectTab(certdeck::app::state::Tab::Alarms),
        now(),
    );
    let mut ui = Ui::new(s, Theme::plain());
    insta::assert_snapshot!(render(&mut ui, 130, 14));
    let mut s = ui.state;
    // R retries the dead ones only.
    let mut dead = s.deliveries[0].clone();
    dead.id = 8;
    dead.state = DeliveryState::Dead;
    s.deliveries.push(dead);
    let effects = update(&mut s, Action::RetryDeadDeliveries, now());
    assert!(
        matches!(
            effects.as_slice(),
            [certdeck::app::Effect::RetryDelivery(8)]
        ),
        "{effects:?}"
    );
    // On messages, e and x explain how to reach the policies.
    assert!(update(&mut s, Action::TogglePolicy, now()).is_empty());
    update(&mut s, Action::ToggleAlarmFocus, now());
    let effects = update(&mut s, Action::TogglePolicy, now());
    assert!(
        matches!(effects.as_slice(), [certdeck::app::Effect::EnableAlarm(id, false)] if id == "pol00001")
    );
    update(&mut s, Action::EditPolicy, now());
    let certdeck::app::state::Overlay::AlarmForm(form) = &s.overlay else {
        panic!("e opens the form")
    };
    assert_eq!(form.fields[1], "14");
    assert_eq!(form.fields[3], "2");
    assert_eq!(form.fields[7], "oncall", "the groups it names");
    update(&mut s, Action::AlarmFormMove(1), now());
    update(&mut s, Action::SetAlarmFormText("7".into()), now());
    let effects = update(&mut s, Action::ConfirmAlarmForm, now());
    assert!(matches!(
        effects.as_slice(),
        [certdeck::app::Effect::UpdateAlarm(id, input)] if id == "pol00001" && input.threshold_days == Some(7) && input.groups == ["oncall"]
    ));
}

#[test]
fn rule_ds1_scan_key_shows_a_gauge_until_the_scan_reports() {
    use certdeck::domain::discovery::{ScanPhase, ScanProgress, ScanReport};
    let mut s = state();
    let mut ui = Ui::new(s.clone(), Theme::plain());
    // `S` asks the engine for a scan of the default roots.
    let effects = update(&mut s, Action::Scan(Vec::new()), now());
    assert_eq!(effects.len(), 1, "{effects:?}");
    // A second `S` meanwhile starts nothing.
    assert!(update(&mut s, Action::Scan(Vec::new()), now()).is_empty());
    update(
        &mut s,
        Action::ScanProgress(ScanProgress {
            phase: ScanPhase::Reading,
            done: 2048,
            total: 10_000,
        }),
        now(),
    );
    ui.state = s.clone();
    let frame = render(&mut ui, 80, 24);
    insta::assert_snapshot!(frame);
    assert!(
        frame.contains("20% scan: reading 2048 of 10000 files"),
        "{frame}"
    );
    update(
        &mut s,
        Action::Scanned(Box::new(ScanReport {
            files: 10_022,
            certificates: 10_000,
            new: 10_000,
            errors: (0..22)
                .map(|i| certdeck::domain::discovery::ScanError {
                    path: format!("/etc/ssl/private/{i}.pem"),
                    reason: certdeck::domain::discovery::Reason::PermissionDenied,
                })
                .collect(),
            ..Default::default()
        })),
        now(),
    );
    ui.state = s;
    let frame = render(&mut ui, 80, 24);
    assert!(!frame.contains("scan: reading"), "{frame}");
    // What changed, the skipped files included, fits 80 columns; the totals may be cut.
    assert!(
        frame.contains("scan: 10000 new, 0 file(s) changed, 0 gone, 22 skipped"),
        "{frame}"
    );
    let wide = render(&mut ui, 160, 45);
    assert!(
        wide.contains("(10000 certificate(s) in 10022 file(s)); why skipped: certdeck scan --json"),
        "{wide}"
    );
}

#[test]
fn rule_h6_hosting_form_chooses_a_group_and_switches_messages_at_80x24() {
    let mut s = state();
    update(
        &mut s,
        Action::OpenHostingForm(Some("id000001".into())),
        now(),
    );
    update(&mut s, Action::SetHostingFormText("21".into()), now());
    // Days → certificate → group: typing goes to the group.
    update(&mut s, Action::NextHostingField, now());
    update(&mut s, Action::NextHostingField, now());
    update(&mut s, Action::SetHostingFormText("oncall".into()), now());
    // → H-3 switch → messages switch: Space flips the focused one only.
    update(&mut s, Action::NextHostingField, now());
    update(&mut s, Action::NextHostingField, now());
    update(&mut s, Action::ToggleHostingSwitch, now());
    let mut ui = Ui::new(s.clone(), Theme::plain());
    let frame = render(&mut ui, 80, 24);
    assert!(
        frame.contains("oncall") && frame.contains("▶ [ ] hosting messages"),
        "{frame}"
    );
    insta::assert_snapshot!(frame);
    let effects = update(&mut s, Action::ConfirmHostingForm, now());
    let [certdeck::app::Effect::AddHosting(req)] = effects.as_slice() else {
        panic!("Enter schedules it: {effects:?}")
    };
    assert_eq!(
        (
            req.days_before,
            req.group.as_deref(),
            req.notify,
            req.confirm_partial
        ),
        (21, Some("oncall"), false, false)
    );
}

#[test]
fn at_80_columns_the_list_keeps_name_status_and_days_left_and_help_stays_in_reach() {
    let mut ui = Ui::new(state(), Theme::plain());
    let frame = render(&mut ui, 80, 24);
    let header = frame.lines().nth(2).unwrap();
    assert!(
        header.contains("NAME") && header.contains("STATUS") && header.contains("DAYS LEFT"),
        "{header}"
    );
    assert!(
        !header.contains("ISSUER") && !header.contains("ID "),
        "{header}"
    );
    let status = frame.lines().nth(22).unwrap();
    assert!(status.contains("? help"), "{status}");
    assert!(
        frame.lines().nth(23).unwrap().contains("? help · q quit"),
        "{frame}"
    );
    insta::assert_snapshot!(frame);
}

#[test]
fn the_detail_pane_stops_scrolling_at_its_end() {
    let mut s = state();
    update(
        &mut s,
        Action::DetailLoaded(Box::new(certdeck::app::state::Detail {
            cert: certificate(),
            order: None,
            acme: None,
            watched: None,
            intermediate: None,
            timeline: Vec::new(),
            resources: Vec::new(),
            scroll: 0,
        })),
        now(),
    );
    update(&mut s, Action::ScrollDetail(1000), now());
    let mut ui = Ui::new(s, Theme::plain());
    let frame = render(&mut ui, 80, 24);
    let Overlay::Detail(d) = &ui.state.overlay else {
        panic!("the pane is open")
    };
    let end = d.scroll;
    assert!(end > 0 && end < 1000, "clamped to the end: {end}");
    assert!(frame.contains("Timeline"), "the last lines show: {frame}");
    // One step back moves at once.
    update(&mut ui.state, Action::ScrollDetail(-1), now());
    render(&mut ui, 80, 24);
    let Overlay::Detail(d) = &ui.state.overlay else {
        panic!("still open")
    };
    assert_eq!(d.scroll, end - 1);
}

#[test]
fn help_at_80x24_is_one_column_with_the_view_in_use_first_and_scrolls_to_its_end() {
    let mut s = state();
    update(
        &mut s,
        Action::SelectTab(certdeck::app::state::Tab::Hosting),
        now(),
    );
    update(&mut s, Action::ToggleHelp, now());
    let mut ui = Ui::new(s, Theme::plain());
    let frame = render(&mut ui, 80, 24);
    let body: Vec<&str> = frame.lines().skip(2).take(4).collect();
    assert!(
        body.iter().any(|l| l.contains("│Hosting ")),
        "the Hosting tab's keys come first: {frame}"
    );
    insta::assert_snapshot!(frame);
    // PgDn past the end stops at the end; one step back moves at once.
    update(&mut ui.state, Action::ScrollHelp(10_000), now());
    let end_frame = render(&mut ui, 80, 24);
    assert!(end_frame.contains(":q"), "the last lines show: {end_frame}");
    let end = ui.state.help_scroll;
    update(&mut ui.state, Action::ScrollHelp(-1), now());
    render(&mut ui, 80, 24);
    assert_eq!(ui.state.help_scroll, end - 1);
}

#[test]
fn the_deploy_dialog_has_its_own_deploy_although_expired_switch() {
    let mut s = state();
    let resource = nginx_resource("res00001", "web");
    update(
        &mut s,
        Action::ResourcesLoaded(vec![certdeck::app::state::ResourceRow {
            resource,
            holder: None,
        }]),
        now(),
    );
    update(
        &mut s,
        Action::OpenDeployPick(Some("id000002".into())),
        now(),
    );
    update(&mut s, Action::ToggleDeployExpired, now());
    let mut ui = Ui::new(s, Theme::plain());
    let frame = render(&mut ui, 80, 24);
    assert!(frame.contains("[x] deploy although expired"), "{frame}");
    let effects = update(&mut ui.state, Action::ConfirmDeployPick, now());
    assert!(
        matches!(
            effects.as_slice(),
            [certdeck::app::Effect::Deploy {
                allow_expired: true,
                ..
            }]
        ),
        "{effects:?}"
    );
}

#[test]
fn more_menu_letters_work_on_the_list_with_the_menu_checks() {
    let mut s = state();
    // `x` on the list asks for the More entries of the selected certificate…
    let effects = update(&mut s, Action::QuickMenu('i'), now());
    assert!(
        matches!(effects.as_slice(), [certdeck::app::Effect::LoadMore(_)]),
        "{effects:?}"
    );
    // …and runs the entry once they are in: here refused with its reason, shown in the menu.
    update(&mut s, more_of_issued_ov(), now());
    let Overlay::More(menu) = &s.overlay else {
        panic!("the menu shows the reason")
    };
    assert_eq!(menu.entries[menu.selected].key, 'i');
    assert!(
        s.status.as_ref().unwrap().text.contains("(IG-1)"),
        "{:?}",
        s.status
    );
    assert!(s.pending_menu_key.is_none());
    // An available one runs at once: export opens its dialog.
    update(&mut s, Action::Back, now());
    update(&mut s, Action::QuickMenu('e'), now());
    update(&mut s, more_of_issued_ov(), now());
    assert!(matches!(s.overlay, Overlay::Export(_)), "{:?}", s.overlay);
}

/// At 80×24 the dialog shows its focused field (`wanted`) and its keys, whatever it holds.
fn focused_in_view_at_80x24(ui: &mut Ui, wanted: &str, keys: &str) -> String {
    let frame = render(ui, 80, 24);
    assert!(
        frame.contains(wanted) && frame.contains(keys),
        "{wanted} and {keys} in view:\n{frame}"
    );
    frame
}

#[test]
fn every_form_keeps_its_last_field_in_view_at_80x24() {
    // Alarm policy: the last field, recipient groups.
    let mut s = state();
    update(
        &mut s,
        Action::SelectTab(certdeck::app::state::Tab::Alarms),
        now(),
    );
    update(&mut s, Action::OpenAlarmForm, now());
    update(&mut s, Action::AlarmFormMove(7), now());
    let mut ui = Ui::new(s, Theme::plain());
    let frame = focused_in_view_at_80x24(&mut ui, "▶ Recipient groups", "Esc cancel");
    insta::assert_snapshot!("alarm_form_last_field_at_80x24", frame);

    // Resource: the last field, the SNI name.
    let mut s = state();
    update(&mut s, Action::OpenResourceForm, now());
    update(&mut s, Action::ResourceFormMove(6), now());
    let mut ui = Ui::new(s, Theme::plain());
    let frame = focused_in_view_at_80x24(&mut ui, "▶ SNI name", "Esc cancel");
    insta::assert_snapshot!("resource_form_last_field_at_80x24", frame);

    // Reissue: a pasted CSR's field, below the choices.
    let mut s = state();
    update(&mut s, Action::OpenReissue(Some("id000006".into())), now());
    update(&mut s, Action::MoveReissueChoice(20), now());
    let mut ui = Ui::new(s, Theme::plain());
    let frame = focused_in_view_at_80x24(&mut ui, "(nothing pasted yet)", "Enter order");
    insta::assert_snapshot!("reissue_form_csr_field_at_80x24", frame);

    // Export: the PKCS#12 password, its last field.
    let mut s = state();
    update(&mut s, Action::OpenExport(Some("id000001".into())), now());
    update(&mut s, Action::MoveExportFormat(-1), now());
    update(&mut s, Action::ToggleExportField, now());
    let mut ui = Ui::new(s, Theme::plain());
    let frame = focused_in_view_at_80x24(&mut ui, "Password (Tab)", "Enter write");
    insta::assert_snapshot!("export_dialog_password_at_80x24", frame);
}

#[test]
fn rule_ds4_the_certificates_tab_marks_a_gone_certificate_beside_its_status_at_80x24() {
    use certdeck::domain::discovery::WatchMark;
    let mut s = state();
    let now = now();
    let shown = s
        .visible
        .iter()
        .map(|&i| s.rows[i].summary.clone())
        .find(|r| r.status_at(now).label() == "issued")
        .expect("an issued row on the first screen");
    update(
        &mut s,
        Action::MarksLoaded([(shown.id.clone(), WatchMark::Gone)].into()),
        now,
    );
    let mut ui = Ui::new(s, Theme::plain());
    let frame = render(&mut ui, 80, 24);
    let name: String = shown.name.chars().take(20).collect();
    let line = frame
        .lines()
        .find(|l| l.contains(&name))
        .unwrap_or_else(|| panic!("{name} shown: {frame}"));
    assert!(line.contains("issued · gone"), "{frame}");
    assert_eq!(frame.matches("· gone").count(), 1, "{frame}");
}
