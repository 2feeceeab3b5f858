// Starts the real backend (free port, temp DATA_DIR, a small temp knowledge base) and Debian's Chromium
// for the browser tests; both are stopped by the tests that start them.
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, "..", "..");
export const ARTIFACTS = path.join(REPO, "test-artifacts", "browser");
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

// An article whose text carries markup that would run script if rendered as HTML.
export const XSS_ARTICLE = `# Gift card balance checks

You can check the balance of a Trailhead gift card online at any time.
<img src=x onerror="window.__xss = (window.__xss || 0) + 1; document.title = 'pwned'">
Enter the 16-digit gift card number and the 4-digit PIN on the gift card balance page. The balance
check shows the remaining gift card balance and the expiry date.
`;

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function buildKnowledgeBase(dir) {
  mkdirSync(dir, { recursive: true });
  for (const name of ["account-password-reset.md", "returns-policy.md", "shipping-options-and-costs.md"]) {
    copyFileSync(path.join(REPO, "docs", "knowledge-base", name), path.join(dir, name));
  }
  writeFileSync(path.join(dir, "gift-card-balance.md"), XSS_ARTICLE);
}

async function waitReady(baseUrl, child, deadlineMs) {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`backend exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${baseUrl}/health/readiness`);
      if (res.ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 200)); // polling readiness: there is no event to await
  }
  throw new Error("backend did not become ready");
}

/** The real FastAPI app on a free port; `stop()` terminates it and removes its data. */
export async function startBackend(extraEnv = {}) {
  const python = process.env.PYTHON ?? path.join(REPO, ".venv", "bin", "python");
  const root = mkdtempSync(path.join(tmpdir(), "widget-e2e-"));
  const kb = path.join(root, "kb");
  buildKnowledgeBase(kb);
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const logs = [];
  const child = spawn(python, ["-m", "app"], {
    cwd: path.join(REPO, "backend"),
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", DATA_DIR: path.join(root, "data"),
      KNOWLEDGE_BASE_DIR: kb, KB_AUTO_INGEST: "true", DATABASE_URL: "", REDIS_URL: "", SESSION_STORE: "memory",
      LLM_PROVIDER: "local", LOG_LEVEL: "WARNING", HF_HUB_OFFLINE: "1", TRANSFORMERS_OFFLINE: "1",
      ENVIRONMENT: "test", HEALTH_PROBE_INTERVAL_SECONDS: "0", RATE_LIMITS_ENABLED: "false", ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));  // made now: "exit" fires once
  child.stdout.on("data", (d) => logs.push(String(d)));
  child.stderr.on("data", (d) => logs.push(String(d)));
  try {
    await waitReady(baseUrl, child, 120_000);
  } catch (e) {
    child.kill("SIGKILL");
    throw new Error(`${e.message}\n${logs.join("").slice(-3000)}`);
  }
  return {
    baseUrl, logs,
    async stop() {
      // exitCode stays null when a signal ended the process, so ask both (a second stop() is a no-op).
      if (child.exitCode === null && child.signalCode === null) {
        const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
        child.kill("SIGTERM");
        await exited;
        clearTimeout(timer);
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Chromium with a fresh profile; `close()` ends it and removes the profile. */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} missing: apt-get install chromium`);
  const profile = mkdtempSync(path.join(tmpdir(), "widget-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1100, height: 800 },
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  mkdirSync(ARTIFACTS, { recursive: true });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export function shot(page, name) {
  return page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: false });
}
