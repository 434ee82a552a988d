// Tiny DOM helpers: every text goes in through textContent, never as parsed HTML, so nothing the
// server or a user typed can become markup.

let nextId = 0;

/** A unique element id with a readable prefix. */
export function uid(prefix) {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/**
 * Creates an element. `attrs`: `class`, `text`, `on<event>` (a listener), booleans (set when
 * true), anything else as an attribute. Children: nodes or strings (text), null skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") el.textContent = String(v);
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "value") el.value = v;
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** A labelled control: `<div class=field><label for=id>label</label>control</div>`. */
export function field(label, control, hint) {
  if (!control.id) control.id = uid("f");
  const parts = [h("label", { for: control.id, text: label }), control];
  if (hint) {
    const hintId = uid("hint");
    control.setAttribute("aria-describedby", hintId);
    parts.push(h("small", { id: hintId, class: "hint", text: hint }));
  }
  return h("div", { class: "field" }, ...parts);
}

/** A `<select>` with these options (strings or [value, label]). */
export function select(name, options, value) {
  const el = h("select", { name });
  for (const o of options) {
    const [v, label] = Array.isArray(o) ? o : [o, o];
    el.append(h("option", { value: v, text: label, selected: v === value }));
  }
  return el;
}

/** Replaces the children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}

/** A status line: role=status for successes, role=alert for failures. */
export function message(kind, text) {
  return h("p", { class: `msg msg-${kind}`, role: kind === "error" ? "alert" : "status", text });
}

/** A table from column headings and rows of cells (strings or nodes). */
export function table(caption, headings, rows, attrs = {}) {
  return h(
    "table",
    attrs,
    h("caption", { text: caption }),
    h("thead", {}, h("tr", {}, headings.map((t) => h("th", { scope: "col", text: t })))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c))))),
  );
}

/** Splits a comma or newline separated list, trimming, dropping empties. */
export function list(text) {
  return text.split(/[\n,]/).map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Formats a byte count. */
export function bytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = -1;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
