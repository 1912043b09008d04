// Server state, one query definition per read operation; pages share them so a stack fetched
// for the overview is already in cache when its page opens.
import { QueryClient, queryOptions } from '@tanstack/react-query';
import type { components, paths } from '@contract';
import { api, call } from './client';
import { NetworkError } from './errors';
import { onRecovered } from './connection';

export type Schemas = components['schemas'];
export type StackListItem = Schemas['StackListItem'];
export type StackDetail = Schemas['StackDetail'];
export type ServiceDetail = Schemas['ServiceDetail'];
export type Job = Schemas['JobListItem'];
export type JobDetail = Schemas['JobDetail'];
export type JobLog = Schemas['JobLog'];
export type JobStatus = Schemas['JobStatus'];
export type JobType = Schemas['JobType'];
export type JobProgress = Schemas['JobProgress'];
export type ArchivedFilter = Schemas['ArchivedFilter'];

type QueryOf<P extends keyof paths> = NonNullable<paths[P]['get'] extends { parameters: { query?: infer Q } } ? Q : never>;
export type InferenceFilter = QueryOf<'/api/version-inference/overview'>;
export type NotificationDeliveryFilter = QueryOf<'/api/notifications/deliveries'>;
export type GithubRepoFilter = QueryOf<'/api/github-packages/repos'>;
export type GithubDeliveryFilter = QueryOf<'/api/github-packages/webhook/deliveries'>;
export type RegistryDeliveryFilter = QueryOf<'/api/registry-webhooks/deliveries'>;

export const TERMINAL: readonly JobStatus[] = ['success', 'failed', 'rolled_back'];
export const isTerminal = (job: Pick<Job, 'status'> | undefined) => job !== undefined && TERMINAL.includes(job.status);

export function createQueryClient(): QueryClient {
  const client = new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 5_000,
        // Requests go out whatever navigator.onLine says: the API is often on the LAN.
        networkMode: 'always',
        // Unreachable: the health probe takes over and refetches on recovery.
        retry: (failures, error) => !(error instanceof NetworkError) && failures < 1 && (error as { status?: number }).status! >= 500,
      },
      mutations: { networkMode: 'always' },
    },
  });
  onRecovered(() => void client.invalidateQueries());
  return client;
}

export const queries = {
  version: () =>
    queryOptions({ queryKey: ['version'], queryFn: ({ signal }) => call(api.GET('/api/version', { signal })), staleTime: Infinity }),

  stacks: (archived: ArchivedFilter) =>
    queryOptions({
      queryKey: ['stacks', archived],
      queryFn: ({ signal }) => call(api.GET('/api/stacks', { params: { query: { archived } }, signal })),
    }),

  stack: (stackId: string) =>
    queryOptions({
      queryKey: ['stack', stackId],
      queryFn: async ({ signal }) => (await call(api.GET('/api/stacks/{stackId}', { params: { path: { stackId } }, signal }))).stack,
    }),

  jobs: (filter: { type?: string; status?: JobStatus; stackId?: string; serviceId?: string; limit?: number }) =>
    queryOptions({
      queryKey: ['jobs', filter],
      queryFn: ({ signal }) => call(api.GET('/api/jobs', { params: { query: filter }, signal })),
    }),

  job: (jobId: string) =>
    queryOptions({
      queryKey: ['job', jobId],
      queryFn: async ({ signal }) => (await call(api.GET('/api/jobs/{jobId}', { params: { path: { jobId } }, signal }))).job,
    }),

  settings: () => queryOptions({ queryKey: ['settings'], queryFn: ({ signal }) => call(api.GET('/api/settings', { signal })) }),

  notifications: () =>
    queryOptions({ queryKey: ['notifications'], queryFn: ({ signal }) => call(api.GET('/api/notifications', { signal })) }),

  ignores: () =>
    queryOptions({ queryKey: ['ignores'], queryFn: async ({ signal }) => (await call(api.GET('/api/ignores', { signal }))).rules }),

  discoveryProjects: (archived: ArchivedFilter) =>
    queryOptions({
      queryKey: ['discovery-projects', archived],
      queryFn: async ({ signal }) =>
        (await call(api.GET('/api/discovery/projects', { params: { query: { archived } }, signal }))).projects,
    }),

  inferenceOverview: (filter: InferenceFilter) =>
    queryOptions({
      queryKey: ['inference-overview', filter],
      queryFn: ({ signal }) => call(api.GET('/api/version-inference/overview', { params: { query: filter }, signal })),
    }),

  notificationDeliveries: (filter: NotificationDeliveryFilter) =>
    queryOptions({
      queryKey: ['notification-deliveries', filter],
      queryFn: ({ signal }) => call(api.GET('/api/notifications/deliveries', { params: { query: filter }, signal })),
    }),

  deployCheck: () =>
    queryOptions({ queryKey: ['deploy-check'], queryFn: ({ signal }) => call(api.GET('/api/deploy-check/report', { signal })), staleTime: 0 }),

  githubSettings: () =>
    queryOptions({ queryKey: ['github', 'settings'], queryFn: ({ signal }) => call(api.GET('/api/github-packages/settings', { signal })) }),

  githubRepos: (filter: GithubRepoFilter) =>
    queryOptions({
      queryKey: ['github', 'repos', filter],
      queryFn: ({ signal }) => call(api.GET('/api/github-packages/repos', { params: { query: filter }, signal })),
    }),

  githubWebhookOverview: () =>
    queryOptions({ queryKey: ['github', 'overview'], queryFn: ({ signal }) => call(api.GET('/api/github-packages/webhook/overview', { signal })) }),

  githubDeliveries: (filter: GithubDeliveryFilter) =>
    queryOptions({
      queryKey: ['github', 'deliveries', filter],
      queryFn: ({ signal }) => call(api.GET('/api/github-packages/webhook/deliveries', { params: { query: filter }, signal })),
    }),

  registryWebhookSettings: () =>
    queryOptions({ queryKey: ['registry-webhooks', 'settings'], queryFn: ({ signal }) => call(api.GET('/api/registry-webhooks/settings', { signal })) }),

  deployWelcome: () =>
    queryOptions({ queryKey: ['deploy-welcome'], queryFn: ({ signal }) => call(api.GET('/api/deploy-welcome', { signal })) }),
};
