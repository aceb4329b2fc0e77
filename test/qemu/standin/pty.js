// The stand-in's terminal: Emscripten's tty device reads from and writes to Module.pty, an
// xterm-pty slave, as container2wasm's QEMU does through xterm-pty's emscripten-pty.js. That
// library needs a newer Emscripten than Debian's 3.1.6, so the stand-in has this small one that
// uses the same slave calls (read, write, readable, writable). Reads that find nothing fail with
// EAGAIN; the stand-in waits and tries again (it runs on a pthread, where waiting is allowed).
Object.assign(LibraryManager.library.$TTY.stream_ops, {
  read: function (stream, buffer, offset, length) {
    var bytes = Module['pty'].read(length);
    if (length && !bytes.length) throw new FS.ErrnoError({{{ cDefine('EAGAIN') }}});
    for (var i = 0; i < bytes.length; i++) buffer[offset + i] = bytes[i];
    return bytes.length;
  },
  write: function (stream, buffer, offset, length) {
    var bytes = [];
    for (var i = 0; i < length; i++) bytes.push(buffer[offset + i] & 255);
    Module['pty'].write(bytes);
    return length;
  },
  poll: function (stream) {
    return (Module['pty'].readable ? {{{ cDefine('POLLIN') }}} : 0) | (Module['pty'].writable ? {{{ cDefine('POLLOUT') }}} : 0);
  },
});
