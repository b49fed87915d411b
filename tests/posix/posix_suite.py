#!/usr/bin/env python3
"""ShoalFS POSIX conformance suite: one small function per check, run against a directory.

  posix_suite.py --dir DIR [--other DIR2] [--only REGEX] [--known-gaps NAMES] [--list]

DIR is a fresh directory on the mount under test; DIR2, when given, is the same directory seen
through a second mount of the same cluster (locks, close-to-open, appends across mounts).
Run as root it also checks root-only rules (root bypass, chown, device nodes) and runs the
checks that need an unprivileged caller in a forked child that drops to uid 60001 (groups
60001 and 4242); run as an ordinary user it runs those checks directly as that user.
Every check prints PASS or FAIL with the errno or attribute that differed; the exit status
is non-zero if any check failed. Checks named in --known-gaps are run but reported as GAP
(never counted as passed) and do not change the exit status. The same suite passes on a local
Linux filesystem (tmpfs, ext4): that is how the checks themselves are validated.
"""
import argparse
import ctypes
import ctypes.util
import errno
import fcntl
import os
import re
import signal
import socket
import stat
import struct
import sys
import time
import traceback

libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)

OTHER_UID, OTHER_GID, SUPP_GID = 60001, 60001, 4242
THIRD_UID, THIRD_GID = 60002, 60002
AT_FDCWD = -100
UTIME_NOW = (1 << 30) - 1
UTIME_OMIT = (1 << 30) - 2
RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2
XATTR_CREATE, XATTR_REPLACE = os.XATTR_CREATE, os.XATTR_REPLACE
MIB = 1 << 20
GIB = 1 << 30

CHECKS = []


class Fail(Exception):
    pass


def check(kind="any"):
    """kind: any (as whoever runs), unpriv (an unprivileged caller), root, two (two mounts)."""
    def register(fn):
        CHECKS.append((fn.__name__, kind, fn))
        return fn
    return register


# ------------------------------------------------------------------ helpers

class Ctx:
    dir = None
    other = None
    seq = 0


def fresh(mode=0o777):
    """A new, empty directory for one check, writable by everyone (the forked child too)."""
    Ctx.seq += 1
    d = os.path.join(Ctx.dir, "c%03d-%d" % (Ctx.seq, os.getpid()))
    os.mkdir(d)
    os.chmod(d, mode)
    return d


def on_other(path):
    """The same path seen through the second mount."""
    return os.path.join(Ctx.other, os.path.relpath(path, Ctx.dir))


def ename(e):
    return errno.errorcode.get(e, str(e))


def expect_errno(want, fn, *args, **kwargs):
    wants = want if isinstance(want, tuple) else (want,)
    try:
        fn(*args, **kwargs)
    except OSError as e:
        if e.errno not in wants:
            raise Fail("%s: expected %s, got %s" % (getattr(fn, "__name__", fn),
                                                    "/".join(map(ename, wants)), ename(e.errno)))
        return
    raise Fail("%s%r: expected %s, it succeeded" % (getattr(fn, "__name__", fn), args,
                                                   "/".join(map(ename, wants))))


def short(v):
    r = repr(v)
    return r if len(r) <= 120 else r[:100] + "...(%d bytes)" % len(v) if hasattr(v, "__len__") else r[:120]


def eq(got, want, what):
    if got != want:
        raise Fail("%s: expected %s, got %s" % (what, short(want), short(got)))


def true(cond, what):
    if not cond:
        raise Fail(what)


def write_file(path, data=b"", mode=0o644):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def perm(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def cerr(rc):
    """Raises OSError from errno when a libc call returned -1."""
    if rc == -1:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return rc


def c_access(path, mode):
    return cerr(libc.access(path.encode(), mode))


def renameat2(src, dst, flags):
    libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                               ctypes.c_uint]
    return cerr(libc.renameat2(AT_FDCWD, src.encode(), AT_FDCWD, dst.encode(), flags))


class Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def utimensat(path, atime, mtime):
    """atime/mtime: (sec, nsec) or UTIME_NOW / UTIME_OMIT."""
    def ts(v):
        return Timespec(0, v) if isinstance(v, int) else Timespec(v[0], v[1])
    arr = (Timespec * 2)(ts(atime), ts(mtime))
    return cerr(libc.utimensat(AT_FDCWD, path.encode(), arr, 0))


def c_getxattr(path, name, size):
    buf = ctypes.create_string_buffer(max(size, 1))
    return cerr(libc.getxattr(path.encode(), name.encode(), buf if size else None,
                              ctypes.c_size_t(size)))


def c_listxattr(path, size):
    buf = ctypes.create_string_buffer(max(size, 1))
    return cerr(libc.listxattr(path.encode(), buf if size else None, ctypes.c_size_t(size)))


def in_child(fn, uid=None, gid=None, groups=None):
    """Runs fn in a forked child (optionally as another uid/gid); re-raises its failure here."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        code, msg = 0, b""
        try:
            if groups is not None:
                os.setgroups(groups)
            if gid is not None:
                os.setresgid(gid, gid, gid)
            if uid is not None:
                os.setresuid(uid, uid, uid)
            fn()
        except Fail as e:
            code, msg = 1, str(e).encode()
        except BaseException as e:  # noqa: BLE001 - reported to the parent
            code, msg = 2, ("%s: %s" % (type(e).__name__, e)).encode()
        os.write(w, msg)
        os._exit(code)
    os.close(w)
    msg = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        msg += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise Fail(msg.decode() or "child exited with status %d" % status)


def as_unpriv(fn):
    """Runs fn as an unprivileged caller: this user, or (as root) uid 60001 in group 4242."""
    if os.geteuid() == 0:
        in_child(fn, OTHER_UID, OTHER_GID, [OTHER_GID, SUPP_GID])
    else:
        fn()


def as_user(uid, gid, fn, groups=None):
    in_child(fn, uid, gid, groups if groups is not None else [gid])


def supplementary_group():
    groups = [g for g in os.getgroups() if g != os.getegid()]
    if not groups:
        raise Fail("the caller has no supplementary group (the runner adds one)")
    return groups[0]


def wait_until(cond, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise Fail("timed out after %ss waiting for %s" % (seconds, what))


# ================================================================== permissions

@check("unpriv")
def perm_read_denied_without_r():
    def body():
        f = os.path.join(fresh(), "f")
        write_file(f, b"x", 0o200)
        expect_errno(errno.EACCES, os.open, f, os.O_RDONLY)
        os.close(os.open(f, os.O_WRONLY))
    as_unpriv(body)


@check("unpriv")
def perm_write_denied_without_w():
    def body():
        f = os.path.join(fresh(), "f")
        write_file(f, b"x", 0o400)
        expect_errno(errno.EACCES, os.open, f, os.O_WRONLY)
        expect_errno(errno.EACCES, os.open, f, os.O_RDWR | os.O_TRUNC)
        expect_errno(errno.EACCES, os.truncate, f, 0)
        eq(read_file(f), b"x", "content")
    as_unpriv(body)


@check("unpriv")
def perm_owner_class_wins_over_group_and_other():
    def body():
        f = os.path.join(fresh(), "f")
        write_file(f, b"x", 0o077)
        os.chmod(f, 0o077)
        expect_errno(errno.EACCES, os.open, f, os.O_RDONLY)
    as_unpriv(body)


@check("unpriv")
def perm_dir_search_needs_x():
    def body():
        d = os.path.join(fresh(), "d")
        os.mkdir(d)
        write_file(os.path.join(d, "f"), b"x")
        os.chmod(d, 0o600)
        expect_errno(errno.EACCES, os.stat, os.path.join(d, "f"))
        eq(os.listdir(d), ["f"], "listing a readable directory without x")
        os.chmod(d, 0o300)
        os.stat(os.path.join(d, "f"))
        expect_errno(errno.EACCES, os.listdir, d)
        os.chmod(d, 0o700)
    as_unpriv(body)


@check("unpriv")
def perm_dir_change_needs_w():
    def body():
        d = os.path.join(fresh(), "d")
        os.mkdir(d)
        write_file(os.path.join(d, "f"), b"x")
        os.chmod(d, 0o500)
        expect_errno(errno.EACCES, os.open, os.path.join(d, "g"), os.O_CREAT | os.O_WRONLY, 0o644)
        expect_errno(errno.EACCES, os.mkdir, os.path.join(d, "sub"))
        expect_errno(errno.EACCES, os.unlink, os.path.join(d, "f"))
        expect_errno(errno.EACCES, os.rename, os.path.join(d, "f"), os.path.join(d, "h"))
        expect_errno(errno.EACCES, os.symlink, "f", os.path.join(d, "l"))
        os.chmod(d, 0o700)
    as_unpriv(body)


@check("unpriv")
def perm_access_call_follows_mode():
    def body():
        f = os.path.join(fresh(), "f")
        write_file(f, b"x", 0o500)
        os.chmod(f, 0o500)
        c_access(f, os.R_OK)
        c_access(f, os.X_OK)
        c_access(f, os.F_OK)
        expect_errno(errno.EACCES, c_access, f, os.W_OK)
        expect_errno(errno.ENOENT, c_access, f + ".missing", os.F_OK)
    as_unpriv(body)


@check("root")
def perm_supplementary_groups_count():
    d = fresh()
    f = os.path.join(d, "f")
    write_file(f, b"data", 0o640)
    os.chmod(f, 0o640)
    os.chown(f, 0, SUPP_GID)

    def member():
        eq(read_file(f), b"data", "read through a supplementary group")
        expect_errno(errno.EACCES, os.open, f, os.O_WRONLY)

    def stranger():
        expect_errno(errno.EACCES, os.open, f, os.O_RDONLY)
    as_user(OTHER_UID, OTHER_GID, member, [OTHER_GID, SUPP_GID])
    as_user(OTHER_UID, OTHER_GID, stranger, [OTHER_GID])


@check("root")
def perm_root_bypasses_rw_but_not_x():
    d = fresh()
    f = os.path.join(d, "f")
    write_file(f, b"x", 0o000)
    os.chmod(f, 0)
    os.close(os.open(f, os.O_RDWR))
    expect_errno(errno.EACCES, c_access, f, os.X_OK)
    os.chmod(f, 0o100)
    c_access(f, os.X_OK)
    sub = os.path.join(d, "locked")
    os.mkdir(sub, 0)
    os.chmod(sub, 0)
    write_file(os.path.join(sub, "g"), b"y")
    eq(os.listdir(sub), ["g"], "root lists a mode 000 directory")


@check("root")
def perm_sticky_dir_restricts_delete_and_rename():
    d = fresh(0o1777)
    eq(perm(d), 0o1777, "sticky mode")
    f = os.path.join(d, "owned-by-a")
    as_user(OTHER_UID, OTHER_GID, lambda: write_file(f, b"a", 0o666))

    def intruder():
        expect_errno(errno.EPERM, os.unlink, f)
        expect_errno(errno.EPERM, os.rename, f, os.path.join(d, "moved"))
        write_file(os.path.join(d, "mine"), b"b")
        os.rename(os.path.join(d, "mine"), os.path.join(d, "mine2"))
        expect_errno(errno.EPERM, os.rename, os.path.join(d, "mine2"), f)
        os.unlink(os.path.join(d, "mine2"))
    as_user(THIRD_UID, THIRD_GID, intruder)
    as_user(OTHER_UID, OTHER_GID, lambda: os.unlink(f))
    write_file(f, b"again")
    os.unlink(f)  # root may


@check("root")
def perm_chmod_and_utimes_need_owner():
    d = fresh()
    f = os.path.join(d, "f")
    if os.geteuid() != 0:
        raise Fail("needs root to make a file of another owner")
    write_file(f, b"x", 0o666)
    os.chmod(f, 0o666)

    def body():
        expect_errno(errno.EPERM, os.chmod, f, 0o777)
        os.utime(f)  # "now" needs write permission only
        expect_errno(errno.EPERM, os.utime, f, (1, 1))
        expect_errno(errno.EPERM, utimensat, f, (5, 0), UTIME_OMIT)
    as_unpriv(body)
    os.chmod(f, 0o644)
    as_unpriv(lambda: expect_errno(errno.EACCES, os.utime, f))


@check("unpriv")
def chown_rules_for_owner():
    def body():
        f = os.path.join(fresh(), "f")
        write_file(f, b"x")
        me, mygid = os.geteuid(), os.getegid()
        expect_errno(errno.EPERM, os.chown, f, me + 1, -1)
        expect_errno(errno.EPERM, os.chown, f, -1, 54321)
        os.chown(f, me, mygid)  # to oneself: allowed
        g = supplementary_group()
        os.chown(f, -1, g)
        eq(os.stat(f).st_gid, g, "gid after chgrp to a supplementary group")
        eq(os.stat(f).st_uid, me, "uid kept")
    as_unpriv(body)


@check("root")
def chown_by_root_any_ids():
    f = os.path.join(fresh(), "f")
    write_file(f, b"x")
    os.chown(f, 60005, 60006)
    st = os.stat(f)
    eq((st.st_uid, st.st_gid), (60005, 60006), "uid/gid")
    os.chown(f, -1, 60007)
    eq((os.stat(f).st_uid, os.stat(f).st_gid), (60005, 60007), "chown with uid -1")


@check("root")
def chown_clears_setuid_and_exec_setgid():
    d = fresh()
    f = os.path.join(d, "f")
    write_file(f, b"x")
    os.chmod(f, 0o6755)
    os.chown(f, OTHER_UID, -1)
    eq(perm(f), 0o755, "mode after chown of a 06755 file")
    g = os.path.join(d, "g")
    write_file(g, b"x")
    os.chmod(g, 0o2745)
    os.chown(g, OTHER_UID, -1)
    eq(perm(g), 0o2745, "setgid without group-exec survives chown")
    sub = os.path.join(d, "sub")
    os.mkdir(sub)
    os.chmod(sub, 0o2755)
    os.chown(sub, OTHER_UID, -1)
    eq(perm(sub), 0o2755, "directory keeps setgid on chown")


@check("unpriv")
def setuid_cleared_on_write_by_unprivileged():
    def body():
        f = os.path.join(fresh(), "f")
        write_file(f, b"x")
        os.chmod(f, 0o6755)
        eq(perm(f), 0o6755, "mode set")
        fd = os.open(f, os.O_WRONLY)
        os.write(fd, b"y")
        os.close(fd)
        eq(perm(f), 0o755, "mode after a write")
    as_unpriv(body)


def write_one_byte_and_expect_mode(f, want):
    """Writes a byte through a new handle: the handle, a stat after close and the other mount
    (when there is one) must all show mode `want`."""
    fd = os.open(f, os.O_WRONLY)
    try:
        os.write(fd, b"y")
        eq(stat.S_IMODE(os.fstat(fd).st_mode), want, "fstat on the writing handle")
    finally:
        os.close(fd)
    eq(perm(f), want, "stat after close")
    if Ctx.other:
        eq(perm(on_other(f)), want, "stat through the other mount")


def setid_file_written_by_non_owner(owner, owner_gid, mode, want):
    """A file of `mode` owned by owner:owner_gid in a mode-777 directory, written by an
    unprivileged caller who neither owns it nor is in its group: the kernel clears setuid and
    setgid on its behalf (a chmod in the writer's name, which the owner-only rule must allow)."""
    f = os.path.join(fresh(), "f")
    write_file(f, b"x")
    os.chown(f, owner, owner_gid)
    os.chmod(f, mode)
    eq(perm(f), mode, "mode set")
    as_user(THIRD_UID, THIRD_GID, lambda: write_one_byte_and_expect_mode(f, want))


@check("root")
def setuid_cleared_on_write_to_root_owned_file_by_non_owner():
    setid_file_written_by_non_owner(0, 0, 0o4777, 0o777)


@check("root")
def setgid_cleared_on_write_to_root_owned_file_by_non_owner():
    setid_file_written_by_non_owner(0, 0, 0o2777, 0o777)


@check("root")
def setuid_cleared_on_write_to_user_owned_file_by_non_owner():
    setid_file_written_by_non_owner(OTHER_UID, OTHER_GID, 0o4777, 0o777)


@check("root")
def setgid_cleared_on_write_to_user_owned_file_by_non_owner():
    setid_file_written_by_non_owner(OTHER_UID, OTHER_GID, 0o2777, 0o777)


@check("unpriv")
def setuid_and_setgid_cleared_on_write_by_owner_seen_on_handle():
    def body():
        d = fresh()
        for mode in (0o4777, 0o2777):
            f = os.path.join(d, "f%o" % mode)
            write_file(f, b"x")
            os.chmod(f, mode)
            eq(perm(f), mode, "mode set")
            write_one_byte_and_expect_mode(f, 0o777)
    as_unpriv(body)


@check("root")
def setuid_kept_on_write_by_root():
    f = os.path.join(fresh(), "f")
    write_file(f, b"x")
    os.chmod(f, 0o4755)
    fd = os.open(f, os.O_WRONLY)
    os.write(fd, b"y")
    os.close(fd)
    eq(perm(f), 0o4755, "root's write keeps setuid")


@check("root")
def chmod_setgid_dropped_for_non_member():
    f = os.path.join(fresh(), "f")
    write_file(f, b"x")
    os.chown(f, OTHER_UID, 4243)

    def body():
        os.chmod(f, 0o2755)
        eq(perm(f), 0o755, "setgid of a group the caller is not in")
    as_user(OTHER_UID, OTHER_GID, body)


@check("unpriv")
def setgid_dir_passes_group_and_bit():
    def body():
        d = os.path.join(fresh(), "d")
        os.mkdir(d)
        g = supplementary_group()
        os.chown(d, -1, g)
        os.chmod(d, 0o2775)
        eq(perm(d), 0o2775, "setgid dir mode")
        f = os.path.join(d, "f")
        write_file(f, b"x")
        eq(os.stat(f).st_gid, g, "file gid inherited")
        sub = os.path.join(d, "sub")
        os.mkdir(sub, 0o755)
        eq(os.stat(sub).st_gid, g, "subdir gid inherited")
        true(perm(sub) & stat.S_ISGID, "subdir inherits setgid: %o" % perm(sub))
    as_unpriv(body)


# ================================================================== names and links

@check()
def name_too_long_is_enametoolong():
    d = fresh()
    ok = os.path.join(d, "a" * 255)
    write_file(ok, b"x")
    eq(os.listdir(d), ["a" * 255], "255-byte name listed")
    long = os.path.join(d, "b" * 256)
    expect_errno(errno.ENAMETOOLONG, os.open, long, os.O_CREAT | os.O_WRONLY, 0o644)
    expect_errno(errno.ENAMETOOLONG, os.stat, long)
    expect_errno(errno.ENAMETOOLONG, os.mkdir, long)
    expect_errno(errno.ENAMETOOLONG, os.symlink, "x", long)
    expect_errno(errno.ENAMETOOLONG, os.link, ok, long)
    expect_errno(errno.ENAMETOOLONG, os.rename, ok, long)
    write_file(os.path.join(d, "\u00e9" * 127), b"x")  # 254 bytes of UTF-8
    expect_errno(errno.ENAMETOOLONG, os.mkdir, os.path.join(d, "\u00e9" * 128))


@check()
def deep_and_long_paths():
    d = fresh()
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    depth = 0
    try:
        for depth in range(50):  # 50 * 101 bytes: well past PATH_MAX
            name = "%03d" % depth + "d" * 97
            os.mkdir(name, 0o755, dir_fd=fd)
            nfd = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nfd
        f = os.open("leaf", os.O_CREAT | os.O_RDWR, 0o644, dir_fd=fd)
        os.write(f, b"deep")
        os.close(f)
        f = os.open("leaf", os.O_RDONLY, dir_fd=fd)
        eq(os.read(f, 10), b"deep", "leaf content")
        os.close(f)
    finally:
        os.close(fd)
    full = d + "".join("/%03d" % i + "d" * 97 for i in range(depth + 1)) + "/leaf"
    true(len(full) > 4096, "path is longer than PATH_MAX")
    expect_errno(errno.ENAMETOOLONG, os.stat, full)


@check()
def hard_link_nlink_and_ino():
    d = fresh()
    a, b = os.path.join(d, "a"), os.path.join(d, "b")
    write_file(a, b"x")
    eq(os.stat(a).st_nlink, 1, "nlink of a new file")
    ctime = os.stat(a).st_ctime_ns
    time.sleep(0.01)
    os.link(a, b)
    sa, sb = os.stat(a), os.stat(b)
    eq((sa.st_nlink, sb.st_nlink), (2, 2), "nlink after link")
    eq(sa.st_ino, sb.st_ino, "same inode")
    true(sa.st_ctime_ns > ctime, "link changes ctime")
    expect_errno(errno.EEXIST, os.link, a, b)
    expect_errno(errno.ENOENT, os.link, a, os.path.join(d, "nodir", "c"))
    expect_errno(errno.ENOENT, os.link, os.path.join(d, "missing"), os.path.join(d, "c"))
    os.unlink(a)
    eq(os.stat(b).st_nlink, 1, "nlink after unlink")
    eq(read_file(b), b"x", "content through the other name")


@check()
def dir_nlink_counts_subdirs():
    d = fresh()
    x = os.path.join(d, "x")
    os.mkdir(x)
    eq(os.stat(x).st_nlink, 2, "empty dir nlink")
    os.mkdir(os.path.join(x, "a"))
    os.mkdir(os.path.join(x, "b"))
    write_file(os.path.join(x, "f"))
    eq(os.stat(x).st_nlink, 4, "dir with 2 subdirs")
    os.rmdir(os.path.join(x, "a"))
    eq(os.stat(x).st_nlink, 3, "after rmdir")
    y = os.path.join(d, "y")
    os.mkdir(y)
    os.rename(os.path.join(x, "b"), os.path.join(y, "b"))
    eq((os.stat(x).st_nlink, os.stat(y).st_nlink), (2, 3), "after moving a subdir")
    expect_errno(errno.EPERM, os.link, x, os.path.join(d, "xl"))


@check()
def rename_over_file_replaces_it():
    d = fresh()
    a, b = os.path.join(d, "a"), os.path.join(d, "b")
    write_file(a, b"new")
    write_file(b, b"old")
    fd = os.open(b, os.O_RDONLY)
    try:
        os.rename(a, b)
        eq(read_file(b), b"new", "content of the target")
        expect_errno(errno.ENOENT, os.stat, a)
        eq(os.fstat(fd).st_nlink, 0, "replaced file's nlink seen by an open handle")
        eq(os.pread(fd, 10, 0), b"old", "replaced file still readable via its handle")
    finally:
        os.close(fd)
    eq(sorted(os.listdir(d)), ["b"], "listing")


@check()
def rename_dirs_over_dirs():
    d = fresh()
    a, b, c = (os.path.join(d, n) for n in "abc")
    os.mkdir(a)
    write_file(os.path.join(a, "inside"))
    os.mkdir(b)
    os.mkdir(c)
    write_file(os.path.join(c, "full"))
    os.rename(a, b)  # over an empty directory
    eq(os.listdir(b), ["inside"], "moved contents")
    expect_errno(errno.ENOENT, os.stat, a)
    expect_errno((errno.ENOTEMPTY, errno.EEXIST), os.rename, b, c)
    eq(os.stat(d).st_nlink, 4, "parent nlink after a dir replaced a dir")


@check()
def rename_type_mismatch_errors():
    d = fresh()
    f, g = os.path.join(d, "f"), os.path.join(d, "dir")
    write_file(f)
    os.mkdir(g)
    expect_errno(errno.ENOTDIR, os.rename, g, f)
    expect_errno(errno.EISDIR, os.rename, f, g)
    expect_errno(errno.ENOENT, os.rename, os.path.join(d, "missing"), os.path.join(d, "z"))
    expect_errno(errno.ENOENT, os.rename, f, os.path.join(d, "missing", "z"))


@check()
def rename_into_own_subtree_is_einval():
    d = fresh()
    top = os.path.join(d, "top")
    os.makedirs(os.path.join(top, "mid", "low"))
    expect_errno(errno.EINVAL, os.rename, top, os.path.join(top, "mid", "low", "x"))
    expect_errno(errno.EINVAL, os.rename, top, os.path.join(top, "x"))
    os.rename(top, top)  # to itself: nothing happens
    true(os.path.isdir(os.path.join(top, "mid", "low")), "tree intact")


@check()
def rename_across_dirs_updates_parents():
    d = fresh()
    s, t = os.path.join(d, "s"), os.path.join(d, "t")
    os.mkdir(s)
    os.mkdir(t)
    write_file(os.path.join(s, "f"), b"content")
    os.mkdir(os.path.join(s, "sub"))
    before = (os.stat(s).st_mtime_ns, os.stat(t).st_mtime_ns,
              os.stat(os.path.join(s, "f")).st_ctime_ns)
    time.sleep(0.01)
    os.rename(os.path.join(s, "f"), os.path.join(t, "g"))
    os.rename(os.path.join(s, "sub"), os.path.join(t, "sub2"))
    eq(read_file(os.path.join(t, "g")), b"content", "moved file")
    eq(os.listdir(s), [], "source empty")
    eq(sorted(os.listdir(t)), ["g", "sub2"], "target listing")
    true(os.stat(s).st_mtime_ns > before[0], "source dir mtime")
    true(os.stat(t).st_mtime_ns > before[1], "target dir mtime")
    true(os.stat(os.path.join(t, "g")).st_ctime_ns > before[2], "moved file ctime")
    eq((os.stat(s).st_nlink, os.stat(t).st_nlink), (2, 3), "parent nlinks")
    write_file(os.path.join(t, "sub2", "deep"), b"d")
    eq(read_file(os.path.join(t, "sub2", "deep")), b"d", "moved dir usable")


@check()
def rename_noreplace_and_exchange():
    d = fresh()
    a, b, c = (os.path.join(d, n) for n in "abc")
    write_file(a, b"A")
    write_file(b, b"B")
    expect_errno(errno.EEXIST, renameat2, a, b, RENAME_NOREPLACE)
    eq(read_file(b), b"B", "target untouched")
    renameat2(a, c, RENAME_NOREPLACE)
    eq(read_file(c), b"A", "renamed with NOREPLACE")
    renameat2(b, c, RENAME_EXCHANGE)
    eq((read_file(b), read_file(c)), (b"A", b"B"), "exchanged")
    expect_errno(errno.ENOENT, renameat2, b, a, RENAME_EXCHANGE)


@check()
def rename_between_hard_links_is_noop():
    d = fresh()
    a, b = os.path.join(d, "a"), os.path.join(d, "b")
    write_file(a, b"x")
    os.link(a, b)
    os.rename(a, b)
    eq(sorted(os.listdir(d)), ["a", "b"], "both names stay")
    eq(os.stat(a).st_nlink, 2, "nlink")


@check()
def rename_between_links_of_an_open_file():
    d = fresh()
    a, b = os.path.join(d, "a"), os.path.join(d, "b")
    write_file(a, b"x")
    os.link(a, b)
    fd = os.open(b, os.O_RDWR)
    try:
        os.rename(a, b)
        eq(sorted(os.listdir(d)), ["a", "b"], "rename between links of one inode does nothing")
        eq(os.fstat(fd).st_nlink, 2, "nlink via the open handle")
        os.unlink(a)
        eq(os.fstat(fd).st_nlink, 1, "nlink after unlinking the other name")
        os.unlink(b)
        eq(os.fstat(fd).st_nlink, 0, "nlink after unlinking the last name")
        eq(os.pread(fd, 10, 0), b"x", "still readable")
    finally:
        os.close(fd)
    eq(os.listdir(d), [], "listing after close")


@check()
def hard_link_names_share_cached_data():
    d = fresh()
    a, b = os.path.join(d, "a"), os.path.join(d, "b")
    write_file(a, b"A" * 8192)
    os.link(a, b)
    fd = os.open(a, os.O_RDWR)
    try:
        eq(os.pread(fd, 4, 0), b"AAAA", "first read")
        other = os.open(b, os.O_RDWR)
        os.pwrite(other, b"BBBB", 0)
        os.close(other)
        eq(os.pread(fd, 4, 0), b"BBBB", "data written through the other name")
        os.truncate(b, 2)
        eq(os.pread(fd, 8, 0), b"BB", "truncated through the other name")
    finally:
        os.close(fd)


@check()
def unlink_open_file_stays_usable():
    d = fresh()
    f = os.path.join(d, "f")
    fd = os.open(f, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        os.write(fd, b"before")
        os.unlink(f)
        expect_errno(errno.ENOENT, os.stat, f)
        os.write(fd, b"-after")
        eq(os.pread(fd, 100, 0), b"before-after", "content via the handle")
        st = os.fstat(fd)
        eq((st.st_nlink, st.st_size), (0, 12), "nlink and size via the handle")
        os.ftruncate(fd, 3)
        eq(os.pread(fd, 100, 0), b"bef", "truncate via the handle")
        eq(os.listdir(d), [], "directory listing while still open")
    finally:
        os.close(fd)
    eq(os.listdir(d), [], "directory listing after close")
    os.rmdir(d)


@check()
def unlink_and_rmdir_errors():
    d = fresh()
    f, sub = os.path.join(d, "f"), os.path.join(d, "sub")
    write_file(f)
    os.mkdir(sub)
    write_file(os.path.join(sub, "x"))
    expect_errno(errno.EISDIR, os.unlink, sub)
    expect_errno(errno.ENOTDIR, os.rmdir, f)
    expect_errno(errno.ENOTEMPTY, os.rmdir, sub)
    expect_errno(errno.ENOENT, os.unlink, os.path.join(d, "missing"))
    expect_errno(errno.EINVAL, os.rmdir, os.path.join(sub, "."))
    expect_errno(errno.ENOTDIR, os.stat, os.path.join(f, "x"))
    expect_errno(errno.EEXIST, os.mkdir, sub)


@check()
def symlinks_basics():
    d = fresh()
    target = "some/where/" + "t" * 50
    l = os.path.join(d, "l")
    os.symlink(target, l)
    st = os.lstat(l)
    true(stat.S_ISLNK(st.st_mode), "S_ISLNK")
    eq(st.st_size, len(target), "symlink size")
    eq(os.readlink(l), target, "readlink")
    expect_errno(errno.ENOENT, os.stat, l)
    loop = os.path.join(d, "loop")
    os.symlink("loop", loop)
    expect_errno(errno.ELOOP, os.stat, loop)
    write_file(os.path.join(d, "real"), b"r")
    os.symlink("real", os.path.join(d, "good"))
    eq(read_file(os.path.join(d, "good")), b"r", "read through a symlink")


# ================================================================== files

@check()
def o_excl_and_o_trunc():
    d = fresh()
    f = os.path.join(d, "f")
    write_file(f, b"0123456789")
    expect_errno(errno.EEXIST, os.open, f, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    os.symlink("dangling", os.path.join(d, "l"))
    expect_errno(errno.EEXIST, os.open, os.path.join(d, "l"), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    before = os.stat(f)
    time.sleep(0.01)
    os.close(os.open(f, os.O_WRONLY | os.O_TRUNC))
    after = os.stat(f)
    eq(after.st_size, 0, "size after O_TRUNC")
    true(after.st_mtime_ns > before.st_mtime_ns, "O_TRUNC changes mtime")
    true(after.st_ctime_ns > before.st_ctime_ns, "O_TRUNC changes ctime")
    fd = os.open(os.path.join(d, "new"), os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    os.close(fd)
    eq(perm(os.path.join(d, "new")), 0o600 & ~current_umask(), "mode of an O_EXCL create")


def current_umask():
    m = os.umask(0)
    os.umask(m)
    return m


@check()
def open_type_errors():
    d = fresh()
    f = os.path.join(d, "f")
    write_file(f)
    expect_errno(errno.EISDIR, os.open, d, os.O_WRONLY)
    expect_errno(errno.ENOTDIR, os.open, f, os.O_RDONLY | os.O_DIRECTORY)
    fd = os.open(f, os.O_RDONLY)
    try:
        expect_errno((errno.EINVAL, errno.EBADF), os.ftruncate, fd, 0)
        expect_errno(errno.EBADF, os.write, fd, b"x")
    finally:
        os.close(fd)


@check()
def o_append_handles_in_one_process():
    f = os.path.join(fresh(), "f")
    a = os.open(f, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o644)
    b = os.open(f, os.O_WRONLY | os.O_APPEND)
    try:
        for i in range(20):
            os.write(a if i % 2 == 0 else b, b"%02d" % i)
        os.lseek(a, 0, os.SEEK_SET)
        os.write(a, b"!")  # O_APPEND ignores the position
    finally:
        os.close(a)
        os.close(b)
    eq(read_file(f), b"".join(b"%02d" % i for i in range(20)) + b"!", "appended content")


def append_records(path, writer, count, size=64):
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        for i in range(count):
            rec = ("w%02d-%06d-" % (writer, i)).encode()
            os.write(fd, rec + b"." * (size - len(rec) - 1) + b"\n")
    finally:
        os.close(fd)


def check_records(path, writers, count, size=64):
    data = read_file(path)
    eq(len(data), writers * count * size, "total size of appended records")
    seen = set()
    for off in range(0, len(data), size):
        rec = data[off:off + size]
        m = re.match(rb"w(\d\d)-(\d{6})-\.+\n$", rec)
        if not m:
            raise Fail("record at %d is damaged: %r" % (off, rec[:40]))
        seen.add((int(m.group(1)), int(m.group(2))))
    eq(len(seen), writers * count, "distinct records")


def concurrent_appends(paths, count):
    pids = []
    for w, p in enumerate(paths):
        pid = os.fork()
        if pid == 0:
            try:
                append_records(p, w, count)
                os._exit(0)
            except BaseException:  # noqa: BLE001
                traceback.print_exc()
                os._exit(1)
        pids.append(pid)
    for pid in pids:
        _, status = os.waitpid(pid, 0)
        eq(status, 0, "appender exit status")


@check()
def o_append_concurrent_processes():
    f = os.path.join(fresh(), "f")
    write_file(f)
    concurrent_appends([f] * 4, 150)
    check_records(f, 4, 150)


@check("two")
def o_append_concurrent_two_mounts():
    f = os.path.join(fresh(), "f")
    write_file(f)
    concurrent_appends([f, on_other(f), f, on_other(f)], 100)
    check_records(f, 4, 100)
    check_records(on_other(f), 4, 100)


@check()
def sparse_holes_read_as_zeros():
    f = os.path.join(fresh(), "f")
    fd = os.open(f, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        os.pwrite(fd, b"tail", 3 * MIB + 7)
        eq(os.fstat(fd).st_size, 3 * MIB + 11, "size")
        eq(os.pread(fd, 4096, 0), bytes(4096), "hole at start")
        eq(os.pread(fd, 4096, 2 * MIB), bytes(4096), "hole in the middle")
        eq(os.pread(fd, 20, 3 * MIB), bytes(7) + b"tail", "data after the hole")
        eq(os.pread(fd, 20, 3 * MIB + 11), b"", "read at EOF")
    finally:
        os.close(fd)
    eq(os.stat(f).st_size, 3 * MIB + 11, "size after close")


@check()
def file_over_4gib_sparse():
    f = os.path.join(fresh(), "f")
    fd = os.open(f, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        os.pwrite(fd, b"head", 0)
        os.pwrite(fd, b"beyond-4g", 5 * GIB + 3)
        eq(os.fstat(fd).st_size, 5 * GIB + 12, "size")
        eq(os.lseek(fd, 0, os.SEEK_END), 5 * GIB + 12, "SEEK_END")
        eq(os.pread(fd, 9, 5 * GIB + 3), b"beyond-4g", "data past 4 GiB")
        eq(os.pread(fd, 8, 4 * GIB - 4), bytes(8), "zeros across 4 GiB")
        os.pwrite(fd, b"X", 4 * GIB)
        eq(os.pread(fd, 3, 4 * GIB - 1), b"\0X\0", "byte at exactly 4 GiB")
    finally:
        os.close(fd)
    eq(os.stat(f).st_size, 5 * GIB + 12, "size via stat")
    os.truncate(f, 4 * GIB + 1)
    eq(os.stat(f).st_size, 4 * GIB + 1, "size after truncate down past 4 GiB")
    with open(f, "rb") as fh:
        fh.seek(4 * GIB - 1)
        eq(fh.read(), b"\0X", "tail after truncate")


def pattern(offset, length):
    """Deterministic bytes that differ at every offset (no aliasing across chunks)."""
    out = bytearray()
    block = 4096
    start = offset - offset % block
    pos = start
    while pos < offset + length:
        out += struct.pack("<Q", pos) * (block // 8)
        pos += block
    s = offset - start
    return bytes(out[s:s + length])


@check()
def chunk_boundaries_write_read():
    f = os.path.join(fresh(), "f")
    fd = os.open(f, os.O_CREAT | os.O_RDWR, 0o644)
    spots = [(0, 3 * MIB + 5)] + [(k * 64 * MIB - 3000, 6000) for k in (1, 2, 3)]
    try:
        for off, n in spots:
            os.pwrite(fd, pattern(off, n), off)
        for off, n in spots:
            eq(os.pread(fd, n, off) == pattern(off, n), True, "data at %d+%d" % (off, n))
        eq(os.fstat(fd).st_size, 3 * 64 * MIB + 3000, "size")
    finally:
        os.close(fd)
    fd = os.open(f, os.O_RDONLY)
    try:
        for off, n in spots:
            eq(os.pread(fd, n, off) == pattern(off, n), True, "reopened: data at %d+%d" % (off, n))
    finally:
        os.close(fd)


@check()
def truncate_up_and_down_across_chunks():
    f = os.path.join(fresh(), "f")
    cut = 64 * MIB
    fd = os.open(f, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        os.pwrite(fd, pattern(cut - 4096, 8192), cut - 4096)
        os.ftruncate(fd, cut + 100)
        eq(os.fstat(fd).st_size, cut + 100, "size after truncate down")
        os.ftruncate(fd, cut + 5000)
        eq(os.pread(fd, 8192, cut - 4096), pattern(cut - 4096, 4196) + bytes(3996),
           "bytes past a cut read as zeros after growing again")
        os.ftruncate(fd, cut - 10)
        os.ftruncate(fd, 3 * cut)
        eq(os.pread(fd, 20, cut - 20), pattern(cut - 20, 10) + bytes(10), "cut below the boundary")
        eq(os.pread(fd, 10, 2 * cut), bytes(10), "grown hole in a later chunk")
        os.ftruncate(fd, 0)
        eq(os.pread(fd, 10, 0), b"", "empty after truncate to 0")
    finally:
        os.close(fd)
    os.truncate(f, 1000)
    eq((os.stat(f).st_size, read_file(f)), (1000, bytes(1000)), "truncate(2) by path grows with zeros")


@check()
def fallocate_extends_with_zeros():
    f = os.path.join(fresh(), "f")
    write_file(f, b"keep")
    fd = os.open(f, os.O_RDWR)
    try:
        os.posix_fallocate(fd, 0, 2 * MIB)
        eq(os.fstat(fd).st_size, 2 * MIB, "size after posix_fallocate")
        eq(os.pread(fd, 8, 0), b"keep" + bytes(4), "data kept")
        eq(os.pread(fd, 8, 2 * MIB - 8), bytes(8), "allocated range is zeros")
        os.posix_fallocate(fd, 0, 100)
        eq(os.fstat(fd).st_size, 2 * MIB, "fallocate inside the file keeps size")
    finally:
        os.close(fd)


def c_fallocate(fd, mode, offset, length):
    libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
    return cerr(libc.fallocate(fd, mode, offset, length))


@check()
def fallocate_syscall_modes():
    f = os.path.join(fresh(), "f")
    write_file(f, b"data")
    fd = os.open(f, os.O_RDWR)
    try:
        c_fallocate(fd, 0, 0, 3 * MIB + 1)
        eq(os.fstat(fd).st_size, 3 * MIB + 1, "size after fallocate mode 0")
        eq(os.pread(fd, 8, 0), b"data" + bytes(4), "data kept")
        c_fallocate(fd, 1, 0, 10 * MIB)  # FALLOC_FL_KEEP_SIZE
        eq(os.fstat(fd).st_size, 3 * MIB + 1, "KEEP_SIZE keeps the size")
        expect_errno(errno.EINVAL, c_fallocate, fd, 0, 0, 0)
    finally:
        os.close(fd)
    fd = os.open(f, os.O_RDONLY)
    try:
        expect_errno(errno.EBADF, c_fallocate, fd, 0, 0, 10)
    finally:
        os.close(fd)


@check()
def read_write_offsets():
    f = os.path.join(fresh(), "f")
    fd = os.open(f, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        os.write(fd, b"hello world")
        os.pwrite(fd, b"W", 6)
        eq(os.pread(fd, 100, 0), b"hello World", "pwrite in the middle")
        os.lseek(fd, 0, os.SEEK_SET)
        eq(os.read(fd, 5), b"hello", "read from the position")
        eq(os.pread(fd, 10, 100), b"", "read past EOF")
        os.lseek(fd, 20, os.SEEK_SET)
        os.write(fd, b"!")
        eq(os.pread(fd, 100, 0), b"hello World" + bytes(9) + b"!", "write past EOF leaves zeros")
    finally:
        os.close(fd)


# ================================================================== timestamps

@check()
def timestamps_on_create():
    d = fresh()
    before = os.stat(d)
    time.sleep(0.01)
    f = os.path.join(d, "f")
    write_file(f)
    st = os.stat(f)
    eq(st.st_atime_ns == st.st_mtime_ns == st.st_ctime_ns, True, "a/m/ctime equal at creation")
    true(abs(st.st_mtime_ns - time.time_ns()) < 10 * 10**9, "mtime is now")
    after = os.stat(d)
    true(after.st_mtime_ns > before.st_mtime_ns, "parent mtime")
    true(after.st_ctime_ns > before.st_ctime_ns, "parent ctime")


@check()
def timestamps_write_changes_mtime_ctime():
    f = os.path.join(fresh(), "f")
    write_file(f, b"x")
    os.utime(f, ns=(10**18, 10**18))
    st = os.stat(f)
    fd = os.open(f, os.O_WRONLY)
    os.write(fd, b"y")
    os.close(fd)
    st2 = os.stat(f)
    true(st2.st_mtime_ns > st.st_mtime_ns or st2.st_mtime_ns < 10**18, "write changed mtime")
    true(st2.st_ctime_ns >= st.st_ctime_ns, "ctime not earlier")
    eq(st2.st_atime_ns, 10**18, "write leaves atime")


@check()
def timestamps_nanoseconds_exact():
    f = os.path.join(fresh(), "f")
    write_file(f)
    os.utime(f, ns=(1_000_000_123, 2_000_000_456_789_123))
    st = os.stat(f)
    eq((st.st_atime_ns, st.st_mtime_ns), (1_000_000_123, 2_000_000_456_789_123), "ns times")
    true(abs(st.st_ctime_ns - time.time_ns()) < 10 * 10**9, "ctime is now")
    os.utime(f, ns=(-1_500_000_000, 0))
    eq(os.stat(f).st_atime_ns, -1_500_000_000, "time before the epoch")


@check()
def timestamps_utime_now_and_omit():
    f = os.path.join(fresh(), "f")
    write_file(f)
    os.utime(f, ns=(111_000_000_001, 222_000_000_002))
    utimensat(f, (333, 3), UTIME_OMIT)
    st = os.stat(f)
    eq((st.st_atime_ns, st.st_mtime_ns), (333_000_000_003, 222_000_000_002), "atime set, mtime omitted")
    utimensat(f, UTIME_OMIT, (444, 4))
    st = os.stat(f)
    eq((st.st_atime_ns, st.st_mtime_ns), (333_000_000_003, 444_000_000_004), "mtime set, atime omitted")
    utimensat(f, UTIME_OMIT, UTIME_NOW)
    st = os.stat(f)
    eq(st.st_atime_ns, 333_000_000_003, "atime omitted with mtime now")
    true(abs(st.st_mtime_ns - time.time_ns()) < 10 * 10**9, "mtime now")
    utimensat(f, UTIME_NOW, UTIME_OMIT)
    true(abs(os.stat(f).st_atime_ns - time.time_ns()) < 10 * 10**9, "atime now")
    ctime = os.stat(f).st_ctime_ns
    utimensat(f, UTIME_OMIT, UTIME_OMIT)
    eq(os.stat(f).st_ctime_ns, ctime, "both omitted changes nothing")


@check()
def timestamps_chmod_rename_link_touch_ctime_only():
    d = fresh()
    f = os.path.join(d, "f")
    write_file(f, b"x")
    os.utime(f, ns=(5 * 10**18 // 10, 5 * 10**18 // 10))
    for step, action in (("chmod", lambda: os.chmod(f, 0o600)),
                         ("link", lambda: os.link(f, f + "2")),
                         ("rename", lambda: os.rename(f + "2", f + "3")),
                         ("setxattr", lambda: os.setxattr(f, "user.t", b"1"))):
        before = os.stat(f)
        time.sleep(0.01)
        action()
        after = os.stat(f)
        true(after.st_ctime_ns > before.st_ctime_ns, step + " changes ctime")
        eq(after.st_mtime_ns, before.st_mtime_ns, step + " keeps mtime")


@check()
def timestamps_truncate_and_unlink():
    d = fresh()
    f = os.path.join(d, "f")
    write_file(f, b"0123456789")
    os.utime(f, ns=(10**9, 10**9))
    os.truncate(f, 3)
    st = os.stat(f)
    true(st.st_mtime_ns > 10**9 and st.st_ctime_ns > 10**9, "truncate changes mtime and ctime")
    os.utime(d, ns=(10**9, 10**9))
    os.unlink(f)
    true(os.stat(d).st_mtime_ns > 10**9, "unlink changes the parent's mtime")


@check()
def timestamps_read_updates_atime_relatime():
    f = os.path.join(fresh(), "f")
    write_file(f, b"data")
    os.utime(f, ns=(10**9, 2 * 10**9))  # atime older than mtime: relatime updates it
    read_file(f)
    true(os.stat(f).st_atime_ns > 2 * 10**9, "atime after reading (relatime)")


# ================================================================== special files

@check()
def fifo_node_and_data():
    p = os.path.join(fresh(), "fifo")
    os.mkfifo(p, 0o640)
    st = os.lstat(p)
    true(stat.S_ISFIFO(st.st_mode), "S_ISFIFO")
    eq(stat.S_IMODE(st.st_mode), 0o640 & ~current_umask(), "fifo mode")
    pid = os.fork()
    if pid == 0:
        try:
            fd = os.open(p, os.O_WRONLY)
            os.write(fd, b"through the pipe")
            os.close(fd)
        finally:
            os._exit(0)
    fd = os.open(p, os.O_RDONLY)
    data = b""
    while True:
        chunk = os.read(fd, 100)
        if not chunk:
            break
        data += chunk
    os.close(fd)
    os.waitpid(pid, 0)
    eq(data, b"through the pipe", "data through the FIFO")
    eq(os.lstat(p).st_size, 0, "FIFO size")


@check()
def unix_socket_node():
    p = os.path.join(fresh(), "sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        srv.bind(p)
        srv.listen(1)
        true(stat.S_ISSOCK(os.lstat(p).st_mode), "S_ISSOCK")
        cli = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        cli.connect(p)
        conn, _ = srv.accept()
        cli.sendall(b"ping")
        eq(conn.recv(10), b"ping", "data through the socket")
        conn.close()
        cli.close()
    finally:
        srv.close()
    os.unlink(p)


@check()
def mknod_fifo_and_regular():
    d = fresh()
    os.mknod(os.path.join(d, "r"), stat.S_IFREG | 0o640)
    true(stat.S_ISREG(os.lstat(os.path.join(d, "r")).st_mode), "mknod S_IFREG")
    os.mknod(os.path.join(d, "p"), stat.S_IFIFO | 0o600)
    true(stat.S_ISFIFO(os.lstat(os.path.join(d, "p")).st_mode), "mknod S_IFIFO")
    expect_errno(errno.EEXIST, os.mknod, os.path.join(d, "p"), stat.S_IFIFO | 0o600)


@check("root")
def mknod_devices_as_root():
    d = fresh()
    c, b = os.path.join(d, "null"), os.path.join(d, "blk")
    os.mknod(c, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    os.mknod(b, stat.S_IFBLK | 0o600, os.makedev(259, 65537))
    st = os.lstat(c)
    true(stat.S_ISCHR(st.st_mode), "S_ISCHR")
    eq((os.major(st.st_rdev), os.minor(st.st_rdev)), (1, 3), "char rdev")
    st = os.lstat(b)
    true(stat.S_ISBLK(st.st_mode), "S_ISBLK")
    eq((os.major(st.st_rdev), os.minor(st.st_rdev)), (259, 65537), "block rdev")


@check("unpriv")
def mknod_device_needs_privilege():
    def body():
        expect_errno(errno.EPERM, os.mknod, os.path.join(fresh(), "c"), stat.S_IFCHR | 0o600,
                     os.makedev(1, 3))
    as_unpriv(body)


# ================================================================== xattrs

@check()
def xattr_set_get_list_remove():
    f = os.path.join(fresh(), "f")
    write_file(f)
    os.setxattr(f, "user.a", b"1")
    os.setxattr(f, "user.b", b"\0binary\xff")
    os.setxattr(f, "user.empty", b"")
    eq(os.getxattr(f, "user.b"), b"\0binary\xff", "binary value")
    eq(os.getxattr(f, "user.empty"), b"", "empty value")
    eq(sorted(os.listxattr(f)), ["user.a", "user.b", "user.empty"], "list")
    os.setxattr(f, "user.a", b"22")
    eq(os.getxattr(f, "user.a"), b"22", "overwritten")
    os.removexattr(f, "user.a")
    eq(sorted(os.listxattr(f)), ["user.b", "user.empty"], "list after remove")
    d = fresh()
    os.setxattr(d, "user.dir", b"on a directory")
    eq(os.getxattr(d, "user.dir"), b"on a directory", "directory xattr")


@check()
def xattr_create_replace_flags():
    f = os.path.join(fresh(), "f")
    write_file(f)
    expect_errno(errno.ENODATA, os.getxattr, f, "user.x")
    expect_errno(errno.ENODATA, os.setxattr, f, "user.x", b"v", XATTR_REPLACE)
    os.setxattr(f, "user.x", b"v", XATTR_CREATE)
    expect_errno(errno.EEXIST, os.setxattr, f, "user.x", b"w", XATTR_CREATE)
    os.setxattr(f, "user.x", b"w", XATTR_REPLACE)
    eq(os.getxattr(f, "user.x"), b"w", "replaced")
    os.removexattr(f, "user.x")
    expect_errno(errno.ENODATA, os.removexattr, f, "user.x")


@check()
def xattr_size_limits():
    f = os.path.join(fresh(), "f")
    write_file(f)
    os.setxattr(f, "user." + "n" * 250, b"v")
    eq(os.getxattr(f, "user." + "n" * 250), b"v", "255-byte name")
    expect_errno(errno.ERANGE, os.setxattr, f, "user." + "n" * 251, b"v")
    big = bytes(range(256)) * 256
    os.setxattr(f, "user.big", big)
    eq(os.getxattr(f, "user.big"), big, "64 KiB value")
    expect_errno(errno.E2BIG, os.setxattr, f, "user.big2", big + b"x")
    eq(c_getxattr(f, "user.big", 0), 65536, "size query")
    expect_errno(errno.ERANGE, c_getxattr, f, "user.big", 10)
    n = c_listxattr(f, 0)
    eq(n, len("user." + "n" * 250) + 1 + len("user.big") + 1, "list size query")
    expect_errno(errno.ERANGE, c_listxattr, f, 3)


@check()
def xattr_namespaces_and_node_types():
    d = fresh()
    f = os.path.join(d, "f")
    write_file(f)
    expect_errno(errno.EOPNOTSUPP, os.setxattr, f, "bogus.x", b"v")
    l = os.path.join(d, "l")
    os.symlink("f", l)
    expect_errno(errno.EPERM, os.setxattr, l, "user.x", b"v", follow_symlinks=False)
    p = os.path.join(d, "p")
    os.mkfifo(p)
    expect_errno(errno.EPERM, os.setxattr, p, "user.x", b"v")


@check("unpriv")
def xattr_needs_write_permission():
    def body():
        f = os.path.join(fresh(), "f")
        write_file(f)
        os.setxattr(f, "user.x", b"v")
        os.chmod(f, 0o444)
        expect_errno(errno.EACCES, os.setxattr, f, "user.x", b"w")
        expect_errno(errno.EACCES, os.removexattr, f, "user.x")
        eq(os.getxattr(f, "user.x"), b"v", "readable")
        os.chmod(f, 0o000)
        expect_errno(errno.EACCES, os.getxattr, f, "user.x")
        expect_errno(errno.EPERM, os.setxattr, f, "trusted.x", b"v")
    as_unpriv(body)


# ================================================================== locks

def hold_in_child(lock, path, ready_file, release_file, seconds=30):
    """Forks a child that takes `lock(fd)` on path, creates ready_file, and keeps the lock
    until release_file exists; returns its pid."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            fd = os.open(path, os.O_RDWR)
            lock(fd)
            write_file(ready_file)
            deadline = time.monotonic() + seconds
            while not os.path.exists(release_file) and time.monotonic() < deadline:
                time.sleep(0.02)
            os.close(fd)
            code = 0
        except BaseException:  # noqa: BLE001
            traceback.print_exc()
        os._exit(code)
    wait_until(lambda: os.path.exists(ready_file), 20, "the child's lock")
    return pid


def lock_scenario(holder_path, contender_path, take, try_take, name):
    d = os.path.dirname(holder_path)
    ready, release = os.path.join(d, name + ".ready"), os.path.join(d, name + ".release")
    pid = hold_in_child(take, holder_path, ready, release)
    try:
        fd = os.open(contender_path, os.O_RDWR)
        try:
            expect_errno((errno.EAGAIN, errno.EACCES), try_take, fd)
            write_file(release)
            os.waitpid(pid, 0)
            pid = 0
            wait_until(lambda: attempt(try_take, fd), 20, "the lock after the holder closed")
        finally:
            os.close(fd)
    finally:
        if pid:
            write_file(release)
            os.waitpid(pid, 0)


def attempt(fn, fd):
    try:
        fn(fd)
        return True
    except OSError as e:
        if e.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise


def flock_ex(fd):
    fcntl.flock(fd, fcntl.LOCK_EX)


def flock_ex_nb(fd):
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def setlk(kind, start, length, wait=False):
    nb = 0 if wait or kind == fcntl.LOCK_UN else fcntl.LOCK_NB
    return lambda fd: fcntl.lockf(fd, kind | nb, length, start)


@check()
def flock_between_processes():
    f = os.path.join(fresh(), "f")
    write_file(f)
    lock_scenario(f, f, flock_ex, flock_ex_nb, "flock")


@check()
def fcntl_lock_between_processes():
    f = os.path.join(fresh(), "f")
    write_file(f, bytes(200))
    lock_scenario(f, f, setlk(fcntl.LOCK_EX, 0, 100, True), setlk(fcntl.LOCK_EX, 50, 10), "posix")


@check("two")
def flock_across_mounts():
    f = os.path.join(fresh(), "f")
    write_file(f)
    lock_scenario(f, on_other(f), flock_ex, flock_ex_nb, "flock2")


@check("two")
def fcntl_ranges_across_mounts():
    f = os.path.join(fresh(), "f")
    write_file(f, bytes(300))
    d = os.path.dirname(f)
    ready, release = os.path.join(d, "r.ready"), os.path.join(d, "r.release")
    pid = hold_in_child(setlk(fcntl.LOCK_EX, 0, 100, True), f, ready, release)
    try:
        fd = os.open(on_other(f), os.O_RDWR)
        try:
            expect_errno((errno.EAGAIN, errno.EACCES), setlk(fcntl.LOCK_EX, 50, 10), fd)
            expect_errno((errno.EAGAIN, errno.EACCES), setlk(fcntl.LOCK_SH, 99, 1), fd)
            setlk(fcntl.LOCK_EX, 100, 100)(fd)  # adjacent range: free
            lk = fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack("hhqqi", fcntl.F_WRLCK, 0, 10, 5, 0))
            ltype, _, lstart, llen, _ = struct.unpack("hhqqi", lk)
            eq((ltype, lstart, llen), (fcntl.F_WRLCK, 0, 100), "F_GETLK reports the holder's range")
            setlk(fcntl.LOCK_UN, 100, 100)(fd)
        finally:
            os.close(fd)
    finally:
        write_file(release)
        os.waitpid(pid, 0)
    fd = os.open(on_other(f), os.O_RDWR)
    try:
        wait_until(lambda: attempt(setlk(fcntl.LOCK_EX, 0, 100), fd), 20, "range freed on close")
    finally:
        os.close(fd)


@check("two")
def fcntl_shared_locks_across_mounts():
    f = os.path.join(fresh(), "f")
    write_file(f, bytes(10))
    d = os.path.dirname(f)
    ready, release = os.path.join(d, "s.ready"), os.path.join(d, "s.release")
    pid = hold_in_child(setlk(fcntl.LOCK_SH, 0, 0, True), f, ready, release)
    try:
        fd = os.open(on_other(f), os.O_RDWR)
        try:
            setlk(fcntl.LOCK_SH, 0, 0)(fd)
            setlk(fcntl.LOCK_UN, 0, 0)(fd)
            expect_errno((errno.EAGAIN, errno.EACCES), setlk(fcntl.LOCK_EX, 0, 0), fd)
        finally:
            os.close(fd)
    finally:
        write_file(release)
        os.waitpid(pid, 0)


@check("two")
def fcntl_blocking_lock_waits_across_mounts():
    f = os.path.join(fresh(), "f")
    write_file(f, bytes(10))
    d = os.path.dirname(f)
    ready, release = os.path.join(d, "b.ready"), os.path.join(d, "b.release")
    pid = hold_in_child(setlk(fcntl.LOCK_EX, 0, 0, True), f, ready, release)
    fd = os.open(on_other(f), os.O_RDWR)
    try:
        started = time.monotonic()
        release_at = started + 1.0
        releaser = os.fork()
        if releaser == 0:
            time.sleep(1.0)
            write_file(release)
            os._exit(0)
        setlk(fcntl.LOCK_EX, 0, 0, True)(fd)  # blocks until the holder closes
        true(time.monotonic() >= release_at - 0.05, "F_SETLKW returned before the release")
        os.waitpid(releaser, 0)
    finally:
        os.close(fd)
        write_file(release)
        os.waitpid(pid, 0)


@check("two")
def lock_released_when_holder_killed():
    f = os.path.join(fresh(), "f")
    write_file(f)
    d = os.path.dirname(f)
    ready, release = os.path.join(d, "k.ready"), os.path.join(d, "k.release")
    pid = hold_in_child(flock_ex, f, ready, release)
    fd = os.open(on_other(f), os.O_RDWR)
    try:
        expect_errno(errno.EWOULDBLOCK, flock_ex_nb, fd)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        wait_until(lambda: attempt(flock_ex_nb, fd), 20, "flock freed when its holder died")
    finally:
        os.close(fd)


# ================================================================== close-to-open

@check("two")
def close_to_open_content_and_size():
    f = os.path.join(fresh(), "f")
    g = on_other(f)
    write_file(f, b"version one")
    eq(read_file(g), b"version one", "first version via the other mount")
    write_file(f, b"v2")
    eq(read_file(g), b"v2", "shorter rewrite via the other mount")
    fd = os.open(f, os.O_WRONLY | os.O_APPEND)
    os.write(fd, b"+more")
    os.close(fd)
    eq(read_file(g), b"v2+more", "append via the other mount")
    eq(os.stat(g).st_size, 7, "size via the other mount")
    os.truncate(f, 1)
    eq(read_file(g), b"v", "truncate via the other mount")


@check("two")
def close_to_open_namespace():
    d = fresh()
    f = os.path.join(d, "f")
    write_file(f, b"x")
    eq(read_file(on_other(f)), b"x", "new file via the other mount")
    os.rename(f, f + ".moved")
    expect_errno(errno.ENOENT, os.open, on_other(f), os.O_RDONLY)
    eq(read_file(on_other(f + ".moved")), b"x", "renamed file")
    os.unlink(f + ".moved")
    expect_errno(errno.ENOENT, os.open, on_other(f + ".moved"), os.O_RDONLY)
    os.mkdir(os.path.join(d, "sub"))
    write_file(os.path.join(on_other(d), "sub", "g"), b"from B")
    eq(read_file(os.path.join(d, "sub", "g")), b"from B", "file made by the other mount")


# ================================================================== runner

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir")
    ap.add_argument("--other")
    ap.add_argument("--only", default="")
    ap.add_argument("--known-gaps", default="", help="comma-separated check names")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    if args.list:
        for name, kind, _ in CHECKS:
            print(name, kind)
        return 0
    Ctx.dir = os.path.abspath(args.dir)
    Ctx.other = os.path.abspath(args.other) if args.other else None
    gaps = set(filter(None, args.known_gaps.split(",")))
    root = os.geteuid() == 0
    if root:
        os.chmod(Ctx.dir, 0o777)  # the unprivileged children make their directories here
    who = "root" if root else "uid %d" % os.geteuid()
    passed = failed = skipped = gapped = 0
    failed_names = []
    for name, kind, fn in CHECKS:
        if args.only and not re.search(args.only, name):
            continue
        if (kind == "root" and not root) or (kind == "two" and not Ctx.other):
            skipped += 1
            print("SKIP %-50s (%s)" % (name, "needs root" if kind == "root" else "needs two mounts"))
            continue
        started = time.monotonic()
        try:
            fn()
            ok, why = True, ""
        except Fail as e:
            ok, why = False, str(e)
        except OSError as e:
            ok, why = False, "unexpected %s: %s" % (ename(e.errno), e)
        except Exception as e:  # noqa: BLE001
            ok, why = False, "%s: %s" % (type(e).__name__, e)
        took = time.monotonic() - started
        if name in gaps:
            gapped += 1
            print("GAP  %-50s %5.1fs  known gap, not counted: %s" % (name, took, why or "passed now"))
        elif ok:
            passed += 1
            print("PASS %-50s %5.1fs" % (name, took))
        else:
            failed += 1
            failed_names.append(name)
            print("FAIL %-50s %5.1fs  %s" % (name, took, why))
        sys.stdout.flush()
    print("posix (%s): %d passed, %d failed, %d skipped, %d known gaps" %
          (who, passed, failed, skipped, gapped))
    if failed_names:
        print("failed: " + " ".join(failed_names))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
