// Subscribes this browser to Web Push: registers the service worker shipped with the UI
// (/sw.js, which shows a push's `title` and `body`), subscribes with the saved VAPID public key
// and hands the subscription to Dockrev (POST /api/web-push/subscriptions).
import { useMutation } from '@tanstack/react-query';
import { api, call } from '../api/client';
import { errorMessage } from '../api/errors';

export const SERVICE_WORKER_URL = '/sw.js';

/** The applicationServerKey a browser wants: the raw bytes of the base64url public key. */
function keyBytes(base64url: string): ArrayBuffer {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0)).buffer;
}

async function subscribe(publicKey: string): Promise<void> {
  if (!('serviceWorker' in navigator) || !('PushManager' in window)) throw new Error('This browser does not support Web Push (it needs service workers and the Push API, over HTTPS or on localhost).');
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') throw new Error(`Notifications are ${permission === 'denied' ? 'blocked' : 'not allowed'} for this site in the browser's settings.`);
  const registration = await navigator.serviceWorker.register(SERVICE_WORKER_URL);
  await navigator.serviceWorker.ready;
  let subscription: PushSubscription;
  try {
    // A subscription made with another key must go first: the browser refuses to mix keys.
    const existing = await registration.pushManager.getSubscription();
    if (existing) await existing.unsubscribe();
    subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(publicKey) });
  } catch (error) {
    throw new Error(`The browser's push service refused the subscription: ${errorMessage(error)}`);
  }
  const json = subscription.toJSON();
  if (!json.endpoint || !json.keys?.p256dh || !json.keys.auth) throw new Error('The browser returned a subscription without keys.');
  await call(api.POST('/api/web-push/subscriptions', { body: { endpoint: json.endpoint, expirationTime: json.expirationTime ?? null, keys: { p256dh: json.keys.p256dh, auth: json.keys.auth } } }));
}

export function WebPushSubscribe({ publicKey }: { publicKey: string | undefined }) {
  const run = useMutation({ mutationFn: () => subscribe(publicKey!) });
  return (
    <div className="field">
      <span className="inline-select">
        <button type="button" onClick={() => run.mutate()} disabled={!publicKey || run.isPending} data-testid="web-push-subscribe">
          {run.isPending ? 'Subscribing…' : 'Subscribe this browser'}
        </button>
        <span aria-live="polite" data-testid="web-push-status">
          {run.error ? <span className="field-error">{run.error.message}</span> : run.isSuccess ? 'Subscribed: this browser receives Dockrev notifications.' : null}
        </span>
      </span>
      {!publicKey ? <span className="hint">Save a VAPID key pair first.</span> : null}
    </div>
  );
}
