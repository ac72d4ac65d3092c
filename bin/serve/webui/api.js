// Talking to mlxk-serve: the same origin as the page, so no CORS.  Paths are
// relative, so the page also works behind a proxy that serves it under a prefix.

const KEY = 'mlxk.apiKey';

export class ApiError extends Error {
  constructor(message, { status = 0, code = null, type = null } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.type = type;
  }
}

let askKey = null;
let asking = null;

// The page's way of asking for the API key: async (message) => key, or null when the person declines.
export function onKeyNeeded(ask) {
  askKey = ask;
}

async function keyFromPerson(message) {
  asking ??= askKey(message).finally(() => { asking = null; });
  return asking;
}

export const hasKey = () => Boolean(sessionStorage.getItem(KEY));

// fetch() with the bearer key; a 401 asks for the key (once per tab: it is
// kept in sessionStorage) and retries.  Any other failure is an ApiError.
export async function request(path, init = {}) {
  let message = 'This server needs its API key.';
  for (;;) {
    const key = sessionStorage.getItem(KEY);
    const headers = { ...(init.headers ?? {}), ...(key ? { Authorization: `Bearer ${key}` } : {}) };
    let response;
    try {
      response = await fetch(path, { ...init, headers });
    } catch (error) {
      if (error.name === 'AbortError') throw error;
      throw new ApiError('Cannot reach the server. Is mlxk-serve still running?', { code: 'network_error' });
    }
    if (response.status === 401 && askKey) {
      if (key) message = 'The server refused this key. Enter the right one.';
      const given = await keyFromPerson(message);
      if (given == null) throw await errorOf(response);
      sessionStorage.setItem(KEY, given);
      continue;
    }
    if (!response.ok) throw await errorOf(response);
    return response;
  }
}

async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: described by the status alone
  }
  const error = body?.error;
  const message = typeof error?.message === 'string' ? error.message : `HTTP ${response.status} ${response.statusText}`;
  return new ApiError(message, { status: response.status, code: error?.code ?? null, type: error?.type ?? null });
}

export async function listModels() {
  const doc = await (await request('v1/models')).json();
  return Array.isArray(doc?.data) ? doc.data : [];
}

// The chunks of a streamed chat completion, parsed from the server-sent
// events; ends at "data: [DONE]".  An error event becomes an ApiError.
export async function* streamChat(body, signal) {
  const response = await request('v1/chat/completions', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), signal,
  });
  for await (const data of events(response.body)) {
    if (data === '[DONE]') return;
    const chunk = JSON.parse(data);
    if (chunk.error) {
      throw new ApiError(chunk.error.message ?? 'The server ended the answer with an error.', chunk.error);
    }
    yield chunk;
  }
  throw new ApiError('The answer ended before the server finished it (connection lost).', { code: 'stream_cut' });
}

// Server-sent events: "data:" lines up to a blank line make one event;
// comment lines (": keep-alive") are skipped.
export async function* events(stream) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let data = [];
  let finished = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, end).replace(/\r$/, '');
        buffer = buffer.slice(end + 1);
        if (line === '') {
          if (data.length) yield data.join('\n');
          data = [];
        } else if (line.startsWith('data:')) data.push(line.slice(line[5] === ' ' ? 6 : 5));
      }
    }
  } finally {
    if (!finished) reader.cancel().catch(() => {});
  }
}

export async function transcribe(file, model, signal) {
  const form = new FormData();
  form.append('file', file, file.name);
  form.append('model', model);
  const doc = await (await request('v1/audio/transcriptions', { method: 'POST', body: form, signal })).json();
  return typeof doc?.text === 'string' ? doc.text : '';
}
