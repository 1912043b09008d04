// Every page of the UI. A new page is one file under pages/ plus one entry here: `path` is its
// route (wouter syntax, `:param` segments reach the page as props), `nav` its label in a menu
// (omit it for detail pages reached by links), `area: 'settings'` puts that label in the settings
// menu instead of the main one. Pages that few visits need are loaded on first use (`lazyPage`),
// so they cost the first load nothing.
import { lazy, type ComponentType } from 'react';
import { DiscoveryPage } from './pages/discovery';
import { IgnoresPage } from './pages/ignores';
import { JobPage } from './pages/job';
import { JobsPage } from './pages/jobs';
import { OverviewPage } from './pages/overview';
import { SettingsPage } from './pages/settings';
import { StackPage } from './pages/stack';
import { WelcomePage } from './pages/welcome';

type Page = ComponentType<{ params: Record<string, string> }>;

export interface PageRoute {
  path: string;
  // Pages take their route params (all strings) as props.
  page: Page;
  nav?: string;
  area?: 'settings';
}

/** A page in its own chunk, fetched when it is first shown. */
function lazyPage<M>(load: () => Promise<M>, pick: (module: M) => Page): Page {
  return lazy(async () => ({ default: pick(await load()) }));
}

const InferencePage = lazyPage(() => import('./pages/inference'), (m) => m.InferencePage);
const NotificationsPage = lazyPage(() => import('./pages/notifications'), (m) => m.NotificationsPage);
const NotificationDeliveriesPage = lazyPage(() => import('./pages/notification-deliveries'), (m) => m.NotificationDeliveriesPage);
const DeployCheckPage = lazyPage(() => import('./pages/deploy-check'), (m) => m.DeployCheckPage);
const GithubPackagesPage = lazyPage(() => import('./pages/github-packages'), (m) => m.GithubPackagesPage);
const GithubDeliveriesPage = lazyPage(() => import('./pages/github-deliveries'), (m) => m.GithubDeliveriesPage);
const RegistryWebhooksPage = lazyPage(() => import('./pages/registry-webhooks'), (m) => m.RegistryWebhooksPage);
const RegistryDeliveriesPage = lazyPage(() => import('./pages/registry-deliveries'), (m) => m.RegistryDeliveriesPage);

export const ROUTES: PageRoute[] = [
  { path: '/', page: OverviewPage, nav: 'Overview' },
  { path: '/stacks/:stackId', page: StackPage },
  { path: '/jobs', page: JobsPage, nav: 'Jobs' },
  { path: '/jobs/:jobId', page: JobPage },
  { path: '/discovery', page: DiscoveryPage, nav: 'Discovery' },
  { path: '/versions', page: InferencePage, nav: 'Versions' },
  { path: '/notifications', page: NotificationsPage, nav: 'Notifications' },
  { path: '/notifications/deliveries', page: NotificationDeliveriesPage },
  { path: '/settings', page: SettingsPage, nav: 'Settings' },
  { path: '/ignores', page: IgnoresPage, nav: 'Ignore rules', area: 'settings' },
  { path: '/deploy-check', page: DeployCheckPage, nav: 'Deploy check', area: 'settings' },
  { path: '/github-packages', page: GithubPackagesPage, nav: 'GitHub packages', area: 'settings' },
  { path: '/github-packages/deliveries', page: GithubDeliveriesPage },
  { path: '/registry-webhooks', page: RegistryWebhooksPage, nav: 'Registry webhooks', area: 'settings' },
  { path: '/registry-webhooks/deliveries', page: RegistryDeliveriesPage },
  { path: '/welcome', page: WelcomePage, nav: 'Welcome', area: 'settings' },
];

/** The settings menu's pages (the general settings first), and whether a path belongs to them. */
export const SETTINGS_AREA = ['/settings', ...ROUTES.filter((route) => route.area === 'settings').map((route) => route.path)];
export const inSettingsArea = (location: string) => SETTINGS_AREA.some((path) => location === path || location.startsWith(`${path}/`));
