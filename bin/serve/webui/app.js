// The chat page: models, conversations, the composer, and streaming answers.

import * as api from './api.js';
import { fillAnswer, messageView } from './chat.js';
import { $, clear, h } from './dom.js';
import * as store from './store.js';

const state = {
  chats: store.loadChats(),
  current: null, // the conversation on screen (null: a new one, not saved until its first message)
  models: [],
  settings: store.loadSettings(), // model, temperature, maxTokens, system (for new chats), current
  running: null, // { controller, conversation, message }
  attachments: [], // images (data: URLs) waiting to be sent
  views: new WeakMap(), // answer -> its <article>
};

const MAX_IMAGE_BYTES = 20e6; // the server's default --max-image

function init() {
  // A bug must not leave a dead page: say so where the person looks.
  window.addEventListener('error', (event) => showBanner(`Something went wrong on this page: ${event.message}`));
  window.addEventListener('unhandledrejection', (event) => {
    showBanner(`Something went wrong on this page: ${event.reason?.message ?? event.reason}`);
  });
  api.onKeyNeeded(askKey);
  bind();
  state.current = state.chats.find((c) => c.id === state.settings.current) ?? null;
  $('temperature').value = state.settings.temperature ?? '';
  $('max-tokens').value = state.settings.maxTokens ?? '';
  showConversation();
  refreshModels();
  autosize();
  $('input').focus();
}

// ---- models --------------------------------------------------------------------

async function refreshModels() {
  try {
    state.models = await api.listModels();
    hideBanner('models');
  } catch (error) {
    showBanner(`Cannot list the models: ${error.message}`, 'Retry', refreshModels, 'models');
    return;
  }
  const select = $('model');
  const wanted = select.value || state.settings.model;
  const label = (model) => (model.loaded ? `${model.id} (loaded)` : model.id);
  const ids = state.models.map((m) => m.id);
  if (ids.length && ids.join('\n') === [...select.options].map((o) => o.value).join('\n')) {
    // The same models: relabel in place, so an open list or a choice being made is not swept away.
    state.models.forEach((model, i) => { select.options[i].textContent = label(model); });
  } else {
    clear(select);
    for (const model of state.models) select.append(h('option', { value: model.id }, label(model)));
  }
  if (!state.models.length) {
    select.append(h('option', { value: '' }, 'no models'));
    showBanner('This server has no model it can run. Start it with --model, or put models in its cache.',
      null, null, 'models');
  }
  if (state.models.some((m) => m.id === wanted)) select.value = wanted;
  modelChanged();
}

const selectedModel = () => state.models.find((m) => m.id === $('model').value) ?? null;
const can = (model, capability) => Boolean(model?.capabilities?.includes(capability));

function modelChanged() {
  const model = selectedModel();
  if (model) state.settings.model = model.id;
  saveSettings();
  const caps = clear($('caps'));
  for (const capability of model?.capabilities ?? []) caps.append(h('span', { class: 'chip' }, capability));
  if (model?.context_length) caps.append(h('span', { class: 'chip quiet' }, `${model.context_length} context`));
  $('attach').hidden = !can(model, 'vision');
  $('audio').hidden = !state.models.some((m) => can(m, 'speech-to-text'));
  if (!can(model, 'vision') && state.attachments.length) {
    state.attachments = [];
    renderAttachments();
    note('Images removed: this model cannot read them.');
  }
  showEmptyHint();
}

// ---- conversations ---------------------------------------------------------------

function persist() {
  const warning = store.saveChats(state.chats);
  if (warning) showBanner(warning);
}

function saveSettings() {
  state.settings.current = state.current?.id ?? null;
  store.saveSettings(state.settings);
}

function ensureConversation() {
  if (!state.current) {
    state.current = store.newConversation($('system').value);
    state.chats.unshift(state.current);
    saveSettings();
  }
  return state.current;
}

function openConversation(conversation) {
  state.current = conversation;
  saveSettings();
  showConversation();
  document.body.classList.remove('sidebar-open');
  $('input').focus();
}

function showConversation() {
  $('system').value = state.current ? state.current.system ?? '' : state.settings.system ?? '';
  renderChats();
  renderTranscript();
}

function renderChats() {
  const list = clear($('conversations'));
  const sorted = [...state.chats].sort((a, b) => b.updated - a.updated);
  for (const conversation of sorted) {
    const name = store.titleOf(conversation);
    const title = h('button', { type: 'button', class: 'title', title: name }, name);
    title.addEventListener('click', () => openConversation(conversation));
    const rename = h('button', { type: 'button', class: 'icon small', title: 'Rename', 'aria-label': 'Rename' }, '✎');
    const remove = h('button', { type: 'button', class: 'icon small', title: 'Delete', 'aria-label': 'Delete' }, '✕');
    const item = h('li', { class: conversation === state.current ? 'current' : null, 'data-id': conversation.id },
      title, rename, remove);
    rename.addEventListener('click', () => renameInline(conversation, item, title));
    remove.addEventListener('click', () => {
      if (!remove.classList.contains('confirm')) {
        remove.classList.add('confirm');
        remove.textContent = 'Delete?';
        setTimeout(() => { remove.classList.remove('confirm'); remove.textContent = '✕'; }, 3000);
        return;
      }
      deleteConversation(conversation);
    });
    list.append(item);
  }
  if (!sorted.length) list.append(h('li', { class: 'none' }, 'No conversations yet.'));
}

function renameInline(conversation, item, title) {
  const input = h('input', { type: 'text', class: 'rename', 'aria-label': 'New name', maxlength: 200 });
  input.value = store.titleOf(conversation);
  let finished = false;
  const finish = (keep) => {
    if (finished) return;
    finished = true;
    if (keep && input.value.trim()) {
      conversation.title = input.value.trim();
      persist();
    }
    renderChats();
  };
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') finish(true);
    else if (event.key === 'Escape') {
      event.stopPropagation();
      finish(false);
    }
  });
  input.addEventListener('blur', () => finish(true));
  title.replaceWith(input);
  item.classList.add('renaming');
  input.select();
}

function deleteConversation(conversation) {
  if (state.running?.conversation === conversation) state.running.controller.abort();
  state.chats = state.chats.filter((c) => c !== conversation);
  if (state.current === conversation) state.current = null;
  persist();
  saveSettings();
  showConversation();
}

// ---- the transcript ----------------------------------------------------------------

function renderTranscript() {
  const transcript = clear($('transcript'));
  const messages = state.current?.messages ?? [];
  const lastAnswer = messages.findLastIndex((m) => m.role === 'assistant');
  messages.forEach((message, index) => {
    const view = messageView(message, {
      index, isLast: index === lastAnswer && index === messages.length - 1, running: Boolean(state.running),
      onEdit: editAndResend, onRegenerate: regenerate,
    });
    if (message.role === 'assistant') state.views.set(message, view);
    transcript.append(view);
  });
  showEmptyHint();
  transcript.scrollTop = transcript.scrollHeight;
}

function showEmptyHint() {
  const transcript = $('transcript');
  transcript.querySelector('.empty')?.remove();
  if (state.current?.messages.length) return;
  const model = selectedModel();
  transcript.append(h('div', { class: 'empty' },
    h('h1', null, model ? `Chat with ${model.id.split('/').at(-1)}` : 'mlxk chat'),
    h('p', null, 'Enter sends, Shift+Enter starts a new line, Esc stops an answer.'),
    h('p', null, 'Conversations stay in this browser.')));
}

let pending = null;
function scheduleUpdate(message) {
  if (pending) return;
  pending = requestAnimationFrame(() => {
    pending = null;
    updateAnswer(message);
  });
}

function updateAnswer(message) {
  const view = state.views.get(message);
  if (!view?.isConnected) return;
  const transcript = $('transcript');
  const atBottom = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 80;
  const messages = state.current?.messages ?? [];
  const canRegenerate = !state.running && messages.at(-1) === message;
  fillAnswer(view, message, canRegenerate, regenerate);
  if (atBottom) transcript.scrollTop = transcript.scrollHeight;
}

// ---- sending ---------------------------------------------------------------------------

function requestMessages(conversation) {
  const out = [];
  if (conversation.system?.trim()) out.push({ role: 'system', content: conversation.system });
  for (const m of conversation.messages) {
    if (m.role === 'user') {
      const images = m.images ?? [];
      out.push({
        role: 'user',
        content: images.length
          ? [{ type: 'text', text: m.content }, ...images.map((url) => ({ type: 'image_url', image_url: { url } }))]
          : m.content,
      });
    } else if (m.content && m.status !== 'error') out.push({ role: 'assistant', content: m.content });
  }
  return out;
}

function requestBody(model, messages) {
  const body = { model, messages, stream: true, stream_options: { include_usage: true } };
  const temperature = $('temperature').value.trim();
  const maxTokens = $('max-tokens').value.trim();
  if (temperature !== '') body.temperature = Number(temperature);
  if (maxTokens !== '') body.max_tokens = Number(maxTokens);
  // With images, ask for their EXIF table (file, place, date, camera): the model
  // sees that metadata and the answer starts with the table, rendered folded.
  if (messages.some((m) => Array.isArray(m.content))) body.mlxk = { exif: true };
  return body;
}

function send() {
  const input = $('input');
  const text = input.value;
  if (state.running || (!text.trim() && !state.attachments.length)) return;
  if (!selectedModel()) {
    note('Pick a model first.');
    return;
  }
  const conversation = ensureConversation();
  const message = { role: 'user', content: text };
  if (state.attachments.length) message.images = state.attachments.map((a) => a.url);
  conversation.messages.push(message);
  input.value = '';
  state.attachments = [];
  renderAttachments();
  autosize();
  generate(conversation);
}

function regenerate() {
  const conversation = state.current;
  if (state.running || !conversation || conversation.messages.at(-1)?.role !== 'assistant') return;
  conversation.messages.pop();
  generate(conversation);
}

function editAndResend(index, text) {
  const conversation = state.current;
  const original = conversation?.messages[index];
  if (state.running || !original || !text.trim()) return;
  conversation.messages.splice(index, conversation.messages.length - index, { ...original, content: text });
  generate(conversation);
}

async function generate(conversation) {
  const model = $('model').value;
  const history = requestMessages(conversation);
  const message = { role: 'assistant', content: '', reasoning: '', model, status: 'streaming', chunks: 0 };
  conversation.messages.push(message);
  conversation.updated = Date.now();
  const controller = new AbortController();
  state.running = { controller, conversation, message };
  setRunning(true);
  persist();
  renderChats();
  renderTranscript();
  const started = performance.now();
  try {
    for await (const chunk of api.streamChat(requestBody(model, history), controller.signal)) {
      const choice = chunk.choices?.[0];
      const delta = choice?.delta ?? {};
      if (chunk.model) message.model = chunk.model;
      if (delta.content || delta.reasoning_content) {
        message.firstMs ??= performance.now() - started;
        message.chunks += 1;
      }
      if (delta.reasoning_content) message.reasoning += delta.reasoning_content;
      if (delta.content) message.content += delta.content;
      if (choice?.finish_reason) message.finish = choice.finish_reason;
      if (chunk.usage) message.usage = chunk.usage;
      scheduleUpdate(message);
    }
    message.status = 'done';
  } catch (error) {
    if (error.name === 'AbortError') message.status = 'stopped';
    else {
      message.status = 'error';
      message.error = { message: error.message, code: error.code ?? null, status: error.status ?? 0 };
    }
  } finally {
    message.totalMs = performance.now() - started;
    // The full render below supersedes a streamed update still waiting for its
    // frame; left alone it would redraw the answer (and its buttons) again.
    if (pending) cancelAnimationFrame(pending);
    pending = null;
    state.running = null;
    setRunning(false);
    conversation.updated = Date.now();
    persist();
    if (state.current === conversation) renderTranscript();
    renderChats();
    if (message.status !== 'error') refreshModels(); // the "loaded" marks may have changed
  }
}

function stop() {
  state.running?.controller.abort();
}

function setRunning(running) {
  $('send').hidden = running;
  $('stop').hidden = !running;
  document.body.classList.toggle('running', running);
}

// ---- attachments: images (vision models), audio (speech-to-text models) ----------------

function readDataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

async function addImages(files) {
  const images = [...files].filter((f) => f.type.startsWith('image/'));
  if (!images.length) return;
  if (!can(selectedModel(), 'vision')) {
    note('The selected model cannot read images.');
    return;
  }
  for (const file of images) {
    if (file.size > MAX_IMAGE_BYTES) {
      note(`${file.name} is larger than 20 MB.`);
      continue;
    }
    state.attachments.push({ name: file.name || 'pasted image', url: await readDataUrl(file) });
  }
  renderAttachments();
}

function renderAttachments() {
  const box = clear($('attachments'));
  box.hidden = !state.attachments.length;
  state.attachments.forEach((attachment, k) => {
    const remove = h('button', { type: 'button', class: 'icon small', title: 'Remove',
                                 'aria-label': `Remove ${attachment.name}` }, '✕');
    remove.addEventListener('click', () => {
      state.attachments.splice(k, 1);
      renderAttachments();
    });
    box.append(h('figure', { class: 'attachment' }, h('img', { src: attachment.url, alt: attachment.name }), remove));
  });
}

async function transcribeFile(file) {
  const selected = selectedModel();
  const model = can(selected, 'speech-to-text') ? selected : state.models.find((m) => can(m, 'speech-to-text'));
  if (!file || !model) return;
  note(`Transcribing ${file.name} with ${model.id}…`);
  try {
    const text = await api.transcribe(file, model.id);
    const input = $('input');
    input.value = input.value ? `${input.value}\n${text}` : text;
    autosize();
    note(`Transcribed ${file.name}.`);
    input.focus();
  } catch (error) {
    note(`Transcription failed: ${error.message}`, true);
  }
}

// ---- small pieces of the page ---------------------------------------------------------------

function note(text, isError = false) {
  const el = $('composer-note');
  el.textContent = text;
  el.hidden = !text;
  el.classList.toggle('failed', isError);
}

function showBanner(text, action, onAction, kind = 'note') {
  const banner = clear($('banner'));
  banner.dataset.kind = kind;
  banner.append(h('span', null, text));
  if (action) {
    const button = h('button', { type: 'button' }, action);
    button.addEventListener('click', onAction);
    banner.append(button);
  }
  banner.hidden = false;
}

function hideBanner(kind) {
  if ($('banner').dataset.kind === kind) $('banner').hidden = true;
}

function autosize() {
  const input = $('input');
  input.style.height = 'auto';
  const borders = input.offsetHeight - input.clientHeight;
  input.style.height = `${Math.min(input.scrollHeight + borders, 240)}px`;
}

function askKey(message) {
  const dialog = $('key-dialog');
  $('key-message').textContent = message;
  $('key-input').value = '';
  return new Promise((resolve) => {
    const form = $('key-form');
    const submit = (event) => {
      event.preventDefault();
      const key = $('key-input').value.trim();
      if (!key) return;
      finish(key);
    };
    const cancel = () => finish(null);
    const finish = (key) => {
      form.removeEventListener('submit', submit);
      dialog.removeEventListener('cancel', cancel);
      if (dialog.open) dialog.close();
      resolve(key);
    };
    form.addEventListener('submit', submit);
    dialog.addEventListener('cancel', cancel);
    dialog.showModal();
    $('key-input').focus();
  });
}

function bind() {
  $('composer').addEventListener('submit', (event) => {
    event.preventDefault();
    send();
  });
  const input = $('input');
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });
  input.addEventListener('input', autosize);
  input.addEventListener('paste', (event) => {
    const files = event.clipboardData?.files;
    if (files?.length && [...files].some((f) => f.type.startsWith('image/'))) {
      event.preventDefault();
      addImages(files);
    }
  });
  $('composer').addEventListener('dragover', (event) => event.preventDefault());
  $('composer').addEventListener('drop', (event) => {
    event.preventDefault();
    addImages(event.dataTransfer?.files ?? []);
  });
  $('stop').addEventListener('click', stop);
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    if (state.running) stop();
    else document.body.classList.remove('sidebar-open');
  });
  $('model').addEventListener('change', modelChanged);
  $('new-chat').addEventListener('click', () => openConversation(null));
  $('export').addEventListener('click', () => store.exportFile(state.chats));
  $('toggle-sidebar').addEventListener('click', () => {
    // A drawer over the page on phones, a column that folds away on wider screens.
    const phone = matchMedia('(max-width: 760px)').matches;
    const classes = document.body.classList;
    const open = phone ? classes.toggle('sidebar-open') : !classes.toggle('sidebar-closed');
    $('toggle-sidebar').setAttribute('aria-expanded', String(open));
  });
  $('scrim').addEventListener('click', () => document.body.classList.remove('sidebar-open'));
  $('toggle-settings').addEventListener('click', () => {
    const panel = $('settings');
    panel.hidden = !panel.hidden;
    $('toggle-settings').setAttribute('aria-expanded', String(!panel.hidden));
  });
  $('system').addEventListener('input', () => {
    state.settings.system = $('system').value;
    if (state.current) {
      state.current.system = $('system').value;
      persist();
    }
    saveSettings();
  });
  for (const [id, key] of [['temperature', 'temperature'], ['max-tokens', 'maxTokens']]) {
    $(id).addEventListener('change', () => {
      state.settings[key] = $(id).value.trim();
      saveSettings();
    });
  }
  $('attach').addEventListener('click', () => $('image-input').click());
  $('image-input').addEventListener('change', async () => {
    await addImages($('image-input').files);
    $('image-input').value = '';
  });
  $('audio').addEventListener('click', () => $('audio-input').click());
  $('audio-input').addEventListener('change', async () => {
    await transcribeFile($('audio-input').files[0]);
    $('audio-input').value = '';
  });
  window.addEventListener('storage', (event) => {
    if (!store.isChatsKey(event.key) || state.running) return;
    const id = state.current?.id;
    state.chats = store.loadChats();
    state.current = state.chats.find((c) => c.id === id) ?? null;
    showConversation();
  });
}

init();
