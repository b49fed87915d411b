package io.shoalfs.s3;

import io.etcd.jetcd.Client;
import io.shoalfs.client.ClientCore;
import io.shoalfs.client.ClusterConnection;
import io.shoalfs.cluster.EtcdClients;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code shoal s3}: the S3 gateway, and its access keys.
 *
 * <pre>
 *   shoal s3 [--host H] [--port P] [--key-file FILE] [--workers N] ETCD_ENDPOINTS
 *       serve S3 on H:P (127.0.0.1:7480) until stopped; with --key-file, make an access key if
 *       the cluster has none and write the first key's id and secret to FILE (two lines)
 *   shoal s3 key create ETCD_ENDPOINTS         a new access key: prints its id and secret
 *   shoal s3 key list ETCD_ENDPOINTS           the access key ids
 *   shoal s3 key delete ETCD_ENDPOINTS ID
 * </pre>
 */
public final class S3GatewayMain {
  private static final Logger LOG = LoggerFactory.getLogger(S3GatewayMain.class);
  static final int DEFAULT_PORT = 7480;
  static final int DEFAULT_WORKERS = 64;

  private S3GatewayMain() {}

  public static void main(String[] args) throws Exception {
    System.exit(run(args));
  }

  static int run(String[] args) throws Exception {
    if (args.length >= 1 && args[0].equals("key")) {
      return key(args);
    }
    String host = "127.0.0.1";
    int port = DEFAULT_PORT;
    int workers = DEFAULT_WORKERS;
    Path keyFile = null;
    int i = 0;
    try {
      for (; i < args.length - 1 && args[i].startsWith("--"); i += 2) {
        switch (args[i]) {
          case "--host" -> host = args[i + 1];
          case "--port" -> port = Integer.parseInt(args[i + 1]);
          case "--workers" -> workers = Integer.parseInt(args[i + 1]);
          case "--key-file" -> keyFile = Path.of(args[i + 1]);
          default -> {
            return usage("unknown option " + args[i]);
          }
        }
      }
    } catch (NumberFormatException e) {
      return usage("--port and --workers take numbers");
    }
    if (i != args.length - 1) {
      return usage(null);
    }
    return serve(args[i], host, port, workers, keyFile);
  }

  private static int usage(String problem) {
    if (problem != null) {
      System.err.println("shoal s3: " + problem);
    }
    System.err.println("usage: shoal s3 [--host H] [--port P] [--key-file FILE] [--workers N]"
        + " ETCD_ENDPOINTS | s3 key create|list ETCD_ENDPOINTS | s3 key delete ETCD_ENDPOINTS ID");
    return 2;
  }

  private static int serve(String endpoints, String host, int port, int workers, Path keyFile)
      throws Exception {
    try (ClusterConnection cluster = ClusterConnection.open(endpoints)) {
      long chunkSize = cluster.settings().getChunkSize();
      AccessKeys keys = new AccessKeys(cluster.etcd());
      if (keyFile != null) {
        writeKeyFile(keys, keyFile);
      }
      try (ClientCore core = ClientCore.connect(cluster);
           S3Server server = new S3Server(workers)) {
        ObjectStore store = new ObjectStore(core);
        store.start();
        S3Router router = new S3Router(new SigV4Verifier(keys::secretOf),
            new BucketHandler(store, server.workers()), new ObjectHandler(store),
            new MultipartUploads(store));
        InetSocketAddress bound = server.start(host, port, router);
        LOG.info("S3 gateway listening on http://{}:{} (etcd {}, chunk size {})",
            bound.getHostString(), bound.getPort(), endpoints, chunkSize);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(stopped::countDown, "s3-stop"));
        stopped.await();
      }
    } catch (ClusterConnection.NoSettings e) {
      System.err.println("shoal s3: " + e.getMessage());
      return 1;
    }
    return 0;
  }

  /** Makes a key if the cluster has none, and writes the first one to {@code file}. */
  private static void writeKeyFile(AccessKeys keys, Path file) throws Exception {
    List<AccessKeys.Key> all = keys.list();
    AccessKeys.Key key = all.isEmpty() ? keys.create() : all.get(0);
    if (all.isEmpty()) {
      LOG.info("made access key {} (the cluster had none)", key.id());
    }
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(tmp, PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rw-------")));
    Files.writeString(tmp, key.id() + "\n" + key.secret() + "\n", StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static int key(String[] args) throws Exception {
    if (args.length < 3) {
      return usage(null);
    }
    try (Client etcd = EtcdClients.connect(args[2])) {
      AccessKeys keys = new AccessKeys(etcd);
      switch (args[1]) {
        case "create" -> {
          AccessKeys.Key key = keys.create();
          System.out.println("AWS_ACCESS_KEY_ID=" + key.id());
          System.out.println("AWS_SECRET_ACCESS_KEY=" + key.secret());
          return 0;
        }
        case "list" -> {
          keys.list().forEach(k -> System.out.println(k.id()));
          return 0;
        }
        case "delete" -> {
          if (args.length != 4) {
            return usage(null);
          }
          if (!keys.delete(args[3])) {
            System.err.println("shoal s3: no access key " + args[3]);
            return 1;
          }
          return 0;
        }
        default -> {
          return usage("unknown key command " + args[1]);
        }
      }
    }
  }
}
