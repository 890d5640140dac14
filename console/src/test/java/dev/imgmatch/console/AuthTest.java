package dev.imgmatch.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class AuthTest {
  private static final String TOKEN = "correct-horse-battery-staple";
  private final AtomicLong now = new AtomicLong(1_000_000);

  @Test
  void onlyTheTokenItselfIsTheToken() {
    Auth a = new Auth(TOKEN, Duration.ofHours(1), 10, now::get);
    assertThat(a.isToken(TOKEN)).isTrue();
    assertThat(a.isToken(TOKEN + "x")).isFalse();
    assertThat(a.isToken(TOKEN.substring(1))).isFalse();
    assertThat(a.isToken("")).isFalse();
    assertThat(a.isToken(null)).isFalse();
    assertThat(new Auth(null, Duration.ofHours(1), 10, now::get).isToken(TOKEN)).as("no token configured").isFalse();
  }

  @Test
  void sessionsOpenOnlyWithTheTokenAndExpire() {
    Auth a = new Auth(TOKEN, Duration.ofHours(1), 10, now::get);
    assertThat(a.login("wrong-token-wrong-token")).isNull();
    String s = a.login(TOKEN);
    assertThat(s).hasSizeGreaterThanOrEqualTo(43); // 256 random bits, base64url
    assertThat(a.setCookie(s)).contains("HttpOnly").contains("SameSite=Strict").contains("Max-Age=3600");
    assertThat(a.login(TOKEN)).isNotEqualTo(s);
    assertThat(a.sessions()).isEqualTo(2);
  }

  @Test
  void theNumberOfSessionsIsBoundedDroppingTheOldest() {
    Auth a = new Auth(TOKEN, Duration.ofHours(1), 3, now::get);
    for (int i = 0; i < 10; i++) {
      now.addAndGet(1000);
      a.login(TOKEN);
      assertThat(a.sessions()).isLessThanOrEqualTo(3);
    }
    assertThat(a.sessions()).isEqualTo(3);
  }

  @Test
  void readsTheSessionCookieAmongOthers() {
    assertThat(Auth.cookie(List.of("a=1; imgmatch_console=abc; b=2"), Auth.COOKIE)).isEqualTo("abc");
    assertThat(Auth.cookie(List.of("a=1", "imgmatch_console=xyz"), Auth.COOKIE)).isEqualTo("xyz");
    assertThat(Auth.cookie(List.of("not_imgmatch_console=abc"), Auth.COOKIE)).isNull();
    assertThat(Auth.cookie(null, Auth.COOKIE)).isNull();
  }
}
