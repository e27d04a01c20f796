/// <reference types="vitest/config" />
import { defineConfig } from 'vite';

/**
 * Builds dist/module.js the way Grafana loads a plugin: one AMD module whose imports of React,
 * @grafana/* and the other shared libraries are left to Grafana (the same externals as
 * @grafana/create-plugin's webpack configuration).
 */
export const GRAFANA_EXTERNALS = [
  'react',
  'react-dom',
  'react-router',
  'react-router-dom',
  '@grafana/data',
  '@grafana/runtime',
  '@grafana/ui',
  '@grafana/schema',
  '@emotion/css',
  '@emotion/react',
  'rxjs',
  'rxjs/operators',
  'lodash',
  'moment',
];

export default defineConfig({
  // Classic JSX (React.createElement): Grafana 10.4 shares `react` with plugins, not `react/jsx-runtime`.
  esbuild: { jsx: 'transform', jsxFactory: 'React.createElement', jsxFragment: 'React.Fragment' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2020',
    copyPublicDir: false,
    modulePreload: false,
    rollupOptions: {
      input: 'src/module.ts',
      external: GRAFANA_EXTERNALS,
      preserveEntrySignatures: 'strict',
      output: { format: 'amd', exports: 'named', entryFileNames: 'module.js', inlineDynamicImports: true },
    },
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['./tests/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}', 'tests/**/*.test.{ts,tsx}'],
    css: false,
    // @grafana/ui imports CSS files from its ESM build: let Vite transform it instead of Node.
    server: { deps: { inline: [/@grafana\//] } },
    testTimeout: 20_000,
  },
});
