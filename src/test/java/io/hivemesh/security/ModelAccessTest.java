package io.hivemesh.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ModelAccessTest {

  @Test
  void plainNamesResolveLikeOllamaAndGlobsMatchTheListedName() {
    ModelAccess a = ModelAccess.of(List.of("mistral", "llama3*", "*:7b", "me/private:v?"));
    assertTrue(a.allows("mistral"));
    assertTrue(a.allows("mistral:latest"));
    assertTrue(a.allows("MISTRAL"));
    assertFalse(a.allows("mistral:7x"), "a plain name is one model, not a family");
    assertTrue(a.allows("llama3.2"));
    assertTrue(a.allows("llama3.2:1b"));
    assertTrue(a.allows("qwen2.5:7b"));
    assertTrue(a.allows("me/private:v2"));
    assertFalse(a.allows("me/private:v10"));
    assertFalse(a.allows("phi3"));
    assertFalse(a.allows(""));
  }

  @Test
  void noClaimAllowsEverythingAnEmptyListNothing() {
    assertTrue(ModelAccess.of(null).allows("anything"));
    assertTrue(ModelAccess.of(null).all());
    assertFalse(ModelAccess.of(List.of()).allows("phi3"));
  }

  @Test
  void equalClaimsAreEqualWhateverTheirOrder() {
    assertEquals(ModelAccess.of(List.of("a", "b*")), ModelAccess.of(List.of("b*", " a ")));
    assertEquals(ModelAccess.of(List.of("a", "b*")).hashCode(), ModelAccess.of(List.of("b*", "a")).hashCode());
  }
}
