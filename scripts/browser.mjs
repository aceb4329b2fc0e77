// Real headless Chromium (Debian's /usr/bin/chromium) driven by puppeteer-core, for the end-to-end
// tests and the bench. Flags as the machine's probe found necessary: no sandbox as root, and no
// background networking on a machine without outside network.
import puppeteer from 'puppeteer-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export async function launch() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dt-chromium-'));
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, userDataDir, protocolTimeout: 1_800_000 });
  const close = browser.close.bind(browser);
  browser.close = async () => {
    await close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  };
  return browser;
}

/** Text on the element's terminal screen, as xterm's DOM renderer shows it. */
export function terminalText(page, selector = 'docker-terminal') {
  return page.$eval(selector, (el) => [...el.shadowRoot.querySelectorAll('.xterm-rows > div')].map((r) => r.textContent).join('\n'));
}

/**
 * Memory of the whole browser: the sum of the proportional set size (Pss) of Chromium's processes,
 * in MB. A terminal's cost is the difference from before it started.
 */
export function browserPss(browser) {
  const root = browser.process()?.pid;
  if (!root || !fs.existsSync('/proc/self/smaps_rollup')) return NaN;
  const parents = new Map();
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      parents.set(Number(pid), Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const tree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parents) if (tree.has(ppid) && !tree.has(pid)) tree.add(pid), (grew = true);
  }
  let kb = 0;
  for (const pid of tree) {
    try {
      kb += Number(/^Pss:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone meanwhile
    }
  }
  return kb / 1024;
}
