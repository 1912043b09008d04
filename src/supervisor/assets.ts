/** A 32×32 PNG (blue disc with a white ring), small enough to live in the source. */
export const FAVICON_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAYAAABzenr0AAAAfklEQVR42u2Xyw0AIAhDXcTpnN8ZdAEjX6VBm3il7yBQSvkSqrY+di/M+BiI1NgVZFWQkhuE1JgCuWpugvAyV0NwzSWgbABOQerXmyCoQtzWUwF4mashoAG0U/AD5AF4owvCBxHEKA5fRhDrODyQQEQyiFAKEcshDhOY0yytJkYxUYpQSN/QAAAAAElFTkSuQmCC',
  'base64',
);

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** The supervisor page: shows the version and live self-upgrade state read from its own API. */
export function supervisorPage(basePath: string, version: string): string {
  const base = escapeHtml(basePath);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dockrev supervisor</title>
<link rel="icon" href="${base}/favicon.png">
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 42rem; padding: 0 1rem; color: #1f2933; }
  h1 { font-size: 1.4rem; } code, pre { background: #f1f5f9; border-radius: 4px; padding: .1rem .3rem; }
  pre { padding: .75rem; overflow-x: auto; }
</style>
</head>
<body>
<h1>Dockrev supervisor <small>v${escapeHtml(version)}</small></h1>
<p>The supervisor upgrades the Dockrev API container itself, so that an update never depends on the
process being replaced.</p>
<h2>Self-upgrade state</h2>
<pre id="state">loading…</pre>
<script>
  fetch(${JSON.stringify(`${basePath}/self-upgrade`)}, { credentials: 'same-origin' })
    .then(async (response) => {
      const body = await response.json().catch(() => ({}));
      document.getElementById('state').textContent = response.ok
        ? JSON.stringify(body, null, 2)
        : (body.error && body.error.message) || ('HTTP ' + response.status);
    })
    .catch((error) => { document.getElementById('state').textContent = String(error); });
</script>
</body>
</html>
`;
}
