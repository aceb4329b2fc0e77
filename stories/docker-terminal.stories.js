// Stories of <docker-terminal>: every state a reader sees and the attribute variants, each with the
// real element (the built /dist/docker-terminal.js, see .storybook/) and the real machine bundle in
// /dist/guest/. There is no fake engine: the "loading" (downloading) state is what you see at the
// start of the Ready story, a real download of the saved state, before it restores.
//
// Stories that start the machine (Ready, Booting from scratch, Image busybox, Two terminals) run a
// CPU-heavy x86 emulator in the tab. The others stay on the poster or stop at an error, which the
// element reports before it downloads or starts anything.
import { html, nothing } from 'lit';
import { keyed } from 'lit/directives/keyed.js';
import { action } from 'storybook/actions';

/** The bundle the stories use: dist/guest/, served by Storybook at /dist/guest/. */
const BUNDLE = '/dist/guest/';

/** An attribute value, or no attribute at all when the control is empty. */
const attr = (value) => (value === undefined || value === null || value === '' ? nothing : String(value));

const EVENTS = ['docker-terminal-progress', 'docker-terminal-ready', 'docker-terminal-error', 'docker-terminal-exit'];

/**
 * Logs the element's events in the Actions panel. Download progress arrives many times a second, so
 * only stage changes and every tenth of the download are logged.
 */
function logEvents() {
  let last = '';
  const log = Object.fromEntries(EVENTS.map((name) => [name, action(name)]));
  return {
    progress: (e) => {
      const { stage, loaded, total } = e.detail;
      const step = stage === 'download' && total ? `download ${Math.floor((loaded / total) * 10) * 10}%` : stage;
      if (step === last) return;
      last = step;
      log['docker-terminal-progress'](e.detail);
    },
    ready: (e) => log['docker-terminal-ready'](e.detail),
    error: (e) => log['docker-terminal-error'](e.detail),
    exit: (e) => log['docker-terminal-exit'](e.detail),
  };
}

/** One element from the story's args. */
function terminal(args, overrides = {}) {
  const a = { ...args, ...overrides };
  const on = logEvents();
  return html`<docker-terminal
    src=${attr(a.src)}
    engine=${attr(a.engine)}
    cores=${attr(a.cores)}
    memory=${attr(a.memory)}
    image=${attr(a.image)}
    load=${attr(a.load)}
    containerd-timeout=${attr(a.containerdTimeout)}
    ?screen-reader=${a.screenReader}
    style=${attr(a.height ? `--docker-terminal-height: ${a.height}` : '')}
    @docker-terminal-progress=${on.progress}
    @docker-terminal-ready=${on.ready}
    @docker-terminal-error=${on.error}
    @docker-terminal-exit=${on.exit}
  ></docker-terminal>`;
}

/**
 * The element reads its attributes when it starts, so a changed control gets a fresh element (the
 * old one is removed, which stops its machine) rather than an attribute change on a running one.
 */
const render = (args) => html`${keyed(JSON.stringify(args), terminal(args))}`;

/** A story's short description, shown by the docs addon. */
const describe = (story) => ({ docs: { description: { story } } });

export default {
  title: 'docker-terminal',
  component: 'docker-terminal',
  render,
  args: {
    src: BUNDLE,
    engine: '',
    cores: '',
    memory: '',
    image: '',
    load: 'click',
    containerdTimeout: '',
    screenReader: false,
    height: '',
  },
  argTypes: {
    src: {
      control: 'text',
      description: 'Base URL of the machine bundle (a folder with manifest.json). Default: `guest/` beside the script.',
    },
    engine: {
      control: 'select',
      options: ['', 'v86', 'qemu', 'vmware'],
      description: '`v86` or `qemu`; empty: the engine the bundle was built for. `vmware` shows the error for an unknown engine.',
    },
    cores: { control: 'text', description: 'Virtual CPUs (v86 runs one). Empty: 1.' },
    memory: {
      control: 'text',
      description: 'Guest memory in MiB (v86: 128 to 2048). Empty: what the saved state was taken with; any other value boots from scratch.',
    },
    image: { control: 'text', description: 'A Docker image in the bundle to start the reader in (`docker run --rm -it <image>`).' },
    load: {
      control: 'select',
      options: ['click', 'visible', 'eager'],
      description: 'When to start: a poster with a Start button, when scrolled into view, or at once.',
    },
    containerdTimeout: { control: 'text', name: 'containerd-timeout', description: 'Seconds the guest waits for containerd on a cold boot.' },
    screenReader: {
      control: 'boolean',
      name: 'screen-reader',
      description: 'Keep an accessible text mirror of the terminal for screen readers.',
    },
    height: { control: 'text', description: 'Sets `--docker-terminal-height` (default 24rem).' },
  },
  parameters: {
    docs: {
      description: {
        component:
          'One tag that gives a reader a live terminal with a real Docker daemon, emulated in the browser tab. Each story uses the built element and the machine bundle in `/dist/guest/`.',
      },
    },
  },
};

// The states a reader sees.

export const Poster = {
  name: 'Poster',
  args: { src: BUNDLE, load: 'click' },
  parameters: describe(
    'The default, `load="click"`: the idle state, a poster with a Start button and the size of the download. Nothing but the small manifest is fetched until the reader presses Start.',
  ),
};

export const Ready = {
  name: 'Ready',
  args: { src: BUNDLE, load: 'eager' },
  parameters: describe(
    '`load="eager"`: downloads the saved state (the progress bar at the start is the real "loading" state) and restores it; the terminal with a prompt shows within seconds of the download.',
  ),
};

export const BootingFromScratch = {
  name: 'Booting from scratch',
  args: { src: BUNDLE, load: 'eager', memory: '384' },
  parameters: describe(
    '`memory="384"` differs from the memory the saved state was taken with, so the machine boots from scratch: the "booting" state with the named boot stages (Kernel, containerd, dockerd, Ready) and a note saying why. About a minute.',
  ),
};

export const ImageBusybox = {
  name: 'Image busybox',
  args: { src: BUNDLE, load: 'eager', image: 'busybox' },
  parameters: describe('`image="busybox"`: once ready, the reader is inside `docker run --rm -it busybox`, an image preloaded in the bundle.'),
};

// Errors: each stops before anything is downloaded or started, with a message that says what to write instead.

export const ErrorBadCores = {
  name: 'Error: bad cores',
  args: { src: BUNDLE, load: 'eager', cores: 'abc' },
  parameters: describe('`cores="abc"` is not a number: the error screen says what to write instead.'),
};

export const ErrorMemoryOutOfRange = {
  name: 'Error: memory out of range',
  args: { src: BUNDLE, load: 'eager', memory: '64' },
  parameters: describe('`memory="64"` is below what the v86 engine runs (128 to 2048 MiB).'),
};

export const ErrorUnknownEngine = {
  name: 'Error: unknown engine',
  args: { src: BUNDLE, load: 'eager', engine: 'vmware' },
  parameters: describe('`engine="vmware"` is not an engine the element knows (v86 or qemu).'),
};

export const ErrorMissingBundle = {
  name: 'Error: missing bundle',
  args: { src: '/no-such-bundle/', load: 'click' },
  parameters: describe(
    '`src="/no-such-bundle/"` has no manifest.json. Even with `load="click"` the poster fetches the manifest, so the error shows before the reader presses Start.',
  ),
};

export const ErrorImageNotInBundle = {
  name: 'Error: image not in bundle',
  args: { src: BUNDLE, load: 'eager', image: 'nginx' },
  parameters: describe(
    '`image="nginx"` is not preloaded in the bundle, and a browser tab cannot pull from a registry: the error lists the images there are.',
  ),
};

export const ErrorEngineMismatch = {
  name: 'Error: engine mismatch (qemu)',
  args: { src: BUNDLE, load: 'eager', engine: 'qemu' },
  parameters: describe(
    '`engine="qemu"` on this bundle, which was built for v86: the element reports the mismatch. (A qemu bundle would also need a cross-origin isolated page, which Storybook does not serve by default.)',
  ),
};

// Attribute variants.

export const LightTheme = {
  name: 'Theming: light',
  args: { src: BUNDLE, load: 'click' },
  parameters: describe(
    'A light theme through the `--docker-terminal-*` custom properties, and the Start button restyled with `::part(start-button)`.',
  ),
  render: (args) => html`<style>
      .light-theme docker-terminal {
        --docker-terminal-background: #fafafa;
        --docker-terminal-foreground: #1f2328;
        --docker-terminal-accent: #0969da;
        --docker-terminal-muted: #57606a;
        --docker-terminal-error: #cf222e;
        --docker-terminal-font-family: 'DejaVu Sans Mono', monospace;
        --docker-terminal-font-size: 15px;
        --docker-terminal-radius: 2px;
        border: 1px solid #d0d7de;
      }
      .light-theme docker-terminal::part(start-button) {
        background: #1f883d;
        color: #fff;
        border: 0;
        border-radius: 999px;
        padding: 0.6rem 2rem;
        font-weight: 600;
        text-transform: uppercase;
        letter-spacing: 0.05em;
      }
    </style>
    <div class="light-theme">${render(args)}</div>`,
};

export const ScreenReader = {
  name: 'Screen reader mode',
  args: { src: BUNDLE, load: 'click', screenReader: true },
  parameters: describe(
    '`screen-reader`: once started, xterm.js keeps an accessible text mirror of the screen (also on when the reader prefers reduced motion). Press Start to run it.',
  ),
};

export const TwoTerminals = {
  name: 'Two terminals',
  args: { src: BUNDLE, load: 'eager', height: '18rem' },
  parameters: describe(
    'Two elements on one page, each its own machine: the first starts at once (`load="eager"`), the second when it is scrolled into view (`load="visible"`). The controls apply to both, except `load` for the second.',
  ),
  render: (args) =>
    html`${keyed(
      JSON.stringify(args),
      html`<div style="display: grid; gap: 1rem">${terminal(args)} ${terminal(args, { load: 'visible' })}</div>`,
    )}`,
};
