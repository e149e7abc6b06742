/**
 * The HTML page the relay serves: it embeds the hosted inspector and forwards events into it.
 *
 * @module
 */

/** The hosted inspector the relay page embeds. */
export const STATELY_INSPECTOR_URL = 'https://stately.ai/inspect';

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/**
 * The bridge page: the same behaviour as the page of `@statelyai/inspect/server` (buffer until the
 * embedded inspector says it is connected, then `postMessage` every event into it), but it
 * connects back to whatever host and port served it, and runs under a strict CSP.
 */
export function bridgePage(
  inspectorUrl: URL,
  nonce: string,
  socketUrls: readonly string[],
): { html: string; csp: string } {
  const html = `<!DOCTYPE html>
<html>
<head>
  <meta charset="utf-8">
  <title>Stately Inspector — mcp-session-supervisor</title>
  <style nonce="${nonce}">
    * { margin: 0; padding: 0; }
    html, body { height: 100%; }
    iframe { width: 100%; height: 100%; border: none; }
  </style>
</head>
<body>
  <iframe id="inspector" src="${escapeHtml(inspectorUrl.href)}"></iframe>
  <script nonce="${nonce}">
    const iframe = document.getElementById('inspector');
    const buffer = [];
    let connected = false;
    window.addEventListener('message', (event) => {
      if (!event.data || event.data.type !== '@statelyai.connected') return;
      connected = true;
      for (const data of buffer.splice(0)) iframe.contentWindow.postMessage(data, '*');
    });
    const socket = new WebSocket('ws://' + location.host);
    socket.onmessage = (message) => {
      const data = JSON.parse(message.data);
      if (connected) iframe.contentWindow.postMessage(data, '*');
      else buffer.push(data);
    };
  </script>
</body>
</html>`;
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    `frame-src ${inspectorUrl.origin}`,
    // 'self' covers ws: on the same host and port in CSP 3 browsers; the explicit sources are for
    // older ones. IPv6 literals are not valid CSP sources, so those rely on 'self' alone.
    `connect-src 'self' ${socketUrls.filter((url) => !url.includes('[')).join(' ')}`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return { html, csp };
}
