package io.hivemesh.support;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** A Prometheus text exposition, parsed the way a scraper reads it: samples with labels and values. */
public final class Scrape {

  public record Sample(String name, Map<String, String> labels, double value) {
  }

  private final List<Sample> samples = new ArrayList<>();
  public final String text;

  public Scrape(String text) {
    this.text = text;
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int brace = line.indexOf('{');
      int space = line.lastIndexOf(' ');
      String name = brace > 0 && brace < space ? line.substring(0, brace) : line.substring(0, line.indexOf(' '));
      Map<String, String> labels = new LinkedHashMap<>();
      if (brace > 0 && brace < space) {
        String body = line.substring(brace + 1, line.lastIndexOf('}'));
        int i = 0;
        while (i < body.length()) {
          int eq = body.indexOf('=', i);
          int start = eq + 2;
          int end = start;
          while (body.charAt(end) != '"' || body.charAt(end - 1) == '\\') {
            end++;
          }
          labels.put(body.substring(i, eq).trim(), body.substring(start, end));
          i = end + 1;
          if (i < body.length() && body.charAt(i) == ',') {
            i++;
          }
        }
      }
      samples.add(new Sample(name, labels, Double.parseDouble(line.substring(space + 1))));
    }
  }

  /** Sum of the samples of {@code name} whose labels include the given NAME, VALUE pairs. */
  public double sum(String name, String... labels) {
    return matching(name, labels).stream().mapToDouble(Sample::value).sum();
  }

  public List<Sample> matching(String name, String... labels) {
    List<Sample> out = new ArrayList<>();
    for (Sample s : samples) {
      if (!s.name.equals(name)) {
        continue;
      }
      boolean all = true;
      for (int i = 0; i + 1 < labels.length; i += 2) {
        all &= labels[i + 1].equals(s.labels.get(labels[i]));
      }
      if (all) {
        out.add(s);
      }
    }
    return out;
  }

  /** Distinct values of one label across the samples of {@code name}. */
  public Set<String> labelValues(String name, String label) {
    Set<String> out = new TreeSet<>();
    for (Sample s : samples) {
      if (s.name.equals(name) && s.labels.containsKey(label)) {
        out.add(s.labels.get(label));
      }
    }
    return out;
  }

  public Set<String> names() {
    Set<String> out = new TreeSet<>();
    samples.forEach(s -> out.add(s.name));
    return out;
  }
}
