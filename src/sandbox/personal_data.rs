//! The personal data the sandbox's records hold, as real support data
//! does: e-mail addresses, phone numbers, card numbers, IBANs and IP
//! addresses in message text, notes and fields, next to look-alikes that
//! are not personal data (order numbers, UUIDs, versions, timestamps, card
//! numbers and IBANs whose check digits fail). The demo data (`seed`,
//! `seed_heavy`) writes them into realistic text; the hostile data
//! (`hostile_text`) carries them as pieces of its adversarial text, some
//! split by hidden characters or escape sequences that the egress removes.
//!
//! Every value comes from a range kept for examples and tests where one
//! exists: `example.com` and its kin, 192.0.2.0/24, 198.51.100.0/24,
//! 203.0.113.0/24 and 2001:db8::/32, the 555-01xx and Ofcom drama phone
//! ranges, the card networks' test numbers and the IBAN registry's
//! examples. `PERSONAL_SAMPLES` says what a test may expect of them.

/// What the sandbox's personal data holds, for tests that look for it.
#[derive(Debug, Clone, Copy)]
pub struct PersonalSamples {
    /// Values that are personal data, as written in the records.
    pub personal: &'static [&'static str],
    /// Look-alikes that are not personal data and that a detector must
    /// leave whole: they appear in the demo and the hostile data.
    pub near_misses: &'static [&'static str],
}

/// The samples (see the module docs).
pub const PERSONAL_SAMPLES: PersonalSamples = PersonalSamples {
    personal: &PERSONAL,
    near_misses: &NEAR_MISSES,
};

const PERSONAL: [&str; 24] = [
    // E-mail addresses: mixed case with plus-addressing and a subdomain,
    // in angle brackets, behind mailto:, on a country-code domain.
    "ALICE.Nguyen+Support@Mail.Example.COM",
    "<bob.ohara@eu.example.co.uk>",
    "mailto:carol.dubois@example.org",
    "ana.costa+cstar@mail.example.net",
    // Phone numbers, international and national.
    "+44 20 7946 0958",
    "+1 (415) 555-0132",
    "0049 30 1234567",
    "(415) 555-0199",
    "020 7946 0018",
    "+33 1 99 00 12 34",
    // Card numbers that pass the Luhn check: spaced, dashed, unbroken,
    // dotted, and broken across two lines.
    "4111 1111 1111 1111",
    "5500-0000-0000-0004",
    "378282246310005",
    "4242.4242.4242.4242",
    "5555 5555\n5555 4444",
    // IBANs whose checksum holds: grouped, compact, and hyphenated.
    "GB82 WEST 1234 5698 7654 32",
    "DE89370400440532013000",
    "NL91-ABNA-0417-1643-00",
    // IPv4 and IPv6 addresses, with a port and IPv4-mapped.
    "192.0.2.44",
    "203.0.113.10",
    "[2001:db8::8a2e:370:7334]:443",
    "2001:db8:85a3::8a2e:370:7334",
    "::ffff:198.51.100.7",
    "198.51.100.23",
];

const NEAR_MISSES: [&str; 10] = [
    // Fail the Luhn check or the IBAN checksum by one digit.
    "4111 1111 1111 1112",
    "4000 1234 5678 9010",
    "GB83 WEST 1234 5698 7654 32",
    // Order, invoice and VAT numbers, a long integration id.
    "ORD-2026-004417",
    "order #100234567",
    "GB123456789",
    "1234567890123456",
    // A UUID, versions, a timestamp.
    "7f9c2e1a-3b4d-4e5f-8a6b-1c2d3e4f5a6b",
    "v2.10.3 (build 4.18.2)",
    "2026-02-27T10:41:09Z",
];

/// The hostile data's forms of personal data: every sample and near miss,
/// then forms split by hidden characters and escape sequences, which are
/// personal data again once the egress has removed what hides them, then
/// the samples added last (dotted, broken and hyphenated forms).
pub const HOSTILE_PERSONAL: [&str; 41] = [
    PERSONAL[0],
    PERSONAL[1],
    PERSONAL[2],
    PERSONAL[3],
    PERSONAL[4],
    PERSONAL[5],
    PERSONAL[6],
    PERSONAL[7],
    PERSONAL[8],
    PERSONAL[9],
    PERSONAL[10],
    PERSONAL[11],
    PERSONAL[12],
    PERSONAL[13],
    PERSONAL[14],
    PERSONAL[15],
    PERSONAL[16],
    PERSONAL[17],
    PERSONAL[18],
    PERSONAL[19],
    PERSONAL[20],
    NEAR_MISSES[0],
    NEAR_MISSES[1],
    NEAR_MISSES[2],
    NEAR_MISSES[3],
    NEAR_MISSES[4],
    NEAR_MISSES[5],
    NEAR_MISSES[6],
    NEAR_MISSES[7],
    NEAR_MISSES[8],
    NEAR_MISSES[9],
    "dana\u{200B}.kim@exam\u{200D}ple.com",
    "+44\u{2060} 20 7946\u{00AD} 0959",
    "4111\u{1B}[0m 1111 \u{200B}1111 1111",
    "GB82\u{FEFF} WEST 1234 5698 7654 32",
    "192.0.\u{200B}2.45",
    "2001:db8::\u{202E}17",
    "call me: +1 (415) 555-0177, mail: Fatima.Haddad@Example.com",
    PERSONAL[21],
    PERSONAL[22],
    PERSONAL[23],
];

/// A customer's phone number, in one of five formats by `index`; distinct
/// for every index below 100.
pub fn customer_phone(index: usize) -> String {
    match index % 5 {
        0 => format!("+44 20 7946 0{index:03}"),
        1 => format!("+1 (415) 555-01{:02}", index % 100),
        2 => format!("0049 30 12345{:02}", index % 100),
        3 => format!("(415) 555-01{:02}", index % 100),
        _ => format!("020 7946 0{index:03}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn luhn(digits: &str) -> bool {
        let digits: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
        let sum: u32 = digits
            .iter()
            .rev()
            .enumerate()
            .map(|(at, digit)| match (at % 2, digit * 2) {
                (1, doubled) if doubled > 9 => doubled - 9,
                (1, doubled) => doubled,
                _ => *digit,
            })
            .sum();
        sum.is_multiple_of(10)
    }

    #[test]
    fn the_card_samples_pass_luhn_and_the_near_misses_fail_it() {
        for card in [
            "4111 1111 1111 1111",
            "5500-0000-0000-0004",
            "378282246310005",
            "4242.4242.4242.4242",
            "5555 5555\n5555 4444",
        ] {
            assert!(PERSONAL.contains(&card) && luhn(card), "{card}");
        }
        for near in [
            "4111 1111 1111 1112",
            "4000 1234 5678 9010",
            "1234567890123456",
        ] {
            assert!(NEAR_MISSES.contains(&near) && !luhn(near), "{near}");
        }
    }

    #[test]
    fn customer_phones_are_distinct() {
        let phones: std::collections::HashSet<String> = (0..100).map(customer_phone).collect();
        assert_eq!(phones.len(), 100);
    }
}
