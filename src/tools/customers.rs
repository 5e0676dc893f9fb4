//! Customer tools: list and read profiles.

use super::result::Json;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::CstarServer;
use super::args::{self, Parameters};
use super::errors::ToolError;
use super::views::{CustomerSummary, CustomerView, Pagination};
use crate::api::models::{CustomerQuery, CustomerStatus, Sentiment};

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListCustomersParams {
    /// Status.
    pub status: Option<CustomerStatus>,
    /// Only this sentiment, sent as given: accounts use positive/negative or happy/frustrated/angry.
    pub sentiment: Option<Sentiment>,
    /// Text to find in names or email addresses.
    #[schemars(length(max = args::MAX_SEARCH))]
    pub search: Option<String>,
    /// Exact tag.
    #[schemars(length(max = args::MAX_SHORT))]
    pub tag: Option<String>,
    /// Page, from 1.
    #[schemars(range(min = 1))]
    pub page: Option<u32>,
    /// Per page, 1-100 (default 20).
    #[schemars(range(min = 1, max = 100))]
    pub page_size: Option<u32>,
}

/// One page of customers.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CustomerList {
    pub customers: Vec<CustomerSummary>,
    pub pagination: Pagination,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GetCustomerParams {
    /// cus_... or UUID.
    #[schemars(length(max = args::MAX_ID))]
    pub customer_id: String,
}

/// One customer's full profile.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CustomerDetail {
    pub customer: CustomerView,
}

#[tool_router(router = customer_tools, vis = "pub(super)")]
impl CstarServer {
    /// Find customers by name or email (search), status, sentiment or tag. Returns email, sentiment, tags and ticket count; cstar_get_customer reads the rest.
    #[tool(
        name = "cstar_list_customers",
        title = "List customers",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn list_customers(
        &self,
        Parameters(params): Parameters<ListCustomersParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<CustomerList>, ToolError> {
        let client = self.client_for(&context);
        let (page, page_size) = args::paging(params.page, params.page_size)?;
        let query = CustomerQuery {
            status: params.status,
            sentiment: params.sentiment,
            search: args::text(params.search),
            tag: args::tag(params.tag),
            page,
            page_size,
        };
        let (customers, pagination) = self
            .page(
                &context,
                client.list_customers(&query),
                CustomerSummary::new,
            )
            .await?;
        Ok(Json(CustomerList {
            customers,
            pagination,
        }))
    }

    /// Read one customer's profile by id: email, status, sentiment, tags, notes, custom fields and ticket count. cstar_list_tickets with customerId lists their tickets.
    #[tool(
        name = "cstar_get_customer",
        title = "Get a customer",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn get_customer(
        &self,
        Parameters(params): Parameters<GetCustomerParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<CustomerDetail>, ToolError> {
        let client = self.client_for(&context);
        let id = params.customer_id.trim();
        let error_context = self.context(Some(("Customer", id)), Some("cstar_list_customers"));
        let customer = self
            .call(&context, error_context, client.get_customer(id))
            .await?;
        Ok(Json(CustomerDetail {
            customer: CustomerView::new(customer),
        }))
    }
}
