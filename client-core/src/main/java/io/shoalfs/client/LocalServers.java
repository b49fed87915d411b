package io.shoalfs.client;

import io.shoalfs.localread.LocalReadRequest;
import io.shoalfs.proto.MemberInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which servers share this mount's host and filesystem view: those that advertise a
 * short-circuit socket whose token file, read here, holds the token they advertise. A server
 * in another container or on another host fails the check (its path is absent here, or holds
 * another server's token) and is read over the network. Remembered per (socket, token): a
 * restarted server advertises a new token and is checked again.
 */
final class LocalServers {
  private final Map<String, Boolean> checked = new ConcurrentHashMap<>();

  /** The member's short-circuit socket if it is on this host; null otherwise. */
  String socketOf(MemberInfo member) {
    String socket = member.getLocalReadSocket();
    String token = member.getLocalReadToken();
    if (socket.isEmpty() || token.isEmpty()) {
      return null;
    }
    boolean local = checked.computeIfAbsent(socket + '\n' + token,
        k -> token.equals(readToken(socket)));
    return local ? socket : null;
  }

  private static String readToken(String socket) {
    try {
      return Files.readString(Path.of(socket + LocalReadRequest.TOKEN_SUFFIX)).trim();
    } catch (IOException | RuntimeException notHere) {
      return null;
    }
  }
}
