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
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{} line {}: ", self.field.as_str(), line)?,
            None => write!(f, "{}: ", self.field.as_str())?,
        }
        write!(f, "{} ({})", self.message, self.rule)
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
