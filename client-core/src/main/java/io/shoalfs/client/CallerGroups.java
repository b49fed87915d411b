package io.shoalfs.client;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The supplementary groups of the process behind a FUSE call. FUSE passes only uid, gid and pid;
 * the groups are read from /proc/PID/status ("Groups:") as the kernel's own NFS and FUSE servers
 * do, and remembered for a second per (pid, uid, gid). An unreadable entry (the process is gone,
 * or another pid namespace) yields no supplementary groups, never an error.
 */
final class CallerGroups {
  private static final long TTL_NS = 1_000_000_000L;
  private static final int MAX_ENTRIES = 4096;

  private record Key(long pid, int uid, int gid) {}

  private record Entry(List<Integer> groups, long expiresNs) {}

  private final ConcurrentHashMap<Key, Entry> cache = new ConcurrentHashMap<>();

  List<Integer> of(long pid, int uid, int gid) {
    if (pid <= 0) {
      return List.of();
    }
    Key key = new Key(pid, uid, gid);
    long now = System.nanoTime();
    Entry e = cache.get(key);
    if (e != null && now - e.expiresNs() < 0) {
      return e.groups();
    }
    List<Integer> groups = read(pid);
    if (cache.size() > MAX_ENTRIES) {
      cache.clear();
    }
    cache.put(key, new Entry(groups, now + TTL_NS));
    return groups;
  }

  static List<Integer> read(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"),
          StandardCharsets.UTF_8)) {
        if (line.startsWith("Groups:")) {
          return parse(line.substring("Groups:".length()));
        }
      }
    } catch (IOException | RuntimeException e) {
      // The caller may have exited already: no supplementary groups.
    }
    return List.of();
  }

  static List<Integer> parse(String ids) {
    List<Integer> out = new ArrayList<>();
    for (String id : ids.trim().split("\\s+")) {
      if (!id.isEmpty()) {
        out.add((int) Long.parseLong(id));
      }
    }
    return List.copyOf(out);
  }
}
