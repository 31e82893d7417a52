//! The `:` command line: text in, actions out.
use crate::app::action::Action;
use crate::app::state::{SortKey, Tab};

pub const COMMANDS: &[(&str, &str)] = &[
    (
        "upload [CERT [KEY]]",
        "open the upload form, filled from files if given",
    ),
    ("delete", "delete the selected certificate"),
    ("sort KEY", "sort by days, name, status, issuer or brand"),
    ("filter TEXT", "filter the list"),
    ("tab 1-4", "switch tab"),
    ("refresh", "reload from the store"),
    (
        "letter FILE",
        "attach a confirmation letter (JPG/PNG/PDF) to the selected order",
    ),
    ("order", "open the order form (as the a key)"),
    (
        "forecast [DAYS]",
        "every timed rule due in the next DAYS (90), in time order",
    ),
    ("topup AMOUNT", "add money to the account (e.g. :topup 500)"),
    (
        "advance 1d|12h|2w",
        "move the demo clock forward and run what falls due",
    ),
    (
        "scan [PATH...]",
        "find the certificates in PATH…; without one, on this machine: the default roots (/etc/ssl, /etc/letsencrypt, …) and every root scanned before",
    ),
    ("help", "show the keys"),
    ("quit", "leave certdeck"),
];

pub fn parse(line: &str) -> Result<Action, String> {
    let line = line.trim();
    let (word, rest) = line
        .split_once(' ')
        .map(|(w, r)| (w, r.trim()))
        .unwrap_or((line, ""));
    Ok(match word {
        "q" | "quit" | "q!" => Action::Quit,
        "upload" | "import" | "u" if rest.is_empty() => Action::OpenUpload,
        "upload" | "import" | "u" => {
            let mut paths = rest.split_whitespace().map(std::path::PathBuf::from);
            let cert = paths.next().expect("rest is not empty");
            let key = paths.next();
            if paths.next().is_some() {
                return Err("usage: :upload CERT_FILE [KEY_FILE]".into());
            }
            Action::UploadFromFiles { cert, key }
        }
        "delete" | "del" => Action::Delete {
            id: (!rest.is_empty()).then(|| rest.to_string()),
            confirmed: false,
        },
        "help" | "h" => Action::ToggleHelp,
        "refresh" => Action::Refresh(None),
        "messages" | "msgs" => Action::ShowStatusHistory,
        "letter" if !rest.is_empty() => Action::AttachLetter {
            id: None,
            path: std::path::PathBuf::from(rest),
        },
        "order" | "apply" => Action::OpenApply,
        "scan" => Action::Scan(
            rest.split_whitespace()
                .map(std::path::PathBuf::from)
                .collect(),
        ),
        "forecast" => Action::Forecast(if rest.is_empty() {
            90
        } else {
            rest.parse()
                .ok()
                .filter(|d| (1..=3650).contains(d))
                .ok_or_else(|| format!("\"{rest}\": days from 1 to 3650"))?
        }),
        "topup" => Action::TopUp(crate::domain::account::Money::parse(rest)?),
        "advance" => Action::Advance(crate::domain::time::parse_step(if rest.is_empty() {
            "1d"
        } else {
            rest
        })?),
        "filter" => Action::SetFilter(rest.to_string()),
        "sort" => Action::SortBy(match rest {
            "days" | "" => SortKey::DaysLeft,
            "name" => SortKey::Name,
            "status" => SortKey::Status,
            "issuer" => SortKey::Issuer,
            "brand" => SortKey::Brand,
            other => {
                return Err(format!(
                    "unknown sort key \"{other}\" (days, name, status, issuer, brand)"
                ))
            }
        }),
        "tab" => Action::SelectTab(match rest {
            "1" | "certificates" => Tab::Certificates,
            "2" | "validation" => Tab::Validation,
            "3" | "hosting" => Tab::Hosting,
            "4" | "alarms" => Tab::Alarms,
            other => return Err(format!("unknown tab \"{other}\" (1-4)")),
        }),
        "" => return Err("empty command".into()),
        other => return Err(format!("unknown command \"{other}\"; try :help")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_commands_and_names_unknown_ones() {
        assert!(matches!(parse("q"), Ok(Action::Quit)));
        assert!(matches!(
            parse("sort name"),
            Ok(Action::SortBy(SortKey::Name))
        ));
        assert!(matches!(parse("filter shop"), Ok(Action::SetFilter(f)) if f == "shop"));
        assert!(parse("sort colour").unwrap_err().contains("colour"));
        assert!(parse("frobnicate").unwrap_err().contains("frobnicate"));
    }
}
