#!/usr/bin/env node
// Drives the Microsoft 365 Agents Playground's web UI the way a new user would
// (type in the compose box, paste, click the card's buttons) and records what
// happened at each step: a screenshot, the text of the card, the requests the
// Playground's page sent (messages, invokes) and what came back. Our Go tests
// build invokes by hand; this is the check that the cards work when a real
// client builds them. Run by hand (see README.md); it is not part of CI.
//
//   node drive.mjs real   # the bot outside demo mode, with OAuth settings
//   node drive.mjs demo   # the bot with DEMO_MODE=true
//
// Environment: PLAYGROUND_URL (default http://127.0.0.1:56150), CHROMIUM
// (default /usr/bin/chromium), SHOTS (default ./screenshots/<mode>), ORG_URL
// (default https://dev.azure.com/fabrikam), SUMMARY (default the repository's
// summary/testdata/sprint-review.md).
//
// Exit status: 0 when every expectation held, 1 when one failed (each is
// printed as FAIL with what was seen), 2 when the run itself broke.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const mode = process.argv[2];
if (mode !== 'real' && mode !== 'demo') {
  console.error('usage: node drive.mjs real|demo');
  process.exit(2);
}
const base = (process.env.PLAYGROUND_URL || 'http://127.0.0.1:56150').replace(/\/$/, '');
const shots = path.resolve(process.env.SHOTS || path.join(here, 'screenshots', mode));
const orgURL = process.env.ORG_URL || 'https://dev.azure.com/fabrikam';
const summaryFile = process.env.SUMMARY || path.join(here, '..', '..', 'summary', 'testdata', 'sprint-review.md');
// How long the bot may take to answer a message or a click. Generous: the
// embedded database's first write can take a few seconds on a busy machine.
const answerTimeout = 30_000;

fs.mkdirSync(shots, { recursive: true });

const report = { mode, base, startedAt: new Date().toISOString(), steps: [], traffic: [], blocked: [], popups: [], consoleErrors: [] };
let failures = 0;
let stepNo = 0;

function check(ok, what, seen) {
  const line = `${ok ? 'ok  ' : 'FAIL'} ${what}${ok || seen === undefined ? '' : ` (saw: ${seen})`}`;
  console.log('   ' + line);
  report.steps.at(-1)?.checks.push(line);
  if (!ok) failures++;
  return ok;
}

function note(s) {
  console.log('   · ' + s);
  report.steps.at(-1)?.notes.push(s);
}

// ---------------------------------------------------------------- browser

const viewport = { width: 1400, height: 1000 };
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sally-pg-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

// Nothing leaves the machine: the Playground's fonts and scripts on Microsoft's
// CDN, and any sign-in page or link the Playground tries to open, are recorded
// and refused (report.blocked). Loopback stays open: the demo's work item
// links go to the bot's own fake-organization pages.
const isLoopback = u => ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
await context.route(u => !isLoopback(u), route => {
  const url = route.request().url();
  if (!/res-1\.cdn\.office\.net/.test(url)) report.blocked.push({ at: stepNo, url });
  route.abort();
});
context.on('page', p => {
  report.popups.push({ at: stepNo, url: p.url() });
  p.on('framenavigated', f => { if (f === p.mainFrame()) report.popups.push({ at: stepNo, url: f.url() }); });
});

const page = context.pages()[0] || await context.newPage();
page.on('console', m => { if (m.type() === 'error' && !/ERR_FAILED|ERR_NAME_NOT_RESOLVED/.test(m.text())) report.consoleErrors.push({ at: stepNo, text: m.text().slice(0, 500) }); });
page.on('pageerror', e => report.consoleErrors.push({ at: stepNo, text: 'uncaught: ' + String(e).slice(0, 500) }));
page.on('response', async r => {
  const req = r.request();
  if (req.method() !== 'POST' || !new URL(req.url()).pathname.startsWith('/_conversation/')) return;
  let body = '';
  try { body = await r.text(); } catch { /* the page went on */ }
  report.traffic.push({ at: stepNo, path: new URL(req.url()).pathname, request: tryJSON(req.postData()), status: r.status(), response: tryJSON(body) });
});

function tryJSON(s) {
  try { return JSON.parse(s); } catch { return s; }
}

const invokesSince = n => report.traffic.slice(n).filter(t => t.path.endsWith('/invoke'));
const submitsSince = n => report.traffic.slice(n).filter(t => t.path.endsWith('/submit'));

// cardOfInterest is the card a step's pictures and text are about: the
// summary card once there is one, else the newest card.
let cardOfInterest = () => page.locator('.ac-adaptiveCard').last();

async function step(name, fn) {
  stepNo++;
  const id = String(stepNo).padStart(2, '0');
  console.log(`${id} ${name}`);
  const s = { no: stepNo, name, checks: [], notes: [], screenshot: null, cardText: null };
  report.steps.push(s);
  try {
    await fn(s);
  } catch (e) {
    check(false, 'step ran to the end', String(e).split('\n')[0]);
  }
  await page.waitForTimeout(300);
  // Show what changed: an open panel (form, result, message) if there is one.
  const panel = formPanel(cardOfInterest());
  if (await panel.count()) await panel.evaluate(e => e.scrollIntoView({ block: 'start' })).catch(() => {});
  s.screenshot = path.join(shots, `${id}-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase().replace(/-+$/, '')}.png`);
  await page.screenshot({ path: s.screenshot, fullPage: true });
  // The chat scrolls inside its own pane, under a fixed top bar: for a second
  // picture of the whole card, the window grows to the card's height.
  const card = cardOfInterest();
  if (await card.count()) {
    const box = await card.boundingBox();
    if (box) {
      await page.setViewportSize({ width: viewport.width, height: Math.max(viewport.height, Math.ceil(box.height) + 400) });
      await page.waitForTimeout(300);
      await card.scrollIntoViewIfNeeded().catch(() => {});
      await card.screenshot({ path: s.screenshot.replace(/\.png$/, '-card.png') }).catch(() => {});
      await page.setViewportSize(viewport);
    }
    s.cardText = (await card.innerText().catch(() => '')).replace(/\n{2,}/g, '\n');
  }
}

// ---------------------------------------------------------------- chat helpers

const messages = () => page.locator('[aria-label="Message header"]');
const cards = () => page.locator('.ac-adaptiveCard');

async function openPersonalChat() {
  await page.goto(base, { waitUntil: 'networkidle' });
  await page.getByRole('treeitem', { name: 'Personal Chat' }).click();
  await page.locator('[contenteditable="true"][role="textbox"]').waitFor();
}

async function compose() {
  const box = page.locator('[contenteditable="true"][role="textbox"]');
  await box.click();
  return box;
}

// waitForNewMessages waits until the chat has `added` more messages than
// `before` (what the user sent counts as one) and then until it stops growing
// (a bot may answer with more than one message).
async function waitForNewMessages(before, added) {
  await page.waitForFunction(([n]) => document.querySelectorAll('[aria-label="Message header"]').length >= n,
    [before + added], { timeout: answerTimeout });
  let last = -1;
  for (let i = 0; i < 10; i++) {
    const now = await messages().count();
    if (now === last) break;
    last = now;
    await page.waitForTimeout(700);
  }
}

async function say(text) {
  const before = await messages().count();
  await compose();
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
  await waitForNewMessages(before, 2);
}

// paste puts text into the compose box the way Ctrl+V does (a paste event with
// the text on the clipboard), then sends it.
async function paste(text) {
  const before = await messages().count();
  const box = await compose();
  await box.evaluate((el, t) => {
    const dt = new DataTransfer();
    dt.setData('text/plain', t);
    el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  }, text);
  await page.waitForTimeout(500);
  await page.keyboard.press('Enter');
  await waitForNewMessages(before, 2);
}

const lastCard = () => cards().last();
const lastBotText = async () => (await page.locator('[aria-label="Message header"]').last().locator('xpath=..').innerText()).trim();

// clickCard clicks a button on a card and waits for the Playground's request
// (invoke for Action.Execute, submit for Action.Submit) and its answer, if
// any. It returns what was sent and answered.
async function clickCard(button) {
  const n = report.traffic.length;
  const before = await messages().count();
  await button.click();
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && report.traffic.length === n) await page.waitForTimeout(200);
  // The card is replaced in place after the answer; give the renderer a moment.
  await page.waitForTimeout(1200);
  const sent = report.traffic.slice(n);
  if (submitsSince(n).length) {
    // An Action.Submit is a message: the bot answers with a new message.
    await waitForNewMessages(before, 1).catch(() => {});
  }
  return sent;
}

// insightBlock is the innermost container of card that holds text and one of
// the insight's action buttons.
// The insight's own text must start its text block: results of other
// insights quote work item titles ("Commented on Task 1: Reproduce ...").
// The block holds the insight's buttons, then its open panel if any.
function insightBlock(card, text) {
  const anchored = new RegExp('^\\s*' + text.source, text.flags);
  return card.locator('.ac-textBlock').filter({ hasText: anchored }).first()
    .locator('xpath=ancestor::div[contains(concat(" ", @class, " "), " ac-container ")][.//button][1]');
}

// watchPanels records, every 100 ms, which panel headings the page shows, so
// a panel that appears and is then replaced (by the bot's card update for
// everyone) is seen even though the step ends without it.
async function watchPanels(headings) {
  await page.evaluate(hs => {
    clearInterval(window.__sallyWatch);
    window.__sallySeen = [];
    const t0 = Date.now();
    window.__sallyWatch = setInterval(() => {
      const text = [...document.querySelectorAll('.ac-adaptiveCard')].map(c => c.innerText).join('\n');
      const now = hs.filter(h => text.includes(h)).join(',') || '-';
      const seen = window.__sallySeen;
      if (!seen.length || seen.at(-1).shown !== now) seen.push({ ms: Date.now() - t0, shown: now });
    }, 100);
  }, headings);
}
async function panelHistory() {
  return page.evaluate(() => { clearInterval(window.__sallyWatch); return window.__sallySeen.map(x => `${x.ms}ms:${x.shown}`).join(' → '); });
}

// formPanel is the in-place panel (form, result or message) of a summary card:
// the innermost container with a Cancel button.
function formPanel(card) {
  return card.locator('.ac-container').filter({ has: page.getByRole('button', { name: 'Cancel', exact: true }) }).last();
}

async function buttonTitles(card) {
  return card.getByRole('button').evaluateAll(bs => bs.map(b => b.getAttribute('title') || b.innerText.trim()));
}

async function validationErrors(card) {
  // The renderer shows a required input's errorMessage under the input.
  return card.locator('.ac-input-validation-failed, [class*="validation"], [role="alert"]').evaluateAll(es => es.map(e => e.innerText.trim()).filter(Boolean))
    .then(async found => found.length ? found : (await card.innerText()).split('\n').filter(l => /^(Paste|Enter|Choose|Type|Please)\b/.test(l.trim())));
}

// selectLabels lists the labels of scope's drop-downs, in order. The
// Playground renders a compact Input.ChoiceSet as a Fluent combobox (an
// input with role combobox, its options in a pop-up list), labelled by a
// <label for> above it; a required one's label ends in " *".
async function selectLabels(scope) {
  return scope.locator('input[role="combobox"]').evaluateAll(is => is.map(i =>
    (document.querySelector(`label[for="${i.id}"]`)?.innerText || '').replace(/\s*\*\s*$/, '').trim()));
}

async function selectFor(scope, label) {
  const labels = await selectLabels(scope);
  const i = label instanceof RegExp ? labels.findIndex(l => label.test(l)) : labels.indexOf(label);
  return i < 0 ? null : scope.locator('input[role="combobox"]').nth(i);
}

// chooseOption opens the drop-down labelled label and clicks the first
// option whose text matches re, as a person does; it returns the option's
// text, or null (the list closed again) when there is none.
async function chooseOption(scope, label, re) {
  const box = await selectFor(scope, label);
  if (!box) return null;
  await box.click();
  const options = page.getByRole('option');
  await options.first().waitFor({ timeout: 5000 }).catch(() => {});
  const texts = await options.allInnerTexts();
  const i = texts.findIndex(t => re.test(t.trim()));
  if (i < 0) { await page.keyboard.press('Escape'); return null; }
  await options.nth(i).click();
  await page.waitForTimeout(200);
  return texts[i].trim();
}

// optionsOf lists the drop-down's choices (opening and closing its list).
async function optionsOf(scope, label) {
  const box = await selectFor(scope, label);
  if (!box) return [];
  await box.click();
  await page.getByRole('option').first().waitFor({ timeout: 5000 }).catch(() => {});
  const texts = (await page.getByRole('option').allInnerTexts()).map(t => t.trim());
  await page.keyboard.press('Escape');
  return texts;
}

async function selectedText(scope, label) {
  const box = await selectFor(scope, label);
  return box ? box.inputValue() : null;
}

// answerPanel finds, in the card an invoke was answered with, the in-place
// panel whose heading is heading, and returns its texts (one a line) and its
// Open links. It is what the person who clicked was sent: the shared update
// of the card for everyone may replace it on screen a moment later (the race
// the "panel stays" checks above know about).
function answerPanel(t, heading) {
  const card = t?.response?.value;
  let found = null;
  const walk = n => {
    if (found || !n || typeof n !== 'object') return;
    if (Array.isArray(n)) { n.forEach(walk); return; }
    if (n.type === 'Container' && Array.isArray(n.items) && n.items.some(i => i?.type === 'TextBlock' && i.text === heading && i.style === 'heading')) { found = n; return; }
    Object.values(n).forEach(walk);
  };
  walk(card);
  const texts = [], opens = [];
  const collect = n => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) { n.forEach(collect); return; }
    if (n.type === 'TextBlock' && typeof n.text === 'string') texts.push(n.text.replace(/\*\*/g, ''));
    if (n.type === 'Action.OpenUrl') opens.push({ title: n.title, url: n.url });
    Object.values(n).forEach(collect);
  };
  collect(found);
  return found ? { text: texts.join('\n'), opens } : null;
}

// insightLine is what the plain summary card's text says about one insight:
// from its text to its buttons (its results are in between).
function insightLine(cardText, re) {
  const lines = cardText.split('\n');
  const anchored = new RegExp('^\\s*' + re.source, re.flags);
  const i = lines.findIndex(l => anchored.test(l));
  if (i < 0) return '';
  const end = lines.findIndex((l, j) => j > i && l.trim() === 'Add comment');
  return lines.slice(i, end < 0 ? undefined : end + 1).join('\n');
}

const createdIDs = text => [...new Set((text.match(/Created [A-Z][A-Za-z ]*? \d+/g) || []))];

function describeInvoke(t) {
  const r = t.response;
  const type = r && typeof r === 'object' ? r.type : undefined;
  const data = t.request?.value?.action?.data;
  return `${t.path} verb=${t.request?.value?.action?.verb} data=${JSON.stringify(data)} -> ${t.status} ${type || JSON.stringify(r).slice(0, 200)}`;
}

// ---------------------------------------------------------------- flows

async function realFlow() {
  await step('open personal chat', async () => {
    await openPersonalChat();
    check(true, 'Playground loaded and Personal Chat opened');
  });

  await step('type connect devops with the organization', async () => {
    await say(`connect devops ${orgURL}`);
    const text = await lastCard().innerText();
    check(/Sign in to Azure DevOps/.test(text), 'the sign-in card is shown', text.slice(0, 200));
    check(await signInButton().count() >= 1, 'it has a Sign in button');
  });

  await step('click Sign in', async () => {
    // Toward the Playground the bot makes Sign in an Action.OpenUrl to
    // Microsoft's sign-in page (the Playground ignores a loginRequest): the
    // click must open or request that page, with or without an invoke.
    const n = report.traffic.length;
    const b = report.blocked.length;
    const p = report.popups.length;
    const popup = context.waitForEvent('page', { timeout: 5000 }).catch(() => null);
    await clickCard(signInButton());
    await popup;
    await new Promise(r => setTimeout(r, 500));
    const inv = invokesSince(n);
    for (const t of inv) note('invoke: ' + describeInvoke(t));
    const signIn = signInURLs(b, p, inv);
    check(signIn.length > 0, 'the Playground opens or requests the sign-in URL', inv.length ? `answer ${inv[0].response?.type}, no popup, no request` : 'no popup, no request');
    for (const u of signIn) note('sign-in URL requested: ' + u);
  });

  return codeSteps();
}

// signInButton is the card's Sign in action, a push button or (an
// Action.OpenUrl) the text of one.
function signInButton() {
  const card = lastCard();
  return card.getByRole('button', { name: 'Sign in', exact: true }).or(card.getByText(/^Sign in$/)).first();
}

async function codeSteps() {
  await step('type code XXXX-XXXX in the chat', async () => {
    await say('code ABCD-EFGH');
    const text = await lastBotText();
    check(/code is not valid|not valid|expired/i.test(text), 'the typed code is handled (refused as not valid)', text.slice(0, 300));
    note('the bot answered: ' + text.replace(/\s+/g, ' ').slice(0, 300));
  });

  await step('click Finish connecting with a wrong code', async () => {
    const n = report.traffic.length;
    // The newest sign-in card is the one from "connect devops"; the answer to
    // "code ..." above may itself be a card, so look the button up by name.
    const all = await cards().evaluateAll(cs => cs.map(c => c.innerText.includes('Finish connecting')));
    const idx = all.lastIndexOf(true);
    if (idx < 0) { note('no card with Finish connecting is left'); return; }
    // The card is replaced in place: follow it by its position in the chat.
    const card = cards().nth(idx);
    await card.locator('input').first().fill('WXYZ-1234');
    await clickCard(card.getByRole('button', { name: 'Finish connecting' }));
    const inv = invokesSince(n);
    for (const t of inv) note('invoke: ' + describeInvoke(t));
    check(inv.length === 1, 'Finish connecting sends an invoke');
    const text = await cards().nth(idx).innerText();
    note('the card now says: ' + text.replace(/\s+/g, ' ').slice(0, 300));
    check(/not valid|expired/i.test(text), 'the wrong code is refused in place', text.slice(0, 300));
  });
}

// signInURLs lists sign-in pages the Playground opened or tried to load since
// the given marks.
function signInURLs(blockedMark, popupMark) {
  const isSignIn = u => /login\.microsoftonline\.com|\/oauth2\/|authorize/.test(u);
  return [...report.blocked.slice(blockedMark).map(x => x.url), ...report.popups.slice(popupMark).map(x => x.url)].filter(isSignIn);
}

async function demoFlow() {
  const summaryText = fs.readFileSync(summaryFile, 'utf8');
  // Three insights of the sample, matched without case: the bot capitalises
  // an action item's text once the "@owner:" in front is gone.
  const first = /reproduce the Android 13 login loop/i; // a task with an owner
  const second = /update the release notes for 4\.2/i; // another task
  const third = /drop the in-app survey/i; // a decision
  const hasAll = (text, ...res) => res.every(re => re.test(text));

  await step('open personal chat', async () => {
    await openPersonalChat();
    check(true, 'Playground loaded and Personal Chat opened');
  });

  await step('type connect devops', async () => {
    await say('connect devops');
    const text = await lastBotText();
    note('the bot answered: ' + text.replace(/\s+/g, ' ').slice(0, 300));
    check(/connected|demo/i.test(text), 'demo mode connects at once', text.slice(0, 200));
  });

  let summaryCount = 0;
  await step('paste the sample summary', async () => {
    await paste(summaryText);
    const card = lastCard();
    const text = await card.innerText();
    check(hasAll(text, first, second, third), 'the summary card lists the insights', text.slice(0, 300));
    summaryCount = await card.getByRole('button', { name: 'Create work item' }).count();
    note(`${summaryCount} Create work item buttons, ${await card.getByRole('button', { name: 'Add comment' }).count()} Add comment buttons`);
    check(summaryCount >= 3, 'every insight has Create work item', summaryCount);
  });

  const summaryCard = () => cards().filter({ hasText: first }).last();
  cardOfInterest = summaryCard;

  await step('click Create work item under an action item', async () => {
    const sent = await clickCard(insightBlock(summaryCard(), first).getByRole('button', { name: 'Create work item' }).first());
    for (const t of sent) note('sent: ' + describeInvoke(t));
    check(invokesSince(report.traffic.length - sent.length).length === 1, 'the click sends an invoke');
    const card = summaryCard();
    const text = await card.innerText();
    check(/Title/i.test(text), 'a form with a title field opens in place', text.slice(0, 300));
    check(hasAll(text, second, third), 'the summary around the form is still there');
    note('form fields: ' + (await card.locator('input, select, textarea').evaluateAll(es => es.map(e => `${e.getAttribute('aria-label') || e.id || e.tagName}=${JSON.stringify(e.value)}`))).join(', '));
    note('buttons: ' + (await buttonTitles(card)).join(' | '));
  });

  await step('fill and submit the create form', async () => {
    const panel = formPanel(summaryCard());
    // Fill only what is empty: the form's defaults are part of what is tested.
    const title = panel.locator('input[type="text"], input:not([type])').first();
    if (!(await title.inputValue())) await title.fill('Reproduce the Android 13 login loop');
    note('form buttons: ' + (await buttonTitles(panel)).join(' | '));
    // The form's own submit, inside the panel, has the same title as every
    // insight's button: the panel is the only place to tell them apart.
    const target = panel.getByRole('button', { name: 'Create work item', exact: true });
    await watchPanels(['Work item created', 'Create a work item']);
    const sent = await clickCard(target);
    for (const t of sent) note('sent: ' + describeInvoke(t));
    check(sent.some(t => t.request?.value?.action?.verb === 'create.submit'), 'the form is submitted (verb create.submit)');
    note('panels over time: ' + await panelHistory());
    const answered = sent.find(t => t.request?.value?.action?.verb === 'create.submit');
    if (answered) note('the invoke answer ' + (JSON.stringify(answered.response).includes('Work item created') ? 'has' : 'has no') + ' a "Work item created" panel');
    check(/Work item created/.test(await summaryCard().innerText()), 'the "Work item created" panel stays for the person who clicked');
    const after = summaryCard();
    const text = await after.innerText();
    check(/created/i.test(text), 'the result shows in place', text.slice(0, 400));
    const left = await after.getByRole('button', { name: 'Create work item' }).count();
    note(`${left} Create work item buttons left (was ${summaryCount})`);
    check(left >= summaryCount - 1, 'the other insights keep their buttons', `${left} of ${summaryCount}`);
    check(hasAll(text, second, third), 'the other insights are still on the card');
  });

  await step('click Open on the created work item', async () => {
    // An Action.OpenUrl: its title is the button's text (role aside).
    const link = summaryCard().getByText(/^Open (Task|Bug) \d+$/).first();
    if (!(await link.count())) { check(false, 'the result has an Open link', (await buttonTitles(summaryCard())).slice(0, 12).join(' | ')); return; }
    const popup = context.waitForEvent('page', { timeout: 5000 }).catch(() => null);
    const b = report.blocked.length;
    await link.click();
    const p = await popup;
    if (p) {
      await p.waitForLoadState('domcontentloaded').catch(() => {});
      await p.waitForTimeout(500);
      const url = p.url();
      note('a window opened at ' + url + ' titled ' + JSON.stringify(await p.title().catch(() => '')));
      await p.screenshot({ path: path.join(shots, `${String(stepNo).padStart(2, '0')}-opened-page.png`) }).catch(() => {});
      check(isLoopback(new URL(url)), 'the demo link opens the bot\'s fake organization, not dev.azure.com', url);
      await p.close();
    } else {
      check(false, 'clicking the link opens a window', report.blocked.slice(b).map(x => x.url).join(' ') || 'nothing');
    }
  });

  await step('click Create work item again on the same insight', async () => {
    const block = insightBlock(summaryCard(), first);
    let again = block.getByRole('button', { name: 'Create work item' }).first();
    const close = formPanel(summaryCard()).getByRole('button', { name: 'Cancel', exact: true });
    if (!(await again.count()) && await close.count()) {
      // While its result panel is open, the insight's own buttons are hidden:
      // close the panel first, as a person would.
      note('the insight\'s buttons are hidden under its open result; clicking the panel\'s Cancel first');
      await clickCard(close);
      again = insightBlock(summaryCard(), first).getByRole('button', { name: 'Create work item' }).first();
    }
    if (!(await again.count())) {
      note('the insight has no Create work item button any more; buttons there: ' + (await buttonTitles(block)).join(' | '));
      check(false, 'Create can be clicked again on the same insight', 'button gone');
      return;
    }
    const sent = await clickCard(again);
    for (const t of sent) note('sent: ' + describeInvoke(t));
    const text = await summaryCard().innerText();
    check(/You already did this/i.test(text), '"You already did this" is shown', text.slice(0, 400));
  });

  await step('click Add comment on another insight', async () => {
    const sent = await clickCard(insightBlock(summaryCard(), second).getByRole('button', { name: 'Add comment' }).first());
    for (const t of sent) note('sent: ' + describeInvoke(t));
    const card = summaryCard();
    const text = await card.innerText();
    check(/work item/i.test(text) && /comment/i.test(text), 'a comment form opens in place', text.slice(0, 300));
    note('form fields: ' + (await card.locator('input, select, textarea').evaluateAll(es => es.map(e => `${e.getAttribute('aria-label') || e.id || e.tagName}=${JSON.stringify(e.value)}`))).join(', '));
    note('buttons: ' + (await buttonTitles(card)).join(' | '));
  });

  await step('enter work item 1 and submit the comment', async () => {
    const panel = formPanel(summaryCard());
    // A person who knows the number types it into the "Work item ID" field;
    // the Playground does not run typeahead search (one of its limitations).
    const id = panel.locator('input[aria-label="123 or #123"], input[placeholder="123 or #123"]').first();
    const field = (await id.count()) ? id : panel.locator('input').nth(1);
    await field.fill('1');
    note('form buttons: ' + (await buttonTitles(panel)).join(' | '));
    const panelSubmit = panel.getByRole('button', { name: 'Add comment', exact: true });
    await watchPanels(['Comment added', 'Add a comment to a work item']);
    const sent = await clickCard(panelSubmit);
    note('panels over time: ' + await panelHistory());
    check(/Comment added/.test(await summaryCard().innerText()), 'the "Comment added" panel stays for the person who clicked');
    check(sent.some(t => t.request?.value?.action?.verb === 'comment.submit' && /1/.test(JSON.stringify(t.request.value.action.data))), 'the comment is submitted with work item 1', sent.map(describeInvoke).join('; '));
    for (const t of sent) note('sent: ' + describeInvoke(t));
    const text = await summaryCard().innerText();
    check(/comment/i.test(text) && /(added|1)/i.test(text), 'the comment result shows in place', text.slice(0, 400));
    check(hasAll(text, first, third), 'the other insights are still on the card');
  });

  await step('open a form on a third insight', async () => {
    const sent = await clickCard(insightBlock(summaryCard(), third).getByRole('button', { name: 'Create work item' }).first());
    for (const t of sent) note('sent: ' + describeInvoke(t));
    const cancel = formPanel(summaryCard()).getByRole('button', { name: 'Cancel', exact: true });
    check(await cancel.count() === 1, 'the form has a Cancel button', await cancel.count());
  });

  await step('click Cancel', async () => {
    const cancel = formPanel(summaryCard()).getByRole('button', { name: 'Cancel', exact: true });
    if (!(await cancel.count())) { check(false, 'there is a Cancel to click'); return; }
    const sent = await clickCard(cancel);
    for (const t of sent) note('sent: ' + describeInvoke(t));
    const card = summaryCard();
    const text = await card.innerText();
    check(!(await card.getByRole('button', { name: 'Cancel' }).count()), 'Cancel closes the form');
    check(hasAll(text, first, second, third), 'the plain summary is back');
    check(/Created Task \d+/.test(text) && /Commented on/.test(text), 'what was done stays on the card', text.slice(0, 300));
    const after = await card.getByRole('button', { name: 'Create work item' }).count();
    check(after === summaryCount, 'every insight has its Create button again', `${after} of ${summaryCount}`);
  });

  await step('paste the same summary again', async () => {
    // "No double entry" must hold for a re-paste of the same text in the same
    // chat: the new card is the first summary, with what was already done.
    const n = await cards().count();
    await paste(summaryText);
    check(await cards().count() === n + 1, 'a new summary card is posted');
    const text = await cards().last().innerText();
    check(/Created Task \d+/.test(text), 'it shows the work item created from the first paste', text.slice(0, 300));
  });

  await step('click Create work item on the same insight of the re-pasted summary', async () => {
    await clickCard(insightBlock(summaryCard(), first).getByRole('button', { name: 'Create work item' }).first());
    const panel = formPanel(summaryCard());
    const submit = panel.getByRole('button', { name: 'Create work item', exact: true });
    if (await submit.count()) {
      note('a new create form opened; submitting it as it is');
      await clickCard(submit);
    }
    const text = await summaryCard().innerText();
    const made = text.match(/Created (Task|Bug) \d+/g) || [];
    note('the card says: ' + [...new Set(made)].join(', '));
    check(/already did this/i.test(text) && !/Created (Task|Bug) 2\b/.test(text), 'no second work item for the same insight', [...new Set(made)].join(', '));
  });

  // ------------------------------------------------ Create all tasks
  // On the re-pasted summary: its first task has a work item already (the
  // steps above), so the form offers the others and lists that one as done.
  const allTasksButton = () => summaryCard().getByRole('button', { name: /^Create all tasks \(\d+\)$/ });
  const closePanel = async () => {
    const close = formPanel(summaryCard()).getByRole('button', { name: 'Cancel', exact: true });
    if (await close.count()) await clickCard(close.first());
  };
  // rowsOf lists the form's items: their heading ("1. text"), whether they
  // have a "Create this item" box, and what the item says.
  const rowsOf = panel => panel.locator('.ac-textBlock').evaluateAll(ts => ts
    .filter(t => /^\d+\.\s/.test(t.innerText.trim()))
    .map(t => {
      let box = t.parentElement;
      while (box && !box.matches('.ac-container')) box = box.parentElement;
      return { heading: t.innerText.trim(), editable: !!box?.querySelector('input[type="checkbox"]'), text: box?.innerText || '' };
    }));
  const firstMade = { id: '' }; // the work item the single form made for the first task
  let offered = 0;
  let unchecked = '';

  await step('click Create all tasks on the summary', async () => {
    await closePanel();
    const before = await summaryCard().innerText();
    firstMade.id = (insightLine(before, first).match(/Created (Task|Bug) \d+/) || [''])[0];
    note('the first task already has: ' + (firstMade.id || 'nothing'));
    const button = allTasksButton();
    if (!(await button.count())) { check(false, 'the summary has a "Create all tasks (N)" button', (await buttonTitles(summaryCard())).slice(0, 6).join(' | ')); return; }
    const title = (await button.first().innerText()).trim();
    offered = Number(title.match(/\((\d+)\)/)[1]);
    note('the button says ' + title);
    const sent = await clickCard(button.first());
    for (const t of sent) note('sent: ' + describeInvoke(t));
    check(sent.some(t => t.request?.value?.action?.data?.sally === 'alltasks'), 'the click sends the alltasks invoke', sent.map(describeInvoke).join('; '));
    const card = summaryCard();
    const panel = formPanel(card);
    const ptext = await panel.innerText().catch(() => '');
    check(/^Create all tasks$/m.test(ptext) && await panel.getByRole('button', { name: 'Create selected', exact: true }).count() === 1,
      'the form opens in place with Create selected', ptext.slice(0, 300));
    // In place under the first task: the nearest insight above the form is the first task.
    const panelTop = (await panel.boundingBox())?.y ?? -Infinity;
    const tops = {};
    for (const [name, re] of Object.entries({ first, second, third })) {
      tops[name] = (await card.locator('.ac-textBlock').filter({ hasText: new RegExp('^\\s*' + re.source, re.flags) }).first().boundingBox())?.y ?? null;
    }
    const above = Object.entries(tops).filter(([, y]) => y !== null && y < panelTop).sort((a, b) => b[1] - a[1]);
    check(above[0]?.[0] === 'first', 'the form hangs under the first task', JSON.stringify({ panelTop, ...tops }));
    check(hasAll(await card.innerText(), second, third), 'the rest of the summary stays around it');
    const rows = await rowsOf(panel);
    note('items: ' + rows.map(r => `${r.heading.slice(0, 40)} [${r.editable ? 'to do' : r.text.split('\n').filter(l => /Already|Created/.test(l)).join(' ')}]`).join(' · '));
    check(rows.filter(r => r.editable).length === offered, `the form offers the ${offered} items the button counted`, rows.filter(r => r.editable).length);
    const done = rows.find(r => first.test(r.heading));
    check(!!done && !done.editable && (!firstMade.id || done.text.includes(firstMade.id.replace(/^Created /, ''))),
      'the first task is listed as already created, with its existing work item', done?.text.slice(0, 200));
    note('shared fields: ' + (await selectLabels(panel)).join(', '));
  });

  await step('uncheck one item and submit Create selected', async () => {
    const panel = formPanel(summaryCard());
    if (!(await panel.getByRole('button', { name: 'Create selected', exact: true }).count())) { check(false, 'the form is open'); return; }
    // Area and Iteration come with the project; if not, load them as a person would.
    if (!(await selectFor(panel, 'Area')) || !(await selectFor(panel, 'Iteration'))) {
      note('no Area/Iteration yet: clicking Load choices');
      await clickCard(panel.getByRole('button', { name: 'Load choices', exact: true }));
    }
    const p = formPanel(summaryCard());
    note(`project ${await selectedText(p, 'Project')}, area ${await selectedText(p, 'Area')}, iteration ${await selectedText(p, 'Iteration')}`);
    const boxes = p.getByRole('checkbox');
    const n = await boxes.count();
    const states = await boxes.evaluateAll(bs => bs.map(b => b.checked));
    note(`${n} "Create this item" boxes, checked: ${states.join(',')}`);
    check(n > 1 && states.every(Boolean), 'every offered item starts checked', states.join(','));
    for (let i = 0; i < n; i++) if (!states[i]) await boxes.nth(i).check();
    const rows = (await rowsOf(p)).filter(r => r.editable);
    unchecked = rows.at(-1)?.heading.replace(/^\d+\.\s*/, '') || '';
    await boxes.nth(n - 1).uncheck();
    note('unchecked: ' + unchecked);
    // An owner the project's team does not know leaves Responsible user
    // empty, with a note: a person picks someone there.
    const labels = await selectLabels(p);
    const owners = labels.map((l, i) => l === 'Responsible user' ? i : -1).filter(i => i >= 0);
    for (let k = 0; k < owners.length && k < n - 1; k++) {
      const combo = p.locator('input[role="combobox"]').nth(owners[k]);
      if (await combo.inputValue()) continue;
      await combo.click();
      await page.getByRole('option').first().waitFor({ timeout: 5000 }).catch(() => {});
      const who = (await page.getByRole('option').first().innerText().catch(() => '')).trim();
      if (who) await page.getByRole('option').first().click(); else await page.keyboard.press('Escape');
      note(`${rows[k]?.heading.slice(0, 40)}: no responsible user was filled in (${rows[k]?.text.split('\n').filter(l => /team|match|owner/i.test(l)).join(' ') || 'no note'}); picked ${who || 'nobody'}`);
    }
    await watchPanels(['Create selected', ' created · ', 'Creating ']);
    const sent = await clickCard(p.getByRole('button', { name: 'Create selected', exact: true }));
    note('panels over time: ' + await panelHistory());
    const sub = sent.find(t => t.request?.value?.action?.data?.sally === 'alltasks.submit');
    check(!!sub, 'the form is submitted (alltasks.submit)', sent.map(describeInvoke).join('; '));
    const answer = answerPanel(sub, 'Create all tasks');
    const onScreen = await formPanel(summaryCard()).innerText().catch(() => '');
    note(/ created/.test(onScreen) ? 'the result panel is on screen' : 'the result panel is not on screen (replaced by the card update for everyone); checking the invoke answer');
    const text = answer?.text || '';
    const made = createdIDs(text);
    note('the answer says: ' + text.split('\n').filter(l => /created|Created|Not created/.test(l)).join(' | ').slice(0, 700));
    check(new RegExp(`^${offered - 1} created · 1 already existed$`, 'm').test(text), `the answer counts ${offered - 1} created, 1 already existed`, text.split('\n').slice(0, 3).join(' | '));
    check(made.length === offered - 1, `it lists ${offered - 1} created work items`, made.join(', '));
    const opens = answer?.opens || [];
    note('links: ' + opens.map(o => `${o.title} ${o.url}`).join(', '));
    check(opens.length === offered && opens.every(o => isLoopback(new URL(o.url))) && made.every(m => opens.some(o => o.title === m.replace(/^Created/, 'Open'))),
      `each created item (and the first task's) has an Open link to the demo organization: ${offered}`, opens.map(o => o.title).join(', '));
    const left = text.split('\n').findIndex(l => l.replace(/^\d+\.\s*/, '') === unchecked);
    const leftText = left < 0 ? '' : text.split('\n').slice(left, left + 3).join(' ');
    check(left >= 0 && !/Created |Not created/.test(leftText), 'the unchecked item was not created', leftText.slice(0, 200));
    check(!made.includes(firstMade.id) && (!firstMade.id || text.includes('Already created by you: ' + firstMade.id.replace(/^Created /, ''))),
      'no second work item for the task created earlier', made.join(', '));
  });

  let createdByAll = [];
  await step('close the form: the summary shows what was created', async () => {
    await closePanel();
    const card = summaryCard();
    const text = await card.innerText();
    createdByAll = createdIDs(text);
    note('the card says: ' + createdByAll.join(', '));
    check(createdByAll.length === offered, `the card shows ${offered} created work items (first task plus the ${offered - 1} new)`, createdByAll.join(', '));
    const leftLine = insightLine(text, new RegExp(unchecked.slice(0, 30).replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i'));
    check(leftLine !== '' && !/Created /.test(leftLine), 'the unchecked item shows no work item', leftLine.slice(0, 200));
    const title = (await allTasksButton().first().innerText().catch(() => '')).trim();
    check(title === 'Create all tasks (1)', 'the button now counts the one left', title || 'no button');
  });

  await step('click Create all tasks again', async () => {
    if (!(await allTasksButton().count())) { check(false, 'the button is there'); return; }
    await clickCard(allTasksButton().first());
    const panel = formPanel(summaryCard());
    const rows = await rowsOf(panel);
    const todo = rows.filter(r => r.editable);
    note('offered now: ' + todo.map(r => r.heading).join(' · '));
    check(todo.length === 1 && todo[0].heading.includes(unchecked), 'only the item left is offered', todo.map(r => r.heading).join(' · '));
    check(rows.filter(r => /Already created by you/.test(r.text)).length === offered, `the ${offered} others are listed as already created by you`, rows.map(r => r.text.split('\n')[1] || '').join(' | ').slice(0, 400));
    const sent = await clickCard(panel.getByRole('button', { name: 'Create selected', exact: true }));
    const text = answerPanel(sent.find(t => t.request?.value?.action?.data?.sally === 'alltasks.submit'), 'Create all tasks')?.text || '';
    check(new RegExp(`^1 created · ${offered} already existed$`, 'm').test(text), 'creating it says 1 created', text.split('\n').slice(0, 3).join(' | '));
    await closePanel();
    const card = await summaryCard().innerText();
    const all = createdIDs(card);
    note('the card now says: ' + all.join(', '));
    check(all.length === offered + 1 && createdByAll.every(x => all.includes(x)), 'one more work item, the earlier ones unchanged', all.join(', '));
    check(!(await allTasksButton().count()), 'nothing is left: the Create all tasks button is gone', await allTasksButton().first().innerText().catch(() => ''));
  });

  // ------------------------------------------------ chat defaults
  const chosen = {};
  const defaultsCard = () => cards().filter({ hasText: 'Form defaults for this chat' }).last();
  await step('type defaults', async () => {
    await say('defaults');
    const card = defaultsCard();
    const text = await card.innerText().catch(() => '');
    check(/Form defaults for this chat/.test(text), 'the chat defaults card appears', (await lastBotText()).slice(0, 200));
    check(await card.getByRole('button', { name: 'Save for this chat' }).count() === 1, 'it has Save for this chat');
    note('drop-downs: ' + (await selectLabels(card)).join(', '));
  });

  await step('choose area, iteration, type and Save for this chat', async () => {
    const card = defaultsCard();
    // The card opens on the person's project with its areas and iterations
    // loaded. It stays on that project: after Load choices for another
    // project the Playground keeps showing the old project's areas and
    // iterations (its combobox does not take new choices from the updated
    // card, although the bot's answer has them), so another project's area
    // could not be picked here as it can in Teams.
    chosen.project = await selectedText(card, 'Project');
    chosen.area = await chooseOption(card, 'Area', /\\Android$|\\Backend$/);
    chosen.iteration = await chooseOption(card, 'Iteration', /Sprint 4$/);
    chosen.type = await chooseOption(card, 'Work item type', /^Bug$/);
    note('chosen: ' + JSON.stringify(chosen));
    check(!!(chosen.project && chosen.area && chosen.iteration && chosen.type), 'a project, area, iteration and type can be chosen', JSON.stringify(chosen));
    const sent = await clickCard(card.getByRole('button', { name: 'Save for this chat', exact: true }));
    for (const t of sent) note('sent: ' + describeInvoke(t));
    const text = await defaultsCard().innerText();
    const saved = text.split('\n').find(l => /^Saved\./.test(l)) || '';
    check(saved.includes('Project ' + chosen.project) && saved.includes('Area ' + chosen.area) && saved.includes('Iteration ' + chosen.iteration) && saved.includes('Type Bug'),
      'the card says what was saved', saved || text.slice(0, 300));
  });

  await step('type status', async () => {
    await say('status');
    const texts = await page.locator('[aria-label="Message header"]').evaluateAll(hs => hs.slice(-4).map(h => h.parentElement.innerText));
    const line = texts.find(t => /defaults/i.test(t)) || '';
    note('status said: ' + texts.map(t => t.replace(/\s+/g, ' ').slice(0, 200)).join(' || '));
    check(line.includes('Project ' + chosen.project) && line.includes('Area ' + chosen.area) && line.includes('Iteration ' + chosen.iteration) && line.includes('Type Bug'), 'status shows the chat\'s defaults', line.replace(/\s+/g, ' ').slice(0, 300));
  });

  await step('open a create form: it starts from the chat defaults', async () => {
    await closePanel();
    const sent = await clickCard(insightBlock(summaryCard(), third).getByRole('button', { name: 'Create work item' }).first());
    for (const t of sent) note('sent: ' + describeInvoke(t));
    const panel = formPanel(summaryCard());
    const got = { project: await selectedText(panel, 'Project'), type: await selectedText(panel, 'Work item type'), area: await selectedText(panel, 'Area'), iteration: await selectedText(panel, 'Iteration') };
    note('the form starts with ' + JSON.stringify(got) + '; labels: ' + (await selectLabels(panel)).join(', '));
    // The person's own last choices (the forms above) were Task, the
    // project's root area and Sprint 3: the form must start from the chat's.
    check(got.project === chosen.project, 'the form\'s project is the chat default', got.project);
    check(got.type === 'Bug', 'the form\'s type is the chat default', got.type);
    check(got.area === chosen.area, 'the form\'s area is the chat default', got.area);
    check(got.iteration === chosen.iteration, 'the form\'s iteration is the chat default', got.iteration);
  });

  // ------------------------------------------------ a custom type
  await step('change the type to Customer Request and Load choices', async () => {
    let panel = formPanel(summaryCard());
    const t = await chooseOption(panel, 'Work item type', /^Customer Request$/);
    check(t === 'Customer Request', 'the form offers the custom type Customer Request', t);
    check(!(await selectFor(panel, /^Severity/)), 'no Severity before Load choices');
    await clickCard(panel.getByRole('button', { name: 'Load choices', exact: true }));
    panel = formPanel(summaryCard());
    const labels = await selectLabels(panel);
    note('drop-downs now: ' + labels.join(', '));
    check(await selectedText(panel, 'Work item type') === 'Customer Request', 'the type stays Customer Request');
    const opts = await optionsOf(panel, /^Severity/);
    note('Severity offers: ' + opts.join(', '));
    check(opts.some(o => /2 - High/.test(o)), 'the Severity choice appears with its allowed values', labels.join(', '));
  });

  await step('choose a Severity and submit the custom type', async () => {
    const panel = formPanel(summaryCard());
    const sev = await chooseOption(panel, /^Severity/, /2 - High/);
    note('severity: ' + sev);
    const sent = await clickCard(panel.getByRole('button', { name: 'Create work item', exact: true }));
    const sub = sent.find(t => t.request?.value?.action?.verb === 'create.submit');
    note('sent: ' + (sub ? describeInvoke(sub) : sent.map(describeInvoke).join('; ')));
    check(!!sub && /2 - High/.test(JSON.stringify(sub.request.value.action.data)), 'the submit carries the severity', sub ? JSON.stringify(sub.request.value.action.data).slice(0, 300) : 'no submit');
    await page.waitForTimeout(1000);
    const text = await summaryCard().innerText();
    check(/Created Customer Request \d+/.test(insightLine(text, third)), 'the decision now has a Customer Request work item', insightLine(text, third).slice(0, 300));
  });

}

// ---------------------------------------------------------------- run

let broke = false;
try {
  await (mode === 'real' ? realFlow() : demoFlow());
} catch (e) {
  broke = true;
  console.error('the run broke:', e);
} finally {
  report.finishedAt = new Date().toISOString();
  fs.writeFileSync(path.join(shots, 'report.json'), JSON.stringify(report, null, 2));
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
if (report.consoleErrors.length) {
  console.log('page errors:');
  for (const e of report.consoleErrors) console.log(`   step ${e.at}: ${e.text}`);
}
console.log(`${failures ? failures + ' expectation(s) failed' : 'all expectations held'}; screenshots and report.json in ${shots}`);
process.exit(broke ? 2 : failures ? 1 : 0);
