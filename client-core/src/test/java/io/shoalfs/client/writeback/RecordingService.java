package io.shoalfs.client.writeback;

import io.shoalfs.proto.Attr;
import io.shoalfs.proto.DirEntry;
import io.shoalfs.proto.FileType;
import io.shoalfs.proto.MetaRequest;
import io.shoalfs.proto.MetaResponse;
import io.shoalfs.proto.Status;
import io.shoalfs.rpc.RpcException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;

/**
 * The metadata service as the write-back sees it, for its tests: journals recorded, every op
 * accepted (or each answered {@link #answerEach}), inode ranges from {@link #LEASE_START}, any
 * directory granted with the listing {@link #listings} holds for it.
 */
final class RecordingService implements WriteBack.Service {
  static final long LEASE_START = 10_000;

  final List<List<MetaRequest>> journals = new ArrayList<>();
  final List<List<Long>> releases = new ArrayList<>();
  /** Shared holdings given back (JournalOp.release_shared), in order. */
  final List<Long> sharedReleases = new ArrayList<>();
  Status answerEach = Status.OK;
  /** Journals wait for it before they are answered (a slow group). */
  CountDownLatch gate = new CountDownLatch(0);
  int leaseCount = -1; // -1: as asked
  int leasesLeft = Integer.MAX_VALUE;
  /** Directories asked for with acquireCapability, in order: exclusive, and shared. */
  final List<Long> acquired = new ArrayList<>();
  final List<Long> sharedAcquired = new ArrayList<>();
  /** What listDirectory answers, by directory (none: empty). */
  final Map<Long, List<DirEntry>> listings = new HashMap<>();
  /** Runs at the start of every listDirectory (a change racing a take). */
  Runnable beforeListing = () -> { };
  /** Thrown by acquireCapability when not OK (CAP_HELD: another mount holds it). */
  Status acquireAnswer = Status.OK;

  static Attr dirAttr(long inode) {
    return Attr.newBuilder().setInode(inode).setType(FileType.DIRECTORY).setMode(0755)
        .setNlink(2).build();
  }

  @Override
  public MetaResponse sendJournal(List<MetaRequest.Builder> ops, Collection<Long> release,
      Collection<Long> releaseShared) {
    try {
      gate.await();
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
    synchronized (this) {
      journals.add(ops.stream().map(MetaRequest.Builder::build).collect(Collectors.toList()));
      releases.add(new ArrayList<>(release));
      sharedReleases.addAll(releaseShared);
    }
    MetaResponse.Builder r = MetaResponse.newBuilder().setStatus(Status.OK);
    ops.forEach(op -> r.addBatched(MetaResponse.newBuilder().setStatus(answerEach)));
    return r.build();
  }

  @Override
  public MetaResponse leaseInodes(int count) throws RpcException {
    if (leasesLeft-- <= 0) {
      throw new RpcException(Status.UNAVAILABLE, "no lease this time");
    }
    return MetaResponse.newBuilder().setStatus(Status.OK).setInodeRangeStart(LEASE_START)
        .setInodeRangeCount(leaseCount < 0 ? count : leaseCount).setReplication(2)
        .setMinReplicas(1).build();
  }

  @Override
  public synchronized MetaResponse acquireCapability(long dir, boolean shared)
      throws RpcException {
    (shared ? sharedAcquired : acquired).add(dir);
    if (acquireAnswer != Status.OK) {
      throw new RpcException(acquireAnswer, "directory " + dir + " held elsewhere");
    }
    return MetaResponse.newBuilder().setStatus(Status.OK).setCapabilityGranted(true)
        .setAttr(dirAttr(dir)).build();
  }

  @Override
  public synchronized List<DirEntry> listDirectory(long dir, int max) {
    beforeListing.run();
    List<DirEntry> listing = listings.getOrDefault(dir, List.of());
    return listing.size() > max ? null : listing;
  }

  synchronized List<MetaRequest> allOps() {
    return journals.stream().flatMap(List::stream).collect(Collectors.toList());
  }

  synchronized List<Long> allReleased() {
    return releases.stream().flatMap(List::stream).collect(Collectors.toList());
  }
}
