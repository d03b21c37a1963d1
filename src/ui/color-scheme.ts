import { useSyncExternalStore } from 'react';
import type { Theme } from './i18n';

const DARK_QUERY = '(prefers-color-scheme: dark)';

function subscribeToSystemScheme(onChange: () => void): () => void {
  const query = window.matchMedia(DARK_QUERY);
  query.addEventListener('change', onChange);
  return () => {
    query.removeEventListener('change', onChange);
  };
}

function systemPrefersDark(): boolean {
  return window.matchMedia(DARK_QUERY).matches;
}

/**
 * The colour scheme a theme shows now: `auto` follows the system setting, live.
 *
 * NOTE: resolved here rather than with a `prefers-color-scheme` media query in widget.css, so
 * the dark palette is written once (`[data-scheme='dark']`) instead of once per selector;
 * CSS `light-dark()` would do the same but drops browsers from before 2024.
 */
export function useColorScheme(theme: Theme): 'light' | 'dark' {
  const systemDark = useSyncExternalStore(subscribeToSystemScheme, systemPrefersDark, () => false);
  if (theme !== 'auto') return theme;
  return systemDark ? 'dark' : 'light';
}
