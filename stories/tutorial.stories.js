// The demo tutorial (demo/tutorial.html, also served by `npm start`): one <docker-terminal> with the
// tutorial's files as child scripts, driven by <docker-terminal-command> Run buttons through
// docker run → docker build → docker compose. Shown as the page itself, so there is one copy of it.
export default {
  title: 'Tutorial/Run, build, compose',
  parameters: { layout: 'fullscreen' },
};

export const Tutorial = {
  render: () => {
    const frame = document.createElement('iframe');
    frame.src = '/demo/tutorial.html';
    frame.title = 'Tutorial: run, build, compose';
    frame.style.cssText = 'border: 0; width: 100%; height: 100vh;';
    return frame;
  },
};
