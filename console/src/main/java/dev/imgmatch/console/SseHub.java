package dev.imgmatch.console;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Live alerts as server-sent events ({@code GET /v1/alerts/stream}).
 *
 * <p>Threads: each stream is served by its own request thread (a virtual thread), which blocks on the stream's
 * bounded queue and writes what arrives; the feed thread only offers to the queues ({@link #publish}) and never
 * blocks on a client. Back-pressure: a client whose queue is full (it reads slower than alerts arrive) is
 * disconnected; its browser reconnects with {@code Last-Event-ID} and catches up from the {@link AlertStore}. At most
 * {@code maxClients} streams are open; one more is refused with 503. A comment line every
 * {@link #HEARTBEAT_MS} ms finds clients that went away without closing.
 */
final class SseHub implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SseHub.class);
  static final long HEARTBEAT_MS = 15_000;
  /** Tells a stream's thread to end. */
  private static final AlertStore.Stored CLOSE = new AlertStore.Stored(-1, null);

  private record Client(AlertFilter filter, BlockingQueue<AlertStore.Stored> queue) {}

  private final AlertStore store;
  private final int maxClients;
  private final int queueSize;
  private final Set<Client> clients = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  SseHub(AlertStore store, int maxClients, int queueSize) {
    this.store = store;
    this.maxClients = maxClients;
    this.queueSize = queueSize;
  }

  /** Hands a new alert to every stream whose filter takes it (the feed thread; never blocks). */
  void publish(AlertStore.Stored s) {
    for (Client c : clients) {
      if (c.filter().test(s.alert()) && !c.queue().offer(s)) {
        log.info("an alert stream reads too slowly ({} alerts queued); disconnecting it (it resumes on reconnect)",
            queueSize);
        clients.remove(c);
        c.queue().clear();
        c.queue().offer(CLOSE);
      }
    }
  }

  int clients() {
    return clients.size();
  }

  /**
   * Serves one stream until the client goes, the server stops or the client falls behind: first the held alerts
   * after {@code afterSeq} (a reconnect's {@code Last-Event-ID}, or the last one the page listed), then new ones.
   */
  void serve(HttpExchange ex, AlertFilter filter, long afterSeq) throws IOException {
    if (closed) {
      throw new ApiException(503, "the console is stopping");
    }
    Client c = new Client(filter, new ArrayBlockingQueue<>(queueSize + 1)); // +1: room for CLOSE
    synchronized (clients) {
      if (clients.size() >= maxClients) {
        ex.getResponseHeaders().set("Retry-After", "5");
        throw new ApiException(503, "too many live alert streams open (console.sse.max.clients=" + maxClients + ")");
      }
      clients.add(c); // registered before the catch-up is read: nothing falls between the two
    }
    try {
      HttpIo.commonHeaders(ex);
      ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
      ex.sendResponseHeaders(200, 0);
      try (OutputStream out = ex.getResponseBody()) {
        out.write("retry: 3000\n\n".getBytes(StandardCharsets.US_ASCII));
        long last = afterSeq;
        if (afterSeq >= 0) {
          List<AlertStore.Stored> missed = store.after(afterSeq, filter);
          for (AlertStore.Stored s : missed) {
            write(out, s);
            last = s.seq();
          }
        }
        out.flush();
        while (!closed) {
          AlertStore.Stored s = c.queue().poll(HEARTBEAT_MS, TimeUnit.MILLISECONDS);
          if (s == CLOSE) {
            break;
          }
          if (s == null) {
            out.write(": keep-alive\n\n".getBytes(StandardCharsets.US_ASCII));
          } else if (s.seq() > last) {
            write(out, s);
            last = s.seq();
          }
          out.flush();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      clients.remove(c);
      ex.close();
    }
  }

  private static void write(OutputStream out, AlertStore.Stored s) throws IOException {
    String data = HttpIo.JSON.writeValueAsString(Json.alert(s)); // one line: JSON escapes newlines
    out.write(("id: " + s.seq() + "\nevent: alert\ndata: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
  }

  /** Ends every stream (their threads return) and refuses new ones. */
  @Override
  public void close() {
    closed = true;
    for (Client c : clients) {
      c.queue().clear();
      c.queue().offer(CLOSE);
    }
  }
}
