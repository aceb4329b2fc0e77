// Stories of <docker-terminal-command>, the "Run this" button of a tutorial, with the real
// <docker-terminal> (the built /dist/docker-terminal.js) and the machine bundle in /dist/guest/.
// Pressing Run starts the terminal (a real download and a CPU-heavy emulator in the tab); the error
// stories and Copy need no machine.
import { html, nothing } from 'lit';
import { keyed } from 'lit/directives/keyed.js';
import { action } from 'storybook/actions';

const BUNDLE = '/dist/guest/';
const attr = (value) => (value === undefined || value === null || value === '' ? nothing : String(value));
const describe = (story) => ({ docs: { description: { story } } });

const log = {
  start: action('docker-terminal-command-start'),
  done: action('docker-terminal-command-done'),
  copy: action('docker-terminal-command-copy'),
};

function command(args, text) {
  return html`<docker-terminal-command
    for=${attr(args.for)}
    command=${attr(args.command)}
    ?interrupt=${args.interrupt}
    @docker-terminal-command-start=${(e) => log.start({ command: e.detail.command, terminal: e.detail.terminal.id })}
    @docker-terminal-command-done=${(e) => log.done(e.detail)}
    @docker-terminal-command-copy=${(e) => log.copy(e.detail)}
    >${text ?? args.text}</docker-terminal-command
  >`;
}

/** A tutorial step: a terminal and the command under it. A changed control gets fresh elements. */
const render = (args) =>
  html`${keyed(
    JSON.stringify(args),
    html`<div style="max-width: 52rem">
      <docker-terminal id="term1" src=${BUNDLE} style="--docker-terminal-height: 18rem"></docker-terminal>
      ${command(args)}
    </div>`,
  )}`;

export default {
  title: 'docker-terminal-command',
  component: 'docker-terminal-command',
  render,
  args: { for: 'term1', command: '', interrupt: false, text: 'docker run --rm busybox echo hello from a container' },
  argTypes: {
    for: { control: 'text', description: 'Id of the `<docker-terminal>` to run in. Empty: the nearest one before the element, else the first after it.' },
    command: { control: 'text', description: 'The command; empty: the element\'s text.' },
    interrupt: { control: 'boolean', description: 'Press Ctrl-C in the terminal first, ending what runs there.' },
    text: { control: 'text', description: 'The element\'s text content (one command per line).' },
  },
  parameters: {
    docs: {
      description: {
        component:
          'A command from a tutorial with Run and Copy buttons. Run types it into the `<docker-terminal>` named by `for` (starting it first if needed) and shows waiting, running, done or failed.',
      },
    },
  },
};

export const RunThis = {
  name: 'Run this',
  parameters: describe('Press Run: the terminal starts (a few seconds from the saved state), the command is typed into it, and the element reports done with exit code 0.'),
};

export const Failing = {
  name: 'A failing command',
  args: { text: "sh -c 'echo something went wrong >&2; exit 3'" },
  parameters: describe('The command exits with status 3: the element shows failed and the exit code (the `exit-code` attribute).'),
};

export const MultiLine = {
  name: 'Several lines',
  args: { text: 'docker images busybox\ndocker run --rm busybox \\\n  uname -m' },
  parameters: describe('One command per line, run in turn; the first failing line stops the rest. A line ending in `\\` continues on the next.'),
};

export const Interrupt = {
  name: 'Interrupt a running command',
  parameters: describe(
    'The first button runs `sleep 600` in the foreground. The second has `interrupt`: it presses Ctrl-C first, which ends the sleep (reported as failed, exit code 130), then runs its own command. Without `interrupt` it would wait for the sleep to end.',
  ),
  render: (args) =>
    html`${keyed(
      JSON.stringify(args),
      html`<div style="max-width: 52rem">
        <docker-terminal id="term1" src=${BUNDLE} style="--docker-terminal-height: 18rem"></docker-terminal>
        ${command({ for: 'term1' }, 'sleep 600')} ${command({ for: 'term1', interrupt: true }, 'echo interrupted the sleep')}
      </div>`,
    )}`,
};

export const ErrorNoSuchTerminal = {
  name: 'Error: for names no terminal',
  args: { for: 'term9' },
  parameters: describe('`for="term9"` names no element on the page: the element says so (role=alert) without starting anything, and Run reports failed.'),
};

export const LightTheme = {
  name: 'Theming: light',
  parameters: describe('A light theme through the `--docker-terminal-command-*` custom properties, and the buttons restyled with `::part()`.'),
  render: (args) => html`<style>
      .light-commands docker-terminal-command {
        --docker-terminal-command-background: #f6f8fa;
        --docker-terminal-command-foreground: #1f2328;
        --docker-terminal-command-accent: #0969da;
        --docker-terminal-command-muted: #57606a;
        --docker-terminal-command-success: #1a7f37;
        --docker-terminal-command-error: #cf222e;
        --docker-terminal-command-prompt: '❯ ';
        --docker-terminal-command-radius: 2px;
      }
      .light-commands docker-terminal-command::part(run-button) {
        background: #1f883d;
        border-radius: 999px;
      }
    </style>
    <div class="light-commands">${render(args)}</div>`,
};
