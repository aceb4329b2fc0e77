// Storybook for <docker-terminal>: the stories load the BUILT element (`npm run build` first) from
// /dist/docker-terminal.js and its machine bundle from /dist/guest/, both served as static files so
// Vite never bundles or transforms them (the entry finds its wasm and chunks beside itself).
//
// Offline: no telemetry, no crash reports, no update check, no "what's new" fetch. The npm script
// also passes --disable-telemetry and --no-version-updates.
import { REQUEST_WHATS_NEW_DATA, RESULT_WHATS_NEW_DATA } from 'storybook/internal/core-events';

/** @type {import('@storybook/web-components-vite').StorybookConfig} */
const config = {
  framework: { name: '@storybook/web-components-vite', options: {} },
  stories: ['../stories/**/*.stories.js'],
  // `from` is relative to this folder: the repo's dist/ (element, chunks, v86.wasm, guest/) at /dist.
  // The demo pages at /demo (the tutorial story shows demo/tutorial.html, which loads ../dist/…).
  staticDirs: [
    { from: '../dist', to: '/dist' },
    { from: '../demo', to: '/demo' },
  ],
  core: {
    disableTelemetry: true,
    disableWhatsNewNotifications: true,
    disableProjectJson: true,
  },
  // Storybook's own preset answers the manager's "what's new" request by fetching a post from the
  // Storybook site, whatever disableWhatsNewNotifications says. Answer it here, without the network.
  experimental_serverChannel: async (channel) => {
    channel.removeAllListeners(REQUEST_WHATS_NEW_DATA);
    channel.on(REQUEST_WHATS_NEW_DATA, () => channel.emit(RESULT_WHATS_NEW_DATA, { data: { status: 'ERROR' } }));
    return channel;
  },
  viteFinal: async (viteConfig) => {
    const ignored = ['**/dist/**', '**/guest/**', '**/bench/**', '**/test/**', '**/storybook-static/**'];
    const existing = viteConfig.server?.watch?.ignored;
    return {
      ...viteConfig,
      server: {
        ...viteConfig.server,
        // dist/guest holds thousands of disk chunks and may be rebuilt while Storybook runs: do not watch it.
        watch: { ...viteConfig.server?.watch, ignored: [...(Array.isArray(existing) ? existing : existing ? [existing] : []), ...ignored] },
      },
    };
  },
};

export default config;
