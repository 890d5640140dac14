package dev.imgmatch.common;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A service's operational HTTP endpoint (JDK HTTP server, no framework):
 * <ul>
 *   <li>{@code GET /health}: 200 while the process is alive (liveness);
 *   <li>{@code GET /ready}: 200 when the service can do its work (e.g. its Kafka clients are assigned and
 *       its model or index is open), 503 otherwise, with a one-line reason (readiness);
 *   <li>{@code GET /metrics}: Prometheus text format: the service's own meters plus JVM meters.
 * </ul>
 * Port 0 picks a free port (see {@link #port()}); a negative port disables the endpoint.
 */
public final class ServiceEndpoint implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ServiceEndpoint.class);

  /** Readiness: null when ready, else why not. */
  @FunctionalInterface
  public interface Readiness {
    String notReadyReason();
  }

  private final PrometheusMeterRegistry registry;
  private final HttpServer server;
  private final String service;

  private ServiceEndpoint(String service, PrometheusMeterRegistry registry, HttpServer server) {
    this.service = service;
    this.registry = registry;
    this.server = server;
  }

  /** A registry with JVM meters and the common tag {@code service}, for services and tests alike. */
  public static PrometheusMeterRegistry newRegistry(String service) {
    PrometheusMeterRegistry r = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    r.config().commonTags("service", service);
    new JvmMemoryMetrics().bindTo(r);
    new JvmThreadMetrics().bindTo(r);
    new ProcessorMetrics().bindTo(r);
    @SuppressWarnings("resource") // lives as long as the process
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(r);
    return r;
  }

  /**
   * Starts the endpoint.
   *
   * @param host address to bind, e.g. 0.0.0.0 in a container, 127.0.0.1 locally
   * @param port port, 0 = free
   */
  public static ServiceEndpoint start(String service, PrometheusMeterRegistry registry, String host, int port,
      Readiness readiness) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 16);
    server.setExecutor(Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, service + "-http");
      t.setDaemon(true);
      return t;
    }));
    server.createContext("/health", ex -> respond(ex, 200, "text/plain", "ok\n"));
    server.createContext("/ready", ex -> {
      String why;
      try {
        why = readiness.notReadyReason();
      } catch (RuntimeException e) {
        why = "readiness check failed: " + e;
      }
      respond(ex, why == null ? 200 : 503, "text/plain", why == null ? "ready\n" : why + "\n");
    });
    server.createContext("/metrics", ex -> respond(ex, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape()));
    server.start();
    ServiceEndpoint e = new ServiceEndpoint(service, registry, server);
    log.info("{}: health, readiness and metrics at http://{}:{}/{{health,ready,metrics}}", service, host, e.port());
    return e;
  }

  private static void respond(HttpExchange ex, int status, String type, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    if ("HEAD".equals(ex.getRequestMethod())) {
      ex.sendResponseHeaders(status, -1);
    } else {
      ex.sendResponseHeaders(status, bytes.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(bytes);
      }
    }
    ex.close();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  public MeterRegistry registry() {
    return registry;
  }

  public String url(String path) {
    return "http://localhost:" + port() + path;
  }

  public String service() {
    return service;
  }

  @Override
  public void close() {
    server.stop(0);
  }

  /** Readiness that is always ready. */
  public static Readiness alwaysReady() {
    return () -> null;
  }

  /** Readiness from a supplier of a boolean with a fixed reason. */
  public static Readiness when(Supplier<Boolean> ok, String reasonWhenNot) {
    return () -> Boolean.TRUE.equals(ok.get()) ? null : reasonWhenNot;
  }
}
