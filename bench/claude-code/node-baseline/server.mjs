// A straightforward cStar MCP server on the official TypeScript SDK, as a
// baseline for BENCHMARKS.md: the same nine tools, plain fetch to the cStar
// API, results as the JSON of cStar's `data`, errors as one text line.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";
import { readFileSync } from "node:fs";

const BASE = (process.env.CSTAR_BASE_URL || "https://www.cstar.help").replace(/\/$/, "");
const KEY = process.env.CSTAR_API_KEY;
const EVENTS = JSON.parse(readFileSync(new URL("./events.json", import.meta.url)));

let teamId;
async function api(method, path, body) {
  const res = await fetch(BASE + "/api/v1" + path, {
    method,
    headers: { Authorization: `Bearer ${KEY}`, "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = json.error || {};
    throw new Error(`cStar API error ${res.status}: ${err.message || res.statusText}`);
  }
  return json;
}
async function team() {
  teamId ??= (await api("GET", "/auth/whoami")).data.teamId;
  return `/teams/${teamId}`;
}
function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? "?" + s : "";
}
const ok = (data) => ({ content: [{ type: "text", text: JSON.stringify(data, null, 2) }] });
const fail = (e) => ({ isError: true, content: [{ type: "text", text: `Error: ${e.message}` }] });
function tool(server, name, description, inputSchema, run) {
  server.registerTool(name, { description, inputSchema }, async (args) => {
    try {
      return ok(await run(args));
    } catch (e) {
      return fail(e);
    }
  });
}

const server = new McpServer({ name: "cstar", version: "1.0.0" });
const page = { page: z.number().int().optional(), pageSize: z.number().int().optional() };

tool(server, "cstar_list_tickets", "List support tickets in cStar. Supports filtering by status, priority, customer, assignee, tag and a search query, with pagination.", {
  status: z.enum(["new", "open", "pending", "resolved", "closed"]).optional(),
  priority: z.enum(["low", "normal", "high", "urgent"]).optional(),
  customerId: z.string().optional(),
  assignedTo: z.string().optional(),
  search: z.string().optional(),
  tag: z.string().optional(),
  ...page,
}, async (a) => (await api("GET", `${await team()}/tickets${query(a)}`)).data);

tool(server, "cstar_get_ticket", "Get a single cStar support ticket by its ID, including the full message thread between the customer and agents.", {
  ticketId: z.string(),
}, async ({ ticketId }) => (await api("GET", `${await team()}/tickets/${encodeURIComponent(ticketId)}`)).data);

tool(server, "cstar_create_ticket", "Create a new support ticket in cStar. Requires a title; optionally set priority, status, customer, tags, notes and an initial message.", {
  title: z.string(),
  priority: z.enum(["low", "normal", "high", "urgent"]).optional(),
  status: z.enum(["new", "open", "pending", "resolved", "closed"]).optional(),
  customerId: z.string().optional(),
  customerName: z.string().optional(),
  tags: z.array(z.string()).optional(),
  notes: z.string().optional(),
  initialMessage: z.string().optional(),
}, async (a) => (await api("POST", `${await team()}/tickets`, a)).data);

tool(server, "cstar_list_customers", "List customers in cStar. Supports filtering by status, sentiment, tag and a search query over name and email, with pagination.", {
  status: z.enum(["active", "inactive"]).optional(),
  sentiment: z.string().optional(),
  search: z.string().optional(),
  tag: z.string().optional(),
  ...page,
}, async (a) => (await api("GET", `${await team()}/customers${query(a)}`)).data);

tool(server, "cstar_get_customer", "Get a single cStar customer by their ID, including contact details, status, sentiment, tags and custom fields.", {
  customerId: z.string(),
}, async ({ customerId }) => (await api("GET", `${await team()}/customers/${encodeURIComponent(customerId)}`)).data);

tool(server, "cstar_list_articles", "List or search knowledge base articles in cStar. Filter by status, category, visibility, tag or a search query, with pagination.", {
  status: z.enum(["draft", "published", "archived"]).optional(),
  category: z.string().optional(),
  isPublic: z.boolean().optional(),
  search: z.string().optional(),
  tag: z.string().optional(),
  ...page,
}, async (a) => (await api("GET", `${await team()}/articles${query(a)}`)).data);

tool(server, "cstar_trigger_webhook", "Trigger a test webhook event in cStar, delivered to every webhook subscribed to that event type. Requires a secret API key.", {
  event: z.string(),
}, async ({ event }) => (await api("POST", `${await team()}/webhooks/trigger-test`, { event })).data);

tool(server, "cstar_get_status", "Get the connection status: the team the API key belongs to, the key type and environment.", {},
  async () => (await api("GET", "/auth/whoami")).data);

tool(server, "cstar_list_events", "List all webhook event types that cStar can send, with their category and description. Optionally filter by category.", {
  category: z.string().optional(),
}, async ({ category }) => EVENTS.filter((e) => !category || e.category === category));

await server.connect(new StdioServerTransport());
