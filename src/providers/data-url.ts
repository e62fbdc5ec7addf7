/** A `data:` URL taken apart into what providers that want raw base64 (Gemini, Ollama) send. */
export interface DataUrlContent {
  mediaType: string;
  /** The payload as base64, whatever encoding the URL used. */
  base64: string;
}

const DATA_URL = /^data:([^;,]*)((?:;[^;,]*)*?)(;base64)?,(.*)$/is;

/** Parses a `data:` URL; undefined for any other URL. */
export function parseDataUrl(url: string): DataUrlContent | undefined {
  const match = DATA_URL.exec(url);
  if (!match) return undefined;
  const mediaType = (match[1] ?? '').trim().toLowerCase() || 'text/plain';
  const payload = match[4] ?? '';
  if (match[3] !== undefined) return { mediaType, base64: payload.replace(/\s+/g, '') };
  // Percent-encoded payloads (rare for images, legal in data URLs) still have to travel as base64.
  let decoded: string;
  try {
    decoded = decodeURIComponent(payload);
  } catch {
    return undefined;
  }
  return { mediaType, base64: Buffer.from(decoded, 'utf8').toString('base64') };
}
