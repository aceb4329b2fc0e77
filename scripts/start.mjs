// npm start: build what is missing (the element, the guest bundle), then serve the demo page.
import { buildElement, buildGuest } from './setup.mjs';
import { serve } from './serve.mjs';

buildElement();
buildGuest();
const port = Number(process.env.PORT ?? 8080);
const { url } = await serve({ port, host: process.env.HOST ?? '127.0.0.1' });
console.log(`\ndocker-terminal demo: ${url}demo/\ntutorial (run, build, compose): ${url}demo/tutorial.html\n(Ctrl-C stops the server)`);
