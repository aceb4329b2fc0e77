// The shell protocol behind run(), fed with console text as the guest's bash prints it
// (see guest/rootfs/root/.bashrc). No emulator here: the end-to-end tests cover the real guest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PromptTracker } from '../../dist/esm/protocol/prompt.js';

const prompt = (status, n) => `\x1b]133;D;${status}\x07\x1b]133;A\x07\x1b[1;34m~\x1b[0m # \x1b]133;B;${n}\x07`;

function tracker() {
  const t = new PromptTracker();
  const sent = [];
  t.feed(prompt(0, 1));
  return { t, sent, send: (s) => sent.push(s) };
}

test('resolves with the exit code and the output between the echo and the next prompt', async () => {
  const { t, sent, send } = tracker();
  const r = t.run('ls /nope', send);
  await Promise.resolve();
  assert.deepEqual(sent, ['ls /nope\r']);
  t.feed('ls /nope\r\nls: cannot access');
  t.feed(" '/nope': No such file or directory\r\n" + prompt(2, 2));
  assert.deepEqual(await r, { exitCode: 2, output: "ls: cannot access '/nope': No such file or directory" });
});

test('a prompt redrawn after a resize does not end the command', async () => {
  const { t, send } = tracker();
  let done = false;
  const r = t.run('sleep 5; echo late', send).then((x) => ((done = true), x));
  await Promise.resolve();
  // The terminal was resized as the command arrived: readline redraws prompt 1, then runs it.
  t.feed('\r' + prompt(0, 1) + 'sleep 5; echo late\r\n');
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(done, false);
  t.feed('late\r\n' + prompt(0, 2));
  assert.deepEqual(await r, { exitCode: 0, output: 'late' });
});

test('marks split across chunks are still seen, and commands queue', async () => {
  const { t, sent, send } = tracker();
  const a = t.run('echo a', send);
  const b = t.run('echo b', send);
  await Promise.resolve();
  assert.equal(sent.length, 1, 'the second command waits for the first');
  const p2 = prompt(0, 2);
  t.feed('echo a\r\na\r\n' + p2.slice(0, 7));
  t.feed(p2.slice(7));
  assert.deepEqual(await a, { exitCode: 0, output: 'a' });
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(sent, ['echo a\r', 'echo b\r']);
  t.feed('echo b\r\nb\r\n' + prompt(0, 3));
  assert.deepEqual(await b, { exitCode: 0, output: 'b' });
});

test('waits for the prompt when something runs in the foreground', async () => {
  const t = new PromptTracker();
  const sent = [];
  t.feed(prompt(0, 1));
  t.typed('docker run --rm -it busybox\r');
  const r = t.run('echo back', (s) => sent.push(s));
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(sent, [], 'nothing is typed into the container');
  t.feed('/ # exit\r\n' + prompt(0, 2));
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(sent, ['echo back\r']);
  t.feed('echo back\r\nback\r\n' + prompt(0, 3));
  assert.deepEqual(await r, { exitCode: 0, output: 'back' });
});

test('stopping the machine fails the command in flight, the queued ones and prompt waiters, and later calls at once', async () => {
  const { t, send } = tracker();
  const first = t.run('sleep 600', send);
  const second = t.run('echo queued', send);
  const waiter = t.nextPrompt();
  await Promise.resolve();
  t.abort(new Error('machine stopped'));
  for (const p of [first, second, waiter, t.run('echo later', send), t.nextPrompt()]) await assert.rejects(p, /machine stopped/);
});

test('onStart is called as the command is typed, after what was ahead of it; idle tells when the shell is free', async () => {
  const { t, sent, send } = tracker();
  assert.equal(t.idle, true);
  const events = [];
  const a = t.run('sleep 1', send, () => events.push(`start a, sent ${sent.length}`));
  const b = t.run('echo b', send, () => events.push(`start b, sent ${sent.length}`));
  assert.equal(t.idle, false);
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(events, ['start a, sent 0']);
  t.feed('sleep 1\r\n' + prompt(0, 2));
  await a;
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(events, ['start a, sent 0', 'start b, sent 1']);
  t.feed('echo b\r\nb\r\n' + prompt(0, 3));
  assert.deepEqual(await b, { exitCode: 0, output: 'b' });
  assert.equal(t.idle, true);
  // Something the reader typed holds the foreground: not idle until its prompt.
  t.typed('sleep 5\r');
  assert.equal(t.idle, false);
  t.feed('\r\n' + prompt(0, 4));
  assert.equal(t.idle, true);
});

// The prompt marks with this boot's key, as .bashrc prints them once the host has given it.
const keyed = (status, n, key = 'c0ffee') => `\x1b]133;D;${status};${key}\x07\x1b]133;A\x07~ # \x1b]133;B;${n};${key}\x07`;

test('with a key, marks a command prints without it do not end the command, nor shift the next result', async () => {
  const t = new PromptTracker();
  const sent = [];
  const send = (s) => sent.push(s);
  t.feed(keyed(0, 1));
  t.setKey('c0ffee');
  let done = false;
  const first = t.run("printf '\\033]133;D;0\\007\\033]133;B;999\\007'; exit 7", send).then((r) => ((done = true), r));
  await Promise.resolve();
  t.feed("printf ...\r\n\x1b]133;D;0\x07\x1b]133;B;999\x07\x1b]133;D;0;bad\x07\x1b]133;B;998;bad\x07");
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(done, false, 'forged marks ended the command');
  t.feed(keyed(7, 2));
  assert.equal((await first).exitCode, 7);
  const second = t.run('echo next', send);
  await Promise.resolve();
  t.feed('echo next\r\nnext\r\n' + keyed(0, 3));
  assert.deepEqual(await second, { exitCode: 0, output: 'next' });
});

test('a command that runs nothing (blank, comments) resolves at once and types nothing', async () => {
  const { t, sent, send } = tracker();
  for (const c of ['', '   ', '# a comment', '  # one\n\n# two'])
    assert.deepEqual(await t.run(c, send), { exitCode: 0, output: '' }, JSON.stringify(c));
  assert.deepEqual(sent, []);
  assert.equal(t.idle, true);
});

test('a command of several lines is typed as one paste and gives one result', async () => {
  const { t, sent, send } = tracker();
  const r = t.run('echo first\necho second', send);
  await Promise.resolve();
  assert.deepEqual(sent, ['\x1b[200~echo first\necho second\x1b[201~\r']);
  t.feed('echo first\r\necho second\r\nfirst\r\nsecond\r\n' + prompt(0, 2));
  assert.deepEqual(await r, { exitCode: 0, output: 'first\nsecond' });
});

test('a line the reader left half-typed is taken away first and put back after', async () => {
  const { t, sent, send } = tracker();
  t.typed('echo AAA');
  const r = t.run('echo BBB', send);
  await Promise.resolve();
  assert.deepEqual(sent, ['\x05\x15echo BBB\r']);
  t.feed('echo BBB\r\nBBB\r\n' + prompt(0, 2));
  assert.deepEqual(await r, { exitCode: 0, output: 'BBB' });
  await Promise.resolve();
  assert.deepEqual(sent, ['\x05\x15echo BBB\r', '\x19']);
  // Typed and rubbed out again: nothing to put back.
  const u = tracker();
  u.t.typed('ab\x7f\x7f');
  const r2 = u.t.run('true', u.send);
  await Promise.resolve();
  assert.deepEqual(u.sent, ['true\r']);
  u.t.feed('true\r\n' + prompt(0, 2));
  await r2;
});

test('a prompt drawn again as readline takes the Enter (after a paste) is not the next prompt', async () => {
  const { t, sent, send } = tracker();
  // The reader pastes a command and presses Enter: readline redraws the line (clearing the paste's
  // highlight) before it prints the newline and runs the command.
  t.typed("echo 'pasted' > f");
  t.typed('\r');
  t.feed('\r' + prompt(0, 1) + "echo 'pasted' > f");
  assert.equal(t.idle, false, 'the redrawn line is not a prompt');
  const r = t.run('readlink link', send);
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(sent, [], 'run() waits for the pasted command to finish');
  t.feed('\r\n' + prompt(0, 2));
  await Promise.resolve();
  assert.deepEqual(sent, ['readlink link\r']);
  t.feed('readlink link\r\n/etc/hostname\r\n' + prompt(0, 3));
  assert.deepEqual(await r, { exitCode: 0, output: '/etc/hostname' });
});

test('Enter on an empty line gives a prompt with the same number, which counts', async () => {
  const { t, send } = tracker();
  t.typed('\r');
  t.feed('\r\n' + prompt(0, 1));
  assert.equal(t.idle, true);
  const r = t.run('true', send);
  await Promise.resolve();
  t.feed('true\r\n' + prompt(0, 2));
  assert.deepEqual(await r, { exitCode: 0, output: '' });
});
