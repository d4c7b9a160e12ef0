/**
 * Debian's chromium for the browser suites: started by PID with a fresh profile and driven over CDP
 * with playwright-core, and screenshots into the run's artefacts.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { repoRoot } from "../harness/repo-root.js";

const CHROMIUM = "/usr/bin/chromium";

/** Where screenshots go: `test-artifacts/screenshots/` in the repository (gitignored, docs/testing.md). */
export const SCREENSHOT_DIR = join(repoRoot(), "test-artifacts", "screenshots");

/** Saves a full-page screenshot as `<SCREENSHOT_DIR>/<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/**
 * Starts chromium headless with a fresh profile and connects over CDP, so this suite owns the PID
 * it must stop (a browser launched by Playwright hides it).
 */
export async function launchChromium(profile: string): Promise<{ browser: Browser; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(
    CHROMIUM,
    [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--no-default-browser-check",
      `--user-data-dir=${profile}`,
      "--remote-debugging-address=127.0.0.1",
      "--remote-debugging-port=0",
      "about:blank",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const stop = async () => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    process.kill(child.pid, "SIGTERM");
    const timer = setTimeout(() => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, "SIGKILL");
    }, 5000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      let stderr = "";
      const timer = setTimeout(
        () => reject(new Error(`chromium printed no DevTools endpoint:\n${stderr}`)),
        20_000,
      );
      child.stderr?.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
        if (match?.[1] !== undefined) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.once("exit", (code) => reject(new Error(`chromium exited with ${code}:\n${stderr}`)));
    });
    const browser = await chromium.connectOverCDP(endpoint);
    return {
      browser,
      stop: async () => {
        await browser.close().catch(() => undefined);
        await stop();
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
