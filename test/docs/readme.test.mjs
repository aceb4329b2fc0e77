// The README's tables and lists of attributes, events, parts and CSS properties against
// dist/custom-elements.json, which the analyzer writes from the components' own declarations: a
// name in one and not the other fails, so the README cannot drift from the code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { repo } from '../guest/bundle.mjs';

const readme = fs.readFileSync(path.join(repo, 'README.md'), 'utf8');
const manifest = JSON.parse(fs.readFileSync(path.join(repo, 'dist/custom-elements.json'), 'utf8'));
const element = (tag) => manifest.modules.flatMap((m) => m.declarations ?? []).find((d) => d.tagName === tag);

/** The README's text from a heading to the next heading of the same or a higher level. */
function section(heading) {
  const at = readme.indexOf(`\n${heading}\n`);
  assert.ok(at >= 0, `the README has no "${heading}" section`);
  const level = heading.match(/^#+/)[0].length;
  const rest = readme.slice(at + heading.length + 2);
  const next = rest.search(new RegExp(`\\n#{1,${level}} `));
  return next < 0 ? rest : rest.slice(0, next);
}

/** First-column names of the markdown table in `text`. */
const tableNames = (text) => [...text.matchAll(/^\| `([a-z-]+)`[^|]*\|/gm)].map((m) => m[1]);
const sorted = (a) => [...new Set(a)].sort();

for (const [tag, attributes, theming, events] of [
  ['docker-terminal', '## Attributes', '## Theming', '## Events and errors'],
  ['docker-terminal-command', '## Run-this buttons', '## Run-this buttons', '## Run-this buttons'],
  ['docker-terminal-preview', '## The preview', '## The preview', '## The preview'],
]) {
  const el = element(tag);

  test(`<${tag}>: the README's attribute table lists exactly the attributes of custom-elements.json`, () => {
    assert.deepEqual(sorted(tableNames(section(attributes))), sorted(el.attributes.map((a) => a.name)));
  });

  test(`<${tag}>: every part, CSS property and event of custom-elements.json is in the README`, () => {
    const text = section(theming) + section(events);
    for (const p of el.cssParts ?? []) assert.match(text, new RegExp(`\`${p.name}\``), `part ${p.name}`);
    for (const c of el.cssProperties ?? []) {
      const short = c.name.replace(`--${tag}`, '');
      assert.ok(text.includes(`\`${c.name}\``) || text.includes(`\`${short}\``), `CSS property ${c.name}`);
    }
    for (const e of el.events ?? []) assert.ok(text.includes(e.name) || text.includes(e.name.replace(tag, '')), `event ${e.name}`);
  });

  test(`<${tag}>: the parts the README names are parts of custom-elements.json`, () => {
    const named = [...section(theming).matchAll(/parts? ((?:`[a-z-]+`(?:, | and |,\n| and\n|\n)?)+)/g)].flatMap((m) => [...m[1].matchAll(/`([a-z-]+)`/g)].map((x) => x[1]));
    assert.ok(named.length > 0);
    assert.deepEqual(sorted(named.filter((n) => !(el.cssParts ?? []).some((p) => p.name === n))), []);
  });
}
