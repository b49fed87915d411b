package io.shoalfs.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real single-node etcd process for tests, on free local ports and a temporary data dir.
 * {@link #stop()} and {@link #start()} keep the data dir and ports, so a test can restart etcd
 * under a client. The binary is {@code /usr/bin/etcd} unless {@code -Dshoal.etcd.bin=...} or
 * {@code $ETCD_BIN} say otherwise. The ports are any free ones the system picks, or the first
 * free ones of a range {@code LOW-HIGH} given as {@code -Dshoal.etcd.ports=...} or
 * {@code $SHOAL_ETCD_PORTS} (for a machine whose other users own fixed ports).
 */
public final class EmbeddedEtcd implements AutoCloseable {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(20);

  private final Path dir;
  private final int clientPort;
  private final int peerPort;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
  private Process process;

  private EmbeddedEtcd(Path dir, int clientPort, int peerPort) {
    this.dir = dir;
    this.clientPort = clientPort;
    this.peerPort = peerPort;
  }

  /** Starts a fresh etcd and waits until it answers. */
  public static EmbeddedEtcd launch() throws IOException {
    Path dir = Files.createTempDirectory("shoal-etcd-");
    int[] ports = freePorts();
    EmbeddedEtcd etcd = new EmbeddedEtcd(dir, ports[0], ports[1]);
    try {
      etcd.start();
    } catch (IOException | RuntimeException e) {
      etcd.close();
      throw e;
    }
    return etcd;
  }

  /** {@code http://127.0.0.1:<port>}, for {@link EtcdClients#connect}. */
  public String endpoint() {
    return "http://127.0.0.1:" + clientPort;
  }

  public Path dataDir() {
    return dir.resolve("data");
  }

  public synchronized boolean isRunning() {
    return process != null && process.isAlive();
  }

  /** (Re)starts etcd on the same data dir and ports; waits until it answers. */
  public synchronized void start() throws IOException {
    if (isRunning()) {
      throw new IllegalStateException("etcd is already running");
    }
    String peer = "http://127.0.0.1:" + peerPort;
    List<String> cmd =
        List.of(
            binary(),
            "--name", "t",
            "--data-dir", dataDir().toString(),
            "--listen-client-urls", endpoint(),
            "--advertise-client-urls", endpoint(),
            "--listen-peer-urls", peer,
            "--initial-advertise-peer-urls", peer,
            "--initial-cluster", "t=" + peer,
            "--log-level", "warn");
    process =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log().toFile()))
            .start();
    awaitHealthy();
  }

  /** Stops etcd (SIGTERM, then SIGKILL if it lingers) and waits for it to exit; data is kept. */
  public synchronized void stop() {
    if (process == null) {
      return;
    }
    Process p = process;
    process = null;
    p.destroy();
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  /** Stops etcd and deletes its files. */
  @Override
  public void close() {
    stop();
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void awaitHealthy() throws IOException {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    HttpRequest health =
        HttpRequest.newBuilder(URI.create(endpoint() + "/health"))
            .timeout(Duration.ofMillis(500))
            .build();
    while (true) {
      if (!process.isAlive()) {
        throw new IOException("etcd exited with " + process.exitValue() + ":\n" + logTail());
      }
      try {
        HttpResponse<String> r = http.send(health, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200 && r.body().contains("\"health\":\"true\"")) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while waiting for etcd", e);
      }
      if (System.nanoTime() - deadline > 0) {
        stop();
        throw new IOException("etcd not healthy within " + START_TIMEOUT + ":\n" + logTail());
      }
      try {
        TimeUnit.MILLISECONDS.sleep(50); // poll interval
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while waiting for etcd", e);
      }
    }
  }

  private Path log() {
    return dir.resolve("etcd.log");
  }

  private String logTail() {
    try {
      List<String> lines = Files.readAllLines(log(), StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  private static String binary() {
    String b = System.getProperty("shoal.etcd.bin", System.getenv("ETCD_BIN"));
    if (b != null && !b.isBlank()) {
      return b;
    }
    return Files.isExecutable(Path.of("/usr/bin/etcd")) ? "/usr/bin/etcd" : "etcd";
  }

  private static int[] freePorts() throws IOException {
    String range = System.getProperty("shoal.etcd.ports", System.getenv("SHOAL_ETCD_PORTS"));
    if (range != null && !range.isBlank()) {
      return freePortsIn(range.trim());
    }
    try (ServerSocket a = new ServerSocket(0);
        ServerSocket b = new ServerSocket(0)) {
      return new int[] {a.getLocalPort(), b.getLocalPort()};
    }
  }

  private static int[] freePortsIn(String range) throws IOException {
    String[] bounds = range.split("-");
    if (bounds.length != 2) {
      throw new IllegalArgumentException("etcd port range must be LOW-HIGH, got " + range);
    }
    int[] found = new int[2];
    int n = 0;
    for (int port = Integer.parseInt(bounds[0]); port <= Integer.parseInt(bounds[1]) && n < 2;
        port++) {
      try (ServerSocket s = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
        found[n++] = port;
      } catch (IOException inUse) {
        // taken: try the next
      }
    }
    if (n < 2) {
      throw new IOException("fewer than two free ports in " + range);
    }
    return found;
  }
}
