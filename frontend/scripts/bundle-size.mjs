// Gzipped bytes each page of the production build downloads (its HTML and every asset it references,
// shared chunks included): `npm run build && npm run size`. Exits 1 past the budget (the console's goal).
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "dist");
const BUDGET = { "index.html": 200_000, "console.html": 200_000 };
let over = false;
for (const [page, budget] of Object.entries(BUDGET)) {
  const html = readFileSync(path.join(dist, page), "utf8");
  const files = [page, ...new Set(html.match(/assets\/[^"']+/g) ?? [])];
  let total = 0;
  for (const f of files) {
    const bytes = gzipSync(readFileSync(path.join(dist, f)), { level: 9 }).length;
    total += bytes;
    console.log(`  ${f.padEnd(36)} ${(bytes / 1024).toFixed(1).padStart(7)} KB`);
  }
  console.log(`${page}: ${(total / 1024).toFixed(1)} KB gzipped (budget ${budget / 1000} KB)`);
  if (total > budget) over = true;
}
process.exit(over ? 1 : 0);
