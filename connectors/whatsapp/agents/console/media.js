// A message's file in the console: a guest's photo as a thumbnail that opens full size, voice notes and
// videos in players, documents as a download link with their name, stickers small, and "not available" with
// the reason. The API serves the bytes only with the agent's token, which an <img> cannot send: each file is
// fetched once with it and shown from a `blob:` URL (the page's CSP allows those for images and media).

export const MEDIA_TEXT = {
  es: {
    media_pending: "Descargando de WhatsApp…", media_open: "Ver a tamaño completo", media_close: "Cerrar",
    media_download: "Descargar {name}", media_unavailable: "No disponible ({reason})",
    media_refused: "demasiado grande para WhatsApp", media_failed: "WhatsApp no lo entregó",
    media_expired: "borrado al acabar el plazo de conservación", media_error: "no se pudo cargar",
    media_image: "Foto del huésped", media_sticker: "Sticker", media_document: "documento",
  },
  en: {
    media_pending: "Downloading from WhatsApp…", media_open: "View full size", media_close: "Close",
    media_download: "Download {name}", media_unavailable: "Not available ({reason})",
    media_refused: "too large for WhatsApp", media_failed: "WhatsApp did not deliver it",
    media_expired: "deleted after the retention period", media_error: "could not be loaded",
    media_image: "Guest's photo", media_sticker: "Sticker", media_document: "document",
  },
};

const blobs = new Map();
const retries = new Map();

/** The file's `blob:` URL, fetched once per page with the token (`fetchFile` answers a `Response`). */
function blobUrl(media, fetchFile) {
  if (!blobs.has(media.id)) {
    const loading = fetchFile(media.url).then(async (response) => {
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return URL.createObjectURL(await response.blob());
    });
    loading.catch(() => blobs.delete(media.id));
    blobs.set(media.id, loading);
  }
  return blobs.get(media.id);
}

/** Sets `attribute` of `node` to the file's URL once it is there; a failure shows the error state instead. */
function load(node, attribute, media, tools) {
  blobUrl(media, tools.fetchFile)
    .then((url) => node.setAttribute(attribute, url))
    .catch(() => node.replaceWith(unavailable(tools, tools.t("media_error"))));
  return node;
}

function unavailable(tools, reason) {
  return tools.el("p", { class: "media media--unavailable muted" }, tools.t("media_unavailable", { reason }));
}

function openFullSize(media, tools) {
  const { el, t } = tools;
  const image = load(el("img", { class: "media__full", alt: t("media_image") }), "src", media, tools);
  const dialog = el("dialog", { class: "media-viewer", "data-media": media.id },
    image, el("button", { type: "button", class: "link", onclick: () => dialog.close() }, t("media_close")));
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}

function documentLink(media, tools) {
  const { el, t } = tools;
  const name = media.filename || t("media_document");
  const link = el("a", { class: "media media--document", href: "#", download: name }, `📄 ${t("media_download", { name })}`);
  link.addEventListener("click", async (event) => {
    if (link.getAttribute("href") !== "#") return;
    event.preventDefault();
    try {
      link.setAttribute("href", await blobUrl(media, tools.fetchFile));
      link.click();
    } catch {
      link.replaceWith(unavailable(tools, t("media_error")));
    }
  });
  return link;
}

/** Look again later while the gateway is still downloading the file (each wait twice the last, up to 30 s). */
function retryLater(media, refresh) {
  const tries = retries.get(media.id) || 0;
  if (tries > 12) return;
  retries.set(media.id, tries + 1);
  setTimeout(refresh, Math.min(30000, 1000 * 2 ** tries));
}

/** The file's node with its caption under it (a guest's edit of the caption shows in the message's text). */
function withCaption(node, media, tools) {
  if (!media.caption) return node;
  return tools.el("div", { class: "media__with-caption" }, node, tools.el("p", { class: "msg__text media__caption" }, media.caption));
}

/**
 * The node showing `message.media`, or null for a message without a file. `tools` carries the console's
 * `el` and `t`, `fetchFile(url)` (a fetch with the agent's token) and `refresh()` (reload the thread).
 */
export function renderMedia(message, tools) {
  const node = mediaNode(message, tools);
  return node && withCaption(node, message.media, tools);
}

function mediaNode(message, tools) {
  const media = message.media;
  if (!media) return null;
  const { el, t } = tools;
  if (media.state === "pending") {
    retryLater(media, tools.refresh);
    return el("p", { class: "media media--pending muted", "data-media": media.id }, t("media_pending"));
  }
  if (media.state !== "kept") {
    const node = unavailable(tools, t(`media_${media.state}`));
    node.title = media.reason || "";
    node.dataset.media = media.id;
    return node;
  }
  const attributes = { "data-media": media.id, "data-kind": media.kind };
  if (media.kind === "image" || media.kind === "sticker") {
    const image = load(el("img", { class: `media__${media.kind}`, alt: t(`media_${media.kind}`) }), "src", media, tools);
    if (media.kind === "sticker") return el("div", { class: "media media--sticker", ...attributes }, image);
    return el("button", { type: "button", class: "media media--image", title: t("media_open"), "aria-label": t("media_open"), ...attributes,
      onclick: () => openFullSize(media, tools) }, image);
  }
  if (media.kind === "audio") return el("div", { class: "media media--audio", ...attributes }, load(el("audio", { controls: true, preload: "metadata" }), "src", media, tools));
  if (media.kind === "video") return el("div", { class: "media media--video", ...attributes }, load(el("video", { controls: true, preload: "metadata" }), "src", media, tools));
  return el("div", attributes, documentLink(media, tools));
}
