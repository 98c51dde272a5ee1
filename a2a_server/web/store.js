// Conversations kept in localStorage, so a reload (or a return next week) finds them.
//
// A conversation is one A2A context: its `contextId` (the server's, known after the first
// answer) and its turns, each the user's text and what the agent did in answer (its task id,
// state, answer text, tool lines, question). Only what the page shows is kept; the task
// itself stays on the server, and a turn left running is picked up again with
// SubscribeToTask after a reload.

const KEY = `a2a-chat:${location.pathname}`;
const LIMIT = 50;  // conversations kept; the oldest go first

export function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) || "null");
    if (saved && Array.isArray(saved.conversations)) return saved;
  } catch { /* a damaged entry: start afresh */ }
  return { conversations: [], current: null };
}

export function save(state) {
  state.conversations.sort((a, b) => b.updated - a.updated);
  state.conversations.length = Math.min(state.conversations.length, LIMIT);
  try {
    localStorage.setItem(KEY, JSON.stringify(state));
  } catch { /* storage full or disabled: the page still works, it just forgets */ }
}

export function conversation(state, id) {
  return state.conversations.find((c) => c.id === id) || null;
}

export function create(state, id) {
  const c = { id, contextId: null, title: "New conversation", updated: Date.now(), turns: [] };
  state.conversations.unshift(c);
  state.current = id;
  return c;
}
