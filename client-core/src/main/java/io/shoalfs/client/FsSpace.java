package io.shoalfs.client;

/**
 * What statfs reports: the data nodes' space in bytes, and inodes. There is no inode limit;
 * {@code freeInodes} is a large constant so that {@code df -i} shows a use.
 */
public record FsSpace(long totalBytes, long freeBytes, long usedInodes, long freeInodes,
    int nameMax) {}
