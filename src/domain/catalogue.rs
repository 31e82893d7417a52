//! The product catalogue of the sandbox CA (issue #3): what can be ordered, at what price, how
//! long review takes (RM-3, per brand and type), and which products auto-renew (AR-1).
use crate::domain::account::Money;
use crate::domain::model::{CertType, DomainKind, Standard};
use crate::domain::time::Timestamp;
use chrono::{Datelike, Duration, Weekday};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Product {
    pub code: &'static str,
    pub brand: &'static str,
    pub cert_type: CertType,
    pub domain_kind: DomainKind,
    pub standard: Standard,
    /// Price for one year.
    pub price: Money,
    /// Review time in business days (RM-3: DV 1, OV 3–5, EV 5–7).
    pub review_days: u32,
}

const fn p(
    code: &'static str,
    brand: &'static str,
    cert_type: CertType,
    domain_kind: DomainKind,
    yuan: i64,
    review_days: u32,
) -> Product {
    Product {
        code,
        brand,
        cert_type,
        domain_kind,
        standard: Standard::International,
        price: Money(yuan * 100),
        review_days,
    }
}

/// An SM2 (GM/T) product: issued by an SM2 hierarchy, revoked by RV-6 (a)/(b).
const fn sm2(code: &'static str, cert_type: CertType, yuan: i64, review_days: u32) -> Product {
    Product {
        standard: Standard::Sm2,
        ..p(
            code,
            "DNSPod",
            cert_type,
            DomainKind::Single,
            yuan,
            review_days,
        )
    }
}

use CertType::*;
use DomainKind::*;

pub static CATALOGUE: &[Product] = &[
    p("dnspod-dv", "DNSPod", Dv, Single, 199, 1),
    p("dnspod-dv-wildcard", "DNSPod", Dv, Wildcard, 1_299, 1),
    p("trustasia-dv", "TrustAsia", Dv, Single, 299, 1),
    p("trustasia-dv-wildcard", "TrustAsia", Dv, Wildcard, 1_599, 1),
    p("wotrus-dv-wildcard", "WoTrus", Dv, Wildcard, 1_199, 1),
    p("securesite-free-dv", "SecureSite", FreeDv, Single, 0, 1),
    p("securesite-ov", "SecureSite", Ov, Single, 4_999, 5),
    p("securesite-ov-pro", "SecureSite", OvPro, Single, 8_999, 5),
    p("securesite-ev", "SecureSite", Ev, Single, 9_999, 7),
    p("securesite-ev-pro", "SecureSite", EvPro, Single, 15_999, 7),
    p("geotrust-ov", "GeoTrust", Ov, Single, 3_999, 3),
    p("geotrust-ev", "GeoTrust", Ev, Single, 7_999, 5),
    p("globalsign-ov", "GlobalSign", Ov, Single, 4_599, 4),
    p("globalsign-ev", "GlobalSign", Ev, Single, 8_599, 6),
    p("trustasia-ov", "TrustAsia", Ov, Single, 2_999, 3),
    p("trustasia-ev", "TrustAsia", Ev, Single, 5_999, 5),
    sm2("dnspod-sm2-dv", Dv, 399, 1),
    sm2("dnspod-sm2-ov", Ov, 3_999, 3),
    sm2("dnspod-sm2-ev", Ev, 6_999, 5),
];

pub fn product(code: &str) -> Option<&'static Product> {
    CATALOGUE.iter().find(|p| p.code == code)
}

/// Prices set in the store's price table (`certdeck products --set-price`), by product code.
pub type PriceTable = std::collections::BTreeMap<String, Money>;

/// A product's one-year price: the price table's, else the catalogue's.
pub fn price_of(p: &Product, prices: &PriceTable) -> Money {
    prices.get(p.code).copied().unwrap_or(p.price)
}

/// The catalogue product of a brand, type and domain kind, if there is one.
pub fn find(brand: &str, cert_type: CertType, domain_kind: DomainKind) -> Option<&'static Product> {
    CATALOGUE
        .iter()
        .find(|p| p.brand == brand && p.cert_type == cert_type && p.domain_kind == domain_kind)
}

impl Product {
    /// OV and EV orders wait for a confirmation letter before review (AR-7, RV-6).
    pub fn needs_letter(&self) -> bool {
        matches!(self.cert_type, Ov | OvPro | Ev | EvPro)
    }

    /// AR-1: paid 1-year DNSPod DV (single or wildcard), TrustAsia DV wildcard, WoTrus DV wildcard.
    pub fn auto_renewable(&self) -> bool {
        // DNSPod's SM2 line is a product of its own, not "DNSPod DV".
        self.standard == Standard::International
            && matches!(
                (self.brand, self.cert_type, self.domain_kind),
                ("DNSPod", Dv, Single | Wildcard)
                    | ("TrustAsia", Dv, Wildcard)
                    | ("WoTrus", Dv, Wildcard)
            )
    }
}

/// `start` moved forward by `days` business days (Mon–Fri). Time of day is kept; a start on a
/// weekend counts from the following Monday.
pub fn add_business_days(start: Timestamp, days: u32) -> Timestamp {
    let mut t = start;
    while matches!(t.weekday(), Weekday::Sat | Weekday::Sun) {
        t += Duration::days(1);
    }
    let mut left = days;
    while left > 0 {
        t += Duration::days(1);
        if !matches!(t.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn codes_are_unique_and_review_times_follow_rm3() {
        let mut codes: Vec<&str> = CATALOGUE.iter().map(|p| p.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), CATALOGUE.len());
        for p in CATALOGUE {
            let range = match p.cert_type {
                Dv | FreeDv => 1..=1,
                Ov | OvPro => 3..=5,
                Ev | EvPro => 5..=7,
            };
            assert!(range.contains(&p.review_days), "{}", p.code);
        }
    }

    #[test]
    fn rule_ar1_eligible_products_exactly() {
        let eligible: Vec<&str> = CATALOGUE
            .iter()
            .filter(|p| p.auto_renewable())
            .map(|p| p.code)
            .collect();
        assert_eq!(
            eligible,
            [
                "dnspod-dv",
                "dnspod-dv-wildcard",
                "trustasia-dv-wildcard",
                "wotrus-dv-wildcard"
            ]
        );
    }

    #[test]
    fn rule_rm3_business_days_skip_weekends() {
        let friday = Utc.with_ymd_and_hms(2026, 11, 27, 15, 0, 0).unwrap();
        assert_eq!(friday.weekday(), Weekday::Fri);
        assert_eq!(
            add_business_days(friday, 1),
            Utc.with_ymd_and_hms(2026, 11, 30, 15, 0, 0).unwrap(),
            "Friday + 1 = Monday"
        );
        assert_eq!(
            add_business_days(friday, 5),
            Utc.with_ymd_and_hms(2026, 12, 4, 15, 0, 0).unwrap()
        );
        let saturday = friday + Duration::days(1);
        assert_eq!(
            add_business_days(saturday, 1),
            Utc.with_ymd_and_hms(2026, 12, 1, 15, 0, 0).unwrap(),
            "counts from Monday"
        );
        let monday = friday + Duration::days(3);
        assert_eq!(add_business_days(monday, 0), monday);
        assert_eq!(
            add_business_days(monday, 7),
            Utc.with_ymd_and_hms(2026, 12, 9, 15, 0, 0).unwrap()
        );
    }
}
