// check.mjs: every card in a gallery directory, as the official Adaptive Cards
// renderer (the `adaptivecards` package, the engine family Teams uses) sees it.
//
//   node check.mjs <dir>
//
// <dir>/manifest.json (written by cards/gallery_test.go) lists the cards and, per
// action verb, what the bot needs from a click. For each card the checker
//   1. parses it for its declared version and fails on any parse event,
//   2. fails on any validateProperties() failure (CollectionCantBeEmpty, ...),
//   3. renders it with the Teams host config,
//   4. clicks every Action.Submit / Action.Execute the way the renderer does
//      (its own associatedInputs gathering and required-input validation),
//      once as someone who types nothing and once with the inputs the manifest
//      says the person fills, and checks the data the bot would receive,
//   5. checks every TextBlock's contrast against its container in the Teams
//      light and dark host configs (WCAG AA, 4.5:1).
// It prints one line per problem and exits 1 if there is any.

import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { JSDOM } from "jsdom";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

// The renderer needs a DOM; jsdom's globals are installed before it loads.
const dom = new JSDOM("<!doctype html><html><body></body></html>", { pretendToBeVisual: true });
for (const name of ["window", "document", "navigator", "HTMLElement", "HTMLInputElement", "HTMLTextAreaElement",
  "HTMLSelectElement", "HTMLButtonElement", "Node", "Element", "Event", "KeyboardEvent", "MouseEvent",
  "MutationObserver", "getComputedStyle", "DOMParser"]) {
  Object.defineProperty(globalThis, name, { value: dom.window[name], configurable: true, writable: true });
}
const AC = require("adaptivecards/dist/adaptivecards.min.js");
// Plain text is enough to click and to measure colors; Markdown is rendered
// only in the pictures (render.mjs).
AC.AdaptiveCard.onProcessMarkdown = () => {};

export const minContrast = 4.5;

const hostConfigs = {
  light: new AC.HostConfig(JSON.parse(readFileSync(join(here, "hostconfigs/teams-light.json"), "utf8"))),
  dark: new AC.HostConfig(JSON.parse(readFileSync(join(here, "hostconfigs/teams-dark.json"), "utf8"))),
};

function main() {
  const dir = process.argv[2];
  if (!dir) {
    console.error("usage: node check.mjs <gallery dir with manifest.json>");
    process.exit(2);
  }
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
  } catch (e) {
    console.error(`cardcheck: cannot read ${join(dir, "manifest.json")}: ${e.message}`);
    process.exit(2);
  }
  const report = { cards: 0, clicks: 0, texts: 0, failures: [] };
  for (const entry of manifest.cards) {
    let json;
    try {
      json = JSON.parse(readFileSync(join(dir, entry.file), "utf8"));
    } catch (e) {
      report.failures.push(`${entry.name}: cannot read ${entry.file}: ${e.message}`);
      continue;
    }
    report.cards++;
    try {
      checkCard(entry.name, json, manifest.verbs || {}, report);
    } catch (e) {
      report.failures.push(`${entry.name}: the check itself failed on this card: ${e.stack || e}`);
    }
  }
  for (const f of report.failures) console.log("FAIL " + f);
  console.log(`cardcheck: ${report.cards} cards, ${report.clicks} clicks, ${report.texts} text blocks x 2 themes, ` +
    `${report.failures.length} problem${report.failures.length === 1 ? "" : "s"}`);
  process.exit(report.failures.length ? 1 : 0);
}

// load parses and renders a fresh card, so every click starts from what the
// person sees when the card arrives.
function load(json, hostConfig = hostConfigs.light, render = true) {
  const card = new AC.AdaptiveCard();
  card.hostConfig = hostConfig;
  const context = new AC.SerializationContext();
  const declared = AC.Version.parse(json && json.version, context);
  if (declared && declared.isValid) context.targetVersion = declared;
  card.parse(json, context);
  const parseEvents = [];
  for (let i = 0; i < context.eventCount; i++) parseEvents.push(context.getEventAt(i));
  if (!render) return { card, parseEvents };
  const element = card.render();
  document.body.replaceChildren();
  if (element) document.body.appendChild(element);
  return { card, parseEvents, element };
}

function checkCard(name, json, verbs, report) {
  const fail = (msg) => report.failures.push(`${name}: ${msg}`);
  let loaded;
  try {
    loaded = load(json);
  } catch (e) {
    fail(`the renderer threw: ${e.message}`);
    return;
  }
  for (const ev of loaded.parseEvents) fail(`parse: ${AC.ValidationEvent[ev.event]}: ${ev.message}`);
  for (const ev of loaded.card.validateProperties().validationEvents) {
    fail(`validation: ${AC.ValidationEvent[ev.event]}${describe(ev.source)}: ${ev.message}`);
  }
  if (!loaded.element) {
    fail("the renderer rendered nothing");
    return;
  }

  // Actions are found in the first rendering and addressed by position, so
  // each click can run on a fresh rendering of the same card.
  const actions = [];
  walk(loaded.card, { onAction: (a, path) => actions.push({ path, action: a }) });
  // The card's refresh (Universal Actions): Teams sends it, with no input,
  // when a person it names views the card, so it is clicked like a button.
  if (json.refresh !== undefined) {
    const r = loaded.card.refresh;
    if (!r || !r.action) fail("has a refresh the renderer cannot read (it needs an Action.Execute)");
    else actions.push({ path: ["refresh"], action: r.action });
    const ids = (json.refresh && json.refresh.userIds) || [];
    if (!Array.isArray(ids)) fail("refresh.userIds is not a list");
    else {
      if (ids.length > 60) fail(`refresh names ${ids.length} users; Teams keeps at most 60 user-specific views`);
      for (const id of ids) {
        if (typeof id !== "string" || !id.startsWith("29:")) fail(`refresh names ${JSON.stringify(id)}, not a Teams user id (29:...)`);
      }
    }
  }
  for (const { path, action } of actions) {
    checkAction(name, json, path, action, verbs, report, loaded);
  }

  for (const theme of Object.keys(hostConfigs)) {
    const { card } = theme === "light" ? loaded : load(json, hostConfigs[theme], false);
    walk(card, {
      onText: (tb) => {
        if (theme === "light") report.texts++;
        const c = contrastOf(tb);
        if (c && c.ratio < minContrast) {
          fail(`contrast ${c.ratio.toFixed(2)}:1 in Teams ${theme} (text ${c.fg} on ${c.bg}, color ${tb.effectiveColor === undefined ? "Default" : AC.TextColor[tb.effectiveColor]}` +
            `${tb.effectiveIsSubtle ? ", subtle" : ""}, container style ${tb.getEffectiveStyle()}) for "${short(tb.text)}"; WCAG AA asks ${minContrast}:1`);
        }
      },
    });
  }
}

// walk visits every element and action the renderer parsed, ShowCard cards included.
function walk(el, visit, path = []) {
  if (!el) return;
  if (visit.onText && el instanceof AC.TextBlock && el.isVisible !== false) visit.onText(el);
  if (typeof el.getItemCount === "function") {
    for (let i = 0; i < el.getItemCount(); i++) walk(el.getItemAt(i), visit, [...path, "item", i]);
  }
  if (typeof el.getActionCount === "function") {
    for (let i = 0; i < el.getActionCount(); i++) {
      const a = el.getActionAt(i);
      const p = [...path, "action", i];
      if (visit.onAction) visit.onAction(a, p);
      if (a instanceof AC.ShowCardAction) walk(a.card, visit, [...p, "card"]);
    }
  }
}

function at(card, path) {
  if (path[0] === "refresh") {
    // The renderer parses the refresh action without a parent, so it would
    // raise its event to no card: attach it, as Teams sends it for this card.
    const a = card.refresh && card.refresh.action;
    if (a && !a.parent) a.setParent(card);
    return a;
  }
  let cur = card;
  for (let i = 0; i < path.length; i += 2) {
    const [kind, index] = [path[i], path[i + 1]];
    if (kind === "item") cur = cur.getItemAt(index);
    else if (kind === "action") cur = cur.getActionAt(index);
    else if (kind === "card") { cur = cur.card; i--; }
  }
  return cur;
}

function checkAction(name, json, path, action, verbs, report, loaded) {
  const type = action.getJsonTypeName();
  const label = `"${action.title || "(no title)"}" (${type})`;
  const fail = (msg) => report.failures.push(`${name}: ${label} ${msg}`);
  if (type === "Action.OpenUrl") {
    // https, or the demo's fake organization served by the bot on this machine.
    const url = action.url || "";
    if (!/^https:\/\/[^\s]+$/.test(url) && !/^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?\/[^\s]*$/.test(url)) {
      fail(`opens ${JSON.stringify(action.url)}, not an https link`);
    }
    return;
  }
  if (type === "Action.ShowCard" || type === "Action.ToggleVisibility") {
    if (type === "Action.ToggleVisibility") {
      // Click it and watch every target change visibility ("Show 6 more").
      const root = action.parent && action.parent.getRootElement();
      const ids = action.targetElements ? Object.keys(action.targetElements) : [];
      if (ids.length === 0) fail("toggles nothing");
      const before = new Map();
      for (const id of ids) {
        const el = root && root.getElementById(id);
        if (!el) fail(`toggles "${id}", which is not on the card`);
        else before.set(id, el.isVisible);
      }
      report.clicks++;
      if (action.renderedElement) action.renderedElement.click();
      else action.execute();
      for (const [id, was] of before) {
        if (root.getElementById(id).isVisible === was) fail(`does not change the visibility of "${id}"`);
      }
      action.renderedElement ? action.renderedElement.click() : action.execute(); // back as it was
    }
    return;
  }
  if (type !== "Action.Submit" && type !== "Action.Execute") {
    fail("is an action type the bot does not send");
    return;
  }
  const data = action.data && typeof action.data === "object" ? action.data : {};
  const verb = type === "Action.Execute" ? action.verb : data.sally;
  if (!verb) {
    fail("has no verb: the bot cannot tell what was clicked (data.sally" + (type === "Action.Execute" ? " / verb" : "") + " missing)");
    return;
  }
  if (data.sally !== verb) fail(`has verb "${verb}" but data.sally ${JSON.stringify(data.sally)}: the bot reads both`);
  const want = verbs[verb];
  if (!want) {
    fail(`sends verb "${verb}", which has no click contract: add it to clickContracts in cards/gallery_test.go`);
    return;
  }
  const shown = `${label} [${verb}]`;
  const failV = (msg) => report.failures.push(`${name}: ${shown} ${msg}`);
  const fill = want.fill || {};

  // Pass 1: the person clicks without typing anything.
  const first = click(json, path, {}, loaded);
  report.clicks++;
  if (first.error) return failV(first.error);
  if (first.sent) {
    checkData(first.sent, want, failV, "clicked as is");
  } else {
    const unexpected = first.blockedBy.filter((i) => !(i.id in fill));
    if (want.asIs || unexpected.length) {
      const why = (unexpected.length ? unexpected : first.blockedBy).map(describeInput).join("; ");
      failV(`is blocked when clicked without typing: ${why}` +
        (want.asIs ? "" : " (the person is not expected to type there for this action)"));
    }
  }

  // Pass 2: the person fills what the contract says they type, then clicks.
  const present = Object.keys(fill).filter((id) => first.inputIds.includes(id));
  if (present.length === 0) return;
  const second = click(json, path, fill);
  report.clicks++;
  if (second.error) return failV(second.error);
  if (!second.sent) {
    return failV(`is still blocked after typing ${present.join(", ")}: ${second.blockedBy.map(describeInput).join("; ")}`);
  }
  checkData(second.sent, want, failV, `after typing ${present.join(", ")}`);
  for (const id of present) {
    if (!second.holding.includes(id)) continue; // could not be filled: only a problem if it blocks, reported above
    if (!second.referenced.includes(id)) {
      failV(`does not send "${id}", which the person types on this card (associatedInputs ${JSON.stringify(action.associatedInputs ?? "auto")})`);
    } else if (typeof second.sent[id] !== "string" || second.sent[id] === "") {
      failV(`sends no value for "${id}" after the person filled it`);
    } else if (second.filled[id] !== undefined && second.sent[id] !== second.filled[id]) {
      failV(`sends "${id}" = ${JSON.stringify(second.sent[id])}, not what was typed (${JSON.stringify(second.filled[id])})`);
    }
  }
}

// click fills the given inputs where they are empty and clicks the action's
// button. It reports what the bot would receive, or which inputs blocked the
// click. Clicks without typing share the card's first rendering (a blocked or
// sent click changes no input); typing gets a fresh rendering.
function click(json, path, fill = {}, rendered = undefined) {
  const { card } = rendered && Object.keys(fill).length === 0 ? rendered : load(json);
  const action = at(card, path);
  if (!action) return { error: "cannot be found again in a fresh rendering" };
  const inputIds = card.getAllInputs(true).map((i) => i.id).filter(Boolean);
  const filled = {};
  for (const [id, value] of Object.entries(fill)) {
    const input = card.getElementById(id);
    if (!input || (input.isSet && input.isSet())) continue;
    const typed = setValue(input, value);
    if (typed !== undefined) filled[id] = typed;
  }
  // What holds a value now, prefilled or typed; an empty drop-down cannot be filled.
  const holding = Object.keys(fill).filter((id) => {
    const input = card.getElementById(id);
    return input && input.isSet && input.isSet();
  });
  // ShowCard content: open the card the action sits in, as a person would.
  for (let i = 0; i < path.length; i++) {
    if (path[i] === "card") {
      const owner = at(card, path.slice(0, i));
      if (owner && owner.renderedElement) owner.renderedElement.click();
    }
  }
  let sent;
  card.onExecuteAction = (a) => {
    if (a === action) sent = JSON.parse(JSON.stringify(a.data ?? {}));
  };
  if (!action.isEffectivelyEnabled()) return { error: "is disabled", inputIds, filled };
  const referenced = Object.keys(action.getReferencedInputs() || {});
  const invalid = action.validateInputs();
  if (action.renderedElement) action.renderedElement.click();
  else action.execute(); // in an overflow menu: the menu item calls execute()
  if (sent) return { sent, referenced, inputIds, filled, holding };
  if (invalid.length === 0) return { error: "was clicked, the renderer validated its inputs, and no action was raised", inputIds, filled };
  return { blockedBy: invalid, referenced, inputIds, filled };
}

// setValue types into an input's rendered control: text for text fields, the
// given (or first) choice for drop-downs.
function setValue(input, value) {
  const root = input.renderedElement;
  if (!root) return undefined;
  const select = root.querySelector("select");
  if (select) {
    const options = [...select.options].filter((o, i) => i > 0 || o.value !== "");
    const pick = options.find((o) => o.value === value) || (value === "" ? options[0] : undefined);
    if (!pick) return undefined;
    select.value = pick.value;
    select.dispatchEvent(new window.Event("change", { bubbles: true }));
    return pick.value;
  }
  const control = root.querySelector("textarea, input");
  if (!control) return undefined;
  let v = value;
  if (v === "" && input.choices && input.choices.length) v = input.choices[0].title;
  if (v === "") return undefined;
  control.value = v;
  control.dispatchEvent(new window.Event("input", { bubbles: true }));
  return input.value;
}

function checkData(sent, want, fail, when) {
  for (const key of want.data || []) {
    if (typeof sent[key] !== "string" || sent[key] === "") {
      fail(`${when}: sends no "${key}" (the bot needs it); data = ${JSON.stringify(sent)}`);
    }
  }
}

function describeInput(input) {
  const msg = input.errorMessage ? ` ("${input.errorMessage}")` : "";
  const why = input.isRequired && !input.isSet() ? "required and empty" : "invalid";
  return `input "${input.id}" is ${why}${msg}`;
}

function describe(obj) {
  if (!obj) return "";
  const t = obj.getJsonTypeName ? obj.getJsonTypeName() : "";
  return ` at ${t}${obj.id ? "#" + obj.id : ""}${obj.title ? ` "${obj.title}"` : ""}`;
}

function short(s) {
  s = String(s ?? "");
  return s.length > 60 ? s.slice(0, 57) + "..." : s;
}

// contrastOf is the WCAG contrast of a TextBlock's color, as the renderer
// picks it (its color, isSubtle and container style in the host config),
// against the background of the container it sits in.
export function contrastOf(tb) {
  const style = tb.getEffectiveStyleDefinition();
  const colors = tb.getColorDefinition(style.foregroundColors, tb.effectiveColor);
  const fgHex = tb.effectiveIsSubtle ? colors.subtle : colors.default;
  const bgHex = backgroundOf(tb);
  const fg = parseColor(fgHex), bg = parseColor(bgHex);
  if (!fg || !bg) return undefined;
  const over = composite(fg, bg);
  const l1 = luminance(over), l2 = luminance(bg);
  return { ratio: (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05), fg: fgHex, bg: bgHex };
}

// backgroundOf walks up to the nearest container whose style defines a
// background; the card's own default style is the last resort.
function backgroundOf(el) {
  for (let cur = el.parent; cur; cur = cur.parent) {
    if (typeof cur.getEffectiveStyleDefinition === "function" && cur.hasExplicitStyle) {
      const def = cur.getEffectiveStyleDefinition();
      if (def && def.backgroundColor) return def.backgroundColor;
    }
  }
  return el.hostConfig.containerStyles.default.backgroundColor || "#FFFFFF";
}

// parseColor reads the host config's #RRGGBB and #AARRGGBB (alpha first).
function parseColor(hex) {
  const m = /^#([0-9a-f]{6}|[0-9a-f]{8})$/i.exec(String(hex || "").trim());
  if (!m) return undefined;
  const h = m[1];
  const n = (i) => parseInt(h.slice(i, i + 2), 16);
  return h.length === 8 ? { a: n(0) / 255, r: n(2), g: n(4), b: n(6) } : { a: 1, r: n(0), g: n(2), b: n(4) };
}

function composite(fg, bg) {
  const mix = (f, b) => f * fg.a + b * (1 - fg.a);
  return { a: 1, r: mix(fg.r, bg.r), g: mix(fg.g, bg.g), b: mix(fg.b, bg.b) };
}

function luminance({ r, g, b }) {
  const lin = (c) => {
    c /= 255;
    return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
