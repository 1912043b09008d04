// Test sends (POST /api/notifications/test): one channel, or every enabled one, with the result
// of each channel as the server reports it. They use the saved settings, not the form's draft.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, call } from '../api/client';
import type { Schemas } from '../api/queries';
import { Badge } from '../components/bits';
import { CHANNELS, type ChannelKey } from './channels';

type Results = Schemas['NotificationTestResult']['results'];

export function useTestSend() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (channel: ChannelKey | null) => (await call(api.POST('/api/notifications/test', { body: { channel } }))).results,
    // A test send is a delivery too.
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['notification-deliveries'] }),
  });
}

export function ChannelResult({ result }: { result: Schemas['NotificationChannelResult'] | undefined }) {
  if (!result) return null;
  return result.ok ? <Badge tone="ok">ok</Badge> : <span className="field-error">failed: {result.error}</span>;
}

export function TestChannelButton({ channel, label }: { channel: ChannelKey; label: string }) {
  const test = useTestSend();
  return (
    <span className="inline-select" data-testid={`test-${channel}`}>
      <button type="button" onClick={() => test.mutate(channel)} disabled={test.isPending}>
        {test.isPending ? 'Sending…' : `Send a test to ${label}`}
      </button>
      <span aria-live="polite" data-testid="test-result">
        {test.error ? <span className="field-error">{test.error.message}</span> : <ChannelResult result={test.data?.[channel]} />}
      </span>
    </span>
  );
}

export function TestAllButton() {
  const test = useTestSend();
  const results: Results | undefined = test.data;
  const tried = CHANNELS.filter((spec) => results?.[spec.key]);
  return (
    <div className="test-all" data-testid="test-all">
      <button type="button" onClick={() => test.mutate(null)} disabled={test.isPending}>
        {test.isPending ? 'Sending…' : 'Test every enabled channel'}
      </button>
      <div aria-live="polite">
        {test.error ? <p className="field-error">{test.error.message}</p> : null}
        {results && tried.length === 0 ? <p className="muted">No channel is enabled.</p> : null}
        {tried.length > 0 ? (
          <ul className="test-results" data-testid="test-all-results">
            {tried.map((spec) => (
              <li key={spec.key} data-channel={spec.key}>
                {spec.label}: <ChannelResult result={results![spec.key]} />
              </li>
            ))}
          </ul>
        ) : null}
      </div>
    </div>
  );
}
