// The chat page: the agent's card (name, skills, example prompts as suggestions), the answer
// streaming in, tool calls and tickets as they happen, the task's state, input-required
// questions answered in place, cancel, and conversations kept by contextId (store.js).
// Everything the agent sends is put on the page as text (textContent), never as HTML.

import { Agent, FINAL, RpcError, TERMINAL, newMessage, partsData, partsText, stateName, uuid } from "./a2a.js";
import * as store from "./store.js";

const $ = (id) => document.getElementById(id);
const agent = new Agent(location.pathname);  // the page is served on the JSON-RPC path
const saved = store.load();
let running = null;  // the turn whose stream is open: { turn, controller }
let saveTimer = null;

// -- start -------------------------------------------------------------------------------------

async function start() {
  const creds = JSON.parse(sessionStorage.getItem("a2a-credentials") || "null");
  if (creds) agent.credentials = creds;
  $("auth-kind").value = agent.credentials.kind;
  $("auth-secret").value = agent.credentials.secret;
  $("endpoint-info").textContent = `JSON-RPC 1.0 at ${new URL(agent.endpoint, location.href).href}`;
  wireControls();
  await showCard();
  const current = store.conversation(saved, saved.current);
  if (current) open(current.id); else renderAll();
  resume();
}

async function showCard() {
  try {
    const card = await agent.card();
    $("agent-name").textContent = card.name || "Agent";
    $("brand-name").textContent = card.name || "Agent";
    $("agent-description").textContent = card.description || "";
    document.title = card.name || "A2A agent";
    $("agent-version").textContent = ` · v${card.version || "?"}`;
    renderSkills(card.skills || []);
  } catch (error) {
    $("agent-name").textContent = "Agent";
    $("agent-description").textContent = `The agent card could not be read: ${error.message}`;
  }
}

function renderSkills(skills) {
  const list = $("skills");
  list.replaceChildren();
  for (const skill of skills) {
    const item = el("li", "skill");
    item.append(el("h3", "", skill.name || skill.id), el("p", "muted", skill.description || ""));
    const examples = el("div", "examples");
    for (const example of skill.examples || []) {
      const button = el("button", "suggestion", example);
      button.type = "button";
      button.addEventListener("click", () => sendText(example));
      examples.append(button);
    }
    item.append(examples);
    list.append(item);
  }
}

function wireControls() {
  const prompt = $("prompt");
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = prompt.value.trim();
    if (!text || running) return;
    prompt.value = "";
    grow(prompt);
    sendText(text);
  });
  prompt.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  prompt.addEventListener("input", () => grow(prompt));
  $("cancel").addEventListener("click", cancel);
  $("new-chat").addEventListener("click", () => { saved.current = null; persist(); renderAll(); closeSidebar(); prompt.focus(); });
  $("open-sidebar").addEventListener("click", openSidebar);
  $("close-sidebar").addEventListener("click", closeSidebar);
  $("scrim").addEventListener("click", closeSidebar);
  document.addEventListener("keydown", (event) => { if (event.key === "Escape") closeSidebar(); });
  $("credentials-form").addEventListener("submit", (event) => {
    event.preventDefault();
    agent.credentials = { kind: $("auth-kind").value, secret: $("auth-secret").value };
    sessionStorage.setItem("a2a-credentials", JSON.stringify(agent.credentials));
    $("connection").open = false;
    showCard();
  });
  window.addEventListener("beforeunload", () => store.save(saved));
}

function grow(area) {
  area.style.height = "auto";
  area.style.height = `${Math.min(area.scrollHeight, 200)}px`;
}

// -- turns -------------------------------------------------------------------------------------

function current() {
  return store.conversation(saved, saved.current);
}

function sendText(text) {
  if (running) return;
  const conv = current() || store.create(saved, uuid());
  const last = conv.turns.at(-1);
  let taskId = null;
  if (last && (last.state === "input-required" || last.state === "auth-required") && !last.answered) {
    taskId = last.taskId;  // this message answers the agent's question
    last.answered = true;
  }
  if (conv.title === "New conversation") conv.title = text.length > 60 ? `${text.slice(0, 57)}…` : text;
  const turn = { id: uuid(), text, taskId, contextId: conv.contextId, state: "submitted", artifacts: {},
                 order: [], activities: [], attachments: [], question: "", error: "", note: "" };
  conv.turns.push(turn);
  conv.updated = Date.now();
  persist();
  renderAll();
  const controller = new AbortController();
  run(conv, turn, agent.send(newMessage(text, taskId, conv.contextId), controller.signal), controller);
}

async function run(conv, turn, stream, controller) {
  running = { turn, controller };
  busy(true);
  try {
    for await (const result of stream) {
      apply(conv, turn, result);
      persist();
      renderTurn(conv, turn);
    }
    if (!FINAL.has(turn.state)) turn.note = "The stream ended before the task did; reload to follow it.";
  } catch (error) {
    if (error.name !== "AbortError") turn.error = error instanceof RpcError || error.message ? error.message : String(error);
  } finally {
    running = null;
    busy(false);
    if (TERMINAL.has(turn.state)) {  // what was still open ended with the task
      for (const a of turn.activities) if (a.status === "pending" || a.status === "running") a.status = "done";
    }
    conv.updated = Date.now();
    persist(true);
    renderAll();
    if (!matchMedia("(pointer: coarse)").matches) focusInput(turn);
  }
}

function focusInput(turn) {
  const input = document.querySelector(`[data-turn="${turn.id}"] .answer-form input`);
  (input && !input.closest("[hidden]") ? input : $("prompt")).focus();
}

function earlierArtifacts(conv, turn) {
  const ids = new Set();
  for (const t of conv.turns) {
    if (t === turn) break;
    for (const id of t.order) ids.add(id);
  }
  return ids;
}

function apply(conv, turn, result) {
  const task = result.task;
  if (task) {
    setIds(conv, turn, task.id, task.contextId);
    const earlier = earlierArtifacts(conv, turn);
    for (const artifact of task.artifacts || []) {
      if (!earlier.has(artifact.artifactId)) artifact_(turn, artifact, false);
    }
    status(turn, task.status, true);
    return;
  }
  if (result.statusUpdate) {
    setIds(conv, turn, result.statusUpdate.taskId, result.statusUpdate.contextId);
    status(turn, result.statusUpdate.status, false);
  } else if (result.artifactUpdate) {
    setIds(conv, turn, result.artifactUpdate.taskId, result.artifactUpdate.contextId);
    artifact_(turn, result.artifactUpdate.artifact, !!result.artifactUpdate.append);
  } else if (result.message) {  // a bare Message: the whole answer, no task
    setIds(conv, turn, null, result.message.contextId);
    turn.artifacts.reply = partsText(result.message.parts);
    if (!turn.order.includes("reply")) turn.order.push("reply");
    turn.state = "answered";
  }
}

function setIds(conv, turn, taskId, contextId) {
  if (taskId) turn.taskId = taskId;
  if (contextId) {
    turn.contextId = contextId;
    conv.contextId = contextId;
  }
}

function artifact_(turn, artifact, append) {
  const id = artifact.artifactId;
  const text = partsText(artifact.parts);
  const data = partsData(artifact.parts);
  if (!turn.order.includes(id)) turn.order.push(id);
  if (text || !data.length) turn.artifacts[id] = append ? (turn.artifacts[id] || "") + text : text;
  for (const value of data) {
    const summary = JSON.stringify(value);
    if (!turn.attachments.some((a) => a.id === id && a.summary === summary)) {
      turn.attachments.push({ id, name: artifact.name || "result", summary });
    }
  }
}

function status(turn, s, snapshot) {
  const state = stateName(s);
  const message = (s && s.message) || {};
  const text = partsText(message.parts);
  if (state === "working" && !snapshot) {
    for (const data of partsData(message.parts)) if (data && data.type) activity(turn, data);
    if (text) turn.activities.push({ key: uuid(), kind: "note", text, status: "note" });
  }
  if (snapshot && turn.state !== "submitted" && state === "submitted") return;
  turn.state = state;
  if (state === "input-required" || state === "auth-required") turn.question = text || "The agent needs more from you.";
  else if (FINAL.has(state) && text) turn.statusText = text;
}

function activity(turn, data) {
  const list = turn.activities;
  const find = (key) => list.find((a) => a.key === key);
  const tool = data.toolName || "tool";
  switch (data.type) {
    case "step_started":
      list.push({ key: uuid(), kind: "step", text: `Step ${data.step}`, status: "note" });
      break;
    case "tool_started":
      list.push({ key: data.toolCallId || uuid(), kind: "tool", text: tool,
                  detail: data.arguments ? brief(data.arguments) : "", status: "running" });
      break;
    case "tool_completed": {
      const a = find(data.toolCallId) || { key: data.toolCallId, kind: "tool", text: tool };
      if (!list.includes(a)) list.push(a);
      a.status = data.success ? "ok" : "fail";
      a.detail = data.success ? (data.output !== undefined ? `→ ${brief(data.output)}` : a.detail) : data.error || "failed";
      break;
    }
    case "tool_deferred": {
      const started = find(data.toolCallId);
      if (started) { started.status = "ok"; started.detail = "handed to a ticket"; }
      list.push({ key: `ticket:${data.ticketId}`, kind: "ticket", text: `${tool}: ticket ${data.ticketId}`,
                  detail: "pending", status: "pending" });
      break;
    }
    case "tool_background_resolved":
    case "tool_background_failed": {
      const a = find(`ticket:${data.ticketId}`) || { key: `ticket:${data.ticketId}`, kind: "ticket", text: `${tool}: ticket ${data.ticketId}` };
      if (!list.includes(a)) list.push(a);
      const ok = data.type === "tool_background_resolved";
      a.status = ok ? "ok" : "fail";
      a.detail = ok ? "resolved" : `${data.state || "failed"}${data.error ? `: ${data.error}` : ""}`;
      break;
    }
    case "agent_updated":
      list.push({ key: uuid(), kind: "step", text: `Agent: ${data.agentName}`, status: "note" });
      break;
    default:
      list.push({ key: uuid(), kind: "step", text: String(data.type), detail: brief(data), status: "note" });
  }
}

function brief(value) {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}

async function cancel() {
  if (!running) return;
  const { turn, controller } = running;
  if (!turn.taskId) { controller.abort(); return; }
  $("cancel").disabled = true;
  try {
    await agent.cancel(turn.taskId);  // the stream then says canceled and closes
  } catch (error) {
    turn.error = `The cancel was refused: ${error.message}`;
    renderAll();
  } finally {
    $("cancel").disabled = false;
  }
}

// After a reload: a turn that was still working is followed again (SubscribeToTask).
function resume() {
  const conv = current();
  const turn = conv && conv.turns.at(-1);
  if (!turn || !turn.taskId || FINAL.has(turn.state) || turn.state === "answered") return;
  turn.note = "";
  const controller = new AbortController();
  run(conv, turn, follow(turn.taskId, controller.signal), controller);
}

async function* follow(taskId, signal) {
  try {
    yield* agent.subscribe(taskId, signal);
  } catch (error) {
    if (error.code !== -32004) throw error;  // the task ended meanwhile: read it as it is
    yield { task: await agent.call("GetTask", { id: taskId }) };
  }
}

// -- view --------------------------------------------------------------------------------------

function persist(now = false) {
  clearTimeout(saveTimer);
  if (now) store.save(saved);
  else saveTimer = setTimeout(() => store.save(saved), 200);
}

function busy(on) {
  $("send").hidden = on;
  $("cancel").hidden = !on;
  $("prompt").disabled = false;
  document.body.classList.toggle("busy", on);
}

function open(id) {
  saved.current = id;
  persist();
  renderAll();
  closeSidebar();
}

function renderAll() {
  const conv = current();
  renderConversations();
  $("welcome").hidden = !!(conv && conv.turns.length);
  const list = $("turns");
  list.replaceChildren();
  if (conv) for (const turn of conv.turns) list.append(turnElement(conv, turn));
  const last = conv && conv.turns.at(-1);
  const asking = last && (last.state === "input-required" || last.state === "auth-required") && !last.answered;
  $("prompt").placeholder = asking ? "Answer the agent's question…" : "Message the agent…";
  if (conv && conv.turns.length) scrollDown(true); else $("log").scrollTop = 0;
}

function renderConversations() {
  const list = $("conversations");
  list.replaceChildren();
  for (const conv of saved.conversations) {
    const item = el("li");
    const button = el("button", "conversation");
    button.type = "button";
    button.append(el("span", "title", conv.title), el("span", "when muted", when(conv.updated)));
    if (conv.id === saved.current) button.setAttribute("aria-current", "true");
    button.addEventListener("click", () => open(conv.id));
    item.append(button);
    list.append(item);
  }
}

function renderTurn(conv, turn) {
  const old = document.querySelector(`[data-turn="${turn.id}"]`);
  const near = nearBottom();
  if (old) old.replaceWith(turnElement(conv, turn)); else $("turns").append(turnElement(conv, turn));
  $("welcome").hidden = true;
  if (near) scrollDown();
}

function turnElement(conv, turn) {
  const node = $("turn-template").content.firstElementChild.cloneNode(true);
  node.dataset.turn = turn.id;
  node.querySelector(".bubble").textContent = turn.text;
  const activity = node.querySelector(".activity");
  for (const a of turn.activities) {
    const item = el("li", `act ${a.kind} ${a.status}`);
    item.append(el("span", "icon", icon(a)), el("span", "what", a.text));
    if (a.detail) item.append(el("span", "detail", a.detail));
    activity.append(item);
  }
  activity.hidden = !turn.activities.length;
  const answer = node.querySelector(".answer");
  answer.textContent = turn.order.map((id) => turn.artifacts[id] || "").join("");
  const live = running && running.turn === turn;
  if (live && !FINAL.has(turn.state)) answer.append(el("span", "caret"));
  answer.hidden = !answer.textContent && !live;
  const attachments = node.querySelector(".attachments");
  for (const a of turn.attachments) {
    const box = el("details", "attachment");
    box.append(el("summary", "", a.name), el("pre", "", pretty(a.summary)));
    attachments.append(box);
  }
  attachments.hidden = !turn.attachments.length;
  const question = node.querySelector(".question");
  if (turn.question && (turn.state === "input-required" || turn.state === "auth-required" || turn.answered)) {
    question.hidden = false;
    node.querySelector(".question-text").textContent = turn.question;
    const form = node.querySelector(".answer-form");
    if (turn.answered || turn !== conv.turns.at(-1)) {
      form.remove();
      question.classList.add("answered");
    } else {
      const input = form.querySelector("input");
      input.id = `answer-${turn.id}`;
      form.querySelector("label").htmlFor = input.id;
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const text = input.value.trim();
        if (text) sendText(text);
      });
    }
  }
  const error = node.querySelector(".error");
  const problem = turn.error || (turn.state === "failed" || turn.state === "rejected" ? turn.statusText : "") || turn.note;
  if (problem) { error.hidden = false; error.textContent = problem; }
  const stateEl = node.querySelector(".state");
  const shown = turn.state === "answered" ? "answered" : turn.state;
  stateEl.textContent = shown;
  stateEl.className = `state ${shown}${live && !FINAL.has(turn.state) ? " live" : ""}`;
  const ids = node.querySelector(".ids");
  if (turn.taskId) {
    ids.textContent = `task ${turn.taskId.slice(0, 8)}`;
    ids.title = `task ${turn.taskId}\ncontext ${turn.contextId || ""}`;
  }
  return node;
}

function icon(a) {
  if (a.status === "running" || a.status === "pending") return "";
  if (a.status === "ok") return "✓";
  if (a.status === "fail") return "✕";
  if (a.kind === "step") return "•";
  return "›";
}

function pretty(summary) {
  try { return JSON.stringify(JSON.parse(summary), null, 2); } catch { return summary; }
}

function when(ms) {
  const minutes = Math.round((Date.now() - ms) / 60000);
  if (minutes < 1) return "now";
  if (minutes < 60) return `${minutes} min`;
  if (minutes < 24 * 60) return `${Math.round(minutes / 60)} h`;
  return new Date(ms).toLocaleDateString();
}

function nearBottom() {
  const log = $("log");
  return log.scrollHeight - log.scrollTop - log.clientHeight < 120;
}

function scrollDown(force = false) {
  const log = $("log");
  if (force || nearBottom()) log.scrollTop = log.scrollHeight;
}

function openSidebar() {
  document.body.classList.add("sidebar-open");
  $("scrim").hidden = false;
  $("open-sidebar").setAttribute("aria-expanded", "true");
  $("new-chat").focus();
}

function closeSidebar() {
  if (!document.body.classList.contains("sidebar-open")) return;
  document.body.classList.remove("sidebar-open");
  $("scrim").hidden = true;
  $("open-sidebar").setAttribute("aria-expanded", "false");
}

function el(tag, className = "", text = "") {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

start();
