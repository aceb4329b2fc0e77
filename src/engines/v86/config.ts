/**
 * The machine v86 emulates, in one place: the element's engine and the guest builder
 * (guest/tools/machine.mjs, which bakes the saved state) both build v86's options here. A saved
 * state restores only into the devices it was saved with, so the two must never differ.
 */

/** A file for v86: bytes in memory, or (under Node) a path or URL it reads itself. */
export type V86File = { buffer: ArrayBuffer } | { url: string; size?: number; async?: boolean; use_parts?: boolean; fixed_chunk_size?: number };

/** A disk of the page's own, which v86 takes as it is: anything with load, get and set (see ./disk.ts). */
export interface V86Disk {
  load(): void;
  get(offset: number, len: number, fn: (data: Uint8Array) => void): void;
  set(offset: number, data: Uint8Array, fn: () => void): void;
}

/**
 * The machine's network (src/engines/v86/network.ts answers it in the tab). Fixed addresses: the
 * guest sets them itself at boot (guest/rootfs/etc/docker-terminal.conf), and the saved state
 * holds them, so no DHCP round trip is waited for. dockerd's registry mirror is the router's
 * registryPort (guest/rootfs/etc/docker/daemon.json): the page's `registry`, answered in the tab.
 */
export const NET = { router: '192.168.86.1', guest: '192.168.86.100', routerMac: '52:54:00:01:02:03', mtu: 32000, registryPort: 5000 } as const;

export interface V86Machine {
  memoryMB: number;
  bios: V86File;
  vgaBios: V86File;
  /** The root disk (hda). */
  disk: V86File | V86Disk;
  /** A second disk (hdb): the build's configure boot writes its result there. */
  disk2?: V86File;
  /** Restore this saved state; otherwise boot `kernel` + `initrd` with `cmdline`. */
  state?: V86File;
  kernel?: V86File;
  initrd?: V86File;
  cmdline?: string;
  wasmPath?: string;
  wasmFn?: (env: WebAssembly.Imports) => Promise<WebAssembly.Exports>;
}

export function v86Config(m: V86Machine): Record<string, unknown> {
  const config: Record<string, unknown> = {
    memory_size: m.memoryMB * 1024 * 1024,
    vga_memory_size: 2 * 1024 * 1024,
    bios: m.bios,
    vga_bios: m.vgaBios,
    hda: m.disk,
    // The control port (src/protocol/control.ts).
    uart1: true,
    // A spare shell on the third port, for a terminal that shares this machine (the guest does not
    // detect the fourth, but the saved state holds it).
    uart2: true,
    uart3: true,
    // An empty 9p file system: the reader's working directory (the saved state has it mounted).
    filesystem: {},
    // A virtio network card in every machine, so one saved state restores with or without a
    // network. v86's "fetch" adapter only gives the router (ARP, DHCP) and a TCP stack: the
    // element routes DNS and connections itself (./network.ts). The MAC comes from the state, so
    // the guest's eth0 keeps answering to it.
    // The large MTU: v86's TCP sends one segment and waits for its ACK, so a segment of 32 KB
    // rather than 1.5 KB is what makes a pull of 50 MB take seconds (Docker's bridges get it too:
    // guest/rootfs/etc/docker/daemon.json). Not 64 KB: a segment must fit the guest's window
    // (64 KB at most: v86 does not scale windows).
    net_device: { type: 'virtio', relay_url: 'fetch', router_ip: NET.router, vm_ip: NET.guest, router_mac: NET.routerMac, mtu: NET.mtu },
    preserve_mac_from_state_image: true,
    autostart: true,
    disable_keyboard: true,
    disable_mouse: true,
    disable_speaker: true,
  };
  if (m.disk2) config.hdb = m.disk2;
  if (m.wasmPath) config.wasm_path = m.wasmPath;
  if (m.wasmFn) config.wasm_fn = m.wasmFn;
  if (m.state) config.initial_state = m.state;
  else Object.assign(config, { bzimage: m.kernel, initrd: m.initrd, cmdline: m.cmdline ?? '' });
  return config;
}
