import { defineConfig } from "vite";

// widget.js: a tiny dependency-free loader (launcher button + iframe) built as one IIFE next to the SPA.
export default defineConfig({
  build: {
    outDir: "dist",
    emptyOutDir: false,
    lib: { entry: "src/widget/loader.ts", name: "SupportWidget", formats: ["iife"], fileName: () => "widget.js" },
  },
});
