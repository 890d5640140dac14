package dev.imgmatch.cli.scan;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import javax.imageio.ImageIO;

/**
 * A self-contained HTML page (thumbnails inlined as data: URIs, no external files) showing each duplicate group
 * side by side with the scores of the pairs that link it. The page counts its rendered thumbnails into
 * {@code body[data-thumbnails-loaded]} so a headless browser can check that every image actually rendered.
 */
public final class ScanReport {
  public static final int THUMB = 220;

  private ScanReport() {}

  /**
   * @param groups duplicate groups
   * @param files image id -> file on disk
   * @param title page title
   * @param stats summary lines (label -> value) printed above the groups
   */
  public static void write(Path out, List<DuplicateGroups.Group> groups, Function<String, Path> files, String title,
      Map<String, String> stats) throws IOException {
    StringBuilder h = new StringBuilder();
    h.append("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(esc(title))
        .append("</title>\n<style>\n")
        .append("body{font-family:system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}\n")
        .append(".group{background:#fff;border:1px solid #ddd;border-radius:8px;padding:12px;margin:16px 0}\n")
        .append(".images{display:flex;flex-wrap:wrap;gap:12px}\n")
        .append("figure{margin:0;width:").append(THUMB).append("px}\n")
        .append("figure img{max-width:").append(THUMB).append("px;max-height:").append(THUMB)
        .append("px;display:block;border:1px solid #ccc}\n")
        .append("figcaption{font-size:12px;word-break:break-all;margin-top:4px}\n")
        .append("table{border-collapse:collapse;font-size:13px;margin-top:8px}td,th{padding:2px 10px;text-align:left}\n")
        .append(".exact{color:#b00020;font-weight:600}.near{color:#8a5a00;font-weight:600}\n")
        .append("</style></head>\n<body data-thumbnails-loaded=\"0\">\n");
    h.append("<h1>").append(esc(title)).append("</h1>\n<p>");
    stats.forEach((k, v) -> h.append(esc(k)).append(": <b>").append(esc(v)).append("</b> &nbsp; "));
    h.append("<br><small>generated ").append(Instant.now()).append(" by imgmatch scan</small></p>\n");
    if (groups.isEmpty()) {
      h.append("<p>No duplicates found.</p>\n");
    }
    int n = 0;
    for (DuplicateGroups.Group g : groups) {
      n++;
      h.append("<section class=\"group\"><h2>Group ").append(n).append(" <span class=\"")
          .append(g.exact() ? "exact\">exact copies" : "near\">near duplicates").append("</span> (")
          .append(g.members().size()).append(" images)</h2>\n<div class=\"images\">\n");
      for (String id : g.members()) {
        h.append("<figure><img class=\"thumb\" alt=\"").append(esc(id)).append("\" src=\"")
            .append(thumbnailDataUri(files.apply(id))).append("\"><figcaption>").append(esc(id))
            .append("</figcaption></figure>\n");
      }
      h.append("</div>\n<table><tr><th>image</th><th>image</th><th>score</th><th>exact</th><th>PDQ distance</th><th>cosine</th><th>local inliers</th></tr>\n");
      for (DuplicateGroups.Pair p : g.pairs()) {
        h.append("<tr><td>").append(esc(p.a())).append("</td><td>").append(esc(p.b())).append("</td><td>")
            .append(String.format(Locale.ROOT, "%.3f", p.score())).append("</td><td>").append(p.exact() ? "yes" : "no")
            .append("</td><td>").append(p.pdqDistance() == null ? "–" : p.pdqDistance()).append("</td><td>")
            .append(p.cosine() == null ? "–" : String.format(Locale.ROOT, "%.3f", p.cosine())).append("</td><td>")
            .append(p.localInliers() == null ? "–" : p.localInliers()).append("</td></tr>\n");
      }
      h.append("</table></section>\n");
    }
    h.append("<script>\n(function(){var imgs=document.querySelectorAll('img.thumb');var n=0;")
        .append("imgs.forEach(function(i){if(i.complete&&i.naturalWidth>0)n++;});")
        .append("document.body.setAttribute('data-thumbnails-loaded',String(n));")
        .append("document.body.setAttribute('data-thumbnails-total',String(imgs.length));})();\n</script>\n")
        .append("</body></html>\n");
    Files.writeString(out, h, StandardCharsets.UTF_8);
  }

  /** A PNG thumbnail (longest side THUMB px) as a data: URI; a grey placeholder when the file can't be read. */
  public static String thumbnailDataUri(Path file) {
    BufferedImage src = null;
    try {
      src = file == null ? null : ImageIO.read(file.toFile());
    } catch (IOException | RuntimeException e) {
      src = null;
    }
    BufferedImage thumb;
    if (src == null) {
      thumb = new BufferedImage(THUMB, THUMB * 3 / 4, BufferedImage.TYPE_INT_RGB);
      Graphics2D g = thumb.createGraphics();
      g.setColor(java.awt.Color.LIGHT_GRAY);
      g.fillRect(0, 0, thumb.getWidth(), thumb.getHeight());
      g.dispose();
    } else {
      double f = Math.min(1.0, THUMB / (double) Math.max(src.getWidth(), src.getHeight()));
      int w = Math.max(1, (int) Math.round(src.getWidth() * f));
      int hh = Math.max(1, (int) Math.round(src.getHeight() * f));
      thumb = new BufferedImage(w, hh, BufferedImage.TYPE_INT_RGB);
      Graphics2D g = thumb.createGraphics();
      g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
      g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
      g.drawImage(src, 0, 0, w, hh, null);
      g.dispose();
    }
    try (ByteArrayOutputStream bos = new ByteArrayOutputStream()) {
      ImageIO.write(thumb, "png", bos);
      return "data:image/png;base64," + Base64.getEncoder().encodeToString(bos.toByteArray());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
