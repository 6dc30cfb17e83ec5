// DOM helpers. Text always goes in as textContent: config text, UTMs and sources are attacker-controlled.

/**
 * The element with that id. Typed `any`: the caller knows whether it is an input, a select or a canvas.
 * @type {(id: string) => any}
 */
export const $ = (id) => document.getElementById(id);

/** `el('td', { class: 'x' }, 'text', otherNode)`: strings become text nodes, never HTML. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat())
    if (c !== null && c !== undefined && c !== false) node.append(c instanceof Node ? c : String(c));
  return node;
}

/** Shows a message in an element, with a tone class (ok, bad, warn) or none. */
export function say(node, text, tone) {
  node.textContent = text;
  node.classList.remove('ok', 'bad', 'warn', 'busy');
  if (tone) node.classList.add(tone);
}
