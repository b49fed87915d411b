package io.shoalfs.rpc;

import io.shoalfs.proto.Status;

/**
 * The one translator from a ShoalFS {@link Status} to a Linux errno (positive; the FUSE
 * layer negates it). Every failure that reaches a caller of the mount passes through here.
 */
public final class Errno {
  public static final int EPERM = 1;
  public static final int ENOENT = 2;
  public static final int EIO = 5;
  public static final int E2BIG = 7;
  public static final int EBADF = 9;
  public static final int EAGAIN = 11;
  public static final int EACCES = 13;
  public static final int EEXIST = 17;
  public static final int EXDEV = 18;
  public static final int ENOTDIR = 20;
  public static final int EISDIR = 21;
  public static final int EINVAL = 22;
  public static final int EFBIG = 27;
  public static final int ENOSPC = 28;
  public static final int EMLINK = 31;
  public static final int ERANGE = 34;
  public static final int ENAMETOOLONG = 36;
  public static final int ENOSYS = 38;
  public static final int ENOTEMPTY = 39;
  public static final int ELOOP = 40;
  public static final int ENODATA = 61;
  public static final int EPROTO = 71;
  public static final int ENOTSUP = 95;
  public static final int ETIMEDOUT = 110;
  public static final int ESTALE = 116;

  private Errno() {}

  public static int of(Status status) {
    switch (status) {
      case OK: return 0;
      case ENOENT: return ENOENT;
      case EEXIST: return EEXIST;
      case ENOTEMPTY: return ENOTEMPTY;
      case ENOTDIR: return ENOTDIR;
      case EISDIR: return EISDIR;
      case ENAMETOOLONG: return ENAMETOOLONG;
      case EINVAL: return EINVAL;
      case EACCES: return EACCES;
      case EPERM: return EPERM;
      case ENOSPC: return ENOSPC;
      case ENODATA: return ENODATA;
      case ERANGE: return ERANGE;
      case EXDEV: return EXDEV;
      case ELOOP: return ELOOP;
      case EBADF: return EBADF;
      case EFBIG: return EFBIG;
      case EMLINK: return EMLINK;
      case E2BIG: return E2BIG;
      case ENOTSUP: return ENOTSUP;
      case EAGAIN: return EAGAIN;
      case DEADLINE_EXCEEDED: return ETIMEDOUT;
      // No quorum, no reachable server, not enough live replicas, after the client's bounded
      // wait: EAGAIN would tell programs to try again at once ("Resource temporarily
      // unavailable"); the service did not answer in time, as a timed-out NFS call says.
      case UNAVAILABLE: return ETIMEDOUT;
      // Another mount held a capability in the way past the recall bound: it neither released
      // it nor lost its session in time.
      case CAP_HELD: return ETIMEDOUT;
      case STALE_VERSION: return ESTALE;
      case BAD_REQUEST:
      case UNKNOWN_TYPE:
      case FRAME_TOO_LARGE: return EPROTO;
      case EIO:
      case CORRUPT:
      case REPLICA_FAILED:
      case INTERNAL:
      default: return EIO;
    }
  }
}
