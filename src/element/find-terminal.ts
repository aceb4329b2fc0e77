/**
 * The `<docker-terminal>` a companion element (a Run button, a preview) works with: the one its
 * `for` names, else the nearest one before it on the page, else the first. Says which way it went
 * wrong, so that each element can word the fix for its reader.
 */
export type TerminalLookup<T> = { terminal: T } | { problem: 'for-missing' | 'for-not-terminal' | 'none'; named?: string };

export function findTerminal<T extends Element>(from: Element, htmlFor: string | null, isTerminal: (el: Element) => el is T): TerminalLookup<T> {
  const root = from.getRootNode() as Document | ShadowRoot;
  if (htmlFor !== null) {
    const el = root.getElementById?.(htmlFor) ?? null;
    if (el && isTerminal(el)) return { terminal: el };
    return { problem: el ? 'for-not-terminal' : 'for-missing', named: el?.localName };
  }
  const all = [...root.querySelectorAll<Element>('docker-terminal')].filter(isTerminal);
  const before = all.filter((t) => t.compareDocumentPosition(from) & Node.DOCUMENT_POSITION_FOLLOWING);
  const terminal = before.at(-1) ?? all[0];
  return terminal ? { terminal } : { problem: 'none' };
}
