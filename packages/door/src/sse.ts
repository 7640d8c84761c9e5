/**
 * One Server-Sent Events message (WHATWG HTML, "server-sent events"): an `id:` line, then the data, one
 * `data:` line per line of it (JSON has none), then a blank line.
 *
 * @example
 * ```ts
 * sseMessage('42', JSON.stringify(event)); // 'id: 42\ndata: {…}\n\n'
 * ```
 */
export function sseMessage(id: string, data: string): string {
  const lines = data.split(/\r\n|\r|\n/).map((line) => `data: ${line}`);
  return `id: ${id}\n${lines.join('\n')}\n\n`;
}

/** An SSE comment line (heartbeats): clients ignore it, proxies see traffic. */
export function sseComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`;
}
