// The end of a settings form: why it was not saved (the fields the form could not place), the
// submit button, and "Saved." once the server took it.
import { FieldErrorList } from './ErrorView';

interface SaveState {
  error: Error | null;
  isPending: boolean;
  isSuccess: boolean;
}

export function SaveBar({ save, label, shownInline, testId }: { save: SaveState; label: string; shownInline: string[]; testId?: string }) {
  return (
    <>
      {save.error ? (
        <div className="alert alert-bad" role="alert" data-testid="save-error">
          <p>Not saved: {save.error.message}</p>
          <FieldErrorList error={save.error} except={shownInline} />
        </div>
      ) : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={save.isPending} data-testid={testId}>
          {label}
        </button>
        <span role="status" className="small">
          {save.isSuccess && !save.isPending ? 'Saved.' : ''}
        </span>
      </div>
    </>
  );
}
