// A small Markdown renderer for model answers, building DOM nodes directly.
//
// It covers what chat models write: paragraphs, headings, fenced code (with a
// copy button), inline code, bold, italic, strikethrough, lists (nested),
// block quotes, rules, pipe tables, links and bare URLs.  From HTML only the
// tags of the server's image-metadata block are recognised (details, summary,
// table and its parts, br; no attributes); any other tag is shown as text.
// Link targets must be absolute http(s) or mailto URLs, and images are shown
// as links, never loaded.  Text becomes text nodes, so nothing a model writes
// can turn into markup or script.

import { copyText, flash, h } from './dom.js';

const FENCE = /^ {0,3}(`{3,}|~{3,})[ \t]*([^\s`]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const ITEM = /^( *)([-*+]|\d{1,9}[.)])(?:[ \t]+(.*))?$/;
const TABLE_RULE = /^ *\|? *:?-+:? *(?:\| *:?-+:? *)*\|? *$/;
const DETAILS_OPEN = /^ *<details( open)?>[ \t]*(?:<summary>(.*?)<\/summary>)?[ \t]*$/i;
const DETAILS_CLOSE = /^ *<\/details>[ \t]*$/i;
const SUMMARY = /^ *<summary>(.*?)<\/summary>[ \t]*$/i;
const COMMENT = /^ *<!--/;
const HTML_TABLE = /^ *<table>/i;
const HTML_TAGS = new Set(['details', 'summary', 'table', 'thead', 'tbody', 'tfoot', 'tr', 'th', 'td', 'caption']);
const PUNCT = /[!-/:-@[-`{-~]/;
const WORD = /[\p{L}\p{N}]/u;
const MAX_DEPTH = 8; // nesting of quotes, lists and details; deeper lines stay text
const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

export function renderMarkdown(text) {
  const out = document.createDocumentFragment();
  blocks(String(text ?? '').replace(/\r\n?/g, '\n').split('\n'), out, 0);
  return out;
}

// Absolute http(s) and mailto URLs only; the URL parser normalises what
// tricks like "java\tscript:" or upper case would hide.
export function safeHref(raw) {
  try {
    const url = new URL(String(raw).trim());
    return ['http:', 'https:', 'mailto:'].includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

// ---- blocks ------------------------------------------------------------------

function blocks(lines, parent, depth) {
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    let m;
    if (!line.trim() || DETAILS_CLOSE.test(line)) i++; // blank, or a stray </details>
    else if ((m = FENCE.exec(line))) i = fence(lines, i, m, parent);
    else if (COMMENT.test(line)) i = comment(lines, i);
    else if (depth < MAX_DEPTH && (m = DETAILS_OPEN.exec(line))) i = details(lines, i, m, parent, depth);
    else if (HTML_TABLE.test(line)) i = htmlBlock(lines, i, parent);
    else if ((m = HEADING.exec(line))) {
      parent.append(h(`h${m[1].length}`, null, inline(m[2] ?? '')));
      i++;
    } else if (RULE.test(line)) {
      parent.append(h('hr'));
      i++;
    } else if (depth < MAX_DEPTH && QUOTE.test(line)) i = quote(lines, i, parent, depth);
    else if (depth < MAX_DEPTH && ITEM.test(line)) i = list(lines, i, parent, depth);
    else if (isTable(lines, i)) i = table(lines, i, parent);
    else i = paragraph(lines, i, parent);
  }
}

function indentOf(line) {
  return line.length - line.trimStart().length;
}

// Can this line end a paragraph?  (Ordered lists only when they start at 1.)
function interrupts(lines, i) {
  const line = lines[i];
  const item = ITEM.exec(line);
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) || COMMENT.test(line)
    || DETAILS_OPEN.test(line) || DETAILS_CLOSE.test(line) || HTML_TABLE.test(line) || isTable(lines, i)
    || (item && item[3] && (/^[-*+]$/.test(item[2]) || /^1[.)]$/.test(item[2])));
}

function paragraph(lines, i, parent) {
  const text = [lines[i].trim()];
  let j = i + 1;
  while (j < lines.length && lines[j].trim() && !interrupts(lines, j)) text.push(lines[j++].trim());
  parent.append(h('p', null, inline(text.join('\n'))));
  return j;
}

function fence(lines, i, m, parent) {
  const [marker, lang] = [m[1], m[2]];
  const indent = indentOf(lines[i]);
  const close = new RegExp(`^ {0,3}\\${marker[0]}{${marker.length},}[ \\t]*$`);
  const body = [];
  let j = i + 1;
  for (; j < lines.length && !close.test(lines[j]); j++) {
    body.push(lines[j].slice(Math.min(indent, indentOf(lines[j]))));
  }
  parent.append(codeBlock(body.join('\n'), lang));
  return j + 1; // past the closing fence (an answer still streaming has none yet)
}

export function codeBlock(code, lang) {
  const copy = h('button', { type: 'button', class: 'copy', title: 'Copy this code' }, 'Copy');
  copy.addEventListener('click', async () => flash(copy, (await copyText(code)) ? 'Copied' : 'Copy failed'));
  const codeEl = h('code', null, code);
  if (lang) codeEl.dataset.lang = lang;
  return h('div', { class: 'code' },
    h('div', { class: 'code-head' }, h('span', { class: 'lang' }, lang || 'text'), copy),
    h('pre', null, codeEl));
}

function comment(lines, i) {
  let j = i;
  while (j < lines.length && !lines[j].includes('-->')) j++;
  return j + 1;
}

function details(lines, i, m, parent, depth) {
  let summary = m[2];
  const inner = [];
  let j = i + 1;
  for (let nested = 0; j < lines.length; j++) {
    if (DETAILS_OPEN.test(lines[j])) nested++;
    else if (DETAILS_CLOSE.test(lines[j]) && nested-- === 0) break;
    inner.push(lines[j]);
  }
  const first = inner.findIndex((line) => line.trim());
  const s = first >= 0 && summary == null ? SUMMARY.exec(inner[first]) : null;
  if (s) {
    summary = s[1];
    inner.splice(first, 1);
  }
  const el = h('details', { open: Boolean(m[1]) }, h('summary', null, inline(summary ?? 'Details')));
  blocks(inner, el, depth + 1);
  parent.append(el);
  return j + 1;
}

function quote(lines, i, parent, depth) {
  const inner = [];
  let j = i;
  for (; j < lines.length; j++) {
    const m = QUOTE.exec(lines[j]);
    if (m) inner.push(m[1]);
    else if (lines[j].trim() && inner.at(-1)?.trim() && !interrupts(lines, j)) inner.push(lines[j]); // lazy line
    else break;
  }
  const el = h('blockquote');
  blocks(inner, el, depth + 1);
  parent.append(el);
  return j;
}

function list(lines, i, parent, depth) {
  const first = ITEM.exec(lines[i]);
  const indent = first[1].length;
  const ordered = /\d/.test(first[2]);
  const sameKind = (m) => m && /\d/.test(m[2]) === ordered && m[2].at(-1) === first[2].at(-1);
  const items = [];
  let j = i;
  while (j < lines.length) {
    const line = lines[j];
    const m = ITEM.exec(line);
    if (m && Math.abs(m[1].length - indent) <= 1 && sameKind(m)) {
      items.push({ lines: [m[3] ?? ''], width: m[1].length + m[2].length + 1 });
      j++;
    } else if (!line.trim()) {
      let k = j + 1;
      while (k < lines.length && !lines[k].trim()) k++;
      const next = ITEM.exec(lines[k] ?? '');
      const continues = k < lines.length
        && (indentOf(lines[k]) > indent || (next && Math.abs(next[1].length - indent) <= 1 && sameKind(next)));
      if (!continues) break;
      items.at(-1).lines.push('');
      j++;
    } else if (indentOf(line) > indent) {
      const item = items.at(-1);
      item.lines.push(line.slice(Math.min(indentOf(line), item.width)));
      j++;
    } else if (!m && !interrupts(lines, j) && items.at(-1).lines.at(-1).trim()) {
      items.at(-1).lines.push(line.trim()); // lazy continuation of the item's paragraph
      j++;
    } else break;
  }
  const el = h(ordered ? 'ol' : 'ul');
  const start = parseInt(first[2], 10);
  if (ordered && start !== 1) el.setAttribute('start', String(start));
  for (const item of items) {
    const li = h('li');
    blocks(item.lines, li, depth + 1);
    el.append(li);
  }
  parent.append(el);
  return j;
}

function cells(row) {
  let s = row.trim();
  if (s.startsWith('|')) s = s.slice(1);
  if (s.endsWith('|') && !s.endsWith('\\|')) s = s.slice(0, -1);
  const out = [];
  let cell = '';
  let code = false;
  for (let k = 0; k < s.length; k++) {
    const c = s[k];
    if (c === '\\' && s[k + 1] === '|') {
      cell += '|';
      k++;
    } else if (c === '`') {
      code = !code;
      cell += c;
    } else if (c === '|' && !code) {
      out.push(cell.trim());
      cell = '';
    } else cell += c;
  }
  out.push(cell.trim());
  return out;
}

function isTable(lines, i) {
  const head = lines[i];
  const rule = lines[i + 1];
  return head.includes('|') && rule != null && rule.includes('-') && TABLE_RULE.test(rule)
    && (rule.includes('|') || head.trim().startsWith('|')) && cells(head).length === cells(rule).length;
}

function table(lines, i, parent) {
  const head = cells(lines[i]);
  const align = cells(lines[i + 1]).map((c) => {
    if (c.endsWith(':')) return c.startsWith(':') ? 'center' : 'right';
    return c.startsWith(':') ? 'left' : null;
  });
  const row = (values, tag) => h('tr', null, head.map((_, k) => {
    const cell = h(tag, null, inline(values[k] ?? ''));
    if (align[k]) cell.classList.add(`align-${align[k]}`);
    return cell;
  }));
  const body = h('tbody');
  let j = i + 2;
  for (; j < lines.length && lines[j].trim() && lines[j].includes('|'); j++) body.append(row(cells(lines[j]), 'td'));
  parent.append(h('div', { class: 'table' }, h('table', null, h('thead', null, row(head, 'th')), body)));
  return j;
}

// An HTML table block: only the allowed tags become elements (without any
// attribute); everything else stays text.
function htmlBlock(lines, i, parent) {
  let j = i;
  while (j < lines.length && !/<\/table>/i.test(lines[j])) j++;
  const source = lines.slice(i, j + 1).join('\n');
  const root = h('div', { class: 'table' });
  const stack = [root];
  const tag = /<!--[\s\S]*?-->|<(\/?)([a-zA-Z]+)\s*>/g;
  let last = 0;
  const text = (s) => { if (s.trim()) stack.at(-1).append(...inline(s.trim())); };
  for (let m; (m = tag.exec(source));) {
    text(source.slice(last, m.index));
    last = tag.lastIndex;
    const name = m[2]?.toLowerCase();
    if (!name) continue; // a comment
    if (!HTML_TAGS.has(name)) text(m[0]);
    else if (m[1]) {
      const k = stack.findLastIndex((el) => el.localName === name);
      if (k > 0) stack.length = k;
    } else {
      const el = h(name);
      stack.at(-1).append(el);
      stack.push(el);
    }
  }
  text(source.slice(last));
  parent.append(root);
  return j + 1;
}

// ---- inline ------------------------------------------------------------------

const AUTOLINK = /<((?:https?:\/\/|mailto:)[^\s<>]+)>/iy;
const BREAK = /<br\s*\/?>/iy;
const BARE_URL = /https?:\/\/[^\s<>"'`]*[^\s<>"'`.,;:!?)\]*_~]/y;
const BACKTICKS = /`+/y;

function sticky(re, src, i) {
  re.lastIndex = i;
  return re.exec(src);
}

export function inline(src, depth = 0) {
  const out = [];
  let buf = '';
  const push = (node, next) => {
    if (buf) out.push(decode(buf));
    buf = '';
    if (node) out.push(node);
    return next;
  };
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    let m;
    if (c === '\\' && PUNCT.test(src[i + 1] ?? '')) {
      buf += src[i + 1] === '&' ? '&amp;' : src[i + 1];
      i += 2;
    } else if (c === '\n') i = push(h('br'), i + 1);
    else if (c === '`') {
      const run = sticky(BACKTICKS, src, i)[0];
      const end = closingRun(src, run, i + run.length);
      if (end < 0) {
        buf += run;
        i += run.length;
      } else {
        let code = src.slice(i + run.length, end).replace(/\n/g, ' ');
        if (code.length > 2 && code.startsWith(' ') && code.endsWith(' ') && code.trim()) code = code.slice(1, -1);
        i = push(h('code', null, code), end + run.length);
      }
    } else if (c === '<' && (m = sticky(AUTOLINK, src, i))) i = push(anchor(m[1], [m[1]]), i + m[0].length);
    else if (c === '<' && (m = sticky(BREAK, src, i))) i = push(h('br'), i + m[0].length);
    else if ((c === '[' || (c === '!' && src[i + 1] === '[')) && (m = link(src, c === '!' ? i + 1 : i))) {
      const label = c === '!' ? [`[image: ${m.text || m.href}]`] : inline(m.text, depth + 1);
      i = push(anchor(m.href, label), m.end);
    } else if (c === 'h' && /^$|[\s(*_~]/.test(src[i - 1] ?? '') && (m = sticky(BARE_URL, src, i))) {
      i = push(anchor(m[0], [m[0]]), i + m[0].length);
    } else if (depth < MAX_DEPTH && '*_~'.includes(c) && (m = emphasis(src, i))) {
      const inner = inline(m.inner, depth + 1);
      i = push(m.both ? h('strong', null, h('em', null, inner)) : h(m.tag, null, inner), m.end);
    } else {
      buf += c;
      i++;
    }
  }
  push(null, i);
  return out;
}

function closingRun(src, run, from) {
  for (let k = src.indexOf(run, from); k >= 0; k = src.indexOf(run, k + 1)) {
    if (src[k + run.length] !== '`' && src[k - 1] !== '`') return k;
  }
  return -1;
}

function link(src, i) {
  let depth = 0;
  let k = i;
  for (; k < src.length; k++) {
    if (src[k] === '\\') k++;
    else if (src[k] === '[') depth++;
    else if (src[k] === ']' && --depth === 0) break;
  }
  if (src[k + 1] !== '(') return null;
  const m = /^\([ \t]*(<[^<>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:[ \t]+(?:"[^"\n]*"|'[^'\n]*'))?[ \t]*\)/
    .exec(src.slice(k + 1, k + 2049));
  if (!m) return null;
  const href = m[1].startsWith('<') ? m[1].slice(1, -1) : m[1];
  return { text: src.slice(i + 1, k), href, end: k + 1 + m[0].length };
}

function anchor(raw, children) {
  const href = safeHref(raw);
  if (!href) return h('span', { class: 'unsafe-link', title: 'link not followed' }, children);
  return h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, children);
}

function emphasis(src, i) {
  const c = src[i];
  let n = 1;
  while (n < 3 && src[i + n] === c) n++;
  if (c === '~' && n !== 2) return null;
  const after = src[i + n];
  if (!after || /\s/.test(after) || after === c) return null;
  if (c === '_' && i > 0 && WORD.test(src[i - 1])) return null; // snake_case stays as it is
  const delim = c.repeat(n);
  for (let j = src.indexOf(delim, i + n + 1); j >= 0; j = src.indexOf(delim, j + 1)) {
    if (/\s/.test(src[j - 1]) || src[j - 1] === c || src[j + n] === c) continue;
    if (c === '_' && WORD.test(src[j + n] ?? '')) continue;
    const tag = c === '~' ? 'del' : n === 1 ? 'em' : 'strong';
    return { tag, both: n === 3, inner: src.slice(i + n, j), end: j + n };
  }
  return null;
}

function decode(text) {
  return text.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,6});/gi, (whole, name) => {
    if (name[0] !== '#') return ENTITIES[name.toLowerCase()] ?? whole;
    const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : whole;
  });
}
