package io.shoalfs.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Keeps the README's client section true: a row for every {@code shoal} subcommand, and every
 * fixed libfuse option named. Maven runs the tests with the module as the working directory.
 */
class ReadmeCommandsTest {
  private static final Path README = Path.of("..", "README.md");

  /** The README's "### Client" section, up to the next heading. */
  private static String clientSection() throws IOException {
    String readme = Files.readString(README);
    int start = readme.indexOf("\n### Client\n");
    assertTrue(start >= 0, "README has no \"### Client\" section");
    int end = readme.indexOf("\n#", start + 1);
    return end < 0 ? readme.substring(start) : readme.substring(start, end);
  }

  @Test
  void everySubcommandHasARow() throws IOException {
    String section = clientSection();
    List<String> missing = ShoalCli.COMMANDS.stream()
        .filter(c -> !section.contains("\n| `" + c + " ")).toList();
    assertEquals(List.of(), missing, "shoal subcommands missing from the README's client table");
  }

  @Test
  void everyMountOptionIsNamed() throws IOException {
    String section = clientSection();
    List<String> missing = MountOptions.DEFAULTS.stream()
        .filter(o -> !section.contains("`" + o + "`")).toList();
    assertEquals(List.of(), missing, "mount options missing from the README's client section");
  }
}
