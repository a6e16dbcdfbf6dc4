package io.hivemesh.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ModelNameTest {

  @Test
  void untaggedMeansLatest() {
    assertEquals(ModelName.key("llama3.2"), ModelName.key("llama3.2:latest"));
    assertEquals("llama3.2:latest", ModelName.parse("llama3.2").display());
  }

  @Test
  void caseAndDefaultRegistryDoNotMatter() {
    String key = ModelName.key("llama3.2");
    assertEquals(key, ModelName.key("LLaMA3.2"));
    assertEquals(key, ModelName.key("library/llama3.2"));
    assertEquals(key, ModelName.key("registry.ollama.ai/library/llama3.2:latest"));
    assertEquals(key, ModelName.key("  llama3.2 "));
  }

  @Test
  void tagsNamespacesAndOtherRegistriesDistinguish() {
    assertNotEquals(ModelName.key("llama3.2"), ModelName.key("llama3.2:1b"));
    assertNotEquals(ModelName.key("jmorgan/tiny"), ModelName.key("tiny"));
    assertEquals("jmorgan/tiny:latest", ModelName.parse("jmorgan/tiny").display());
    assertEquals("hf.co/org/model:q4", ModelName.parse("hf.co/org/model:q4").display());
    assertEquals("jmorgan", ModelName.parse("jmorgan/tiny").namespace());
    assertEquals("library", ModelName.parse("tiny").namespace());
  }

  @Test
  void validityFollowsOllama() {
    assertTrue(ModelName.parse("llama3.2:1b").isValid());
    assertFalse(ModelName.parse("bad name!").isValid());
    assertFalse(ModelName.parse(":tag").isValid());
  }

  @Test
  void blankIsEmpty() {
    assertEquals("", ModelName.key(null));
    assertEquals("", ModelName.key("  "));
  }
}
