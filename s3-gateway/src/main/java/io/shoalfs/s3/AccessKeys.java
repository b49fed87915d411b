package io.shoalfs.s3;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The cluster's S3 access keys, kept in etcd so that every gateway knows the same ones:
 *
 * <pre>
 *   /shoalfs/s3/keys/ACCESS_KEY_ID  ->  the secret key (UTF-8)
 * </pre>
 *
 * A gateway asks etcd for a key the first time a request names it and keeps the answer for
 * {@link #REFRESH}, so a key created or deleted elsewhere counts everywhere within that time.
 */
final class AccessKeys {
  static final String PREFIX = "/shoalfs/s3/keys/";
  static final Duration REFRESH = Duration.ofSeconds(30);
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);
  private static final String ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  private static final String SECRET_ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  private static final SecureRandom RANDOM = new SecureRandom();

  /** An access key id and its secret. */
  record Key(String id, String secret) {}

  private record Cached(Optional<String> secret, long fetchedNanos) {}

  private final Client etcd;
  private final Map<String, Cached> cache = new ConcurrentHashMap<>();

  AccessKeys(Client etcd) {
    this.etcd = etcd;
  }

  /** The secret of access key {@code id}, if the cluster has that key. */
  Optional<String> secretOf(String id) {
    if (!id.matches("[A-Z0-9]{16,128}")) {
      return Optional.empty();
    }
    Cached c = cache.get(id);
    if (c != null && System.nanoTime() - c.fetchedNanos() < REFRESH.toNanos()) {
      return c.secret();
    }
    try {
      List<KeyValue> kvs = etcd.getKVClient().get(bytes(PREFIX + id))
          .get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).getKvs();
      Optional<String> secret = kvs.isEmpty() ? Optional.empty()
          : Optional.of(kvs.get(0).getValue().toString(StandardCharsets.UTF_8));
      cache.put(id, new Cached(secret, System.nanoTime()));
      return secret;
    } catch (Exception e) {
      // etcd is out of reach: a key known a moment ago still counts, an unknown one does not.
      return c != null ? c.secret() : Optional.empty();
    }
  }

  /** Every key, by id. */
  List<Key> list() throws Exception {
    List<Key> keys = new ArrayList<>();
    for (KeyValue kv : etcd.getKVClient().get(bytes(PREFIX),
        GetOption.newBuilder().isPrefix(true).build())
        .get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).getKvs()) {
      keys.add(new Key(kv.getKey().toString(StandardCharsets.UTF_8).substring(PREFIX.length()),
          kv.getValue().toString(StandardCharsets.UTF_8)));
    }
    return keys;
  }

  /** A new key with a random id and secret. */
  Key create() throws Exception {
    while (true) {
      Key key = new Key("SHOAL" + random(ID_ALPHABET, 15), random(SECRET_ALPHABET, 40));
      ByteSequence k = bytes(PREFIX + key.id());
      boolean made = etcd.getKVClient().txn()
          .If(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.version(0)))
          .Then(Op.put(k, bytes(key.secret()), PutOption.DEFAULT))
          .commit().get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).isSucceeded();
      if (made) {
        return key;
      }
    }
  }

  /** Deletes key {@code id}; false if there was none. */
  boolean delete(String id) throws Exception {
    cache.remove(id);
    return etcd.getKVClient().delete(bytes(PREFIX + id))
        .get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).getDeleted() > 0;
  }

  private static String random(String alphabet, int length) {
    StringBuilder b = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      b.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
    }
    return b.toString();
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }
}
