//! A finder of personal data that shares nothing with the server's
//! redaction (`src/pii`): hand-written scanners over characters, with
//! their own rules, so a gap in the implementation's patterns is not
//! repeated here.
//!
//! - e-mail: `local@domain.tld` by shape (RFC 5322's unquoted local-part
//!   characters, a dotted domain, a top-level label of two letters or more);
//! - phone: a run of digits and separators (space, `-`, `.`, parentheses)
//!   that starts with `+` and holds 8-15 digits, starts with `00` and holds
//!   10-17, or is national: 10-11 digits opening with `(` or a separated
//!   `0`, or grouped 3-3-4;
//! - card: 13-19 digits, unbroken or grouped by single spaces or dashes,
//!   that pass the Luhn check; also printed as 4-4-4-4 or 4-6-5 with dots
//!   between the groups, or with blanks between them of which at least one
//!   is not a single space (a line break, a written `\n`);
//! - IBAN: two capitals, two digits, then capitals and digits (grouped by
//!   single spaces or hyphens), 15-34 in all, whose ISO 7064 mod-97
//!   remainder is 1;
//! - IP: a run of digits and dots parsed by `std::net::Ipv4Addr`, a run of
//!   hex digits, colons and dots parsed by `std::net::Ipv6Addr`; loopback
//!   and unspecified addresses (the server's own `127.0.0.1`) belong to no
//!   one and are not reported.
//!
//! A candidate counts only between word boundaries (not touching a letter,
//! a digit or `_`), so ids (`msg_4111…`, hex in UUIDs, `v2.10.3.4`) are
//! not read as numbers; UUIDs and ISO 8601 dates are blanked out first, and
//! a written `\n`, `\r` or `\t` (a break, as a document shows it) is a
//! boundary.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// A kind of personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Kind {
    Email,
    Phone,
    Card,
    Iban,
    Ip,
}

impl Kind {
    pub(super) const ALL: [Kind; 5] = [Kind::Email, Kind::Phone, Kind::Card, Kind::Iban, Kind::Ip];
}

impl fmt::Display for Kind {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Kind::Email => "e-mail",
            Kind::Phone => "phone",
            Kind::Card => "card",
            Kind::Iban => "IBAN",
            Kind::Ip => "IP address",
        };
        out.write_str(name)
    }
}

/// Every piece of personal data in `text`: its kind and the text found.
pub(super) fn personal_data(text: &str) -> Vec<(Kind, String)> {
    if !text.bytes().any(|b| b.is_ascii_digit() || b == b'@') {
        return Vec::new();
    }
    let mut chars: Vec<char> = text.chars().collect();
    blank_out_escapes(&mut chars);
    blank_out_uuids_and_dates(&mut chars);
    let mut found = Vec::new();
    emails(&chars, &mut found);
    numbers(&chars, &mut found);
    split_cards(&chars, &mut found);
    ibans(&chars, &mut found);
    ipv4s(&chars, &mut found);
    ipv6s(&chars, &mut found);
    found
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// True when no word character touches `chars[start..end]`.
fn bounded(chars: &[char], start: usize, end: usize) -> bool {
    let before = start.checked_sub(1).map(|at| chars[at]);
    let after = chars.get(end).copied();
    !before.is_some_and(is_word) && !after.is_some_and(is_word)
}

fn text_of(chars: &[char]) -> String {
    chars.iter().collect()
}

/// Replaces each written escape of a line break or tab (`\n`, `\r`, `\t`,
/// as Markdown documents show them) with spaces: a reader sees a break
/// there, so what follows starts a word.
fn blank_out_escapes(chars: &mut [char]) {
    for at in 1..chars.len() {
        if chars[at - 1] == '\\' && matches!(chars[at], 'n' | 'r' | 't') {
            chars[at - 1] = ' ';
            chars[at] = ' ';
        }
    }
}

/// Replaces each UUID (8-4-4-4-12 hex digits) and ISO 8601 date or
/// date-time with spaces, so their digits are never read as numbers.
fn blank_out_uuids_and_dates(chars: &mut [char]) {
    const UUID: [usize; 5] = [8, 4, 4, 4, 12];
    let mut at = 0;
    while at < chars.len() {
        let length = shaped(chars, at, &UUID, '-', |c| c.is_ascii_hexdigit())
            .filter(|length| bounded(chars, at, at + length))
            .or_else(|| date_time(chars, at));
        match length {
            Some(length) => {
                chars[at..at + length].fill(' ');
                at += length;
            }
            _ => at += 1,
        }
    }
}

/// The length of groups of `sizes` characters matching `accept`, joined
/// by `separator`, starting at `at`.
fn shaped(
    chars: &[char],
    at: usize,
    sizes: &[usize],
    separator: char,
    accept: impl Fn(char) -> bool,
) -> Option<usize> {
    let mut cursor = at;
    for (index, size) in sizes.iter().enumerate() {
        if index > 0 {
            (chars.get(cursor) == Some(&separator)).then_some(())?;
            cursor += 1;
        }
        let group = chars.get(cursor..cursor + size)?;
        group.iter().all(|c| accept(*c)).then_some(())?;
        cursor += size;
    }
    Some(cursor - at)
}

/// `YYYY-MM-DD`, then optionally `THH:MM:SS`, fractions and a zone.
fn date_time(chars: &[char], at: usize) -> Option<usize> {
    let digit = |c: char| c.is_ascii_digit();
    let mut length = shaped(chars, at, &[4, 2, 2], '-', digit)?;
    if at > 0 && chars[at - 1].is_ascii_digit() {
        return None;
    }
    if matches!(chars.get(at + length), Some('T' | ' '))
        && let Some(time) = shaped(chars, at + length + 1, &[2, 2, 2], ':', digit)
    {
        length += 1 + time;
        if chars.get(at + length) == Some(&'.') {
            length += 1;
            while chars.get(at + length).is_some_and(|c| c.is_ascii_digit()) {
                length += 1;
            }
        }
        if chars.get(at + length) == Some(&'Z') {
            length += 1;
        }
    }
    Some(length)
}

fn emails(chars: &[char], found: &mut Vec<(Kind, String)>) {
    // RFC 5322's unquoted characters, but a backtick (Markdown's code span).
    let local = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_{|}~.-".contains(c);
    let domain = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '-';
    for (at, _) in chars.iter().enumerate().filter(|(_, c)| **c == '@') {
        let mut start = at;
        while start > 0 && local(chars[start - 1]) {
            start -= 1;
        }
        while start < at && chars[start] == '.' {
            start += 1;
        }
        let mut end = at + 1;
        while end < chars.len() && domain(chars[end]) {
            end += 1;
        }
        while end > at + 1 && matches!(chars[end - 1], '.' | '-') {
            end -= 1;
        }
        let host = text_of(&chars[at + 1..end]);
        let labels: Vec<&str> = host.split('.').collect();
        let top = labels.last().copied().unwrap_or_default();
        let shaped = start < at
            && labels.len() >= 2
            && labels.iter().all(|label| !label.is_empty())
            && top.len() >= 2
            && top.chars().all(|c| c.is_ascii_alphabetic());
        if shaped {
            found.push((Kind::Email, text_of(&chars[start..end])));
        }
    }
}

/// Phones and cards: runs of digits and separators between boundaries.
fn numbers(chars: &[char], found: &mut Vec<(Kind, String)>) {
    let mut at = 0;
    while at < chars.len() {
        let opens = matches!(chars[at], '+' | '(') || chars[at].is_ascii_digit();
        let free = at == 0 || !(is_word(chars[at - 1]) || matches!(chars[at - 1], '.' | '+' | '-'));
        if !(opens && free) {
            at += 1;
            continue;
        }
        let end = number_run(chars, at);
        let run = &chars[at..end];
        if run.iter().any(char::is_ascii_digit)
            && bounded(chars, at, end)
            && let Some(kind) = classify(run)
        {
            found.push((kind, text_of(run)));
        }
        at = end.max(at + 1);
    }
}

/// The end of the run of digits and single separators starting at `at`
/// (a `+` only first), trimmed back to its last digit.
fn number_run(chars: &[char], at: usize) -> usize {
    let mut end = at + usize::from(chars[at] == '+');
    let mut separators = 0;
    while let Some(&c) = chars.get(end) {
        if c.is_ascii_digit() {
            separators = 0;
        } else if matches!(c, ' ' | '-' | '.' | '(' | ')') {
            separators += 1;
            // "(415) 555" has two in a row; three is no longer a number.
            if separators > 2 {
                break;
            }
        } else {
            break;
        }
        end += 1;
    }
    while end > at && !chars[end - 1].is_ascii_digit() {
        end -= 1;
    }
    end
}

fn classify(run: &[char]) -> Option<Kind> {
    let digits: String = run.iter().filter(|c| c.is_ascii_digit()).collect();
    let count = digits.len();
    let separators: Vec<char> = run
        .iter()
        .copied()
        .filter(|c| !c.is_ascii_digit())
        .collect();
    let groups: Vec<usize> = run
        .split(|c| !c.is_ascii_digit())
        .map(<[char]>::len)
        .filter(|length| *length > 0)
        .collect();
    if run.contains(&'.') {
        // Dotted numbers are versions, amounts or IP addresses, not phones.
        return None;
    }
    if run[0] == '+' {
        return (8..=15).contains(&count).then_some(Kind::Phone);
    }
    if digits.starts_with("00") && !digits.starts_with("000") && groups.len() > 1 {
        return (10..=17).contains(&count).then_some(Kind::Phone);
    }
    let card_separators = separators.iter().all(|c| *c == ' ' || *c == '-')
        && !run
            .windows(2)
            .any(|pair| !pair[0].is_ascii_digit() && !pair[1].is_ascii_digit());
    if (13..=19).contains(&count) && card_separators {
        return luhn(&digits).then_some(Kind::Card);
    }
    let national = (10..=11).contains(&count)
        && (run[0] == '(' || (digits.starts_with('0') && groups.len() > 1) || groups == [3, 3, 4]);
    national.then_some(Kind::Phone)
}

/// Cards that `numbers` does not join: printed in groups (4-4-4-4 or
/// 4-6-5) with a dot between each two, or with blanks (spaces, line
/// breaks) where not every one is a single space.
fn split_cards(chars: &[char], found: &mut Vec<(Kind, String)>) {
    for at in 0..chars.len() {
        let free = at == 0 || !(is_word(chars[at - 1]) || matches!(chars[at - 1], '.' | '+' | '-'));
        if !chars[at].is_ascii_digit() || !free {
            continue;
        }
        for sizes in [&[4, 4, 4, 4][..], &[4, 6, 5]] {
            let Some((end, gaps)) = printed_groups(chars, at, sizes) else {
                continue;
            };
            let dotted = gaps.iter().all(|gap| gap == ".");
            let blank = |gap: &String| gap.chars().all(|c| matches!(c, ' ' | '\n' | '\r'));
            let across_lines = gaps.iter().all(blank) && gaps.iter().any(|gap| gap != " ");
            let digits: String = chars[at..end]
                .iter()
                .filter(|c| c.is_ascii_digit())
                .collect();
            if (dotted || across_lines) && bounded(chars, at, end) && luhn(&digits) {
                found.push((Kind::Card, text_of(&chars[at..end])));
            }
        }
    }
}

/// The end of digit groups of `sizes` from `at`, and the gaps between
/// them: a dot, or one to four spaces and line breaks.
fn printed_groups(chars: &[char], at: usize, sizes: &[usize]) -> Option<(usize, Vec<String>)> {
    let mut cursor = at;
    let mut gaps = Vec::new();
    for (index, size) in sizes.iter().enumerate() {
        if index > 0 {
            let gap_start = cursor;
            if chars.get(cursor) == Some(&'.') {
                cursor += 1;
            } else {
                while cursor - gap_start < 4
                    && chars
                        .get(cursor)
                        .is_some_and(|c| matches!(c, ' ' | '\n' | '\r'))
                {
                    cursor += 1;
                }
            }
            (cursor > gap_start).then_some(())?;
            gaps.push(text_of(&chars[gap_start..cursor]));
        }
        let group = chars.get(cursor..cursor + size)?;
        group.iter().all(char::is_ascii_digit).then_some(())?;
        cursor += size;
    }
    Some((cursor, gaps))
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(at, digit)| {
            if at % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn ibans(chars: &[char], found: &mut Vec<(Kind, String)>) {
    let upper_or_digit = |c: char| c.is_ascii_uppercase() || c.is_ascii_digit();
    for at in 0..chars.len() {
        let opening = chars.get(at..at + 4).is_some_and(|head| {
            head[..2].iter().all(char::is_ascii_uppercase)
                && head[2..].iter().all(char::is_ascii_digit)
        });
        if !opening || (at > 0 && is_word(chars[at - 1])) {
            continue;
        }
        // Every end at a group's end: the longest whose checksum holds.
        let mut compact = String::new();
        let mut end = at;
        let mut best = None;
        while end < chars.len() && compact.len() < 34 {
            let c = chars[end];
            if upper_or_digit(c) {
                compact.push(c);
                end += 1;
            } else if matches!(c, ' ' | '-')
                && chars.get(end + 1).is_some_and(|next| upper_or_digit(*next))
            {
                end += 1;
                continue;
            } else {
                break;
            }
            let at_group_end = !chars.get(end).is_some_and(|next| is_word(*next));
            if compact.len() >= 15 && at_group_end && mod97(&compact) == 1 {
                best = Some(end);
            }
        }
        if let Some(end) = best {
            found.push((Kind::Iban, text_of(&chars[at..end])));
        }
    }
}

/// ISO 7064 mod 97-10 of an IBAN: the first four characters moved to the
/// end, letters as 10-35.
fn mod97(compact: &str) -> u32 {
    let (head, tail) = compact.split_at(4);
    tail.chars().chain(head.chars()).fold(0, |remainder, c| {
        let value = c.to_digit(36).unwrap_or(0);
        if value > 9 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        }
    })
}

/// Runs of characters `accept` takes, bounded, with their start.
fn runs(chars: &[char], accept: impl Fn(char) -> bool) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        if !accept(chars[at]) {
            at += 1;
            continue;
        }
        let start = at;
        while at < chars.len() && accept(chars[at]) {
            at += 1;
        }
        out.push((start, at));
    }
    out
}

fn ipv4s(chars: &[char], found: &mut Vec<(Kind, String)>) {
    for (start, mut end) in runs(chars, |c| c.is_ascii_digit() || c == '.') {
        while end > start && chars[end - 1] == '.' {
            end -= 1;
        }
        let candidate = text_of(&chars[start..end]);
        let address = candidate.parse::<Ipv4Addr>();
        let anyone = address.is_ok_and(|ip| !ip.is_loopback() && !ip.is_unspecified());
        if candidate.matches('.').count() == 3 && bounded(chars, start, end) && anyone {
            found.push((Kind::Ip, candidate));
        }
    }
}

fn ipv6s(chars: &[char], found: &mut Vec<(Kind, String)>) {
    for (start, mut end) in runs(chars, |c| c.is_ascii_hexdigit() || c == ':' || c == '.') {
        while end > start && chars[end - 1] == '.' {
            end -= 1;
        }
        let candidate = text_of(&chars[start..end]);
        let plausible =
            candidate.matches(':').count() >= 2 && candidate.chars().any(|c| c.is_ascii_hexdigit());
        let address = candidate.parse::<Ipv6Addr>();
        let anyone = address.is_ok_and(|ip| !ip.is_loopback() && !ip.is_unspecified());
        if plausible && bounded(chars, start, end) && anyone {
            found.push((Kind::Ip, candidate));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Kind> {
        personal_data(text)
            .into_iter()
            .map(|(kind, _)| kind)
            .collect()
    }

    #[test]
    fn the_finder_flags_cards_that_pass_luhn_and_not_those_that_fail() {
        for card in [
            "4111 1111 1111 1111",
            "card: 4111-1111-1111-1111.",
            "4111111111111111",
            "5500-0000-0000-0004",
            "378282246310005",
        ] {
            assert_eq!(kinds(card), [Kind::Card], "{card}");
        }
        for near in [
            "4111 1111 1111 1112",
            "4000 1234 5678 9010",
            "1234567890123456",
            "msg_4111111111111111",
            "order #100234567",
        ] {
            assert_eq!(kinds(near), [], "{near}");
        }
    }

    #[test]
    fn the_finder_flags_cards_split_by_dots_or_across_lines() {
        for (text, card) in [
            ("card 4242.4242.4242.4242.", "4242.4242.4242.4242"),
            ("5555 5555\n5555 4444 exp", "5555 5555\n5555 4444"),
            (
                "on two lines:\\n5555 5555\\n5555 4444)",
                "5555 5555  5555 4444",
            ),
            ("amex 3782.822463.10005", "3782.822463.10005"),
        ] {
            assert_eq!(
                personal_data(text),
                [(Kind::Card, card.to_owned())],
                "{text}"
            );
        }
        for near in [
            "4242.4242.4242.4241",
            "v4242.4242.4242.4242",
            "1.2.3.4.5",
            "1234.5678.9012.3456",
            "4242\n4242\n4242\n4241",
        ] {
            assert_eq!(kinds(near), [], "{near}");
        }
    }

    #[test]
    fn the_finder_flags_ibans_whose_checksum_holds_and_not_others() {
        for iban in [
            "GB82WEST12345698765432",
            "IBAN GB82 WEST 1234 5698 7654 32, please",
            "DE89370400440532013000",
            "GB82 WEST 1234 5698 7654 32 ASAP",
            "refunds to NL91-ABNA-0417-1643-00.",
        ] {
            assert_eq!(kinds(iban), [Kind::Iban], "{iban}");
        }
        for near in [
            "GB83WEST12345698765432",
            "GB83 WEST 1234 5698 7654 32",
            "NL91-ABNA-0417-1643-01",
            "GB123456789",
        ] {
            assert_eq!(kinds(near), [], "{near}");
        }
    }

    #[test]
    fn the_finder_flags_ip_addresses_and_not_versions() {
        for ip in [
            "192.0.2.1",
            "from 192.0.2.44:8080.",
            "2001:db8::1",
            "[2001:db8::8a2e:370:7334]:443",
            "2001:db8:85a3::8a2e:370:7334",
        ] {
            assert_eq!(kinds(ip), [Kind::Ip], "{ip}");
        }
        assert_eq!(kinds("::ffff:198.51.100.7"), [Kind::Ip, Kind::Ip]);
        for near in [
            "1.2.3",
            "10.0.0",
            "v2.10.3.4",
            "version 4.18.2",
            "at 09:00:00",
            "std::net",
            "1.2.3.4.5",
            "300.1.1.1",
            "http://127.0.0.1:8080",
            "::1",
        ] {
            assert_eq!(kinds(near), [], "{near}");
        }
    }

    #[test]
    fn the_finder_flags_phones_in_international_and_national_formats() {
        for phone in [
            "+44 20 7946 0958",
            "+1 (415) 555-0132",
            "0049 30 1234567",
            "(415) 555-0199",
            "020 7946 0018",
            "415-555-0132",
            "+33 1 99 00 12 34",
            "tel:+442079460958",
            "\\n0049 30 1234567",
            "\\n+1 (415) 555-0132\\n",
        ] {
            assert_eq!(kinds(phone), [Kind::Phone], "{phone}");
        }
        for near in [
            "1772442000",
            "ORD-2026-004417",
            "2026-03-02T09:00:00Z",
            "2026-03-02",
            "7f9c2e1a-3b4d-4e5f-8a6b-1c2d3e4f5a6b",
            "12345678-1234-4123-8123-123456789012",
            "555-0132",
            "duration_ms=2001",
            "40k tickets, 10 seconds",
            "1,000 requests",
            "E1001",
        ] {
            assert_eq!(kinds(near), [], "{near}");
        }
    }

    #[test]
    fn the_finder_flags_emails_in_every_form() {
        for (text, email) in [
            ("alice@example.com", "alice@example.com"),
            (
                "ALICE.Nguyen+Support@Mail.Example.COM",
                "ALICE.Nguyen+Support@Mail.Example.COM",
            ),
            ("<bob.ohara@eu.example.co.uk>", "bob.ohara@eu.example.co.uk"),
            ("mailto:carol@example.org.", "carol@example.org"),
        ] {
            assert_eq!(personal_data(text), [(Kind::Email, email.to_owned())]);
        }
        for near in [
            "support@",
            "@example.com",
            "moc.elpmaxe@ecila",
            "a@b",
            "x@y.c1",
        ] {
            assert_eq!(kinds(near), [], "{near}");
        }
    }
}
