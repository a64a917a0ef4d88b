// The benchmark's JS client (benchmarks/agui.py): one run of an AG-UI agent through the official
// client, timed. Prints JSON: ms from the request to the first text and to the end, the lag
// between the production of the first text (when its first token carries "@<wall-clock ms>") and
// its arrival here, every text delta in arrival order, the number of messages and sub-agents.
// Usage: node first_token.mjs URL
import { HttpAgent } from "@ag-ui/client";

const [url] = process.argv.slice(2);
const now = () => performance.timeOrigin + performance.now();
const agent = new HttpAgent({
  url,
  initialMessages: [{ id: "question", role: "user", content: "go" }],
});
let firstAt = null;
let firstLagMs = null;
let subagents = 0;
const deltas = [];
const messages = new Set();
const started = now();
await agent.runAgent({}, {
  onEvent({ event }) {
    if (event.type === "SUBAGENT_STARTED") subagents += 1;
    if (event.type !== "TEXT_MESSAGE_CONTENT") return;
    const at = now();
    deltas.push(event.delta);
    messages.add(event.messageId);
    if (firstAt === null) {
      firstAt = at;
      const stamp = /@(\d+\.\d+)/.exec(event.delta);
      if (stamp) firstLagMs = at - Number(stamp[1]);
    }
  },
});
const ended = now();
if (firstAt === null) {
  console.error(`no text arrived from ${url}`);
  process.exit(1);
}
process.stdout.write(JSON.stringify({
  firstMs: firstAt - started, totalMs: ended - started, firstLagMs, subagents, deltas,
  messages: messages.size,
}));
