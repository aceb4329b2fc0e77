import { css } from 'lit';

/**
 * Theming: the --docker-terminal-command-* custom properties below, and the parts
 * base, command, actions, run-button, copy-button, status, error.
 */
export const styles = css`
  :host {
    --docker-terminal-command-background: #1e1e2e;
    --docker-terminal-command-foreground: #e4e4ef;
    --docker-terminal-command-accent: #1d63ed;
    --docker-terminal-command-muted: #a6a6bc;
    --docker-terminal-command-success: #7ee2a8;
    --docker-terminal-command-error: #ff8a8a;
    --docker-terminal-command-font-family: ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace;
    --docker-terminal-command-radius: 8px;
    --docker-terminal-command-prompt: '$ ';

    display: block;
    margin: 0.75rem 0;
    font-family: system-ui, sans-serif;
  }
  :host([hidden]) {
    display: none;
  }
  [part='base'] {
    display: grid;
    grid-template-columns: 1fr auto;
    align-items: start;
    gap: 0.25rem 0.75rem;
    padding: 0.6rem 0.75rem;
    background: var(--docker-terminal-command-background);
    color: var(--docker-terminal-command-foreground);
    border-radius: var(--docker-terminal-command-radius);
    border-left: 4px solid var(--docker-terminal-command-muted);
  }
  :host([status='running']) [part='base'],
  :host([status='waiting']) [part='base'] {
    border-left-color: var(--docker-terminal-command-accent);
  }
  :host([status='done']) [part='base'] {
    border-left-color: var(--docker-terminal-command-success);
  }
  :host([status='failed']) [part='base'] {
    border-left-color: var(--docker-terminal-command-error);
  }
  [part='command'] {
    margin: 0;
    padding: 0.3rem 0;
    font: 14px/1.45 var(--docker-terminal-command-font-family);
    white-space: pre-wrap;
    overflow-wrap: anywhere;
  }
  code {
    display: block;
    font: inherit;
  }
  code::before {
    content: var(--docker-terminal-command-prompt);
    color: var(--docker-terminal-command-muted);
    user-select: none;
  }
  [part='actions'] {
    display: flex;
    gap: 0.4rem;
  }
  button {
    font: inherit;
    font-size: 0.9rem;
    font-weight: 600;
    color: #fff;
    background: var(--docker-terminal-command-accent);
    border: 1px solid transparent;
    border-radius: 6px;
    padding: 0.35rem 0.9rem;
    cursor: pointer;
    min-width: 4.5rem;
  }
  button[aria-disabled='true'] {
    cursor: progress;
  }
  [part='copy-button'] {
    background: transparent;
    color: var(--docker-terminal-command-foreground);
    border-color: var(--docker-terminal-command-muted);
  }
  button:focus-visible {
    outline: 3px solid var(--docker-terminal-command-foreground);
    outline-offset: 2px;
  }
  [part='status'],
  [part='error'] {
    grid-column: 1 / -1;
    margin: 0;
    font-size: 0.9rem;
    color: var(--docker-terminal-command-muted);
  }
  :host([status='done']) [part='status'] {
    color: var(--docker-terminal-command-success);
  }
  :host([status='failed']) [part='status'],
  [part='error'] {
    color: var(--docker-terminal-command-error);
  }
  @media (forced-colors: active) {
    [part='base'] {
      border: 1px solid CanvasText;
    }
  }
`;
