// <docker-terminal> comes from the built /dist/docker-terminal.js (see preview-head.html). Wait for it
// before a story renders, and say what to do if it is missing.
const ELEMENT_TIMEOUT_MS = 10_000;

async function elementDefined() {
  if (customElements.get('docker-terminal')) return {};
  const timeout = new Promise((_, reject) =>
    setTimeout(
      () =>
        reject(
          new Error(
            '<docker-terminal> is not defined: /dist/docker-terminal.js did not load. Run `npm run build`, then restart Storybook.',
          ),
        ),
      ELEMENT_TIMEOUT_MS,
    ),
  );
  await Promise.race([customElements.whenDefined('docker-terminal'), timeout]);
  return {};
}

/** @type {import('@storybook/web-components-vite').Preview} */
const preview = {
  loaders: [elementDefined],
  parameters: {
    layout: 'padded',
    controls: { expanded: true, sort: 'none' },
  },
};

export default preview;
