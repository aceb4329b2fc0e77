/**
 * A page from a server in the machine, made whole for an iframe's srcdoc: its stylesheets, scripts
 * and images of the same server fetched through the terminal (the browser cannot reach the machine
 * itself) and put inline, and its links to the same server turned into messages to the preview,
 * which loads them the same way.
 */

type Fetch = (url: string) => Promise<Response>;

/** The message a link click inside the preview posts to the page: `{ [LINK_MESSAGE]: path }`. */
export const LINK_MESSAGE = 'docker-terminal-preview-link';

/** Most a page may pull in, all its parts together: more is left out, not inlined. */
const PARTS_LIMIT = 16 * 1024 * 1024;

export async function previewDocument(html: string, pageUrl: URL, fetchPart: Fetch): Promise<string> {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  const origin = pageUrl.origin;
  const budget = { left: PARTS_LIMIT };
  const sameServer = (ref: string | null): URL | undefined => {
    if (!ref) return undefined;
    try {
      const url = new URL(ref, pageUrl);
      return url.origin === origin ? url : undefined;
    } catch {
      return undefined;
    }
  };
  const jobs: Promise<void>[] = [];
  for (const link of doc.querySelectorAll<HTMLLinkElement>('link[rel~="stylesheet"][href]')) {
    const url = sameServer(link.getAttribute('href'));
    if (!url) continue;
    jobs.push(
      text(fetchPart, url, budget).then(async (css) => {
        const style = doc.createElement('style');
        style.textContent = css === undefined ? '' : await inlineCssUrls(css, url, fetchPart, budget, origin);
        if (link.media) style.media = link.media;
        link.replaceWith(style);
      }),
    );
  }
  for (const style of doc.querySelectorAll('style'))
    jobs.push(inlineCssUrls(style.textContent ?? '', pageUrl, fetchPart, budget, origin).then((css) => void (style.textContent = css)));
  for (const script of doc.querySelectorAll<HTMLScriptElement>('script[src]')) {
    const url = sameServer(script.getAttribute('src'));
    if (!url) continue;
    jobs.push(
      text(fetchPart, url, budget).then((code) => {
        script.removeAttribute('src');
        // (inline, a "</script" in the code would end the element early)
        script.textContent = (code ?? '').replace(/<\/script/gi, '<\\/script');
      }),
    );
  }
  for (const el of doc.querySelectorAll<HTMLElement>('img[src], source[src], link[rel~="icon"][href], input[type="image"][src]')) {
    const attr = el.hasAttribute('src') ? 'src' : 'href';
    const url = sameServer(el.getAttribute(attr));
    if (!url) continue;
    jobs.push(dataUrl(fetchPart, url, budget).then((data) => void (data ? el.setAttribute(attr, data) : el.removeAttribute(attr))));
  }
  await Promise.all(jobs);
  // Links to the same server load in the preview (the click posts the path to the page); others
  // open in a new tab. No <base href>: a part left out must not be asked of the reader's own localhost.
  for (const a of doc.querySelectorAll<HTMLAnchorElement>('a[href]')) {
    const url = sameServer(a.getAttribute('href'));
    if (!url) continue;
    a.setAttribute('data-preview-path', url.pathname + url.search);
    a.setAttribute('href', '#');
  }
  doc.head.insertAdjacentHTML(
    'afterbegin',
    `<base target="_blank"><script>addEventListener('click', (e) => {
      const a = e.target.closest && e.target.closest('a[data-preview-path]');
      if (!a) return;
      e.preventDefault();
      parent.postMessage({ ${JSON.stringify(LINK_MESSAGE)}: a.dataset.previewPath }, '*');
    });</script>`,
  );
  return `<!doctype html>${doc.documentElement.outerHTML}`;
}

/** A plain-text answer (JSON, text), shown as it is. */
export function textDocument(body: string): string {
  return `<!doctype html><meta charset="utf-8"><pre style="white-space:pre-wrap;font:13px ui-monospace,monospace;margin:8px">${escapeHtml(body)}</pre>`;
}

async function text(fetchPart: Fetch, url: URL, budget: { left: number }): Promise<string | undefined> {
  const bytes = await part(fetchPart, url, budget);
  return bytes && new TextDecoder().decode(bytes.data);
}

async function dataUrl(fetchPart: Fetch, url: URL, budget: { left: number }): Promise<string | undefined> {
  const bytes = await part(fetchPart, url, budget);
  if (!bytes) return undefined;
  let binary = '';
  for (let i = 0; i < bytes.data.length; i += 0x8000) binary += String.fromCharCode(...bytes.data.subarray(i, i + 0x8000));
  return `data:${bytes.type};base64,${btoa(binary)}`;
}

async function part(fetchPart: Fetch, url: URL, budget: { left: number }): Promise<{ data: Uint8Array; type: string } | undefined> {
  try {
    const res = await fetchPart(url.href);
    if (!res.ok) return undefined;
    const data = new Uint8Array(await res.arrayBuffer());
    if (data.length > budget.left) return undefined;
    budget.left -= data.length;
    return { data, type: (res.headers.get('content-type') ?? 'application/octet-stream').split(';')[0].trim() };
  } catch {
    return undefined;
  }
}

/** url(…) in CSS (images, fonts) of the same server, as data: URLs. */
async function inlineCssUrls(css: string, base: URL, fetchPart: Fetch, budget: { left: number }, origin: string): Promise<string> {
  const refs = new Map<string, Promise<string | undefined>>();
  for (const m of css.matchAll(/url\(\s*(['"]?)([^'")]+)\1\s*\)/g)) {
    let url: URL;
    try {
      url = new URL(m[2], base);
    } catch {
      continue;
    }
    if (url.origin === origin && !refs.has(m[2])) refs.set(m[2], dataUrl(fetchPart, url, budget));
  }
  const found = new Map<string, string | undefined>();
  for (const [ref, p] of refs) found.set(ref, await p);
  return css.replace(/url\(\s*(['"]?)([^'")]+)\1\s*\)/g, (whole, _q, ref: string) => {
    const data = found.get(ref);
    return data ? `url("${data}")` : whole;
  });
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
}
