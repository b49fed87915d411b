package io.shoalfs.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Keeps the README's server flag table true: every flag the server accepts has a row there, and
 * every row names a flag the server accepts. Maven runs the tests with the module as the working
 * directory, so the README is one level up.
 */
class ReadmeFlagsTest {
  static final Path README = Path.of("..", "README.md");
  static final String TABLE_HEADING = "### Server flags";

  /** The flags of the server table's rows, in order, without the leading {@code --}. */
  static List<String> tableFlags(List<String> readme) {
    int start = readme.indexOf(TABLE_HEADING);
    assertTrue(start >= 0, "README has no \"" + TABLE_HEADING + "\" section");
    List<String> flags = new ArrayList<>();
    for (String line : readme.subList(start + 1, readme.size())) {
      if (line.startsWith("#")) {
        break;
      }
      if (line.startsWith("| `--")) {
        int end = line.indexOf('`', 3);
        String cell = line.substring(3, end);
        int space = cell.indexOf(' ');
        flags.add((space < 0 ? cell : cell.substring(0, space)).substring(2));
      }
    }
    return flags;
  }

  private static List<String> accepted() {
    List<String> all = new ArrayList<>(ServerConfig.FLAGS);
    all.add(ShoalServerMain.TOPOLOGY_FLAG);
    return all;
  }

  @Test
  void everyServerFlagHasARowInTheReadme() throws IOException {
    List<String> rows = tableFlags(Files.readAllLines(README));
    List<String> missing = accepted().stream().filter(f -> !rows.contains(f)).toList();
    assertEquals(List.of(), missing, "server flags missing from the README's server flag table");
  }

  @Test
  void everyRowOfTheTableIsAFlagTheServerAccepts() throws IOException {
    List<String> rows = tableFlags(Files.readAllLines(README));
    assertFalse(rows.isEmpty(), "the server flag table has no rows");
    List<String> unknown = rows.stream().filter(f -> !accepted().contains(f)).toList();
    assertEquals(List.of(), unknown, "README rows for flags the server does not accept");
  }

  @Test
  void theParserRejectsAFlagNotInTheList() {
    String[] base = {"--id", "s1", "--raft-port", "7151", "--rpc-port", "7101",
        "--data-dir", "d", "--etcd", "http://127.0.0.1:7190"};
    ServerConfig ok = ServerConfig.parse(base);
    assertEquals(ServerConfig.DEFAULT_CHUNK_SIZE, ok.chunkSizeBytes());
    List<String> typo = new ArrayList<>(List.of(base));
    typo.addAll(List.of("--replicaton", "2"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ServerConfig.parse(typo.toArray(String[]::new)));
    assertTrue(e.getMessage().contains("--replicaton"), e.getMessage());
  }
}
