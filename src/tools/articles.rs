//! Knowledge-base tool: list and search articles.

use super::result::Json;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::CstarServer;
use super::args::{self, Parameters};
use super::errors::ToolError;
use super::sanitize::clean;
use super::views::{ArticleView, Pagination};
use crate::api::Client;
use crate::api::ids::is_uuid;
use crate::api::models::{ArticleQuery, ArticleStatus, Category};
use crate::limits::{QUOTED, quote};

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListArticlesParams {
    /// Status.
    pub status: Option<ArticleStatus>,
    /// Category name (e.g. Billing), slug or id.
    #[schemars(length(max = args::MAX_SHORT))]
    pub category: Option<String>,
    /// Only public (true) or only internal (false) articles.
    pub is_public: Option<bool>,
    /// Words to find in titles and bodies.
    #[schemars(length(max = args::MAX_SEARCH))]
    pub search: Option<String>,
    /// Exact tag.
    #[schemars(length(max = args::MAX_SHORT))]
    pub tag: Option<String>,
    /// Include full Markdown bodies (default false: excerpts).
    pub include_content: Option<bool>,
    /// Page, from 1.
    #[schemars(range(min = 1))]
    pub page: Option<u32>,
    /// Per page, 1-100 (default 20).
    #[schemars(range(min = 1, max = 100))]
    pub page_size: Option<u32>,
}

/// One page of knowledge-base articles.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ArticleList {
    // Articles; content only when includeContent was true.
    pub articles: Vec<ArticleView>,
    pub pagination: Pagination,
}

#[tool_router(router = article_tools, vis = "pub(super)")]
impl CstarServer {
    /// Search the knowledge base (help center articles) by words, category, status, tag or visibility (isPublic). Returns excerpts, or bodies with includeContent.
    #[tool(
        name = "cstar_list_articles",
        title = "List knowledge-base articles",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn list_articles(
        &self,
        Parameters(params): Parameters<ListArticlesParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<ArticleList>, ToolError> {
        let client = self.client_for(&context);
        let (page, page_size) = args::paging(params.page, params.page_size)?;
        let category = match args::text(params.category) {
            Some(category) if !is_uuid(&category) => {
                Some(self.category_id(&context, &client, &category).await?)
            }
            other => other,
        };
        let query = ArticleQuery {
            status: params.status,
            category,
            is_public: params.is_public,
            search: args::text(params.search),
            tag: args::tag(params.tag),
            page,
            page_size,
        };
        let include_content = params.include_content.unwrap_or(false);
        let (articles, pagination) = self
            .page(&context, client.list_articles(&query), |article| {
                ArticleView::new(article, include_content)
            })
            .await?;
        Ok(Json(ArticleList {
            articles,
            pagination,
        }))
    }
}

impl CstarServer {
    /// Resolves a category name, slug or prefixed id to the id cStar's
    /// filter takes, naming the valid categories when nothing matches and
    /// their ids when a name is not unique.
    async fn category_id(
        &self,
        context: &RequestContext<RoleServer>,
        client: &Client,
        wanted: &str,
    ) -> Result<String, ToolError> {
        let categories = self
            .call(context, self.context(None, None), client.list_categories())
            .await?;
        // Compared as the model saw them: both sides cleaned of hidden text.
        let wanted = clean(wanted);
        let matches: Vec<_> = categories
            .iter()
            .filter(|c| {
                c.id == wanted
                    || clean(&c.name).eq_ignore_ascii_case(&wanted)
                    || c.slug
                        .as_deref()
                        .is_some_and(|s| clean(s).eq_ignore_ascii_case(&wanted))
            })
            .collect();
        let shown = quote(&wanted, QUOTED);
        match matches.as_slice() {
            [only] => Ok(only.id.clone()),
            [] => Err(ToolError::invalid_argument(
                "category",
                format!("no category is called '{shown}'"),
                format!("Valid categories: {}.", names(&categories)),
            )),
            several => {
                let ids: Vec<&str> = several.iter().map(|c| c.id.as_str()).collect();
                Err(ToolError::invalid_argument(
                    "category",
                    format!("{} categories are called '{shown}'", several.len()),
                    format!("Pass one of their ids instead: {}.", ids.join(", ")),
                ))
            }
        }
    }
}

/// How many category names an error lists.
const MAX_NAMED: usize = 20;

/// The categories' names for an error: each cleaned, cut to one short
/// line and quoted, so cStar's text cannot pass for the server's; each
/// once, and at most `MAX_NAMED`.
fn names(categories: &[Category]) -> String {
    let mut named: Vec<String> = Vec::new();
    for category in categories {
        let name = format!("'{}'", quote(&clean(&category.name), QUOTED));
        if !named.contains(&name) {
            named.push(name);
        }
    }
    let more = named.len().saturating_sub(MAX_NAMED);
    named.truncate(MAX_NAMED);
    if more > 0 {
        named.push(format!("and {more} more"));
    }
    named.join(", ")
}
