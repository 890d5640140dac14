package dev.imgmatch.embedder.head;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The head's view recipe: the default, the switch, a mistake named; the recipe is part of the head's key. */
class HeadFittingRecipeTest {
  @Test
  void theRecipeDefaultsToTheTrainingViewsIsSwitchableAndChangesTheKey() {
    String property = "imgmatch.descriptor.fit.recipe";
    String before = System.getProperty(property);
    try {
      System.clearProperty(property);
      if (System.getenv("IMGMATCH_DESCRIPTOR_FIT_RECIPE") == null) {
        assertThat(HeadFitting.recipe()).isEqualTo(TrainingViews.RECIPE);
      }
      TrainingPhotos photos = new TrainingPhotos() {
        @Override
        public String source() {
          return "none";
        }

        @Override
        public String identity() {
          return "fixed";
        }

        @Override
        public java.util.List<Photo> load(java.util.function.Consumer<String> progress) {
          return java.util.List.of();
        }
      };
      System.setProperty(property, HeadFitting.RECIPE_VIEWS);
      String viewsKey = HeadFitting.key("m", photos, HeadFitting.Kind.LEARNED_WHITEN, 160, 1, 32);
      System.setProperty(property, HeadFitting.RECIPE_AUG);
      assertThat(HeadFitting.recipe()).isEqualTo("aug-1");
      assertThat(HeadFitting.key("m", photos, HeadFitting.Kind.LEARNED_WHITEN, 160, 1, 32)).isNotEqualTo(viewsKey);
      System.setProperty(property, "views-9");
      assertThatThrownBy(HeadFitting::recipe).hasMessageContaining("views-2 or aug-1");
    } finally {
      if (before == null) {
        System.clearProperty(property);
      } else {
        System.setProperty(property, before);
      }
    }
  }
}
