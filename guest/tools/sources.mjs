// Build step run by guest/build.sh: writes SOURCES.md for the bundle: every Debian source package
// the machine holds a binary of, with its version and where its source is (Debian's snapshot
// archive keeps every version). The GPL asks whoever ships the binaries to offer the sources.
// Usage: node sources.mjs DPKG_STATUS PACKAGES_FILE... > SOURCES.md
//   DPKG_STATUS: the root file system's var/lib/dpkg/status; PACKAGES_FILE: lines "package version source",
//   for what is in the machine without dpkg knowing it (Docker from trixie, busybox, the BIOS).
import fs from 'node:fs';

const [status, ...extra] = process.argv.slice(2);
const sources = new Map();
const add = (pkg, version, source) => {
  // "Source: name (version)" when the source's version differs from the binary's
  const m = /^(\S+)(?: \(([^)]+)\))?$/.exec(source || pkg);
  const key = `${m[1]} ${m[2] ?? version}`;
  if (!sources.has(key)) sources.set(key, { name: m[1], version: m[2] ?? version, binaries: new Set() });
  sources.get(key).binaries.add(pkg);
};
for (const stanza of fs.readFileSync(status, 'utf8').split(/\n\n+/)) {
  const field = (name) => new RegExp(`^${name}: (.*)$`, 'm').exec(stanza)?.[1];
  if (field('Package') && /installed/.test(field('Status') ?? '')) add(field('Package'), field('Version'), field('Source'));
}
for (const file of extra)
  for (const line of fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const [pkg, version, ...source] = line.split(' ');
    add(pkg, version, source.join(' '));
  }

const rows = [...sources.values()].sort((a, b) => a.name.localeCompare(b.name));
const snapshot = (s) => `https://snapshot.debian.org/package/${s.name}/${encodeURIComponent(s.version)}/`;
process.stdout.write(`# The sources of this machine

The docker-terminal machine (the docker-terminal-guest packages) is built from Debian's binary
packages, unchanged but for what docker-terminal's guest/build.sh notes (module signatures removed,
documentation left out). These are the Debian source packages they come from, ${rows.length} in all,
with the version of each. Debian's snapshot archive keeps every version of every source package:
each link below leads to its source files (the .dsc, the upstream tarball and Debian's changes),
which \`dget\` or \`apt-get source\` also fetch.

The licence of each binary package is in licenses/ (its Debian copyright file); the texts they refer
to are in licenses/common-licenses/. The Linux kernel and BusyBox are under the GNU GPL version 2.

| source package | version | binary packages in the machine | source |
|---|---|---|---|
${rows.map((s) => `| ${s.name} | ${s.version} | ${[...s.binaries].sort().join(', ')} | ${snapshot(s)} |`).join('\n')}
`);
