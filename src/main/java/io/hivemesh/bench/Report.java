package io.hivemesh.bench;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * A scenario's results: {@code NAME.json} (every number), {@code NAME.md} (the tables and the bars)
 * and one PNG chart per figure, all in one directory.
 */
public final class Report {

  private final String name;
  private final Path dir;
  private final JsonObject json = new JsonObject();
  private final StringBuilder md = new StringBuilder();
  private final List<Path> files = new ArrayList<>();

  public Report(String name, Path dir, String command) {
    this.name = name;
    this.dir = dir;
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    json.put("scenario", name).put("command", command).put("date", Instant.now().toString())
        .put("cores", Runtime.getRuntime().availableProcessors()).put("loadAverageAtStart", loadAverage());
    md.append("## ").append(name).append("\n\n`").append(command).append("`  \n")
        .append(Instant.now()).append(", ").append(Runtime.getRuntime().availableProcessors())
        .append(" cores, load average at start ").append(loadAverage()).append("\n\n");
  }

  public JsonObject json() {
    return json;
  }

  public void text(String paragraph) {
    md.append(paragraph).append("\n\n");
  }

  /** A Markdown table; numbers are printed with up to three decimals. */
  public void table(String heading, List<String> columns, List<List<Object>> rows) {
    md.append("### ").append(heading).append("\n\n|");
    columns.forEach(c -> md.append(' ').append(c).append(" |"));
    md.append("\n|");
    columns.forEach(c -> md.append("---|"));
    md.append('\n');
    for (List<Object> row : rows) {
      md.append('|');
      row.forEach(v -> md.append(' ').append(format(v)).append(" |"));
      md.append('\n');
    }
    md.append('\n');
  }

  /**
   * A grouped bar chart: one group per category (x), one bar per series. Written as
   * {@code NAME-FILE.png} and linked from the Markdown.
   */
  public void chart(String file, String title, String yTitle, Map<String, Map<String, Double>> series) {
    CategoryChart chart = new CategoryChartBuilder().width(900).height(420).title(title).yAxisTitle(yTitle).build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
    chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
    for (Map.Entry<String, Map<String, Double>> s : series.entrySet()) {
      Map<String, Double> finite = new LinkedHashMap<>();
      s.getValue().forEach((k, v) -> finite.put(k, Double.isFinite(v) ? v : 0.0));
      if (!finite.isEmpty()) {
        chart.addSeries(s.getKey(), new ArrayList<>(finite.keySet()), new ArrayList<>(finite.values()));
      }
    }
    Path png = dir.resolve(name + "-" + file + ".png");
    try {
      BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    files.add(png);
    md.append("![").append(title).append("](").append(png.getFileName()).append(")\n\n");
  }

  /** Writes the JSON and the Markdown; returns every file this report wrote. */
  public List<Path> write() {
    json.put("loadAverageAtEnd", loadAverage());
    md.append("Load average at the end: ").append(loadAverage()).append(" (other work on the machine shares its cores).\n");
    try {
      Path j = dir.resolve(name + ".json");
      Path m = dir.resolve(name + ".md");
      Files.writeString(j, json.encodePrettily() + "\n");
      Files.writeString(m, md.toString());
      files.add(0, m);
      files.add(0, j);
      return List.copyOf(files);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The machine's 1, 5 and 15 minute load averages: how much else wanted the cores meanwhile. */
  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }

  static String format(Object v) {
    if (v instanceof Double d) {
      if (!Double.isFinite(d)) {
        return "–";
      }
      return Math.abs(d) >= 100 ? String.format(Locale.ROOT, "%.0f", d)
          : Math.abs(d) >= 10 ? String.format(Locale.ROOT, "%.1f", d) : String.format(Locale.ROOT, "%.3f", d);
    }
    return String.valueOf(v);
  }
}
