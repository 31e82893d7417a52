//! `certdeck account` and `account topup`: the balance moves only through the ledger.
mod common;
use common::Env;

#[test]
fn topups_post_to_the_ledger_and_bad_amounts_are_usage_errors() {
    let env = Env::new();
    let (code, v) = env.json(&["account"]);
    assert_eq!((code, v["balance"].as_str()), (0, Some("0.00")));
    assert_eq!(v["currency"], "CNY");
    let (code, v) = env.json(&["account", "topup", "250.5"]);
    assert_eq!((code, v["balance"].as_str()), (0, Some("250.50")), "{v}");
    assert_eq!(v["ledger"][0]["kind"], "top_up");
    assert_eq!(v["ledger"][0]["amount"], "250.50");
    for bad in ["0", "1.234", "abc"] {
        let out = env.run(&["account", "topup", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
    }
    let (_, v) = env.json(&["account"]);
    assert_eq!(v["balance"], "250.50", "refused top-ups changed nothing");
    assert_eq!(v["ledger"].as_array().unwrap().len(), 1);
}
