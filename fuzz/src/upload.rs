//! AFL++ target: the whole upload rule (PEM scanner, DER, keys, encrypted keys, chain) on the
//! bytes AFL gives. The first byte picks where they go: the certificate field, the key field
//! (beside a real certificate), or both. A panic is a crash; so is a refusal that quotes the
//! fuzzer's own base64 (a message must never echo key material).
use certdeck::domain::rules::upload::{validate_upload, UploadInput};
use chrono::TimeZone;

const CERT: &str = include_str!("../seeds/upload/cert.pem");

fn main() {
    let now = chrono::Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap();
    afl::fuzz!(|data: &[u8]| {
        let Some((&which, rest)) = data.split_first() else {
            return;
        };
        let input = match which % 3 {
            0 => UploadInput {
                cert: rest.to_vec(),
                ..Default::default()
            },
            1 => UploadInput {
                cert: CERT.as_bytes().to_vec(),
                key: Some(rest.to_vec()),
                key_password: Some(b"pw".to_vec()),
                ..Default::default()
            },
            _ => {
                let half = rest.len() / 2;
                UploadInput {
                    cert: rest[..half].to_vec(),
                    key: Some(rest[half..].to_vec()),
                    ..Default::default()
                }
            }
        };
        if let Err(r) = validate_upload(&input, now, &[]) {
            let message = r.to_string();
            // Any 24-character base64 run of the input that shows up in the message is a leak.
            let text = String::from_utf8_lossy(rest);
            for run in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '+' || c == '/')) {
                if run.len() >= 24 && message.contains(&run[..24]) {
                    panic!("the refusal quotes the input's base64: {message}");
                }
            }
        }
    });
}
