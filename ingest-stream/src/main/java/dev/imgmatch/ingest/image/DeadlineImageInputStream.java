package dev.imgmatch.ingest.image;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.imageio.IIOException;
import javax.imageio.stream.ImageInputStreamImpl;

/**
 * An in-memory image stream that fails every read once its deadline has passed. {@code ImageReader.abort()} from
 * another thread is only a request the reader checks when it pleases (the JDK's JPEG reader between passes, not
 * within one): a decoder that keeps reading its input is stopped at its next read here, on its own thread. Checking
 * the clock costs a few nanoseconds per read call (decoders read in blocks).
 */
public final class DeadlineImageInputStream extends ImageInputStreamImpl {
  private final byte[] bytes;
  private final long deadlineNanos;
  private final AtomicBoolean expired;

  /**
   * @param expired set when a read finds the deadline passed (shared with the watchdog)
   */
  public DeadlineImageInputStream(byte[] bytes, long deadlineNanos, AtomicBoolean expired) {
    this.bytes = bytes;
    this.deadlineNanos = deadlineNanos;
    this.expired = expired;
  }

  private void checkDeadline() throws IIOException {
    if (expired.get() || System.nanoTime() - deadlineNanos > 0) {
      expired.set(true);
      throw new IIOException("the decode deadline passed");
    }
  }

  @Override
  public int read() throws IOException {
    checkClosed();
    checkDeadline();
    bitOffset = 0;
    if (streamPos >= bytes.length) {
      return -1;
    }
    return bytes[(int) streamPos++] & 0xFF;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    checkClosed();
    checkDeadline();
    if (off < 0 || len < 0 || off + len > b.length) {
      throw new IndexOutOfBoundsException("off " + off + ", len " + len + ", buffer " + b.length);
    }
    bitOffset = 0;
    if (len == 0) {
      return 0;
    }
    if (streamPos >= bytes.length) {
      return -1;
    }
    int n = (int) Math.min(len, bytes.length - streamPos);
    System.arraycopy(bytes, (int) streamPos, b, off, n);
    streamPos += n;
    return n;
  }

  @Override
  public long length() {
    return bytes.length;
  }
}
