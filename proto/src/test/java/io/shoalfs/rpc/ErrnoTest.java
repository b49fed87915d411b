package io.shoalfs.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shoalfs.proto.Status;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ErrnoTest {
  /** Linux errno values, written out here rather than taken from Errno's own constants. */
  private static final Map<Status, Integer> LINUX = Map.ofEntries(
      Map.entry(Status.EPERM, 1),
      Map.entry(Status.ENOENT, 2),
      Map.entry(Status.EIO, 5),
      Map.entry(Status.E2BIG, 7),
      Map.entry(Status.EBADF, 9),
      Map.entry(Status.EACCES, 13),
      Map.entry(Status.EEXIST, 17),
      Map.entry(Status.EXDEV, 18),
      Map.entry(Status.ENOTDIR, 20),
      Map.entry(Status.EISDIR, 21),
      Map.entry(Status.EINVAL, 22),
      Map.entry(Status.EFBIG, 27),
      Map.entry(Status.ENOSPC, 28),
      Map.entry(Status.EMLINK, 31),
      Map.entry(Status.ERANGE, 34),
      Map.entry(Status.ENAMETOOLONG, 36),
      Map.entry(Status.ENOTEMPTY, 39),
      Map.entry(Status.ELOOP, 40),
      Map.entry(Status.ENODATA, 61),
      Map.entry(Status.ENOTSUP, 95),
      Map.entry(Status.EAGAIN, 11));

  private static final Map<Status, Integer> TRANSPORT = Map.ofEntries(
      Map.entry(Status.BAD_REQUEST, 71), // EPROTO
      Map.entry(Status.UNKNOWN_TYPE, 71),
      Map.entry(Status.FRAME_TOO_LARGE, 71),
      Map.entry(Status.DEADLINE_EXCEEDED, 110), // ETIMEDOUT
      Map.entry(Status.UNAVAILABLE, 110), // ETIMEDOUT: no quorum or no server after the bounded wait
      Map.entry(Status.INTERNAL, 5), // EIO
      Map.entry(Status.CORRUPT, 5),
      Map.entry(Status.STALE_VERSION, 116), // ESTALE
      Map.entry(Status.REPLICA_FAILED, 5),
      Map.entry(Status.SESSION_EXPIRED, 5), // EIO: the call may or may not have been applied
      Map.entry(Status.RETRY_TOO_OLD, 5),
      Map.entry(Status.CAP_HELD, 110)); // ETIMEDOUT: a capability held past the recall bound

  @Test
  void everyStatusHasAnExpectedErrno() {
    for (Status status : Status.values()) {
      if (status == Status.UNRECOGNIZED || status == Status.OK) {
        continue;
      }
      boolean posix = status.getNumber() < 100;
      Map<Status, Integer> table = posix ? LINUX : TRANSPORT;
      assertTrue(table.containsKey(status), status + " is new: add its errno to this test");
      assertEquals(table.get(status).intValue(), Errno.of(status), status.toString());
    }
  }

  @Test
  void errnoConstantsHaveTheirLinuxValues() throws ReflectiveOperationException {
    // Errno.ENOENT etc. are used directly by the FUSE layer; they must be the kernel's numbers.
    for (Map.Entry<Status, Integer> e : LINUX.entrySet()) {
      int constant = Errno.class.getField(e.getKey().name()).getInt(null);
      assertEquals(e.getValue().intValue(), constant, "Errno." + e.getKey().name());
    }
    assertEquals(110, Errno.ETIMEDOUT);
    assertEquals(11, Errno.EAGAIN);
    assertEquals(71, Errno.EPROTO);
  }

  @Test
  void okIsZeroAndAnUnknownStatusIsEio() {
    assertEquals(0, Errno.of(Status.OK));
    assertEquals(5, Errno.of(Status.UNRECOGNIZED));
  }

  @Test
  void rpcExceptionCarriesItsErrno() {
    RpcException e = new RpcException(Status.ENOENT, "no /a/b");
    assertEquals(Status.ENOENT, e.status());
    assertEquals(2, e.errno());
    assertTrue(e.getMessage().contains("no /a/b"));
  }
}
