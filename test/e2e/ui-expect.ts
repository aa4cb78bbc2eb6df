/**
 * Auto-waiting assertions on Playwright locators for Vitest (playwright-core has no `expect` of its
 * own): each reads the page without waiting and retries with Vitest's expect.poll until it holds or the
 * timeout passes, so a slow machine makes a test slower, never flaky. Reads of an element that is not
 * there (yet) count as "not yet".
 */
import type { Locator } from 'playwright-core';
import { expect } from 'vitest';

export const UI_TIMEOUT_MS = 30_000;
const INTERVAL_MS = 250;
/** A single read never waits long: the poll does the waiting. */
const READ_MS = 1000;

export interface WaitOptions {
  timeout?: number;
  /** Shown on failure (e.g. what the nodes logged). */
  message?: string;
}

function poll<T>(read: () => Promise<T>, options: WaitOptions) {
  return expect.poll(read, { timeout: options.timeout ?? UI_TIMEOUT_MS, interval: INTERVAL_MS, message: options.message });
}

const textOf = (locator: Locator) => locator.textContent({ timeout: READ_MS }).then((text) => (text ?? '').trim(), () => undefined);

export async function visible(locator: Locator, options: WaitOptions = {}): Promise<void> {
  await locator.waitFor({ state: 'visible', timeout: options.timeout ?? UI_TIMEOUT_MS });
}

export async function hidden(locator: Locator, options: WaitOptions = {}): Promise<void> {
  await locator.waitFor({ state: 'hidden', timeout: options.timeout ?? UI_TIMEOUT_MS });
}

/** The element's whole text (trimmed) is `expected`, or matches it. */
export async function hasText(locator: Locator, expected: string | RegExp, options: WaitOptions = {}): Promise<void> {
  if (typeof expected === 'string') await poll(() => textOf(locator), options).toBe(expected);
  else await poll(() => textOf(locator), options).toMatch(expected);
}

export async function containsText(locator: Locator, expected: string, options: WaitOptions = {}): Promise<void> {
  await poll(() => textOf(locator), options).toContain(expected);
}

/** The accessible description: the text of what aria-describedby names (a field's helper text or message). */
export async function hasDescription(locator: Locator, expected: string | RegExp, options: WaitOptions = {}): Promise<void> {
  const read = () =>
    locator
      .evaluate(
        (element) =>
          (element.getAttribute('aria-describedby') ?? '')
            .split(/\s+/)
            .map((id) => (id === '' ? '' : (document.getElementById(id)?.textContent ?? '')))
            .join(' ')
            .trim(),
        undefined,
        { timeout: READ_MS },
      )
      .catch(() => undefined);
  if (typeof expected === 'string') await poll(read, options).toBe(expected);
  else await poll(read, options).toMatch(expected);
}

export async function hasAttribute(locator: Locator, name: string, expected: string | null, options: WaitOptions = {}): Promise<void> {
  await poll(() => locator.getAttribute(name, { timeout: READ_MS }).catch(() => undefined), options).toBe(expected);
}

export async function hasValue(locator: Locator, expected: string, options: WaitOptions = {}): Promise<void> {
  await poll(() => locator.inputValue({ timeout: READ_MS }).catch(() => undefined), options).toBe(expected);
}

export async function focused(locator: Locator, options: WaitOptions = {}): Promise<void> {
  await poll(() => locator.evaluate((element) => element === document.activeElement, undefined, { timeout: READ_MS }).catch(() => false), options).toBe(true);
}

export async function disabled(locator: Locator, options: WaitOptions = {}): Promise<void> {
  await poll(() => locator.isDisabled({ timeout: READ_MS }).catch(() => false), options).toBe(true);
}

/**
 * A field's label for getByLabel: the text alone, or followed by the asterisk MUI adds to a required
 * field (`Name *`), which is part of the label's text.
 */
export function label(text: string): RegExp {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[\\s\\u2009]*\\*?$`);
}
