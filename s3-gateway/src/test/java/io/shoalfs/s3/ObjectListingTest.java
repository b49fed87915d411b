package io.shoalfs.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.client.ClientCore;
import io.shoalfs.proto.Attr;
import io.shoalfs.proto.DirEntry;
import io.shoalfs.proto.FileType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Listings against a namespace in memory, checked against the same listing computed the
 * plain way: every key in S3's order, filtered and rolled up, paged by the markers the listing
 * hands out.
 */
class ObjectListingTest {
  /** Names whose order differs once a directory's name gains its '/'. */
  static final String[] NAMES = {"a", "a-1", "a.b", "a0", "a b", "b", "ab", "\u00e9", "z", "a!"};

  /** A tree of directories in memory; listings come a few entries per page. */
  static final class Tree implements Directories {
    final Map<Long, TreeMap<String, DirEntry>> dirs = new HashMap<>();
    final List<String> keys = new ArrayList<>();
    long next = 2;
    int listCalls;

    Tree() {
      dirs.put(1L, new TreeMap<>(ObjectListingTest::byBytes));
    }

    void add(String key) {
      long dir = 1;
      String[] parts = key.split("/");
      for (int i = 0; i < parts.length - 1; i++) {
        DirEntry e = dirs.get(dir).get(parts[i]);
        if (e == null) {
          e = entry(parts[i], next++, FileType.DIRECTORY);
          dirs.get(dir).put(parts[i], e);
          dirs.put(e.getInode(), new TreeMap<>(ObjectListingTest::byBytes));
        }
        if (e.getType() != FileType.DIRECTORY) {
          return; // a file is in the way: not a key of this tree
        }
        dir = e.getInode();
      }
      String name = parts[parts.length - 1];
      if (!dirs.get(dir).containsKey(name)) {
        dirs.get(dir).put(name, entry(name, next++, FileType.REGULAR));
        keys.add(key);
      }
    }

    private static DirEntry entry(String name, long inode, FileType type) {
      return DirEntry.newBuilder().setName(name).setInode(inode).setType(type)
          .setAttr(Attr.newBuilder().setInode(inode).setType(type).setSize(inode)).build();
    }

    @Override
    public ClientCore.DirPage list(long dir, String after, int limit) {
      listCalls++;
      List<DirEntry> page = new ArrayList<>();
      for (DirEntry e : dirs.get(dir).tailMap(after, false).values()) {
        if (page.size() == Math.min(limit, 3)) {
          return new ClientCore.DirPage(page, true);
        }
        page.add(e);
      }
      return new ClientCore.DirPage(page, false);
    }

    @Override
    public Optional<DirEntry> lookup(long dir, String name) {
      return Optional.ofNullable(dirs.get(dir).get(name));
    }
  }

  static int byBytes(String a, String b) {
    return Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
  }

  /** What a listing must answer, page after page: keys and prefixes in order. */
  static List<String> expected(List<String> keys, String prefix, String delimiter, String after) {
    List<String> sorted = new ArrayList<>(keys);
    sorted.sort(ObjectListingTest::byBytes);
    List<String> out = new ArrayList<>();
    for (String k : sorted) {
      if (!k.startsWith(prefix) || (after != null && byBytes(k, after) <= 0)) {
        continue;
      }
      String rolled = ObjectListing.rollUp(k, prefix, delimiter);
      if (rolled == null) {
        out.add(k);
      } else if ((out.isEmpty() || !out.get(out.size() - 1).equals(rolled))
          && (after == null || !after.startsWith(rolled))) {
        out.add(rolled);
      }
    }
    return out;
  }

  /** Every page of a listing, following its markers. */
  static List<String> listAll(Tree tree, String prefix, String delimiter, String after,
      int maxKeys) throws Exception {
    List<String> out = new ArrayList<>();
    String marker = after;
    for (int pages = 0; pages < 10_000; pages++) {
      ObjectListing.Page page = ObjectListing.list(tree, 1, prefix, delimiter, marker, maxKeys);
      List<String> items = new ArrayList<>();
      page.objects().forEach(o -> items.add(o.key()));
      items.addAll(page.commonPrefixes());
      items.sort(ObjectListingTest::byBytes);
      assertTrue(items.size() <= maxKeys);
      out.addAll(items);
      if (!page.truncated()) {
        return out;
      }
      assertEquals(items.get(items.size() - 1), page.nextMarker());
      marker = page.nextMarker();
    }
    throw new AssertionError("the listing does not end");
  }

  @Test
  void keysComeInByteOrderAcrossDirectories() throws Exception {
    Tree tree = new Tree();
    for (String k : List.of("a/x", "a-1", "a0", "a.b/y", "a b", "a/b/c", "\u00e9", "b")) {
      tree.add(k);
    }
    assertEquals(List.of("a b", "a-1", "a.b/y", "a/b/c", "a/x", "a0", "b", "\u00e9"),
        listAll(tree, "", null, null, 1000));
    assertEquals(List.of("a b", "a-1", "a.b/", "a/", "a0", "b", "\u00e9"),
        listAll(tree, "", "/", null, 1000));
  }

  @Test
  void randomTreesListLikeTheReference() throws Exception {
    Random random = new Random(19);
    for (int round = 0; round < 400; round++) {
      Tree tree = new Tree();
      for (int i = 0; i < 40; i++) {
        int depth = 1 + random.nextInt(3);
        StringBuilder key = new StringBuilder();
        for (int d = 0; d < depth; d++) {
          key.append(d == 0 ? "" : "/").append(NAMES[random.nextInt(NAMES.length)]);
        }
        tree.add(key.toString());
      }
      List<String> prefixes = List.of("", "a", "a/", "a-", "a/a", "b/", "zz");
      String prefix = prefixes.get(random.nextInt(prefixes.size()));
      String delimiter = List.of("", "/", "-", ".").get(random.nextInt(4));
      List<String> all = expected(tree.keys, prefix, delimiter.isEmpty() ? null : delimiter, null);
      String after = all.isEmpty() || random.nextBoolean() ? null
          : all.get(random.nextInt(all.size()));
      int maxKeys = 1 + random.nextInt(5);
      String d = delimiter.isEmpty() ? null : delimiter;
      String what = "round " + round + " prefix [" + prefix + "] delimiter [" + delimiter
          + "] after [" + after + "] keys " + tree.keys;
      assertEquals(expected(tree.keys, prefix, d, after), listAll(tree, prefix, d, after, maxKeys),
          what);
    }
  }

  @Test
  void aMissingPrefixDirectoryIsAnEmptyListing() throws Exception {
    Tree tree = new Tree();
    tree.add("a/b");
    ObjectListing.Page page = ObjectListing.list(tree, 1, "x/y/", "/", null, 10);
    assertTrue(page.objects().isEmpty());
    assertFalse(page.truncated());
    assertEquals(List.of(), listAll(tree, "a/b/", "/", null, 10));
    assertEquals(List.of("a/b"), listAll(tree, "a/b", "/", null, 10));
  }

  @Test
  void aDelimitedListingDoesNotWalkBelowItsPrefixes() throws Exception {
    Tree tree = new Tree();
    for (int d = 0; d < 30; d++) {
      for (int f = 0; f < 30; f++) {
        tree.add("dir" + d + "/file" + f);
      }
    }
    tree.listCalls = 0;
    ObjectListing.Page page = ObjectListing.list(tree, 1, "", "/", null, 1000);
    assertEquals(30, page.commonPrefixes().size());
    assertTrue(tree.listCalls <= 11, "listed " + tree.listCalls + " pages for 30 names");
  }
}
