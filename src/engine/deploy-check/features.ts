// The feature checks of the deploy report: capabilities a user switches on. Switched off → `na`
// (`disabled_by_switch`); switched on but misconfigured → `fail` and required (behaviour.md §C.15).
// These read configuration only: no notification is sent and no external service is called.
import type { Config } from '../../config.js';
import { errorText } from '../../errors.js';
import type { NotificationSettings, Store } from '../../store/index.js';
import { serviceImageRef } from '../check/checker.js';
import type { AnyChannel } from '../notify/channels/channel.js';
import { CHANNELS } from '../notify/channels/index.js';
import { DockerCredentials, loadDockerCredentials } from '../registry/index.js';
import { failed, list, notApplicable, passed, warned, within, type DeployCheckItem } from './check.js';

export interface FeatureCheckDeps {
  config: Pick<Config, 'dockerConfigPath' | 'deployCheckCommandTimeoutSeconds'>;
  store: Store;
}

export async function registryAuthCheck(deps: FeatureCheckDeps): Promise<DeployCheckItem> {
  const id = 'feature.registry_auth';
  const title = 'Registry credentials';
  const impact = 'Images in private registries cannot be checked or pulled without credentials.';
  const services = await deps.store.services.list('exclude');
  const used = [...new Set(services.flatMap((service) => serviceImageRef(service)?.registry ?? []))].sort();
  const path = deps.config.dockerConfigPath;
  if (!path) {
    return notApplicable(id, 'missing_prerequisite', {
      title,
      summary: 'No Docker config with registry credentials is configured',
      impact,
      evidence: `dockerConfig=unset; registriesUsed=${list(used)}`,
      recommendation: 'Set DOCKREV_DOCKER_CONFIG to a config.json (docker login) when services use private registries.',
    });
  }
  const { credentials, warnings } = await within(deps.config.deployCheckCommandTimeoutSeconds * 1000, 'reading the docker config', loadDockerCredentials(path)).catch(
    (error: unknown) => ({ credentials: new DockerCredentials(), warnings: [errorText(error)] }),
  );
  const withCredentials = credentials.registries().sort();
  const anonymous = used.filter((registry) => !credentials.forRegistry(registry));
  const evidence = `dockerConfig=${path}; credentials=${list(withCredentials)}; registriesUsed=${list(used)}; anonymous=${list(anonymous)}`;
  if (warnings.length > 0) {
    return failed(id, 'feature', { title, summary: warnings[0]!, impact, evidence, recommendation: 'Point DOCKREV_DOCKER_CONFIG at a readable config.json written by docker login.' });
  }
  return passed(id, 'feature', false, {
    title,
    summary: `Credentials for ${withCredentials.length} registr${withCredentials.length === 1 ? 'y' : 'ies'}`,
    impact,
    evidence,
    recommendation: anonymous.length > 0 ? 'Registries listed as anonymous are accessed without credentials; log in to those that are private.' : 'None.',
  });
}

/** The channel's settings as the GET view shows them (secrets masked), as evidence. */
function channelEvidence(channel: AnyChannel, settings: NotificationSettings): string {
  const view = channel.view(settings[channel.key] as never) as Record<string, unknown>;
  const fields = Object.entries(view).filter(([name]) => !['enabled', 'events', 'template'].includes(name));
  const own = settings[channel.key].events ?? {};
  const switches = (['update', 'newVersion', 'ghcrWebhookAnomaly'] as const).map((name) => `${name}=${own[name] ?? settings.events[name]}`);
  return [...fields.map(([name, value]) => `${name}=${Array.isArray(value) ? list(value.map(String)) : String(value)}`), ...switches].join('; ');
}

export async function notificationChecks(deps: FeatureCheckDeps): Promise<DeployCheckItem[]> {
  const settings = await deps.store.notifications.getSettings();
  const subscriptions = (await deps.store.notifications.listSubscriptions()).length;
  return CHANNELS.map((channel) => {
    const id = `feature.notifications.${channel.key}`;
    const title = `Notifications: ${channel.label}`;
    const impact = `${channel.label} notifications cannot be delivered.`;
    const evidence = channelEvidence(channel, settings);
    if (!settings[channel.key].enabled) {
      return notApplicable(id, 'disabled_by_switch', { title, summary: `${channel.label} is switched off`, impact, evidence, recommendation: 'None.' });
    }
    const problem = channel.problem(settings[channel.key] as never);
    if (problem) {
      return failed(id, 'feature', { title, summary: `${channel.label} is switched on but misconfigured: ${problem}`, impact, evidence, recommendation: 'Fix the channel in the notification settings, then send a test notification.' });
    }
    if (channel.key === 'webPush' && subscriptions === 0) {
      return warned(id, 'feature', false, {
        title,
        summary: 'Web Push is configured but no browser has subscribed',
        impact,
        evidence: `${evidence}; subscriptions=0`,
        recommendation: 'Open the Dockrev UI in a browser and allow notifications.',
      });
    }
    return passed(id, 'feature', false, {
      title,
      summary: `${channel.label} is configured`,
      impact,
      evidence: channel.key === 'webPush' ? `${evidence}; subscriptions=${subscriptions}` : evidence,
      recommendation: 'Send a test notification to confirm that it arrives.',
    });
  });
}

export async function githubPackagesCheck(deps: FeatureCheckDeps): Promise<DeployCheckItem> {
  const id = 'feature.github_packages';
  const title = 'GitHub Packages webhooks';
  const impact = 'Pushes to GHCR do not start checks; new versions are found by scheduled checks only.';
  const settings = await deps.store.githubPackages.getSettings();
  const selected = (await deps.store.githubPackages.listSelectedRepos()).length;
  let callback = 'callbackUrl(ok)';
  try {
    const url = new URL(settings.callbackUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') callback = 'callbackUrl(invalid_scheme)';
  } catch {
    callback = settings.callbackUrl ? 'callbackUrl(invalid)' : 'callbackUrl(missing)';
  }
  const parts = [callback, `repos(selected=${selected})`, `pat(${settings.pat ? 'configured' : 'missing'})`, `webhookSecret(${settings.webhookSecret ? 'configured' : 'missing'})`];
  const evidence = parts.join('; ');
  if (!settings.enabled) {
    return notApplicable(id, 'disabled_by_switch', { title, summary: 'GitHub Packages integration is switched off', impact, evidence, recommendation: 'None.' });
  }
  const problems = parts.filter((part) => !/\((ok|configured)\)$/.test(part) && part !== `repos(selected=${selected})`);
  if (selected === 0) problems.push('repos(selected=0)');
  if (problems.length > 0) {
    return failed(id, 'feature', {
      title,
      summary: `GitHub Packages integration is switched on but misconfigured: ${problems.join(', ')}`,
      impact,
      evidence,
      recommendation: 'Set an http(s) callback URL, a PAT with admin:repo_hook, a webhook secret, and select at least one repository.',
    });
  }
  return passed(id, 'feature', false, { title, summary: `Webhooks managed for ${selected} selected repositor${selected === 1 ? 'y' : 'ies'}`, impact, evidence, recommendation: 'None.' });
}
