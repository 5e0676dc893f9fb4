//! Deterministic demo data for the sandbox: the "Acme Support" team with
//! about 200 tickets and their message threads, 60 customers, 30 Markdown
//! articles in 6 categories and a few webhooks. The same seed always gives
//! the same data, so snapshots and examples stay stable.

use serde_json::{Map, Value, json};

use super::dataset::Dataset;
use super::personal_data::customer_phone;
use super::records::{
    ArticleRecord, CategoryRecord, CustomerRecord, Ids, MessageRecord, TicketRecord, WebhookRecord,
};
use crate::time::iso8601;

/// A sandbox team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Team {
    pub id: &'static str,
    pub name: &'static str,
    pub slug: &'static str,
}

/// The main demo team: `--sandbox` and most demo keys use it.
pub const ACME: Team = Team {
    id: "5b0c6c1e-2f4a-4d8e-9a51-3c2f1e7d9b40",
    name: "Acme Support",
    slug: "acme-support",
};

/// A second team, so integrators can check that keys never cross teams.
pub const GLOBEX: Team = Team {
    id: "9d2e4f60-7a1b-4c3d-8e5f-6a7b8c9d0e1f",
    name: "Globex Help",
    slug: "globex-help",
};

/// The main demo team's id, name and slug.
pub const TEAM_ID: &str = ACME.id;
pub const TEAM_NAME: &str = ACME.name;
pub const TEAM_SLUG: &str = ACME.slug;

/// 2026-03-02T09:00:00Z: the seed data is dated in the weeks before this.
pub const EPOCH: u64 = 1_772_442_000;

const TICKET_COUNT: usize = 200;
const CUSTOMER_COUNT: usize = 60;

/// SplitMix64: small, fast and fully determined by its seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn uuid_bits(&mut self) -> u128 {
        // Shaped as a version-4 UUID so it looks like cStar's.
        let raw = (u128::from(self.next_u64()) << 64) | u128::from(self.next_u64());
        (raw & !(0xF << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62)
    }
}

const FIRST_NAMES: [&str; 20] = [
    "Casey",
    "Jordan",
    "Priya",
    "Mateo",
    "Aisha",
    "Lars",
    "Mei",
    "Tomás",
    "Fatima",
    "Noah",
    "Elena",
    "Kwame",
    "Sofia",
    "Hiroshi",
    "Amara",
    "Liam",
    "Zara",
    "Dmitri",
    "Ines",
    "Oluwaseun",
];
const LAST_NAMES: [&str; 15] = [
    "Patel",
    "Nguyen",
    "García",
    "Okafor",
    "Schmidt",
    "Kowalski",
    "Tanaka",
    "Haddad",
    "Silva",
    "Johansson",
    "Murphy",
    "Rossi",
    "Mensah",
    "Dubois",
    "Chen",
];
const COMPANIES: [&str; 8] = [
    "northwind.io",
    "globex.com",
    "initech.dev",
    "umbrella.co",
    "hooli.xyz",
    "stark.industries",
    "example.com",
    "wayne.enterprises",
];
const CUSTOMER_TAGS: [&str; 6] = [
    "vip",
    "enterprise",
    "trial",
    "beta",
    "churn-risk",
    "partner",
];
const SENTIMENTS: [&str; 3] = ["positive", "neutral", "negative"];
const PLANS: [&str; 4] = ["free", "starter", "pro", "enterprise"];

const AGENTS: [(&str, &str); 5] = [
    ("mem_3f1a9c2e7b5d4e6f8a0b1c2d3e4f5a6b", "Riley Chen"),
    ("mem_8b2c4d6e0f1a3b5c7d9e1f2a4b6c8d0e", "Sam Okoro"),
    ("mem_1c3e5a7b9d0f2e4a6c8b0d1f3a5c7e9b", "Alex Moreau"),
    ("mem_6d8f0a2c4e6b8d0f1a3c5e7b9d1f3a5c", "Jamie Lindqvist"),
    ("mem_9e1a3c5b7d9f0e2a4c6b8d0f2a4c6e8b", "Morgan Ibe"),
];

/// (title, opening message, tags)
const ISSUES: [(&str, &str, &[&str]); 20] = [
    (
        "Cannot reset password",
        "The reset link in the email says it has expired, even when I click it straight away. My login is {email}.",
        &["login", "account"],
    ),
    (
        "Charged twice this month",
        "My card statement shows two charges for the Pro plan on the 3rd, both on 4111 1111 1111 1111 (order #100234567). Please refund one to IBAN GB82 WEST 1234 5698 7654 32.",
        &["billing"],
    ),
    (
        "Export to CSV times out",
        "Exporting our ticket history spins for a minute and then fails with a timeout. Request id 7f9c2e1a-3b4d-4e5f-8a6b-1c2d3e4f5a6b, at 2026-02-27T10:41:09Z.",
        &["export", "bug"],
    ),
    (
        "Widget not loading on Safari",
        "The chat widget never appears on our site in Safari 18; Chrome is fine. The console shows a blocked request to 198.51.100.23.",
        &["widget", "bug"],
    ),
    (
        "How do I add a teammate?",
        "We hired two new agents, ALICE.Nguyen+Support@Mail.Example.COM and Bob O'Hara <bob.ohara@eu.example.co.uk>. Where do I invite them?",
        &["account", "how-to"],
    ),
    (
        "Webhook deliveries failing",
        "Our endpoint at 203.0.113.10 (2001:db8:85a3::8a2e:370:7334 over IPv6) returns 200 but the dashboard shows every delivery as failed.",
        &["webhooks", "api"],
    ),
    (
        "API returns 429 too often",
        "We are well under 1,000 requests an hour, all from 192.0.2.44, but still get rate limited.",
        &["api", "rate-limit"],
    ),
    (
        "Request: dark mode for the widget",
        "Our site is dark themed and the white widget stands out. Any plans for a dark variant? Happy to talk it through on {phone}.",
        &["feature-request", "widget"],
    ),
    (
        "SSO login loops back to start",
        "After signing in with Okta we land on the login page again. Okta shows the session from [2001:db8::8a2e:370:7334]:443, then ::ffff:198.51.100.7.",
        &["login", "sso"],
    ),
    (
        "Invoice needs our VAT number",
        "Please add our VAT number GB123456789 to past invoices for our accountant (mailto:carol.dubois@example.org). The IBAN on them, GB83 WEST 1234 5698 7654 32, has a typo: it is DE89370400440532013000.",
        &["billing", "invoice"],
    ),
    (
        "Knowledge base search misses articles",
        "Searching 'refund' does not find the article titled 'Refund policy'.",
        &["knowledge-base", "search"],
    ),
    (
        "Emails to support@ not creating tickets",
        "Since yesterday, mail forwarded to our support address does not create tickets. Our order ORD-2026-004417 came from ana.costa+cstar@mail.example.net.",
        &["email", "bug"],
    ),
    (
        "Downgrade plan at end of cycle",
        "We want to move from Pro to Starter when the current period ends. Call me on +44 20 7946 0958 or +1 (415) 555-0132.",
        &["billing", "plan"],
    ),
    (
        "Custom fields missing in export",
        "The CSV export leaves out our custom fields, such as our PO number 4000 1234 5678 9010.",
        &["export", "custom-fields"],
    ),
    (
        "Mobile app crashes on launch",
        "The iOS app closes right after the splash screen since the last update, v2.10.3 (build 4.18.2).",
        &["mobile", "bug"],
    ),
    (
        "Slow dashboard after import",
        "After importing 40k tickets, the dashboard takes 10 seconds to load.",
        &["performance"],
    ),
    (
        "Can't attach files over 5 MB",
        "Customers say attachments over 5 MB fail without an error. The one that failed had card numbers in it: 5500-0000-0000-0004, and 4242.4242.4242.4242 written with dots.",
        &["attachments"],
    ),
    (
        "GDPR data deletion request",
        "A customer asked us to delete all their data (Maria Keller, 0049 30 1234567, 378282246310005 on file, refunds to NL91-ABNA-0417-1643-00, and a card she wrote on two lines:\n5555 5555\n5555 4444). How do we do that?",
        &["privacy", "gdpr"],
    ),
    (
        "SLA timer kept running on pending",
        "The response SLA breached while the ticket was waiting on the customer.",
        &["sla"],
    ),
    (
        "Zapier integration stopped",
        "Our Zap that creates tickets from form submissions has stopped triggering. Zap id 1234567890123456; the office line is (415) 555-0199 or 020 7946 0018, or +33 1 99 00 12 34 from Paris.",
        &["integrations"],
    ),
];

const AGENT_REPLIES: [&str; 6] = [
    "Thanks for reaching out! I'm looking into this now and will update you shortly.",
    "Could you send a screenshot and the approximate time this happened?",
    "I've reproduced the problem and passed it to our engineers.",
    "A fix has been deployed. Could you try again and let me know?",
    "I've made that change on your account. Anything else I can help with?",
    "Here's the guide that walks through it step by step: see our knowledge base.",
];
const CUSTOMER_FOLLOW_UPS: [&str; 5] = [
    "Here's the screenshot you asked for.",
    "It happened again this morning around 9:00. I typed 4111 1111 1111 1112 by mistake at first, if that matters.",
    "That worked, thank you!",
    "Still seeing the same problem, unfortunately.",
    "Any update on this? You can reach me on {phone}.",
];
const INTERNAL_NOTES: [&str; 4] = [
    "Checked logs: matches the known issue from last week's deploy (requests from 192.0.2.44).",
    "Customer is on the enterprise plan; prioritise.",
    "Escalated to engineering.",
    "Offered a goodwill credit; waiting for approval.",
];

const STATUSES: [&str; 5] = ["new", "open", "pending", "resolved", "closed"];
const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];

/// (name, slug, description, icon, color, public)
const CATEGORIES: [(&str, &str, &str, &str, &str, bool); 6] = [
    (
        "Getting Started",
        "getting-started",
        "Set up your team and first channels",
        "rocket",
        "#7c3aed",
        true,
    ),
    (
        "Account",
        "account",
        "Logins, teammates and security",
        "user",
        "#2563eb",
        true,
    ),
    (
        "Billing",
        "billing",
        "Plans, invoices and payments",
        "credit-card",
        "#059669",
        true,
    ),
    (
        "Integrations",
        "integrations",
        "Widget, email, Zapier and more",
        "plug",
        "#d97706",
        true,
    ),
    (
        "API & Webhooks",
        "api-webhooks",
        "Build on cStar with the REST API and webhooks",
        "code",
        "#dc2626",
        true,
    ),
    (
        "Internal Playbooks",
        "internal-playbooks",
        "How our team handles tricky cases",
        "book",
        "#4b5563",
        false,
    ),
];

/// (category index, title)
const ARTICLES: [(usize, &str); 30] = [
    (0, "Welcome to cStar"),
    (0, "Set up your support inbox in five minutes"),
    (0, "Install the chat widget"),
    (0, "Invite your teammates"),
    (0, "Import tickets from another help desk"),
    (1, "How to reset your password"),
    (1, "Turn on two-factor authentication"),
    (1, "Set up single sign-on with Okta"),
    (1, "Change your account email"),
    (1, "Delete customer data on request"),
    (2, "Understand your invoice"),
    (2, "Add a VAT number to invoices"),
    (2, "Change or cancel your plan"),
    (2, "Refund policy"),
    (2, "Update your payment method"),
    (3, "Connect your support email address"),
    (3, "Create tickets from Zapier"),
    (3, "Customise the widget's colours"),
    (3, "Use cStar with Slack"),
    (4, "Authenticate with API keys"),
    (4, "Paginate through API results"),
    (4, "Handle rate limits"),
    (4, "Verify webhook signatures"),
    (4, "Retry and idempotency keys"),
    (4, "Webhook event reference"),
    (4, "Test webhooks with the CLI"),
    (5, "Escalating to engineering"),
    (5, "Handling angry customers"),
    (5, "Goodwill credits: when and how much"),
    (5, "Triage checklist for new tickets"),
];

/// Builds the data set for one team's environment. Live and test data, and
/// the two teams, differ because they come from different seeds.
pub fn dataset(team: Team, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let customers = customers(&mut rng);
    let categories = categories(&mut rng);
    let articles = articles(&mut rng, &categories, team);
    let mut dataset = Dataset {
        team_name: team.name.to_owned(),
        team_slug: team.slug.to_owned(),
        tickets: Vec::new(),
        messages: Default::default(),
        customers,
        categories,
        articles,
        webhooks: webhooks(&mut rng),
    };
    for index in 0..TICKET_COUNT {
        let (ticket, thread) = ticket(&mut rng, index, &dataset.customers);
        dataset.messages.insert(ticket.ids.uuid.clone(), thread);
        dataset.tickets.push(ticket);
    }
    dataset
        .tickets
        .sort_by(|a, b| b.created_at.cmp(&a.created_at));
    super::seed_heavy::add(&mut dataset);
    for customer in &mut dataset.customers {
        customer.ticket_count = dataset
            .tickets
            .iter()
            .filter(|t| t.customer_id.as_deref() == Some(customer.id.as_str()))
            .count();
    }
    dataset
}

fn customers(rng: &mut Rng) -> Vec<CustomerRecord> {
    (0..CUSTOMER_COUNT)
        .map(|index| {
            let ids = Ids::from_u128("cus_", rng.uuid_bits());
            let first = FIRST_NAMES[index % FIRST_NAMES.len()];
            let last = LAST_NAMES[(index * 7 + index / FIRST_NAMES.len()) % LAST_NAMES.len()];
            let email = format!(
                "{}.{}{}@{}",
                ascii_lower(first),
                ascii_lower(last),
                index,
                rng.pick(&COMPANIES)
            );
            let mut tags: Vec<String> = Vec::new();
            if rng.chance(40) {
                tags.push(rng.pick(&CUSTOMER_TAGS).to_string());
            }
            let mut custom_fields = Map::new();
            custom_fields.insert("plan".into(), json!(rng.pick(&PLANS)));
            custom_fields.insert("phone".into(), json!(customer_phone(index)));
            let created = EPOCH - 86_400 * (60 + rng.below(300) as u64);
            CustomerRecord {
                id: ids.prefixed.clone(),
                ids,
                object: "customer",
                name: format!("{first} {last}"),
                email,
                status: if rng.chance(85) { "active" } else { "inactive" },
                sentiment: SENTIMENTS[rng.below(SENTIMENTS.len())],
                tags,
                notes: rng.chance(20).then(|| {
                    format!(
                        "Prefers email over chat; mobile {}.",
                        customer_phone(index + 1)
                    )
                }),
                custom_fields,
                ticket_count: 0,
                metadata: Map::new(),
                created_at: iso8601(created),
                updated_at: iso8601(created + 86_400 * rng.below(50) as u64),
            }
        })
        .collect()
}

fn ticket(
    rng: &mut Rng,
    index: usize,
    customers: &[CustomerRecord],
) -> (TicketRecord, Vec<MessageRecord>) {
    let ids = Ids::from_u128("tkt_", rng.uuid_bits());
    let (title, opening, tags) = ISSUES[rng.below(ISSUES.len())];
    let status = STATUSES[index % STATUSES.len()];
    let priority = PRIORITIES[(index / STATUSES.len()) % PRIORITIES.len()];
    let customer = rng.pick(customers);
    let agent = (status != "new").then(|| *rng.pick(&AGENTS));
    let created =
        EPOCH - 3_600 * (index as u64 * 3 + rng.below(3) as u64) - 60 * rng.below(60) as u64;
    let phone = customer.custom_fields["phone"].as_str().unwrap_or_default();
    let opening = format!(
        "{}\n\n{}",
        personal(opening, customer),
        match index % 3 {
            0 => format!("Thanks,\n{}", customer.name),
            1 => format!("{}, {phone}", customer.name),
            _ => format!("Best, {} <{}>", customer.name, customer.email),
        }
    );
    let thread = thread(
        rng,
        &ids.prefixed,
        status,
        &opening,
        customer,
        agent,
        created,
    );
    let updated = thread
        .last()
        .map_or_else(|| iso8601(created), |m| m.created_at.clone());
    let closed = matches!(status, "resolved" | "closed").then(|| updated.clone());
    let first_response = thread
        .iter()
        .find(|m| m.sender == "agent")
        .map(|m| m.created_at.clone());
    let ticket = TicketRecord {
        id: ids.prefixed.clone(),
        ids,
        object: "ticket",
        title: title.to_owned(),
        status: status.to_owned(),
        priority: priority.to_owned(),
        customer_id: Some(customer.id.clone()),
        customer_name: Some(customer.name.clone()),
        assigned_to: agent.map(|(id, _)| id.to_owned()),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        notes: rng
            .chance(25)
            .then(|| rng.pick(&INTERNAL_NOTES).to_string()),
        message_count: thread.len(),
        response_deadline: Some(iso8601(created + 4 * 3_600)),
        resolution_deadline: Some(iso8601(created + 48 * 3_600)),
        first_response_at: first_response,
        response_tier: Some(
            if priority == "urgent" {
                "priority"
            } else {
                "standard"
            }
            .to_owned(),
        ),
        resolution_tier: Some("standard".to_owned()),
        sla_paused: status == "pending",
        metadata: metadata(rng),
        created_at: iso8601(created),
        updated_at: updated,
        closed_at: closed.clone(),
        resolved_at: closed,
    };
    (ticket, thread)
}

fn metadata(rng: &mut Rng) -> Map<String, Value> {
    let mut metadata = Map::new();
    if rng.chance(30) {
        metadata.insert(
            "source".into(),
            json!(rng.pick(&["widget", "email", "api"])),
        );
    }
    metadata
}

/// `text` with the customer's e-mail and phone number where it names them.
fn personal(text: &str, customer: &CustomerRecord) -> String {
    let phone = customer.custom_fields["phone"].as_str().unwrap_or_default();
    text.replace("{email}", &customer.email)
        .replace("{phone}", phone)
}

fn thread(
    rng: &mut Rng,
    ticket_id: &str,
    status: &str,
    opening: &str,
    customer: &CustomerRecord,
    agent: Option<(&str, &str)>,
    created: u64,
) -> Vec<MessageRecord> {
    let customer_name = customer.name.as_str();
    let mut at = created;
    let mut messages = Vec::new();
    let mut push =
        |rng: &mut Rng, content: String, sender: &'static str, name: &str, internal: bool| {
            messages.push(MessageRecord {
                id: format!("msg_{}", uuid::Uuid::from_u128(rng.uuid_bits()).simple()),
                ticket_id: ticket_id.to_owned(),
                content,
                sender,
                sender_name: name.to_owned(),
                is_internal: internal,
                created_at: iso8601(at),
            });
            at += 60 * (5 + rng.below(90) as u64);
        };
    push(rng, opening.to_owned(), "customer", customer_name, false);
    let Some((_, agent_name)) = agent else {
        return messages;
    };
    push(
        rng,
        format!("Ticket assigned to {agent_name}."),
        "system",
        "cStar",
        false,
    );
    let text = rng.pick(&AGENT_REPLIES).to_string();
    push(rng, text, "agent", agent_name, false);
    if rng.chance(40) {
        let text = rng.pick(&INTERNAL_NOTES).to_string();
        push(rng, text, "agent", agent_name, true);
    }
    for _ in 0..rng.below(3) {
        let follow_up: &&str = rng.pick(&CUSTOMER_FOLLOW_UPS);
        let text = personal(follow_up, customer);
        push(rng, text, "customer", customer_name, false);
        let text = rng.pick(&AGENT_REPLIES).to_string();
        push(rng, text, "agent", agent_name, false);
    }
    if matches!(status, "resolved" | "closed") {
        push(
            rng,
            format!("Ticket marked as {status}."),
            "system",
            "cStar",
            false,
        );
    }
    messages
}

fn categories(rng: &mut Rng) -> Vec<CategoryRecord> {
    CATEGORIES
        .iter()
        .enumerate()
        .map(
            |(index, (name, slug, description, icon, color, public))| CategoryRecord {
                id: uuid::Uuid::from_u128(rng.uuid_bits())
                    .hyphenated()
                    .to_string(),
                object: "category",
                name: name.to_string(),
                slug: slug.to_string(),
                description: description.to_string(),
                icon,
                color,
                sort_order: index as u32,
                is_public: *public,
                created_at: iso8601(EPOCH - 86_400 * 200),
                updated_at: iso8601(EPOCH - 86_400 * 100),
            },
        )
        .collect()
}

fn articles(rng: &mut Rng, categories: &[CategoryRecord], team: Team) -> Vec<ArticleRecord> {
    ARTICLES
        .iter()
        .enumerate()
        .map(|(index, (category_index, title))| {
            let category = &categories[*category_index];
            let slug = slugify(title);
            let excerpt = format!("{title}: a short guide from the {} section.", category.name);
            let steps: Vec<String> = (1..=3 + rng.below(3))
                .map(|step| format!("{step}. Step {step} of {}.", ascii_lower(title)))
                .collect();
            let content = format!(
                "# {title}\n\n{excerpt}\n\n## Steps\n\n{}\n\n## Still stuck?\n\nReply to your ticket and an agent will help.\n",
                steps.join("\n")
            );
            let status = match index % 10 {
                7 => "draft",
                9 => "archived",
                _ => "published",
            };
            let created = EPOCH - 86_400 * (150 - index as u64 * 4);
            let words = content.split_whitespace().count();
            ArticleRecord {
                id: format!("art_{}", uuid::Uuid::from_u128(rng.uuid_bits()).simple()),
                object: "article",
                title: title.to_string(),
                slug,
                excerpt,
                content,
                category: category.name.clone(),
                category_id: category.id.clone(),
                status,
                is_public: category.is_public && status == "published",
                tags: vec![category.slug.clone()],
                notes: None,
                view_count: rng.below(2_000) as u64,
                use_count: rng.below(80) as u64,
                read_time: format!("{} min", 1 + words / 200),
                published_at: (status != "draft").then(|| iso8601(created + 86_400)),
                meta_description: Some(format!("{title} | {} help center", team.name)),
                metadata: Map::new(),
                created_at: iso8601(created),
                updated_at: iso8601(created + 86_400 * 3),
            }
        })
        .collect()
}

fn webhooks(rng: &mut Rng) -> Vec<WebhookRecord> {
    let hooks: [(&str, &str, &[&str], bool); 4] = [
        (
            "Slack alerts",
            "https://hooks.example.com/slack",
            &["ticket.created", "ticket.closed"],
            true,
        ),
        (
            "CRM sync",
            "https://crm.example.com/cstar",
            &["customer.*", "ticket.*"],
            true,
        ),
        (
            "Analytics",
            "https://analytics.example.com/ingest",
            &["*"],
            true,
        ),
        (
            "Old integration",
            "https://legacy.example.com/hook",
            &["ticket.updated"],
            false,
        ),
    ];
    hooks
        .iter()
        .map(|(name, url, events, active)| WebhookRecord {
            id: format!("whk_{}", uuid::Uuid::from_u128(rng.uuid_bits()).simple()),
            name: name.to_string(),
            url: url.to_string(),
            events: events.iter().map(|e| e.to_string()).collect(),
            is_active: *active,
            // Never revealed (only create returns a secret), so not drawn from
            // the seed: the demo data stays as it was.
            secret: format!("whsec_{}", uuid::Uuid::new_v4().simple()),
            created_at: iso8601(EPOCH - 86_400 * 90),
            updated_at: iso8601(EPOCH - 86_400 * 30),
        })
        .collect()
}

fn ascii_lower(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'á' | 'à' => 'a',
            'é' | 'è' => 'e',
            'í' => 'i',
            'ó' => 'o',
            'ú' => 'u',
            other => other,
        })
        .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
        .collect::<String>()
        .to_ascii_lowercase()
}

fn slugify(title: &str) -> String {
    ascii_lower(title)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("-")
}
