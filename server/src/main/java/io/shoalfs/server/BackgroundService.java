package io.shoalfs.server;

/**
 * Work a server does on its own schedule rather than on request (the healer, the orphan
 * collector, the reaper): the wiring attaches each to the plane it works for, which starts it
 * once the plane runs and closes it before the plane stops.
 */
public interface BackgroundService extends AutoCloseable {
  void start();

  /** Stops the schedule and waits for a pass in progress to notice; never throws. */
  @Override
  void close();
}
