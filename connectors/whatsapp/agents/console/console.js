// The front desk's console: the agents' API of the gateway, with the token the agent logs in with (kept in
// sessionStorage, so it goes with the tab), kept live by the API's event stream. No HTML is ever parsed from
// data: every node is built with `el`.

import * as deskTools from "./desk_tools.js";
import { MEDIA_TEXT, renderMedia } from "./media.js";

const API = "../api/v1";
const TOKEN_KEY = "console.token";
const LANGUAGE_KEY = "console.language";
const HOUR = 3600;

const TEXT = {
  es: {
    title: "Consola de recepción", language: "Idioma", logout: "Salir", login_title: "Entrar con un token de agente",
    token: "Token", login: "Entrar", login_hint: "El token se guarda solo en esta pestaña.",
    conversations: "Conversaciones", search: "Buscar texto, teléfono o nombre", all: "Todas",
    state_held: "Con agente o en cola", state_queue: "En cola", state_agent: "Con agente", state_bot: "Con el bot",
    take_over: "Tomar conversación", give_back: "Devolver al bot", reply: "Respuesta",
    reply_placeholder: "Escriba su respuesta", reopen: "Reabrir con plantilla si la ventana está cerrada",
    send: "Enviar", send_template: "Enviar una plantilla", send_template_button: "Enviar plantilla",
    live_open: "en directo", live_closed: "reconectando…", bot: "Bot", queue: "Espera un agente",
    agent: "Con {name}", window_open: "Ventana abierta: cierra en {left}", window_closed: "Ventana cerrada",
    window_never: "El huésped no ha escrito", guest: "Huésped", origin_bot: "Bot", origin_gateway: "Sistema",
    sent: "Enviado", delivered: "Entregado", read: "Leído", failed: "Falló", accepted: "Aceptado",
    blocked: "No enviado (ventana cerrada)", held: "Retenido para el agente", reservation: "Reserva",
    blocked_agent: "No enviado (un agente tomó la conversación)",
    arrival: "Llegada", departure: "Salida", room: "Habitación", pending: "Pendiente", no_reservation: "Sin reserva",
    empty: "No hay conversaciones", agent_took_over: "{who} tomó la conversación",
    agent_released: "{who} la devolvió al bot", guest_asked: "El huésped pidió una persona",
    bot_fallback: "El bot no supo ayudar: pasa a recepción",
    unanswered_question: "Una pregunta que el bot no sabe responder", change_request: "Un cambio o una cancelación de la reserva",
    idle_release: "Vuelve al bot: ningún agente respondió", not_agent: "Este token no es de agente.",
    bad_token: "Token no válido.", window_409: "La ventana está cerrada: {reason}. Elija una plantilla o marque «Reabrir».",
    held_reply: "Texto retenido: se enviará cuando el huésped responda.", unread: "sin leer",
    edited: "editado", original: "Original: {text}", deleted: "El huésped eliminó este mensaje",
    costs: "Costes", costs_title: "Costes de WhatsApp", hotel: "Hotel", month: "Mes", download_csv: "Descargar CSV",
    chart_title: "Coste por categoría y país", chart_label: "Coste por categoría y país en {month}",
    free_title: "Mensajes gratuitos, por motivo", mismatches_title: "Discrepancias con los precios de WhatsApp",
    total: "Total del mes", messages_count: "Mensajes enviados", charged: "Cobrados", free: "Gratuitos",
    undelivered: "No entregados (sin coste)", unpriced: "{count} cobrados sin tarifa en la tabla de precios",
    bar_free: "{count} gratis", bar_unpriced: "{count} sin tarifa", bar_undelivered: "{count} sin entregar",
    costs_loading: "Cargando el informe…", costs_empty: "No hay mensajes este mes.",
    costs_forbidden: "Este token no puede ver los costes de este hotel.", costs_error: "No se pudo cargar el informe: {message}",
    no_hotels: "Todavía no hay ningún hotel a la vista.", no_free: "Ninguno.",
    no_mismatches: "Ninguna: WhatsApp cobra lo mismo que calcula la pasarela.",
    category_service: "Servicio", category_utility: "Utilidad", category_marketing: "Marketing",
    category_authentication: "Autenticación", category_unknown: "Plantilla desconocida",
  },
  en: {
    title: "Front desk console", language: "Language", logout: "Log out", login_title: "Log in with an agent token",
    token: "Token", login: "Log in", login_hint: "The token is kept in this tab only.",
    conversations: "Conversations", search: "Search text, phone or name", all: "All",
    state_held: "With an agent or queued", state_queue: "Queued", state_agent: "With an agent", state_bot: "With the bot",
    take_over: "Take over", give_back: "Give back to the bot", reply: "Reply",
    reply_placeholder: "Type your reply", reopen: "Reopen with a template if the window is closed",
    send: "Send", send_template: "Send a template", send_template_button: "Send template",
    live_open: "live", live_closed: "reconnecting…", bot: "Bot", queue: "Waiting for an agent",
    agent: "With {name}", window_open: "Window open: closes in {left}", window_closed: "Window closed",
    window_never: "The guest never wrote", guest: "Guest", origin_bot: "Bot", origin_gateway: "System",
    sent: "Sent", delivered: "Delivered", read: "Read", failed: "Failed", accepted: "Accepted",
    blocked: "Not sent (window closed)", held: "Held for the agent", reservation: "Reservation",
    blocked_agent: "Not sent (an agent had taken over)",
    arrival: "Arrival", departure: "Departure", room: "Room", pending: "Pending", no_reservation: "No reservation",
    empty: "No conversations", agent_took_over: "{who} took over",
    agent_released: "{who} gave it back to the bot", guest_asked: "The guest asked for a person",
    bot_fallback: "The bot could not help: over to the front desk",
    unanswered_question: "A question the bot cannot answer", change_request: "A change to or cancellation of the stay",
    idle_release: "Back to the bot: no agent answered", not_agent: "This is not an agent token.",
    bad_token: "Invalid token.", window_409: "The window is closed: {reason}. Pick a template or tick “Reopen”.",
    held_reply: "Held text: it is sent when the guest answers.", unread: "unread",
    edited: "edited", original: "Original: {text}", deleted: "The guest deleted this message",
    costs: "Costs", costs_title: "WhatsApp costs", hotel: "Hotel", month: "Month", download_csv: "Download CSV",
    chart_title: "Cost by category and country", chart_label: "Cost by category and country in {month}",
    free_title: "Free messages, by reason", mismatches_title: "Mismatches with WhatsApp's prices",
    total: "Month's total", messages_count: "Messages sent", charged: "Charged", free: "Free",
    undelivered: "Undelivered (not charged)", unpriced: "{count} charged with no rate on the rate card",
    bar_free: "{count} free", bar_unpriced: "{count} with no rate", bar_undelivered: "{count} undelivered",
    costs_loading: "Loading the report…", costs_empty: "No messages this month.",
    costs_forbidden: "This token may not see this hotel's costs.", costs_error: "The report could not be loaded: {message}",
    no_hotels: "No hotel in sight yet.", no_free: "None.",
    no_mismatches: "None: WhatsApp charges what the gateway computes.",
    category_service: "Service", category_utility: "Utility", category_marketing: "Marketing",
    category_authentication: "Authentication", category_unknown: "Unknown template",
  },
};

for (const language of Object.keys(deskTools.TEXT)) Object.assign(TEXT[language], deskTools.TEXT[language]);

const state = {
  token: sessionStorage.getItem(TOKEN_KEY) || "",
  language: localStorage.getItem(LANGUAGE_KEY) || (navigator.language.startsWith("es") ? "es" : "en"),
  me: null,
  list: [],
  current: null,
  thread: null,
  templates: [],
  source: null,
  refreshTimer: 0,
  costs: { report: null, error: null, loading: false, asked: 0 },
};

const $ = (id) => document.getElementById(id);

for (const language of Object.keys(TEXT)) Object.assign(TEXT[language], MEDIA_TEXT[language]);

/** What `renderMedia` needs of the console: its builders, the token's fetch and a thread reload. */
const MEDIA_TOOLS = {
  el: (...args) => el(...args),
  t: (...args) => t(...args),
  fetchFile: (url) => fetch(url, { headers: { Authorization: `Bearer ${state.token}` } }),
  refresh: () => scheduleRefresh(true),
};

function t(key, values = {}) {
  const text = TEXT[state.language][key] ?? TEXT.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => values[name] ?? "");
}

/** A DOM element from attributes (`on…` ones become listeners) and children, so no HTML is ever parsed. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== ""));
  return node;
}

class ApiError extends Error {
  constructor(status, error) {
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.error = error;
  }
}

/** The API's answer with the agent's token; an error answer throws `ApiError` with the body's `error`. */
async function request(path, options = {}) {
  const response = await fetch(`${API}${path}`, {
    ...options,
    headers: { Authorization: `Bearer ${state.token}`, "Content-Type": "application/json" },
  });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new ApiError(response.status, body.error || {});
  }
  return response;
}

async function api(path, options = {}) {
  const response = await request(path, options);
  return response.json().catch(() => ({}));
}

function showAlert(message) {
  const alert = $("alert");
  alert.textContent = message;
  alert.hidden = !message;
}

function translatePage() {
  document.documentElement.lang = state.language;
  $("language").value = state.language;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) {
    node.placeholder = t(node.dataset.i18nPlaceholder);
    node.setAttribute("aria-label", t(node.dataset.i18nPlaceholder));
  }
  document.title = `${t("title")} · WhatsApp`;
  setLive($("live").dataset.live === "open");
  renderList();
  renderThread();
  renderCosts();
}

function setLive(open) {
  const live = $("live");
  live.dataset.live = open ? "open" : "closed";
  live.textContent = state.me ? t(open ? "live_open" : "live_closed") : "";
}

// --- logging in -------------------------------------------------------------------------------------------

async function logIn(token) {
  state.token = token;
  try {
    const me = await api("/me");
    if (me.role !== "agent") throw new ApiError(403, { message: t("not_agent") });
    state.me = me;
  } catch (error) {
    state.token = "";
    sessionStorage.removeItem(TOKEN_KEY);
    showAlert(error.status === 401 ? t("bad_token") : error.message);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  showAlert("");
  $("login").hidden = true;
  $("desk").hidden = false;
  $("logout").hidden = false;
  $("views").hidden = false;
  $("who").textContent = state.me.name;
  connect();
  await loadList();
}

function logOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  state.source?.close();
  location.reload();
}

// --- live updates -----------------------------------------------------------------------------------------

function connect() {
  const source = new EventSource(`${API}/events?token=${encodeURIComponent(state.token)}`);
  state.source = source;
  source.onopen = () => setLive(true);
  source.onerror = () => setLive(false);
  const touches = (data) => state.current && data.business_id === state.current.business_id && data.wa_id === state.current.wa_id;
  for (const kind of ["message", "status", "amendment", "handoff", "desk"]) {
    source.addEventListener(kind, (event) => {
      const data = JSON.parse(event.data);
      scheduleRefresh(touches(data));
    });
  }
}

/** Several events arrive together (a message and its statuses): refresh once for them all. */
function scheduleRefresh(threadToo) {
  state.refreshThread = state.refreshThread || threadToo;
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(async () => {
    const thread = state.refreshThread;
    state.refreshThread = false;
    await loadList();
    if (thread) await loadThread();
  }, 120);
}

// --- the conversation list --------------------------------------------------------------------------------

async function loadList() {
  const query = $("search").value.trim();
  try {
    if (query.length >= 2) {
      const found = await api(`/search?q=${encodeURIComponent(query)}`);
      const byKey = new Map(found.conversations.map((c) => [key(c), c]));
      state.list = [...byKey.values()];
      state.searchHits = found.messages;
    } else {
      const filter = $("state-filter").value;
      const body = await api(`/conversations?limit=100${filter ? `&state=${filter}` : ""}${deskTools.listQuery()}`);
      state.list = body.conversations;
      state.searchHits = [];
    }
  } catch (error) {
    showAlert(error.message);
    return;
  }
  renderList();
}

const key = (c) => `${c.business_id}:${c.wa_id}`;

function windowText(window) {
  if (window.closes_at === null) return [t("window_never"), "closed"];
  const left = window.closes_at - Date.now() / 1000;
  if (!window.open || left <= 0) return [t("window_closed"), "closed"];
  const hours = Math.floor(left / HOUR);
  const minutes = Math.floor((left % HOUR) / 60);
  return [t("window_open", { left: `${hours} h ${String(minutes).padStart(2, "0")} min` }), left < HOUR ? "closing" : "open"];
}

function holderText(handoff) {
  if (handoff.state === "bot") return t("bot");
  if (handoff.state === "queue") return t("queue");
  return t("agent", { name: handoff.holder.slice("agent:".length) });
}

function renderList() {
  const list = $("conversations");
  if (!list) return;
  const hits = new Map();
  for (const message of state.searchHits || []) hits.set(`${message.business_id}:${message.wa_id}`, message);
  const items = state.list.map((c) => {
    const [windowLabel, windowClass] = windowText(c.window);
    const selected = state.current && key(state.current) === key(c);
    return el(
      "li",
      { "data-key": key(c), "data-state": c.handoff.state, class: selected ? "selected" : "" },
      el(
        "button",
        { type: "button", class: "conversation", onclick: () => openThread(c) },
        el("span", { class: "conversation__name" }, guestName(c)),
        c.unread ? el("span", { class: "unread", "aria-label": `${c.unread} ${t("unread")}` }, String(c.unread)) : null,
        el("span", { class: `badge badge--${c.handoff.state}` }, holderText(c.handoff)),
        deskTools.listBadges(c),
        el("span", { class: "conversation__text" }, c.last_text || ""),
        el("span", { class: `window window--${windowClass}` }, windowLabel),
      ),
    );
  });
  for (const [hitKey, message] of hits) {
    if (!state.list.some((c) => key(c) === hitKey)) {
      items.push(el("li", { "data-key": hitKey }, el("button", {
        type: "button", class: "conversation",
        onclick: () => openThread({ business_id: message.business_id, wa_id: message.wa_id }),
      }, el("span", { class: "conversation__name" }, guestName(message)),
      el("span", { class: "conversation__text" }, message.text || ""))));
    }
  }
  list.replaceChildren(...(items.length ? items : [el("li", { class: "muted" }, t("empty"))]));
}

// --- one thread -------------------------------------------------------------------------------------------

async function openThread(conversation) {
  state.current = { business_id: conversation.business_id, wa_id: conversation.wa_id };
  state.templates = [];
  $("thread").hidden = false;
  renderList();
  await loadThread();
  await loadTemplates();
}

async function loadThread() {
  if (!state.current) return;
  try {
    state.thread = await api(`/conversations/${state.current.business_id}/${state.current.wa_id}`);
  } catch (error) {
    showAlert(error.message);
    return;
  }
  renderThread();
}

async function loadTemplates() {
  try {
    const body = await api(`/conversations/${state.current.business_id}/${state.current.wa_id}/templates`);
    state.templates = body.templates;
  } catch (error) {
    state.templates = [];
  }
  renderTemplates();
}

const TICKS = { accepted: "pending", sent: "sent", delivered: "delivered", read: "read", failed: "failed" };

function originLabel(origin) {
  if (origin === "guest") return t("guest");
  if (origin === "bot") return t("origin_bot");
  if (!origin || origin === "gateway") return t("origin_gateway");
  return origin.split(":").slice(1).join(":");
}

/** A guest's edit shows its new text (the original on hover); a message they deleted shows only that. */
function messageText(message) {
  if (message.deleted) return el("p", { class: "msg__text msg__text--deleted" }, t("deleted"));
  if (message.edited) {
    return el("p", { class: "msg__text", title: t("original", { text: message.text || "" }) }, message.edited.text || `[${message.type}]`);
  }
  return el("p", { class: "msg__text" }, message.text || `[${message.type}]`);
}

function messageRow(message) {
  const status = message.state === "failed" ? "failed" : message.status || message.state;
  const outbound = message.direction === "outbound";
  const origin = (message.origin || "").split(":")[0] || "gateway";
  const media = renderMedia(message, MEDIA_TOOLS);
  const parts = [
    el("span", { class: "msg__who" }, originLabel(message.origin)),
    media,
    media && !message.edited && !message.deleted ? null : messageText(message),
  ];
  const meta = [el("time", {}, new Date(message.created_at * 1000).toLocaleTimeString(state.language, { hour: "2-digit", minute: "2-digit" }))];
  if (message.edited) meta.push(el("span", { class: "muted msg__edited" }, t("edited")));
  if (outbound && TICKS[status]) {
    meta.push(el("span", { class: `ticks ticks--${TICKS[status]}`, role: "img", "aria-label": t(status) }));
  } else if (message.state === "held") {
    meta.push(el("span", { class: "muted" }, t("held")));
  } else if (message.state === "blocked") {
    const tookOver = (message.blocked_reason || "").startsWith("agent took over");
    meta.push(el("span", { class: "error" }, t(tookOver ? "blocked_agent" : "blocked")));
  }
  if (message.error) {
    parts.push(el("p", { class: "error msg__error" }, [message.error.code, message.error.title].filter(Boolean).join(" · ")));
  }
  parts.push(el("span", { class: "msg__meta" }, meta));
  return el(
    "li",
    {
      class: `msg msg--${outbound ? "out" : "in"} msg--${origin}${status === "failed" ? " msg--failed" : ""}`,
      "data-id": message.id,
      "data-wamid": message.wamid || "",
      "data-origin": message.origin || "",
      "data-status": status,
    },
    parts,
  );
}

function eventRow(event) {
  return el("li", { class: "handoff-event", "data-handoff": event.to },
    t(event.reason, { who: originLabel(event.actor) }));
}

/** The guest's number as WhatsApp last gave it, else their key (a business-scoped user id, shown as it is). */
function guestNumber(c) {
  const number = c.phone || (/^\d+$/.test(c.wa_id) ? c.wa_id : null);
  return number ? `+${number}` : c.wa_id;
}

/** What the list and the thread call a guest: their profile name, else their username, else their number. */
function guestName(c) {
  return c.profile_name || c.username || guestNumber(c);
}

function renderThread() {
  const thread = state.thread;
  if (!thread || !$("messages")) return;
  const c = thread.conversation;
  $("guest-name").textContent = thread.reservation?.guest_name || guestName(c);
  const ids = [c.username, guestNumber(c)].filter(Boolean).join(" · ");
  $("guest-meta").textContent = `${ids} · ${thread.hotel?.name || c.business_id} · ${thread.language.toUpperCase()}`;
  const badge = $("handoff-state");
  badge.textContent = holderText(c.handoff);
  badge.dataset.state = c.handoff.state;
  badge.className = `badge badge--${c.handoff.state}`;
  const [windowLabel, windowClass] = windowText(c.window);
  $("window-state").textContent = windowLabel;
  $("window-state").className = `window window--${windowClass}`;
  const mine = c.handoff.holder === `agent:${state.me.name}`;
  $("take-over").hidden = mine;
  $("give-back").hidden = c.handoff.state === "bot" || (c.handoff.state === "agent" && !mine);
  deskTools.renderHeader(c);
  renderReservation(thread.reservation);
  const rows = [
    ...deskTools.threadRows(thread),
    ...thread.messages.map((m) => ({ at: m.created_at, node: messageRow(m) })),
    ...thread.handoff_events.map((e) => ({ at: e.at, node: eventRow(e) })),
    ...thread.held_replies.map((r) => ({ at: r.created_at, node: el("li", { class: "msg msg--out msg--held" }, el("p", {}, r.text), el("span", { class: "muted" }, t("held_reply"))) })),
  ].sort((a, b) => a.at - b.at);
  const list = $("messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.replaceChildren(...rows.map((row) => row.node));
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function renderReservation(reservation) {
  const box = $("reservation");
  box.hidden = false;
  if (!reservation) {
    box.replaceChildren(el("span", { class: "muted" }, t("no_reservation")));
    return;
  }
  const fact = (label, value) => el("span", { class: "fact" }, el("b", {}, `${label}: `), value);
  box.replaceChildren(
    el("strong", {}, `${t("reservation")} ${reservation.booking_code}`),
    fact(t("arrival"), reservation.arrival),
    fact(t("departure"), reservation.departure),
    fact(t("room"), reservation.room),
    fact(t("pending"), reservation.pending),
  );
}

function renderTemplates() {
  const choice = $("template-choice");
  choice.replaceChildren(...state.templates.map((template, index) =>
    el("option", { value: index }, `${template.name} · ${template.language} · ${template.category}`)));
  renderTemplateParameters();
}

function renderTemplateParameters() {
  const template = state.templates[Number($("template-choice").value)];
  $("template-body").textContent = template ? template.body : "";
  $("template-parameters").replaceChildren(...(template ? template.parameter_names.map((name, index) =>
    el("label", { class: "field" }, el("span", {}, name),
      el("input", { name: `parameter-${index}`, value: template.parameters[index] ?? "", required: true }))) : []));
}

// --- acting -----------------------------------------------------------------------------------------------

function threadPath(action) {
  return `/conversations/${state.current.business_id}/${state.current.wa_id}/${action}`;
}

async function act(action, body) {
  showAlert("");
  try {
    const answer = await api(threadPath(action), { method: "POST", body: body ? JSON.stringify(body) : undefined });
    await loadThread();
    await loadList();
    return answer;
  } catch (error) {
    if (error.error.code === "window_closed" && error.error.templates) {
      state.templates = error.error.templates;
      renderTemplates();
      $("templates").open = true;
      showAlert(t("window_409", { reason: error.error.reason }));
    } else {
      showAlert(error.message);
    }
    return null;
  }
}

async function sendReply(event) {
  event.preventDefault();
  const text = $("reply-text").value.trim();
  if (!text) return;
  if (deskTools.noteMode()) return deskTools.sendNote(text);
  const answer = await act("reply", { text, reopen: $("reopen").checked });
  if (answer) $("reply-text").value = "";
}

async function sendTemplate(event) {
  event.preventDefault();
  const template = state.templates[Number($("template-choice").value)];
  if (!template) return;
  const parameters = [...$("template-parameters").querySelectorAll("input")].map((input) => input.value.trim());
  await act("template", { name: template.name, language: template.language, parameters });
}

// --- attachments: the agent sends a file, captioned with the reply text ----------------------------------

const ATTACH_TEXT = {
  es: {
    attach: "Adjuntar archivo", attach_hint: "El texto de la respuesta va como pie del archivo (no en audios).",
    attach_sending: "Enviando {name}… {percent} %", attach_sent: "Enviado: {name}",
    attach_too_large: "{name} es demasiado grande para WhatsApp: {message}",
    attach_unsupported: "WhatsApp no acepta este tipo de archivo ({name}): envíe una imagen JPEG o PNG, un vídeo MP4, un audio o un PDF, texto o documento de Office.",
    attach_failed: "No se pudo enviar {name}: {message}", attach_network: "Se perdió la conexión enviando {name}.",
  },
  en: {
    attach: "Attach a file", attach_hint: "The reply text goes as the file's caption (not on audio).",
    attach_sending: "Sending {name}… {percent} %", attach_sent: "Sent: {name}",
    attach_too_large: "{name} is too large for WhatsApp: {message}",
    attach_unsupported: "WhatsApp does not take this kind of file ({name}): send a JPEG or PNG image, an MP4 video, audio, or a PDF, text or Office document.",
    attach_failed: "{name} was not sent: {message}", attach_network: "The connection dropped while sending {name}.",
  },
};
for (const language of Object.keys(ATTACH_TEXT)) Object.assign(TEXT[language], ATTACH_TEXT[language]);
const ATTACH_MAX_BYTES = 101_000_000; // the route's own cap: a 100 MB document and its multipart framing

function setAttachStatus(text, kind = "") {
  const status = $("attach-status");
  status.textContent = text;
  status.className = `attach__status ${kind}`.trim();
}

/** POST the file with XMLHttpRequest, the one browser API that reports an upload's progress. */
function uploadAttachment(form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${API}${threadPath("attachments")}`);
    xhr.setRequestHeader("Authorization", `Bearer ${state.token}`);
    xhr.upload.addEventListener("progress", (event) => event.lengthComputable && onProgress(event.loaded / event.total));
    xhr.addEventListener("load", () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch { body = {}; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(xhr.status, body.error || {}));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, { code: "network" })));
    xhr.send(form);
  });
}

function attachErrorText(error, name) {
  const code = error.error?.code;
  if (code === "file_too_large") return t("attach_too_large", { name, message: error.message });
  if (code === "unsupported_media_type") return t("attach_unsupported", { name });
  if (code === "window_closed") return t("window_409", { reason: error.error.reason });
  if (code === "network") return t("attach_network", { name });
  return t("attach_failed", { name, message: error.message });
}

async function sendAttachment() {
  const input = $("attach-file");
  const file = input.files?.[0];
  input.value = "";
  if (!file || !state.current) return;
  showAlert("");
  const progress = $("attach-progress");
  if (file.size > ATTACH_MAX_BYTES) {
    setAttachStatus(t("attach_too_large", { name: file.name, message: "> 100 MB" }), "error");
    return;
  }
  const form = new FormData();
  form.append("file", file, file.name);
  const caption = $("reply-text").value.trim();
  if (caption) form.append("caption", caption);
  $("attach").disabled = true;
  progress.hidden = false;
  progress.value = 0;
  const onProgress = (share) => {
    progress.value = Math.round(share * 100);
    setAttachStatus(t("attach_sending", { name: file.name, percent: progress.value }));
  };
  onProgress(0);
  try {
    await uploadAttachment(form, onProgress);
    if (caption) $("reply-text").value = "";
    setAttachStatus(t("attach_sent", { name: file.name }), "ok");
    await loadThread();
    await loadList();
  } catch (error) {
    setAttachStatus(attachErrorText(error, file.name), "error");
    if (error.error?.code === "window_closed" && error.error.templates) {
      state.templates = error.error.templates;
      renderTemplates();
      $("templates").open = true;
    }
  } finally {
    progress.hidden = true;
    $("attach").disabled = false;
  }
}

$("attach").addEventListener("click", () => $("attach-file").click());
$("attach-file").addEventListener("change", sendAttachment);

// --- views ------------------------------------------------------------------------------------------------

function showView(view) {
  $("desk").hidden = view !== "desk";
  $("costs").hidden = view !== "costs";
  for (const button of $("views").querySelectorAll("button")) {
    button.setAttribute("aria-pressed", String(button.dataset.view === view));
  }
  if (view === "costs") openCosts();
}

// --- costs ------------------------------------------------------------------------------------------------

const SVG = "http://www.w3.org/2000/svg";
const CHART = { width: 640, row: 30, label: 190, bar: 300, gap: 8 };

/** An SVG element, as `el` builds HTML ones: SVG needs its own namespace. */
function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  node.append(...children.flat().filter((child) => child !== null && child !== undefined));
  return node;
}

/** Meta bills months in UTC, so the current month is UTC's too. */
function currentMonth() {
  return new Date().toISOString().slice(0, 7);
}

/** The hotels the token may act for, by name (`/me` lists every one, a token for every hotel included). */
function renderHotelOptions() {
  const picker = $("costs-hotel");
  const chosen = picker.value;
  const hotels = Object.entries(state.me.names || {});
  picker.replaceChildren(...hotels.map(([id, name]) => el("option", { value: id }, `${name} (${id})`)));
  if (hotels.some(([id]) => id === chosen)) picker.value = chosen;
}

function openCosts() {
  if (!$("costs-month").value) $("costs-month").value = currentMonth();
  renderHotelOptions();
  loadCosts();
}

function costsPath(business, month, format = "") {
  const query = new URLSearchParams({ business, month });
  if (format) query.set("format", format);
  return `/reports/costs?${query}`;
}

/** Ask for the chosen hotel's month; an answer that arrives after a newer question is dropped. */
async function loadCosts() {
  const business = $("costs-hotel").value;
  const month = $("costs-month").value;
  const asked = ++state.costs.asked;
  state.costs = { report: null, error: null, loading: Boolean(business && month), asked };
  renderCosts();
  if (!business || !month) return;
  let report = null;
  let error = null;
  try {
    report = await api(costsPath(business, month));
  } catch (failure) {
    error = failure;
  }
  if (asked !== state.costs.asked) return;
  state.costs = { report, error, loading: false, asked };
  renderCosts();
}

function costsErrorText(error) {
  if (error.status === 403) return t("costs_forbidden");
  if (error.status === 401) return t("bad_token");
  return t("costs_error", { message: error.message });
}

/** What to say instead of a report: [text, kind], or null when there is a report to show. */
function costsStateText() {
  const { report, error, loading } = state.costs;
  if (!$("costs-hotel").value) return [t("no_hotels"), "empty"];
  if (loading) return [t("costs_loading"), "loading"];
  if (error) return [costsErrorText(error), "error"];
  if (report && report.messages === 0) return [t("costs_empty"), "empty"];
  return null;
}

function renderCosts() {
  if (!state.me) return;
  const said = costsStateText();
  const line = $("costs-state");
  line.hidden = !said;
  line.textContent = said ? said[0] : "";
  line.dataset.state = said ? said[1] : "report";
  const report = said ? null : state.costs.report;
  $("costs-report").hidden = !report;
  $("costs-csv").disabled = !report;
  if (!report) return;
  renderCostSummary(report);
  renderCostChart(report);
  renderFreeReasons(report);
  renderMismatches(report);
}

function formatAmount(amount, currency) {
  const number = new Intl.NumberFormat(state.language, { minimumFractionDigits: 2, maximumFractionDigits: 4 });
  return `${number.format(Number(amount))} ${currency}`;
}

function categoryName(category) {
  return TEXT.en[`category_${category}`] ? t(`category_${category}`) : category;
}

function renderCostSummary(report) {
  const unpriced = report.lines.reduce((sum, line) => sum + line.unpriced, 0);
  const stat = (id, label, value, data) =>
    el("div", { class: "stat", id }, el("dt", {}, label), el("dd", data, value));
  $("costs-summary").replaceChildren(
    stat("costs-total", t("total"), formatAmount(report.total, report.currency), { "data-amount": report.total }),
    stat("costs-messages", t("messages_count"), String(report.messages), { "data-count": report.messages }),
    stat("costs-billable", t("charged"), String(report.billable), { "data-count": report.billable }),
    stat("costs-free", t("free"), String(report.free), { "data-count": report.free }),
    stat("costs-undelivered", t("undelivered"), String(report.undelivered), { "data-count": report.undelivered }),
  );
  $("costs-unpriced").hidden = !unpriced;
  $("costs-unpriced").textContent = unpriced ? t("unpriced", { count: unpriced }) : "";
}

/** One row per category and country: a bar as long as its cost against the dearest row; no bar when free. */
function renderCostChart(report) {
  const most = Math.max(...report.lines.map((line) => Number(line.amount)), 0);
  const rows = report.lines.map((line, index) => costChartRow(line, index, most, report.currency));
  const height = report.lines.length * CHART.row;
  $("costs-chart").replaceChildren(svg(
    "svg",
    { viewBox: `0 0 ${CHART.width} ${height}`, width: CHART.width, height, role: "img", "aria-label": t("chart_label", { month: report.month }) },
    rows,
  ));
}

function costChartRow(line, index, most, currency) {
  const amount = Number(line.amount);
  const middle = index * CHART.row + CHART.row / 2;
  const width = amount > 0 && most > 0 ? Math.max(2, (amount / most) * CHART.bar) : 0;
  const label = `${categoryName(line.category)} · ${line.country}`;
  const value = amount > 0 ? formatAmount(line.amount, currency) : uncharged(line);
  return svg(
    "g",
    { class: "chart__row", "data-category": line.category, "data-country": line.country },
    svg("text", { x: 0, y: middle, class: "chart__label", "dominant-baseline": "middle" }, label),
    width ? svg(
      "rect",
      { x: CHART.label, y: middle - CHART.row / 3, width: width.toFixed(1), height: (CHART.row * 2) / 3, rx: 3,
        class: `bar bar--${line.category}`, "data-amount": line.amount },
      svg("title", {}, `${label} (${line.market}): ${value}`),
    ) : null,
    svg("text", { x: CHART.label + width + CHART.gap, y: middle, class: "chart__value", "dominant-baseline": "middle" }, value),
  );
}

/** Why a row cost nothing: its free, unpriced and undelivered messages. */
function uncharged(line) {
  const counts = [["bar_free", line.free], ["bar_unpriced", line.unpriced], ["bar_undelivered", line.messages - line.delivered]];
  return counts.filter(([, count]) => count > 0).map(([name, count]) => t(name, { count })).join(" · ");
}

function renderFreeReasons(report) {
  const reasons = Object.entries(report.free_reasons);
  $("costs-free-reasons").replaceChildren(...(reasons.length
    ? reasons.map(([reason, count]) => el("li", { "data-count": count }, el("b", {}, String(count)), ` · ${reason}`))
    : [el("li", { class: "muted" }, t("no_free"))]));
}

function renderMismatches(report) {
  $("costs-mismatches").replaceChildren(...(report.mismatches.length
    ? report.mismatches.map((m) => el("li", { class: "error", "data-id": m.id }, `${m.wamid || m.id}: ${m.differences.join("; ")}`))
    : [el("li", { class: "muted" }, t("no_mismatches"))]));
}

/** The CSV route needs the bearer token, which a link cannot carry: fetch it and hand the browser a Blob. */
async function downloadCostsCsv() {
  const business = $("costs-hotel").value;
  const month = $("costs-month").value;
  let blob;
  try {
    blob = await (await request(costsPath(business, month, "csv"))).blob();
  } catch (error) {
    state.costs = { ...state.costs, report: null, error };
    renderCosts();
    return;
  }
  const link = el("a", { href: URL.createObjectURL(blob), download: `costs-${business}-${month}.csv`, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 0);
}

// --- start ------------------------------------------------------------------------------------------------

$("language").addEventListener("change", () => {
  state.language = $("language").value;
  localStorage.setItem(LANGUAGE_KEY, state.language);
  translatePage();
});
$("login").addEventListener("submit", (event) => {
  event.preventDefault();
  logIn($("token").value.trim());
});
$("logout").addEventListener("click", logOut);
$("search").addEventListener("input", () => scheduleRefresh(false));
$("state-filter").addEventListener("change", loadList);
$("take-over").addEventListener("click", () => act("takeover"));
$("give-back").addEventListener("click", () => act("release"));
$("composer").addEventListener("submit", sendReply);
$("template-form").addEventListener("submit", sendTemplate);
$("template-choice").addEventListener("change", renderTemplateParameters);
for (const button of $("views").querySelectorAll("button")) {
  button.addEventListener("click", () => showView(button.dataset.view));
}
$("costs-hotel").addEventListener("change", loadCosts);
$("costs-month").addEventListener("change", loadCosts);
$("costs-csv").addEventListener("click", downloadCostsCsv);
setInterval(() => { renderList(); renderThread(); }, 30_000);
deskTools.install({ state, api, el, t, $, act, loadList, loadThread, showAlert, threadPath });

translatePage();
if (state.token) logIn(state.token);
