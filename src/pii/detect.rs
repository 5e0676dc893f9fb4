//! Finding personal data in text: where each email, phone number, card
//! number, IBAN and IP address is, and the canonical form that identifies
//! it. Patterns only propose candidates; each is then validated (Luhn,
//! the IBAN checksum, libphonenumber's metadata, `std::net` parsing), and
//! a candidate that touches letters, digits or `_` on either side is part
//! of something else (an id, a UUID, a version, a timestamp) and stays.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;
use std::sync::LazyLock;

use iban::IbanLike as _;
use phonenumber::country::Id as Region;
use regex::Regex;

/// What kind of personal data a value is; its name is the pseudonym's tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Email,
    Phone,
    Card,
    Iban,
    Ip,
    Customer,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Email,
        Kind::Phone,
        Kind::Card,
        Kind::Iban,
        Kind::Ip,
        Kind::Customer,
    ];

    pub fn tag(self) -> &'static str {
        match self {
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::Card => "card",
            Kind::Iban => "iban",
            Kind::Ip => "ip",
            Kind::Customer => "customer",
        }
    }
}

/// One value found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Where it is, in bytes.
    pub span: Range<usize>,
    pub kind: Kind,
    /// What identifies it whatever its spelling: an email in lower case, a
    /// phone number in E.164, a card's digits, an IBAN without spaces, an
    /// IP address as `std::net` writes it.
    pub canonical: String,
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"[\p{L}\p{N}._%+\-]+(?:@|%40)[\p{L}\p{N}\-]+(?:\.[\p{L}\p{N}\-]+)*\.\p{L}{2,}")
});
/// Grouped by spaces or by hyphens (one or the other), or not at all.
static IBAN: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)[A-Z]{2}[0-9]{2}(?:(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?|(?:-[A-Z0-9]{4}){2,7}(?:-[A-Z0-9]{1,4})?)",
    )
});
static CARD: LazyLock<Regex> = LazyLock::new(|| regex(r"[0-9]+(?:(?:[\-.]|[ \r\n]{1,4})[0-9]+)*"));
static PHONE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?:\+|\(\+?|\b)[0-9][0-9 .\-/()]{5,22}[0-9]"));
static IPV4: LazyLock<Regex> =
    LazyLock::new(|| regex(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}"));
static IPV6: LazyLock<Regex> =
    LazyLock::new(|| regex(r"[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*"));

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|error| unreachable!("{pattern}: {error}"))
}

/// The regions whose national formats (with a trunk 0, or North American
/// ten digits) are recognised without a `+` country code.
const NATIONAL_REGIONS: [Region; 9] = [
    Region::GB,
    Region::DE,
    Region::FR,
    Region::NL,
    Region::BE,
    Region::AT,
    Region::CH,
    Region::IE,
    Region::AU,
];

/// Loads what the detectors use (libphonenumber's metadata takes about
/// 170 ms) on a thread of its own, so that neither start-up nor the first
/// answer waits for it.
pub fn warm_up() {
    let spawned = std::thread::Builder::new()
        .name("pii-warm-up".to_owned())
        .spawn(|| find("+44 20 7946 0958, 4111 1111 1111 1111, a@b.example, ::1"));
    if let Err(error) = spawned {
        tracing::debug!(%error, "the detectors load on first use instead");
    }
}

/// Every email, phone number, card number, IBAN and IP address in `text`,
/// in order, none overlapping (an earlier kind in this order wins: email,
/// IBAN, IP, card, phone).
pub fn find(text: &str) -> Vec<Found> {
    let text = &*blank_escapes(text);
    let mut found: Vec<Found> = Vec::new();
    if text.contains('@') || text.contains("%40") {
        add(&mut found, emails(text));
    }
    if text.bytes().any(|b| b.is_ascii_digit()) {
        add(&mut found, ibans(text));
        add(&mut found, ips(text));
        add(&mut found, cards(text));
        let phones = phones(text, &found);
        add(&mut found, phones);
    }
    if text.contains('…') {
        add(&mut found, cut_tails(text));
    }
    found.sort_by_key(|f| f.span.start);
    found
}

/// Adds the values that overlap none already found.
fn add(found: &mut Vec<Found>, more: Vec<Found>) {
    for item in more {
        if !found
            .iter()
            .any(|f| f.span.start < item.span.end && item.span.start < f.span.end)
        {
            found.push(item);
        }
    }
}

/// The character before `at` and the one from `end`.
fn neighbours(text: &str, at: usize, end: usize) -> (Option<char>, Option<char>) {
    (text[..at].chars().next_back(), text[end..].chars().next())
}

/// `text` with each JSON escape of white space (`\n`, `\r`, `\t`, as in a
/// JSON text quoted inside a string) made two spaces: the same length, so
/// spans found in it are spans of `text`, and the letter of an escape
/// no longer glues the value after it into a word.
pub fn blank_escapes(text: &str) -> Cow<'_, str> {
    if !["\\n", "\\r", "\\t"]
        .iter()
        .any(|escape| text.contains(escape))
    {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.replace("\\n", "  ")
            .replace("\\r", "  ")
            .replace("\\t", "  "),
    )
}

fn is_word(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || c == '_')
}

fn emails(text: &str) -> Vec<Found> {
    EMAIL
        .find_iter(text)
        .filter_map(|m| {
            // A leading dot or hyphen is punctuation, not the address.
            let value = m.as_str().trim_start_matches(['.', '-']);
            // Percent-encoded in a URL (`?email=jane%40example.com`), it
            // is the same address.
            (!value.starts_with('@') && !value.starts_with("%40")).then(|| Found {
                span: m.end() - value.len()..m.end(),
                kind: Kind::Email,
                canonical: email_address(value).to_lowercase(),
            })
        })
        .collect()
}

/// The address an email found as `written` is: percent-decoded when it
/// was percent-encoded in a URL (`jane%2Bbilling%40example.com` is
/// `jane+billing@example.com`); as written otherwise.
pub fn email_address(written: &str) -> Cow<'_, str> {
    if !written.contains("%40") {
        return Cow::Borrowed(written);
    }
    let bytes = written.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let hex = bytes
            .get(at + 1..at + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (bytes[at], hex) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                at += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                at += 1;
            }
        }
    }
    String::from_utf8(decoded).map_or(Cow::Borrowed(written), Cow::Owned)
}

fn ibans(text: &str) -> Vec<Found> {
    let mut found = Vec::new();
    for m in IBAN.find_iter(text) {
        if is_word(neighbours(text, m.start(), m.end()).0) {
            continue;
        }
        // The pattern may have taken a following word: shorten to the
        // longest prefix whose checksum holds.
        let mut candidate = m.as_str();
        while candidate.len() >= 15 {
            let (_, after) = neighbours(text, m.start(), m.start() + candidate.len());
            // Written in lower case, it is the same account.
            if !is_word(after)
                && let Ok(iban) = candidate
                    .replace('-', " ")
                    .to_uppercase()
                    .parse::<iban::Iban>()
            {
                found.push(Found {
                    span: m.start()..m.start() + candidate.len(),
                    kind: Kind::Iban,
                    canonical: iban.electronic_str().to_owned(),
                });
                break;
            }
            candidate = candidate[..candidate.len() - 1].trim_end_matches([' ', '-']);
        }
    }
    found
}

/// IPv4 and IPv6 addresses; an IPv6 address holding an IPv4 one
/// (`::ffff:198.51.100.7`) is one address, the IPv4 one it maps to.
fn ips(text: &str) -> Vec<Found> {
    let v6 = if text.contains(':') {
        ipv6s(text)
    } else {
        Vec::new()
    };
    let mut found = Vec::new();
    for m in IPV4.find_iter(text) {
        if v6
            .iter()
            .any(|f| f.span.start < m.end() && m.start() < f.span.end)
        {
            continue;
        }
        let (before, after) = neighbours(text, m.start(), m.end());
        // Part of a longer dotted run (a version such as 2.10.3.4.1), or
        // of a word (v2.10.3.4): not an address.
        let dotted = |c: Option<char>| c == Some('.') || is_word(c);
        let followed_by_dot_digit = after == Some('.')
            && text[m.end() + 1..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit());
        if dotted(before) || is_word(after) || followed_by_dot_digit {
            continue;
        }
        if let Ok(ip) = m.as_str().parse::<Ipv4Addr>()
            && belongs_to_someone(IpAddr::V4(ip))
        {
            found.push(Found {
                span: m.range(),
                kind: Kind::Ip,
                canonical: ip.to_string(),
            });
        }
    }
    found.extend(v6);
    found
}

fn ipv6s(text: &str) -> Vec<Found> {
    let mut found = Vec::new();
    for m in IPV6.find_iter(text) {
        // A sentence's full stop or colon is not the address's; the
        // `::` that ends one (`2001:db8::`) is.
        let value = m.as_str().trim_end_matches('.');
        let value = if value.ends_with("::") {
            value
        } else {
            value.strip_suffix(':').unwrap_or(value)
        };
        // `::` alone (a time's separators, a Rust path) is no address.
        if value.ends_with(':') && !value.ends_with("::")
            || !value.bytes().any(|b| b.is_ascii_hexdigit())
        {
            continue;
        }
        let end = m.start() + value.len();
        let (before, after) = neighbours(text, m.start(), end);
        if is_word(before) || is_word(after) {
            continue;
        }
        if let Ok(ip) = value.parse::<Ipv6Addr>()
            && belongs_to_someone(IpAddr::V6(ip))
        {
            let canonical = ip.to_ipv4_mapped().map_or(IpAddr::V6(ip), IpAddr::V4);
            found.push(Found {
                span: m.start()..end,
                kind: Kind::Ip,
                canonical: canonical.to_string(),
            });
        }
    }
    found
}

fn cards(text: &str) -> Vec<Found> {
    let mut found = Vec::new();
    for m in CARD.find_iter(text) {
        let (before, after) = neighbours(text, m.start(), m.end());
        if is_word(before) || is_word(after) || before == Some('.') || before == Some('-') {
            continue;
        }
        found.extend(cards_in_run(m.start(), m.as_str()));
    }
    found
}

/// How digit groups are separated: a space, a hyphen, a dot, or a line
/// break (a line break, or the blanks a `\n` escape leaves, with spaces
/// around it), which a card written across two lines has where a space was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Separator {
    Space,
    Break,
    Hyphen,
    Dot,
}

impl Separator {
    fn of(text: &str) -> Self {
        match text {
            " " => Separator::Space,
            "-" => Separator::Hyphen,
            "." => Separator::Dot,
            _ => Separator::Break,
        }
    }

    /// A card's groups are separated one way throughout; a line break
    /// stands where a space was.
    fn same_kind(self, other: Separator) -> bool {
        let kind = |separator| match separator {
            Separator::Break => Separator::Space,
            separator => separator,
        };
        kind(self) == kind(other)
    }

    /// Dots and line breaks also join numbers that are no card (versions,
    /// a list's lines): there a card must be grouped as cards are printed.
    fn needs_card_grouping(self) -> bool {
        matches!(self, Separator::Dot | Separator::Break)
    }
}

/// The groupings card numbers are printed in: 4-4-4-4 (and a fifth group
/// of up to three digits for 17 to 19), and 4-6-5 or 4-6-4 (Amex, Diners).
fn is_card_grouping(lengths: &[usize]) -> bool {
    match lengths {
        [4, 4, 4, 4] | [4, 6, 5] | [4, 6, 4] => true,
        [4, 4, 4, 4, last] => (1..=3).contains(last),
        _ => false,
    }
}

/// The card numbers in a run of digit groups: each the longest stretch of
/// whole groups, one kind of separator between them, that is a card
/// number, so that a number written next to it (an expiry year, a CVC, a
/// quantity) does not hide it.
fn cards_in_run(offset: usize, run: &str) -> Vec<Found> {
    // Each group's span in `run`, and the separator before it (the
    // first group's is never read).
    let mut groups: Vec<(Range<usize>, Separator)> = Vec::new();
    let mut start = None;
    let mut previous_end = None;
    for (at, c) in run.char_indices().chain([(run.len(), ' ')]) {
        match (c.is_ascii_digit(), start) {
            (true, None) => start = Some(at),
            (false, Some(from)) => {
                let separator =
                    previous_end.map_or(Separator::Space, |end| Separator::of(&run[end..from]));
                groups.push((from..at, separator));
                previous_end = Some(at);
                start = None;
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    let mut first = 0;
    while first < groups.len() {
        let mut best = None;
        let mut digits = String::new();
        let mut grouped = false;
        for last in first..groups.len() {
            if last > first + 1 && !groups[last].1.same_kind(groups[first + 1].1) {
                break;
            }
            grouped |= last > first && groups[last].1.needs_card_grouping();
            digits.push_str(&run[groups[last].0.clone()]);
            if digits.len() > 19 {
                break;
            }
            let lengths: Vec<usize> = groups[first..=last].iter().map(|g| g.0.len()).collect();
            if is_card_number(&digits) && (!grouped || is_card_grouping(&lengths)) {
                best = Some((last, digits.clone()));
            }
        }
        match best {
            Some((last, digits)) => {
                found.push(Found {
                    span: offset + groups[first].0.start..offset + groups[last].0.end,
                    kind: Kind::Card,
                    canonical: digits,
                });
                first = last + 1;
            }
            None => first += 1,
        }
    }
    found
}

/// 13 to 19 digits starting with an issuer's digit (2 to 6: Mastercard,
/// Amex, JCB, Diners, Visa, Discover, UnionPay, Maestro) that pass the
/// Luhn check.
pub fn is_card_number(digits: &str) -> bool {
    (13..=19).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && matches!(digits.as_bytes()[0], b'2'..=b'6')
        && luhn(digits)
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(index, byte)| {
            let digit = u32::from(byte - b'0');
            if index % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// What is left of a phone or card number, or an email address, that a
/// tool cut short (`+33 1 99 00 12 3…`, `jane.doe@exam…`): no longer
/// valid, still personal. Past `find`'s validated kinds, as a last pass.
fn cut_tails(text: &str) -> Vec<Found> {
    let mut found = Vec::new();
    for (cut, _) in text.match_indices('…') {
        // A value is short: look back 80 bytes at most, so that a text of
        // ellipses costs no more than one of letters.
        let mut from = cut.saturating_sub(80);
        while !text.is_char_boundary(from) {
            from += 1;
        }
        let before = &text[from..cut];
        let token_start = before
            .rfind(|c: char| c.is_whitespace() || "<>()\"'`,;[]".contains(c))
            .map_or(0, |at| {
                at + before[at..].chars().next().map_or(1, char::len_utf8)
            });
        let token = &before[token_start..];
        if token.contains('@') && !token.starts_with('@') {
            found.push(Found {
                span: from + token_start..cut,
                kind: Kind::Email,
                canonical: token.to_lowercase(),
            });
            continue;
        }
        let numeric_start = before
            .rfind(|c: char| !(c.is_ascii_digit() || " .-()/+".contains(c)))
            .map_or(0, |at| {
                at + before[at..].chars().next().map_or(1, char::len_utf8)
            });
        let number = before[numeric_start..].trim_start_matches([' ', '.', '-', '/', ')']);
        let start = cut - number.len();
        let digits: String = number.chars().filter(char::is_ascii_digit).collect();
        if is_word(neighbours(text, start, cut).0) || digits.len() < 7 {
            continue;
        }
        let kind = if number.starts_with(['+', '0', '(']) {
            Kind::Phone
        } else if digits.len() >= 12 && matches!(digits.as_bytes()[0], b'2'..=b'6') {
            Kind::Card
        } else {
            continue;
        };
        found.push(Found {
            span: start..cut,
            kind,
            canonical: format!("{digits}…"),
        });
    }
    found
}

/// Loopback and unspecified addresses (the server's own `127.0.0.1`,
/// `::1`, `0.0.0.0`) are nobody's: they stay readable.
fn belongs_to_someone(ip: IpAddr) -> bool {
    !ip.is_loopback() && !ip.is_unspecified()
}

/// The phone numbers in `text` outside the values `taken` already (those
/// are not parsed: parsing is the detectors' dearest step).
fn phones(text: &str, taken: &[Found]) -> Vec<Found> {
    let mut found = Vec::new();
    for m in PHONE.find_iter(text) {
        let (before, _) = neighbours(text, m.start(), m.end());
        // After `tel:`, `phone:` or in a URL's path, a number with its
        // country code (`+44`, `0049`) is a number.
        let international = m.as_str().starts_with('+') || m.as_str().starts_with("00");
        if is_word(before)
            || (!international && matches!(before, Some('.' | '-' | '/' | ':' | '#')))
        {
            continue;
        }
        if taken
            .iter()
            .any(|f| f.span.start <= m.start() && m.start() < f.span.end)
        {
            continue;
        }
        // The pattern may have taken a following number: shorten, group by
        // group, until a valid number is left.
        let mut candidate = m.as_str();
        loop {
            let end = m.start() + candidate.len();
            let (_, after) = neighbours(text, m.start(), end);
            // Not followed by a letter, nor by a separator and a digit.
            let continues = matches!(after, Some('.' | '-' | ':' | '/'))
                && text[end + 1..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_digit());
            // An extension written on (`0958x123`) ends the number.
            let extension = matches!(after, Some('x' | 'X'))
                && text[end + 1..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_digit());
            let after_ok = (!is_word(after) || extension) && !continues;
            if after_ok && let Some(canonical) = phone_number(candidate) {
                found.push(Found {
                    span: m.start()..end,
                    kind: Kind::Phone,
                    canonical,
                });
                break;
            }
            match candidate.rfind([' ', '.', '-', '/']) {
                Some(cut) if cut > 0 => {
                    candidate = candidate[..cut].trim_end_matches([' ', '.', '-', '/', '(']);
                }
                _ => break,
            }
        }
    }
    found
}

/// The number in E.164 when `candidate` is a valid phone number in an
/// international form (`+` or `00`), in a national form with a trunk 0
/// of one of `NATIONAL_REGIONS`, or in a North American form.
fn phone_number(candidate: &str) -> Option<String> {
    let digits: String = candidate.chars().filter(char::is_ascii_digit).collect();
    if !(7..=15).contains(&digits.len()) || looks_like_a_date(candidate) {
        return None;
    }
    let trimmed = candidate.trim_start_matches('(');
    let valid = |region: Option<Region>, number: &str| {
        phonenumber::parse(region, number)
            .ok()
            .filter(phonenumber::PhoneNumber::is_valid)
            .map(|number| number.format().mode(phonenumber::Mode::E164).to_string())
    };
    if let Some(rest) = trimmed.strip_prefix('+') {
        return valid(None, &format!("+{rest}"));
    }
    if let Some(rest) = digits.strip_prefix("00") {
        return valid(None, &format!("+{rest}"));
    }
    if digits.starts_with('0') {
        return NATIONAL_REGIONS
            .iter()
            .find_map(|region| valid(Some(*region), candidate));
    }
    if digits.len() == 10 && is_north_american(candidate) {
        return valid(Some(Region::US), candidate).or_else(|| valid(Some(Region::CA), candidate));
    }
    None
}

/// `(415) 555-2671`, `415-555-2671`, `415.555.2671`, `415 555 2671`.
fn is_north_american(candidate: &str) -> bool {
    static SHAPE: LazyLock<Regex> = LazyLock::new(|| {
        regex(r"^(?:\([2-9][0-9]{2}\) ?|[2-9][0-9]{2}[ .\-])[0-9]{3}[ .\-][0-9]{4}$")
    });
    SHAPE.is_match(candidate)
}

/// 2026-12-01, 01.12.2026, 12/01/2026 and the like.
fn looks_like_a_date(candidate: &str) -> bool {
    static DATE: LazyLock<Regex> = LazyLock::new(|| {
        regex(
            r"^(?:[0-9]{4}[\-./][0-9]{1,2}[\-./][0-9]{1,2}|[0-9]{1,2}[\-./][0-9]{1,2}[\-./][0-9]{2,4})",
        )
    });
    DATE.is_match(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, String)> {
        find(text)
            .into_iter()
            .map(|found| (found.kind, text[found.span].to_owned()))
            .collect()
    }

    fn nothing_in(text: &str) {
        assert_eq!(kinds(text), [], "{text}");
    }

    #[test]
    fn emails_in_their_usual_forms() {
        for (text, email) in [
            ("write to jane.doe@example.com.", "jane.doe@example.com"),
            (
                "<Jane.Doe+billing@Mail.Example.co.uk>",
                "Jane.Doe+billing@Mail.Example.co.uk",
            ),
            (
                "mailto:ops_team@sub.example.org?subject=x",
                "ops_team@sub.example.org",
            ),
            ("José: josé@exämple.de", "josé@exämple.de"),
        ] {
            assert_eq!(kinds(text), [(Kind::Email, email.to_owned())], "{text}");
        }
        let found = find("A@Example.COM");
        assert_eq!(found[0].canonical, "a@example.com");
    }

    #[test]
    fn phones_international_and_national() {
        for (text, phone, e164) in [
            (
                "call +44 20 7946 0958 today",
                "+44 20 7946 0958",
                "+442079460958",
            ),
            ("tel +1 (650) 253-0000", "+1 (650) 253-0000", "+16502530000"),
            ("Ruf 0049 30 901820 an", "0049 30 901820", "+4930901820"),
            (
                "phone: +33 1 42 68 53 00",
                "+33 1 42 68 53 00",
                "+33142685300",
            ),
            ("UK 020 7946 0958.", "020 7946 0958", "+442079460958"),
            ("Berlin 030 901820", "030 901820", "+4930901820"),
            (
                "US (650) 253-0000, thanks",
                "(650) 253-0000",
                "+16502530000",
            ),
            ("US 650-253-0000", "650-253-0000", "+16502530000"),
            (
                "mobile +49 151 23456789",
                "+49 151 23456789",
                "+4915123456789",
            ),
        ] {
            let found = find(text);
            assert_eq!(kinds(text), [(Kind::Phone, phone.to_owned())], "{text}");
            assert_eq!(found[0].canonical, e164, "{text}");
        }
    }

    #[test]
    fn cards_only_when_luhn_holds() {
        for (text, card) in [
            ("card 4111 1111 1111 1111 exp 12/27", "4111 1111 1111 1111"),
            ("mc 5555-5555-5555-4444!", "5555-5555-5555-4444"),
            ("amex 378282246310005", "378282246310005"),
            ("disc 6011111111111117.", "6011111111111117"),
        ] {
            assert_eq!(kinds(text), [(Kind::Card, card.to_owned())], "{text}");
        }
        // One digit off: the Luhn check fails.
        nothing_in("card 4111 1111 1111 1112");
        nothing_in("order 4111111111111112");
    }

    #[test]
    fn cards_split_by_dots_or_a_line_break_are_found_in_card_groupings() {
        for (text, card) in [
            ("card 4242.4242.4242.4242 exp 12/27", "4242.4242.4242.4242"),
            ("card 4242 4242\n4242 4242, thanks", "4242 4242\n4242 4242"),
            ("4242 4242\r\n4242 4242", "4242 4242\r\n4242 4242"),
            ("4242-4242-4242-4242\n2027", "4242-4242-4242-4242"),
            ("amex 3782.822463.10005.", "3782.822463.10005"),
        ] {
            assert_eq!(kinds(text), [(Kind::Card, card.to_owned())], "{text}");
        }
        // Written as a JSON text quoted in a string: `\n` is an escape.
        assert_eq!(
            kinds(r"4242 4242\n4242 4242"),
            [(Kind::Card, r"4242 4242\n4242 4242".to_owned())]
        );
        // Dotted or broken across lines, a number must also be grouped as a
        // card is: versions, dotted numbers failing Luhn and lists stay.
        for text in [
            "version 1.2.3.4.5 and v2.10.3.4",
            "4242.4242.4242.4241",
            "ref 42424.24242.42424",
            "oid 2.16.840.1.113730.3.1.1",
            "4242424\n242424242",
            "order 1234.5678.9012.3456",
        ] {
            nothing_in(text);
        }
    }

    #[test]
    fn ibans_only_when_the_checksum_holds() {
        for (text, iban) in [
            (
                "IBAN DE89 3704 0044 0532 0130 00 please",
                "DE89 3704 0044 0532 0130 00",
            ),
            ("to GB82WEST12345698765432.", "GB82WEST12345698765432"),
            ("NL91ABNA0417164300", "NL91ABNA0417164300"),
            (
                "IBAN DE89-3704-0044-0532-0130-00, thanks",
                "DE89-3704-0044-0532-0130-00",
            ),
            (
                "gb82-west-1234-5698-7654-32.",
                "gb82-west-1234-5698-7654-32",
            ),
        ] {
            assert_eq!(kinds(text), [(Kind::Iban, iban.to_owned())], "{text}");
        }
        assert_eq!(
            find("DE89-3704-0044-0532-0130-00")[0].canonical,
            "DE89370400440532013000"
        );
        nothing_in("IBAN DE89-3704-0044-0532-0130-01");
        // One way of grouping throughout.
        nothing_in("DE89-3704 0044-0532 0130-00");
        nothing_in("IBAN DE89 3704 0044 0532 0130 01");
        nothing_in("GB82WEST12345698765431");
    }

    #[test]
    fn ip_addresses_v4_and_v6() {
        for (text, ip) in [
            ("from 203.0.113.7, blocked", "203.0.113.7"),
            ("host 10.0.0.1:8080", "10.0.0.1"),
            ("v6 2001:db8::8a2e:370:7334 seen", "2001:db8::8a2e:370:7334"),
            ("[fe80::1ff:fe23:4567:890a]", "fe80::1ff:fe23:4567:890a"),
        ] {
            assert_eq!(kinds(text), [(Kind::Ip, ip.to_owned())], "{text}");
        }
        nothing_in("999.1.1.1 is no address");
        // An IPv4-mapped IPv6 address is one value: the IPv4 address.
        let mapped = find("from ::ffff:198.51.100.7 again");
        assert_eq!(
            kinds("from ::ffff:198.51.100.7 again"),
            [(Kind::Ip, "::ffff:198.51.100.7".to_owned())]
        );
        assert_eq!(mapped[0].canonical, find("198.51.100.7")[0].canonical);
    }

    #[test]
    fn a_value_after_an_escaped_line_break_is_found() {
        assert_eq!(
            kinds(r"a\n+44 20 7946 0958\t192.0.2.44\r4111 1111 1111 1111"),
            vec![
                (Kind::Phone, "+44 20 7946 0958".to_owned()),
                (Kind::Ip, "192.0.2.44".to_owned()),
                (Kind::Card, "4111 1111 1111 1111".to_owned()),
            ]
        );
        nothing_in(r"\nv1.2.3.4");
        assert_eq!(
            kinds(r"x\n020 7946 0018 and 2001:db8::<U+202E>17"),
            vec![
                (Kind::Phone, "020 7946 0018".to_owned()),
                (Kind::Ip, "2001:db8::".to_owned()),
            ]
        );
    }

    #[test]
    fn an_international_number_in_a_url_or_tel_link_is_found_a_national_one_is_not() {
        assert_eq!(
            kinds("tel:+44 20 7946 0958 https://a.example/0049 30 1234567"),
            vec![
                (Kind::Phone, "+44 20 7946 0958".to_owned()),
                (Kind::Phone, "0049 30 1234567".to_owned()),
            ]
        );
        nothing_in("https://a.example/020 7946 0018");
    }

    #[test]
    fn near_misses_stay() {
        for text in [
            // Ids, with digits in them.
            "tkt_4111111111111111 cus_0049309018200 msg_12345678901 art_2001 whk_203.0.113",
            // UUIDs, including all-digit groups.
            "550e8400-e29b-41d4-a716-446655440000 12345678-1234-1234-1234-123456789012",
            // Timestamps: ISO 8601 and unix seconds and milliseconds.
            "2026-12-01T18:28:05Z 2026-12-01 18:28:05+01:00 1764613685 1764613685123",
            // Versions.
            "v2.10.3.4 1.2.3 2.10.3.4.1 release 10.0.0 rmcp 3.11.0",
            // A 16-digit order number that fails Luhn; amounts.
            "order 1234567812345678, $1,234.56, EUR 12 345,67, 4111111111111112",
            // Dates and times people write.
            "on 01.12.2026 at 18:28, or 12/01/2026, or 2026/12/01",
            // Idempotency keys and hashes.
            "idem-7f3a9c2e-0b1d-4e5f-8a6b-1c2d3e4f5a6b sha 3f9a81c2deadbeef",
            // Times and ratios.
            "12:30:45 3:2 ::",
        ] {
            nothing_in(text);
        }
    }

    #[test]
    fn overlapping_candidates_are_one_value() {
        // The IBAN's digits are not also a card or a phone.
        let found = kinds("DE89370400440532013000");
        assert_eq!(found, [(Kind::Iban, "DE89370400440532013000".to_owned())]);
    }
}

#[cfg(test)]
mod hostile {
    use super::*;

    fn spans(text: &str) -> Vec<(Kind, &str)> {
        find(text)
            .into_iter()
            .map(|found| (found.kind, &text[found.span]))
            .collect()
    }

    #[test]
    fn values_in_the_forms_real_data_has_are_found() {
        for (text, kind, value) in [
            ("tel:+442079460958", Kind::Phone, "+442079460958"),
            (
                "<a href=\"tel:+44-20-7946-0958\">",
                Kind::Phone,
                "+44-20-7946-0958",
            ),
            ("+44 20 7946 0958x123", Kind::Phone, "+44 20 7946 0958"),
            (
                "4111 1111 1111 1111 12/27",
                Kind::Card,
                "4111 1111 1111 1111",
            ),
            (
                "cvc: 4111 1111 1111 1111 123",
                Kind::Card,
                "4111 1111 1111 1111",
            ),
            (
                "4111-1111-1111-1111 2027",
                Kind::Card,
                "4111-1111-1111-1111",
            ),
            (
                "?email=jane%40example.com&x=1",
                Kind::Email,
                "jane%40example.com",
            ),
            (
                "iban gb82 west 1234 5698 7654 32.",
                Kind::Iban,
                "gb82 west 1234 5698 7654 32",
            ),
            (
                "gb82west12345698765432",
                Kind::Iban,
                "gb82west12345698765432",
            ),
            // In a JSON text quoted inside a string, after an escaped
            // line break or tab; in a URL's path.
            (
                r#"{\"a\":\"x\n+44 20 7946 0958\n\"}"#,
                Kind::Phone,
                "+44 20 7946 0958",
            ),
            (r"\t4111 1111 1111 1111", Kind::Card, "4111 1111 1111 1111"),
            (r"\n020 7946 0018 x", Kind::Phone, "020 7946 0018"),
            ("<U+200B>2001:db8::<U+2", Kind::Ip, "2001:db8::"),
            ("blocked fe80::1: again", Kind::Ip, "fe80::1"),
            // Cut short by a tool before the egress.
            ("``` +33 1 99 00 12 3…````", Kind::Phone, "+33 1 99 00 12 3"),
            ("from jane.doe@exam… [cut]", Kind::Email, "jane.doe@exam"),
            ("card 4111 1111 1111 11…", Kind::Card, "4111 1111 1111 11"),
            (
                "https://hooks.example.com/0049 30 1234567",
                Kind::Phone,
                "0049 30 1234567",
            ),
        ] {
            assert_eq!(spans(text), [(kind, value)], "{text}");
        }
        assert_eq!(
            find("jane%40Example.com")[0].canonical,
            find("jane@example.com")[0].canonical
        );
        assert_eq!(
            find("?to=jane%2Bbilling%40example.com")[0].canonical,
            "jane+billing@example.com"
        );
        assert_eq!(email_address("jane%40example.com"), "jane@example.com");
        assert_eq!(
            email_address("100%real@example.com"),
            "100%real@example.com"
        );
        assert_eq!(
            find("gb82 west 1234 5698 7654 32")[0].canonical,
            "GB82WEST12345698765432"
        );
    }

    #[test]
    fn the_servers_own_loopback_address_is_nobodys() {
        for text in ["http://127.0.0.1:8080/", "http://[::1]:80", "0.0.0.0:3000"] {
            assert_eq!(spans(text), [], "{text}");
        }
    }

    #[test]
    fn near_misses_of_the_wider_forms_stay() {
        for text in [
            "sha de8937040044053201300a1b2c3d4e5f60718293",
            "t=1764613685,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd",
            "1,234,567.89 and 1764613685123 4111",
            "whk_secret_4111111111111111 idem-4111-1111-1111-1112",
            "12:30 +44",
            "order 1234567… tkt_0123456789… 2026-12-01T18:28… v1.2.3…",
        ] {
            assert_eq!(spans(text), [], "{text}");
        }
    }
}

#[cfg(test)]
mod cost {
    use std::time::Instant;

    #[test]
    fn hostile_texts_of_300_kb_take_seconds_not_minutes() {
        // A guard against quadratic scans (minutes at this size), with room
        // for a debug build on a loaded machine.
        let texts = [
            "…".repeat(100_000),
            "4".repeat(300_000),
            "4111 ".repeat(60_000),
            "+44 20 ".repeat(40_000),
            "1.2.".repeat(75_000),
            "a:".repeat(150_000),
            "x@".repeat(150_000),
            "0 ".repeat(150_000) + "…",
        ];
        for text in &texts {
            let started = Instant::now();
            super::find(text);
            let took = started.elapsed();
            assert!(took.as_secs() < 20, "{took:?} for {:?}", &text[..20]);
        }
    }
}
