package io.hivemesh;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.VertxOptions;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** -Dvertx.options.NAME=VALUE reaches Vert.x; without it, Vert.x's defaults stand. */
class VertxOptionsTest {

  @Test
  void systemPropertiesTuneVertx() {
    Properties system = new Properties();
    system.setProperty("vertx.options.maxEventLoopExecuteTime", "250");
    system.setProperty("vertx.options.maxEventLoopExecuteTimeUnit", "MILLISECONDS");
    system.setProperty("vertx.options.blockedThreadCheckInterval", " 50 ");
    system.setProperty("vertx.options.preferNativeTransport", "true");
    system.setProperty("vertx.other", "ignored");

    VertxOptions options = HiveNode.vertxOptions(system);

    assertEquals(250, options.getMaxEventLoopExecuteTime());
    assertEquals(TimeUnit.MILLISECONDS, options.getMaxEventLoopExecuteTimeUnit());
    assertEquals(50, options.getBlockedThreadCheckInterval());
    assertEquals(true, options.getPreferNativeTransport());
  }

  @Test
  void defaultsWithoutThem() {
    VertxOptions options = HiveNode.vertxOptions(new Properties());

    assertEquals(VertxOptions.DEFAULT_MAX_EVENT_LOOP_EXECUTE_TIME, options.getMaxEventLoopExecuteTime());
    assertEquals(VertxOptions.DEFAULT_BLOCKED_THREAD_CHECK_INTERVAL, options.getBlockedThreadCheckInterval());
  }
}
