package io.shoalfs.client;

/**
 * A mount's file system as a library: every POSIX operation the FUSE mount serves, by path or
 * handle, on plain Java values, throwing {@link io.shoalfs.rpc.RpcException} with the status
 * (errno) a failure has. The sessions, caches, metadata journal and chunk I/O live here; a
 * front end (the FUSE mount) only translates its requests into these calls and their answers
 * back. The operations come in groups: {@link #attributes}, {@link #namespace},
 * {@link #directories}, {@link #files}, {@link #locks}, {@link #xattrs}.
 *
 * <p>Safe for concurrent calls. {@link #startSession} before the first call, {@link #close} at
 * the end.
 */
public final class MountFileSystem implements AutoCloseable {
  private final MountParts parts;
  private final MountAttributes attributes;
  private final MountNamespace namespace;
  private final MountDirectories directories;
  private final MountLocks locks;
  private final MountFiles files;
  private final MountXattrs xattrs;

  /** A file system over {@code transport} (which stays the caller's to close). */
  public MountFileSystem(ShoalTransport transport, ShoalFuseConfig config, long clientId) {
    this.parts = new MountParts(transport, config, clientId);
    this.attributes = new MountAttributes(parts);
    this.namespace = new MountNamespace(parts);
    this.directories = new MountDirectories(parts);
    this.locks = new MountLocks(parts);
    this.files = new MountFiles(parts, namespace, locks);
    this.xattrs = new MountXattrs(parts);
  }

  /** A fresh client id: random and non-zero, as each mount's must be unique in the cluster. */
  public static long randomClientId() {
    return MountSession.randomClientId();
  }

  /** Opens the session with the metadata service: before the first operation. */
  public void startSession() {
    parts.meta.startSession();
  }

  public long clientId() {
    return parts.meta.clientId();
  }

  public MountAttributes attributes() {
    return attributes;
  }

  public MountNamespace namespace() {
    return namespace;
  }

  public MountDirectories directories() {
    return directories;
  }

  public MountFiles files() {
    return files;
  }

  public MountLocks locks() {
    return locks;
  }

  public MountXattrs xattrs() {
    return xattrs;
  }

  /** Stops the background work and closes the session (its orphans are freed). */
  @Override
  public void close() {
    parts.close();
  }
}
