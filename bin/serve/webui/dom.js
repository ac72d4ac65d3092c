// Building DOM nodes.  Text always enters the page as text nodes: nothing
// here (or anywhere in the page) parses a string as HTML, and the server's
// Content-Security-Policy (Trusted Types 'none') makes the HTML sinks throw.

export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value == null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  return append(el, children);
}

export function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

export const $ = (id) => document.getElementById(id);

// Copy to the clipboard; the older selection way where the Clipboard API is
// missing (a page served over plain HTTP to another machine is not a secure context).
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = h('textarea', { class: 'offscreen', readonly: true });
    area.value = text;
    document.body.append(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}

export function flash(button, text, ms = 1200) {
  const before = button.textContent;
  button.textContent = text;
  setTimeout(() => { button.textContent = before; }, ms);
}
