package io.hivemesh.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;

class ModelNameTest {

  @Test
  void untaggedMeansLatest() {
    assertEquals("llama3.2:latest", ModelName.key("llama3.2"));
    assertEquals(ModelName.key("llama3.2"), ModelName.key("llama3.2:latest"));
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
    assertEquals("jmorgan/tiny:latest", ModelName.key("jmorgan/tiny"));
    assertEquals("hf.co/org/model:q4", ModelName.key("hf.co/org/model:q4"));
    // A port in a registry host is not a tag.
    assertEquals("localhost:5000/m:latest", ModelName.key("localhost:5000/m"));
  }

  @Test
  void blankIsEmpty() {
    assertEquals("", ModelName.key(null));
    assertEquals("", ModelName.key("  "));
  }
}
