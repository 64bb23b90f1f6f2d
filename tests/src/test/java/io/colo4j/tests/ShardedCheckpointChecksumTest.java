package io.colo4j.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.tensor.comm.ThreadWorld;
import io.colo4j.zoo.gpt2.Gpt2Model;
import io.colo4j.zoo.io.ShardedCheckpoint;
import io.colo4j.zoo.train.CheckpointManifest;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sharded checkpoint carries the checksums of its shards and index ({@link CheckpointManifest}): a damaged or cut
 * shard is refused naming the file, and an index whose fields are wrong (rewritten with a matching manifest, so
 * only the strict reading can catch it) is refused naming the field, before any parameter changes.
 */
class ShardedCheckpointChecksumTest {
    @TempDir
    Path dir;
    Path ckpt;

    @BeforeEach
    void save() {
        ckpt = dir.resolve("sharded");
        ThreadWorld.run(2, comm -> {
            Gpt2Model m = ShardedCheckpointTest.sharded(2, comm, 11);
            ShardedCheckpoint.save(m, ckpt, ((io.colo4j.tensor.colo.ColoParameter) m.parameters().get(0)).context());
        });
    }

    /** Loading into a fresh serial model is refused with a message starting with {@code prefix}, and changes nothing. */
    private void refused(String prefix, String contains) {
        Gpt2Model serial = new Gpt2Model(ShardedCheckpointTest.ODD, 5);
        float[] before = serial.namedParameters().get("transformer.wte.weight").toFloatArray();
        assertThatThrownBy(() -> ShardedCheckpoint.load(serial, ckpt)).hasMessageStartingWith(prefix).hasMessageContaining(contains);
        assertThat(serial.namedParameters().get("transformer.wte.weight").toFloatArray()).containsExactly(before);
    }

    @Test
    void theSaveWritesChecksumsAndLoadsWithThem() throws Exception {
        assertThat(Files.readString(ckpt.resolve(CheckpointManifest.FILE))).contains("rank-0-of-2.safetensors", "rank-1-of-2.safetensors",
                ShardedCheckpoint.INDEX);
        ShardedCheckpoint.load(new Gpt2Model(ShardedCheckpointTest.ODD, 5), ckpt);
    }

    @Test
    void aDamagedShardIsNamed() throws Exception {
        Path shard = ckpt.resolve("rank-1-of-2.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(shard.toFile(), "rw")) {
            f.seek(f.length() - 9);
            f.write(0x7F);
        }
        refused(shard + ": CRC32C ", "the file is damaged");
    }

    @Test
    void aShardCutShortIsNamed() throws Exception {
        Path shard = ckpt.resolve("rank-0-of-2.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(shard.toFile(), "rw")) {
            f.setLength(f.length() - 64);
        }
        refused(shard + ": ", "the file was cut short");
    }

    /** Rewrites index.json and the manifest with it, as a tool that knows the format but not the data might. */
    private void editIndex(UnaryOperator<String> edit) throws Exception {
        Path index = ckpt.resolve(ShardedCheckpoint.INDEX);
        Files.writeString(index, edit.apply(Files.readString(index)));
        CheckpointManifest.write(ckpt);
    }

    @Test
    void anIndexReadStrictly() throws Exception {
        Path index = ckpt.resolve(ShardedCheckpoint.INDEX);
        editIndex(s -> s.replace("\"tp\" : 2", "\"tp\" : \"two\""));
        refused(index + ": field 'tp' ", "not an integer");
        editIndex(s -> s.replace("\"tp\" : \"two\"", "\"tp\" : 3"));
        refused(index + ": field 'parameters.transformer.wte.weight.spec' does not lay out [98, 32] on 3 ranks: ", "not 3");
        editIndex(s -> s.replace("\"tp\" : 3", "\"tp\" : 2").replaceFirst("\"global_shape\" : \\[ (\\d+)", "\"global_shape\" : [ -$1"));
        refused(index + ": field 'parameters.", "global_shape[0]' is -");
        save();
        editIndex(s -> s.replaceFirst("\"valid_shape\" : \\[ (\\d+)", "\"valid_shape\" : [ 1$1"));
        refused(index + ": field 'parameters.", "valid_shape[0]' is 1");
        save();
        editIndex(s -> s.replaceFirst("\"type\" : \"shard\"", "\"type\" : \"sideways\""));
        refused(index + ": field 'parameters.", ".spec' does not lay out ");
        save();
        editIndex(s -> s + "{}");
        refused(index + ": not valid JSON", "");
    }

    @Test
    void aFolderWithoutChecksumsStillLoads() throws Exception {
        Files.delete(ckpt.resolve(CheckpointManifest.FILE));
        ShardedCheckpoint.load(new Gpt2Model(ShardedCheckpointTest.ODD, 5), ckpt);
    }
}
