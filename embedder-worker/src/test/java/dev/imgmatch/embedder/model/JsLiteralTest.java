package dev.imgmatch.embedder.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsLiteralTest {
  @Test
  void readsMinifiedObjectLiterals() {
    Object v = JsLiteral.parse("{format:\"graph-model\",n:.5,m:-1e-3,\"q k\":[1,2,{b:!0,c:!1}],z:null,t:true}", 0);
    @SuppressWarnings("unchecked")
    Map<String, Object> m = (Map<String, Object>) v;
    assertThat(m.get("format")).isEqualTo("graph-model");
    assertThat(m.get("n")).isEqualTo(0.5);
    assertThat(m.get("m")).isEqualTo(-0.001);
    assertThat((List<?>) m.get("q k")).hasSize(3);
    assertThat(((Map<?, ?>) ((List<?>) m.get("q k")).get(2)).get("b")).isEqualTo(true);
    assertThat(((Map<?, ?>) ((List<?>) m.get("q k")).get(2)).get("c")).isEqualTo(false);
    assertThat(m).containsEntry("z", null).containsEntry("t", true);
  }

  @Test
  void takesTheExportedLiteralOfABrowserifyBundleNotTheUmdPrologue() {
    String bundle = "!function(t){if(\"object\"==typeof exports)module.exports=t();else{}}(function(){return "
        + "function t(e,a,l){}({1:[function(t,e,a){e.exports=\"QUJD\\u0044\"},{}]},{},[1])(1)});";
    assertThat(JsLiteral.exportedValue(bundle)).isEqualTo("QUJDD");
  }

  @Test
  void rejectsCodeWithTheOffset() {
    assertThatThrownBy(() -> JsLiteral.parse("{a:foo()}", 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unsupported token 'foo'").hasMessageContaining("offset");
    assertThatThrownBy(() -> JsLiteral.exportedValue("var x=1;")).hasMessageContaining("exports");
  }
}
