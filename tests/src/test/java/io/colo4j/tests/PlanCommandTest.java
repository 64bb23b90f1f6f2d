package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.colo4j.cli.Colo4jCommand;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** `colo4j plan --json`: the records the issue specifies, and Megatron's count per GPT-2 layer. */
class PlanCommandTest {
    @Test
    void planJsonShowsTwoAllReducesPerLayerEachWay() throws Exception {
        PrintStream previous = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int rc;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            rc = Colo4jCommand.commandLine().execute("plan", "--model", "gpt2", "--config", "tiny", "--tp", "2", "--json");
        } finally {
            System.setOut(previous);
        }
        assertThat(rc).isZero();
        JsonNode records = new ObjectMapper().readTree(captured.toString(StandardCharsets.UTF_8));
        assertThat(records.isArray()).isTrue();
        int[][] perLayer = new int[2][2];
        for (JsonNode r : records) {
            assertThat(r.fieldNames()).toIterable().containsExactlyInAnyOrder("module", "op", "collective", "bytes", "phase");
            assertThat(r.get("collective").asText()).isIn("all_reduce", "all_gather", "reduce_scatter", "all_to_all", "broadcast");
            assertThat(r.get("phase").asText()).isIn("forward", "backward");
            String module = r.get("module").asText();
            for (int layer = 0; layer < 2; layer++) {
                if (module.startsWith("transformer.h." + layer + ".")) {
                    assertThat(r.get("collective").asText()).as(module).isEqualTo("all_reduce");
                    perLayer[layer][r.get("phase").asText().equals("forward") ? 0 : 1]++;
                }
            }
        }
        assertThat(perLayer).isDeepEqualTo(new int[][] {{2, 2}, {2, 2}});
    }
}
