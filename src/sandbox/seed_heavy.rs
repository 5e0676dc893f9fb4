//! Demo records that make result budgets real: a ticket with a very long
//! thread, a message and three articles of a few hundred KB, and titles and
//! names in scripts that cost more tokens per byte. Added after the
//! regular seed without drawing from its generator, so the rest of the
//! demo data stays as it was; they sit past the first page of each list.

use super::dataset::Dataset;
use super::records::MessageRecord;

/// Where the heavy records go, counted in the newest-first ticket list.
const LONG_THREAD: usize = 30;
const HUGE_MESSAGE: usize = 31;
const SCRIPT_TITLES: usize = 32;
/// Customers renamed in other scripts, from this index on.
const SCRIPT_NAMES: usize = 40;

const TITLES: [&str; 6] = [
    "ログイン後にダッシュボードが真っ白になります",
    "ไม่สามารถรีเซ็ตรหัสผ่านได้หลังจากอัปเดต",
    "भुगतान के बाद चालान डाउनलोड नहीं हो रहा है",
    "لا يمكنني تصدير التقارير إلى ملف CSV",
    "发票上的税号显示错误，请尽快修正",
    "🚨🔥 Checkout broken 💳❌ for 🇩🇪 customers 😡🙏",
];

const NAMES: [&str; 5] = [
    "山田 花子",
    "สมชาย ใจดี",
    "अनन्या शर्मा",
    "محمد الفارسي",
    "김민준",
];

/// Adds the heavy records to a freshly seeded data set.
pub fn add(dataset: &mut Dataset) {
    long_thread(dataset);
    huge_message(dataset);
    script_titles(dataset);
    huge_articles(dataset);
}

fn thread_of(dataset: &mut Dataset, index: usize) -> Option<&mut Vec<MessageRecord>> {
    let uuid = dataset.tickets.get(index)?.ids.uuid.clone();
    dataset.messages.get_mut(&uuid)
}

/// 400 more messages on one ticket, about 150 KB of thread.
fn long_thread(dataset: &mut Dataset) {
    let Some(thread) = thread_of(dataset, LONG_THREAD) else {
        return;
    };
    let Some(first) = thread.first().cloned() else {
        return;
    };
    for n in 1..=400 {
        let (sender, name) = if n % 2 == 1 {
            ("customer", first.sender_name.clone())
        } else {
            ("agent", "Riley Chen".to_owned())
        };
        thread.push(MessageRecord {
            id: format!("msg_{:032x}", 0x7e11_0000_u128 + n),
            ticket_id: first.ticket_id.clone(),
            content: format!(
                "Update {n}: the sync job ran again at step {n} and the export still stops with error E{:04}. \
                 We retried with a fresh token, cleared the cache and checked the webhook logs; \
                 the attached trace shows the same timeout after about {} seconds.",
                1000 + n,
                30 + n % 60
            ),
            sender,
            sender_name: name,
            is_internal: n % 10 == 0,
            created_at: first.created_at.clone(),
        });
    }
    let count = thread.len();
    dataset.tickets[LONG_THREAD].message_count = count;
}

/// A customer who pasted a 300 KB log into one message, with the IPv4
/// and IPv6 addresses of the clients it served.
fn huge_message(dataset: &mut Dataset) {
    let Some(thread) = thread_of(dataset, HUGE_MESSAGE) else {
        return;
    };
    let Some(first) = thread.first_mut() else {
        return;
    };
    let mut log = String::from("Here is the full log from our server, sorry it is long:\n\n");
    let mut line = 0;
    while log.len() < 300 * 1024 {
        line += 1;
        let client = match line % 5 {
            0 => format!("2001:db8::{line:x}"),
            _ => format!("192.0.2.{}", 1 + line % 254),
        };
        log.push_str(&format!(
            "2026-03-02T00:{:02}:{:02}Z worker-{} INFO request id=req_{line:08x} client={client} path=/api/v1/export status=504 duration_ms={}\n",
            line / 60 % 60,
            line % 60,
            line % 8,
            2000 + line % 997
        ));
    }
    first.content = log;
}

fn script_titles(dataset: &mut Dataset) {
    for (offset, title) in TITLES.iter().enumerate() {
        if let Some(ticket) = dataset.tickets.get_mut(SCRIPT_TITLES + offset) {
            ticket.title = (*title).to_owned();
        }
    }
    for (offset, name) in NAMES.iter().enumerate() {
        if let Some(customer) = dataset.customers.get_mut(SCRIPT_NAMES + offset) {
            customer.name = (*name).to_owned();
        }
    }
}

/// Three articles of about 250 KB each: full API references.
fn huge_articles(dataset: &mut Dataset) {
    let count = dataset.articles.len();
    for article in dataset.articles.iter_mut().skip(count.saturating_sub(3)) {
        article.content = reference(&article.title);
    }
}

fn reference(title: &str) -> String {
    let mut content = format!("# {title}\n\nThe complete reference, endpoint by endpoint.\n");
    let mut section = 0;
    while content.len() < 250 * 1024 {
        section += 1;
        content.push_str(&format!(
            "\n## Endpoint {section}\n\n`GET /api/v1/teams/{{teamId}}/resource-{section}` returns one page of records. \
             Query parameters: `page` (from 1), `pageSize` (1-100), `search`. Errors: 400 `parameter_invalid`, \
             401 `invalid_api_key`, 404 `resource_missing`, 429 `rate_limit_exceeded` with `Retry-After`.\n\n\
             ```json\n{{ \"success\": true, \"data\": [{{ \"id\": \"rec_{section:08}\" }}] }}\n```\n"
        ));
    }
    content
}
