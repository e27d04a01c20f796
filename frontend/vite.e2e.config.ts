import { defineConfig } from 'vite';

/** The end-to-end page: both editors with React and @grafana/ui bundled in (no Grafana around them). */
export default defineConfig({
  root: 'e2e',
  base: './',
  esbuild: { jsx: 'transform', jsxFactory: 'React.createElement', jsxFragment: 'React.Fragment' },
  define: { 'process.env.NODE_ENV': JSON.stringify('production') },
  logLevel: 'warn',
  build: {
    outDir: '../e2e-dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 10_000,
  },
});
