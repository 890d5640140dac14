package dev.imgmatch.common;

import java.util.Map;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;

/**
 * Positions a read_committed consumer at the first record from a time on, without skipping a record whose
 * transaction is committed but not yet stable in its partition.
 *
 * <p>Why a helper: the look-up by time ({@code offsetsForTimes}) of a read_committed consumer leaves out records at or
 * past the partition's last stable offset, and the transaction coordinator writes a commit's markers one partition
 * after another — so a record can be committed (its transaction's record in another partition already readable) and
 * still be left out. Seeking to the end where the look-up found nothing then skips it: the end, resolved a moment
 * later, lies past it once its marker is written. The end taken <i>before</i> the look-up cannot: a record the look-up
 * left out lies at or past the last stable offset of that later moment, which is at or past this one.
 */
public final class TimeSeek {
  private TimeSeek() {}

  /**
   * Seeks each partition of {@code from} (assigned to {@code consumer}) to its first readable record whose timestamp
   * is at or after the partition's time, or, where none is, to the end it had just before the look-up.
   */
  public static void seek(Consumer<?, ?> consumer, Map<TopicPartition, Long> from) {
    Map<TopicPartition, Long> ends = consumer.endOffsets(from.keySet()); // first: see above
    Map<TopicPartition, OffsetAndTimestamp> found = consumer.offsetsForTimes(from);
    for (TopicPartition tp : from.keySet()) {
      OffsetAndTimestamp o = found.get(tp);
      consumer.seek(tp, o != null ? o.offset() : ends.get(tp));
    }
  }
}
