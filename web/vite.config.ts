import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// `make build` runs `vite build --config web/vite.config.ts`; the API serves dist/web at `/`.
// For UI work, `npx vite --config web/vite.config.ts` proxies the API of `make run`.
export default defineConfig({
  root: here('.'),
  base: '/',
  plugins: [react()],
  build: {
    outDir: here('../dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    // Everything ships in the bundle (hosts are often offline): no CDN, no remote fonts.
    assetsDir: 'assets',
  },
  server: {
    proxy: {
      '/api': { target: process.env.DOCKREV_API ?? 'http://127.0.0.1:50883', changeOrigin: false },
      '/supervisor': { target: process.env.DOCKREV_API ?? 'http://127.0.0.1:50883' },
    },
  },
});
