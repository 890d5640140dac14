package dev.imgmatch.testkit;

import java.util.Locale;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one JUnit 5 fixture every integration test uses for Kafka: declare a {@link KafkaBroker}
 * parameter (constructor, {@code @BeforeAll}, {@code @Test}...) and get the broker of this run.
 *
 * <p>One broker per JVM, started on first use and stopped when the run ends. Which one is chosen by
 * {@code IMGMATCH_TEST_KAFKA} (environment) or {@code -Dimgmatch.test.kafka}:
 * <ul>
 *   <li>{@code auto} (default): a Testcontainers {@code apache/kafka} container when Docker answers,
 *       otherwise a real in-process KRaft broker;
 *   <li>{@code container} or {@code in-process}: force one;
 *   <li>{@code external:HOST:PORT}: a broker already running.
 * </ul>
 * The choice is logged once, so a test log always says which broker it ran against.
 */
public final class KafkaBrokerExtension implements ParameterResolver {
  private static final Logger log = LoggerFactory.getLogger(KafkaBrokerExtension.class);
  private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(KafkaBrokerExtension.class);

  @Override
  public boolean supportsParameter(ParameterContext p, ExtensionContext c) {
    return p.getParameter().getType() == KafkaBroker.class;
  }

  @Override
  public Object resolveParameter(ParameterContext p, ExtensionContext c) {
    return broker(c);
  }

  /** The run's broker, started on first call. */
  public static KafkaBroker broker(ExtensionContext c) {
    return c.getRoot().getStore(NS).getOrComputeIfAbsent(KafkaBroker.class, k -> start(), KafkaBroker.class);
  }

  static KafkaBroker start() {
    String mode = System.getProperty("imgmatch.test.kafka", System.getenv().getOrDefault("IMGMATCH_TEST_KAFKA", "auto"))
        .trim();
    long t0 = System.nanoTime();
    try {
      KafkaBroker b;
      String lower = mode.toLowerCase(Locale.ROOT);
      if (lower.startsWith("external:")) {
        b = new ExternalKafkaBroker(mode.substring("external:".length()));
      } else if (lower.equals("container")) {
        b = ContainerKafkaBroker.start();
      } else if (lower.equals("in-process")) {
        b = InProcessKafkaBroker.start();
      } else if (lower.equals("auto")) {
        if (ContainerKafkaBroker.dockerAvailable()) {
          b = ContainerKafkaBroker.start();
        } else {
          log.info("Docker is not available: using an in-process KRaft broker instead of a Testcontainers container");
          b = InProcessKafkaBroker.start();
        }
      } else {
        throw new ParameterResolutionException("IMGMATCH_TEST_KAFKA must be auto, container, in-process or "
            + "external:HOST:PORT, got '" + mode + "'");
      }
      log.info("imgmatch testkit: using {} (ready in {} ms)", b, (System.nanoTime() - t0) / 1_000_000);
      return b;
    } catch (ParameterResolutionException e) {
      throw e;
    } catch (Exception e) {
      throw new ParameterResolutionException("cannot start a Kafka broker (mode " + mode + "): " + e, e);
    }
  }
}
