package dev.imgmatch.testkit;

import java.security.SecureRandom;
import java.util.Collection;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.test.KafkaClusterTestKit;

/**
 * A one-node in-process KRaft broker that authenticates every connection (SASL/PLAIN, on the client listener and
 * on the controller listener alike) and authorizes every request ({@code StandardAuthorizer}, nothing allowed
 * without an ACL): for tests of what a principal can and cannot do. Not shared: a test starts it with the users it
 * needs and closes it.
 *
 * <p>The super user {@code admin} (the broker's own principal, for inter-broker and controller traffic) is what
 * {@link #admin()}, {@link #producerProps()} and friends authenticate as; {@link #clientProps(String)} gives a
 * user's own client settings, which have no rights until {@link #allow} grants some. Passwords are random per run.
 *
 * <p>Both listeners speak SASL_PLAINTEXT: a PLAINTEXT controller listener would see the broker as
 * {@code User:ANONYMOUS}, which would then have to be a super user, and anyone reaching the controller port would
 * be one too.
 */
public final class SecureKafkaBroker extends KafkaBroker {
  public static final String ADMIN = "admin";
  private static final String PLAIN_MODULE = "org.apache.kafka.common.security.plain.PlainLoginModule";

  private final KafkaClusterTestKit cluster;
  private final Map<String, String> passwords;

  private SecureKafkaBroker(KafkaClusterTestKit cluster, Map<String, String> passwords) {
    this.cluster = cluster;
    this.passwords = passwords;
  }

  /** Starts a broker knowing {@code users} (and {@link #ADMIN}); ready when this returns. */
  public static SecureKafkaBroker start(Collection<String> users) throws Exception {
    Map<String, String> passwords = new LinkedHashMap<>();
    passwords.put(ADMIN, randomPassword());
    for (String u : users) {
      if (!u.matches("[A-Za-z0-9_-]+") || u.equals(ADMIN)) {
        throw new IllegalArgumentException("user names are letters, digits, _ and - (and not " + ADMIN + "): " + u);
      }
      passwords.put(u, randomPassword());
    }
    StringBuilder jaas = new StringBuilder(PLAIN_MODULE).append(" required username=\"").append(ADMIN)
        .append("\" password=\"").append(passwords.get(ADMIN)).append('"');
    passwords.forEach((u, pw) -> jaas.append(" user_").append(u).append("=\"").append(pw).append('"'));
    jaas.append(';');
    Map<String, String> settings = new HashMap<>();
    settings.put("sasl.enabled.mechanisms", "PLAIN");
    settings.put("sasl.mechanism.inter.broker.protocol", "PLAIN");
    settings.put("sasl.mechanism.controller.protocol", "PLAIN");
    // listener-scoped JAAS (server side, and the broker's own login towards the controller) instead of the test
    // kit's JVM-wide file, which knows only its own two users
    settings.put("listener.name.external.plain.sasl.jaas.config", jaas.toString());
    settings.put("listener.name.controller.plain.sasl.jaas.config", jaas.toString());
    settings.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
    settings.put("super.users", "User:" + ADMIN);
    settings.put("allow.everyone.if.no.acl.found", "false");
    return new SecureKafkaBroker(InProcessKafkaBroker.startCluster(SecurityProtocol.SASL_PLAINTEXT, settings),
        passwords);
  }

  private static String randomPassword() {
    byte[] b = new byte[12];
    new SecureRandom().nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  /** Client settings that authenticate as {@code user} (bootstrap servers included). */
  public Map<String, Object> clientProps(String user) {
    String pw = passwords.get(user);
    if (pw == null) {
      throw new IllegalArgumentException("unknown user " + user + "; known: " + passwords.keySet());
    }
    Map<String, Object> m = new HashMap<>();
    m.put("bootstrap.servers", bootstrapServers());
    m.put("security.protocol", SecurityProtocol.SASL_PLAINTEXT.name);
    m.put("sasl.mechanism", "PLAIN");
    m.put("sasl.jaas.config", PLAIN_MODULE + " required username=\"" + user + "\" password=\"" + pw + "\";");
    return m;
  }

  /** The super user's settings: what this class's own clients use. */
  @Override
  public Map<String, Object> security() {
    Map<String, Object> m = clientProps(ADMIN);
    m.remove("bootstrap.servers");
    return m;
  }

  /** Creates the ACLs and waits until the broker enforces them. */
  public void allow(Collection<AclBinding> acls) throws Exception {
    try (Admin admin = admin()) {
      admin.createAcls(acls).all().get(30, TimeUnit.SECONDS);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!admin.describeAcls(AclBindingFilter.ANY).values().get(30, TimeUnit.SECONDS).containsAll(Set.copyOf(acls))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the broker did not publish the ACLs within 30 s: " + acls);
        }
        Thread.sleep(50);
      }
    }
  }

  @Override
  public String bootstrapServers() {
    return cluster.bootstrapServers();
  }

  @Override
  public Kind kind() {
    return Kind.IN_PROCESS;
  }

  @Override
  public String toString() {
    return "secure (SASL/PLAIN, StandardAuthorizer) " + super.toString();
  }

  @Override
  public void close() throws Exception {
    cluster.close();
  }
}
