package io.colo4j.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The published JSON Schema agrees with the reader: valid files pass both, each kind of broken file
 * fails both, and every rules file shipped in the zoo validates and names the schema in {@code $schema}.
 */
class SchemaTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
    static final JsonSchema SCHEMA = FACTORY.getSchema(ShardingRules.schema());

    static Set<ValidationMessage> validate(String json) throws IOException {
        return SCHEMA.validate(JSON.readTree(json));
    }

    static String doc(String rules) {
        return "{\"$schema\": \"" + ShardingRules.SCHEMA_ID + "\", \"default\": \"replicate\", \"rules\": [" + rules + "]}";
    }

    @Test
    void theSchemaIsAValidDraft202012Schema() throws IOException {
        JsonSchema meta = FACTORY.getSchema(SchemaLocation.of("https://json-schema.org/draft/2020-12/schema"));
        JsonNode schema = JSON.readTree(ShardingRules.schema());
        assertThat(meta.validate(schema)).isEmpty();
        assertThat(schema.get("$id").asText()).isEqualTo(ShardingRules.SCHEMA_ID);
    }

    static Stream<String> validDocuments() {
        return Stream.of(
                TestModels.TINY_RULES,
                doc(""),
                doc("{\"match\": \"**\", \"spec\": \"replicate\"}"),
                doc("{\"name\": \"x\", \"description\": \"d\", \"regex\": \"a\\\\.(b|c)\", \"params\": {\"weight\": \"row\", \"bias\": \"replicate\"}}"),
                doc("{\"match\": \"a.*.{b,c}.ln_*\", \"params\": {\"*\": {\"spec\": \"column\", \"stride\": 2, \"outputReplicate\": true}}}"),
                doc("{\"match\": \"a\", \"spec\": \"row\", \"stride\": 1, \"inputIsParallel\": false, \"outputReplicate\": true}"),
                doc("{\"match\": \"wte\", \"params\": {\"weight\": {\"spec\": \"vocab\", \"outputReplicate\": false}}}"));
    }

    @ParameterizedTest
    @MethodSource("validDocuments")
    void validFilesPassBoth(String json) throws IOException {
        assertThat(validate(json)).isEmpty();
        ShardingRules.parse(json, "valid.json");
    }

    static Stream<String> invalidDocuments() {
        return Stream.of(
                "{\"rules\": []}",
                "{\"default\": \"error\"}",
                "{\"default\": \"skip\", \"rules\": []}",
                "{\"default\": \"error\", \"rules\": [], \"extra\": 1}",
                doc("{\"match\": \"a\", \"spec\": \"colum\"}"),
                doc("{\"match\": \"a\", \"spec\": \"row\", \"strid\": 3}"),
                doc("{\"match\": \"a..b\", \"spec\": \"row\"}"),
                doc("{\"match\": \"a.b**\", \"spec\": \"row\"}"),
                doc("{\"match\": \"a.{b,\", \"spec\": \"row\"}"),
                doc("{\"match\": \"a b\", \"spec\": \"row\"}"),
                doc("{\"match\": \"\", \"spec\": \"row\"}"),
                doc("{\"match\": \"a\", \"regex\": \"a\", \"spec\": \"row\"}"),
                doc("{\"spec\": \"row\"}"),
                doc("{\"match\": \"a\"}"),
                doc("{\"match\": \"a\", \"spec\": \"row\", \"params\": {\"weight\": \"row\"}}"),
                doc("{\"match\": \"a\", \"stride\": 3, \"params\": {\"weight\": \"column\"}}"),
                doc("{\"match\": \"a\", \"params\": {}}"),
                doc("{\"match\": \"a\", \"params\": {\"weights\": \"row\"}}"),
                doc("{\"match\": \"a\", \"params\": {\"weight\": {\"stride\": 3}}}"),
                doc("{\"match\": \"a\", \"params\": {\"weight\": {\"spec\": \"row\", \"x\": 1}}}"),
                doc("{\"match\": \"a\", \"spec\": \"column\", \"stride\": 0}"),
                doc("{\"match\": \"a\", \"spec\": \"column\", \"stride\": 1.5}"),
                doc("{\"match\": \"a\", \"spec\": \"column\", \"stride\": \"3\"}"),
                doc("{\"match\": \"a\", \"spec\": \"row\", \"stride\": 3}"),
                doc("{\"match\": \"a\", \"params\": {\"weight\": {\"spec\": \"vocab\", \"stride\": 2}}}"),
                doc("{\"match\": \"a\", \"spec\": \"column\", \"inputIsParallel\": true}"),
                doc("{\"match\": \"a\", \"spec\": \"replicate\", \"outputReplicate\": false}"),
                doc("{\"match\": \"a\", \"params\": {\"bias\": {\"spec\": \"replicate\", \"outputReplicate\": false}}}"),
                doc("{\"match\": \"a\", \"spec\": \"column\", \"outputReplicate\": \"false\"}"),
                doc("{\"name\": \"\", \"match\": \"a\", \"spec\": \"row\"}"),
                doc("{\"regex\": \"\", \"spec\": \"row\"}"),
                doc("[]"));
    }

    @ParameterizedTest
    @MethodSource("invalidDocuments")
    void brokenFilesFailBoth(String json) throws IOException {
        assertThat(validate(json)).as("schema on %s", json).isNotEmpty();
        assertThatThrownBy(() -> ShardingRules.parse(json, "broken.json")).isInstanceOf(RulesException.class)
                .hasMessageStartingWith("broken.json:");
    }

    /** The zoo's rules files (read from the source tree: this module cannot depend on model-zoo). */
    static List<Path> shippedRulesFiles() throws IOException {
        Path zoo = Path.of("..", "model-zoo", "src", "main", "resources");
        if (!Files.isDirectory(zoo)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(zoo)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".rules.json")).sorted().toList();
        }
    }

    @Test
    void everyShippedRulesFileValidatesAndNamesTheSchema() throws IOException {
        List<Path> files = shippedRulesFiles();
        if (Files.isDirectory(Path.of("..", "model-zoo"))) {
            assertThat(files).as("rules files under model-zoo/src/main/resources").isNotEmpty();
        }
        for (Path file : files) {
            String text = Files.readString(file);
            assertThat(validate(text)).as(file.toString()).isEmpty();
            assertThat(JSON.readTree(text).get("$schema").asText()).as(file.toString()).isEqualTo(ShardingRules.SCHEMA_ID);
            ShardingRules.fromJson(file);
        }
    }
}
