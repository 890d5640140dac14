package dev.imgmatch.embedder.head;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.imgmatch.testkit.Seeds;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The background set's cache and its cosine, on seeded vectors (the real pictures: the pipeline's ITs). */
class BackgroundSetTest {

  static float[] unit(Random r, int dim) {
    float[] v = new float[dim];
    double s = 0;
    for (int i = 0; i < dim; i++) {
      v[i] = (float) r.nextGaussian();
      s += v[i] * v[i];
    }
    for (int i = 0; i < dim; i++) {
      v[i] /= (float) Math.sqrt(s);
    }
    return v;
  }

  /** Pictures whose "descriptor" is derived from their bytes: the first byte picks a seeded unit vector. */
  static TrainingPhotos photos(int n, boolean withDuplicate) {
    return new TrainingPhotos() {
      @Override
      public String source() {
        return n + " test pictures";
      }

      @Override
      public String identity() {
        return "test-" + n + "-" + withDuplicate;
      }

      @Override
      public List<Photo> load(Consumer<String> progress) {
        List<Photo> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          out.add(new Photo("p" + i, new byte[] {(byte) i, 1, 2}));
        }
        if (withDuplicate) {
          out.add(new Photo("dup", new byte[] {0, 1, 2})); // the same bytes as p0: embedded once
        }
        out.add(new Photo("unreadable", new byte[] {(byte) 0xff}));
        return out;
      }
    };
  }

  @Test
  void builtOnceThenReadFromTheCacheWithTheSameCosines(@TempDir Path cache) throws Exception {
    long seed = Seeds.of("BackgroundSetTest", 20261204L);
    int dim = 16;
    AtomicInteger embedded = new AtomicInteger();
    java.util.function.Function<List<byte[]>, List<float[]>> embed = pics -> {
      List<float[]> out = new ArrayList<>();
      for (byte[] b : pics) {
        embedded.incrementAndGet();
        out.add(b.length == 1 ? null : unit(new Random(seed + b[0]), dim)); // the 1-byte picture is unreadable
      }
      return out;
    };
    List<String> progress = new ArrayList<>();
    BackgroundSet first = BackgroundSet.ensure(cache, "mv-1", photos(5, true), embed, progress::add);
    assertThat(embedded.get()).as("the duplicate embedded once").isEqualTo(6);
    assertThat(first.size()).as("the unreadable picture left out").isEqualTo(5);
    assertThat(progress).anyMatch(m -> m.contains("cached in"));

    float[] probe = unit(new Random(seed + 3), dim); // = picture p3's descriptor
    assertThat(first.maxCosine(probe)).isCloseTo(1.0f, within(1e-5f));
    float[] other = unit(new Random(seed + 1000), dim);
    double expected = -1;
    for (int i = 0; i < 5; i++) {
      float[] b = unit(new Random(seed + i), dim);
      double d = 0;
      for (int j = 0; j < dim; j++) {
        d += (double) b[j] * other[j];
      }
      expected = Math.max(expected, d);
    }
    assertThat((double) first.maxCosine(other)).isCloseTo(expected, within(1e-6));
    assertThat(first.maxCosine(List.of(other, probe))).as("the best of several views").isCloseTo(1.0f, within(1e-5f));
    assertThat(first.maxCosine(List.<float[]>of())).isNull();

    BackgroundSet again = BackgroundSet.ensure(cache, "mv-1", photos(5, true), embed, m -> { });
    assertThat(embedded.get()).as("read from the cache, nothing embedded").isEqualTo(6);
    assertThat(again.identity()).isEqualTo(first.identity());
    assertThat(again.maxCosine(other)).isEqualTo(first.maxCosine(other));

    BackgroundSet otherModel = BackgroundSet.ensure(cache, "mv-2", photos(5, true), embed, m -> { });
    assertThat(embedded.get()).as("another model version: built again").isEqualTo(12);
    assertThat(otherModel.identity()).isNotEqualTo(first.identity());

    try (var files = Files.list(cache.resolve("background"))) {
      assertThat(files.filter(f -> f.toString().endsWith(".tmp"))).as("no temporary file left").isEmpty();
    }
    assertThatThrownBy(() -> first.maxCosine(new float[dim + 1])).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("dimensions");
  }

  @Test
  void aDamagedCacheFileIsBuiltAgain(@TempDir Path cache) throws Exception {
    long seed = Seeds.of("BackgroundSetTest.damaged", 7L);
    java.util.function.Function<List<byte[]>, List<float[]>> embed = pics -> {
      List<float[]> out = new ArrayList<>();
      pics.forEach(b -> out.add(unit(new Random(seed + b[0]), 8)));
      return out;
    };
    BackgroundSet built = BackgroundSet.ensure(cache, "mv", photos(3, false), embed, m -> { });
    Path file;
    try (var files = Files.list(cache.resolve("background"))) {
      file = files.findFirst().orElseThrow();
    }
    Files.write(file, new byte[] {0, 0, 0, 3, 0, 0}); // truncated
    List<String> progress = new ArrayList<>();
    BackgroundSet rebuilt = BackgroundSet.ensure(cache, "mv", photos(3, false), embed, progress::add);
    assertThat(progress).anyMatch(m -> m.contains("unreadable"));
    float[] probe = unit(new Random(seed + 99), 8);
    assertThat(rebuilt.maxCosine(probe)).isEqualTo(built.maxCosine(probe));
    assertThat(BackgroundSet.read(file)).hasNumberOfRows(4); // 3 pictures + the unreadable one's bytes embedded too
  }
}
