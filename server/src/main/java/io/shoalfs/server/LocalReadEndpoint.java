package io.shoalfs.server;

/**
 * Where a mount on this server's host asks for chunk file descriptors (short-circuit local
 * reads), as the membership record advertises it.
 *
 * @param socketPath the Unix domain socket
 * @param token random, also written to {@code socketPath + ".token"}: a mount that reads the
 *     same there shares this server's host and filesystem view
 */
public record LocalReadEndpoint(String socketPath, String token) {}
