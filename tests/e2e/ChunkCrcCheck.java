import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * Checks chunk files against their CRC sidecars, for the e2e suite (run as a source file:
 * {@code java ChunkCrcCheck.java BLOCK_SIZE FILE.chunk...}). The sidecar of {@code X.chunk} is
 * {@code X.crc}: one 4-byte big-endian CRC32C per block, the last block possibly short.
 * Exits 0 if every file passes, 1 naming the first block that does not.
 */
public class ChunkCrcCheck {
  public static void main(String[] args) throws IOException {
    int block = Integer.parseInt(args[0]);
    for (int i = 1; i < args.length; i++) {
      String problem = check(Path.of(args[i]), block);
      if (problem != null) {
        System.err.println(args[i] + ": " + problem);
        System.exit(1);
      }
    }
  }

  static String check(Path chunk, int block) throws IOException {
    String name = chunk.getFileName().toString();
    if (!name.endsWith(".chunk")) {
      return "not a .chunk file";
    }
    byte[] data = Files.readAllBytes(chunk);
    ByteBuffer sums = ByteBuffer.wrap(
        Files.readAllBytes(chunk.resolveSibling(name.substring(0, name.length() - 6) + ".crc")));
    int blocks = (data.length + block - 1) / block;
    if (sums.remaining() < 4L * blocks) {
      return sums.remaining() / 4 + " checksums for " + blocks + " blocks";
    }
    for (int b = 0; b < blocks; b++) {
      CRC32C crc = new CRC32C();
      crc.update(data, b * block, Math.min(block, data.length - b * block));
      if ((int) crc.getValue() != sums.getInt(4 * b)) {
        return "block " + b + " fails its CRC";
      }
    }
    return null;
  }
}
