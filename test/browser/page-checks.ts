// What every page of the UI must pass in the browser: axe-core without serious or critical
// violations in both themes, no horizontal scrolling at 375 px, and a screenshot per theme.
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { projectRoot } from '../../src/spec.js';

export const SCREENSHOT_DIR = join(projectRoot(), '.tmp', 'screenshots');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export type Theme = 'light' | 'dark';
export const THEMES: Theme[] = ['light', 'dark'];

export interface Violation {
  id: string;
  impact: string;
  help: string;
  targets: string[];
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function seriousViolations(page: Page): Promise<Violation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource });
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: any[] }> } }).axe;
    const { violations } = await axe.run(document, { resultTypes: ['violations'] });
    return violations
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .map((violation) => ({ id: violation.id, impact: violation.impact, help: violation.help, targets: violation.nodes.map((node: any) => node.target.join(' ')) }));
  });
}

export async function useTheme(page: Page, theme: Theme): Promise<void> {
  await page.emulateMedia({ colorScheme: theme });
}

/** Writes .tmp/screenshots/<name>-<theme>.png of the viewport (fullPage for long pages). */
export async function screenshot(page: Page, name: string, theme: Theme, fullPage = true): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}-${theme}.png`);
  await page.screenshot({ path, fullPage, animations: 'disabled' });
  return path;
}

/** How far the page is wider than its viewport (0 when nothing scrolls sideways). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

/** Installs a layout-shift observer before the app runs; read it with layoutShifts. */
export async function observeLayoutShifts(page: Page): Promise<void> {
  await page.addInitScript(() => {
    type Shift = PerformanceEntry & { value: number; hadRecentInput: boolean; sources: { node?: Node; previousRect: DOMRectReadOnly; currentRect: DOMRectReadOnly }[] };
    const state = window as unknown as { __cls: number; __shifts: string[] };
    state.__cls = 0;
    state.__shifts = [];
    const describe = (node: Node | undefined) => (node instanceof Element ? `${node.tagName.toLowerCase()}.${node.className}` : String(node?.nodeName));
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries() as Shift[]) {
        if (entry.hadRecentInput) continue;
        state.__cls += entry.value;
        for (const source of entry.sources) {
          state.__shifts.push(`${entry.value.toFixed(4)} ${describe(source.node)} y ${Math.round(source.previousRect.y)}→${Math.round(source.currentRect.y)} x ${Math.round(source.previousRect.x)}→${Math.round(source.currentRect.x)}`);
        }
      }
    }).observe({ type: 'layout-shift', buffered: true });
  });
}

/** The cumulative layout shift score so far, and what moved. */
export function layoutShifts(page: Page): Promise<{ score: number; moved: string[] }> {
  return page.evaluate(() => {
    const state = window as unknown as { __cls: number; __shifts: string[] };
    return { score: state.__cls, moved: state.__shifts };
  });
}

export interface PageToAudit {
  name: string;
  path: string;
  /** Resolves once the page shows what it is about (data loaded, dialog open). */
  ready: (page: Page) => Promise<unknown>;
}

export interface AuditFindings {
  problems: { page: string; theme: string; violations: Violation[] }[];
  overflowing: string[];
}

/**
 * Opens each page at 1280 and 375 px, runs axe-core in the light and dark theme, measures
 * sideways scrolling at 375 px and writes a screenshot of each; `extra` runs after each shot.
 */
export async function auditPages(page: Page, baseUrl: string, pages: PageToAudit[], extra?: (entry: PageToAudit, width: number, theme: Theme) => Promise<void>): Promise<AuditFindings> {
  const findings: AuditFindings = { problems: [], overflowing: [] };
  for (const entry of pages) {
    for (const width of [1280, 375]) {
      await page.setViewportSize({ width, height: 900 });
      await page.goto(`${baseUrl}${entry.path}`);
      await entry.ready(page);
      if (width === 375) {
        const overflow = await horizontalOverflow(page);
        if (overflow > 0) findings.overflowing.push(`${entry.name}: ${overflow}px wider than 375`);
      }
      for (const theme of THEMES) {
        await useTheme(page, theme);
        const violations = await seriousViolations(page);
        if (violations.length) findings.problems.push({ page: `${entry.name}@${width}`, theme, violations });
        await screenshot(page, width === 375 ? `${entry.name}-375` : entry.name, theme);
        await extra?.(entry, width, theme);
      }
      await useTheme(page, 'light');
    }
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  return findings;
}
