package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.spec.ProcessGroup;
import io.colo4j.tensor.Tensor;
import io.colo4j.tensor.colo.ColoTensor;
import io.colo4j.tensor.colo.InitContext;
import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.tensor.nn.Parameter;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.gpt2.Gpt2Config;
import io.colo4j.zoo.gpt2.Gpt2Model;
import io.colo4j.zoo.io.ShardedCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Per-rank shard files + an index with specs: saved at tp = 2, loaded at tp = 4 and serially, padding and all. */
class ShardedCheckpointTest {
    static final Gpt2Config ODD = Gpt2Config.of(97, 16, 32, 2, 4).withDropout(0f);

    static Gpt2Model sharded(int tp, io.colo4j.tensor.comm.Communicator comm, long seed) {
        Gpt2Model m;
        try (InitContext ctx = InitContext.open(ProcessGroup.of(tp, 1), comm, "cpu")) {
            m = new Gpt2Model(ODD, seed);
        }
        ModelZoo.family("gpt2").rules().apply(m);
        return m;
    }

    static Map<String, float[]> whole(Gpt2Model m) {
        Map<String, float[]> out = new LinkedHashMap<>();
        m.namedParameters().forEach((name, p) -> out.put(name, ColoTensor.full(p).toFloatArray()));
        return out;
    }

    @Test
    void savedAtTwoLoadsAtFourAndSerially(@TempDir Path dir) throws Exception {
        Path ckpt = dir.resolve("sharded");
        Map<String, float[]> saved = ThreadWorld.call(2, comm -> {
            Gpt2Model m = sharded(2, comm, 11);
            ShardedCheckpoint.save(m, ckpt, ((io.colo4j.tensor.colo.ColoParameter) m.parameters().get(0)).context());
            return whole(m);
        }).get(0);
        assertThat(Files.list(dir).map(p -> p.getFileName().toString()).toList()).containsExactly("sharded");
        assertThat(Files.exists(ckpt.resolve("rank-0-of-2.safetensors"))).isTrue();
        assertThat(Files.exists(ckpt.resolve("rank-1-of-2.safetensors"))).isTrue();
        assertThat(Files.readString(ckpt.resolve(ShardedCheckpoint.INDEX))).contains("\"tp\" : 2").contains("\"type\" : \"shard\"");

        List<Map<String, float[]>> atFour = ThreadWorld.call(4, comm -> {
            Gpt2Model m = sharded(4, comm, 99);
            ShardedCheckpoint.load(m, ckpt);
            return whole(m);
        });
        Gpt2Model serial = new Gpt2Model(ODD, 99);
        ShardedCheckpoint.load(serial, ckpt);
        for (Map.Entry<String, float[]> e : saved.entrySet()) {
            assertThat(atFour.get(0).get(e.getKey())).as("tp=4 %s", e.getKey()).containsExactly(e.getValue());
            Parameter p = serial.namedParameters().get(e.getKey());
            assertThat(p.toFloatArray()).as("serial %s", e.getKey()).containsExactly(e.getValue());
        }
    }

    @Test
    void aCheckpointOfAnotherModelIsRefusedBeforeAnythingChanges(@TempDir Path dir) throws Exception {
        Path ckpt = dir.resolve("sharded");
        ThreadWorld.run(2, comm -> {
            Gpt2Model m = sharded(2, comm, 11);
            ShardedCheckpoint.save(m, ckpt, ((io.colo4j.tensor.colo.ColoParameter) m.parameters().get(0)).context());
        });
        Gpt2Model other = new Gpt2Model(Gpt2Config.of(97, 16, 32, 1, 4).withDropout(0f), 5);
        float[] before = other.namedParameters().get("transformer.wte.weight").toFloatArray();
        assertThatThrownBy(() -> ShardedCheckpoint.load(other, ckpt)).hasMessageContaining("unexpected parameter transformer.h.1");
        assertThat(other.namedParameters().get("transformer.wte.weight").toFloatArray()).containsExactly(before);
    }
}
