// The run viewer page: the served workflows, the runs and their status, one run's events as
// they stream, and forms that start a run and answer a question. It speaks only the server's
// JSON routes. Everything the server sends is put in the page as text (textContent), never
// as markup.
//
// The events are read with fetch() and a stream reader rather than EventSource, because
// EventSource cannot send the Authorization header a server with a token needs; the SSE
// frames are parsed here (no library does it for fetch without a build step).
"use strict";

const TOKEN_KEY = "agentflow.token";
const RUNS_REFRESH_MS = 2000;
const RECONNECT_MS = 1000;

const state = {
  runId: null, // the run shown on the right
  workflow: null, // its workflow's name
  following: null, // AbortController of the stream being read
  askingToken: false,
  polling: null,
  // Each refresh takes a ticket; an answer is shown only if no later refresh was asked
  // since, so that a slow answer never puts back an older state.
  tickets: { runs: 0, run: 0 },
};

const $ = (id) => document.getElementById(id);

class Unauthorized extends Error {}

// ---- Talking to the server

async function call(path, options = {}) {
  const headers = new Headers(options.headers || {});
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.set("Authorization", `Bearer ${token}`);
  if (options.body !== undefined) headers.set("Content-Type", "application/json");
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) {
    askToken((await response.json()).detail);
    throw new Unauthorized();
  }
  return response;
}

async function getJson(path) {
  const response = await call(path);
  return response.json();
}

async function postJson(path, body) {
  const response = await call(path, { method: "POST", body: JSON.stringify(body) });
  return { ok: response.ok, body: await response.json() };
}

function detailOf(body) {
  const lines = [String(body.detail)];
  for (const error of body.errors || []) lines.push(`${error.loc.join(".")}: ${error.msg}`);
  return lines.join("\n");
}

const path = (...parts) => "/" + parts.map(encodeURIComponent).join("/");

// ---- The token

function askToken(detail) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.askingToken = true;
  $("token-error").textContent = detail || "";
  $("token-form").hidden = false;
  document.querySelector("main").hidden = true;
  $("token-input").focus();
}

$("token-form").addEventListener("submit", (submitted) => {
  submitted.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("token-input").value);
  $("token-input").value = "";
  $("token-form").hidden = true;
  document.querySelector("main").hidden = false;
  state.askingToken = false;
  load();
});

// ---- Workflows and runs

async function load() {
  let names;
  try {
    names = (await getJson("/workflows")).workflows;
  } catch (error) {
    if (!(error instanceof Unauthorized)) notice(`Cannot list the workflows: ${error}`);
    return;
  }
  $("workflows").replaceChildren(...names.map((name) => element("li", name)));
  $("start-workflow").replaceChildren(...names.map((name) => new Option(name, name)));
  if (names.length) await showStartSchema(names[0]);
  await refreshRuns();
  state.polling ??= setInterval(refreshRuns, RUNS_REFRESH_MS);
  if (state.runId) await select(state.runId);
}

async function refreshRuns() {
  if (state.askingToken) return;
  const ticket = ++state.tickets.runs;
  let handlers;
  try {
    handlers = (await getJson("/handlers")).handlers;
  } catch (error) {
    if (!(error instanceof Unauthorized)) notice(`Cannot list the runs: ${error}`);
    return;
  }
  if (ticket !== state.tickets.runs) return;
  notice("");
  handlers.sort((a, b) => b.started_at.localeCompare(a.started_at));
  $("runs").tBodies[0].replaceChildren(...handlers.map(runRow));
}

function runRow(handler) {
  const row = element("tr");
  row.dataset.run = handler.handler_id;
  row.classList.toggle("selected", handler.handler_id === state.runId);
  row.append(
    element("td", handler.handler_id.slice(0, 12), "value"),
    element("td", handler.workflow_name),
    element("td", handler.status, `status status-${handler.status}`),
    element("td", new Date(handler.updated_at).toLocaleTimeString()),
  );
  row.addEventListener("click", () => select(handler.handler_id));
  return row;
}

// ---- Starting a run

async function showStartSchema(name) {
  // A schema the server cannot write (a 500 naming the field) leaves the form empty.
  const schema = (await getJson(path("workflows", name, "schema"))).start ?? {};
  if ($("start-workflow").value !== name) return; // another was chosen meanwhile
  const fields = {};
  for (const [field, property] of Object.entries(schema.properties || {})) {
    fields[field] = "default" in property ? property.default : "";
  }
  $("start-body").value = JSON.stringify(fields, null, 2);
  $("start-error").textContent = "";
}

$("start-workflow").addEventListener("change", (changed) =>
  showStartSchema(changed.target.value).catch(ignoreUnauthorized),
);

$("start-form").addEventListener("submit", async (submitted) => {
  submitted.preventDefault();
  const name = $("start-workflow").value;
  let startEvent;
  try {
    startEvent = JSON.parse($("start-body").value || "{}");
  } catch (error) {
    $("start-error").textContent = `start event: not JSON (${error.message})`;
    return;
  }
  try {
    const answer = await postJson(path("workflows", name, "run-nowait"), { start_event: startEvent });
    if (!answer.ok) {
      $("start-error").textContent = detailOf(answer.body);
      return;
    }
    $("start-error").textContent = "";
    await select(answer.body.handler_id);
    await refreshRuns();
  } catch (error) {
    ignoreUnauthorized(error);
  }
});

// ---- One run

async function select(runId) {
  if (state.following) state.following.abort();
  state.runId = runId;
  state.workflow = null;
  $("run").hidden = false;
  $("run-id").textContent = runId;
  $("events").replaceChildren();
  $("questions").replaceChildren();
  $("answer-error").textContent = "";
  for (const row of $("runs").tBodies[0].rows) {
    row.classList.toggle("selected", row.dataset.run === runId);
  }
  const following = new AbortController();
  state.following = following;
  await refreshRun();
  follow(runId, following.signal);
}

async function refreshRun() {
  const ticket = ++state.tickets.run;
  try {
    const handler = await (await call(path("handlers", state.runId))).json();
    if (ticket === state.tickets.run) await showRun(handler);
  } catch (error) {
    ignoreUnauthorized(error);
  }
}

async function showRun(handler) {
  if (handler.workflow_name === undefined) {
    notice(detailOf(handler));
    return;
  }
  const status = $("run-status");
  status.textContent = handler.status;
  status.className = `status-${handler.status}`;
  const outcome = handler.error ?? handler.result?.value ?? "";
  $("run-result").textContent = outcome === "" ? "" : JSON.stringify(outcome, null, 2);
  $("questions").replaceChildren(
    ...handler.questions.map((question) => element("li", questionText(question.value))),
  );
  $("answer-form").hidden = handler.status !== "running";
  if (state.workflow !== handler.workflow_name) {
    state.workflow = handler.workflow_name;
    await showAnswerTypes(handler.workflow_name);
  }
}

function questionText(value) {
  return typeof value.prefix === "string" ? value.prefix : JSON.stringify(value);
}

// ---- Following a run's events

// Reads the run's SSE stream; when it ends before the run's last event (a proxy or the
// network dropped it, the server restarted), reads again after the last event seen.
async function follow(runId, signal) {
  let after = -1;
  while (!signal.aborted) {
    let response;
    try {
      response = await call(`${path("events", runId)}?sse=true&after_sequence=${after}`, { signal });
    } catch (error) {
      if (signal.aborted || error instanceof Unauthorized) return;
      await pause(RECONNECT_MS);
      continue;
    }
    if (response.status === 204) return; // nothing after `after`: the run has ended
    if (!response.ok) {
      notice(detailOf(await response.json()));
      return;
    }
    try {
      for await (const frame of sseFrames(response.body)) {
        if (signal.aborted) return; // another run was chosen meanwhile
        after = frame.id;
        if (showEvent(frame.id, JSON.parse(frame.data))) return;
      }
    } catch (error) {
      if (signal.aborted) return;
    }
    await pause(RECONNECT_MS);
  }
}

// Yields {id, data} per SSE frame; comments (the heartbeats) are skipped.
async function* sseFrames(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replaceAll("\r\n", "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const frame = { id: null, data: [] };
      for (const line of buffer.slice(0, end).split("\n")) {
        const colon = line.indexOf(":");
        if (colon === 0) continue;
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "id") frame.id = Number(text);
        if (field === "data") frame.data.push(text);
      }
      buffer = buffer.slice(end + 2);
      if (frame.data.length) yield { id: frame.id, data: frame.data.join("\n") };
    }
  }
}

// Adds the event to the list; true for the run's last event.
function showEvent(sequence, envelope) {
  const kinds = [envelope.type, ...(envelope.types || [])];
  const item = element("li");
  item.append(
    element("span", String(sequence), "sequence"),
    element("span", envelope.type, "type"),
    element("span", JSON.stringify(envelope.value), "value"),
  );
  $("events").append(item);
  const terminal = kinds.includes("StopEvent");
  if (terminal || kinds.includes("InputRequiredEvent")) {
    refreshRun();
    if (terminal) refreshRuns();
  }
  return terminal;
}

// ---- Answering

// Offers the workflow's own events but its start and stop events and the question itself.
async function showAnswerTypes(name) {
  const [{ events = [] }, { start, stop }] = await Promise.all([
    getJson(path("workflows", name, "events")),
    getJson(path("workflows", name, "schema")),
  ]);
  const skipped = new Set([start?.title ?? "StartEvent", stop?.title ?? "StopEvent"]);
  skipped.add("InputRequiredEvent");
  const schemas = new Map(
    events.filter((schema) => !skipped.has(schema.title)).map((schema) => [schema.title, schema]),
  );
  const select = $("answer-type");
  select.replaceChildren(...[...schemas.keys()].map((title) => new Option(title, title)));
  if (schemas.has("HumanResponseEvent")) select.value = "HumanResponseEvent";
  select.onchange = () => showAnswerFields(schemas.get(select.value));
  showAnswerFields(schemas.get(select.value));
}

// One input per field of the event. HumanResponseEvent declares no field: an answer's text
// goes in `response` by convention (subclasses inherit it), so events that take undeclared
// fields get a `response` input too, sent when filled in.
function showAnswerFields(schema) {
  const required = new Set(schema?.required || []);
  let properties = schema?.properties || {};
  if (schema && schema.additionalProperties !== false && !("response" in properties)) {
    properties = { response: { type: "string" }, ...properties };
  }
  const fields = Object.entries(properties).map(([name, property]) => {
    const input = element("input");
    input.name = name;
    input.id = `answer-field-${name}`;
    input.required = required.has(name);
    input.dataset.type = property.type || "json";
    const label = element("label", property.type === "string" ? name : `${name} (JSON)`);
    label.htmlFor = input.id;
    return [label, input];
  });
  $("answer-fields").replaceChildren(...fields.flat());
}

$("answer-form").addEventListener("submit", async (submitted) => {
  submitted.preventDefault();
  const value = {};
  for (const input of $("answer-fields").querySelectorAll("input")) {
    if (input.value === "" && !input.required) continue;
    if (input.dataset.type === "string") {
      value[input.name] = input.value;
      continue;
    }
    try {
      value[input.name] = JSON.parse(input.value);
    } catch (error) {
      $("answer-error").textContent = `${input.name}: not JSON (${error.message})`;
      return;
    }
  }
  const event = { type: $("answer-type").value, value };
  try {
    const answer = await postJson(path("events", state.runId), { event });
    $("answer-error").textContent = answer.ok ? "" : detailOf(answer.body);
    if (answer.ok) for (const input of $("answer-fields").querySelectorAll("input")) input.value = "";
    await refreshRun();
  } catch (error) {
    ignoreUnauthorized(error);
  }
});

// ---- Small things

function element(tag, text, className) {
  const made = document.createElement(tag);
  if (text !== undefined) made.textContent = text;
  if (className) made.className = className;
  return made;
}

function notice(text) {
  $("notice").textContent = text;
}

function ignoreUnauthorized(error) {
  if (!(error instanceof Unauthorized)) notice(String(error));
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

load();
