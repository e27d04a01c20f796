import '@testing-library/jest-dom/vitest';

// Grafana's boot data, as the page that loads a plugin provides it: @grafana/runtime's config
// reads it once (the async query flow compares the Grafana version).
(window as unknown as { grafanaBootData: unknown }).grafanaBootData = {
  assets: { dark: '', light: '' },
  settings: { buildInfo: { version: '11.3.0', commit: 'test', env: 'production' } },
  user: {},
  navTree: [],
};

// jsdom lacks what @grafana/ui's components call at render time.
if (!window.matchMedia) {
  window.matchMedia = ((query: string) => ({
    matches: false,
    media: query,
    onchange: null,
    addListener: () => {},
    removeListener: () => {},
    addEventListener: () => {},
    removeEventListener: () => {},
    dispatchEvent: () => false,
  })) as unknown as typeof window.matchMedia;
}
if (!('ResizeObserver' in window)) {
  (window as unknown as { ResizeObserver: unknown }).ResizeObserver = class {
    observe() {}
    unobserve() {}
    disconnect() {}
  };
}
if (!('IntersectionObserver' in window)) {
  (window as unknown as { IntersectionObserver: unknown }).IntersectionObserver = class {
    observe() {}
    unobserve() {}
    disconnect() {}
    takeRecords() {
      return [];
    }
  };
}

// Unmount after every test (Vitest globals make RTL do it too; explicit is safer).
import { cleanup } from '@testing-library/react';
afterEach(() => cleanup());
