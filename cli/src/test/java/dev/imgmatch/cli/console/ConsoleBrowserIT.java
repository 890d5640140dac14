package dev.imgmatch.cli.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.imgmatch.testkit.KafkaBroker;
import dev.imgmatch.testkit.KafkaBrokerExtension;
import dev.imgmatch.testkit.Seeds;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The review console in a real browser (headless Chromium over the DevTools protocol) on the real pipeline: log in
 * with the token through the form, see the queue empty and live, upload an edited copy and watch its alert arrive
 * over server-sent events without a reload, open it with the keyboard ({@code j}) and find the upload and its match
 * side by side with their ids and evidence, confirm it with the button; then a second copy's alert, dismissed with
 * the keyboard ({@code x}): both decisions are on {@code review-decisions} with the moderator's name, and a re-upload
 * of the dismissed file raises no alert (issue 16's done-when). Then jump to search ({@code /}), look the original up
 * by id and get it answered from the cluster.
 *
 * <p>Needs Chromium ({@code chromium} on PATH, or {@code IMGMATCH_CHROMIUM}): skipped without it, except on CI
 * ({@code CI=true}), where a missing browser fails (.ci/run installs it).
 */
@ExtendWith(KafkaBrokerExtension.class)
class ConsoleBrowserIT {
  private static final Duration WAIT = Duration.ofSeconds(120);

  @Test
  void aModeratorSeesTheAlertArriveLiveAndComparesBothSides(KafkaBroker broker, @TempDir Path dir)
      throws Exception {
    String chromium = chromiumOrSkip();
    long seed = Seeds.of("ConsoleBrowserIT", 2016L);
    // the original's collection is sensitive here (as 'banned' is by default): its preview, and the upload's that
    // matches it, are blurred until revealed
    try (ConsoleStack s = new ConsoleStack(broker, dir, seed, Map.of(
        dev.imgmatch.console.ConsoleConfig.SENSITIVE_COLLECTIONS, "protected,banned"));
        Chromium browser = new Chromium(chromium, dir.resolve("profile"))) {
      s.protectOriginal();
      Chromium.Page page = browser.page();
      try {
        // the login form, filled and submitted as a person would
        page.navigate(s.console.url());
        page.waitFor("document.querySelector('#token')", WAIT, "the login form");
        page.click("#token");
        page.type(ConsoleStack.TOKEN);
        page.click("button[type=submit]");
        page.waitFor("document.querySelector('#queue')", WAIT, "the console after logging in");
        page.waitFor("document.querySelector('#live-status').textContent.startsWith('live')", WAIT,
            "the live stream to open");
        assertThat(page.eval("document.querySelectorAll('#queue li').length").asInt()).as("no alert yet").isZero();

        // the copy's alert arrives over the stream: no reload
        page.eval("window.__loadedOnce = true");
        s.uploadCopy();
        page.waitFor("[...document.querySelectorAll('#queue .image-id')].some(e => e.textContent === "
            + js(s.copyId) + ")", WAIT, "the copy's alert in the queue");
        assertThat(page.eval("window.__loadedOnce === true").asBoolean()).as("the page was not reloaded").isTrue();
        assertThat(page.text("document.querySelector('#announcer').textContent")).as("announced to screen readers")
            .contains("New alert").contains(s.copyId);

        // j opens the newest alert: the upload and its match side by side
        page.press("j", "KeyJ", 74, "j");
        page.waitFor("!document.querySelector('#detail-body').hidden", WAIT, "the alert's detail");
        assertThat(page.text("document.querySelector('#upload-card .image-id').textContent")).isEqualTo(s.copyId);
        assertThat(page.text("document.querySelector('#match-cards .match .image-id').textContent"))
            .isEqualTo(s.originalId);
        String matchText = page.text("document.querySelector('#match-cards .match').innerText");
        assertThat(matchText).contains("protected").contains("combined score");
        assertThat(matchText).containsAnyOf("descriptor similarity", "perceptual hash", "identical file");
        assertThat(page.text("document.querySelector('#detail-evidence').innerText")).containsAnyOf("MATCH:",
            "REVIEW:");
        assertThat(page.eval("document.querySelectorAll('#upload-card .preview, #match-cards .preview').length")
            .asInt()).as("a preview box on each side").isGreaterThanOrEqualTo(2);
        // both previews render, large enough to judge, blurred and greyscale until Reveal (logged by the server)
        String upImg = "document.querySelector('#upload-card figure.preview img')";
        String matchImg = "document.querySelector('#match-cards .match figure.preview img')";
        page.waitFor(upImg + " && " + upImg + ".complete && " + upImg + ".naturalWidth > 0", WAIT,
            "the upload's preview");
        page.waitFor(matchImg + " && " + matchImg + ".complete && " + matchImg + ".naturalWidth > 0", WAIT,
            "the match's preview");
        assertThat(page.eval("Math.max(" + matchImg + ".naturalWidth, " + matchImg + ".naturalHeight)").asInt())
            .isEqualTo(320);
        assertThat(page.eval(matchImg + ".getBoundingClientRect().width").asDouble()).as("shown large enough")
            .isGreaterThan(150);
        assertThat(page.text("getComputedStyle(" + matchImg + ").filter")).contains("blur").contains("grayscale");
        assertThat(page.text("getComputedStyle(" + upImg + ").filter")).as("the upload matches a sensitive image")
            .contains("blur");
        page.click("#match-cards .match button.reveal");
        page.waitFor("getComputedStyle(" + matchImg + ").filter === 'none'", WAIT, "the revealed preview");
        assertThat(page.text("document.querySelector('#match-cards .match figcaption').textContent"))
            .contains("revealed (logged)");
        assertThat(page.text("getComputedStyle(" + upImg + ").filter")).as("the other stays blurred").contains("blur");
        assertThat(page.text("document.querySelector('#queue button[aria-current=true] .image-id').textContent"))
            .isEqualTo(s.copyId);

        // confirm it (the button), as moderator "Ada"
        page.click("#moderator");
        page.type("Ada");
        page.click("#confirm");
        page.waitFor("document.querySelector('#decision-status').textContent.startsWith('Confirmed')", WAIT,
            "the confirmation recorded");

        // a second copy: its alert arrives, is opened and dismissed with the keyboard
        String secondId = "user-8/second-" + seed;
        byte[] second = s.secondCopy(seed);
        s.upload(secondId, second);
        page.waitFor("[...document.querySelectorAll('#queue .image-id')].some(e => e.textContent === "
            + js(secondId) + ")", WAIT, "the second copy's alert in the queue");
        page.eval("[...document.querySelectorAll('#queue button')].find(b => b.querySelector('.image-id')"
            + ".textContent === " + js(secondId) + ").click()");
        page.waitFor("document.querySelector('#upload-card .image-id').textContent === " + js(secondId), WAIT,
            "the second alert opened");
        page.eval("document.querySelector('#queue button[aria-current=true]').focus()");
        page.press("x", "KeyX", 88, "x");
        page.waitFor("document.querySelector('#decision-status').textContent.startsWith('Dismissed')", WAIT,
            "the dismissal recorded");
        var decisions = s.decisions(2);
        assertThat(decisions).extracting(d -> d.getImageId() + " " + d.getAction() + " by " + d.getModerator())
            .containsExactlyInAnyOrder(s.copyId + " CONFIRM by Ada", secondId + " DISMISS by Ada");
        assertThat(decisions).allSatisfy(d -> assertThat(d.getMatches()).extracting(m -> m.getImageId().toString())
            .contains(s.originalId));

        // the dismissed file uploaded again under another id: no alert
        s.waitFor(() -> s.stack.index().feedback().dismissals() >= 1, "index-service has the dismissal");
        long indexed = s.stack.index().counters().getOrDefault("indexed", 0L);
        s.upload("user-9/again-" + seed, second);
        s.waitFor(() -> s.stack.index().counters().getOrDefault("indexed", 0L) > indexed, "the re-upload indexed");
        Thread.sleep(1500); // its alert, if any, comes right after its indexing
        assertThat(page.eval("[...document.querySelectorAll('#queue .image-id')].some(e => e.textContent === "
            + js("user-9/again-" + seed) + ")").asBoolean()).as("no alert for the re-upload of the dismissed copy")
            .isFalse();
        assertThat(s.console.alertsHeld()).as("the two copies' alerts only").isEqualTo(2);

        // '/' jumps to search; look the original up by id, answered by index-service
        page.press("/", "Slash", 191, "/");
        assertThat(page.text("document.activeElement.id")).isEqualTo("s-id");
        page.type(s.originalId);
        page.click("#id-search button[type=submit]");
        page.waitFor("document.querySelector('#search-status').textContent.includes('is indexed for tenant')", WAIT,
            "the id lookup's answer");
        assertThat(page.text("document.querySelector('#search-status').textContent")).contains(s.originalId);
        assertThat(page.text("document.querySelector('#search-results').innerText")).contains(s.copyId);
      } finally {
        page.screenshot(Path.of("target", "console-browser-it.png"));
      }
      assertThat(s.stack.problem()).isNull();
    }
  }

  private static String js(String s) {
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
  }

  /** Chromium's path; without it a skip, or on CI a failure saying what to install. */
  private static String chromiumOrSkip() {
    String chromium = Chromium.find();
    if (chromium == null) {
      String message = "ConsoleBrowserIT needs Chromium (apt-get install chromium; IMGMATCH_CHROMIUM names another"
          + " executable)";
      if ("true".equals(System.getenv("CI"))) {
        fail(message);
      }
      Assumptions.abort(message);
    }
    return chromium;
  }
}
