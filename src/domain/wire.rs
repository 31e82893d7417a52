//! Serde for the few `&'static` fields of values that cross the service's socket (SV-1): a
//! catalogue product travels as its code, a fixed text as itself and comes back as the same
//! program-lifetime string. Pure.
use serde::{Deserialize, Deserializer, Serializer};
use std::collections::HashSet;
use std::sync::Mutex;

/// At most this many distinct texts are ever kept: these fields hold a handful of fixed words
/// (PEM labels, document kinds), so more means a peer sending garbage.
const MAX_TEXTS: usize = 1024;

/// A fixed text (spelled as an alias so serde's derive does not take it for a borrow of the
/// input, which would need input that lives for ever).
pub type FixedText = &'static str;

static TEXTS: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);

fn intern(s: String) -> Result<&'static str, String> {
    let mut texts = TEXTS.lock().unwrap_or_else(|p| p.into_inner());
    let set = texts.get_or_insert_with(HashSet::new);
    if let Some(known) = set.get(s.as_str()) {
        return Ok(known);
    }
    if set.len() >= MAX_TEXTS {
        return Err("too many distinct fixed texts".into());
    }
    let leaked: &'static str = Box::leak(s.into_boxed_str());
    set.insert(leaked);
    Ok(leaked)
}

/// `#[serde(with = "crate::domain::wire::static_str")]`
pub mod static_str {
    use super::*;

    pub fn serialize<S: Serializer>(v: &&'static str, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
        intern(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// `#[serde(with = "crate::domain::wire::opt_static_str")]`
pub mod opt_static_str {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Option<&'static str>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(t) => s.serialize_some(t),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'static str>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(intern)
            .transpose()
            .map_err(serde::de::Error::custom)
    }
}

/// `#[serde(with = "crate::domain::wire::product")]`: a catalogue product by its code.
pub mod product {
    use super::*;
    use crate::domain::catalogue::Product;

    pub fn serialize<S: Serializer>(v: &&'static Product, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v.code)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<&'static Product, D::Error> {
        let code = String::deserialize(d)?;
        crate::domain::catalogue::product(&code)
            .ok_or_else(|| serde::de::Error::custom(format!("no product {code}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_text_is_kept_once_and_comes_back_as_the_same_string() {
        let a = intern("PRIVATE KEY".to_string()).unwrap();
        let b = intern("PRIVATE KEY".to_string()).unwrap();
        assert!(std::ptr::eq(a, b));
        assert_eq!(a, "PRIVATE KEY");
    }
}
