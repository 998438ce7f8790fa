// The sandbox's guest phone: one guest's WhatsApp thread with one hotel number, kept live by the sandbox's
// event stream. Everything the guest does is a POST to the sandbox's guest API, which turns it into the signed
// webhook the gateway receives; the page itself never talks to the gateway.

const STORAGE_KEY = "sandbox.guest-phone";
// A guest is named by a phone number (digits, country code first) or, with a username, a business-scoped user id.
const GUEST_ID = /^(\d{6,15}|[A-Z]{2}\.[A-Za-z0-9]{1,128})$/;
const SAMPLE_LOCATION = { latitude: 36.7213, longitude: -4.4214, name: "Málaga" };
const REACTIONS = ["👍", "❤️", "🙏"];
const ALERT_MS = 8000;
const MEDIA_LABELS = {
  image: ["🖼️", "Photo"],
  video: ["🎬", "Video"],
  audio: ["🎵", "Audio"],
  document: ["📄", "Document"],
  sticker: ["🏷️", "Sticker"],
};
// Hotel messages: the furthest status Meta reported, as the class and the words of its ticks.
const HOTEL_TICKS = {
  accepted: ["pending", "Accepted, not sent yet"],
  sent: ["sent", "Sent"],
  delivered: ["delivered", "Delivered"],
  read: ["read", "Read"],
  failed: ["failed", "Failed"],
};
// The guest's own messages: how the webhook carrying them fared at the gateway.
const GUEST_TICKS = {
  pending: ["sent", "Sent; waiting for the gateway to acknowledge the webhook"],
  retrying: ["sent", "Not delivered to the gateway yet"],
  dropped: ["failed", "Not delivered to the gateway"],
  acknowledged: ["delivered", "Delivered to the gateway"],
  read: ["read", "Read by the hotel"],
};

const state = {
  config: null,
  business: "",
  waId: "",
  guest: "",
  entries: new Map(),
  source: null,
  replyTo: null,
  alertTimer: 0,
};

const $ = (id) => document.getElementById(id);

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

async function api(path, options = {}) {
  const response = await fetch(path, { headers: { "Content-Type": "application/json" }, ...options });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = typeof body.error === "string" ? body.error : body.error?.message;
    throw new Error(error || `HTTP ${response.status}`);
  }
  return body;
}

// ---- choosing the hotel and the guest -------------------------------------------------------------------

async function start() {
  bindEvents();
  try {
    state.config = await api("/sandbox/config");
  } catch (error) {
    showAlert(`Cannot reach the sandbox: ${error.message}`);
    return;
  }
  fillSetup(state.config);
  restoreChoice();
  openThread();
}

function fillSetup(config) {
  $("business").replaceChildren(
    ...config.business_numbers.map((number) =>
      el("option", { value: number.id, title: formatPhone(number.display_phone_number) }, number.name),
    ),
  );
  $("sample-guests").replaceChildren(
    ...config.guests.map((guest) =>
      el("option", {
        value: guest.wa_id ?? guest.user_id,
        label: `${guest.name} · ${guest.wa_id ? `+${guest.wa_id}` : guest.username ?? guest.user_id}`,
      }),
    ),
  );
}

/** The last hotel, guest and name chosen on this browser, or the first sample ones. */
function restoreChoice() {
  let saved = {};
  try {
    saved = JSON.parse(localStorage.getItem(STORAGE_KEY)) || {};
  } catch {
    saved = {};
  }
  const numbers = state.config.business_numbers;
  state.business = numbers.some((n) => n.id === saved.business) ? saved.business : numbers[0]?.id;
  const first = state.config.guests[0];
  state.waId = GUEST_ID.test(saved.waId || "") ? saved.waId : first?.wa_id ?? first?.user_id ?? "";
  $("business").value = state.business;
  $("wa-id").value = state.waId;
  $("profile-name").value = saved.name || "";
  showGuestName();
}

function saveChoice() {
  const choice = { business: state.business, waId: state.waId, name: $("profile-name").value.trim() };
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(choice));
  } catch {
    // Storage can be disabled (private windows); the page then simply forgets.
  }
}

function chooseBusiness() {
  state.business = $("business").value;
  saveChoice();
  openThread();
}

function chooseGuest() {
  const input = $("wa-id");
  const id = input.value.replace(/[\s+()-]/g, "");
  const hint = "Use 6 to 15 digits, country code first, or a user id such as US.13491208655302741918.";
  input.setCustomValidity(GUEST_ID.test(id) ? "" : hint);
  if (!input.reportValidity()) return;
  input.value = id;
  if (id === state.waId) return;
  state.waId = id;
  showGuestName();
  saveChoice();
  openThread();
}

/** The sample guest's name as the profile name's placeholder: what the hotel sees when the field is empty. */
function showGuestName() {
  const guest = state.config.guests.find((g) => state.waId && [g.wa_id, g.user_id].includes(state.waId));
  $("profile-name").placeholder = guest ? guest.name : "Guest";
}

function hotel() {
  return state.config?.business_numbers.find((n) => n.id === state.business);
}

// ---- the thread and its live stream ---------------------------------------------------------------------

/** Show the chosen thread: subscribe first, then load on every (re)connection, so nothing falls in between.
 * The sandbox answers with the thread's key, which both ids of a guest known by number and user id lead to. */
function openThread() {
  state.source?.close();
  state.entries.clear();
  state.guest = "";
  setReplyTo(null);
  $("thread").replaceChildren();
  renderChatHeader();
  setLive("connecting");
  const query = new URLSearchParams({ wa_id: state.waId, business: state.business });
  const source = new EventSource(`/sandbox/events?${query}`);
  source.addEventListener("open", () => {
    setLive("open");
    reloadThread();
  });
  source.addEventListener("error", () => setLive(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting"));
  source.addEventListener("message", (event) => upsert(JSON.parse(event.data)));
  state.source = source;
}

async function reloadThread() {
  const query = new URLSearchParams({ business: state.business });
  try {
    const waId = state.waId;
    const { guest, messages } = await api(`/sandbox/guests/${waId}/messages?${query}`);
    if (waId !== state.waId) return;
    state.guest = guest;
    messages.forEach(upsert);
  } catch (error) {
    showAlert(`Could not load the conversation: ${error.message}`);
  }
}

function setLive(status) {
  const words = { connecting: "connecting…", open: "live", reconnecting: "reconnecting…", closed: "offline" };
  $("phone").dataset.live = status;
  $("live").textContent = words[status];
}

/** Every field that only grows as a message travels; a copy with less is an older picture of the same message. */
function progress(entry) {
  const { attempts, acknowledged } = entry.webhook;
  return entry.statuses.length + attempts + Number(acknowledged) + Number(entry.read_by_business);
}

/** Add a message or take in its new status; the stream and a reload may bring the same one in either order. */
function upsert(entry) {
  if (entry.business !== state.business || (state.guest && entry.guest !== state.guest)) return;
  const known = state.entries.get(entry.wamid);
  if (known && progress(known) >= progress(entry)) return;
  state.entries.set(entry.wamid, entry);
  if (entry.type === "reaction") {
    refreshReactions(objectOf(entry)?.message_id);
  } else {
    const row = rowOf(entry.wamid);
    if (row) updateRow(row, entry);
    else insertRow(renderRow(entry));
  }
}

function rowOf(wamid) {
  return $("thread").querySelector(`.row[data-wamid="${CSS.escape(wamid)}"]`);
}

function insertRow(row) {
  const thread = $("thread");
  const atBottom = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 80;
  const later = [...thread.querySelectorAll(".row")].find(
    (other) => Number(other.dataset.timestamp) > Number(row.dataset.timestamp),
  );
  thread.insertBefore(row, later ?? null);
  refreshDayDividers();
  if (atBottom || row.dataset.direction === "inbound") thread.scrollTop = thread.scrollHeight;
}

function refreshDayDividers() {
  const thread = $("thread");
  thread.querySelectorAll(".day").forEach((divider) => divider.remove());
  let previous = "";
  for (const row of thread.querySelectorAll(".row")) {
    const day = dayLabel(Number(row.dataset.timestamp));
    if (day !== previous) row.before(el("li", { class: "day" }, el("span", {}, day)));
    previous = day;
  }
}

// ---- rendering one message ------------------------------------------------------------------------------

function renderRow(entry) {
  const own = entry.direction === "inbound";
  const sender = el("span", { class: "visually-hidden" }, own ? "You: " : `${hotel()?.name ?? "Hotel"}: `);
  const bubble = el("div", { class: "bubble", tabindex: "0" }, sender, renderQuote(entry), renderContent(entry));
  bubble.append(renderMeta(entry));
  const stack = el(
    "div",
    { class: "stack" },
    bubble,
    own ? null : renderActions(entry),
    renderReactionBadge(entry.wamid),
    renderNote(entry),
    own ? null : renderToolbar(entry),
  );
  const row = el(
    "li",
    {
      class: `row row--${own ? "guest" : "hotel"}`,
      "data-wamid": entry.wamid,
      "data-direction": entry.direction,
      "data-type": entry.type,
      "data-timestamp": entry.timestamp,
    },
    stack,
  );
  setRowState(row, entry);
  return row;
}

/** A message's content never changes after it is sent; only its ticks and notes do. */
function updateRow(row, entry) {
  row.querySelector(".meta").replaceWith(renderMeta(entry));
  row.querySelector(".note").replaceWith(renderNote(entry));
  setRowState(row, entry);
}

function setRowState(row, entry) {
  row.dataset.status = entry.status;
  if (entry.direction === "inbound") {
    row.dataset.delivery = deliveryState(entry);
    row.dataset.read = String(entry.read_by_business);
  }
}

function deliveryState(entry) {
  const { acknowledged, attempts } = entry.webhook;
  if (acknowledged) return "acknowledged";
  if (attempts >= (state.config.settings?.retry_max_attempts ?? 10)) return "dropped";
  return attempts > 0 ? "retrying" : "pending";
}

function renderMeta(entry) {
  const [kind, words] =
    entry.direction === "inbound"
      ? GUEST_TICKS[entry.read_by_business ? "read" : deliveryState(entry)]
      : HOTEL_TICKS[entry.status] ?? HOTEL_TICKS.accepted;
  const time = new Date(entry.timestamp * 1000);
  return el(
    "span",
    { class: "meta" },
    el("time", { datetime: time.toISOString() }, formatTime(time)),
    el("span", { class: `ticks ticks--${kind}`, role: "img", "aria-label": words, title: words }),
  );
}

/** What went wrong, said in the thread: a hotel message's error title, or the gateway not taking a webhook. */
function renderNote(entry) {
  let text = "";
  if (entry.direction === "outbound" && entry.status === "failed") {
    const error = entry.statuses.find((s) => s.status === "failed")?.errors?.[0];
    text = error ? `Not delivered: ${error.title} (${error.code})` : "Not delivered";
  } else if (entry.direction === "inbound") {
    const { attempts, last_status: status, last_error: reason } = entry.webhook;
    const why = reason || (status ? `HTTP ${status}` : "no answer");
    const delivery = deliveryState(entry);
    if (delivery === "retrying") text = `Not delivered to the gateway yet (attempt ${attempts}: ${why})`;
    if (delivery === "dropped") text = `Not delivered to the gateway: gave up after ${attempts} attempts (${why})`;
  }
  return el("p", { class: "note", hidden: !text }, text);
}

function renderQuote(entry) {
  if (!entry.context_id) return null;
  const quoted = state.entries.get(entry.context_id);
  const who = !quoted ? "Earlier message" : quoted.direction === "inbound" ? "You" : hotel()?.name ?? "Hotel";
  return el(
    "div",
    { class: `quote quote--${quoted?.direction ?? "unknown"}` },
    el("span", { class: "quote__who" }, who),
    el("span", { class: "quote__text" }, quoted ? summary(quoted) : ""),
  );
}

function summary(entry) {
  return entry.text || `[${entry.type}]`;
}

/** The message object of the entry's type: inbound entries hold Meta's whole message, outbound ones just it. */
function objectOf(entry) {
  return entry.direction === "inbound" ? entry.content[entry.type] : entry.content;
}

const CONTENT_RENDERERS = {
  text: (object) => richText(object.body),
  interactive: (object, entry) => (entry.direction === "inbound" ? renderChoice(object) : renderInteractive(object)),
  button: (object) => richText(object.text),
  template: (object, entry) => [
    richText(entry.text),
    el("span", { class: "bubble__footer" }, `Template ${entry.template?.name ?? object.name} · ${object.language?.code}`),
  ],
  location: (object) => renderLocation(object),
  contacts: (object) => renderContacts(Array.isArray(object) ? object : object.contacts),
  ...Object.fromEntries(
    Object.keys(MEDIA_LABELS).map((kind) => [
      kind,
      (object, entry) =>
        entry.direction === "outbound" && object.id ? renderHotelMedia(kind, object) : renderMedia(kind, object),
    ]),
  ),
};

function renderContent(entry) {
  const render = CONTENT_RENDERERS[entry.type];
  return el("div", { class: "content" }, render ? render(objectOf(entry) ?? {}, entry) : richText(summary(entry)));
}

/** Plain text with its web addresses made links (payment links, maps), built as nodes so nothing is parsed. */
function richText(text = "") {
  const span = el("span", { class: "text" });
  String(text)
    .split(/(https?:\/\/[^\s]+)/g)
    .forEach((part, index) => {
      span.append(index % 2 ? el("a", { href: part, target: "_blank", rel: "noopener noreferrer" }, part) : part);
    });
  return span;
}

function renderInteractive(object) {
  return [
    renderInteractiveHeader(object.header),
    richText(object.body?.text),
    object.footer?.text ? el("span", { class: "bubble__footer" }, object.footer.text) : null,
  ];
}

function renderInteractiveHeader(header) {
  if (!header) return null;
  if (header.type === "text") return el("strong", { class: "bubble__header" }, header.text);
  return renderMedia(header.type, header[header.type] ?? {});
}

/** The guest's own tap on a button or a list row. */
function renderChoice(object) {
  const choice = object[object.type] ?? {};
  return [
    richText(choice.title),
    choice.description ? el("span", { class: "bubble__footer" }, choice.description) : null,
  ];
}

function renderLocation(location) {
  const { latitude: lat, longitude: lon } = location;
  return el(
    "a",
    {
      class: "card",
      href: `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=16/${lat}/${lon}`,
      target: "_blank",
      rel: "noopener noreferrer",
    },
    el("span", { class: "card__icon", "aria-hidden": "true" }, "📍"),
    el(
      "span",
      { class: "card__text" },
      el("strong", {}, location.name || "Location"),
      location.address ? el("span", {}, location.address) : null,
      el("span", { class: "card__muted" }, `${Number(lat).toFixed(4)}, ${Number(lon).toFixed(4)}`),
    ),
  );
}

function renderMedia(kind, media) {
  const [icon, label] = MEDIA_LABELS[kind] ?? ["📎", kind];
  const title = media.filename || label;
  return [
    el(
      "span",
      { class: "card" },
      el("span", { class: "card__icon", "aria-hidden": "true" }, icon),
      el(
        "span",
        { class: "card__text" },
        media.link
          ? el("a", { href: media.link, target: "_blank", rel: "noopener noreferrer" }, el("strong", {}, title))
          : el("strong", {}, title),
        el("span", { class: "card__muted" }, media.link ? new URL(media.link).hostname : `media ${media.id ?? ""}`),
      ),
    ),
    media.caption ? richText(media.caption) : null,
  ];
}

/**
 * A file the hotel sent by its uploaded media id, as the guest's WhatsApp shows it: a photo or sticker inline
 * (opening full size), video and audio players, a document as a link with its file name. The bytes come from
 * the sandbox's copy of the upload (`/sandbox/phone/media/<id>`).
 */
function renderHotelMedia(kind, media) {
  const src = `/sandbox/phone/media/${encodeURIComponent(media.id)}`;
  const [icon, label] = MEDIA_LABELS[kind] ?? ["📎", kind];
  const name = media.filename || label;
  const players = {
    image: () =>
      el(
        "a",
        { href: src, target: "_blank", rel: "noopener" },
        el("img", { class: "media media--image", src, alt: media.caption || label }),
      ),
    sticker: () => el("img", { class: "media media--sticker", src, alt: label }),
    video: () => el("video", { class: "media media--video", src, controls: "", preload: "metadata" }),
    audio: () => el("audio", { class: "media media--audio", src, controls: "", preload: "metadata" }),
    document: () =>
      el(
        "a",
        { class: "card media--document", href: src, download: name, target: "_blank", rel: "noopener" },
        el("span", { class: "card__icon", "aria-hidden": "true" }, icon),
        el("span", { class: "card__text" }, el("strong", {}, name), el("span", { class: "card__muted" }, label)),
      ),
  };
  return [(players[kind] ?? players.document)(), media.caption ? richText(media.caption) : null];
}

function renderContacts(contacts = []) {
  return contacts.map((contact) =>
    el(
      "span",
      { class: "card" },
      el("span", { class: "card__icon", "aria-hidden": "true" }, "👤"),
      el(
        "span",
        { class: "card__text" },
        el("strong", {}, contact.name?.formatted_name ?? "Contact"),
        ...(contact.phones ?? []).map((phone) => el("span", { class: "card__muted" }, phone.phone ?? phone.wa_id)),
      ),
    ),
  );
}

/** The taps a hotel message offers under its bubble: reply buttons, a list, a link or template quick replies. */
function renderActions(entry) {
  const buttons = [];
  const object = entry.content ?? {};
  if (entry.type === "interactive" && object.type === "button") {
    for (const { reply } of object.action?.buttons ?? []) {
      buttons.push(actionButton(reply.title, () => sendButtonReply(entry, reply)));
    }
  } else if (entry.type === "interactive" && object.type === "list") {
    buttons.push(actionButton(`☰ ${object.action?.button ?? "Options"}`, () => openList(entry)));
  } else if (entry.type === "interactive" && object.type === "cta_url") {
    const { display_text: text, url } = object.action?.parameters ?? {};
    buttons.push(el("a", { class: "action", href: url, target: "_blank", rel: "noopener noreferrer" }, `↗ ${text}`));
  } else if (entry.type === "template") {
    for (const text of entry.template?.quick_replies ?? []) {
      buttons.push(actionButton(text, () => sendQuickReply(entry, text)));
    }
  }
  return buttons.length ? el("div", { class: "actions", role: "group", "aria-label": "Replies" }, buttons) : null;
}

function actionButton(label, onclick) {
  return el("button", { type: "button", class: "action", onclick }, label);
}

/** Reply and react, shown beside a hotel message on hover or when it has focus (a tap on a phone). */
function renderToolbar(entry) {
  return el(
    "div",
    { class: "toolbar", role: "group", "aria-label": "Message actions" },
    el("button", { type: "button", "aria-label": "Reply", title: "Reply", onclick: () => setReplyTo(entry) }, "↩"),
    REACTIONS.map((emoji) =>
      el(
        "button",
        { type: "button", "aria-label": `React ${emoji}`, title: `React ${emoji}`, onclick: () => react(entry, emoji) },
        emoji,
      ),
    ),
  );
}

/** The latest reaction of each side on a message; an empty emoji is a reaction taken back. */
function reactionsOn(wamid) {
  const latest = new Map();
  [...state.entries.values()]
    .filter((entry) => entry.type === "reaction" && objectOf(entry)?.message_id === wamid)
    .sort((a, b) => a.timestamp - b.timestamp)
    .forEach((entry) => latest.set(entry.direction, objectOf(entry).emoji));
  return [...latest].filter(([, emoji]) => emoji);
}

function renderReactionBadge(wamid) {
  const reactions = reactionsOn(wamid);
  const words = reactions.map(([side, emoji]) => `${side === "inbound" ? "You" : "The hotel"} reacted ${emoji}`);
  return el(
    "span",
    { class: "reactions", hidden: !reactions.length, role: "img", "aria-label": words.join(", ") || "No reactions" },
    reactions.map(([, emoji]) => emoji).join(" "),
  );
}

function refreshReactions(wamid) {
  rowOf(wamid)?.querySelector(".reactions").replaceWith(renderReactionBadge(wamid));
}

function renderChatHeader() {
  const number = hotel();
  $("chat-title").textContent = number?.name ?? "Hotel";
  $("phone").setAttribute("aria-label", `Chat with ${number?.name ?? "the hotel"}`);
  $("chat-subtitle").textContent = number ? formatPhone(number.display_phone_number) : "";
  const avatar = $("chat-avatar");
  avatar.textContent = initials(number?.name ?? "?");
  avatar.style.setProperty("--hue", String([...state.business].reduce((sum, c) => sum * 31 + c.charCodeAt(0), 7) % 360));
}

// ---- what the guest sends -------------------------------------------------------------------------------

/** POST one guest message; the stream brings it back into the thread, so only a failure is shown here. */
async function sendToHotel(payload, replyTo = null) {
  const body = { to: state.business, ...payload };
  const name = $("profile-name").value.trim();
  if (name) body.name = name;
  if (replyTo) body.reply_to = replyTo;
  try {
    await api(`/sandbox/guests/${state.waId}/messages`, { method: "POST", body: JSON.stringify(body) });
  } catch (error) {
    showAlert(`Not sent: ${error.message}`);
    return false;
  }
  hideAlert();
  if (state.source?.readyState !== EventSource.OPEN) reloadThread();
  return true;
}

async function sendText(event) {
  event.preventDefault();
  const input = $("message");
  const text = input.value.trim();
  if (!text) return;
  if (await sendToHotel({ text }, state.replyTo?.wamid)) {
    input.value = "";
    fitComposer();
    setReplyTo(null);
  }
  input.focus();
}

function sendButtonReply(entry, reply) {
  const interactive = { type: "button_reply", button_reply: { id: reply.id, title: reply.title } };
  return sendToHotel({ message: { type: "interactive", interactive } }, entry.wamid);
}

function sendListReply(entry, row) {
  const listReply = { id: row.id, title: row.title };
  if (row.description) listReply.description = row.description;
  return sendToHotel({ message: { type: "interactive", interactive: { type: "list_reply", list_reply: listReply } } }, entry.wamid);
}

function sendQuickReply(entry, text) {
  return sendToHotel({ message: { type: "button", button: { payload: text, text } } }, entry.wamid);
}

function sendLocation() {
  return sendToHotel({ message: { type: "location", location: SAMPLE_LOCATION } });
}

/** The kind of WhatsApp message a picked file goes as: a photo, a voice note, a video, else a document. */
function mediaKind(file) {
  if (file.type === "image/jpeg" || file.type === "image/png") return "image";
  if (file.type.startsWith("audio/")) return "audio";
  if (file.type === "video/mp4") return "video";
  return "document";
}

/**
 * A real file from the device, as the guest's phone sends one: its bytes go up to the sandbox (as WhatsApp
 * keeps a guest's media), and the message names the media id, so the gateway downloads them through the
 * Graph API's media routes. The text box is the caption.
 */
async function sendFile() {
  const picker = $("photo-file");
  const file = picker.files[0];
  picker.value = "";
  if (!file) return;
  const form = new FormData();
  form.append("file", file, file.name);
  let uploaded;
  try {
    const response = await fetch("/sandbox/guests/media", { method: "POST", body: form });
    uploaded = await response.json();
    if (!response.ok) throw new Error(uploaded.error?.message || `HTTP ${response.status}`);
  } catch (error) {
    showAlert(`Not sent: ${error.message}`);
    return;
  }
  const kind = mediaKind(file);
  const media = { id: uploaded.id, mime_type: uploaded.mime_type };
  const input = $("message");
  const caption = input.value.trim();
  if (caption && kind !== "audio") media.caption = caption;
  if (kind === "document") media.filename = file.name;
  if (await sendToHotel({ message: { type: kind, [kind]: media } }, state.replyTo?.wamid)) {
    input.value = "";
    fitComposer();
    setReplyTo(null);
  }
}

/** Tapping the emoji the guest already put on a message takes it back, as WhatsApp does. */
function react(entry, emoji) {
  const mine = reactionsOn(entry.wamid).find(([side]) => side === "inbound")?.[1];
  const reaction = { message_id: entry.wamid, emoji: mine === emoji ? "" : emoji };
  return sendToHotel({ message: { type: "reaction", reaction } });
}

function setReplyTo(entry) {
  state.replyTo = entry;
  $("replying").hidden = !entry;
  $("replying-text").textContent = entry ? summary(entry) : "";
  if (entry) $("message").focus();
}

function openList(entry) {
  const { action = {}, body = {} } = entry.content;
  const sheet = $("list-sheet");
  $("list-sheet-title").textContent = action.button ?? "Options";
  $("list-sheet-body").replaceChildren(
    el("p", { class: "sheet__lead" }, body.text ?? ""),
    ...(action.sections ?? []).map((section) =>
      el(
        "section",
        { class: "sheet__section" },
        section.title ? el("h3", {}, section.title) : null,
        el(
          "ul",
          { role: "list" },
          section.rows.map((row) =>
            el(
              "li",
              {},
              el(
                "button",
                {
                  type: "button",
                  class: "sheet__row",
                  onclick: () => {
                    sheet.close();
                    sendListReply(entry, row);
                  },
                },
                el("span", { class: "sheet__row-title" }, row.title),
                row.description ? el("span", { class: "sheet__row-description" }, row.description) : null,
              ),
            ),
          ),
        ),
      ),
    ),
  );
  sheet.showModal();
}

// ---- little helpers -------------------------------------------------------------------------------------

function bindEvents() {
  $("setup").addEventListener("submit", (event) => event.preventDefault());
  $("business").addEventListener("change", chooseBusiness);
  $("wa-id").addEventListener("change", chooseGuest);
  $("wa-id").addEventListener("input", () => $("wa-id").setCustomValidity(""));
  $("profile-name").addEventListener("change", saveChoice);
  $("composer").addEventListener("submit", sendText);
  $("message").addEventListener("input", fitComposer);
  $("message").addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    $("composer").requestSubmit();
  });
  $("send-location").addEventListener("click", sendLocation);
  $("send-photo").addEventListener("click", () => $("photo-file").click());
  $("photo-file").addEventListener("change", sendFile);
  $("replying-cancel").addEventListener("click", () => setReplyTo(null));
}

function fitComposer() {
  const input = $("message");
  input.style.height = "auto";
  input.style.height = `${input.scrollHeight}px`;
}

function showAlert(text) {
  const alert = $("alert");
  alert.textContent = text;
  alert.hidden = false;
  clearTimeout(state.alertTimer);
  state.alertTimer = setTimeout(hideAlert, ALERT_MS);
}

function hideAlert() {
  $("alert").hidden = true;
}

/** `34952000001` as `+34 952 000 001`: a country code of one to three digits, then groups of three. */
function formatPhone(digits = "") {
  const codeLength = /^[17]/.test(digits) ? 1 : /^(2[07]|3[0-469]|4[0-9]|5[1-8]|6[0-6]|8[1246]|9[0-58])/.test(digits) ? 2 : 3;
  const rest = digits.slice(codeLength);
  const head = rest.length % 3 === 1 && rest.length > 3 ? 4 : 3;
  const groups = [rest.slice(0, head), ...(rest.slice(head).match(/.{1,3}/g) ?? [])];
  return `+${digits.slice(0, codeLength)} ${groups.join(" ")}`;
}

function initials(name) {
  const words = name.split(/\s+/).filter((word) => /^\p{Lu}/u.test(word) && word !== "Hotel");
  return words.slice(0, 2).map((word) => word[0]).join("") || name.slice(0, 1);
}

function formatTime(date) {
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function dayLabel(timestamp) {
  const day = new Date(timestamp * 1000);
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (day.toDateString() === today.toDateString()) return "Today";
  if (day.toDateString() === yesterday.toDateString()) return "Yesterday";
  return day.toLocaleDateString([], { day: "numeric", month: "long", year: "numeric" });
}

start();
