// The frame around every page: skip link, navigation, the offline banner, the welcome dialog, and
// an error boundary so a broken page never leaves a blank screen.
import { useQuery } from '@tanstack/react-query';
import { Component, Suspense, useEffect, useRef, type ReactNode } from 'react';
import { Link, Route, Switch, useLocation } from 'wouter';
import { useApiReachable } from './api/connection';
import { queries } from './api/queries';
import { Skeleton } from './components/bits';
import { ErrorView } from './components/ErrorView';
import { WelcomeDialog } from './pages/welcome';
import { inSettingsArea, ROUTES, SETTINGS_AREA } from './routes';

export function App() {
  // Path only: a filter change in the query string must not remount the page.
  const [location] = useLocation();
  useNewPageFocus(location);
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link href="/" className="brand">
          Dockrev
        </Link>
        <Nav />
      </header>
      <OfflineBanner />
      <main id="main" tabIndex={-1}>
        {inSettingsArea(location) ? <SettingsNav location={location} /> : null}
        <PageBoundary key={location}>
          <Suspense fallback={<Skeleton lines={8} label="Loading page" />}>
            <Switch>
              {ROUTES.map(({ path, page: Page }) => (
                <Route key={path} path={path}>
                  {(params) => <Page params={params as Record<string, string>} />}
                </Route>
              ))}
              <Route>
                <NotFound />
              </Route>
            </Switch>
          </Suspense>
        </PageBoundary>
      </main>
      <Footer />
      <WelcomeDialog />
    </>
  );
}

/**
 * A client-side navigation starts the new page at its top and moves focus there, as a full page
 * load would; screen readers then announce the new page instead of staying on the old link.
 */
function useNewPageFocus(location: string) {
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    window.scrollTo(0, 0);
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [location]);
}

function Nav() {
  const [location] = useLocation();
  const version = useQuery(queries.version());
  const current = (path: string) => {
    if (path === '/') return location === '/' || location.startsWith('/stacks/');
    if (path === '/settings') return inSettingsArea(location);
    return location === path || location.startsWith(`${path}/`);
  };
  return (
    <nav aria-label="Main">
      <ul>
        {ROUTES.filter((route) => route.nav && !route.area).map((route) => (
          <li key={route.path}>
            <Link href={route.path} aria-current={current(route.path) ? 'page' : undefined}>
              {route.nav}
            </Link>
          </li>
        ))}
        <li>
          {/* A plain link: the supervisor is another process (behind the same proxy by default). */}
          <a href={version.data?.selfUpgradeUrl ?? '/supervisor/'} data-testid="supervisor-link">
            Supervisor
          </a>
        </li>
      </ul>
    </nav>
  );
}

/** The pages of the settings area, as a second menu above each of them. */
function SettingsNav({ location }: { location: string }) {
  const entries = SETTINGS_AREA.map((path) => ({ path, label: ROUTES.find((route) => route.path === path)?.nav ?? path }));
  return (
    <nav aria-label="Settings" className="subnav">
      <ul>
        {entries.map(({ path, label }) => (
          <li key={path}>
            <Link href={path} aria-current={location === path || location.startsWith(`${path}/`) ? 'page' : undefined}>
              {path === '/settings' ? 'General' : label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function OfflineBanner() {
  const reachable = useApiReachable();
  if (reachable) return null;
  return (
    <div className="offline-banner" role="alert" data-testid="offline-banner">
      The Dockrev API is unreachable. Showing the last data received; retrying every few seconds…
    </div>
  );
}

function Footer() {
  const version = useQuery(queries.version());
  return (
    <footer className="bottom muted small">
      Dockrev {version.data ? `v${version.data.version}` : ''} · <a href="/api/version">API</a>
    </footer>
  );
}

function NotFound() {
  return (
    <div className="card">
      <h1>Page not found</h1>
      <p>
        There is nothing at this address. <Link href="/">Back to the overview</Link>
      </p>
    </div>
  );
}

class PageBoundary extends Component<{ children: ReactNode }, { error?: unknown }> {
  state: { error?: unknown } = {};
  static getDerivedStateFromError(error: unknown) {
    return { error };
  }
  render() {
    if (this.state.error) return <ErrorView error={this.state.error} onRetry={() => this.setState({ error: undefined })} />;
    return this.props.children;
  }
}
