import { TerminalError } from '../../boot/errors.js';

/**
 * The reader's working directory is v86's in-memory 9p file system, mounted in the guest (see
 * guest/rootfs/usr/sbin/dt-init). v86's own create_file() neither makes folders, nor replaces a
 * file (it adds a second entry), nor sets a mode, so these use its file system object directly.
 */
export interface Fs9p {
  inodes: Array<{ mode: number; size: number; symlink?: string }>;
  SearchPath(path: string): { id: number; parentid: number };
  IsDirectory(id: number): boolean;
  CreateDirectory(name: string, parentid: number): number;
  CreateBinaryFile(name: string, parentid: number, data: Uint8Array): Promise<number>;
  set_data(id: number, data: Uint8Array): Promise<void>;
  read_file(path: string): Promise<Uint8Array | null>;
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

function folderOf(fs: Fs9p, path: string): number {
  let parent = 0;
  const names = path.split('/').slice(0, -1);
  names.forEach((name, i) => {
    const at = names.slice(0, i + 1).join('/');
    let id = fs.SearchPath(at).id;
    if (id === -1) {
      id = fs.CreateDirectory(name, parent);
      fs.inodes[id].mode = S_IFDIR | 0o755;
    } else if (!fs.IsDirectory(id)) {
      throw new TerminalError('invalid-file', `Cannot write "${path}": "${at}" is a file in the working directory, not a folder.`);
    }
    parent = id;
  });
  return parent;
}

/** Creates or replaces `path` (relative to the working directory, already checked). */
export async function writeFile(fs: Fs9p, path: string, data: Uint8Array, mode: number): Promise<void> {
  const parent = folderOf(fs, path);
  let id = fs.SearchPath(path).id;
  if (id !== -1 && fs.IsDirectory(id)) throw new TerminalError('invalid-file', `Cannot write "${path}": it is a folder in the working directory.`);
  if (id === -1) id = await fs.CreateBinaryFile(path.split('/').pop()!, parent, data);
  else {
    await fs.set_data(id, data.slice());
    fs.inodes[id].size = data.byteLength;
  }
  fs.inodes[id].mode = S_IFREG | (mode & 0o7777);
}

export async function readFile(fs: Fs9p, path: string): Promise<Uint8Array> {
  const { id } = fs.SearchPath(path);
  if (id === -1) throw new TerminalError('file-not-found', `There is no "${path}" in the working directory (~/work).`);
  if (fs.IsDirectory(id)) throw new TerminalError('file-not-found', `"${path}" is a folder, not a file.`);
  const inode = fs.inodes[id];
  if ((inode.mode & S_IFMT) === S_IFLNK)
    throw new TerminalError('invalid-file', `"${path}" is a symbolic link${inode.symlink ? ` to "${inode.symlink}"` : ''}, not a file: read the file it points to.`);
  const data = await fs.read_file(path);
  // (v86 hands out a view of its own buffer: copy, so the page cannot change the file by accident)
  return data ? data.slice() : new Uint8Array(0);
}
