// Targets: the owners and repositories whose repositories Dockrev tracks. An input is previewed
// first (resolve: which repositories it names, which are deployed here), then added or removed.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, call } from '../api/client';
import type { Schemas } from '../api/queries';
import { Badge, TableHead, TableWrap, Time } from '../components/bits';
import { TextField } from '../components/Field';

type View = Schemas['GithubPackagesSettings'];

export function Targets({ stored }: { stored: View }) {
  const queryClient = useQueryClient();
  const [input, setInput] = useState('');
  const changed = () => queryClient.invalidateQueries({ queryKey: ['github'] });
  const resolve = useMutation({ mutationFn: (value: string) => call(api.POST('/api/github-packages/resolve', { body: { input: value } })) });
  const add = useMutation({
    mutationFn: (value: string) => call(api.POST('/api/github-packages/targets/add', { body: { input: value } })),
    onSuccess: () => {
      setInput('');
      resolve.reset();
      return changed();
    },
  });
  const remove = useMutation({ mutationFn: (value: string) => call(api.POST('/api/github-packages/targets/remove', { body: { input: value } })), onSuccess: changed });
  const value = input.trim();
  const error = add.error ?? resolve.error;
  return (
    <section className="card" aria-labelledby="targets-title">
      <h2 id="targets-title">Owners and repositories</h2>
      {stored.targets.length === 0 ? (
        <p className="muted">No target yet: add a GitHub owner (all its repositories) or one repository.</p>
      ) : (
        <ul className="override-list" data-testid="github-targets">
          {stored.targets.map((target) => (
            <li key={target.input}>
              <code>{target.input}</code> <Badge tone="neutral">{target.kind}</Badge>
              {target.warnings.map((warning) => (
                <span key={warning} className="muted small">
                  {warning}
                </span>
              ))}
              <button type="button" onClick={() => remove.mutate(target.input)} disabled={remove.isPending}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <form
        className="inline-form"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          if (value) resolve.mutate(value);
        }}
      >
        <TextField label="Owner or repository" placeholder="acme, acme/web or https://github.com/acme/web" value={input} className="wide" onChange={(event) => setInput(event.target.value)} data-testid="github-target-input" />
        <button type="submit" disabled={!value || resolve.isPending} data-testid="github-resolve">
          {resolve.isPending ? 'Looking…' : 'Preview'}
        </button>
        <button type="button" className="primary" disabled={!value || add.isPending} onClick={() => add.mutate(value)} data-testid="github-add-target">
          {add.isPending ? 'Adding…' : 'Add'}
        </button>
      </form>
      <div aria-live="polite">
        {error ? <p className="field-error">{error.message}</p> : null}
        {add.data ? (
          <p role="status">
            Added {add.data.kind} {add.data.owner}: {add.data.reposAdded} repositories tracked.
          </p>
        ) : null}
        {resolve.data ? <ResolvePreview result={resolve.data} /> : null}
      </div>
    </section>
  );
}

function ResolvePreview({ result }: { result: Schemas['GithubPackagesResolveResult'] }) {
  return (
    <div data-testid="github-resolve-preview">
      <p>
        {result.kind === 'owner' ? `Owner ${result.owner}` : 'Repository'}: {result.repos.length} repositor{result.repos.length === 1 ? 'y' : 'ies'}
        {result.kind === 'owner' ? ' (new ones start unselected)' : ''}.
      </p>
      {result.warnings.map((warning) => (
        <p key={warning} className="muted">
          {warning}
        </p>
      ))}
      {result.repos.length > 0 ? (
        <TableWrap label="Repositories of this input">
          <table>
            <TableHead columns={['Repository', 'Visibility', 'Last activity', 'Deployed here', 'Selected']} />
            <tbody>
              {result.repos.map((repo) => (
                <tr key={repo.fullName}>
                  <td>
                    <code>{repo.fullName}</code>
                    {repo.ghcrLinked ? <span className="muted small"> · has GHCR packages</span> : null}
                  </td>
                  <td>{repo.visibility}</td>
                  <td>{repo.lastActivityAt ? <Time iso={repo.lastActivityAt} /> : <span className="muted">unknown</span>}</td>
                  <td>{repo.deployed ? <Badge tone="info">deployed</Badge> : <span className="muted">no</span>}</td>
                  <td>{repo.selected ? 'yes' : 'no'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : null}
    </div>
  );
}
