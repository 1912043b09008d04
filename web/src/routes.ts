// Every page of the UI. A new page is one file under pages/ plus one entry here: `path` is its
// route (wouter syntax, `:param` segments reach the page as props), `nav` its label in the menu
// (omit it for detail pages reached by links).
import type { ComponentType } from 'react';
import { DiscoveryPage } from './pages/discovery';
import { IgnoresPage } from './pages/ignores';
import { JobPage } from './pages/job';
import { JobsPage } from './pages/jobs';
import { NotificationsPage } from './pages/notifications';
import { OverviewPage } from './pages/overview';
import { SettingsPage } from './pages/settings';
import { StackPage } from './pages/stack';
import { WelcomePage } from './pages/welcome';

export interface PageRoute {
  path: string;
  // Pages take their route params (all strings) as props.
  page: ComponentType<{ params: Record<string, string> }>;
  nav?: string;
}

export const ROUTES: PageRoute[] = [
  { path: '/', page: OverviewPage, nav: 'Overview' },
  { path: '/stacks/:stackId', page: StackPage },
  { path: '/jobs', page: JobsPage, nav: 'Jobs' },
  { path: '/jobs/:jobId', page: JobPage },
  { path: '/discovery', page: DiscoveryPage, nav: 'Discovery' },
  { path: '/ignores', page: IgnoresPage, nav: 'Ignore rules' },
  { path: '/notifications', page: NotificationsPage, nav: 'Notifications' },
  { path: '/settings', page: SettingsPage, nav: 'Settings' },
  { path: '/welcome', page: WelcomePage, nav: 'Welcome' },
];
