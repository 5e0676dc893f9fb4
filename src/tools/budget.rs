//! How tools shape a result to fit `RESULT_BUDGET` with marks that say how
//! to read the rest; the egress then holds every message to
//! `egress::MESSAGE_BUDGET` on the bytes that leave, whatever the data.
//!
//! - Long texts are cut at a documented length with an explicit marker
//!   (`truncated: true` and the full length): message bodies at
//!   `MAX_MESSAGE_CHARS`, article bodies at `MAX_ARTICLE_CHARS`.
//! - A list page that would not fit is made smaller (`fitting_page`), and
//!   its pagination says so.
//! - A thread that would not fit keeps its first message and the most
//!   recent ones (`cstar_get_ticket` says what it left out and how to read
//!   it).

use serde::Serialize;

/// The bytes a tool aims its result at: the egress's budget, less room
/// for what cleaning spells out.
pub const RESULT_BUDGET: usize = super::egress::MESSAGE_BUDGET - 4_000;
/// Where a message body is cut, in characters.
pub const MAX_MESSAGE_CHARS: usize = 8_000;
/// Where an article body is cut, in characters.
pub const MAX_ARTICLE_CHARS: usize = 20_000;
/// Room kept for what surrounds the items of a result.
pub const FRAME_BYTES: usize = 2_000;

/// `text` cut to `max` characters, and its full length when it was cut.
pub fn cut(text: String, max: usize) -> (String, Option<usize>) {
    match text.char_indices().nth(max) {
        None => (text, None),
        Some((end, _)) => {
            let full = text.chars().count();
            let mut text = text;
            text.truncate(end);
            (text, Some(full))
        }
    }
}

/// Bytes `value` takes as JSON, counted without building the text.
pub fn size_of<T: Serialize + ?Sized>(value: &T) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    match serde_json::to_writer(&mut counter, value) {
        Ok(()) => counter.0,
        Err(_) => usize::MAX,
    }
}

/// How a page was made smaller to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lowered {
    /// The page number that now addresses the items kept.
    pub page: u32,
    pub page_size: u32,
    pub requested_page_size: u32,
}

/// The items of page `page` (of `page_size` items each) that fit the
/// budget. When not all fit, keeps the first `k` items for the largest `k`
/// that divides `page_size` and fits, so that page `(page-1)*page_size/k+1`
/// of size `k` names exactly these items and paging can go on from there.
pub fn fitting_page<T: Serialize>(
    mut items: Vec<T>,
    page: u32,
    page_size: u32,
) -> (Vec<T>, Option<Lowered>) {
    let sizes: Vec<usize> = items.iter().map(|item| size_of(item) + 1).collect();
    if sizes.iter().sum::<usize>() + FRAME_BYTES <= RESULT_BUDGET {
        return (items, None);
    }
    let fits = |k: usize| sizes.iter().take(k).sum::<usize>() + FRAME_BYTES <= RESULT_BUDGET;
    let k = (1..=page_size as usize)
        .rev()
        .find(|k| (page_size as usize).is_multiple_of(*k) && fits(*k))
        .unwrap_or(1);
    items.truncate(k);
    let lowered = Lowered {
        page: (page.max(1) - 1) * (page_size / k as u32) + 1,
        page_size: k as u32,
        requested_page_size: page_size,
    };
    (items, Some(lowered))
}

/// Which messages of a thread fit: the first one and the most recent ones
/// (`None` when all fit). Returns the kept indexes' split point: messages
/// `0` and `from..` are kept.
pub fn thread_tail(sizes: &[usize], frame: usize) -> Option<usize> {
    let total: usize = sizes.iter().sum::<usize>() + frame;
    if total <= RESULT_BUDGET || sizes.len() < 2 {
        return None;
    }
    let mut used = frame + sizes[0];
    let mut from = sizes.len();
    while from > 1 && used + sizes[from - 1] + OMITTED_NOTE_BYTES <= RESULT_BUDGET {
        from -= 1;
        used += sizes[from];
    }
    Some(from)
}

/// Room for the note that says what was left out.
const OMITTED_NOTE_BYTES: usize = 300;

/// How many messages from `start` fit (at least one).
pub fn thread_window(sizes: &[usize], start: usize, frame: usize) -> usize {
    let mut used = frame + OMITTED_NOTE_BYTES;
    let mut count = 0;
    for size in &sizes[start.min(sizes.len())..] {
        if count > 0 && used + size > RESULT_BUDGET {
            break;
        }
        used += size;
        count += 1;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutting_keeps_whole_characters_and_says_the_length() {
        assert_eq!(cut("héllo".into(), 10), ("héllo".into(), None));
        assert_eq!(cut("héllo".into(), 2), ("hé".into(), Some(5)));
    }

    #[test]
    fn a_page_that_does_not_fit_shrinks_to_a_divisor() {
        let items: Vec<String> = (0..100).map(|_| "x".repeat(2_000)).collect();
        let (kept, lowered) = fitting_page(items, 3, 100);
        let lowered = lowered.unwrap();
        assert_eq!(kept.len(), 10);
        assert_eq!(
            (lowered.page, lowered.page_size),
            (21, 10),
            "items 200..210"
        );
        let small: Vec<String> = (0..10).map(|_| "x".into()).collect();
        assert_eq!(fitting_page(small, 1, 10).1, None);
    }

    #[test]
    fn a_long_thread_keeps_its_first_and_latest_messages() {
        let sizes = vec![1_000; 200];
        let from = thread_tail(&sizes, 1_000).unwrap();
        assert!(from > 100 && from < 200, "{from}");
        assert_eq!(thread_tail(&sizes[..10], 1_000), None);
        assert_eq!(thread_window(&sizes, 5, 1_000), 32);
    }
}
