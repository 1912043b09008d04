// GitHub packages (GHCR): Dockrev keeps a `package` webhook on each selected repository, so a
// push to GHCR checks exactly the services running that image. Settings, the owners and
// repositories tracked, the state of the hooks, and a link to the deliveries they sent.
import { useQuery } from '@tanstack/react-query';
import { Link } from 'wouter';
import { queries } from '../api/queries';
import { PageHeader, Skeleton } from '../components/bits';
import { ErrorView } from '../components/ErrorView';
import { Repos } from '../github/Repos';
import { GithubSettingsForm } from '../github/SettingsForm';
import { Targets } from '../github/Targets';
import { WebhookOverview } from '../github/WebhookOverview';

export function GithubPackagesPage() {
  const settings = useQuery(queries.githubSettings());
  return (
    <>
      <PageHeader title="GitHub packages">
        <Link href="/github-packages/deliveries">Deliveries</Link>
      </PageHeader>
      {settings.error && !settings.data ? <ErrorView error={settings.error} onRetry={() => void settings.refetch()} /> : null}
      {settings.isPending ? <Skeleton lines={6} label="Loading GitHub settings" /> : null}
      {settings.data ? (
        <>
          <GithubSettingsForm stored={settings.data} />
          <Targets stored={settings.data} />
          <WebhookOverview />
          <Repos />
        </>
      ) : null}
    </>
  );
}
