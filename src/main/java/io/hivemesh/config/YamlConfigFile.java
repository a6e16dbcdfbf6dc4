package io.hivemesh.config;

import io.vertx.config.yaml.YamlProcessor;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.file.FileSystemOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads a YAML config file with vertx-config's YAML format ({@code vertx-config-yaml}). Options are
 * resolved before a command's own Vert.x exists, since they say how to build it, so the read runs
 * on a small Vert.x instance of its own that is closed once the file is in.
 */
final class YamlConfigFile {

  private static final long READ_TIMEOUT_SECONDS = 30;

  private YamlConfigFile() {
  }

  /** The file's top-level map; empty for an empty file. One {@link ConfigException} line otherwise. */
  static JsonObject read(Path file) {
    if (Context.isOnEventLoopThread()) {
      throw new IllegalStateException("config files are read before Vert.x starts, never on an event loop");
    }
    if (!Files.isRegularFile(file)) {
      throw new ConfigException("config", "--config: cannot read " + file + ": no such file");
    }
    if (!Files.isReadable(file)) {
      throw new ConfigException("config", "--config: cannot read " + file + ": permission denied");
    }
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1)
        .setInternalBlockingPoolSize(1)
        // The path is the file's, never a class-path resource of the same name; nothing to cache.
        .setFileSystemOptions(new FileSystemOptions().setClassPathResolvingEnabled(false).setFileCachingEnabled(false)));
    try {
      // vertx-config's YAML format straight, not through a ConfigRetriever: the retriever fails
      // with a NullPointerException on a file of comments only, which is a valid, empty config.
      JsonObject doc = vertx.fileSystem().readFile(file.toAbsolutePath().toString())
          .compose(bytes -> new YamlProcessor().process(vertx, new JsonObject(), bytes))
          .toCompletionStage().toCompletableFuture().get(READ_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      return doc == null ? new JsonObject() : doc;
    } catch (ExecutionException e) {
      throw problem(file, e.getCause());
    } catch (TimeoutException e) {
      throw new ConfigException("config", "--config: " + file + " not read within " + READ_TIMEOUT_SECONDS + " s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ConfigException("config", "--config: interrupted while reading " + file);
    } finally {
      try {
        vertx.close().toCompletionStage().toCompletableFuture().get(READ_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException | TimeoutException e) {
        // Its threads end with the JVM; the file was read, which is all that mattered.
      }
    }
  }

  private static ConfigException problem(Path file, Throwable cause) {
    Throwable t = cause;
    while (t != null && !(t instanceof YAMLException) && t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    if (t instanceof YAMLException) {
      return new ConfigException("config", "--config: " + file + " is not valid YAML: "
          + String.valueOf(t.getMessage()).lines().findFirst().orElse(""));
    }
    if (cause instanceof DecodeException || cause instanceof ClassCastException) {
      // vertx-config's YAML format takes only a map at the top.
      return new ConfigException("config", "--config: " + file + " must be a map of option: value");
    }
    return new ConfigException("config", "--config: cannot read " + file + ": " + cause.getMessage());
  }
}
