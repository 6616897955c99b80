import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** The console: static files under /console/ on the API's own origin. */
export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  plugins: [react()],
  build: {
    outDir: 'dist/console',
    emptyOutDir: true,
    // Under the strict CSP nothing may be inlined: every asset is a file of its own.
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: true,
  },
});
