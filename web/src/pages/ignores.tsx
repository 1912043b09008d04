// Ignore rules: which candidate tags of which service are never offered. A rule takes effect at
// the service's next check, so creating or deleting one re-checks that service.
import { useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'wouter';
import { api, call } from '../api/client';
import { queries, type Schemas } from '../api/queries';
import { Badge, PageHeader, Skeleton } from '../components/bits';
import { ErrorView } from '../components/ErrorView';
import { CheckField, SelectField, TextField } from '../components/Field';
import { useDraftForm, type Errors } from '../forms';

type Kind = Schemas['IgnoreRuleMatch']['kind'];
const KINDS: { kind: Kind; label: string; example: string }[] = [
  { kind: 'exact', label: 'exact tag', example: 'latest' },
  { kind: 'prefix', label: 'tag prefix', example: '5.3.' },
  { kind: 'regex', label: 'regular expression', example: '^.*-beta$' },
  { kind: 'semver', label: 'semver range', example: '>=6.0.0' },
];

interface ServiceOption {
  id: string;
  label: string;
  stackId: string;
}

/** Every service of every stack (archived included), for names and the rule form. */
function useAllServices(): ServiceOption[] {
  const stacks = useQuery(queries.stacks('include'));
  const details = useQueries({ queries: (stacks.data?.stacks ?? []).map((stack) => queries.stack(stack.id)) });
  return details.flatMap((detail) => (detail.data ? detail.data.services.map((service) => ({ id: service.id, label: `${detail.data.name} / ${service.name}`, stackId: detail.data.id })) : []));
}

function recheck(serviceId: string) {
  return call(api.POST('/api/checks', { body: { scope: 'service', serviceId, reason: 'ui' } }));
}

export function IgnoresPage() {
  const rules = useQuery(queries.ignores());
  const services = useAllServices();
  const byId = new Map(services.map((service) => [service.id, service]));
  return (
    <>
      <PageHeader title="Ignore rules" />
      <p className="muted">A service whose candidate tag matches an enabled rule is not counted as an update and is left out of stack-wide updates.</p>
      {rules.error && !rules.data ? <ErrorView error={rules.error} onRetry={() => void rules.refetch()} /> : null}
      {rules.isPending ? <Skeleton lines={3} label="Loading rules" /> : null}
      {rules.data && rules.data.length === 0 ? <p className="card">No ignore rules.</p> : null}
      {rules.data && rules.data.length > 0 ? (
        <ul className="rule-list" data-testid="rule-list">
          {rules.data.map((rule) => (
            <RuleRow key={rule.id} rule={rule} service={byId.get(rule.scope.serviceId)} />
          ))}
        </ul>
      ) : null}
      <NewRuleForm services={services} />
    </>
  );
}

function RuleRow({ rule, service }: { rule: Schemas['IgnoreRule']; service: ServiceOption | undefined }) {
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: async () => {
      await call(api.DELETE('/api/ignores', { body: { ruleId: rule.id } }));
      await recheck(rule.scope.serviceId);
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['ignores'] }),
  });
  return (
    <li className="card rule-row" id={rule.id} data-testid="rule-row">
      <div>
        <strong>{service ? <Link href={`/stacks/${service.stackId}`}>{service.label}</Link> : <code>{rule.scope.serviceId}</code>}</strong>{' '}
        {rule.enabled ? null : <Badge tone="neutral">disabled</Badge>}
      </div>
      <div>
        {KINDS.find((entry) => entry.kind === rule.match.kind)?.label ?? rule.match.kind} <code>{rule.match.value}</code>
      </div>
      {rule.note ? <div className="muted small">{rule.note}</div> : null}
      <div className="actions">
        <button type="button" onClick={() => remove.mutate()} disabled={remove.isPending}>
          Delete rule
        </button>
        {remove.error ? <span className="field-error">{remove.error.message}</span> : null}
      </div>
    </li>
  );
}

interface Draft {
  serviceId: string;
  kind: Kind;
  value: string;
  note: string;
  enabled: boolean;
}

function validate(draft: Draft): Errors {
  const errors: Errors = {};
  if (!draft.serviceId) errors['scope.serviceId'] = 'Choose a service';
  if (!draft.value.trim()) errors['match.value'] = 'Enter what to match';
  else if (draft.kind === 'regex') {
    try {
      new RegExp(draft.value);
    } catch (error) {
      errors['match.value'] = `Not a valid regular expression: ${(error as Error).message}`;
    }
  }
  return errors;
}

function NewRuleForm({ services }: { services: ServiceOption[] }) {
  const queryClient = useQueryClient();
  const create = useMutation({
    mutationFn: async (draft: Draft) => {
      await call(
        api.POST('/api/ignores', {
          body: { enabled: draft.enabled, scope: { type: 'service', serviceId: draft.serviceId }, match: { kind: draft.kind, value: draft.value.trim() }, note: draft.note.trim() || null },
        }),
      );
      await recheck(draft.serviceId);
    },
    onSuccess: () => {
      form.setDraft((current) => ({ ...current, value: '', note: '' }));
      void queryClient.invalidateQueries({ queryKey: ['ignores'] });
    },
  });
  const form = useDraftForm<Draft>(() => ({ serviceId: '', kind: 'exact', value: '', note: '', enabled: true }), validate, (clean) => create.mutate(clean), create.error);
  const { draft, set, errors, onSubmit } = form;
  const example = KINDS.find((entry) => entry.kind === draft.kind)!.example;
  return (
    <form className="card form" noValidate aria-labelledby="new-rule" onSubmit={onSubmit}>
      <h2 id="new-rule">New rule</h2>
      <SelectField label="Service" value={draft.serviceId} error={errors['scope.serviceId']} onChange={(event) => set('serviceId', event.target.value)}>
        <option value="">choose…</option>
        {services.map((service) => (
          <option key={service.id} value={service.id}>
            {service.label}
          </option>
        ))}
      </SelectField>
      <SelectField label="Match" value={draft.kind} onChange={(event) => set('kind', event.target.value as Kind)}>
        {KINDS.map((entry) => (
          <option key={entry.kind} value={entry.kind}>
            {entry.label}
          </option>
        ))}
      </SelectField>
      <TextField label="Candidate tag to ignore" placeholder={example} value={draft.value} error={errors['match.value']} onChange={(event) => set('value', event.target.value)} />
      <TextField label="Note (optional)" value={draft.note} onChange={(event) => set('note', event.target.value)} />
      <CheckField label="Enabled" checked={draft.enabled} onChange={(event) => set('enabled', event.target.checked)} />
      {create.error ? <ErrorView error={create.error} /> : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={create.isPending}>
          Add rule
        </button>
        <span role="status" className="small">
          {create.isSuccess ? 'Rule added; the service is being re-checked.' : ''}
        </span>
      </div>
    </form>
  );
}
