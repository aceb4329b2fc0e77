#!/bin/bash
# Unpacks Debian packages into a root file system on the host as `dpkg --unpack` would, without running
# any of their maintainer scripts: those are i386 programs' work, and the host must never run one (its
# kernel may refuse i386 binaries). What is left for the guest (guest/configure/dt-configure, in v86):
# the preinst and postinst scripts and the triggers.
#  - files from each package's data, owners as numbers (the ids of Debian's base-passwd), merged /usr;
#  - dpkg's database: every package "install ok unpacked", its scripts and file list in info/, its
#    conffiles unpacked as *.dpkg-new (dpkg --configure puts them in place), its trigger interests.
# Usage: unpack-debs.sh ROOT DEB...
set -euo pipefail
root=$1
shift
db=$root/var/lib/dpkg
mkdir -p "$db"/{info,updates,triggers,alternatives,parts} "$root"/usr/{bin,sbin,lib}
# (bookworm's merged /usr, as debootstrap lays it out for i386)
for d in bin sbin lib; do ln -sfn "usr/$d" "$root/$d"; done
: >"$db/status"
: >"$db/triggers/Unincorp"
ctl=$(mktemp -d)
trap 'rm -rf "$ctl"' EXIT
n=0
for deb; do
  rm -rf "$ctl" && mkdir -p "$ctl"
  dpkg-deb --control "$deb" "$ctl"
  field() { sed -n "s/^$1: //p" "$ctl/control"; }
  pkg=$(field Package)
  # (dpkg names the files of a Multi-Arch: same package with its architecture)
  name=$pkg
  [ "$(field Multi-Arch)" = same ] && name=$pkg:$(field Architecture)
  # The file list as dpkg keeps it: "/." for the archive's root, then each path without ./ or a final /.
  dpkg-deb --fsys-tarfile "$deb" | tar -x -v --numeric-owner --keep-directory-symlink -C "$root" |
    sed -e 's|^\./$|/.|' -e 's|^\.||' -e 's|/$||' >"$db/info/$name.list"
  conffiles=""
  if [ -s "$ctl/conffiles" ]; then
    while read -r f; do
      case $f in /*) ;; *) continue ;; esac # (flags such as remove-on-upgrade)
      mv "$root$f" "$root$f.dpkg-new"
      conffiles="$conffiles $f newconffile"$'\n'
    done <"$ctl/conffiles"
  fi
  for f in "$ctl"/*; do
    case ${f##*/} in control) ;; *) cp -p "$f" "$db/info/$name.${f##*/}" ;; esac
  done
  # Trigger interests: a name's file lists its packages, File lists paths (dpkg's own formats).
  if [ -s "$ctl/triggers" ]; then
    while read -r kind trig _; do
      case $kind in interest) suffix= ;; interest-noawait) suffix=/noawait ;; interest-await) suffix= ;; *) continue ;; esac
      case $trig in
        /*) echo "$trig $pkg$suffix" >>"$db/triggers/File" ;;
        *) echo "$pkg$suffix" >>"$db/triggers/$trig" ;;
      esac
    done <"$ctl/triggers"
  fi
  {
    sed -n '1p' "$ctl/control"
    echo "Status: install ok unpacked"
    sed '1d' "$ctl/control"
    [ -z "$conffiles" ] || printf 'Conffiles:\n%s' "$conffiles"
    echo
  } >>"$db/status"
  n=$((n + 1))
  [ $((n % 20)) -ne 0 ] || echo "unpack: $n of $# packages" >&2
done
echo "unpack: $n packages unpacked into $root" >&2
