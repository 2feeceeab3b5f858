/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `make dev`: Vite serves the SPA with hot reload and forwards API and WebSocket calls to the backend.
const backend = process.env.BACKEND_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      "/chat": backend,
      "/health": backend,
      "/web/config": backend,
      "/auth": backend,
      "/staff": { target: backend, ws: true },
      "/knowledge": backend,
      "/ws": { target: backend.replace(/^http/, "ws"), ws: true },
    },
  },
  // Two pages of one project: the customer's chat (index.html) and the staff console (console.html); they
  // share the generated API types and, at build time, the React chunk.
  build: {
    outDir: "dist", emptyOutDir: true, sourcemap: false,
    rollupOptions: { input: { main: "index.html", console: "console.html" } },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test-setup.ts"],
  },
});
