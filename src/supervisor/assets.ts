import type { components } from '../generated/supervisor.js';

type SelfUpgradeView = components['schemas']['SelfUpgradeState'];

/** A 32×32 PNG (blue disc with a white ring), small enough to live in the source. */
export const FAVICON_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAYAAABzenr0AAAAfklEQVR42u2Xyw0AIAhDXcTpnN8ZdAEjX6VBm3il7yBQSvkSqrY+di/M+BiI1NgVZFWQkhuE1JgCuWpugvAyV0NwzSWgbABOQerXmyCoQtzWUwF4mashoAG0U/AD5AF4owvCBxHEKA5fRhDrODyQQEQyiFAKEcshDhOY0yytJkYxUYpQSN/QAAAAAElFTkSuQmCC',
  'base64',
);

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** Log lines as text; the same format as the script below writes. */
function logText(lines: SelfUpgradeView['logs']): string {
  return lines.map((line) => `${line.ts} ${line.level.padEnd(5)} ${line.msg}`).join('\n') || '(no log lines yet)';
}

/**
 * The supervisor page. The state is rendered on the server, so it reads without JavaScript; a
 * small script (no framework, nothing loaded from elsewhere) refreshes it and drives the buttons.
 */
export function supervisorPage(basePath: string, version: string, view: SelfUpgradeView): string {
  const base = escapeHtml(basePath);
  const field = (label: string, id: string, value: string) => `<dt>${label}</dt><dd id="${id}">${escapeHtml(value)}</dd>`;
  const image = `${view.target.image}:${view.target.tag}${view.target.digest ? `@${view.target.digest}` : ''}`;
  const history = view.operations
    .map((op) => `<li>${escapeHtml(op.opId)} <b>${escapeHtml(op.state)}</b> ${escapeHtml(op.startedAt)}</li>`)
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dockrev supervisor</title>
<link rel="icon" href="${base}/favicon.png">
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 52rem; padding: 0 1rem; color: #1f2933; }
  h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 1.6rem; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
  dt { color: #52606d; } dd { margin: 0; word-break: break-all; }
  pre { background: #f1f5f9; border-radius: 4px; padding: .75rem; overflow-x: auto; max-height: 24rem; }
  fieldset { border: 1px solid #cbd2d9; border-radius: 4px; }
  label { margin-right: 1rem; } input[type=text] { width: 14rem; }
  button { margin: .5rem .5rem 0 0; padding: .3rem .9rem; }
  #state[data-state=running] { color: #1d4ed8; } #state[data-state=failed] { color: #b91c1c; }
  #state[data-state=succeeded] { color: #15803d; } #state[data-state=rolled_back] { color: #b45309; }
  #message { color: #b91c1c; min-height: 1.5em; }
</style>
</head>
<body>
<h1>Dockrev supervisor <small>v${escapeHtml(version)}</small></h1>
<p>The supervisor upgrades the Dockrev container itself, and rolls it back, so that an upgrade
never depends on the process being replaced. <a href="/">Back to Dockrev</a></p>

<h2>Self-upgrade</h2>
<dl>
  <dt>State</dt><dd id="state" data-state="${escapeHtml(view.state)}">${escapeHtml(view.state)}</dd>
  ${field('Step', 'step', `${view.progress.step}: ${view.progress.message}`)}
  ${field('Operation', 'opId', view.opId || '–')}
  ${field('Target', 'target', image)}
  ${field('Previous', 'previous', `${view.previous.tag}${view.previous.digest ? ` (${view.previous.digest})` : ''}`)}
  ${field('Updated', 'updatedAt', view.updatedAt ?? '–')}
</dl>

<form id="upgrade" onsubmit="return false">
<fieldset>
  <legend>Upgrade to</legend>
  <label>Tag <input type="text" name="tag" value="${escapeHtml(view.target.tag)}" required></label>
  <label>Digest <input type="text" name="digest" placeholder="sha256:… (optional)"></label>
  <label><input type="checkbox" name="rollbackOnFailure" checked> roll back on failure</label><br>
  <button type="button" data-mode="dry-run">Dry run</button>
  <button type="button" data-mode="apply">Upgrade</button>
  <button type="button" id="rollback">Roll back this operation</button>
</fieldset>
</form>
<p id="message" role="status"></p>

<h2>Log</h2>
<pre id="log">${escapeHtml(logText(view.logs))}</pre>

<h2>History</h2>
<ol id="history">${history}</ol>

<noscript><p>The buttons need JavaScript; the state above is as of loading this page.</p></noscript>
<script>
(() => {
  const api = ${JSON.stringify(`${basePath}/self-upgrade`)};
  const $ = (id) => document.getElementById(id);
  const form = $('upgrade');
  let current = ${JSON.stringify({ state: view.state, opId: view.opId })};
  let timer;

  function render(view) {
    current = view;
    $('state').textContent = view.state;
    $('state').dataset.state = view.state;
    $('step').textContent = view.progress.step + ': ' + view.progress.message;
    $('opId').textContent = view.opId || '–';
    $('target').textContent = view.target.image + ':' + view.target.tag + (view.target.digest ? '@' + view.target.digest : '');
    $('previous').textContent = view.previous.tag + (view.previous.digest ? ' (' + view.previous.digest + ')' : '');
    $('updatedAt').textContent = view.updatedAt || '–';
    $('log').textContent = view.logs.map((l) => l.ts + ' ' + l.level.padEnd(5) + ' ' + l.msg).join('\\n') || '(no log lines yet)';
    const history = $('history');
    history.replaceChildren(...view.operations.map((op) => {
      const item = document.createElement('li');
      const state = document.createElement('b');
      state.textContent = op.state;
      item.append(op.opId + ' ', state, ' ' + op.startedAt);
      return item;
    }));
    const running = view.state === 'running';
    for (const button of form.querySelectorAll('button')) button.disabled = running;
    $('rollback').disabled = running || !view.opId;
  }

  async function refresh() {
    clearTimeout(timer);
    try {
      const response = await fetch(api, { credentials: 'same-origin', cache: 'no-store' });
      const body = await response.json();
      if (response.ok) render(body);
      else $('message').textContent = (body.error && body.error.message) || 'HTTP ' + response.status;
    } catch (error) {
      $('message').textContent = String(error);
    }
    timer = setTimeout(refresh, current.state === 'running' ? 1500 : 10000);
  }

  async function post(url, body) {
    $('message').textContent = '';
    try {
      const response = await fetch(url, {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
      });
      if (!response.ok) {
        const failure = await response.json().catch(() => ({}));
        $('message').textContent = (failure.error && failure.error.message) || 'HTTP ' + response.status;
      }
    } catch (error) {
      $('message').textContent = String(error);
    }
    refresh();
  }

  for (const button of form.querySelectorAll('button[data-mode]')) {
    button.addEventListener('click', () => {
      const digest = form.digest.value.trim();
      post(api, {
        target: digest ? { tag: form.tag.value.trim(), digest } : { tag: form.tag.value.trim() },
        mode: button.dataset.mode,
        rollbackOnFailure: form.rollbackOnFailure.checked,
      });
    });
  }
  $('rollback').addEventListener('click', () => {
    if (confirm('Roll Dockrev back to the image it ran before ' + current.opId + '?')) post(api + '/rollback', { opId: current.opId });
  });
  refresh();
})();
</script>
</body>
</html>
`;
}
