// The page's A2A client: protocol 1.0 JSON-RPC (SendStreamingMessage, SubscribeToTask,
// CancelTask) to the endpoint the page is served on, read with fetch and a stream reader.
//
// Why 1.0: it is the current protocol and the one our card lists first; its stream events
// say what they are by their one member ({task}, {statusUpdate}, {artifactUpdate}), and a
// stream simply ends by closing, so the reader needs no 0.3 `final` bookkeeping. The page is
// served by the agent's own server, which speaks 1.0 on the same URL as 0.3.

export class RpcError extends Error {
  constructor(message, code) { super(message); this.code = code; }
}

let nextId = 1;

export class Agent {
  constructor(endpoint) {
    this.endpoint = endpoint;
    this.credentials = { kind: "", secret: "" };
  }

  headers(extra = {}) {
    const h = { "Content-Type": "application/json", "A2A-Version": "1.0", ...extra };
    const { kind, secret } = this.credentials;
    if (kind === "api-key" && secret) h["X-API-Key"] = secret;
    if (kind === "bearer" && secret) h["Authorization"] = `Bearer ${secret}`;
    return h;
  }

  async card() {
    const { "Content-Type": _, "A2A-Version": __, ...auth } = this.headers();
    const response = await fetch(new URL("/.well-known/agent-card.json", location.href), { headers: auth });
    if (!response.ok) throw new RpcError(`the agent card answered HTTP ${response.status}`, response.status);
    return response.json();
  }

  async call(method, params) {
    const response = await this.post(method, params, "application/json");
    const body = await response.json();
    if (body.error) throw new RpcError(body.error.message || "error", body.error.code);
    return body.result;
  }

  // SendStreamingMessage: each StreamResponse as it arrives.
  send(message, signal) {
    return this.stream("SendStreamingMessage", { message }, signal);
  }

  // SubscribeToTask: the current Task first, then live events (1.0 §3.1.6).
  subscribe(taskId, signal) {
    return this.stream("SubscribeToTask", { id: taskId }, signal);
  }

  cancel(taskId) {
    return this.call("CancelTask", { id: taskId });
  }

  async post(method, params, accept, signal) {
    const response = await fetch(this.endpoint, {
      method: "POST",
      headers: this.headers({ Accept: accept }),
      body: JSON.stringify({ jsonrpc: "2.0", id: `page-${nextId++}`, method, params }),
      signal,
    });
    if (response.status === 401 || response.status === 403) {
      throw new RpcError(`HTTP ${response.status}: this agent needs credentials (open Connection)`, response.status);
    }
    if (!response.ok) throw new RpcError(`HTTP ${response.status} from the agent`, response.status);
    return response;
  }

  async *stream(method, params, signal) {
    const response = await this.post(method, params, "text/event-stream, application/json", signal);
    const type = response.headers.get("content-type") || "";
    if (!type.startsWith("text/event-stream")) {  // an error before the first event
      const body = await response.json();
      if (body.error) throw new RpcError(body.error.message || "error", body.error.code);
      yield body.result;
      return;
    }
    for await (const data of events(response.body)) {
      const body = JSON.parse(data);
      if (body.error) throw new RpcError(body.error.message || "error", body.error.code);
      yield body.result;
    }
  }
}

// The `data` of each Server-Sent Event of a byte stream (comments are keep-alives).
async function* events(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let data = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.search(/\r?\n/)) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + (buffer[end] === "\r" ? 2 : 1));
        if (line === "") {
          if (data.length) yield data.join("\n");
          data = [];
        } else if (line.startsWith("data:")) {
          data.push(line.slice(5).replace(/^ /, ""));
        }
      }
    }
    if (data.length) yield data.join("\n");
  } finally {
    reader.releaseLock();
  }
}

// -- reading 1.0 objects ----------------------------------------------------------------------

export function stateName(status) {
  const name = (status && status.state) || "TASK_STATE_UNSPECIFIED";
  const state = name.replace(/^TASK_STATE_/, "").toLowerCase().replace(/_/g, "-");
  return state === "unspecified" ? "unknown" : state;
}

export const FINAL = new Set(["completed", "canceled", "failed", "rejected", "input-required", "auth-required"]);
export const TERMINAL = new Set(["completed", "canceled", "failed", "rejected"]);

export function partsText(parts) {
  return (parts || []).filter((p) => typeof p.text === "string").map((p) => p.text).join("");
}

export function partsData(parts) {
  return (parts || []).filter((p) => "data" in p).map((p) => p.data);
}

export function newMessage(text, taskId, contextId) {
  const message = { role: "ROLE_USER", messageId: uuid(), parts: [{ text }] };
  if (taskId) message.taskId = taskId;
  if (contextId) message.contextId = contextId;
  return message;
}

// crypto.randomUUID exists only in secure contexts; a page on http://<LAN address> is not one.
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
