//! cStar's webhook event catalogue: 35 event types in 7 categories.
//!
//! This is a cStar fact (its webhook documentation), not an API response:
//! cStar has no endpoint that lists event types. The MCP tools serve it to
//! the model, and the sandbox uses it to accept or refuse a test trigger.

/// One webhook event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventType {
    pub name: &'static str,
    pub category: &'static str,
    pub description: &'static str,
}

const fn event(category: &'static str, name: &'static str, description: &'static str) -> EventType {
    EventType {
        name,
        category,
        description,
    }
}

/// The categories, in the order cStar documents them.
pub const CATEGORIES: [&str; 7] = [
    "tickets",
    "customers",
    "articles",
    "team",
    "gamification",
    "community",
    "surveys",
];

/// Every event type, grouped by category.
pub const CATALOGUE: [EventType; 35] = [
    event(
        "tickets",
        "ticket.created",
        "A ticket was created from the app, widget, API or email.",
    ),
    event(
        "tickets",
        "ticket.updated",
        "A ticket's status, priority, assignment, tags, title, notes or custom fields changed; the payload has a changes block.",
    ),
    event(
        "tickets",
        "ticket.closed",
        "A ticket was resolved or closed.",
    ),
    event(
        "tickets",
        "ticket.message_added",
        "A message was added to a ticket.",
    ),
    event("tickets", "ticket.deleted", "A ticket was deleted."),
    event(
        "tickets",
        "ticket.assigned",
        "A ticket was assigned to an agent.",
    ),
    event("customers", "customer.created", "A customer was created."),
    event(
        "customers",
        "customer.updated",
        "A customer's details changed.",
    ),
    event("customers", "customer.deleted", "A customer was deleted."),
    event(
        "customers",
        "customer_group.created",
        "A customer group was created.",
    ),
    event(
        "customers",
        "customer_group.updated",
        "A customer group changed.",
    ),
    event(
        "customers",
        "customer_group.deleted",
        "A customer group was deleted.",
    ),
    event(
        "articles",
        "article.created",
        "A knowledge-base article was created.",
    ),
    event(
        "articles",
        "article.published",
        "An article was published to the public library.",
    ),
    event(
        "articles",
        "article.updated",
        "An article's content or metadata changed.",
    ),
    event("articles", "article.deleted", "An article was deleted."),
    event(
        "team",
        "team.preferences_updated",
        "The team's preferences changed.",
    ),
    event(
        "team",
        "agent.preferences_updated",
        "An agent's preferences changed.",
    ),
    event(
        "gamification",
        "boss.spawned",
        "A boss appeared for the team.",
    ),
    event("gamification", "boss.damaged", "A boss took damage."),
    event("gamification", "boss.defeated", "The team defeated a boss."),
    event(
        "gamification",
        "player.level_up",
        "A player reached a new level.",
    ),
    event(
        "gamification",
        "player.achievement_unlocked",
        "A player unlocked an achievement.",
    ),
    event("gamification", "player.xp_gained", "A player gained XP."),
    event(
        "gamification",
        "player.quest_completed",
        "A player completed a quest.",
    ),
    event(
        "gamification",
        "player.streak_milestone",
        "A player hit a streak milestone.",
    ),
    event(
        "gamification",
        "social.one_up_sent",
        "An agent sent another a one-up.",
    ),
    event(
        "gamification",
        "social.high_five_sent",
        "An agent sent another a high five.",
    ),
    event(
        "community",
        "community_post.created",
        "A community post was created.",
    ),
    event(
        "community",
        "community_post.updated",
        "A community post was edited.",
    ),
    event(
        "community",
        "community_post.status_changed",
        "A community post's status changed.",
    ),
    event(
        "community",
        "community_post.commented",
        "A community post got a comment.",
    ),
    event(
        "community",
        "community_post.deleted",
        "A community post was deleted.",
    ),
    event(
        "community",
        "community_post.voted",
        "A community post got a vote.",
    ),
    event(
        "surveys",
        "survey.submitted",
        "A customer submitted a CSAT survey.",
    ),
];

/// Looks an event type up by its exact name.
pub fn find(name: &str) -> Option<&'static EventType> {
    CATALOGUE.iter().find(|event| event.name == name)
}

/// The valid names closest to `name`, best first, for "did you mean".
pub fn closest(name: &str, count: usize) -> Vec<&'static str> {
    // Event names are short: comparing more than a prefix buys nothing and
    // would make the cost grow with the input.
    let wanted: String = name.trim().chars().take(MAX_COMPARED).collect();
    let wanted = wanted.to_ascii_lowercase();
    let mut scored: Vec<(usize, &'static str)> = CATALOGUE
        .iter()
        .map(|event| (edit_distance(&wanted, event.name), event.name))
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(count)
        .map(|(_, name)| name)
        .collect()
}

/// How much of a name `closest` compares.
const MAX_COMPARED: usize = 64;

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_is_consistent() {
        let mut names: Vec<&str> = CATALOGUE.iter().map(|e| e.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 35);
        for event in CATALOGUE {
            assert!(CATEGORIES.contains(&event.category), "{}", event.name);
        }
    }

    #[test]
    fn suggests_near_names() {
        assert_eq!(closest("ticket.create", 1), vec!["ticket.created"]);
        assert_eq!(
            closest("achievement.unlocked", 1),
            vec!["player.achievement_unlocked"]
        );
    }
}
