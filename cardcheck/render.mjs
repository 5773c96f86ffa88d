// render.mjs: draws the card gallery to PNG with the Teams light and dark host
// configs in headless Chromium, for a person to look at (run by hand, not in CI).
//
//   node cardcheck/render.mjs [gallery dir]      (from the repository root)
//
// Without a directory it writes the gallery first, with the same Go test CI runs
// (CARDCHECK_GALLERY keeps its files). Pictures go to cardcheck/png/ (ignored by
// git): <n>-<card>-light.png, -dark.png (Teams desktop width) and -narrow.png
// (Teams mobile width, light). Needs Debian's chromium: apt-get install -y chromium.

import { readFileSync, mkdirSync, mkdtempSync, rmSync, existsSync, readdirSync, unlinkSync } from "node:fs";
import { join, dirname, resolve } from "node:path";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const outDir = join(here, "png");

// Teams' own surfaces around a card: the chat background and a message's width.
const themes = {
  light: { hostConfig: "hostconfigs/teams-light.json", page: "#f5f5f5", width: 600 },
  dark: { hostConfig: "hostconfigs/teams-dark.json", page: "#1f1f1f", width: 600 },
  narrow: { hostConfig: "hostconfigs/teams-light.json", page: "#f5f5f5", width: 340 },
};

function galleryDir() {
  if (process.argv[2]) return resolve(process.argv[2]);
  const dir = mkdtempSync(join(tmpdir(), "cardgallery-"));
  console.log(`writing the gallery to ${dir} (go test ./cards/ -run TestRendererCheck)`);
  const go = spawnSync("go", ["test", "./cards/", "-run", "^TestRendererCheck$", "-count=1"], {
    cwd: resolve(here, ".."), env: { ...process.env, CARDCHECK_GALLERY: dir }, encoding: "utf8",
  });
  if (!existsSync(join(dir, "manifest.json"))) {
    console.error(`the gallery was not written:\n${go.stdout}${go.stderr}`);
    process.exit(1);
  }
  if (go.status !== 0) console.warn("note: the renderer check fails on this gallery; drawing it anyway:\n" + go.stdout);
  return dir;
}

async function main() {
  if (!existsSync(chromiumPath)) {
    console.error(`${chromiumPath} not found: apt-get install -y chromium (or set CHROMIUM)`);
    process.exit(1);
  }
  const dir = galleryDir();
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
  mkdirSync(outDir, { recursive: true });
  for (const f of readdirSync(outDir)) if (f.endsWith(".png")) unlinkSync(join(outDir, f));

  const profile = mkdtempSync(join(tmpdir(), "cardcheck-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 800, height: 600 },
    deviceScaleFactor: 1,
  });
  try {
    const page = context.pages()[0] || (await context.newPage());
    // Nothing leaves the machine: the page is local and any request is refused.
    await page.route("**/*", (route) => route.request().url().startsWith("data:") ? route.continue() : route.abort());
    await page.setContent(`<!doctype html><html><head><meta charset="utf-8"><style>
      ${readFileSync(require.resolve("adaptivecards/dist/adaptivecards.css"), "utf8")}
      body { margin: 0; padding: 16px; font-family: 'Segoe UI', Tahoma, sans-serif; }
      #frame { border-radius: 6px; overflow: hidden; box-shadow: 0 1px 2px rgba(0,0,0,.2); }
      #label { font: 11px monospace; color: #888; margin-bottom: 6px; }
    </style></head><body><div id="label"></div><div id="frame"></div></body></html>`);
    await page.addScriptTag({ content: readFileSync(join(here, "node_modules/markdown-it/dist/browser/markdown-it.umd.min.js"), "utf8") });
    await page.addScriptTag({ content: readFileSync(require.resolve("adaptivecards/dist/adaptivecards.min.js"), "utf8") });

    let n = 0;
    for (const [i, entry] of manifest.cards.entries()) {
      const card = JSON.parse(readFileSync(join(dir, entry.file), "utf8"));
      for (const [theme, t] of Object.entries(themes)) {
        const hostConfig = JSON.parse(readFileSync(join(here, t.hostConfig), "utf8"));
        await page.setViewportSize({ width: t.width + 32, height: 600 });
        const problem = await page.evaluate(({ card, hostConfig, page: bg, width, label }) => {
          document.body.style.background = bg;
          document.getElementById("label").textContent = label;
          const frame = document.getElementById("frame");
          frame.style.width = width + "px";
          frame.replaceChildren();
          const ac = new AdaptiveCards.AdaptiveCard();
          ac.hostConfig = new AdaptiveCards.HostConfig(hostConfig);
          ac.parse(card);
          const el = ac.render();
          if (!el) return "rendered nothing";
          frame.appendChild(el);
          return "";
        }, { card, hostConfig, page: t.page, width: t.width, label: `${entry.name} · ${theme}` });
        if (problem) console.warn(`${entry.name} (${theme}): ${problem}`);
        const file = join(outDir, `${String(i).padStart(3, "0")}-${entry.file.replace(/^\d+-|\.json$/g, "")}-${theme}.png`);
        await page.locator("body").screenshot({ path: file });
        n++;
      }
    }
    console.log(`${n} pictures in ${outDir}`);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
