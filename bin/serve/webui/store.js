// Conversations and settings, kept in this browser's localStorage only.

const CHATS = 'mlxk.chats.v1';
const SETTINGS = 'mlxk.settings.v1';

export function loadChats() {
  let conversations;
  try {
    const doc = JSON.parse(localStorage.getItem(CHATS) ?? 'null');
    conversations = Array.isArray(doc?.conversations) ? doc.conversations : [];
    conversations = conversations.filter((c) => c && Array.isArray(c.messages));
  } catch {
    return [];
  }
  // An answer still streaming when the page closed (or another tab's) was cut off there.
  for (const message of conversations.flatMap((c) => c.messages)) {
    if (message?.status === 'streaming') message.status = 'stopped';
  }
  return conversations;
}

// Saves every conversation; when the browser's quota is full, saves them
// again without image attachments.  Returns a warning for the page, or null.
export function saveChats(conversations) {
  try {
    localStorage.setItem(CHATS, JSON.stringify({ version: 1, conversations }));
    return null;
  } catch {
    try {
      localStorage.setItem(CHATS, JSON.stringify({ version: 1, conversations: conversations.map(withoutImages) }));
      return 'The browser storage is full: conversations were saved without their images.';
    } catch {
      return 'The browser storage is full: the latest changes are not saved (delete or export old conversations).';
    }
  }
}

function withoutImages(conversation) {
  const messages = conversation.messages.map((m) => (
    m.images?.length ? { ...m, images: [], imagesDropped: m.images.length } : m));
  return { ...conversation, messages };
}

export function isChatsKey(key) {
  return key === CHATS;
}

export function loadSettings() {
  try {
    const doc = JSON.parse(localStorage.getItem(SETTINGS) ?? '{}');
    return doc && typeof doc === 'object' ? doc : {};
  } catch {
    return {};
  }
}

export function saveSettings(settings) {
  try {
    localStorage.setItem(SETTINGS, JSON.stringify(settings));
  } catch {
    // Settings are a convenience; a full storage must not break the page.
  }
}

export function newConversation(system = '') {
  const now = Date.now();
  return { id: `c${now.toString(36)}${Math.random().toString(36).slice(2, 8)}`, title: '', system, created: now,
           updated: now, messages: [] };
}

export function titleOf(conversation) {
  if (conversation.title) return conversation.title;
  const first = conversation.messages.find((m) => m.role === 'user' && m.content.trim());
  if (!first) return 'New chat';
  const text = first.content.trim().replace(/\s+/g, ' ');
  return text.length > 48 ? `${text.slice(0, 47)}…` : text;
}

export function exportFile(conversations) {
  const body = JSON.stringify({ exported: new Date().toISOString(), conversations }, null, 2);
  const url = URL.createObjectURL(new Blob([body], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = `mlxk-chats-${new Date().toISOString().slice(0, 10)}.json`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
