package dev.imgmatch.embedder.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the data literals inside the browserify bundles that ship TF.js models in npm packages
 * ({@code e.exports={format:"graph-model",...}} and {@code e.exports="<base64>"}): objects with bare or quoted keys,
 * double-quoted strings, numbers (also {@code .5}, {@code -1e-3}), arrays, {@code true/false/null} and the minifier's
 * {@code !0} / {@code !1}. It is not a JavaScript interpreter: anything else is an error naming the offset.
 *
 * <p>Values come back as {@code Map<String,Object>} (insertion order), {@code List<Object>}, {@code String},
 * {@code Double}, {@code Boolean} or {@code null}.
 */
public final class JsLiteral {
  private final String s;
  private int i;

  private JsLiteral(String s, int start) {
    this.s = s;
    this.i = start;
  }

  /** The value assigned by the first {@code exports=} of a bundle (a browserify module body). */
  public static Object exportedValue(String bundle) {
    // the UMD prologue has 'module.exports=t()' too: take the first assignment of a literal
    for (int at = bundle.indexOf(".exports="); at >= 0; at = bundle.indexOf(".exports=", at + 1)) {
      int v = at + ".exports=".length();
      if (v < bundle.length() && "{[\"'".indexOf(bundle.charAt(v)) >= 0) {
        return new JsLiteral(bundle, v).value();
      }
    }
    throw new IllegalArgumentException("not a browserify data bundle: no 'exports=' of a literal found");
  }

  /** Parses one literal starting at {@code start}. */
  public static Object parse(String text, int start) {
    return new JsLiteral(text, start).value();
  }

  private Object value() {
    skipWs();
    if (i >= s.length()) {
      throw error("unexpected end");
    }
    char c = s.charAt(i);
    switch (c) {
      case '{':
        return object();
      case '[':
        return array();
      case '"':
      case '\'':
        return string(c);
      case '!':
        if (i + 1 < s.length() && (s.charAt(i + 1) == '0' || s.charAt(i + 1) == '1')) {
          boolean v = s.charAt(i + 1) == '0';
          i += 2;
          return v;
        }
        throw error("unsupported '!' expression");
      default:
        if (c == '-' || c == '+' || c == '.' || Character.isDigit(c)) {
          return number();
        }
        String word = identifier();
        return switch (word) {
          case "true" -> Boolean.TRUE;
          case "false" -> Boolean.FALSE;
          case "null" -> null;
          default -> throw error("unsupported token '" + word + "'");
        };
    }
  }

  private Map<String, Object> object() {
    Map<String, Object> m = new LinkedHashMap<>();
    i++; // {
    while (true) {
      skipWs();
      if (peek() == '}') {
        i++;
        return m;
      }
      String key = peek() == '"' || peek() == '\'' ? string(peek()) : identifierOrNumber();
      skipWs();
      expect(':');
      m.put(key, value());
      skipWs();
      char c = peek();
      i++;
      if (c == '}') {
        return m;
      }
      if (c != ',') {
        throw error("expected ',' or '}' in object, got '" + c + "'");
      }
    }
  }

  private List<Object> array() {
    List<Object> l = new ArrayList<>();
    i++; // [
    while (true) {
      skipWs();
      if (peek() == ']') {
        i++;
        return l;
      }
      l.add(value());
      skipWs();
      char c = peek();
      i++;
      if (c == ']') {
        return l;
      }
      if (c != ',') {
        throw error("expected ',' or ']' in array, got '" + c + "'");
      }
    }
  }

  private String string(char quote) {
    i++;
    StringBuilder sb = new StringBuilder();
    while (i < s.length()) {
      char c = s.charAt(i++);
      if (c == quote) {
        return sb.toString();
      }
      if (c == '\\') {
        char e = s.charAt(i++);
        switch (e) {
          case 'n' -> sb.append('\n');
          case 't' -> sb.append('\t');
          case 'r' -> sb.append('\r');
          case 'b' -> sb.append('\b');
          case 'f' -> sb.append('\f');
          case 'u' -> {
            sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
            i += 4;
          }
          default -> sb.append(e);
        }
      } else {
        sb.append(c);
      }
    }
    throw error("unterminated string");
  }

  private Double number() {
    int start = i;
    if (peek() == '-' || peek() == '+') {
      i++;
    }
    while (i < s.length() && "0123456789.eE+-".indexOf(s.charAt(i)) >= 0) {
      if ((s.charAt(i) == '+' || s.charAt(i) == '-') && !(s.charAt(i - 1) == 'e' || s.charAt(i - 1) == 'E')) {
        break;
      }
      i++;
    }
    try {
      return Double.valueOf(s.substring(start, i));
    } catch (NumberFormatException e) {
      throw error("bad number '" + s.substring(start, i) + "'");
    }
  }

  private String identifierOrNumber() {
    char c = peek();
    if (Character.isDigit(c)) {
      int start = i;
      while (i < s.length() && Character.isLetterOrDigit(s.charAt(i))) {
        i++;
      }
      return s.substring(start, i);
    }
    return identifier();
  }

  private String identifier() {
    int start = i;
    while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_' || s.charAt(i) == '$')) {
      i++;
    }
    if (start == i) {
      throw error("unexpected character '" + peek() + "'");
    }
    return s.substring(start, i);
  }

  private void expect(char c) {
    if (peek() != c) {
      throw error("expected '" + c + "', got '" + peek() + "'");
    }
    i++;
  }

  private char peek() {
    if (i >= s.length()) {
      throw error("unexpected end");
    }
    return s.charAt(i);
  }

  private void skipWs() {
    while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
      i++;
    }
  }

  private IllegalArgumentException error(String what) {
    int from = Math.max(0, i - 30);
    int to = Math.min(s.length(), i + 30);
    return new IllegalArgumentException(what + " at offset " + i + " near '" + s.substring(from, to) + "'");
  }
}
