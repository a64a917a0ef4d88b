// Streams one message to the A2A agent at argv[2] with @a2a-js/sdk's own client and prints,
// as one JSON line, each artifact's text assembled from its chunks (in order of first
// appearance), the task states seen, and how many artifact chunks arrived.
import { randomUUID } from "node:crypto";
import { Role, TaskState } from "@a2a-js/sdk";
import { ClientFactory } from "@a2a-js/sdk/client";

const [baseUrl, text] = process.argv.slice(2);
const client = await new ClientFactory().createFromUrl(baseUrl);
const request = {
  message: {
    messageId: randomUUID(),
    role: Role.ROLE_USER,
    parts: [{ content: { $case: "text", value: text } }],
  },
};
const artifacts = new Map();
const states = [];
let chunks = 0;
for await (const response of client.sendMessageStream(request)) {
  const payload = response.payload;
  if (payload?.$case === "artifactUpdate") {
    const { artifact, append } = payload.value;
    const piece = artifact.parts.map((part) => part.content?.value ?? "").join("");
    const before = append ? (artifacts.get(artifact.artifactId)?.text ?? "") : "";
    const name = artifacts.get(artifact.artifactId)?.name ?? artifact.name;
    artifacts.set(artifact.artifactId, { name, text: before + piece });
    chunks += 1;
  } else if (payload?.$case === "statusUpdate") {
    states.push(TaskState[payload.value.status.state]);
  }
}
console.log(JSON.stringify({ artifacts: [...artifacts.values()], states, chunks }));
