use serde::{Deserialize, Serialize};
use std::fmt;

/// The input field a refusal points at. Serialised names are part of the CLI contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Cert,
    Key,
    EncCert,
    EncKey,
    Name,
    Tag,
    Project,
    Id,
    Domain,
    Product,
    Validation,
    Years,
    Amount,
    Reason,
    Document,
    Path,
    Password,
    Threshold,
    Period,
    Frequency,
    Recipient,
    Group,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Cert => "cert",
            Field::Key => "key",
            Field::EncCert => "enc_cert",
            Field::EncKey => "enc_key",
            Field::Name => "name",
            Field::Tag => "tag",
            Field::Project => "project",
            Field::Id => "id",
            Field::Domain => "domain",
            Field::Product => "product",
            Field::Validation => "validation",
            Field::Years => "years",
            Field::Amount => "amount",
            Field::Reason => "reason",
            Field::Document => "document",
            Field::Path => "path",
            Field::Password => "password",
            Field::Threshold => "threshold",
            Field::Period => "period",
            Field::Frequency => "frequency",
            Field::Recipient => "recipient",
            Field::Group => "group",
        }
    }
}

/// Why the program said no: the rule, the field and (where known) the 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub rule: String,
    pub field: Field,
    pub line: Option<usize>,
    pub message: String,
}

impl Refusal {
    pub fn new(rule: &str, field: Field, message: impl Into<String>) -> Self {
        Refusal {
            rule: rule.to_string(),
            field,
            line: None,
            message: message.into(),
        }
    }

    pub fn at_line(mut self, line: Option<usize>) -> Self {
        self.line = line;
        self
    }

    /// The SPEC rule this refusal quotes (`U-2`, `AR-6`, `RV-6`…), or `None` for a refusal no
    /// rule names (a missing resource, nothing selected): people are shown rules, not tags.
    pub fn spec_rule(&self) -> Option<&str> {
        is_spec_rule(&self.rule).then_some(self.rule.as_str())
    }
}

/// `U-2`, `AR-6`, `RV-6`, `DS-1`: letters, a dash, a number.
pub fn is_spec_rule(rule: &str) -> bool {
    rule.split_once('-').is_some_and(|(letters, number)| {
        (1..=3).contains(&letters.len())
            && letters.chars().all(|c| c.is_ascii_uppercase())
            && !number.is_empty()
            && number.chars().all(|c| c.is_ascii_digit())
    })
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The field names what to fix; "id:" says nothing a person needs (#12).
        match (self.line, self.field) {
            (Some(line), field) => write!(f, "{} line {}: ", field.as_str(), line)?,
            (None, Field::Id) => {}
            (None, field) => write!(f, "{}: ", field.as_str())?,
        }
        write!(f, "{}", self.message)?;
        if let Some(rule) = self.spec_rule() {
            write!(f, " ({rule})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod display_tests {
    use super::*;

    #[test]
    fn people_see_spec_rules_and_fields_not_internal_tags() {
        let r = Refusal::new("D-2", Field::Id, "revoke it first");
        assert_eq!(r.to_string(), "revoke it first (D-2)");
        let r = Refusal::new("RESOURCE", Field::Id, "no resource called web");
        assert_eq!(r.to_string(), "no resource called web");
        let r = Refusal::new("U-7", Field::Cert, "bad base64").at_line(Some(3));
        assert_eq!(r.to_string(), "cert line 3: bad base64 (U-7)");
        assert!(is_spec_rule("AR-6") && is_spec_rule("U-2") && !is_spec_rule("EXPORT"));
    }
}

impl std::error::Error for Refusal {}

/// Something worth telling the user that does not stop the action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub code: String,
    pub message: String,
}

impl Warning {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Warning {
            code: code.to_string(),
            message: message.into(),
        }
    }
}
