import { css } from 'lit';

/**
 * Theming: the --docker-terminal-* custom properties below, and the parts poster, start-button,
 * progress-screen, progress, progress-bar, stages, cancel-button, boot-log, error, retry-button,
 * notice, restart-button, terminal, key-bar, key.
 */
export const styles = css`
  :host {
    --docker-terminal-height: 24rem;
    --docker-terminal-background: #1e1e2e;
    --docker-terminal-foreground: #e4e4ef;
    --docker-terminal-accent: #1d63ed;
    --docker-terminal-muted: #9a9ab0;
    --docker-terminal-error: #ff6b6b;
    --docker-terminal-font-family: ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace;
    --docker-terminal-font-size: 14px;
    --docker-terminal-radius: 8px;

    display: block;
    position: relative;
    height: var(--docker-terminal-height);
    background: var(--docker-terminal-background);
    color: var(--docker-terminal-foreground);
    border-radius: var(--docker-terminal-radius);
    overflow: hidden;
    font-family: system-ui, sans-serif;
    contain: content;
  }
  :host([hidden]) {
    display: none;
  }
  /* A narrow screen gets a smaller font, so a phone shows 40 columns or more. */
  @media (max-width: 480px) {
    :host {
      --docker-terminal-font-size: 12px;
    }
  }
  .stack {
    position: absolute;
    inset: 0.5rem;
    display: flex;
    flex-direction: column;
    gap: 0.4rem;
  }
  [part='terminal'] {
    position: relative;
    flex: 1;
    min-height: 0;
  }
  :host(:not([state='ready'])) .stack {
    visibility: hidden;
  }
  [part='key-bar'] {
    display: flex;
    flex-wrap: wrap;
    gap: 0.3rem;
  }
  [part='key'] {
    flex: 1 0 2.4rem;
    min-height: 2.4rem;
    padding: 0 0.4rem;
    border: 1px solid var(--docker-terminal-muted);
    border-radius: 6px;
    background: transparent;
    color: var(--docker-terminal-foreground);
    font: 0.95rem var(--docker-terminal-font-family);
    touch-action: manipulation;
  }
  [part='key'][aria-pressed='true'] {
    background: var(--docker-terminal-accent);
    border-color: var(--docker-terminal-accent);
    color: #fff;
  }
  .overlay {
    position: absolute;
    inset: 0;
    display: flex;
    flex-direction: column;
    align-items: center;
    justify-content: center;
    gap: 0.75rem;
    padding: 1.5rem;
    box-sizing: border-box;
    text-align: center;
    overflow: auto;
  }
  h2 {
    margin: 0;
    font-size: 1.15rem;
    font-weight: 600;
  }
  p {
    margin: 0;
    color: var(--docker-terminal-muted);
    max-width: 40rem;
  }
  button {
    font: inherit;
    font-weight: 600;
    color: #fff;
    background: var(--docker-terminal-accent);
    border: none;
    border-radius: 6px;
    padding: 0.6rem 1.4rem;
    cursor: pointer;
  }
  button:focus-visible {
    outline: 3px solid var(--docker-terminal-foreground);
    outline-offset: 2px;
  }
  button.link {
    background: none;
    color: var(--docker-terminal-foreground);
    text-decoration: underline;
    padding: 0.2rem;
    font-weight: normal;
  }
  [part='progress'] {
    width: min(28rem, 90%);
  }
  [part='progress-bar'] {
    width: 100%;
    height: 0.6rem;
    accent-color: var(--docker-terminal-accent);
  }
  [part='stages'] {
    list-style: none;
    display: flex;
    gap: 1rem;
    padding: 0;
    margin: 0;
    flex-wrap: wrap;
    justify-content: center;
  }
  [part='stages'] li {
    color: var(--docker-terminal-muted);
  }
  [part='stages'] li[data-state='done'] {
    color: var(--docker-terminal-foreground);
  }
  [part='stages'] li[data-state='done']::before {
    content: '✓ ';
  }
  [part='stages'] li[data-state='current'] {
    color: var(--docker-terminal-foreground);
    font-weight: 700;
    text-decoration: underline;
    text-underline-offset: 0.3em;
  }
  [part='boot-log'] {
    text-align: left;
    width: 100%;
    max-height: 40%;
    overflow: auto;
    margin: 0;
    padding: 0.5rem;
    box-sizing: border-box;
    font: 12px/1.35 var(--docker-terminal-font-family);
    background: rgb(0 0 0 / 0.35);
    white-space: pre-wrap;
    word-break: break-all;
  }
  [part='error'] h2 {
    color: var(--docker-terminal-error);
  }
  [part='error'] p {
    color: var(--docker-terminal-foreground);
  }
  [part='notice'] {
    position: absolute;
    left: 0;
    right: 0;
    top: 0;
    z-index: 2;
    display: flex;
    gap: 0.5rem;
    align-items: center;
    justify-content: space-between;
    padding: 0.4rem 0.75rem;
    background: #5c2b00;
    color: #fff;
    font-size: 0.9rem;
  }
  [part='notice'] .actions {
    display: flex;
    flex: none;
    gap: 0.5rem;
  }
  .note {
    font-size: 0.9rem;
  }
  @media (prefers-reduced-motion: no-preference) {
    [part='progress-bar'] {
      transition: width 0.2s;
    }
  }
`;
