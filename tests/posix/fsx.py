#!/usr/bin/env python3
"""Randomized file-operation exerciser: the same operations on the mount and on a local
directory, compared one by one (fsx style).

  fsx.py --mnt DIR --ref DIR [--ops 100000] [--seed 4242] [--other DIR2]

Operations: writes (through long-lived handles, through open/write/close, through O_APPEND),
reads at random offsets, truncates up and down (by handle and by path), renames (over files,
across directories), hard links, unlinks (handles of unlinked files stay in use), fsync, stat
and readdir comparisons. Offsets cluster near 0 and near the 64 MiB chunk boundary, so writes
and truncates cross chunks. With --other (the mount's directory seen through a second mount),
some reads and stats go through the other mount after a close (close-to-open). The seed fixes
the whole sequence. On the first divergence it prints the operation, what differed and the
operations before it, and exits 1.
"""
import argparse
import collections
import errno
import os
import random
import sys
import time

CHUNK = 64 << 20
DIRS = ["d0", "d1", "d2"]
NAMES = ["f%d" % i for i in range(6)]


class Divergence(Exception):
    pass


class Fsx:
    def __init__(self, mnt, ref, seed, other, links=True):
        self.links = links
        self.mnt, self.ref, self.other = mnt, ref, other
        self.rng = random.Random(seed)
        self.fds = {}        # relative name -> (fd on the mount, fd on the reference)
        self.orphans = []    # handles of names that were unlinked or replaced
        self.history = collections.deque(maxlen=25)
        for d in DIRS:
            os.makedirs(os.path.join(mnt, d), exist_ok=True)
            os.makedirs(os.path.join(ref, d), exist_ok=True)

    # ---------------------------------------------------------------- helpers

    def both(self, fn, *rel):
        """Runs fn on the mount's and the reference's paths; results or errnos must agree."""
        out = []
        for root in (self.mnt, self.ref):
            try:
                out.append(("ok", fn(*[os.path.join(root, r) for r in rel])))
            except OSError as e:
                out.append(("err", errno.errorcode.get(e.errno, e.errno)))
        if out[0] != out[1]:
            raise Divergence("mount: %s / reference: %s" % (short(out[0]), short(out[1])))
        return out[1]

    def fd_both(self, pair, fn):
        out = []
        self.last_pair = pair
        for fd in pair:
            try:
                out.append(("ok", fn(fd)))
            except OSError as e:
                out.append(("err", errno.errorcode.get(e.errno, e.errno)))
        if out[0] != out[1]:
            raise Divergence("mount: %s / reference: %s" % (short(out[0]), short(out[1])))
        return out[1]

    def name(self):
        return "%s/%s" % (self.rng.choice(DIRS), self.rng.choice(NAMES))

    def offset(self):
        r = self.rng.random()
        if r < 0.7:
            return self.rng.randrange(0, 256 << 10)
        if r < 0.9:
            return self.rng.randrange(0, 3 << 20)
        return CHUNK + self.rng.randrange(-(128 << 10), 128 << 10)

    def length(self):
        return self.rng.choice([1, 7, 100, 512, 4096, 4097, 65536, 70000, 200000])

    def data(self, n):
        return self.rng.randbytes(n)

    def handle(self, create=True):
        """An open handle pair for an existing or new name, or an orphan."""
        if self.orphans and self.rng.random() < 0.1:
            pair = self.rng.choice(self.orphans)
            self.current = "orphan fd %d" % pair[0]
            return pair
        name = self.name()
        self.current = name
        if name in self.fds:
            return self.fds[name]
        if not create and not os.path.exists(os.path.join(self.ref, name)):
            return None
        flags = os.O_RDWR | os.O_CREAT
        pair = (os.open(os.path.join(self.mnt, name), flags, 0o644),
                os.open(os.path.join(self.ref, name), flags, 0o644))
        self.fds[name] = pair
        return pair

    def forget(self, name, orphan):
        pair = self.fds.pop(name, None)
        if pair is None:
            return
        if orphan:
            self.orphans.append(pair)
            if len(self.orphans) > 3:
                close_pair(self.orphans.pop(0))
        else:
            close_pair(pair)

    def drop_handles_of(self, name):
        """The name now names a different inode (or nothing): its handle becomes an orphan."""
        self.forget(name, orphan=True)

    # ---------------------------------------------------------------- operations

    def op_write(self):
        pair, off, data = self.handle(), self.offset(), self.data(self.length())
        self.note("pwrite %d bytes at %d" % (len(data), off))
        self.fd_both(pair, lambda fd: os.pwrite(fd, data, off))

    def op_read(self):
        pair = self.handle(create=False)
        if pair is None:
            return self.note("read: no file")
        off, n = self.offset(), self.length()
        self.note("pread %d at %d" % (n, off))
        self.fd_both(pair, lambda fd: os.pread(fd, n, off))

    def op_write_close(self):
        name, off, data = self.name(), self.offset(), self.data(self.length())
        self.note("open/pwrite/close %s %d bytes at %d" % (name, len(data), off))

        def w(path):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
            try:
                return os.pwrite(fd, data, off)
            finally:
                os.close(fd)
        self.both(w, name)
        if self.other and self.rng.random() < 0.3:
            self.compare_other(name, off, len(data))

    def op_append(self):
        name, data = self.name(), self.data(self.length())
        self.note("append %s %d bytes" % (name, len(data)))

        def a(path):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                os.write(fd, data)
                return os.fstat(fd).st_size
            finally:
                os.close(fd)
        self.both(a, name)

    def op_truncate(self):
        size = self.offset() if self.rng.random() < 0.8 else 0
        if self.rng.random() < 0.5:
            pair = self.handle()
            self.note("ftruncate to %d" % size)
            self.fd_both(pair, lambda fd: os.ftruncate(fd, size))
        else:
            name = self.name()
            self.note("truncate %s to %d" % (name, size))
            self.both(lambda p: os.truncate(p, size), name)

    def op_rename(self):
        a, b = self.name(), self.name()
        self.note("rename %s -> %s" % (a, b))
        res = self.both(os.rename, a, b)
        if res[0] == "ok" and a != b and not self.same_inode(a, b):
            self.drop_handles_of(b)
            if a in self.fds:
                self.fds[b] = self.fds.pop(a)

    def same_inode(self, a, b):
        """After a rename: both names still exist only if they were links to one inode."""
        return os.path.exists(os.path.join(self.ref, a))

    def op_link(self):
        a, b = self.name(), self.name()
        if not self.links:
            return self.note("link %s -> %s: skipped (--no-links)" % (a, b))
        self.note("link %s -> %s" % (a, b))
        self.both(os.link, a, b)

    def op_unlink(self):
        a = self.name()
        self.note("unlink %s" % a)
        res = self.both(os.unlink, a)
        if res[0] == "ok":
            self.drop_handles_of(a)

    def op_stat(self):
        a = self.name()
        self.note("stat %s" % a)
        self.both(lambda p: (os.stat(p).st_size, os.stat(p).st_nlink), a)

    def op_fstat(self):
        pair = self.handle(create=False)
        if pair is None:
            return self.note("fstat: no file")
        self.note("fstat")
        self.fd_both(pair, lambda fd: (os.fstat(fd).st_size, os.fstat(fd).st_nlink))

    def op_fsync(self):
        pair = self.handle(create=False)
        if pair is None:
            return self.note("fsync: no file")
        self.note("fsync")
        self.fd_both(pair, os.fsync)

    def op_close(self):
        if not self.fds:
            return self.note("close: nothing open")
        name = self.rng.choice(sorted(self.fds))
        self.note("close %s" % name)
        self.forget(name, orphan=False)

    def op_readdir(self):
        d = self.rng.choice(DIRS)
        self.note("readdir %s" % d)
        self.both(lambda p: sorted(os.listdir(p)), d)

    def op_read_whole(self):
        name = self.name()
        self.note("read whole %s" % name)

        def r(path):
            if os.stat(path).st_size > (8 << 20):
                with open(path, "rb") as f:
                    head = f.read(1 << 20)
                    f.seek(CHUNK - (256 << 10))
                    return head + f.read(512 << 10)
            with open(path, "rb") as f:
                return f.read()
        self.both(r, name)

    def compare_other(self, name, off, n):
        """After a close on the first mount, the second mount sees the same bytes. Close-to-open
        covers the closed handle only: other handles of the file still open on the first mount
        are fsync'ed first (their writes may still be gathered in that mount)."""
        ino = os.stat(os.path.join(self.mnt, name)).st_ino
        for pair in list(self.fds.values()) + self.orphans:
            if os.fstat(pair[0]).st_ino == ino:
                os.fsync(pair[0])

        def r(root):
            with open(os.path.join(root, name), "rb") as f:
                f.seek(off)
                return f.read(n), os.fstat(f.fileno()).st_size
        got, want = r(self.other), r(self.ref)
        if got != want:
            raise Divergence("other mount after close: %s / reference: %s" % (short(got), short(want)))

    def explain(self):
        """Where the handle's two files first differ, and their sizes."""
        pair = getattr(self, "last_pair", None)
        if not pair:
            return
        sizes = [os.fstat(fd).st_size for fd in pair]
        a = os.pread(pair[0], max(sizes), 0)
        b = os.pread(pair[1], max(sizes), 0)
        first = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), None)
        last = next((i for i in range(min(len(a), len(b)) - 1, -1, -1) if a[i] != b[i]), None)
        print("fsx: sizes mount %d / reference %d; bytes differ from %s to %s (mount %r, reference %r)"
              % (sizes[0], sizes[1], first, last, a[first:first + 8] if first is not None else b"",
                 b[first:first + 8] if first is not None else b""))

    OPS = [("op_write", 20), ("op_read", 20), ("op_write_close", 6), ("op_append", 5),
           ("op_truncate", 8), ("op_rename", 4), ("op_link", 3), ("op_unlink", 4),
           ("op_stat", 8), ("op_fstat", 6), ("op_fsync", 1), ("op_close", 5), ("op_readdir", 4),
           ("op_read_whole", 2)]

    current = ""

    def note(self, text):
        if text.startswith(("pwrite ", "pread ", "ftruncate", "fstat", "fsync")):
            text += " [%s]" % self.current
        self.history.append("#%d %s" % (self.n, text))

    def run(self, count):
        names = [n for n, _ in self.OPS]
        weights = [w for _, w in self.OPS]
        started = time.monotonic()
        for self.n in range(1, count + 1):
            op = self.rng.choices(names, weights)[0]
            try:
                getattr(self, op)()
            except Divergence as e:
                print("fsx: DIVERGENCE at operation %d (%s): %s" % (self.n, op, e))
                self.explain()
                print("fsx: the operations before it:")
                for h in self.history:
                    print("    " + h)
                return 1
            if self.n % 10000 == 0:
                print("fsx: %d operations, %.0f s" % (self.n, time.monotonic() - started))
                sys.stdout.flush()
        for pair in list(self.fds.values()) + self.orphans:
            close_pair(pair)
        print("fsx: %d operations, no divergence (%.0f s)" % (count, time.monotonic() - started))
        return 0


def close_pair(pair):
    for fd in pair:
        os.close(fd)


def short(v):
    r = repr(v)
    return r if len(r) <= 160 else r[:150] + "...(%d chars)" % len(r)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mnt", required=True)
    ap.add_argument("--ref", required=True)
    ap.add_argument("--other")
    ap.add_argument("--ops", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=4242)
    ap.add_argument("--no-links", action="store_true",
                    help="make no hard links: with libfuse 2 each name of a hard-linked file has "
                         "its own kernel page cache (a known gap), so data written through one "
                         "name can be read stale through a handle of another")
    a = ap.parse_args()
    print("fsx: seed %d, %d operations, mount %s, reference %s%s" % (
        a.seed, a.ops, a.mnt, a.ref, ", no hard links" if a.no_links else ""))
    return Fsx(a.mnt, a.ref, a.seed, a.other, links=not a.no_links).run(a.ops)


if __name__ == "__main__":
    sys.exit(main())
