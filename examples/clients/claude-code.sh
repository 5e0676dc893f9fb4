claude mcp add cstar -e CSTAR_API_KEY=sk_live_your_key_here -- npx -y cstar-mcp
