package io.colo4j.zoo.hf;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.train.LanguageModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Everything a zoo family is beyond its modules, typed: its named configs, its HF model folder format
 * (config record + key map + builder), how the trainer drives a built model, and which config fields
 * are its dropout probabilities, layer counts and position count. The rest of the zoo and the CLI see
 * it through the untyped {@link HfFamilyOps}, so one code path serves every family.
 *
 * @param named          the named configs, smallest first
 * @param checkpoint     config.json + model.safetensors
 * @param adapter        the built model as the trainer sees it
 * @param dropoutFields  the config fields {@code --dropout} sets
 * @param layerFields    the layer count of each stack (T5: encoder and decoder)
 */
public record HfFamily<C extends Record & HfConfig, M extends HfModel<C>>(NamedConfigs<C> named, HfCheckpoint<C, M> checkpoint,
                                                                                      Function<M, LanguageModel> adapter,
                                                                                      List<String> dropoutFields, List<String> layerFields)
        implements HfFamilyOps {
    /** A causal LM: the trainer's loss is the model's next-token loss. */
    public static <C extends Record & HfConfig, M extends HfModel<C>> HfFamily<C, M> causal(
            NamedConfigs<C> named, HfCheckpoint<C, M> checkpoint, List<String> dropoutFields, String layersField) {
        return new HfFamily<>(named, checkpoint, m -> new HfLanguageModel<>(checkpoint, m), dropoutFields, List.of(layersField));
    }

    public HfFamily {
        dropoutFields = List.copyOf(dropoutFields);
        layerFields = List.copyOf(layerFields);
    }

    private HfConfigFormat<C> format() {
        return checkpoint.config();
    }

    private C typed(HfConfig config) {
        return format().type().cast(config);
    }

    @Override
    public String modelType() {
        return format().modelType();
    }

    @Override
    public C config(String name) {
        return named.get(name);
    }

    @Override
    public C readConfig(Path dir) throws IOException {
        return checkpoint.readConfig(dir);
    }

    @Override
    public C withDropout(HfConfig config, float p) {
        return format().withAll(typed(config), dropoutFields, p);
    }

    @Override
    public C proxy(HfConfig config, int maxLayers, int vocabSize, int positions) {
        C c = typed(config);
        ObjectNode fields = format().fields(c);
        Map<String, Object> changed = new LinkedHashMap<>();
        layerFields.forEach(f -> changed.put(f, Math.min(fields.get(f).asInt(), maxLayers)));
        changed.put("vocab_size", vocabSize);
        changed.put(format().positions(), positions);
        fields.properties().forEach(e -> {
            if (e.getKey().endsWith("_token_id")) {
                changed.put(e.getKey(), Math.min(e.getValue().asInt(), vocabSize - 1));
            }
        });
        return format().with(c, changed);
    }

    @Override
    public M build(HfConfig config, long seed) {
        return checkpoint.builder().apply(typed(config), seed);
    }

    @Override
    public void loadWeights(Module model, Path dir) throws IOException {
        checkpoint.loadWeights(model, dir.resolve(HfCheckpoint.WEIGHTS));
    }

    @Override
    @SuppressWarnings("unchecked")
    public LanguageModel languageModel(Module model) {
        return adapter.apply((M) model);
    }
}
