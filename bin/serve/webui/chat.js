// One message of the transcript, as DOM: a person's message (with edit), or
// an answer (Markdown, reasoning collapsed, the error in place, token counts).

import { copyText, flash, h } from './dom.js';
import { renderMarkdown } from './markdown.js';

export function messageView(message, { index, isLast, running, onEdit, onRegenerate }) {
  return message.role === 'user'
    ? userView(message, index, running, onEdit)
    : answerView(message, isLast && !running, onRegenerate);
}

function userView(message, index, running, onEdit) {
  const images = (message.images ?? []).map((url, k) => h('img', { src: url, alt: `image ${k + 1}`, class: 'thumb' }));
  const dropped = message.imagesDropped
    ? h('p', { class: 'note' }, `${message.imagesDropped} image(s) not kept: the browser storage was full`) : null;
  const edit = h('button', { type: 'button', class: 'link', disabled: running,
                             title: 'Edit this message and send it again' }, 'Edit');
  const article = h('article', { class: 'msg user', 'data-index': index },
    h('div', { class: 'bubble' }, images.length ? h('div', { class: 'thumbs' }, images) : null, dropped,
      h('div', { class: 'text' }, message.content)),
    h('div', { class: 'actions' }, edit));
  edit.addEventListener('click', () => article.replaceWith(editor(message, index, article, onEdit)));
  return article;
}

function editor(message, index, original, onEdit) {
  const rows = Math.min(12, message.content.split('\n').length + 1);
  const area = h('textarea', { class: 'edit', rows, 'aria-label': 'Edit message' });
  area.value = message.content;
  const send = h('button', { type: 'button', class: 'primary' }, 'Send');
  const cancel = h('button', { type: 'button' }, 'Cancel');
  const view = h('article', { class: 'msg user editing', 'data-index': index },
    area, h('div', { class: 'actions' }, cancel, send));
  const done = () => view.replaceWith(original);
  send.addEventListener('click', () => onEdit(index, area.value));
  cancel.addEventListener('click', done);
  area.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      onEdit(index, area.value);
    } else if (event.key === 'Escape') {
      event.stopPropagation();
      done();
    }
  });
  queueMicrotask(() => area.focus());
  return view;
}

function answerView(message, canRegenerate, onRegenerate) {
  const article = h('article', { class: `msg assistant ${message.status}` });
  fillAnswer(article, message, canRegenerate, onRegenerate);
  return article;
}

// Rebuilds an answer in place (many times a second while it streams); keeps
// the open/closed state of its <details> blocks the person toggled.
export function fillAnswer(article, message, canRegenerate, onRegenerate) {
  const open = [...article.querySelectorAll('details')].map((d) => d.open);
  article.className = `msg assistant ${message.status}`;
  const parts = [];
  if (message.reasoning) {
    const label = message.status === 'streaming' && !message.content ? 'Thinking…' : 'Reasoning';
    parts.push(h('details', { class: 'reasoning' }, h('summary', null, label),
      h('div', { class: 'md' }, renderMarkdown(message.reasoning))));
  }
  if (message.content || message.status === 'streaming') {
    parts.push(h('div', { class: 'md' }, renderMarkdown(message.content)));
  }
  if (message.error) {
    const { code, status } = message.error;
    parts.push(h('div', { class: 'failure', role: 'alert' },
      h('strong', null, status ? `Error ${status}` : 'Error'), code ? h('code', null, code) : null,
      h('span', null, message.error.message)));
  }
  parts.push(h('div', { class: 'meta' }, meta(message).map((text) => h('span', null, text))));
  const actions = h('div', { class: 'actions' });
  if (message.content) {
    const copy = h('button', { type: 'button', class: 'link', title: 'Copy the answer as Markdown' }, 'Copy');
    copy.addEventListener('click', async () => {
      flash(copy, (await copyText(message.content)) ? 'Copied' : 'Copy failed');
    });
    actions.append(copy);
  }
  if (canRegenerate) {
    const again = h('button', { type: 'button', class: 'link', title: 'Answer the last message again' }, 'Regenerate');
    again.addEventListener('click', onRegenerate);
    actions.append(again);
  }
  parts.push(actions);
  article.replaceChildren(...parts);
  article.querySelectorAll('details').forEach((d, k) => { if (open[k] !== undefined) d.open = open[k]; });
}

export function meta(message) {
  const out = [];
  if (message.model) out.push(message.model.split('/').at(-1));
  const usage = message.usage;
  if (usage) {
    out.push(`${usage.completion_tokens} tokens`);
    const decodeMs = (message.totalMs ?? 0) - (message.firstMs ?? 0);
    if (usage.completion_tokens > 1 && decodeMs > 0) {
      out.push(`${((usage.completion_tokens - 1) / (decodeMs / 1000)).toFixed(1)} tokens/s`);
    }
    const cached = usage.prompt_tokens_details?.cached_tokens;
    out.push(`prompt ${usage.prompt_tokens}${cached ? ` (${cached} cached)` : ''}`);
  } else if (message.chunks) {
    out.push(`≈${message.chunks} tokens`);
  }
  if (message.firstMs != null && message.status !== 'streaming') {
    out.push(`${(message.firstMs / 1000).toFixed(2)} s to first token`);
  }
  if (message.status === 'streaming') out.push(message.chunks ? 'writing…' : 'waiting…');
  if (message.status === 'stopped') out.push('stopped');
  if (message.finish === 'length') out.push('cut at the token limit');
  return out;
}
