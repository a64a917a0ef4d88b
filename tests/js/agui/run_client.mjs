// Runs one agent through the official AG-UI client (`@ag-ui/client`'s HttpAgent) and prints
// what it saw as JSON: every event (each validated against `@ag-ui/core`'s schema), the text of
// each message in the order the messages started, and the sub-agent calls with their parents.
// Usage: node run_client.mjs URL QUESTION [TOKEN]. A protocol violation (the client verifies
// every event) or an invalid event makes it exit non-zero, saying why.
import { HttpAgent } from "@ag-ui/client";
import { EventSchema } from "@ag-ui/core/schemas";

const [url, question, token] = process.argv.slice(2);
if (!url || !question) {
  console.error("usage: node run_client.mjs URL QUESTION [TOKEN]");
  process.exit(2);
}

const agent = new HttpAgent({
  url,
  headers: token ? { Authorization: `Bearer ${token}` } : {},
  initialMessages: [{ id: "question", role: "user", content: question }],
});

const events = [];
const invalid = [];
const texts = new Map();
const subagents = [];
const received = [];

await agent.runAgent(
  { forwardedProps: {} },
  {
    onEvent({ event }) {
      received.push(performance.now());
      const checked = EventSchema.safeParse(event);
      if (!checked.success) invalid.push({ type: event.type, issues: checked.error.issues });
      events.push(event);
    },
    onTextMessageStartEvent({ event }) {
      texts.set(event.messageId, { subagentRunId: event.subagentRunId ?? null, text: "" });
    },
    onTextMessageContentEvent({ event }) {
      texts.get(event.messageId).text += event.delta;
    },
  },
);
for (const event of events) {
  if (event.type === "SUBAGENT_STARTED") {
    subagents.push({
      id: event.subagentRunId,
      name: event.name,
      parent: event.parentSubagentRunId ?? null,
    });
  }
}
const messages = [...texts.entries()].map(([id, m]) => ({ id, ...m }));
// The conversation the client keeps: the question, then every message it assembled.
const kept = agent.messages.map((m) => ({ id: m.id, role: m.role, content: m.content }));
process.stdout.write(JSON.stringify({ events, invalid, messages, subagents, kept, received }));
if (invalid.length) {
  console.error(`invalid events: ${JSON.stringify(invalid)}`);
  process.exit(1);
}
