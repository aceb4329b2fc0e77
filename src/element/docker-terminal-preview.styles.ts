import { css } from 'lit';

/** Theming: the --docker-terminal-preview-* custom properties, and the parts base, toolbar, address, reload-button, frame, message. */
export const styles = css`
  :host {
    --docker-terminal-preview-height: 320px;
    --docker-terminal-preview-background: #1e1e2e;
    --docker-terminal-preview-foreground: #e4e4ef;
    --docker-terminal-preview-radius: 8px;

    display: block;
    margin: 0.75rem 0;
    font-family: system-ui, sans-serif;
    min-width: 0;
  }
  :host([hidden]) {
    display: none;
  }
  [part='base'] {
    border: 1px solid var(--docker-terminal-preview-background);
    border-radius: var(--docker-terminal-preview-radius);
    overflow: hidden;
  }
  [part='toolbar'] {
    display: flex;
    align-items: center;
    gap: 0.5rem;
    padding: 0.35rem 0.5rem;
    background: var(--docker-terminal-preview-background);
    color: var(--docker-terminal-preview-foreground);
  }
  [part='address'] {
    flex: 1;
    min-width: 0;
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
    font: 0.85rem ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace;
  }
  [part='reload-button'] {
    font: inherit;
    font-size: 0.85rem;
    min-height: 2rem;
    padding: 0.2rem 0.75rem;
    border-radius: 4px;
    border: 1px solid currentColor;
    background: transparent;
    color: inherit;
    cursor: pointer;
  }
  [part='reload-button']:focus-visible {
    outline: 2px solid #8ab4ff;
    outline-offset: 2px;
  }
  [part='message'] {
    margin: 0;
    padding: 0.6rem 0.75rem;
    font-size: 0.9rem;
    color: #1a1a1a;
    background: #f4f4f8;
  }
  [part='frame'] {
    display: block;
    width: 100%;
    height: var(--docker-terminal-preview-height);
    border: 0;
    background: #fff;
  }
`;
