package io.shoalfs.server.meta;

/**
 * Reading the stamp on a metadata answer (MetaResponse.applied_index) from outside the state
 * machine: it is the log index the answer was applied or read at, times the places of an entry,
 * plus the answer's place within it ({@link EntryApplier#stamp}).
 */
public final class AnswerStamps {
  private AnswerStamps() {}

  /** The metadata log index an answer stamped {@code stamp} was applied or read at. */
  public static long logIndexOf(long stamp) {
    return stamp / EntryApplier.ENTRY_PLACES;
  }
}
