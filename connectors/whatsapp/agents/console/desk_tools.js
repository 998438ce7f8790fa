// The front desk's tools in the console: internal notes (the composer's "note" toggle), saved replies (a
// picker as the agent types `/`), assignment and resolving, and the list's status and assignee filters.
// console.js calls these hooks; everything of the tools lives here. No HTML is ever parsed: nodes come
// from console.js's `el`.

export const TEXT = {
  es: {
    note_mode: "Nota interna", note_placeholder: "Nota solo para el equipo: el huésped no la ve", note: "Nota",
    add_note: "Añadir nota", assign_me: "Asignarme", unassign: "Quitar asignación", resolve: "Resolver",
    assigned_to: "Asignada a {name}", unassigned: "Sin asignar", status_open: "Abiertas", status_resolved: "Resueltas",
    status_all: "Abiertas y resueltas", assignee_any: "De cualquiera", assignee_me: "Mías", assignee_none: "Sin asignar",
    status_filter: "Estado de la conversación", assignee_filter: "Asignación", resolved_badge: "Resuelta",
    desk_assigned: "{who} asignó la conversación a {name}", desk_unassigned: "{who} quitó la asignación",
    desk_resolved: "{who} resolvió la conversación", saved_replies: "Respuestas guardadas",
    no_saved_replies: "No hay respuestas guardadas con ese código",
  },
  en: {
    note_mode: "Internal note", note_placeholder: "A note for the team only: the guest never sees it", note: "Note",
    add_note: "Add note", assign_me: "Assign to me", unassign: "Unassign", resolve: "Resolve",
    assigned_to: "Assigned to {name}", unassigned: "Unassigned", status_open: "Open", status_resolved: "Resolved",
    status_all: "Open and resolved", assignee_any: "Anyone's", assignee_me: "Mine", assignee_none: "Unassigned",
    status_filter: "Conversation status", assignee_filter: "Assignment", resolved_badge: "Resolved",
    desk_assigned: "{who} assigned the conversation to {name}", desk_unassigned: "{who} unassigned the conversation",
    desk_resolved: "{who} resolved the conversation", saved_replies: "Saved replies",
    no_saved_replies: "No saved reply with that code",
  },
};

let ctx = null;
const picker = { replies: [], key: "", shown: [], index: 0 };

/** Wire the tools to the console: `context` holds console.js's state and helpers. */
export function install(context) {
  ctx = context;
  const { $ } = ctx;
  $("status-filter").addEventListener("change", ctx.loadList);
  $("assignee-filter").addEventListener("change", ctx.loadList);
  $("assign-me").addEventListener("click", () => ctx.act("assign", { agent: ctx.state.me.name }));
  $("unassign").addEventListener("click", () => ctx.act("assign", { agent: null }));
  $("resolve").addEventListener("click", () => ctx.act("resolve"));
  $("note-mode").addEventListener("change", renderComposerMode);
  $("reply-text").addEventListener("input", updatePicker);
  $("reply-text").addEventListener("keydown", pickerKeys);
  // Hidden a moment after the box loses focus, unless it has it back by then (a quick click away and back).
  $("reply-text").addEventListener("blur", () => setTimeout(() => {
    if (document.activeElement !== $("reply-text")) hidePicker();
  }, 150));
  $("language").addEventListener("change", translateTools);
  translateTools();
}

/** After console.js's translatePage (its listener comes first): the controls named by `aria-label` only,
 * and the composer's text in note mode, which translatePage sets back to the reply's. */
function translateTools() {
  for (const node of document.querySelectorAll("[data-i18n-label]")) node.setAttribute("aria-label", ctx.t(node.dataset.i18nLabel));
  if (noteMode()) renderComposerMode();
}

/** The list's query arguments for the status and assignee filters. */
export function listQuery() {
  const status = ctx.$("status-filter").value;
  const assignee = ctx.$("assignee-filter").value;
  return `&status=${status}${assignee ? `&assignee=${encodeURIComponent(assignee)}` : ""}`;
}

/** A list item's assignee and status marks. */
export function listBadges(c) {
  const { el, t } = ctx;
  return [
    c.assignee ? el("span", { class: "assignee", "data-assignee": c.assignee }, t("assigned_to", { name: c.assignee })) : null,
    c.status === "resolved" ? el("span", { class: "badge badge--resolved" }, t("resolved_badge")) : null,
  ];
}

/** The thread header's assignment and resolve controls. */
export function renderHeader(c) {
  const { $, t, state } = ctx;
  const mine = c.assignee === state.me.name;
  $("assignee-state").textContent = c.assignee ? t("assigned_to", { name: c.assignee }) : t("unassigned");
  $("assignee-state").dataset.assignee = c.assignee || "";
  $("assign-me").hidden = mine;
  $("unassign").hidden = !c.assignee;
  $("resolve").hidden = c.status === "resolved";
  if (state.current && picker.key !== `${c.business_id}:${c.wa_id}`) picker.replies = [];
}

/** Notes and the desk's audit trail as rows of the thread, to sort among the messages by time. */
export function threadRows(thread) {
  const { el, t } = ctx;
  return (thread.desk_events || []).map((event) => {
    if (event.kind === "note") {
      return {
        at: event.at,
        node: el("li", { class: "note", "data-note": event.id },
          el("span", { class: "note__who" }, `${t("note")} · ${event.actor}`),
          el("p", { class: "note__text" }, event.text)),
      };
    }
    const label = event.kind === "resolved" ? t("desk_resolved", { who: event.actor })
      : event.text ? t("desk_assigned", { who: event.actor, name: event.text }) : t("desk_unassigned", { who: event.actor });
    return { at: event.at, node: el("li", { class: "handoff-event desk-event", "data-desk": event.kind }, label) };
  });
}

export function noteMode() {
  return ctx.$("note-mode").checked;
}

/** The composer in note mode: the text goes to the thread's notes, never to the guest. */
export async function sendNote(text) {
  const answer = await ctx.act("notes", { text });
  if (answer) ctx.$("reply-text").value = "";
}

function renderComposerMode() {
  const { $, t } = ctx;
  const note = noteMode();
  $("composer").classList.toggle("composer--note", note);
  $("reply-text").placeholder = t(note ? "note_placeholder" : "reply_placeholder");
  $("composer-send").textContent = t(note ? "add_note" : "send");
  $("reopen").closest("label").hidden = note;
}

// --- the saved-reply picker -------------------------------------------------------------------------------

/** The `/code` being typed at the caret, or null. */
function typedCode(box) {
  const before = box.value.slice(0, box.selectionStart);
  const match = before.match(/(^|\s)\/([\w-]*)$/);
  return match ? { code: match[2].toLowerCase(), start: before.length - match[2].length - 1 } : null;
}

async function updatePicker() {
  const box = ctx.$("reply-text");
  const typed = typedCode(box);
  if (!typed) return hidePicker();
  const key = `${ctx.state.current.business_id}:${ctx.state.current.wa_id}`;
  if (picker.key !== key || !picker.replies.length) {
    try {
      picker.replies = (await ctx.api(ctx.threadPath("saved-replies"))).saved_replies;
      picker.key = key;
    } catch (error) {
      ctx.showAlert(error.message);
      return hidePicker();
    }
  }
  picker.shown = picker.replies.filter((reply) => reply.code.startsWith(typed.code));
  picker.index = 0;
  renderPicker();
}

function renderPicker() {
  const { $, el, t } = ctx;
  const list = $("saved-picker");
  list.hidden = false;
  $("reply-text").setAttribute("aria-expanded", "true");
  if (!picker.shown.length) {
    list.replaceChildren(el("li", { class: "muted" }, t("no_saved_replies")));
    return;
  }
  list.replaceChildren(...picker.shown.map((reply, index) => el("li", {
    role: "option", id: `saved-${reply.code}`, "aria-selected": String(index === picker.index), "data-code": reply.code,
    onmousedown: (event) => { event.preventDefault(); insert(reply); },
  }, el("b", {}, `/${reply.code}`), " ", el("span", { class: "muted" }, reply.filled))));
  $("reply-text").setAttribute("aria-activedescendant", `saved-${picker.shown[picker.index].code}`);
}

function hidePicker() {
  ctx.$("saved-picker").hidden = true;
  ctx.$("reply-text").setAttribute("aria-expanded", "false");
  ctx.$("reply-text").removeAttribute("aria-activedescendant");
}

function pickerKeys(event) {
  if (ctx.$("saved-picker").hidden || !picker.shown.length) return;
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    const step = event.key === "ArrowDown" ? 1 : -1;
    picker.index = (picker.index + step + picker.shown.length) % picker.shown.length;
    renderPicker();
  } else if (event.key === "Enter" || event.key === "Tab") {
    event.preventDefault();
    insert(picker.shown[picker.index]);
  } else if (event.key === "Escape") {
    hidePicker();
  }
}

/** Put the reply's text, filled for this thread, where the `/code` was typed. */
function insert(reply) {
  const box = ctx.$("reply-text");
  const typed = typedCode(box);
  if (!typed) return hidePicker();
  const after = box.value.slice(box.selectionStart);
  box.value = `${box.value.slice(0, typed.start)}${reply.filled}${after}`;
  const caret = typed.start + reply.filled.length;
  box.setSelectionRange(caret, caret);
  box.focus();
  hidePicker();
}
